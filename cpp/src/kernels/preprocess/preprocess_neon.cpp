// preprocess row kernels with AArch64 Advanced SIMD. Exact integer arithmetic, the same operations as the
// ref row kernels, so the bytes are identical:
//   convert: YUV 4:2:0 -> RGBx 16 pixels per step (VLD2 splits the chroma pairs, int32 lanes for
//            OpenCV's 20-bit coefficients, VZIP duplicates each chroma term over its pixel pair, VST4
//            interleaves); packed RGB/BGR/RGBA/BGRA -> RGBx with VLD3/VLD4 + VST4.
//   vfilter: rows widened to int16, VMLAL by the row weight, rounding narrow (>> 5).
//   hfilter: RGBx: one VMLAL per tap over the 4 channels of a pixel.
// Gray rows and the few pixels at row ends go through the ref kernels.
#include <arm_neon.h>

#include <cstring>

#include "preprocess_variants.h"

namespace edgepack::kernels {

namespace {

inline uint8x8_t narrow_u8(int32x4_t a, int32x4_t b) {
  return vqmovun_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));  // saturating: the clamp to [0, 255]
}

// 16 pixels: y (16 luma), v8/u8 (8 chroma samples each) -> 64 bytes RGBx.
inline void yuv16(uint8x16_t y, uint8x8_t v8, uint8x8_t u8, uint8_t* dst) {
  const int16x8_t vv = vreinterpretq_s16_u16(vsubl_u8(v8, vdup_n_u8(128)));
  const int16x8_t uu = vreinterpretq_s16_u16(vsubl_u8(u8, vdup_n_u8(128)));
  const int32x4_t half = vdupq_n_s32(1 << 19);
  int32x4_t terms[3][2];  // [r, g, b][pairs 0-3, 4-7]
  for (int h = 0; h < 2; ++h) {
    const int32x4_t v32 = vmovl_s16(h ? vget_high_s16(vv) : vget_low_s16(vv));
    const int32x4_t u32 = vmovl_s16(h ? vget_high_s16(uu) : vget_low_s16(uu));
    terms[0][h] = vmlaq_n_s32(half, v32, 1673527);
    terms[1][h] = vmlaq_n_s32(vmlaq_n_s32(half, v32, -852492), u32, -409993);
    terms[2][h] = vmlaq_n_s32(half, u32, 2116026);
  }
  const uint8x16_t ys = vqsubq_u8(y, vdupq_n_u8(16));  // max(Y - 16, 0)
  const uint16x8_t y_lo = vmovl_u8(vget_low_u8(ys)), y_hi = vmovl_u8(vget_high_u8(ys));
  int32x4_t yy[4] = {vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(y_lo))), vreinterpretq_s32_u32(vmovl_high_u16(y_lo)),
                     vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(y_hi))), vreinterpretq_s32_u32(vmovl_high_u16(y_hi))};
  for (auto& q : yy) q = vmulq_n_s32(q, 1220542);
  uint8x16x4_t out;
  for (int c = 0; c < 3; ++c) {
    int32x4_t px[4];
    for (int h = 0; h < 2; ++h) {
      const int32x4x2_t d = vzipq_s32(terms[c][h], terms[c][h]);  // pair p -> pixels 2p, 2p + 1
      px[2 * h] = vshrq_n_s32(vaddq_s32(yy[2 * h], d.val[0]), 20);
      px[2 * h + 1] = vshrq_n_s32(vaddq_s32(yy[2 * h + 1], d.val[1]), 20);
    }
    out.val[c] = vcombine_u8(narrow_u8(px[0], px[1]), narrow_u8(px[2], px[3]));
  }
  out.val[3] = vdupq_n_u8(255);
  vst4q_u8(dst, out);
}

void convert_yuv(const ImageView& s, int y, int x0, int w, uint8_t* dst) {
  const uint8_t* yrow = s.plane[0] + static_cast<size_t>(y) * s.stride[0];
  const size_t cy = static_cast<size_t>(y / 2);
  const uint8_t* c1 = s.plane[1] + cy * s.stride[1];
  const uint8_t* c2 = s.format == PixelFormat::I420 ? s.plane[2] + cy * s.stride[2] : nullptr;
  int x = 0;
  if (x0 & 1) {  // blocks start on an even source column so each chroma sample covers a pixel pair
    convert_row_ref(s, y, x0, 1, false, dst);
    x = 1;
  }
  for (; x + 16 <= w; x += 16) {
    const int sx = x0 + x;
    const uint8x16_t yv = vld1q_u8(yrow + sx);
    uint8x8_t v8, u8;
    if (c2 == nullptr) {
      const uint8x8x2_t pairs = vld2_u8(c1 + sx);
      const bool nv21 = s.format == PixelFormat::NV21;
      v8 = nv21 ? pairs.val[0] : pairs.val[1];
      u8 = nv21 ? pairs.val[1] : pairs.val[0];
    } else {
      u8 = vld1_u8(c1 + sx / 2);
      v8 = vld1_u8(c2 + sx / 2);
    }
    yuv16(yv, v8, u8, dst + 4 * static_cast<size_t>(x));
  }
  if (x < w) convert_row_ref(s, y, x0 + x, w - x, false, dst + 4 * static_cast<size_t>(x));
}

