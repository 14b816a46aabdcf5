// Dispatch for fp32 <-> fp16: the one place that maps an Isa to a variant.
#include "edgepack/fp16.h"

#include "fp16_variants.h"

namespace edgepack {

namespace {
struct Fp16Fns {
  void (*to_half)(const float*, uint16_t*, size_t);
  void (*to_float)(const uint16_t*, float*, size_t);
};

Fp16Fns fns_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return {kernels::fp32_to_fp16_avx2, kernels::fp16_to_fp32_avx2};
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return {kernels::fp32_to_fp16_neon, kernels::fp16_to_fp32_neon};
#endif
    default: return {kernels::fp32_to_fp16_ref, kernels::fp16_to_fp32_ref};
  }
}

const Fp16Fns& active_fns() {
  static const Fp16Fns f = fns_for(active_isa());
  return f;
}
}  // namespace

void fp32_to_fp16(const float* src, uint16_t* dst, size_t n) {
  active_fns().to_half(src, dst, n);
  set_last_isa(active_isa());
}

void fp32_to_fp16(const float* src, uint16_t* dst, size_t n, Isa isa) {
  require_isa(isa);
  fns_for(isa).to_half(src, dst, n);
  set_last_isa(isa);
}

void fp16_to_fp32(const uint16_t* src, float* dst, size_t n) {
  active_fns().to_float(src, dst, n);
  set_last_isa(active_isa());
}

void fp16_to_fp32(const uint16_t* src, float* dst, size_t n, Isa isa) {
  require_isa(isa);
  fns_for(isa).to_float(src, dst, n);
  set_last_isa(isa);
}

}  // namespace edgepack
