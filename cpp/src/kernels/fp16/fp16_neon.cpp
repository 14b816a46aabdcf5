// fp32 <-> fp16 with AArch64 Advanced SIMD (FCVTN/FCVTL). With the default FPCR (round to nearest
// even, no flush-to-zero, no default-NaN) these implement the spec in fp16.h exactly. Tails go through
// a small stack buffer so every element uses the same instructions and nothing out of range is touched.
#include <arm_neon.h>

#include <cstring>

#include "fp16_variants.h"

namespace edgepack::kernels {

namespace {
inline void f32_to_f16_x8(const float* src, uint16_t* dst) {
  const float16x4_t lo = vcvt_f16_f32(vld1q_f32(src));
  const float16x8_t h = vcvt_high_f16_f32(lo, vld1q_f32(src + 4));
  vst1q_u16(dst, vreinterpretq_u16_f16(h));
}

inline void f16_to_f32_x8(const uint16_t* src, float* dst) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(src));
  vst1q_f32(dst, vcvt_f32_f16(vget_low_f16(h)));
  vst1q_f32(dst + 4, vcvt_high_f32_f16(h));
}
}  // namespace

void fp32_to_fp16_neon(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f32_to_f16_x8(src + i, dst + i);
    f32_to_f16_x8(src + i + 8, dst + i + 8);
  }
  for (; i + 8 <= n; i += 8) f32_to_f16_x8(src + i, dst + i);
  if (i < n) {
    float in[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    uint16_t out[8];
    std::memcpy(in, src + i, (n - i) * sizeof(float));
    f32_to_f16_x8(in, out);
    std::memcpy(dst + i, out, (n - i) * sizeof(uint16_t));
  }
}

void fp16_to_fp32_neon(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    f16_to_f32_x8(src + i, dst + i);
    f16_to_f32_x8(src + i + 8, dst + i + 8);
  }
  for (; i + 8 <= n; i += 8) f16_to_f32_x8(src + i, dst + i);
  if (i < n) {
    uint16_t in[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    float out[8];
    std::memcpy(in, src + i, (n - i) * sizeof(uint16_t));
    f16_to_f32_x8(in, out);
    std::memcpy(dst + i, out, (n - i) * sizeof(float));
  }
}

}  // namespace edgepack::kernels
