// Fused image preprocessing: camera/packed frame -> model input tensor in one pass.
//
//   source (RGB/BGR/RGBA/BGRA/GRAY8/NV21/NV12/I420, any row strides)
//     -> crop ROI (source pixel coordinates)
//     -> resample (separable bilinear or area filter, fixed point) to the target size
//     -> rotate 90/180/270 clockwise, then mirror horizontally
//     -> place at (pad_x, pad_y) of the output (letterbox) or fill it (stretch); the rest is `pad`
//     -> per output channel: value LUT (mean/std normalise, then float32 / float16 / uint8 / int8)
//     -> CHW or HWC
// No full-size intermediate image exists: rows are converted, filtered and written as they stream.
//
// ---------------------------------------------------------------- Specification (preprocess_ref.cpp)
// Every path (ref, AVX2, NEON, Vulkan) produces bit-identical output for every dtype. The integer
// pipeline below is exact, and the final value stage is a 256-entry table per channel.
//
// 1. Colour, per source pixel, to 8-bit RGB (or gray when color == Gray):
//    YUV 4:2:0 (NV21, NV12, I420): chroma of pixel (x, y) is the sample at (x/2, y/2) (no chroma
//      interpolation), and BT.601 *video range* in OpenCV's fixed point, which makes the result
//      identical to cv2.cvtColor(COLOR_YUV2RGB_NV21 / _NV12 / _I420):
//        Y' = max(Y - 16, 0) * 1220542,  u = U - 128,  v = V - 128,  H = 1 << 19
//        R = clamp((Y' + H + 1673527 v) >> 20)
//        G = clamp((Y' + H - 852492 v - 409993 u) >> 20)
//        B = clamp((Y' + H + 2116026 u) >> 20)          (>> is arithmetic, clamp to [0, 255])
//      Gray from YUV is the Y sample (as COLOR_YUV2GRAY_*).
//    Packed RGB/BGR/RGBA/BGRA: the bytes (alpha ignored). GRAY8 -> RGB: R = G = B = gray.
//    Gray from packed colour: (4899 R + 9617 G + 1868 B + 8192) >> 14 (as COLOR_RGB2GRAY).
// 2. Geometry. Crop (cx, cy, cw, ch) must lie inside the source. Oriented size (ow, oh) = (cw, ch)
//    for rotate 0/180, (ch, cw) for 90/270. Stretch: (rw, rh) = (out_w, out_h), pad 0. Letterbox:
//    if out_w * oh <= out_h * ow then rw = out_w, rh = (2 oh out_w + ow) / (2 ow) else
//    rh = out_h, rw = (2 ow out_h + oh) / (2 oh) (integer division: round half up), each >= 1;
//    pad_x = (out_w - rw) / 2, pad_y = (out_h - rh) / 2 (floor). scale_x = rw / ow, scale_y = rh / oh.
//    The crop is resampled to (tw, th) = (rw, rh) for rotate 0/180 and (rh, rw) for 90/270, in the
//    crop's own orientation; resampled pixel (s, t) then lands at oriented (X', Y') =
//      rot 0: (s, t)   90: (th-1-t, s)   180: (tw-1-s, th-1-t)   270: (t, tw-1-s)
//    mirror: X' = rw-1-X'. Output pixel = (pad_x + X', pad_y + Y').
// 3. Resampling, separable, per axis (n source pixels -> m outputs); weights are Q12 integers >= 0
//    summing to exactly 4096 (AxisFilter below holds them; make_axis_filter computes them):
//    Bilinear (half-pixel centres, as OpenCV INTER_LINEAR / ONNX Resize align_corners=False):
//      num = (2i+1) n - m; if num < 0: num = 0; i0 = num / (2m), r = num % (2m);
//      w1 = (4096 r + m) / (2m), w0 = 4096 - w1; if i0 >= n-1: i0 = n-1, w1 = 0.
//      Taps (i0, w0), (i0+1, w1).
//    Area (box average with fractional edge weights, as OpenCV INTER_AREA): output i covers
//      [i n, (i+1) n) in units of 1/m; source k covers [k m, (k+1) m). With A_k the overlap
//      accumulated over taps up to k, weight_k = C(A_k) - C(A_{k-1}), C(a) = (4096 a + n/2) / n.
//    Interp::Auto uses area on an axis when n >= 2m and bilinear otherwise; Interp::Area uses
//    area whenever n > m; Interp::Bilinear always bilinear.
//    Vertical first, at source width, per channel:  V = sum_j wy_j * rgb(row_j)        (<= 255 * 4096)
//                                                   v = (V + 16) >> 5                   (Q7, <= 32640)
//    then horizontal:                               S = sum_i wx_i * v(col_i)
//                                                   p = min((S + (1 << 18)) >> 19, 255) (8-bit pixel)
//    Taps with weight 0 may be skipped (they add nothing). With n == m both filters are the identity.
// 4. Value stage, per output channel c (after picking R,G,B or B,G,R or gray): the 8-bit pixel p,
//    or pad[c] outside the resized region, is mapped through
//      x = (float(p) - mean[c]) * (1.0f / std[c])         (float32, two roundings, no FMA)
//      Float32: x. Float16: x rounded to nearest even (edgepack/fp16.h).
//      UInt8 / Int8: q = clamp(rint(x / q_scale) + zero_point) (float32 division, ties to even,
//      clamp to [0, 255] / [-128, 127]).
//
// Mapping boxes back: a model-input point (X, Y) maps to oriented ((X - pad_x) / scale_x,
// (Y - pad_y) / scale_y), then through the inverse mirror/rotation to crop coordinates and + crop
// origin to source pixels (continuous coordinates: pixel k spans [k, k+1)). See PreprocessInfo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgepack/cpu.h"

