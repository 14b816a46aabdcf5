// Per-ISA calibration histogram loops; only histogram.cpp calls these, with max_value finite and
// > 0 and float(num_bins) / max_value finite. Spec: histogram_ref.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgepack::kernels {

struct HistogramOps {
  float (*abs_max)(const float* x, size_t n);
  void (*accumulate)(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins, bool ignore_zeros);
};

extern const HistogramOps histogram_ref;
#if defined(EDGEPACK_WITH_AVX2)
extern const HistogramOps histogram_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
extern const HistogramOps histogram_neon;
#endif

// The scalar loops over [0, n), also used by the SIMD paths for their tails.
float histogram_abs_max_ref(const float* x, size_t n);
void histogram_accumulate_ref(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                              bool ignore_zeros);

}  // namespace edgepack::kernels
