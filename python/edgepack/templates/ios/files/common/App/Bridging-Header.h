// Exposes the Objective-C++ bridge (EdgepackBridge.h) to Swift.
#import "EdgepackBridge.h"
