// fp32_to_fp16 / fp16_to_fp32 over numpy arrays: zero-copy, GIL released while converting.
#include <pybind11/stl.h>

#include "bindings.h"
#include "edgepack/fp16.h"

namespace edgepack::bindings {

namespace {
template <typename Src, typename Dst>
py::array convert(const char* fn, const py::object& src_obj, const py::object& out, const std::optional<std::string>& isa,
                  const py::dtype& src_dtype, const py::dtype& dst_dtype,
                  void (*dispatch)(const Src*, Dst*, size_t), void (*forced)(const Src*, Dst*, size_t, Isa)) {
  if (!py::isinstance<py::array>(src_obj)) {
    throw py::value_error(std::string(fn) + ": expected a C-contiguous " + std::string(py::str(src_dtype)) +
                          " array (any shape), got " + describe(src_obj));
  }
  const auto src = py::reinterpret_borrow<py::array>(src_obj);
  if (!src.dtype().equal(src_dtype) || !(src.flags() & py::array::c_style)) {
    throw py::value_error(std::string(fn) + ": expected a C-contiguous " + std::string(py::str(src_dtype)) +
                          " array (any shape), got " + describe(src) +
                          ((src.flags() & py::array::c_style) ? "" : " that is not C-contiguous") +
                          "; use np.ascontiguousarray(a, dtype=np." + std::string(py::str(src_dtype)) + ")");
  }
  const std::optional<Isa> which = parse_isa_arg(isa);
  std::vector<py::ssize_t> shape(src.shape(), src.shape() + src.ndim());
  py::array dst = out.is_none() ? py::array(dst_dtype, shape) : check_out(fn, out, dst_dtype, shape, src.data(), static_cast<size_t>(src.nbytes()));
  const auto* s = static_cast<const Src*>(src.data());
  auto* d = static_cast<Dst*>(dst.mutable_data());
  const auto n = static_cast<size_t>(src.size());
  {
    py::gil_scoped_release release;
    if (which) {
      forced(s, d, n, *which);
    } else {
      dispatch(s, d, n);
    }
  }
  return dst;
}
}  // namespace

void init_fp16(py::module_& m) {
  m.def(
      "fp32_to_fp16",
      [](const py::object& src, const py::object& out, const std::optional<std::string>& isa) {
        return convert<float, uint16_t>("fp32_to_fp16", src, out, isa, py::dtype("float32"), py::dtype("float16"),
                                        fp32_to_fp16, fp32_to_fp16);
      },
      py::arg("src"), py::kw_only(), py::arg("out") = py::none(), py::arg("isa") = py::none(),
      "float32 array -> float16 array of the same shape (round to nearest even).");
  m.def(
      "fp16_to_fp32",
      [](const py::object& src, const py::object& out, const std::optional<std::string>& isa) {
        return convert<uint16_t, float>("fp16_to_fp32", src, out, isa, py::dtype("float16"), py::dtype("float32"),
                                        fp16_to_fp32, fp16_to_fp32);
      },
      py::arg("src"), py::kw_only(), py::arg("out") = py::none(), py::arg("isa") = py::none(),
      "float16 array -> float32 array of the same shape (exact).");
}

}  // namespace edgepack::bindings
