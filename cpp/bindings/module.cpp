// edgepack._core: the C++ core's Python module. Each area registers itself from its bind_<area>.cpp.
#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "edgepack C++ core: SIMD kernels (ref / AVX2 / NEON) and CPU dispatch";
  edgepack::bindings::init_cpu(m);
  edgepack::bindings::init_fp16(m);
  edgepack::bindings::init_normalize(m);
  edgepack::bindings::init_preprocess(m);
  edgepack::bindings::init_litert(m);
  edgepack::bindings::init_vulkan(m);
  edgepack::bindings::init_postprocess(m);
}
