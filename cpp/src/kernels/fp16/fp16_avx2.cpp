// fp32 <-> fp16 with F16C (compiled with -mavx2 -mf16c -mfma; only called when the CPU has them).
// F16C's VCVTPS2PH with round-to-nearest-even and VCVTPH2PS implement the spec in fp16.h exactly.
// Tails go through a small stack buffer so every element is converted by the same instructions and
// nothing outside [src, src + n) / [dst, dst + n) is touched.
#include <immintrin.h>

#include <cstring>

#include "fp16_variants.h"

namespace edgepack::kernels {

namespace {
constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

inline void f32_to_f16_x8(const float* src, uint16_t* dst) {
  const __m256 v = _mm256_loadu_ps(src);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm256_cvtps_ph(v, kRne));
}

inline void f16_to_f32_x8(const uint16_t* src, float* dst) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  _mm256_storeu_ps(dst, _mm256_cvtph_ps(h));
}
}  // namespace

void fp32_to_fp16_avx2(const float* src, uint16_t* dst, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    f32_to_f16_x8(src + i, dst + i);
    f32_to_f16_x8(src + i + 8, dst + i + 8);
    f32_to_f16_x8(src + i + 16, dst + i + 16);
    f32_to_f16_x8(src + i + 24, dst + i + 24);
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

void fp16_to_fp32_avx2(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    f16_to_f32_x8(src + i, dst + i);
    f16_to_f32_x8(src + i + 8, dst + i + 8);
    f16_to_f32_x8(src + i + 16, dst + i + 16);
    f16_to_f32_x8(src + i + 24, dst + i + 24);
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
