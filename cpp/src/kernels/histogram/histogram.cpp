// abs_max / histogram_accumulate: validation and ISA dispatch.
#include <cmath>
#include <stdexcept>
#include <string>

#include "edgepack/postprocess.h"
#include "histogram_variants.h"

namespace edgepack {

namespace {
const kernels::HistogramOps& ops_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::histogram_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::histogram_neon;
#endif
    default: return kernels::histogram_ref;
  }
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("histogram: " + what); }

void check(const float* x, size_t n, float max_value, const int64_t* bins, size_t num_bins) {
  if (num_bins == 0) fail("num_bins must be > 0");
  if (num_bins > (size_t{1} << 24)) fail("num_bins must be <= 2^24 (bin edges must be exact in float32)");
  if (bins == nullptr || (n > 0 && x == nullptr)) fail("null buffer");
  if (!(std::isfinite(max_value) && max_value >= 0.0f)) {
    fail("max_value must be finite and >= 0, got " + std::to_string(max_value));
  }
  if (max_value > 0.0f && !std::isfinite(static_cast<float>(num_bins) / max_value)) {
    fail("max_value " + std::to_string(max_value) + " is too small for " + std::to_string(num_bins) + " bins");
  }
}

void accumulate(const kernels::HistogramOps& ops, const float* x, size_t n, float max_value, int64_t* bins,
                size_t num_bins, bool ignore_zeros) {
  if (max_value > 0.0f) {
    ops.accumulate(x, n, max_value, bins, num_bins, ignore_zeros);
    return;
  }
  // max_value == 0 (an all-zero tensor): zeros go to bin 0, anything else is >= max_value: last bin.
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (std::isnan(a)) continue;
    if (a == 0.0f) {
      if (!ignore_zeros) ++bins[0];
    } else {
      ++bins[num_bins - 1];
    }
  }
}
}  // namespace

float abs_max(const float* x, size_t n) {
  static const kernels::HistogramOps& ops = ops_for(active_isa());
  if (n > 0 && x == nullptr) fail("null buffer");
  const float m = ops.abs_max(x, n);
  set_last_isa(active_isa());
  return m;
}

float abs_max(const float* x, size_t n, Isa isa) {
  require_isa(isa);
  if (n > 0 && x == nullptr) fail("null buffer");
  const float m = ops_for(isa).abs_max(x, n);
  set_last_isa(isa);
  return m;
}

void histogram_accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                          bool ignore_zeros) {
  static const kernels::HistogramOps& ops = ops_for(active_isa());
  check(x, n, max_value, bins, num_bins);
  accumulate(ops, x, n, max_value, bins, num_bins, ignore_zeros);
  set_last_isa(active_isa());
}

void histogram_accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                          bool ignore_zeros, Isa isa) {
  require_isa(isa);
  check(x, n, max_value, bins, num_bins);
  accumulate(ops_for(isa), x, n, max_value, bins, num_bins, ignore_zeros);
  set_last_isa(isa);
}

}  // namespace edgepack
