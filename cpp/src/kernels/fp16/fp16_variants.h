// Per-ISA fp16 conversion variants; only fp16.cpp (the dispatcher) and tests call these directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgepack::kernels {

uint16_t fp32_to_fp16_scalar(float f);
float fp16_to_fp32_scalar(uint16_t h);

void fp32_to_fp16_ref(const float* src, uint16_t* dst, size_t n);
void fp16_to_fp32_ref(const uint16_t* src, float* dst, size_t n);
#if defined(EDGEPACK_WITH_AVX2)
void fp32_to_fp16_avx2(const float* src, uint16_t* dst, size_t n);
void fp16_to_fp32_avx2(const uint16_t* src, float* dst, size_t n);
#endif
#if defined(EDGEPACK_WITH_NEON)
void fp32_to_fp16_neon(const float* src, uint16_t* dst, size_t n);
void fp16_to_fp32_neon(const uint16_t* src, float* dst, size_t n);
#endif

}  // namespace edgepack::kernels
