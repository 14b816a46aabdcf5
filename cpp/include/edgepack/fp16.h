// fp32 <-> fp16 (IEEE 754 binary16) conversion.
//
// Spec (implemented bit-exactly by every path; the scalar ref in fp16_ref.cpp is normative):
//   fp32 -> fp16: round to nearest, ties to even. Magnitudes >= 65520 become +-inf; results below the
//     smallest normal become fp16 subnormals (correctly rounded), and magnitudes <= 2^-25 become +-0.
//     fp32 subnormals become +-0. NaN -> NaN with the same sign, the quiet bit set and the top 9
//     payload bits kept (this is what F16C and AArch64 FCVT do; numpy keeps signalling NaNs
//     signalling instead, so only signalling-NaN inputs differ from numpy's astype(np.float16)).
//   fp16 -> fp32: exact. NaN -> NaN with the same sign, the quiet bit set and the payload kept.
// Buffers need no particular alignment; src and dst must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgepack/cpu.h"

namespace edgepack {

void fp32_to_fp16(const float* src, uint16_t* dst, size_t n);              // active_isa()
void fp32_to_fp16(const float* src, uint16_t* dst, size_t n, Isa isa);     // throws if isa unusable
void fp16_to_fp32(const uint16_t* src, float* dst, size_t n);
void fp16_to_fp32(const uint16_t* src, float* dst, size_t n, Isa isa);

}  // namespace edgepack
