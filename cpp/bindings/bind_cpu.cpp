// CPU features, ISA selection, and the array-check helpers shared by the other bind files.
#include <pybind11/stl.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "bindings.h"

namespace edgepack::bindings {

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string describe(const py::handle& obj) {
  if (!py::isinstance<py::array>(obj)) return std::string(py::str(py::type::handle_of(obj).attr("__name__")));
  const auto a = py::reinterpret_borrow<py::array>(obj);
  return std::string(py::str(a.dtype())) + " array of shape " + shape_str(a);
}

std::optional<Isa> parse_isa_arg(const std::optional<std::string>& isa) {
  if (!isa) return std::nullopt;
  Isa out = Isa::Ref;
  if (!parse_isa(*isa, &out)) throw py::value_error("isa must be 'ref', 'avx2' or 'neon', got '" + *isa + "'");
  require_isa(out);  // std::invalid_argument -> ValueError
  return out;
}

py::array check_out(const char* fn, const py::object& out, const py::dtype& dtype,
                    const std::vector<py::ssize_t>& shape, const void* src, size_t src_bytes) {
  std::ostringstream want;
  want << "a writeable C-contiguous " << std::string(py::str(dtype)) << " array of shape (";
  for (size_t i = 0; i < shape.size(); ++i) want << (i ? ", " : "") << shape[i];
  want << (shape.size() == 1 ? ",)" : ")");
  const auto bad = [&](const std::string& why) {
    return py::value_error(std::string(fn) + ": out must be " + want.str() + "; " + why);
  };
  if (!py::isinstance<py::array>(out)) throw bad("got " + describe(out));
  auto a = py::reinterpret_borrow<py::array>(out);
  if (!a.dtype().equal(dtype)) throw bad("got " + describe(out));
  if (a.ndim() != static_cast<py::ssize_t>(shape.size())) throw bad("got shape " + shape_str(a));
  for (size_t i = 0; i < shape.size(); ++i) {
    if (a.shape(static_cast<py::ssize_t>(i)) != shape[i]) throw bad("got shape " + shape_str(a));
  }
  if (!(a.flags() & py::array::c_style)) throw bad("it is not C-contiguous");
  if (!a.writeable()) throw bad("it is read-only");
  const auto s0 = reinterpret_cast<std::uintptr_t>(src);
  const auto o0 = reinterpret_cast<std::uintptr_t>(a.data());
  const auto o_bytes = static_cast<size_t>(a.nbytes());
  if (o_bytes > 0 && src_bytes > 0 && o0 < s0 + src_bytes && s0 < o0 + o_bytes) {
    throw bad("it overlaps the input");
  }
  return a;
}

namespace {
std::vector<std::string> names(const std::vector<Isa>& isas) {
  std::vector<std::string> out;
  for (Isa isa : isas) out.emplace_back(isa_name(isa));
  return out;
}
}  // namespace

void init_cpu(py::module_& m) {
  m.def("active_isa", [] { return std::string(isa_name(active_isa())); },
        "ISA used by kernel calls without isa=: decided once per process from the CPU and EDGEPACK_ISA.");
  m.def("available_isas", [] { return names(available_isas()); },
        "ISAs compiled into this build and supported by this CPU, 'ref' first, best last.");
  m.def("compiled_isas", [] {
    std::vector<Isa> out;
    for (Isa isa : {Isa::Ref, Isa::Avx2, Isa::Neon}) {
      if (isa_compiled(isa)) out.push_back(isa);
    }
    return names(out);
  }, "ISAs compiled into this build, whether or not this CPU supports them.");
  m.def("isa_note", [] { return isa_note(); },
        "Why EDGEPACK_ISA could not be honoured (empty when it was, or when it is unset).");
  m.def("last_isa", [] { return std::string(isa_name(last_isa())); },
        "ISA of the most recent kernel call made by this thread.");
  m.def("cpu_features", [] {
    const CpuFeatures& f = cpu_features();
    py::dict d;
    d["avx2"] = f.avx2;
    d["f16c"] = f.f16c;
    d["fma"] = f.fma;
    d["avx512f"] = f.avx512f;
    d["neon"] = f.neon;
    d["asimdhp"] = f.asimdhp;
    d["asimddp"] = f.asimddp;
    d["i8mm"] = f.i8mm;
    d["sve"] = f.sve;
    return d;
  }, "CPU features detected at first use (x86: avx2, f16c, fma, avx512f; AArch64: neon, asimdhp, asimddp, "
     "i8mm, sve; the others are False).");
}

}  // namespace edgepack::bindings
