// softmax row primitives with AVX2: 8 floats per step, exp by range reduction to [-ln2/2, ln2/2] and a
// degree-5 polynomial (the classic Cephes expf scheme, ~1 ulp), mul/add only so results do not depend
// on FMA contraction. Tails use the scalar code. Max and division are exact, so only exp and the sum
// order differ from ref (well within 1e-5 relative; values below ~1e-38 flush to 0).
#include <immintrin.h>

#include <cmath>

#include "softmax_variants.h"

namespace edgepack::kernels {

namespace {
__m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.5f);
  x = _mm256_max_ps(lo, x);  // NaN (second operand) propagates
  x = _mm256_min_ps(_mm256_set1_ps(88.3f), x);
  __m256 fx = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_sub_ps(x, _mm256_mul_ps(fx, _mm256_set1_ps(0.693359375f)));
  x = _mm256_sub_ps(x, _mm256_mul_ps(fx, _mm256_set1_ps(-2.12194440e-4f)));
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_add_ps(_mm256_mul_ps(y, x), _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_add_ps(_mm256_mul_ps(y, x), _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_add_ps(_mm256_mul_ps(y, x), _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_add_ps(_mm256_mul_ps(y, x), _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_add_ps(_mm256_mul_ps(y, x), _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(y, x), x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

float row_max(const float* x, size_t n) {
  __m256 acc = _mm256_set1_ps(-INFINITY);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_max_ps(_mm256_loadu_ps(x + i), acc);  // NaN input: acc kept
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float m = -INFINITY;
  for (float v : lanes) m = v > m ? v : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

float exp_sum(const float* x, size_t n, float m, float* e) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    if (e != nullptr) _mm256_storeu_ps(e + i, v);
    acc = _mm256_add_ps(acc, v);
  }
  float s = hsum(acc);
  for (; i < n; ++i) {
    const float v = std::exp(x[i] - m);
    if (e != nullptr) e[i] = v;
    s += v;
  }
  return s;
}

void divide(float* x, size_t n, float s) {
  const __m256 vs = _mm256_set1_ps(s);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i), vs));
  for (; i < n; ++i) x[i] = x[i] / s;
}
}  // namespace

const SoftmaxOps softmax_avx2 = {row_max, exp_sum, divide};

}  // namespace edgepack::kernels
