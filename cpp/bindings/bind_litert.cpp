// LiteRtModel: the native LiteRT engine (cpp/src/engines/litert.cpp) as a Python class. Runs release the
// GIL; errors become edgepack.errors classes (EngineUnavailableError, ModelError, InputError, EngineRunError).
#include <pybind11/stl.h>

#include <memory>
#include <sstream>

#include "bindings.h"
#include "edgepack/litert.h"

namespace edgepack::bindings {

namespace {

using litert::ErrorKind;

const char* error_class(ErrorKind k) {
  switch (k) {
    case ErrorKind::Library: return "EngineUnavailableError";
    case ErrorKind::Model: return "ModelError";
    case ErrorKind::Input: return "InputError";
    case ErrorKind::Run: return "EngineRunError";
  }
  return "Error";
}

py::dict tensor_dict(const litert::TensorDesc& d) {
  py::dict t;
  t["name"] = d.name;
  t["signature_name"] = d.signature_name;
  t["shape"] = d.shape;
  t["dtype"] = std::string(litert::dtype_name(d.dtype));
  t["quantized"] = d.quantized;
  t["scale"] = d.scale;
  t["zero_point"] = d.zero_point;
  return t;
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << (s.size() == 1 ? ",)" : ")");
  return o.str();
}

// Closing drops this reference; a run in flight on another thread keeps the model alive until it returns.
struct PyLiteRtModel {
  std::shared_ptr<litert::Model> model;

  std::shared_ptr<litert::Model> get() const {
    if (!model) throw litert::Error(ErrorKind::Input, "LiteRtModel is closed; load the model again");
    return model;
  }
};

py::list run_py(const PyLiteRtModel& self, const py::sequence& feeds) {
  const auto m = self.get();
  const auto& ins = m->inputs();
  if (static_cast<size_t>(py::len(feeds)) != ins.size()) {
    throw litert::Error(ErrorKind::Input, "run: the model takes " + std::to_string(ins.size()) + " input(s), got " +
                                              std::to_string(py::len(feeds)));
  }
  std::vector<py::array> keep;  // holds the arrays while the GIL is released
  std::vector<const void*> in_ptrs;
  for (size_t i = 0; i < ins.size(); ++i) {
    const auto& d = ins[i];
    const py::object obj = feeds[i];
    const std::string want = "a C-contiguous " + std::string(litert::dtype_name(d.dtype)) + " array of shape " +
                             shape_text(d.shape);
    if (!py::isinstance<py::array>(obj)) {
      throw litert::Error(ErrorKind::Input, "input " + std::to_string(i) + " ('" + d.name + "') must be " + want +
                                                ", got " + describe(obj));
    }
    auto a = py::reinterpret_borrow<py::array>(obj);
    bool ok = a.dtype().equal(py::dtype(litert::dtype_name(d.dtype))) && (a.flags() & py::array::c_style) &&
              a.ndim() == static_cast<py::ssize_t>(d.shape.size());
    for (py::ssize_t k = 0; ok && k < a.ndim(); ++k) ok = a.shape(k) == d.shape[static_cast<size_t>(k)];
    if (!ok) {
      throw litert::Error(ErrorKind::Input, "input " + std::to_string(i) + " ('" + d.name + "') must be " + want +
                                                ", got " + describe(obj) +
                                                ((a.flags() & py::array::c_style) ? "" : " that is not C-contiguous"));
    }
    in_ptrs.push_back(a.data());
    keep.push_back(a);
  }
  std::vector<py::array> outs;
  std::vector<void*> out_ptrs;
  for (const auto& d : m->outputs()) {
    std::vector<py::ssize_t> shape(d.shape.begin(), d.shape.end());
    py::array a(py::dtype(litert::dtype_name(d.dtype)), shape);
    out_ptrs.push_back(a.mutable_data());
    outs.push_back(a);
  }
  {
    py::gil_scoped_release release;
    m->run(in_ptrs, out_ptrs);
  }
  py::list result;
  for (auto& a : outs) result.append(a);
  return result;
}

}  // namespace

void init_litert(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const litert::Error& e) {
      py::object cls;
      try {
        cls = py::module_::import("edgepack.errors").attr(error_class(e.kind()));
      } catch (py::error_already_set&) {
        PyErr_Clear();
        cls = py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
      }
      PyErr_SetString(cls.ptr(), e.what());
    }
  });

  m.def("litert_load_library", &litert::load_library, py::arg("hint_dir") = "",
        "dlopen libLiteRt.so (EDGEPACK_LITERT_LIB, else hint_dir/libLiteRt.so, else the library path); "
        "returns the path that loaded.");

  py::class_<PyLiteRtModel>(m, "LiteRtModel",
                            "A .tflite compiled by LiteRT for the CPU. Runs on one model are serialized; "
                            "load one model per thread to run in parallel.")
      .def(py::init([](const std::string& path, int threads, const std::string& lib_dir) {
             std::unique_ptr<litert::Model> model;
             {
               py::gil_scoped_release release;  // compiling a model can take a while
               model = litert::Model::load(path, threads, lib_dir);
             }
             return PyLiteRtModel{std::shared_ptr<litert::Model>(std::move(model))};
           }),
           py::arg("path"), py::arg("threads") = 1, py::arg("lib_dir") = "")
      .def_property_readonly("inputs",
                             [](const PyLiteRtModel& s) {
                               py::list l;
                               for (const auto& d : s.get()->inputs()) l.append(tensor_dict(d));
                               return l;
                             })
      .def_property_readonly("outputs",
                             [](const PyLiteRtModel& s) {
                               py::list l;
                               for (const auto& d : s.get()->outputs()) l.append(tensor_dict(d));
                               return l;
                             })
      .def_property_readonly("library_path", [](const PyLiteRtModel& s) { return s.get()->library_path(); })
      .def_property_readonly("threads", [](const PyLiteRtModel& s) { return s.get()->threads(); })
      .def_property_readonly("closed", [](const PyLiteRtModel& s) { return !s.model; })
      .def("run", &run_py, py::arg("inputs"),
           "Run once: arrays in input order (exact dtype and shape) -> new arrays in output order. GIL released.")
      .def("close", [](PyLiteRtModel& s) { s.model.reset(); }, "Release the model (after any run in flight).");
}

}  // namespace edgepack::bindings
