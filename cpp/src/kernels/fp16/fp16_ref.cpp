// Scalar specification of fp32 <-> fp16 conversion (see edgepack/fp16.h). Pure integer bit work, so
// the result does not depend on the FPU's rounding mode or denormal flags.
#include <cstring>

#include "fp16_variants.h"

namespace edgepack::kernels {

uint16_t fp32_to_fp16_scalar(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof x);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;

  if (ax >= 0x7f800000u) {  // inf or NaN
    if (ax == 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u);
    return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // quiet, keep payload top
  }
  if (ax >= 0x477ff000u) {  // >= 65520 = halfway between 65504 (max half) and 2^16: rounds to inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  if (ax >= 0x38800000u) {  // >= 2^-14: normal half. Rebias exponent (127 -> 15) and round at bit 13.
    uint32_t m = ax - 0x38000000u;
    m += 0x0fffu + ((m >> 13) & 1u);  // ties to even; a carry correctly bumps the exponent
    return static_cast<uint16_t>(sign | (m >> 13));
  }
  if (ax <= 0x33000000u) {  // <= 2^-25: rounds to zero (2^-25 itself is a tie with 0, which is even)
    return static_cast<uint16_t>(sign);
  }
  // Subnormal half: value / 2^-24 = mant * 2^(e - 126) with e in [102, 112].
  const uint32_t e = ax >> 23;
  const uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14 .. 24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;  // may carry into the smallest normal: correct
  return static_cast<uint16_t>(sign | q);
}

float fp16_to_fp32_scalar(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0x1fu) {  // inf or NaN (NaN gets the quiet bit, like F16C and FCVTL)
    x = sign | 0x7f800000u | (mant << 13) | (mant != 0 ? 0x00400000u : 0u);
  } else if (exp != 0) {  // normal
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {  // zero
    x = sign;
  } else {  // subnormal half -> normal float: shift the leading 1 into the implicit position
    uint32_t e = 113u;  // exponent of 2^-14 (127 - 14), lowered once per shift
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    x = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &x, sizeof f);
  return f;
}

void fp32_to_fp16_ref(const float* src, uint16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float f;
    std::memcpy(&f, src + i, sizeof f);  // buffers may be unaligned
    const uint16_t h = fp32_to_fp16_scalar(f);
    std::memcpy(dst + i, &h, sizeof h);
  }
}

void fp16_to_fp32_ref(const uint16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, src + i, sizeof h);
    const float f = fp16_to_fp32_scalar(h);
    std::memcpy(dst + i, &f, sizeof f);
  }
}

}  // namespace edgepack::kernels
