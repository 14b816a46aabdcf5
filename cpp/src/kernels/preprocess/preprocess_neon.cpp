// preprocess row kernels with AArch64 Advanced SIMD.
#include <arm_neon.h>

#include "preprocess_variants.h"

namespace edgepack::kernels {

RowOps row_ops_neon() { return row_ops_ref(); }

}  // namespace edgepack::kernels
