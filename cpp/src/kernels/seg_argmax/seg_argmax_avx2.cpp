// Per-pixel channel argmax with AVX2: 32 pixels per step (four vectors), a running max and channel
// index per lane updated only where v > best, exactly like ref (first maximum wins, NaN never does).
#include <immintrin.h>

#include <cmath>

#include "seg_argmax_variants.h"

namespace edgepack::kernels {

namespace {
constexpr size_t kVec = 4;
}  // namespace

void seg_argmax_planes_avx2(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out) {
  size_t j = 0;
  for (; j + 8 * kVec <= n; j += 8 * kVec) {
    __m256 best[kVec], idx[kVec];
    for (size_t h = 0; h < kVec; ++h) {
      best[h] = _mm256_set1_ps(-INFINITY);
      idx[h] = _mm256_setzero_ps();
    }
    const float* p = src + j;
    for (size_t c = 0; c < channels; ++c, p += plane) {
      const __m256 cv = _mm256_set1_ps(static_cast<float>(c));
      for (size_t h = 0; h < kVec; ++h) {
        const __m256 v = _mm256_loadu_ps(p + 8 * h);
        const __m256 gt = _mm256_cmp_ps(v, best[h], _CMP_GT_OQ);
        best[h] = _mm256_blendv_ps(best[h], v, gt);
        idx[h] = _mm256_blendv_ps(idx[h], cv, gt);
      }
    }
    for (size_t h = 0; h < kVec; ++h) {
      const __m256i k = _mm256_cvttps_epi32(idx[h]);
      const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j + 8 * h), _mm_packus_epi16(w, w));
    }
  }
  seg_argmax_planes_ref(src + j, channels, plane, n - j, out + j);
}

}  // namespace edgepack::kernels
