// Scalar specification of the per-pixel channel argmax (see edgepack/postprocess.h).
#include <cmath>

#include "seg_argmax_variants.h"

namespace edgepack::kernels {

void seg_argmax_planes_ref(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out) {
  for (size_t j = 0; j < n; ++j) {
    float best = -INFINITY;
    size_t idx = 0;
    for (size_t c = 0; c < channels; ++c) {
      const float v = src[c * plane + j];
      if (v > best) {  // first maximum wins; NaN never does
        best = v;
        idx = c;
      }
    }
    out[j] = static_cast<uint8_t>(idx);
  }
}

}  // namespace edgepack::kernels
