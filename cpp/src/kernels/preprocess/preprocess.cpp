// Dispatch for preprocess: the one place that maps an Isa to its row kernels.
#include "edgepack/preprocess.h"

#include <stdexcept>
#include <string>

#include "preprocess_variants.h"

namespace edgepack {

namespace {
kernels::RowOps ops_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::row_ops_avx2();
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::row_ops_neon();
#endif
    default: return kernels::row_ops_ref();
  }
}
}  // namespace

PreprocessInfo check_preprocess(const PreprocessParams& p) {
  PreprocessInfo info = plan_preprocess(p);
  for (int k = 0; k < pixel_format_planes(p.src.format); ++k) {
    if (p.src.plane[k] == nullptr) throw std::invalid_argument("preprocess: plane " + std::to_string(k) + " is null");
  }
  if (p.dst == nullptr) throw std::invalid_argument("preprocess: null output buffer");
  if (p.dst_bytes < preprocess_out_bytes(p)) {
    throw std::invalid_argument("preprocess: output buffer has " + std::to_string(p.dst_bytes) + " bytes, needs " +
                                std::to_string(preprocess_out_bytes(p)));
  }
  return info;
}

PreprocessInfo preprocess(const PreprocessParams& p) {
  static const kernels::RowOps ops = ops_for(active_isa());
  const PreprocessInfo info = check_preprocess(p);
  kernels::preprocess_run(p, info, ops);
  set_last_isa(active_isa());
  return info;
}

PreprocessInfo preprocess(const PreprocessParams& p, Isa isa) {
  require_isa(isa);
  const PreprocessInfo info = check_preprocess(p);
  kernels::preprocess_run(p, info, ops_for(isa));
  set_last_isa(isa);
  return info;
}

}  // namespace edgepack
