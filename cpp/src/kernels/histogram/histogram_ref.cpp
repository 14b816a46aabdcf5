// Scalar specification of abs_max and the calibration histogram (see edgepack/postprocess.h).
#include <cmath>

#include "histogram_variants.h"

namespace edgepack::kernels {

float histogram_abs_max_ref(const float* x, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > m) m = a;  // NaN compares false: ignored
  }
  return m;
}

void histogram_accumulate_ref(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                              bool ignore_zeros) {
  const float inv = static_cast<float>(num_bins) / max_value;
  const float last = static_cast<float>(num_bins - 1);
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (std::isnan(a) || (ignore_zeros && a == 0.0f)) continue;
    const float t = a * inv;
    // t < last: truncation is the floor (t >= 0); otherwise (including inf) the last bin.
    const size_t b = t < last ? static_cast<size_t>(t) : num_bins - 1;
    ++bins[b];
  }
}

const HistogramOps histogram_ref = {histogram_abs_max_ref, histogram_accumulate_ref};

}  // namespace edgepack::kernels
