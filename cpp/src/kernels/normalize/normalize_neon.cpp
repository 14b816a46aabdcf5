// normalize with AArch64 Advanced SIMD. 16 pixels per step: VLD3/VLD4 de-interleave the channels,
// each selected channel is widened u8 -> u16 -> u32 -> f32 and computed as (v - mean) * scale.
// The last < 16 pixels of a row are copied into a zeroed stack block so no byte past the row is read.
#include <arm_neon.h>

#include <cstring>

#include "normalize_variants.h"

namespace edgepack::kernels {

namespace {
constexpr size_t kBlock = 16;

inline void store16(float* dst, uint8x16_t b, float32x4_t mean, float32x4_t scale) {
  const uint16x8_t lo = vmovl_u8(vget_low_u8(b));
  const uint16x8_t hi = vmovl_high_u8(b);
  const uint32x4_t w[4] = {vmovl_u16(vget_low_u16(lo)), vmovl_high_u16(lo), vmovl_u16(vget_low_u16(hi)),
                           vmovl_high_u16(hi)};
  for (int i = 0; i < 4; ++i) {
    const float32x4_t v = vcvtq_f32_u32(w[i]);
    vst1q_f32(dst + 4 * i, vmulq_f32(vsubq_f32(v, mean), scale));
  }
}

template <int C>
struct RowKernel {
  float32x4_t mean[kNormalizeMaxChannels];
  float32x4_t scale[kNormalizeMaxChannels];
  int channel[kNormalizeMaxChannels];
  int out_channels;

  explicit RowKernel(const NormalizeParams& p) : out_channels(p.out_channels) {
    for (int c = 0; c < out_channels; ++c) {
      mean[c] = vdupq_n_f32(p.mean[c]);
      scale[c] = vdupq_n_f32(p.scale[c]);
      channel[c] = p.channel[c];
    }
  }

  // src: 16 * C bytes; dst[c]: 16 floats each.
  void block(const uint8_t* src, float* const* dst) const {
    uint8x16_t planes[C];
    if constexpr (C == 1) {
      planes[0] = vld1q_u8(src);
    } else if constexpr (C == 3) {
      const uint8x16x3_t v = vld3q_u8(src);
      for (int i = 0; i < 3; ++i) planes[i] = v.val[i];
    } else {
      static_assert(C == 4, "normalize supports 1, 3 or 4 input channels");
      const uint8x16x4_t v = vld4q_u8(src);
      for (int i = 0; i < 4; ++i) planes[i] = v.val[i];
    }
    for (int c = 0; c < out_channels; ++c) store16(dst[c], planes[channel[c]], mean[c], scale[c]);
  }

  void row(const uint8_t* src, size_t width, float* const* out) const {
    float* dst[kNormalizeMaxChannels];
    size_t x = 0;
    for (; x + kBlock <= width; x += kBlock) {
      for (int c = 0; c < out_channels; ++c) dst[c] = out[c] + x;
      block(src + x * C, dst);
    }
    if (x < width) {
      const size_t n = width - x;
      uint8_t in[kBlock * C] = {};
      float tmp[kNormalizeMaxChannels][kBlock];
      std::memcpy(in, src + x * C, n * C);
      for (int c = 0; c < out_channels; ++c) dst[c] = tmp[c];
      block(in, dst);
      for (int c = 0; c < out_channels; ++c) std::memcpy(out[c] + x, tmp[c], n * sizeof(float));
    }
  }
};

template <int C>
void run(const NormalizeParams& p) {
  const RowKernel<C> k(p);
  const size_t plane = p.width * p.height;
  float* out[kNormalizeMaxChannels];
  for (size_t y = 0; y < p.height; ++y) {
    for (int c = 0; c < p.out_channels; ++c) out[c] = p.dst + static_cast<size_t>(c) * plane + y * p.width;
    k.row(p.src + y * p.src_row_stride, p.width, out);
  }
}
}  // namespace

void normalize_neon(const NormalizeParams& p) {
  switch (p.in_channels) {
    case 1: run<1>(p); break;
    case 3: run<3>(p); break;
    case 4: run<4>(p); break;
    default: normalize_ref(p); break;  // unreachable: the dispatcher validated in_channels
  }
}

}  // namespace edgepack::kernels
