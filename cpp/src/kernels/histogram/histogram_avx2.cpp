// abs_max and the calibration histogram with AVX2. The bin index of 8 values is computed at once
// (abs, scale, truncate, clamp to the last bin, exactly the ref formula); the increments stay scalar
// (no scatter in AVX2). abs_max keeps a running lane max where NaN inputs leave the lane unchanged.
#include <immintrin.h>

#include "histogram_variants.h"

namespace edgepack::kernels {

namespace {
float abs_max(const float* x, size_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {  // two loads per step to hide max latency
    acc = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), acc);
    acc = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 8)), acc);
  }
  for (; i + 8 <= n; i += 8) acc = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), acc);
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  const float tail = histogram_abs_max_ref(x + i, n - i);
  const float v = _mm_cvtss_f32(m);
  return tail > v ? tail : v;
}

void accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins, bool ignore_zeros) {
  const float inv_s = static_cast<float>(num_bins) / max_value;
  const __m256 inv = _mm256_set1_ps(inv_s);
  const __m256 last = _mm256_set1_ps(static_cast<float>(num_bins - 1));
  const __m256i last_i = _mm256_set1_epi32(static_cast<int32_t>(num_bins - 1));
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 zero = _mm256_setzero_ps();
  size_t i = 0;
  alignas(32) int32_t b[8];
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i));
    const __m256 t = _mm256_mul_ps(a, inv);
    const __m256 in_range = _mm256_cmp_ps(t, last, _CMP_LT_OQ);
    const __m256i k = _mm256_blendv_epi8(last_i, _mm256_cvttps_epi32(t), _mm256_castps_si256(in_range));
    _mm256_store_si256(reinterpret_cast<__m256i*>(b), k);
    __m256 valid = _mm256_cmp_ps(a, a, _CMP_ORD_Q);
    if (ignore_zeros) valid = _mm256_and_ps(valid, _mm256_cmp_ps(a, zero, _CMP_NEQ_OQ));
    const int bits = _mm256_movemask_ps(valid);
    if (bits == 0xff) {
      for (int l = 0; l < 8; ++l) ++bins[b[l]];
    } else {
      for (int l = 0; l < 8; ++l) bins[b[l]] += (bits >> l) & 1;
    }
  }
  histogram_accumulate_ref(x + i, n - i, max_value, bins, num_bins, ignore_zeros);
}
}  // namespace

const HistogramOps histogram_avx2 = {abs_max, accumulate};

}  // namespace edgepack::kernels
