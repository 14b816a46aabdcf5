// abs_max and the calibration histogram with AArch64 Advanced SIMD: bin indices of 4 values at once
// (abs, scale, truncate, clamp to the last bin: the ref formula), scalar increments. abs_max uses
// vmaxnm, which ignores NaN like ref.
#include <arm_neon.h>

#include "histogram_variants.h"

namespace edgepack::kernels {

namespace {
float abs_max(const float* x, size_t n) {
  float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    a0 = vmaxnmq_f32(a0, vabsq_f32(vld1q_f32(x + i)));
    a1 = vmaxnmq_f32(a1, vabsq_f32(vld1q_f32(x + i + 4)));
  }
  const float v = vmaxnmvq_f32(vmaxnmq_f32(a0, a1));
  const float tail = histogram_abs_max_ref(x + i, n - i);
  return tail > v ? tail : v;
}

void accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins, bool ignore_zeros) {
  const float32x4_t inv = vdupq_n_f32(static_cast<float>(num_bins) / max_value);
  const float32x4_t last = vdupq_n_f32(static_cast<float>(num_bins - 1));
  const uint32x4_t last_i = vdupq_n_u32(static_cast<uint32_t>(num_bins - 1));
  size_t i = 0;
  uint32_t b[4], ok[4];
  for (; i + 4 <= n; i += 4) {
    const float32x4_t a = vabsq_f32(vld1q_f32(x + i));
    const float32x4_t t = vmulq_f32(a, inv);
    const uint32x4_t in_range = vcltq_f32(t, last);
    vst1q_u32(b, vbslq_u32(in_range, vcvtq_u32_f32(t), last_i));
    uint32x4_t valid = vceqq_f32(a, a);
    if (ignore_zeros) valid = vandq_u32(valid, vmvnq_u32(vceqq_f32(a, vdupq_n_f32(0.0f))));
    vst1q_u32(ok, valid);
    for (int l = 0; l < 4; ++l) bins[b[l]] += ok[l] & 1;
  }
  histogram_accumulate_ref(x + i, n - i, max_value, bins, num_bins, ignore_zeros);
}
}  // namespace

const HistogramOps histogram_neon = {abs_max, accumulate};

}  // namespace edgepack::kernels
