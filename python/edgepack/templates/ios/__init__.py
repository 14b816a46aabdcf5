"""`edgepack template ios`: an Xcode project (SwiftUI + AVFoundation + an Objective-C++ bridge over edgepack's
C++ core) that runs a bundle on the camera. See generate.py and docs/ios.md."""
