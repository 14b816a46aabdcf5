// Scalar specification of preprocess (see edgepack/preprocess.h): the streaming driver shared by
// every ISA, and the ref row kernels (colour conversion, vertical and horizontal filters).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "edgepack/fp16.h"
#include "preprocess_variants.h"

namespace edgepack::kernels {

namespace {

inline uint8_t clamp_u8(int v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }

// BT.601 video range, OpenCV's fixed point (cv2.cvtColor COLOR_YUV2RGB_NV21 gives the same bytes).
inline void yuv_to_rgb(int y, int u, int v, uint8_t* dst) {
  const int yy = std::max(y - 16, 0) * 1220542 + (1 << 19);
  const int uu = u - 128, vv = v - 128;
  dst[0] = clamp_u8((yy + 1673527 * vv) >> 20);
  dst[1] = clamp_u8((yy - 852492 * vv - 409993 * uu) >> 20);
  dst[2] = clamp_u8((yy + 2116026 * uu) >> 20);
  dst[3] = 255;
}

inline uint8_t rgb_to_gray(int r, int g, int b) { return static_cast<uint8_t>((4899 * r + 9617 * g + 1868 * b + 8192) >> 14); }

}  // namespace

void convert_row_ref(const ImageView& s, int y, int x0, int w, bool gray, uint8_t* dst) {
  const uint8_t* row = s.plane[0] + static_cast<size_t>(y) * s.stride[0];
  switch (s.format) {
    case PixelFormat::RGB888:
    case PixelFormat::BGR888:
    case PixelFormat::RGBA8888:
    case PixelFormat::BGRA8888: {
      const int bpp = pixel_format_bpp(s.format);
      const bool bgr = s.format == PixelFormat::BGR888 || s.format == PixelFormat::BGRA8888;
      const uint8_t* px = row + static_cast<size_t>(x0) * static_cast<size_t>(bpp);
      for (int x = 0; x < w; ++x, px += bpp) {
        const int r = px[bgr ? 2 : 0], g = px[1], b = px[bgr ? 0 : 2];
        if (gray) {
          dst[x] = rgb_to_gray(r, g, b);
        } else {
          dst[4 * x] = static_cast<uint8_t>(r);
          dst[4 * x + 1] = static_cast<uint8_t>(g);
          dst[4 * x + 2] = static_cast<uint8_t>(b);
          dst[4 * x + 3] = 255;
        }
      }
      return;
    }
    case PixelFormat::GRAY8:
      for (int x = 0; x < w; ++x) {
        const uint8_t v = row[x0 + x];
        if (gray) {
          dst[x] = v;
        } else {
          dst[4 * x] = dst[4 * x + 1] = dst[4 * x + 2] = v;
          dst[4 * x + 3] = 255;
        }
      }
      return;
    case PixelFormat::NV21:
    case PixelFormat::NV12:
    case PixelFormat::I420: {
      if (gray) {
        std::memcpy(dst, row + x0, static_cast<size_t>(w));
        return;
      }
      const size_t cy = static_cast<size_t>(y / 2);
      const uint8_t* c1 = s.plane[1] + cy * s.stride[1];
      const uint8_t* c2 = s.format == PixelFormat::I420 ? s.plane[2] + cy * s.stride[2] : nullptr;
      for (int x = 0; x < w; ++x) {
        const int sx = x0 + x, cx = sx / 2;
        int u, v;
        if (s.format == PixelFormat::NV21) {
          v = c1[2 * cx];
          u = c1[2 * cx + 1];
        } else if (s.format == PixelFormat::NV12) {
          u = c1[2 * cx];
          v = c1[2 * cx + 1];
        } else {
          u = c1[cx];
          v = c2[cx];
        }
        yuv_to_rgb(row[sx], u, v, dst + 4 * x);
      }
      return;
    }
  }
}

void vfilter_ref(const uint8_t* const* rows, const int16_t* w, int n, size_t len, int16_t* dst) {
  for (size_t k = 0; k < len; ++k) {
    int acc = 0;
    for (int j = 0; j < n; ++j) acc += w[j] * rows[j][k];
    dst[k] = static_cast<int16_t>((acc + 16) >> 5);
  }
}

void hfilter_ref(const int16_t* src, const AxisFilter& f, int C, uint8_t* dst) {
  const size_t taps = static_cast<size_t>(f.taps);
  for (int i = 0; i < f.out_len; ++i) {
    const int16_t* wt = f.weights.data() + static_cast<size_t>(i) * taps;
    const int16_t* px = src + static_cast<size_t>(f.first[static_cast<size_t>(i)]) * static_cast<size_t>(C);
    for (int c = 0; c < C; ++c) {
      int acc = 0;
      for (size_t k = 0; k < taps; ++k) acc += wt[k] * px[k * static_cast<size_t>(C) + static_cast<size_t>(c)];
      dst[static_cast<size_t>(i) * static_cast<size_t>(C) + static_cast<size_t>(c)] =
          static_cast<uint8_t>(std::min((acc + (1 << 18)) >> 19, 255));
    }
  }
}

void write_f32_ref(const uint8_t* row, int s0, int n, const int* chan, const float* mean, const float* scale,
                   float* const* dst) {
  for (int s = s0; s < n; ++s) {
    for (int c = 0; c < 3; ++c) {
      const float d = static_cast<float>(row[4 * s + chan[c]]) - mean[c];
      const float x = d * scale[c];
      std::memcpy(dst[c] + s, &x, 4);
    }
  }
}

RowOps row_ops_ref() { return RowOps{convert_row_ref, vfilter_ref, hfilter_ref, nullptr}; }

namespace {

// Step 4 of the spec: one 256-entry table per output channel, in the output dtype's bytes.
struct ValueTables {
  size_t esz = 4;
  std::vector<uint8_t> bytes;  // [channel][256][esz]
  const uint8_t* at(int c, int v) const { return bytes.data() + (static_cast<size_t>(c) * 256 + static_cast<size_t>(v)) * esz; }
};

ValueTables make_tables(const PreprocessParams& p, int nch) {
  ValueTables t;
  t.esz = p.dtype == OutType::Float32 ? 4 : p.dtype == OutType::Float16 ? 2 : 1;
  t.bytes.resize(static_cast<size_t>(nch) * 256 * t.esz);
  for (int c = 0; c < nch; ++c) {
    const float scale = 1.0f / p.std[c];
    for (int v = 0; v < 256; ++v) {
      volatile float d = static_cast<float>(v) - p.mean[c];  // volatile: two roundings, never fused
      const float x = d * scale;
      uint8_t* out = t.bytes.data() + (static_cast<size_t>(c) * 256 + static_cast<size_t>(v)) * t.esz;
      switch (p.dtype) {
        case OutType::Float32: std::memcpy(out, &x, 4); break;
        case OutType::Float16: {
          uint16_t h;
          fp32_to_fp16(&x, &h, 1, Isa::Ref);
          std::memcpy(out, &h, 2);
          break;
        }
        case OutType::UInt8:
        case OutType::Int8: {
          const float qf = x / p.q_scale;
          const float r = std::nearbyint(qf);  // default rounding mode: ties to even
          const int lo = p.dtype == OutType::UInt8 ? 0 : -128, hi = p.dtype == OutType::UInt8 ? 255 : 127;
          const double q = std::clamp(static_cast<double>(r) + p.q_zero_point, static_cast<double>(lo),
                                      static_cast<double>(hi));
          const int qi = static_cast<int>(q);
          out[0] = static_cast<uint8_t>(qi & 0xff);
          break;
        }
      }
    }
  }
  return t;
}

// Caches converted source rows: the vertical taps of consecutive output rows overlap.
class RowCache {
 public:
  RowCache(const ImageView& src, const CropRect& crop, int C, int slots, ConvertRowFn fn)
      : src_(src), crop_(crop), C_(C), slots_(slots), fn_(fn),
        data_(static_cast<size_t>(slots) * static_cast<size_t>(crop.width) * static_cast<size_t>(C)),
        tag_(static_cast<size_t>(slots), -1) {}

