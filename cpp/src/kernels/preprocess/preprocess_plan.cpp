// preprocess: format names, parameter checks, geometry (letterbox, rotation), box mapping and the
// fixed-point filter tables. Everything here is exact integer arithmetic shared by every path.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "edgepack/preprocess.h"

namespace edgepack {

namespace {
[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("preprocess: " + what); }

constexpr int kMaxDim = 1 << 15;  // keeps every index product far from overflow
constexpr const char* kFormatNames[] = {"rgb888", "bgr888", "rgba8888", "bgra8888", "gray8", "nv21", "nv12", "i420"};

bool is_yuv(PixelFormat f) { return f == PixelFormat::NV21 || f == PixelFormat::NV12 || f == PixelFormat::I420; }

std::string dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

int64_t div_floor(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

const char* pixel_format_name(PixelFormat f) {
  const int i = static_cast<int>(f);
  return (i >= 0 && i < 8) ? kFormatNames[i] : nullptr;
}

bool parse_pixel_format(const char* name, PixelFormat* out) {
  for (int i = 0; i < 8; ++i) {
    if (std::strcmp(name, kFormatNames[i]) == 0) {
      *out = static_cast<PixelFormat>(i);
      return true;
    }
  }
  return false;
}

int pixel_format_planes(PixelFormat f) {
  switch (f) {
    case PixelFormat::NV21:
    case PixelFormat::NV12: return 2;
    case PixelFormat::I420: return 3;
    default: return 1;
  }
}

int pixel_format_bpp(PixelFormat f) {
  switch (f) {
    case PixelFormat::RGB888:
    case PixelFormat::BGR888: return 3;
    case PixelFormat::RGBA8888:
    case PixelFormat::BGRA8888: return 4;
    default: return 1;
  }
}

AxisFilter make_axis_filter(int in_len, int out_len, Interp interp) {
  if (in_len <= 0 || out_len <= 0) fail("filter lengths must be positive");
  AxisFilter f;
  f.in_len = in_len;
  f.out_len = out_len;
  const int64_t n = in_len, m = out_len;
  f.area = interp == Interp::Area ? n > m : interp == Interp::Auto ? n >= 2 * m : false;
  std::vector<std::vector<std::pair<int, int>>> taps(static_cast<size_t>(m));  // (index, weight) per output
  for (int64_t i = 0; i < m; ++i) {
    auto& t = taps[static_cast<size_t>(i)];
    if (!f.area) {
      int64_t num = (2 * i + 1) * n - m;
      if (num < 0) num = 0;
      int64_t i0 = num / (2 * m);
      const int64_t r = num % (2 * m);
      int64_t w1 = (4096 * r + m) / (2 * m);
      if (i0 >= n - 1) {
        i0 = n - 1;
        w1 = 0;
      }
      t.emplace_back(static_cast<int>(i0), static_cast<int>(4096 - w1));
      if (w1 != 0) t.emplace_back(static_cast<int>(i0 + 1), static_cast<int>(w1));
    } else {
      const int64_t lo = i * n, hi = (i + 1) * n;  // in units of 1/m
      int64_t acc = 0, prev_c = 0;
      for (int64_t k = div_floor(lo, m); k * m < hi; ++k) {
        const int64_t ov = std::min(hi, (k + 1) * m) - std::max(lo, k * m);
        if (ov <= 0) continue;
        acc += ov;
        const int64_t c = (4096 * acc + n / 2) / n;
        t.emplace_back(static_cast<int>(k), static_cast<int>(c - prev_c));
        prev_c = c;
      }
    }
  }
  int max_taps = 1;
  for (const auto& t : taps) max_taps = std::max(max_taps, static_cast<int>(t.back().first - t.front().first + 1));
  max_taps = std::min(max_taps, in_len);
  f.taps = max_taps;
  f.first.assign(static_cast<size_t>(m), 0);
  f.weights.assign(static_cast<size_t>(m) * static_cast<size_t>(max_taps), 0);
  for (size_t i = 0; i < taps.size(); ++i) {
    // Start so that first + taps <= in_len; taps outside a pixel's own support keep weight 0.
    const int first = std::min(taps[i].front().first, in_len - max_taps);
    f.first[i] = first;
    for (const auto& [k, w] : taps[i]) f.weights[i * static_cast<size_t>(max_taps) + static_cast<size_t>(k - first)] =
        static_cast<int16_t>(w);
  }
  return f;
}

int preprocess_out_channels(const PreprocessParams& p) { return p.color == ColorOrder::Gray ? 1 : 3; }

size_t preprocess_out_elements(const PreprocessParams& p) {
  if (p.out_width <= 0 || p.out_height <= 0) return 0;
  return static_cast<size_t>(preprocess_out_channels(p)) * static_cast<size_t>(p.out_width) *
         static_cast<size_t>(p.out_height);
}

size_t preprocess_out_bytes(const PreprocessParams& p) {
  const size_t esz = p.dtype == OutType::Float32 ? 4 : p.dtype == OutType::Float16 ? 2 : 1;
  return preprocess_out_elements(p) * esz;
}

PreprocessInfo plan_preprocess(const PreprocessParams& p) {
  const ImageView& s = p.src;
  const char* fname = pixel_format_name(s.format);
  if (fname == nullptr) fail("unknown pixel format");
  const std::string f = fname;
  if (s.width <= 0 || s.height <= 0) fail("source size must be positive, got " + dims(s.width, s.height));
  if (s.width > kMaxDim || s.height > kMaxDim) fail("source " + dims(s.width, s.height) + " is larger than 32768");
  if (is_yuv(s.format) && (s.width % 2 || s.height % 2)) {
    fail(f + " needs an even width and height (4:2:0 chroma), got " + dims(s.width, s.height));
  }
  const size_t w = static_cast<size_t>(s.width);
  const size_t need0 = w * static_cast<size_t>(pixel_format_bpp(s.format));
  if (s.stride[0] < need0) {
    fail(f + " plane 0 row stride " + std::to_string(s.stride[0]) + " is smaller than " + std::to_string(need0) +
         " bytes");
  }
  if (s.format == PixelFormat::NV21 || s.format == PixelFormat::NV12) {
    if (s.stride[1] < w) fail(f + " chroma row stride " + std::to_string(s.stride[1]) + " is smaller than " +
                              std::to_string(w) + " bytes");
  } else if (s.format == PixelFormat::I420) {
    for (int k = 1; k < 3; ++k) {
      if (s.stride[k] < w / 2) fail(f + " plane " + std::to_string(k) + " row stride " + std::to_string(s.stride[k]) +
                                    " is smaller than " + std::to_string(w / 2) + " bytes");
    }
  }
  PreprocessInfo info;
  info.src_width = s.width;
  info.src_height = s.height;
  info.crop = p.crop;
  if (p.crop.width == 0 && p.crop.height == 0 && p.crop.x == 0 && p.crop.y == 0) {
    info.crop = CropRect{0, 0, s.width, s.height};
  }
  const CropRect& c = info.crop;
  if (c.x < 0 || c.y < 0 || c.width <= 0 || c.height <= 0 || c.x > s.width - c.width || c.y > s.height - c.height) {
    fail("crop (x=" + std::to_string(c.x) + ", y=" + std::to_string(c.y) + ", w=" + std::to_string(c.width) +
         ", h=" + std::to_string(c.height) + ") must be a non-empty rectangle inside the " + dims(s.width, s.height) +
         " source");
  }
  if (p.rotate != 0 && p.rotate != 90 && p.rotate != 180 && p.rotate != 270) {
    fail("rotate must be 0, 90, 180 or 270, got " + std::to_string(p.rotate));
  }
  if (p.out_width <= 0 || p.out_height <= 0 || p.out_width > kMaxDim || p.out_height > kMaxDim) {
    fail("output size must be between 1 and 32768, got " + dims(p.out_width, p.out_height));
  }
  const int nch = preprocess_out_channels(p);
  for (int k = 0; k < nch; ++k) {
    if (!(std::isfinite(p.std[k]) && p.std[k] != 0.0f)) fail("std[" + std::to_string(k) + "] must be finite and non-zero");
    if (!std::isfinite(p.mean[k])) fail("mean[" + std::to_string(k) + "] must be finite");
  }
  if (p.dtype == OutType::UInt8 || p.dtype == OutType::Int8) {
    if (!(std::isfinite(p.q_scale) && p.q_scale > 0.0f)) fail("q_scale must be finite and > 0");
    const int lo = p.dtype == OutType::UInt8 ? 0 : -128, hi = p.dtype == OutType::UInt8 ? 255 : 127;
    if (p.q_zero_point < lo || p.q_zero_point > hi) {
      fail("zero_point " + std::to_string(p.q_zero_point) + " is outside [" + std::to_string(lo) + ", " +
           std::to_string(hi) + "]");
    }
  }
  info.rotate = p.rotate;
  info.mirror = p.mirror;
  const bool swap = p.rotate == 90 || p.rotate == 270;
  info.oriented_width = swap ? c.height : c.width;
  info.oriented_height = swap ? c.width : c.height;
  info.out_width = p.out_width;
  info.out_height = p.out_height;
  const int64_t ow = info.oriented_width, oh = info.oriented_height, W = p.out_width, H = p.out_height;
  if (p.mode == ResizeMode::Stretch) {
    info.resized_width = p.out_width;
    info.resized_height = p.out_height;
  } else {
    int64_t rw, rh;
    if (W * oh <= H * ow) {
      rw = W;
      rh = (2 * oh * W + ow) / (2 * ow);
    } else {
      rh = H;
      rw = (2 * ow * H + oh) / (2 * oh);
    }
    info.resized_width = static_cast<int>(std::clamp<int64_t>(rw, 1, W));
    info.resized_height = static_cast<int>(std::clamp<int64_t>(rh, 1, H));
    info.pad_x = (p.out_width - info.resized_width) / 2;
    info.pad_y = (p.out_height - info.resized_height) / 2;
  }
  info.scale_x = static_cast<double>(info.resized_width) / static_cast<double>(ow);
  info.scale_y = static_cast<double>(info.resized_height) / static_cast<double>(oh);
  return info;
}

void PreprocessInfo::map_point(double x, double y, double* sx, double* sy) const {
  double ox = (x - pad_x) / scale_x, oy = (y - pad_y) / scale_y;
  if (mirror) ox = oriented_width - ox;
  double cx = ox, cy = oy;
  switch (rotate) {
    case 90: cx = oy; cy = crop.height - ox; break;
    case 180: cx = crop.width - ox; cy = crop.height - oy; break;
    case 270: cx = crop.width - oy; cy = ox; break;
    default: break;
  }
  *sx = cx + crop.x;
  *sy = cy + crop.y;
}

void PreprocessInfo::map_box(const double in[4], double out[4]) const {
  double ax, ay, bx, by;
  map_point(in[0], in[1], &ax, &ay);
  map_point(in[2], in[3], &bx, &by);
  out[0] = std::min(ax, bx);
  out[1] = std::min(ay, by);
  out[2] = std::max(ax, bx);
  out[3] = std::max(ay, by);
}

}  // namespace edgepack
