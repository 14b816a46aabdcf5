#!/bin/sh
# Build phase "Check ncnn frameworks": fails the build with one line per missing piece, before the compiler
# reports 'ncnn/net.h' file not found or the linker undefined ___kmpc_* (openmp.xcframework missing).
cd "${PROJECT_DIR:-$(dirname "$0")/..}" || exit 1
missing=0
for fw in ncnn openmp; do
  if [ ! -f "Frameworks/$fw.xcframework/Info.plist" ]; then
    echo "error: Frameworks/$fw.xcframework is missing: run ./scripts/fetch_ncnn.sh or unzip ncnn-<version>-apple.zip into Frameworks/"
    missing=1
  fi
done
if [ "$missing" = 0 ]; then
  found=0
  for h in Frameworks/ncnn.xcframework/*/ncnn.framework/Headers/ncnn/net.h \
           Frameworks/ncnn.xcframework/*/ncnn.framework/Versions/A/Headers/ncnn/net.h; do
    [ -f "$h" ] && found=1
  done
  if [ "$found" = 0 ]; then
    echo "error: Frameworks/ncnn.xcframework has no ncnn.framework/Headers/ncnn/net.h: it is not ncnn's Apple release (use ncnn-<version>-apple.zip, not the -vulkan one)"
    missing=1
  fi
  for slice in ios-arm64; do
    if [ ! -d "Frameworks/ncnn.xcframework/$slice" ] || [ ! -d "Frameworks/openmp.xcframework/$slice" ]; then
      echo "error: the xcframeworks in Frameworks/ have no $slice slice (the iPhone build); use ncnn-<version>-apple.zip"
      missing=1
    fi
  done
fi
exit "$missing"