  const uint8_t* row(int r) {  // r relative to the crop
    const size_t slot = static_cast<size_t>(r % slots_);
    uint8_t* d = data_.data() + slot * static_cast<size_t>(crop_.width) * static_cast<size_t>(C_);
    if (tag_[slot] != r) {
      fn_(src_, crop_.y + r, crop_.x, crop_.width, C_ == 1, d);
      tag_[slot] = r;
    }
    return d;
  }

 private:
  const ImageView& src_;
  CropRect crop_;
  int C_, slots_;
  ConvertRowFn fn_;
  std::vector<uint8_t> data_;
  std::vector<int> tag_;
};

template <size_t E>
inline void put(uint8_t* dst, const uint8_t* v) {
  std::memcpy(dst, v, E);
}

// Writes resampled row t (tw pixels, C bytes each) to its output pixels through the value tables.
template <size_t E>
void write_row(const PreprocessParams& p, const PreprocessInfo& info, const ValueTables& vt, const int* chan, int nch,
               int C, int tw, int th, int t, const uint8_t* row, WriteF32Fn write_f32) {
  // Output position of pixel s is affine in s: (X, Y) = (x0 + dx * s, y0 + dy * s).
  int x0 = 0, y0 = 0, dx = 1, dy = 0;
  switch (p.rotate) {
    case 0: x0 = 0; y0 = t; dx = 1; dy = 0; break;
    case 90: x0 = th - 1 - t; y0 = 0; dx = 0; dy = 1; break;
    case 180: x0 = tw - 1; y0 = th - 1 - t; dx = -1; dy = 0; break;
    default: x0 = t; y0 = tw - 1; dx = 0; dy = -1; break;  // 270
  }
  if (p.mirror) {
    x0 = info.resized_width - 1 - x0;
    dx = -dx;
  }
  x0 += info.pad_x;
  y0 += info.pad_y;
  const ptrdiff_t W = p.out_width, plane = static_cast<ptrdiff_t>(p.out_width) * p.out_height;
  const bool chw = p.layout == TensorLayout::CHW;
  const ptrdiff_t pix_step = chw ? dx + dy * W : (dx + dy * W) * nch;
  const ptrdiff_t chan_step = chw ? plane : 1;
  const ptrdiff_t start = chw ? y0 * W + x0 : (y0 * W + x0) * nch;
  auto* out = static_cast<uint8_t*>(p.dst);
  if (E == 4 && write_f32 != nullptr && chw && pix_step == 1 && nch == 3 && C == 4) {
    float mean[3], scale[3];
    float* dst[3];
    for (int c = 0; c < 3; ++c) {
      mean[c] = p.mean[c];
      scale[c] = 1.0f / p.std[c];
      dst[c] = reinterpret_cast<float*>(out) + start + c * chan_step;
    }
    write_f32(row, tw, chan, mean, scale, dst);
    return;
  }
  for (int c = 0; c < nch; ++c) {
    uint8_t* d = out + static_cast<ptrdiff_t>(E) * (start + c * chan_step);
    const uint8_t* tab = vt.at(c, 0);
    const uint8_t* src = row + chan[c];
    for (int s = 0; s < tw; ++s, d += static_cast<ptrdiff_t>(E) * pix_step) put<E>(d, tab + E * src[s * C]);
  }
}

// Pixels outside the resized region (letterbox bars) get pad[c] through the value tables. One row of
// pad values is built once and copied span by span.
void fill_pad(const PreprocessParams& p, const PreprocessInfo& info, const ValueTables& vt, int nch) {
  const size_t E = vt.esz, W = static_cast<size_t>(p.out_width), H = static_cast<size_t>(p.out_height);
  auto* out = static_cast<uint8_t*>(p.dst);
  const size_t x_lo = static_cast<size_t>(info.pad_x), x_hi = x_lo + static_cast<size_t>(info.resized_width);
  const size_t y_lo = static_cast<size_t>(info.pad_y), y_hi = y_lo + static_cast<size_t>(info.resized_height);
  if (x_lo == 0 && y_lo == 0 && x_hi == W && y_hi == H) return;
  const bool chw = p.layout == TensorLayout::CHW;
  const size_t px = chw ? E : E * static_cast<size_t>(nch);  // bytes per pixel within one row span
  const size_t planes = chw ? static_cast<size_t>(nch) : 1;
  std::vector<uint8_t> pad_row(W * px);
  for (size_t pl = 0; pl < planes; ++pl) {
    for (size_t x = 0; x < W; ++x) {
      for (size_t c = 0; c < px / E; ++c) {
        std::memcpy(pad_row.data() + x * px + c * E, vt.at(static_cast<int>(chw ? pl : c), p.pad[chw ? pl : c]), E);
      }
    }
    uint8_t* base = out + pl * W * H * E;
    for (size_t y = 0; y < H; ++y) {
      uint8_t* row = base + y * W * px;
      if (y < y_lo || y >= y_hi) {
        std::memcpy(row, pad_row.data(), W * px);
      } else {
        std::memcpy(row, pad_row.data(), x_lo * px);
        std::memcpy(row + x_hi * px, pad_row.data(), (W - x_hi) * px);
      }
    }
  }
}

}  // namespace

void preprocess_run(const PreprocessParams& p, const PreprocessInfo& info, const RowOps& ops) {
  const bool swap = p.rotate == 90 || p.rotate == 270;
  const int tw = swap ? info.resized_height : info.resized_width;
  const int th = swap ? info.resized_width : info.resized_height;
  const AxisFilter fx = make_axis_filter(info.crop.width, tw, p.interp);
  const AxisFilter fy = make_axis_filter(info.crop.height, th, p.interp);
  const int nch = preprocess_out_channels(p);
  const int C = nch == 1 ? 1 : 4;
  int chan[3] = {0, 1, 2};
  if (p.color == ColorOrder::BGR) chan[0] = 2, chan[2] = 0;
  const ValueTables vt = make_tables(p, nch);
  fill_pad(p, info, vt, nch);

  RowCache cache(p.src, info.crop, C, fy.taps, ops.convert);
  const size_t len = static_cast<size_t>(info.crop.width) * static_cast<size_t>(C);
  std::vector<int16_t> vrow(len);
  std::vector<uint8_t> hrow(static_cast<size_t>(tw) * static_cast<size_t>(C));
  std::vector<const uint8_t*> rows(static_cast<size_t>(fy.taps));
  std::vector<int16_t> wts(static_cast<size_t>(fy.taps));
  for (int t = 0; t < th; ++t) {
    int n = 0;
    for (int k = 0; k < fy.taps; ++k) {
      const int16_t w = fy.weights[static_cast<size_t>(t) * static_cast<size_t>(fy.taps) + static_cast<size_t>(k)];
      if (w == 0) continue;  // no row conversion for taps that add nothing
      rows[static_cast<size_t>(n)] = cache.row(fy.first[static_cast<size_t>(t)] + k);
      wts[static_cast<size_t>(n)] = w;
      ++n;
    }
    ops.vfilter(rows.data(), wts.data(), n, len, vrow.data());
    ops.hfilter(vrow.data(), fx, C, hrow.data());
    switch (vt.esz) {
      case 4: write_row<4>(p, info, vt, chan, nch, C, tw, th, t, hrow.data(), ops.write_f32); break;
      case 2: write_row<2>(p, info, vt, chan, nch, C, tw, th, t, hrow.data(), ops.write_f32); break;
      default: write_row<1>(p, info, vt, chan, nch, C, tw, th, t, hrow.data(), ops.write_f32); break;
    }
  }
}

}  // namespace edgepack::kernels
