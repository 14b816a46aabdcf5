// Per-ISA softmax row primitives; only softmax.cpp (the dispatcher) calls these, after validating
// the geometry. Spec: softmax_ref.cpp.
#pragma once

#include <cstddef>

namespace edgepack::kernels {

// Largest value of x[0..n), NaN ignored; -inf when there is none.
// exp_sum: e[i] = exp(x[i] - m) written to e (may alias x; null: not stored), returns sum(e).
// divide: x[i] = x[i] / s.
struct SoftmaxOps {
  float (*row_max)(const float* x, size_t n);
  float (*exp_sum)(const float* x, size_t n, float m, float* e);
  void (*divide)(float* x, size_t n, float s);
};

extern const SoftmaxOps softmax_ref;
#if defined(EDGEPACK_WITH_AVX2)
extern const SoftmaxOps softmax_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
extern const SoftmaxOps softmax_neon;
#endif

}  // namespace edgepack::kernels
