// Per-ISA normalize variants; only normalize.cpp (the dispatcher) calls these. Parameters are
// validated by the dispatcher (check_normalize_params) before any variant runs.
#pragma once

#include "edgepack/normalize.h"

namespace edgepack::kernels {

void normalize_ref(const NormalizeParams& p);
#if defined(EDGEPACK_WITH_AVX2)
void normalize_avx2(const NormalizeParams& p);
#endif
#if defined(EDGEPACK_WITH_NEON)
void normalize_neon(const NormalizeParams& p);
#endif

}  // namespace edgepack::kernels
