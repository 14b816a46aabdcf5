// Per-pixel channel argmax with AArch64 Advanced SIMD: 16 pixels per step (four vectors), a running
// max and channel index per lane updated only where v > best, exactly like ref.
#include <arm_neon.h>

#include <cmath>

#include "seg_argmax_variants.h"

namespace edgepack::kernels {

void seg_argmax_planes_neon(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out) {
  size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    float32x4_t best[4];
    uint32x4_t idx[4];
    for (int h = 0; h < 4; ++h) {
      best[h] = vdupq_n_f32(-INFINITY);
      idx[h] = vdupq_n_u32(0);
    }
    const float* p = src + j;
    for (size_t c = 0; c < channels; ++c, p += plane) {
      const uint32x4_t cv = vdupq_n_u32(static_cast<uint32_t>(c));
      for (int h = 0; h < 4; ++h) {
        const float32x4_t v = vld1q_f32(p + 4 * h);
        const uint32x4_t gt = vcgtq_f32(v, best[h]);
        best[h] = vbslq_f32(gt, v, best[h]);
        idx[h] = vbslq_u32(gt, cv, idx[h]);
      }
    }
    const uint16x8_t lo = vcombine_u16(vmovn_u32(idx[0]), vmovn_u32(idx[1]));
    const uint16x8_t hi = vcombine_u16(vmovn_u32(idx[2]), vmovn_u32(idx[3]));
    vst1q_u8(out + j, vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)));
  }
  seg_argmax_planes_ref(src + j, channels, plane, n - j, out + j);
}

}  // namespace edgepack::kernels