void convert_packed(const ImageView& s, int y, int x0, int w, uint8_t* dst) {
  const int bpp = pixel_format_bpp(s.format);
  const bool bgr = s.format == PixelFormat::BGR888 || s.format == PixelFormat::BGRA8888;
  const uint8_t* row = s.plane[0] + static_cast<size_t>(y) * s.stride[0] + static_cast<size_t>(x0) * static_cast<size_t>(bpp);
  int x = 0;
  for (; x + 16 <= w; x += 16) {
    const uint8_t* src = row + static_cast<size_t>(x) * static_cast<size_t>(bpp);
    uint8x16_t c0, c1, c2;
    if (bpp == 3) {
      const uint8x16x3_t v = vld3q_u8(src);
      c0 = v.val[0], c1 = v.val[1], c2 = v.val[2];
    } else {
      const uint8x16x4_t v = vld4q_u8(src);
      c0 = v.val[0], c1 = v.val[1], c2 = v.val[2];
    }
    uint8x16x4_t out;
    out.val[0] = bgr ? c2 : c0;
    out.val[1] = c1;
    out.val[2] = bgr ? c0 : c2;
    out.val[3] = vdupq_n_u8(255);
    vst4q_u8(dst + 4 * static_cast<size_t>(x), out);
  }
  if (x < w) convert_row_ref(s, y, x0 + x, w - x, false, dst + 4 * static_cast<size_t>(x));
}

void convert_neon(const ImageView& s, int y, int x0, int w, bool gray, uint8_t* dst) {
  if (gray || s.format == PixelFormat::GRAY8) return convert_row_ref(s, y, x0, w, gray, dst);
  if (s.format == PixelFormat::NV21 || s.format == PixelFormat::NV12 || s.format == PixelFormat::I420) {
    return convert_yuv(s, y, x0, w, dst);
  }
  convert_packed(s, y, x0, w, dst);
}

void vfilter_neon(const uint8_t* const* rows, const int16_t* w, int n, size_t len, int16_t* dst) {
  size_t k = 0;
  for (; k + 8 <= len; k += 8) {
    int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
    for (int j = 0; j < n; ++j) {
      const int16x8_t x = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(rows[j] + k)));
      lo = vmlal_n_s16(lo, vget_low_s16(x), w[j]);
      hi = vmlal_n_s16(hi, vget_high_s16(x), w[j]);
    }
    vst1q_s16(dst + k, vcombine_s16(vrshrn_n_s32(lo, 5), vrshrn_n_s32(hi, 5)));  // (acc + 16) >> 5
  }
  for (; k < len; ++k) {
    int acc = 0;
    for (int j = 0; j < n; ++j) acc += w[j] * rows[j][k];
    dst[k] = static_cast<int16_t>((acc + 16) >> 5);
  }
}

void hfilter_neon(const int16_t* src, const AxisFilter& f, int C, uint8_t* dst) {
  if (C != 4) return hfilter_ref(src, f, C, dst);
  const size_t taps = static_cast<size_t>(f.taps);
  const int32x4_t maxv = vdupq_n_s32(255);
  for (int i = 0; i < f.out_len; ++i) {
    const int16_t* wt = f.weights.data() + static_cast<size_t>(i) * taps;
    const int16_t* px = src + static_cast<size_t>(f.first[static_cast<size_t>(i)]) * 4;
    int32x4_t acc = vdupq_n_s32(1 << 18);
    for (size_t k = 0; k < taps; ++k) acc = vmlal_n_s16(acc, vld1_s16(px + 4 * k), wt[k]);
    const int32x4_t v = vminq_s32(vshrq_n_s32(acc, 19), maxv);
    const uint8x8_t b = vqmovun_s16(vcombine_s16(vqmovn_s32(v), vdup_n_s16(0)));
    const uint32_t word = vget_lane_u32(vreinterpret_u32_u8(b), 0);
    std::memcpy(dst + 4 * static_cast<size_t>(i), &word, 4);
  }
}

void write_f32_neon(const uint8_t* row, int n, const int* chan, const float* mean, const float* scale,
                    float* const* dst) {
  int s = 0;
  for (; s + 16 <= n; s += 16) {
    const uint8x16x4_t px = vld4q_u8(row + 4 * static_cast<size_t>(s));
    for (int c = 0; c < 3; ++c) {
      const uint8x16_t b = px.val[chan[c]];
      const uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_high_u8(b);
      const uint32x4_t w4[4] = {vmovl_u16(vget_low_u16(lo)), vmovl_high_u16(lo), vmovl_u16(vget_low_u16(hi)),
                                vmovl_high_u16(hi)};
      for (int q = 0; q < 4; ++q) {
        const float32x4_t v = vcvtq_f32_u32(w4[q]);
        vst1q_f32(dst[c] + s + 4 * q, vmulq_f32(vsubq_f32(v, vdupq_n_f32(mean[c])), vdupq_n_f32(scale[c])));
      }
    }
  }
  write_f32_ref(row, s, n, chan, mean, scale, dst);
}

}  // namespace

RowOps row_ops_neon() { return RowOps{convert_neon, vfilter_neon, hfilter_neon, write_f32_neon}; }

}  // namespace edgepack::kernels
