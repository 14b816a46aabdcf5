// Scalar specification of the softmax row primitives (see edgepack/postprocess.h).
#include <cmath>

#include "softmax_variants.h"

namespace edgepack::kernels {

namespace {
float row_max(const float* x, size_t n) {
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    if (x[i] > m) m = x[i];  // NaN compares false: ignored
  }
  return m;
}

float exp_sum(const float* x, size_t n, float m, float* e) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float v = std::exp(x[i] - m);
    if (e != nullptr) e[i] = v;
    s += v;
  }
  return s;
}

void divide(float* x, size_t n, float s) {
  for (size_t i = 0; i < n; ++i) x[i] = x[i] / s;
}
}  // namespace

const SoftmaxOps softmax_ref = {row_max, exp_sum, divide};

}  // namespace edgepack::kernels
