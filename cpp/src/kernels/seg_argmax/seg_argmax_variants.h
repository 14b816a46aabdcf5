// Per-ISA argmax over channel planes; only seg_argmax.cpp calls these. Spec: seg_argmax_ref.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgepack::kernels {

// For n consecutive pixels: out[j] = first c in [0, channels) with the largest src[c * plane + j]
// (NaN ignored; 0 when every value is NaN). channels <= 256.
void seg_argmax_planes_ref(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out);
#if defined(EDGEPACK_WITH_AVX2)
void seg_argmax_planes_avx2(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out);
#endif
#if defined(EDGEPACK_WITH_NEON)
void seg_argmax_planes_neon(const float* src, size_t channels, size_t plane, size_t n, uint8_t* out);
#endif

}  // namespace edgepack::kernels
