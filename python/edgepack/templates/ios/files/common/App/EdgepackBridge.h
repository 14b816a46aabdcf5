// Objective-C surface of edgepack's C++ app runner (Edgepack/include/edgepack/app.h). Swift sees it through
// Bridging-Header.h; EdgepackModel.swift wraps it in Swift types. Everything below this surface is plain C++.
#import <CoreGraphics/CoreGraphics.h>
#import <CoreVideo/CoreVideo.h>
#import <Foundation/Foundation.h>

NS_ASSUME_NONNULL_BEGIN

extern NSErrorDomain const EPErrorDomain;

@interface EPDetection : NSObject
@property(nonatomic, readonly) CGRect box;  // source-frame pixels (the unrotated camera buffer)
@property(nonatomic, readonly) NSInteger classId;
@property(nonatomic, readonly) float score;
@property(nonatomic, readonly, copy) NSString *label;
@end

@interface EPResult : NSObject
@property(nonatomic, readonly, copy) NSString *task;
@property(nonatomic, readonly, copy) NSArray<NSNumber *> *classIds;  // classify: top-k, best first
@property(nonatomic, readonly, copy) NSArray<NSNumber *> *scores;
@property(nonatomic, readonly, copy) NSArray<NSString *> *labels;
@property(nonatomic, readonly, copy) NSArray<EPDetection *> *detections;  // detect
@property(nonatomic, readonly, nullable) NSData *mask;  // segment: maskHeight x maskWidth class ids
@property(nonatomic, readonly) NSInteger maskWidth;
@property(nonatomic, readonly) NSInteger maskHeight;
@property(nonatomic, readonly) BOOL maskInSource;  // YES: mask pixels are frame pixels
@property(nonatomic, readonly) CGRect maskContent;  // where the (upright) frame lies inside the mask
@property(nonatomic, readonly) CGSize frameSize;
@property(nonatomic, readonly) double preMs;
@property(nonatomic, readonly) double inferMs;
@property(nonatomic, readonly) double postMs;
@end

@interface EPModel : NSObject
- (nullable instancetype)initWithConfigPath:(NSString *)path
                                    threads:(NSInteger)threads
                                      error:(NSError **)error NS_SWIFT_NAME(init(configPath:threads:));
// A kCVPixelFormatType_32BGRA buffer (any bytes-per-row); `degrees` clockwise turns it upright.
- (nullable EPResult *)runPixelBuffer:(CVPixelBufferRef)pixelBuffer
                             rotation:(NSInteger)degrees
                               mirror:(BOOL)mirror
                                error:(NSError **)error NS_SWIFT_NAME(run(pixelBuffer:rotation:mirror:));
@property(nonatomic, readonly, copy) NSString *task;
@property(nonatomic, readonly, copy) NSString *engineDescription;
@property(nonatomic, readonly, copy) NSArray<NSString *> *labels;
- (instancetype)init NS_UNAVAILABLE;
@end

NS_ASSUME_NONNULL_END
