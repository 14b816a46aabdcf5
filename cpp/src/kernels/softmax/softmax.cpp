// Dispatch for softmax and top-k: validation, ISA choice, and the (ISA-independent) top-k selection.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgepack/postprocess.h"
#include "softmax_variants.h"

namespace edgepack {

namespace {
const kernels::SoftmaxOps& ops_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::softmax_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::softmax_neon;
#endif
    default: return kernels::softmax_ref;
  }
}

[[noreturn]] void fail(const char* fn, const std::string& what) {
  throw std::invalid_argument(std::string(fn) + ": " + what);
}

void check(const char* fn, const void* in, const void* out, size_t rows, size_t cols) {
  if (rows == 0 || cols == 0) fail(fn, "rows and cols must be > 0");
  if (cols > static_cast<size_t>(std::numeric_limits<int32_t>::max())) fail(fn, "too many columns");
  if (rows > std::numeric_limits<size_t>::max() / cols / sizeof(float)) fail(fn, "too large");
  if (in == nullptr || out == nullptr) fail(fn, "null buffer");
}

void softmax_impl(const kernels::SoftmaxOps& ops, const float* in, float* out, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const float* x = in + r * cols;
    float* y = out + r * cols;
    const float m = ops.row_max(x, cols);
    const float s = ops.exp_sum(x, cols, m, y);
    ops.divide(y, cols, s);
  }
}

// Ranking key: larger value first, NaN below everything, ties by lower index.
struct Ranks {
  const float* x;
  bool operator()(int32_t a, int32_t b) const {
    const float va = x[a], vb = x[b];
    const bool na = std::isnan(va), nb = std::isnan(vb);
    if (na != nb) return nb;  // the non-NaN one ranks first
    if (!na && va != vb) return va > vb;
    return a < b;
  }
};

void topk_impl(const kernels::SoftmaxOps& ops, const float* logits, size_t rows, size_t cols, size_t k,
               bool apply_softmax, float* values, int32_t* indices) {
  std::vector<int32_t> idx(cols);
  for (size_t r = 0; r < rows; ++r) {
    const float* x = logits + r * cols;
    std::iota(idx.begin(), idx.end(), 0);
    const Ranks rank{x};
    if (k < cols) {
      std::nth_element(idx.begin(), idx.begin() + static_cast<long>(k - 1), idx.end(), rank);
      std::sort(idx.begin(), idx.begin() + static_cast<long>(k), rank);
    } else {
      std::sort(idx.begin(), idx.end(), rank);
    }
    float m = 0.0f, s = 1.0f;
    if (apply_softmax) {
      m = ops.row_max(x, cols);
      s = ops.exp_sum(x, cols, m, nullptr);
    }
    for (size_t j = 0; j < k; ++j) {
      const int32_t i = idx[j];
      indices[r * k + j] = i;
      values[r * k + j] = apply_softmax ? std::exp(x[i] - m) / s : x[i];
    }
  }
}
}  // namespace

void softmax(const float* in, float* out, size_t rows, size_t cols) {
  static const kernels::SoftmaxOps& ops = ops_for(active_isa());
  check("softmax", in, out, rows, cols);
  softmax_impl(ops, in, out, rows, cols);
  set_last_isa(active_isa());
}

void softmax(const float* in, float* out, size_t rows, size_t cols, Isa isa) {
  require_isa(isa);
  check("softmax", in, out, rows, cols);
  softmax_impl(ops_for(isa), in, out, rows, cols);
  set_last_isa(isa);
}

namespace {
void check_topk(const float* logits, size_t rows, size_t cols, size_t k, const float* values,
                const int32_t* indices) {
  check("topk", logits, values, rows, cols);
  if (indices == nullptr) fail("topk", "null buffer");
  if (k == 0 || k > cols) {
    fail("topk", "k must be in 1.." + std::to_string(cols) + " (the number of columns), got " + std::to_string(k));
  }
}
}  // namespace

void topk(const float* logits, size_t rows, size_t cols, size_t k, bool apply_softmax, float* values,
          int32_t* indices) {
  static const kernels::SoftmaxOps& ops = ops_for(active_isa());
  check_topk(logits, rows, cols, k, values, indices);
  topk_impl(ops, logits, rows, cols, k, apply_softmax, values, indices);
  set_last_isa(active_isa());
}

void topk(const float* logits, size_t rows, size_t cols, size_t k, bool apply_softmax, float* values,
          int32_t* indices, Isa isa) {
  require_isa(isa);
  check_topk(logits, rows, cols, k, values, indices);
  topk_impl(ops_for(isa), logits, rows, cols, k, apply_softmax, values, indices);
  set_last_isa(isa);
}

}  // namespace edgepack