namespace edgepack {

enum class PixelFormat { RGB888, BGR888, RGBA8888, BGRA8888, GRAY8, NV21, NV12, I420 };
enum class ColorOrder { RGB, BGR, Gray };
enum class TensorLayout { CHW, HWC };
enum class OutType { Float32, Float16, UInt8, Int8 };
enum class ResizeMode { Stretch, Letterbox };
enum class Interp { Auto, Bilinear, Area };

// "rgb888" ... "i420"; returns nullptr / false for unknown names.
const char* pixel_format_name(PixelFormat f);
bool parse_pixel_format(const char* name, PixelFormat* out);
// Number of planes: 1 for packed and GRAY8, 2 for NV21/NV12, 3 for I420.
int pixel_format_planes(PixelFormat f);
// Bytes per pixel of plane 0 for packed formats (3 or 4), 1 for GRAY8 and YUV.
int pixel_format_bpp(PixelFormat f);

struct ImageView {
  PixelFormat format = PixelFormat::RGB888;
  int width = 0;   // pixels (even for YUV 4:2:0)
  int height = 0;  // pixels (even for YUV 4:2:0)
  // Plane 0: packed pixels or Y. NV21/NV12: plane 1 = interleaved VU / UV, (width/2) pairs per row,
  // height/2 rows. I420: plane 1 = U, plane 2 = V, each width/2 x height/2.
  const uint8_t* plane[3] = {nullptr, nullptr, nullptr};
  size_t stride[3] = {0, 0, 0};  // row stride in bytes of each plane
};

struct CropRect {
  int x = 0, y = 0;
  int width = 0, height = 0;  // 0 x 0 = the whole source
};

struct PreprocessParams {
  ImageView src;
  CropRect crop;
  int rotate = 0;       // clockwise degrees: 0, 90, 180, 270
  bool mirror = false;  // horizontal flip after rotation (front cameras)
  int out_width = 0;
  int out_height = 0;
  ResizeMode mode = ResizeMode::Stretch;
  Interp interp = Interp::Auto;
  ColorOrder color = ColorOrder::RGB;
  TensorLayout layout = TensorLayout::CHW;
  OutType dtype = OutType::Float32;
  uint8_t pad[3] = {114, 114, 114};  // pixel values (before normalisation) per output channel
  float mean[3] = {0, 0, 0};         // per output channel, in pixel units
  float std[3] = {1, 1, 1};
  float q_scale = 1.0f;  // UInt8 / Int8 only
  int q_zero_point = 0;
  void* dst = nullptr;   // out_channels * out_height * out_width elements of dtype
  size_t dst_bytes = 0;  // capacity of dst (checked)
};

// Where the image went, and how to map points/boxes from model input back to source pixels.
struct PreprocessInfo {
  int src_width = 0, src_height = 0;
  CropRect crop;  // resolved (never 0 x 0)
  int rotate = 0;
  bool mirror = false;
  int oriented_width = 0, oriented_height = 0;  // crop after rotation
  int resized_width = 0, resized_height = 0;    // (rw, rh): image area inside the output
  int pad_x = 0, pad_y = 0;
  int out_width = 0, out_height = 0;
  double scale_x = 1, scale_y = 1;  // resized / oriented

  // Model-input point -> source pixel coordinates (continuous).
  void map_point(double x, double y, double* sx, double* sy) const;
  // Model-input box (x1, y1, x2, y2) -> source box, corners re-ordered so x1 <= x2, y1 <= y2.
  void map_box(const double in[4], double out[4]) const;
};

// One resampling axis: out_len outputs, each reading `taps` consecutive source pixels starting at
// first[i] (always first[i] + taps <= in_len), with weights[i * taps + k] (Q12, sum 4096; taps a
// pixel does not use carry weight 0).
struct AxisFilter {
  int in_len = 0;
  int out_len = 0;
  int taps = 0;
  bool area = false;
  std::vector<int32_t> first;
  std::vector<int16_t> weights;
};
AxisFilter make_axis_filter(int in_len, int out_len, Interp interp);

// Output element count and size in bytes; channels: 1 for Gray, else 3.
int preprocess_out_channels(const PreprocessParams& p);
size_t preprocess_out_elements(const PreprocessParams& p);
size_t preprocess_out_bytes(const PreprocessParams& p);

// Throws std::invalid_argument naming the first problem (format, sizes, odd YUV sizes, strides,
// crop outside the source, rotation, std, q_scale, too-small dst ...); returns the geometry. Does not
// touch pixel data and does not need dst.
PreprocessInfo plan_preprocess(const PreprocessParams& p);

// plan_preprocess plus non-null planes and a dst of at least preprocess_out_bytes (what the entry points
// below and preprocess_vulkan check before running).
PreprocessInfo check_preprocess(const PreprocessParams& p);

// Validates (as plan_preprocess, plus non-null planes and dst) and runs. Returns the geometry.
PreprocessInfo preprocess(const PreprocessParams& p);           // active_isa()
PreprocessInfo preprocess(const PreprocessParams& p, Isa isa);  // throws if isa unusable

}  // namespace edgepack
