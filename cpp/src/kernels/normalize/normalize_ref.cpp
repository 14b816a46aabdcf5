// Scalar specification of normalize (see edgepack/normalize.h).
#include <cstring>

#include "normalize_variants.h"

namespace edgepack::kernels {

void normalize_ref(const NormalizeParams& p) {
  const size_t plane = p.width * p.height;
  const size_t c_in = static_cast<size_t>(p.in_channels);
  for (int c = 0; c < p.out_channels; ++c) {
    const size_t s = static_cast<size_t>(p.channel[c]);
    const float mean = p.mean[c];
    const float scale = p.scale[c];
    for (size_t y = 0; y < p.height; ++y) {
      const uint8_t* row = p.src + y * p.src_row_stride;
      float* out = p.dst + static_cast<size_t>(c) * plane + y * p.width;
      for (size_t x = 0; x < p.width; ++x) {
        const float v = static_cast<float>(row[x * c_in + s]);
        const float r = (v - mean) * scale;
        std::memcpy(out + x, &r, sizeof r);  // dst may be unaligned
      }
    }
  }
}

}  // namespace edgepack::kernels
