// Post-processing kernels over numpy arrays (softmax/top-k, NMS, YOLO decode, seg argmax, calibration
// histogram). Inputs are read in place (zero-copy: C-contiguous arrays of the exact dtype are
// required, never converted); the GIL is released while a kernel runs. Python-side argument parsing
// (names, tuples) lives in python/edgepack/kernels_post.py; these take plain values.
#include <pybind11/stl.h>

#include <cstring>
#include <limits>
#include <tuple>

#include "bindings.h"
#include "edgepack/postprocess.h"

namespace edgepack::bindings {

namespace {
// ValueError unless obj is a non-empty C-contiguous array of `dtype` whose rank is in ranks.
py::array input(const char* fn, const char* what, const std::string& expected, const py::object& obj,
                const char* dtype, std::initializer_list<py::ssize_t> ranks) {
  const auto bad = [&](const std::string& why) {
    return py::value_error(std::string(fn) + ": " + what + " must be a C-contiguous " + dtype + " array of shape " +
                           expected + "; " + why);
  };
  if (!py::isinstance<py::array>(obj)) throw bad("got " + describe(obj));
  const auto a = py::reinterpret_borrow<py::array>(obj);
  bool rank_ok = false;
  for (py::ssize_t r : ranks) rank_ok = rank_ok || a.ndim() == r;
  if (!a.dtype().equal(py::dtype(dtype)) || !rank_ok) throw bad("got " + describe(obj));
  if (!(a.flags() & py::array::c_style)) {
    throw bad("it is not C-contiguous; use np.ascontiguousarray(a, dtype=np." + std::string(dtype) + ")");
  }
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (a.shape(i) == 0) throw bad("got an empty array of shape " + shape_str(a));
  }
  return a;
}

template <typename T>
py::array_t<T> vector_array(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

// ------------------------------------------------------------------------------ softmax / top-k
py::array softmax_py(const py::object& obj, const py::object& out, const std::optional<std::string>& isa) {
  const py::array x = input("softmax", "logits", "(C,) or (N, C)", obj, "float32", {1, 2});
  const std::optional<Isa> which = parse_isa_arg(isa);
  const size_t cols = static_cast<size_t>(x.shape(x.ndim() - 1));
  const size_t rows = static_cast<size_t>(x.size()) / cols;
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  py::array y = out.is_none() ? py::array(py::dtype("float32"), shape)
                              : check_out("softmax", out, py::dtype("float32"), shape, x.data(),
                                          static_cast<size_t>(x.nbytes()));
  const auto* in = static_cast<const float*>(x.data());
  auto* o = static_cast<float*>(y.mutable_data());
  {
    py::gil_scoped_release release;
    which ? softmax(in, o, rows, cols, *which) : softmax(in, o, rows, cols);
  }
  return y;
}

std::tuple<py::array, py::array> topk_py(const py::object& obj, size_t k, bool apply_softmax,
                                         const std::optional<std::string>& isa) {
  const py::array x = input("topk", "logits", "(C,) or (N, C)", obj, "float32", {1, 2});
  const std::optional<Isa> which = parse_isa_arg(isa);
  const size_t cols = static_cast<size_t>(x.shape(x.ndim() - 1));
  const size_t rows = static_cast<size_t>(x.size()) / cols;
  if (k == 0 || k > cols) {
    throw py::value_error("topk: k must be in 1.." + std::to_string(cols) + " for logits of shape " + shape_str(x) +
                          ", got " + std::to_string(k));
  }
  std::vector<py::ssize_t> shape(x.shape(), x.shape() + x.ndim());
  shape.back() = static_cast<py::ssize_t>(k);
  py::array_t<float> values(shape);
  py::array_t<int32_t> indices(shape);
  const auto* in = static_cast<const float*>(x.data());
  float* v = values.mutable_data();
  int32_t* ix = indices.mutable_data();
  {
    py::gil_scoped_release release;
    which ? topk(in, rows, cols, k, apply_softmax, v, ix, *which) : topk(in, rows, cols, k, apply_softmax, v, ix);
  }
  return {values, indices};
}

// ------------------------------------------------------------------------------------------ NMS
py::array nms_py(const py::object& boxes_obj, const py::object& scores_obj, float iou_threshold,
                 const py::object& class_ids_obj, float score_threshold, size_t max_detections) {
  if (!py::isinstance<py::array>(boxes_obj) || !py::isinstance<py::array>(scores_obj)) {
    throw py::value_error("nms: boxes must be a float32 array of shape (N, 4) and scores a float32 array of shape "
                          "(N,); got " + describe(boxes_obj) + " and " + describe(scores_obj));
  }
  // Empty input is valid for NMS (nothing to keep); only the shapes are checked.
  const auto boxes = py::reinterpret_borrow<py::array>(boxes_obj);
  const auto scores = py::reinterpret_borrow<py::array>(scores_obj);
  const auto c_float = [](const py::array& a) {
    return a.dtype().equal(py::dtype("float32")) && (a.flags() & py::array::c_style);
  };
  if (!c_float(boxes) || boxes.ndim() != 2 || boxes.shape(1) != 4) {
    throw py::value_error("nms: boxes must be a C-contiguous float32 array of shape (N, 4) (x1, y1, x2, y2); got " +
                          describe(boxes));
  }
  const py::ssize_t n = boxes.shape(0);
  if (!c_float(scores) || scores.ndim() != 1 || scores.shape(0) != n) {
    throw py::value_error("nms: scores must be a C-contiguous float32 array of shape (" + std::to_string(n) +
                          ",) to match boxes " + shape_str(boxes) + "; got " + describe(scores));
  }
  const int32_t* cls = nullptr;
  py::array ids;
  if (!class_ids_obj.is_none()) {
    if (!py::isinstance<py::array>(class_ids_obj)) {
      throw py::value_error("nms: class_ids must be an int32 array of shape (" + std::to_string(n) + ",); got " +
                            describe(class_ids_obj));
    }
    ids = py::reinterpret_borrow<py::array>(class_ids_obj);
    if (!ids.dtype().equal(py::dtype("int32")) || !(ids.flags() & py::array::c_style) || ids.ndim() != 1 ||
        ids.shape(0) != n) {
      throw py::value_error("nms: class_ids must be a C-contiguous int32 array of shape (" + std::to_string(n) +
                            ",); got " + describe(ids));
    }
    cls = static_cast<const int32_t*>(ids.data());
  }
  NmsParams p;
  p.iou_threshold = iou_threshold;
  p.score_threshold = score_threshold;
  p.max_detections = max_detections;
  const auto* b = static_cast<const float*>(boxes.data());
  const auto* s = static_cast<const float*>(scores.data());
  std::vector<int32_t> keep;
  {
    py::gil_scoped_release release;
    keep = nms(b, s, cls, static_cast<size_t>(n), p);
  }
  return vector_array(keep, {static_cast<py::ssize_t>(keep.size())});
}

// ----------------------------------------------------------------------------------- YOLO decode
std::tuple<py::array, py::array, py::array> decode_yolo_py(
    const py::object& obj, bool attrs_first, bool xyxy, bool has_objectness, float score_threshold,
    float iou_threshold, size_t max_detections, bool class_agnostic, const std::tuple<float, float, float, float>& lb,
    const std::tuple<float, float>& source_size, const std::optional<std::string>& isa) {
  const size_t extra = 4 + (has_objectness ? 1 : 0);
  const std::string attrs = has_objectness ? "5 + C" : "4 + C";
  const std::string expected = attrs_first ? "(" + attrs + ", N) or (1, " + attrs + ", N)"
                                           : "(N, " + attrs + ") or (1, N, " + attrs + ")";
  const py::array x = input("decode_yolo", "out", expected, obj, "float32", {2, 3});
  if (x.ndim() == 3 && x.shape(0) != 1) {
    throw py::value_error("decode_yolo: out must have shape " + expected + " (one image); got " + shape_str(x) +
                          "; decode each image of a batch separately");
  }
  const py::ssize_t r = x.ndim() - 2;
  const auto a = static_cast<size_t>(attrs_first ? x.shape(r) : x.shape(r + 1));
  const auto n = static_cast<size_t>(attrs_first ? x.shape(r + 1) : x.shape(r));
  if (a <= extra) {
    throw py::value_error("decode_yolo: out must have shape " + expected + " with C >= 1 classes; got " +
                          shape_str(x) + (attrs_first ? " (wrong layout? try layout='anchors_first')"
                                                      : " (wrong layout? try layout='attrs_first')"));
  }
  const std::optional<Isa> which = parse_isa_arg(isa);
  DecodeYoloParams p;
  p.data = static_cast<const float*>(x.data());
  p.num_anchors = n;
  p.num_classes = a - extra;
  p.layout = attrs_first ? YoloLayout::AttrsFirst : YoloLayout::AnchorsFirst;
  p.box_format = xyxy ? BoxFormat::Xyxy : BoxFormat::CxCyWh;
  p.has_objectness = has_objectness;
  p.score_threshold = score_threshold;
  p.iou_threshold = iou_threshold;
  p.max_detections = max_detections;
  p.class_agnostic = class_agnostic;
  p.letterbox = {std::get<0>(lb), std::get<1>(lb), std::get<2>(lb), std::get<3>(lb)};
  p.source_width = std::get<0>(source_size);
  p.source_height = std::get<1>(source_size);
  Detections d;
  {
    py::gil_scoped_release release;
    d = which ? decode_yolo(p, *which) : decode_yolo(p);
  }
  const auto k = static_cast<py::ssize_t>(d.size());
  return {vector_array(d.boxes, {k, 4}), vector_array(d.scores, {k}), vector_array(d.class_ids, {k})};
}

// ---------------------------------------------------------------------------- segmentation argmax
py::array seg_argmax_py(const py::object& obj, const std::optional<std::tuple<size_t, size_t>>& out_size,
                        const std::optional<std::tuple<float, float, float, float>>& lb, const py::object& out,
                        const std::optional<std::string>& isa) {
  const py::array x = input("seg_argmax", "logits", "(C, H, W) or (1, C, H, W)", obj, "float32", {3, 4});
  if (x.ndim() == 4 && x.shape(0) != 1) {
    throw py::value_error("seg_argmax: logits must have shape (C, H, W) or (1, C, H, W); got " + shape_str(x));
  }
  const py::ssize_t r = x.ndim() - 3;
  const std::optional<Isa> which = parse_isa_arg(isa);
  SegArgmaxParams p;
  p.logits = static_cast<const float*>(x.data());
  p.channels = static_cast<size_t>(x.shape(r));
  p.height = static_cast<size_t>(x.shape(r + 1));
  p.width = static_cast<size_t>(x.shape(r + 2));
  p.out_width = out_size ? std::get<0>(*out_size) : p.width;
  p.out_height = out_size ? std::get<1>(*out_size) : p.height;
  if (lb) {
    p.use_letterbox = true;
    p.letterbox = {std::get<0>(*lb), std::get<1>(*lb), std::get<2>(*lb), std::get<3>(*lb)};
  }
  if (p.out_width == 0 || p.out_height == 0) {
    throw py::value_error("seg_argmax: source_size must be two positive integers (width, height)");
  }
  const std::vector<py::ssize_t> shape = {static_cast<py::ssize_t>(p.out_height),
                                          static_cast<py::ssize_t>(p.out_width)};
  py::array mask = out.is_none() ? py::array(py::dtype("uint8"), shape)
                                 : check_out("seg_argmax", out, py::dtype("uint8"), shape, x.data(),
                                             static_cast<size_t>(x.nbytes()));
  p.mask = static_cast<uint8_t*>(mask.mutable_data());
  {
    py::gil_scoped_release release;
    which ? seg_argmax(p, *which) : seg_argmax(p);
  }
  return mask;
}

// -------------------------------------------------------------------------- calibration histogram
float abs_max_py(const py::object& obj, const std::optional<std::string>& isa) {
  const py::array x = input("abs_max", "x", "(...) with at least one element", obj, "float32",
                            {1, 2, 3, 4, 5, 6, 7, 8});
  const std::optional<Isa> which = parse_isa_arg(isa);
  const auto* d = static_cast<const float*>(x.data());
  const auto n = static_cast<size_t>(x.size());
  py::gil_scoped_release release;
  return which ? abs_max(d, n, *which) : abs_max(d, n);
}

void histogram_py(const py::object& obj, float max_value, const py::object& bins_obj, bool ignore_zeros,
                  const std::optional<std::string>& isa) {
  const py::array x = input("histogram", "x", "(...) with at least one element", obj, "float32",
                            {1, 2, 3, 4, 5, 6, 7, 8});
  py::array bins = input("histogram", "accumulate_into", "(bins,)", bins_obj, "int64", {1});
  if (!bins.writeable()) throw py::value_error("histogram: accumulate_into is read-only");
  const std::optional<Isa> which = parse_isa_arg(isa);
  const auto* d = static_cast<const float*>(x.data());
  const auto n = static_cast<size_t>(x.size());
  auto* b = static_cast<int64_t*>(bins.mutable_data());
  const auto nb = static_cast<size_t>(bins.shape(0));
  py::gil_scoped_release release;
  which ? histogram_accumulate(d, n, max_value, b, nb, ignore_zeros, *which)
        : histogram_accumulate(d, n, max_value, b, nb, ignore_zeros);
}
}  // namespace

void init_postprocess(py::module_& m) {
  m.def("softmax", &softmax_py, py::arg("logits"), py::kw_only(), py::arg("out") = py::none(),
        py::arg("isa") = py::none(), "Row-wise softmax over the last axis of a float32 (C,) or (N, C) array.");
  m.def("topk", &topk_py, py::arg("logits"), py::arg("k"), py::kw_only(), py::arg("softmax") = true,
        py::arg("isa") = py::none(), "(values, indices) of the k largest logits per row, ties by lower index.");
  m.def("nms", &nms_py, py::arg("boxes"), py::arg("scores"), py::arg("iou_threshold"), py::kw_only(),
        py::arg("class_ids") = py::none(), py::arg("score_threshold") = -std::numeric_limits<float>::infinity(),
        py::arg("max_detections") = 0, "Greedy NMS; kept indices (int32) by score desc, ties by lower index.");
  m.def("decode_yolo", &decode_yolo_py, py::arg("out"), py::kw_only(), py::arg("attrs_first"), py::arg("xyxy"),
        py::arg("has_objectness"), py::arg("score_threshold"), py::arg("iou_threshold"), py::arg("max_detections"),
        py::arg("class_agnostic"), py::arg("letterbox"), py::arg("source_size"), py::arg("isa") = py::none(),
        "Anchor-free YOLO decode + NMS: (boxes (K, 4) x1y1x2y2, scores (K,), class_ids (K,) int32).");
  m.def("seg_argmax", &seg_argmax_py, py::arg("logits"), py::kw_only(), py::arg("out_size") = py::none(),
        py::arg("letterbox") = py::none(), py::arg("out") = py::none(), py::arg("isa") = py::none(),
        "(C, H, W) float32 logits -> uint8 class mask, nearest-sampled to out_size (W, H).");
  m.def("abs_max", &abs_max_py, py::arg("x"), py::kw_only(), py::arg("isa") = py::none(),
        "Largest |x| of a float32 array (NaN ignored).");
  m.def("histogram_accumulate", &histogram_py, py::arg("x"), py::arg("max_value"), py::arg("bins"), py::kw_only(),
        py::arg("ignore_zeros") = false, py::arg("isa") = py::none(),
        "Adds the histogram of |x| over [0, max_value] into the int64 array bins (len = number of bins).");
}

}  // namespace edgepack::bindings
