// LiteRtModel: the native LiteRT engine (cpp/src/engines/litert.cpp) as a Python class, and LiteRtPipeline
// (edgepack/pipeline.h) over it. Runs release the GIL; LiteRT errors become edgepack.errors classes
// (EngineUnavailableError, ModelError, InputError, EngineRunError); bad pipeline arguments ValueError.
#include <pybind11/stl.h>

#include <cstring>
#include <memory>
#include <sstream>

#include "bindings.h"
#include "edgepack/litert.h"
#include "edgepack/pipeline.h"

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

PostStage make_post(const litert::Model& m, const std::string& kind, size_t output, size_t k, bool softmax,
                    const std::string& yolo_layout, const std::string& box_format, bool has_objectness,
                    float score_threshold, float iou_threshold, size_t max_detections, bool class_agnostic) {
  if (kind == "none") return raw_outputs_stage(m);
  if (kind == "topk") return topk_stage(m, output, k, softmax);
  if (kind != "yolo") throw py::value_error("post must be 'none', 'topk' or 'yolo', got '" + kind + "'");
  DecodeYoloParams p;
  if (yolo_layout != "attrs_first" && yolo_layout != "anchors_first") {
    throw py::value_error("yolo_layout must be 'attrs_first' or 'anchors_first', got '" + yolo_layout + "'");
  }
  if (box_format != "cxcywh" && box_format != "xyxy") {
    throw py::value_error("box_format must be 'cxcywh' or 'xyxy', got '" + box_format + "'");
  }
  p.layout = yolo_layout == "attrs_first" ? YoloLayout::AttrsFirst : YoloLayout::AnchorsFirst;
  p.box_format = box_format == "cxcywh" ? BoxFormat::CxCyWh : BoxFormat::Xyxy;
  p.has_objectness = has_objectness;
  p.score_threshold = score_threshold;
  p.iou_threshold = iou_threshold;
  p.max_detections = max_detections;
  p.class_agnostic = class_agnostic;
  return yolo_stage(m, output, p);
}

py::dict pipeline_run(const Pipeline& pl, const py::sequence& planes, const std::string& format, int width,
                      int height, int out_w, int out_h, const std::string& mode, const std::string& interp,
                      const std::array<int, 3>& pad, const std::vector<float>& mean, const std::vector<float>& std_,
                      int rotate, bool mirror, const std::optional<std::array<int, 4>>& crop,
                      const std::string& color, const std::string& layout, const std::string& dtype, float q_scale,
                      int zero_point) {
  std::vector<std::pair<const void*, size_t>> src_ranges;  // the model's own input buffer never overlaps them
  const PreprocessParams frame = preprocess_params(planes, format, width, height, out_w, out_h, mode, interp, pad,
                                                   mean, std_, rotate, mirror, crop, color, layout, dtype, q_scale,
                                                   zero_point, &src_ranges);
  PipelineResult r;
  {
    py::gil_scoped_release release;  // the planes stay alive: the caller's arguments hold them
    r = pl.run(frame);
  }
  py::dict d;
  d["info"] = preprocess_info_dict(r.info);
  py::list outs;
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    const auto& desc = pl.model().outputs()[i];
    std::vector<py::ssize_t> shape(desc.shape.begin(), desc.shape.end());
    py::array a(py::dtype(litert::dtype_name(desc.dtype)), shape);
    std::memcpy(a.mutable_data(), r.outputs[i].data(), r.outputs[i].size());
    outs.append(a);
  }
  d["outputs"] = outs;
  d["values"] = py::array_t<float>(static_cast<py::ssize_t>(r.values.size()), r.values.data());
  d["indices"] = py::array_t<int32_t>(static_cast<py::ssize_t>(r.indices.size()), r.indices.data());
  const auto n = static_cast<py::ssize_t>(r.detections.size());
  d["boxes"] = py::array_t<float>({n, py::ssize_t{4}}, r.detections.boxes.data());
  d["scores"] = py::array_t<float>(n, r.detections.scores.data());
  d["class_ids"] = py::array_t<int32_t>(n, r.detections.class_ids.data());
  return d;
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

  py::class_<Pipeline>(m, "LiteRtPipeline",
                       "frame -> preprocess -> LiteRT -> postprocess in C++ (GIL released); runs on one model are "
                       "serialized.")
      .def(py::init([](const PyLiteRtModel& model, size_t input, const std::string& post, size_t output, size_t k,
                       bool softmax, const std::string& yolo_layout, const std::string& box_format,
                       bool has_objectness, float score_threshold, float iou_threshold, size_t max_detections,
                       bool class_agnostic) {
             const auto mp = model.get();
             return Pipeline(mp, input, make_post(*mp, post, output, k, softmax, yolo_layout, box_format,
                                                  has_objectness, score_threshold, iou_threshold, max_detections,
                                                  class_agnostic));
           }),
           py::arg("model"), py::arg("input") = 0, py::kw_only(), py::arg("post") = "none", py::arg("output") = 0,
           py::arg("k") = 5, py::arg("softmax") = true, py::arg("yolo_layout") = "attrs_first",
           py::arg("box_format") = "cxcywh", py::arg("has_objectness") = false, py::arg("score_threshold") = 0.25f,
           py::arg("iou_threshold") = 0.45f, py::arg("max_detections") = 300, py::arg("class_agnostic") = false)
      .def("run", &pipeline_run, py::arg("planes"), py::arg("format"), py::arg("width"), py::arg("height"),
           py::arg("out_w"), py::arg("out_h"), py::kw_only(), py::arg("mode"), py::arg("interp"), py::arg("pad"),
           py::arg("mean"), py::arg("std"), py::arg("rotate"), py::arg("mirror"), py::arg("crop"), py::arg("color"),
           py::arg("layout"), py::arg("dtype"), py::arg("q_scale"), py::arg("zero_point"),
           "One frame through the pipeline: {'info', 'outputs', 'values', 'indices', 'boxes', 'scores', "
           "'class_ids'} (the post stage fills its own keys; the others are empty).");
}

}  // namespace edgepack::bindings
