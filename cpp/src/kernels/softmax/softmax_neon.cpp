// softmax row primitives with AArch64 Advanced SIMD: 4 floats per step, the same exp scheme as the
// AVX2 path (Cephes expf: range reduction + degree-5 polynomial, mul/add only). Max (vmaxnm ignores
// NaN, like ref) and division are exact; exp and the sum order stay well within 1e-5 relative.
#include <arm_neon.h>

#include <cmath>

#include "softmax_variants.h"

namespace edgepack::kernels {

namespace {
float32x4_t exp4(float32x4_t x) {
  const uint32x4_t nan = vmvnq_u32(vceqq_f32(x, x));
  x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.5f)), vdupq_n_f32(88.3f));
  float32x4_t fx = vaddq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)), vdupq_n_f32(0.5f));
  fx = vrndmq_f32(fx);
  x = vsubq_f32(x, vmulq_f32(fx, vdupq_n_f32(0.693359375f)));
  x = vsubq_f32(x, vmulq_f32(fx, vdupq_n_f32(-2.12194440e-4f)));
  float32x4_t y = vdupq_n_f32(1.9875691500e-4f);
  y = vaddq_f32(vmulq_f32(y, x), vdupq_n_f32(1.3981999507e-3f));
  y = vaddq_f32(vmulq_f32(y, x), vdupq_n_f32(8.3334519073e-3f));
  y = vaddq_f32(vmulq_f32(y, x), vdupq_n_f32(4.1665795894e-2f));
  y = vaddq_f32(vmulq_f32(y, x), vdupq_n_f32(1.6666665459e-1f));
  y = vaddq_f32(vmulq_f32(y, x), vdupq_n_f32(5.0000001201e-1f));
  y = vaddq_f32(vmulq_f32(vmulq_f32(y, x), x), vaddq_f32(x, vdupq_n_f32(1.0f)));
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
  const float32x4_t r = vmulq_f32(y, vreinterpretq_f32_s32(e));
  return vbslq_f32(nan, vdupq_n_f32(NAN), r);  // NaN in, NaN out (as std::exp)
}

float row_max(const float* x, size_t n) {
  float32x4_t acc = vdupq_n_f32(-INFINITY);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) acc = vmaxnmq_f32(acc, vld1q_f32(x + i));  // maxNum: NaN ignored
  float m = vmaxnmvq_f32(acc);
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sum(const float* x, size_t n, float m, float* e) {
  const float32x4_t vm = vdupq_n_f32(m);
  float32x4_t acc = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = exp4(vsubq_f32(vld1q_f32(x + i), vm));
    if (e != nullptr) vst1q_f32(e + i, v);
    acc = vaddq_f32(acc, v);
  }
  float s = vaddvq_f32(acc);
  for (; i < n; ++i) {
    const float v = std::exp(x[i] - m);
    if (e != nullptr) e[i] = v;
    s += v;
  }
  return s;
}

void divide(float* x, size_t n, float s) {
  const float32x4_t vs = vdupq_n_f32(s);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vdivq_f32(vld1q_f32(x + i), vs));
  for (; i < n; ++i) x[i] = x[i] / s;
}
}  // namespace

const SoftmaxOps softmax_neon = {row_max, exp_sum, divide};

}  // namespace edgepack::kernels
