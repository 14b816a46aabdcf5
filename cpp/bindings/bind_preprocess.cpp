// preprocess over numpy arrays: source planes read in place, output written in place (or allocated),
// GIL released while the kernel runs. The Python wrapper (edgepack/kernels_pre.py) turns the user's
// image into planes; this layer checks every plane covers the bytes the format reads.
#include <pybind11/stl.h>

#include <array>
#include <vector>

#include "bindings.h"
#include "edgepack/preprocess.h"
#include "edgepack/vulkan_kernels.h"

namespace edgepack::bindings {

namespace {

[[noreturn]] void bad(const std::string& why) { throw py::value_error("preprocess: " + why); }

template <typename E>
E pick(const char* what, const std::string& v, std::initializer_list<std::pair<const char*, E>> opts) {
  std::string names;
  for (const auto& [name, e] : opts) {
    if (v == name) return e;
    names += (names.empty() ? "" : ", ") + std::string("'") + name + "'";
  }
  bad(std::string(what) + " must be one of " + names + ", got '" + v + "'");
}

// One plane: rows x row_bytes uint8, bytes packed within a row, any row stride.
struct Plane {
  const uint8_t* data;
  size_t rows, row_bytes, stride;
};

Plane plane_of(const py::handle& obj, int k) {
  const std::string tag = "plane " + std::to_string(k);
  if (!py::isinstance<py::array>(obj)) bad(tag + " must be a uint8 numpy array, got " + describe(obj));
  const auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(py::dtype("uint8")) || a.ndim() < 1 || a.ndim() > 3) {
    bad(tag + " must be a uint8 array of shape (rows, bytes) or (rows, pixels, channels), got " + describe(a));
  }
  Plane p{static_cast<const uint8_t*>(a.data()), 1, 1, 0};
  if (a.ndim() == 1) {
    p.rows = 1;
    p.row_bytes = static_cast<size_t>(a.shape(0));
    if (p.row_bytes > 1 && a.strides(0) != 1) bad(tag + " is not contiguous; use np.ascontiguousarray");
  } else {
    p.rows = static_cast<size_t>(a.shape(0));
    p.row_bytes = static_cast<size_t>(a.shape(1)) * (a.ndim() == 3 ? static_cast<size_t>(a.shape(2)) : 1);
    const bool ch_ok = a.ndim() == 2 || a.shape(2) == 1 || a.strides(2) == 1;
    const py::ssize_t px_bytes = a.ndim() == 3 ? a.shape(2) : 1;
    const bool px_ok = a.shape(1) == 1 || a.strides(1) == px_bytes;
    const bool row_ok = p.rows == 1 || a.strides(0) >= static_cast<py::ssize_t>(p.row_bytes);
    if (!(ch_ok && px_ok && row_ok)) {
      bad(tag + " of shape " + shape_str(a) + " must have bytes packed within each row and a positive row stride "
                "(rows may be padded); use np.ascontiguousarray");
    }
  }
  p.stride = p.rows == 1 ? p.row_bytes : static_cast<size_t>(a.strides(0));
  if (p.rows == 0 || p.row_bytes == 0) bad(tag + " is empty (shape " + shape_str(a) + ")");
  return p;
}

}  // namespace

PreprocessParams preprocess_params(const py::sequence& planes, const std::string& format, int width, int height,
                                   int out_w, int out_h, const std::string& mode, const std::string& interp,
                                   const std::array<int, 3>& pad, const std::vector<float>& mean,
                                   const std::vector<float>& std_, int rotate, bool mirror,
                                   const std::optional<std::array<int, 4>>& crop, const std::string& color,
                                   const std::string& layout, const std::string& dtype, float q_scale, int zero_point,
                                   std::vector<std::pair<const void*, size_t>>* src_ranges_out) {
  PreprocessParams p;
  if (!parse_pixel_format(format.c_str(), &p.src.format)) {
    bad("format must be one of 'rgb888', 'bgr888', 'rgba8888', 'bgra8888', 'gray8', 'nv21', 'nv12', 'i420', got '" +
        format + "'");
  }
  p.src.width = width;
  p.src.height = height;
  const int nplanes = pixel_format_planes(p.src.format);
  if (static_cast<int>(planes.size()) != nplanes) {
    bad(format + " needs " + std::to_string(nplanes) + " plane(s), got " + std::to_string(planes.size()));
  }
  if (width <= 0 || height <= 0) bad("source size must be positive, got " + std::to_string(width) + "x" + std::to_string(height));
  const bool yuv = nplanes > 1;
  if (yuv && (width % 2 || height % 2)) {
    bad(format + " needs an even width and height (4:2:0 chroma), got " + std::to_string(width) + "x" +
        std::to_string(height));
  }
  // Byte range of each plane: `out` must not overlap any of them. Planes may live in separate allocations,
  // so each is checked on its own (one lowest-to-highest span would flag unrelated memory in between).
  std::vector<std::pair<const void*, size_t>> src_ranges;
  for (int k = 0; k < nplanes; ++k) {
    const Plane pl = plane_of(planes[static_cast<size_t>(k)], k);
    const size_t w = static_cast<size_t>(width), h = static_cast<size_t>(height);
    size_t need_rows = h, need_bytes = w * static_cast<size_t>(pixel_format_bpp(p.src.format));
    if (k > 0) {
      need_rows = h / 2;
      need_bytes = p.src.format == PixelFormat::I420 ? w / 2 : w;
    }
    if (pl.rows < need_rows || pl.row_bytes < need_bytes) {
      bad(format + " " + std::to_string(width) + "x" + std::to_string(height) + ": plane " + std::to_string(k) +
          " must have at least " + std::to_string(need_rows) + " rows of " + std::to_string(need_bytes) +
          " bytes, got " + std::to_string(pl.rows) + " rows of " + std::to_string(pl.row_bytes));
    }
    p.src.plane[k] = pl.data;
    p.src.stride[k] = pl.stride;
    src_ranges.emplace_back(pl.data, static_cast<size_t>((pl.rows - 1) * pl.stride + pl.row_bytes));
  }
  p.out_width = out_w;
  p.out_height = out_h;
  p.mode = pick<ResizeMode>("mode", mode, {{"stretch", ResizeMode::Stretch}, {"letterbox", ResizeMode::Letterbox}});
  p.interp = pick<Interp>("interp", interp, {{"auto", Interp::Auto}, {"bilinear", Interp::Bilinear}, {"area", Interp::Area}});
  p.color = pick<ColorOrder>("color", color, {{"rgb", ColorOrder::RGB}, {"bgr", ColorOrder::BGR}, {"gray", ColorOrder::Gray}});
  p.layout = pick<TensorLayout>("layout", layout, {{"chw", TensorLayout::CHW}, {"hwc", TensorLayout::HWC}});
  p.dtype = pick<OutType>("dtype", dtype, {{"float32", OutType::Float32}, {"float16", OutType::Float16},
                                           {"uint8", OutType::UInt8}, {"int8", OutType::Int8}});
  const int nch = preprocess_out_channels(p);
  auto per_channel = [&](const char* name, const auto& v, auto* dst) {
    if (v.size() != 1 && v.size() != static_cast<size_t>(nch)) {
      bad(std::string(name) + " has " + std::to_string(v.size()) + " values; expected 1 or " + std::to_string(nch));
    }
    for (int c = 0; c < nch; ++c) dst[c] = v[v.size() == 1 ? 0 : static_cast<size_t>(c)];
  };
  for (int c = 0; c < 3; ++c) {
    if (pad[static_cast<size_t>(c)] < 0 || pad[static_cast<size_t>(c)] > 255) bad("pad values must be in [0, 255]");
    p.pad[c] = static_cast<uint8_t>(pad[static_cast<size_t>(c)]);
  }
  per_channel("mean", mean, p.mean);
  per_channel("std", std_, p.std);
  p.rotate = rotate;
  p.mirror = mirror;
  if (crop) p.crop = CropRect{(*crop)[0], (*crop)[1], (*crop)[2], (*crop)[3]};
  p.q_scale = q_scale;
  p.q_zero_point = zero_point;
  plan_preprocess(p);  // std::invalid_argument -> ValueError
  *src_ranges_out = std::move(src_ranges);
  return p;
}

py::dict preprocess_info_dict(const PreprocessInfo& ran) {
  py::dict d;
  d["src_width"] = ran.src_width;
  d["src_height"] = ran.src_height;
  d["crop"] = py::make_tuple(ran.crop.x, ran.crop.y, ran.crop.width, ran.crop.height);
  d["rotate"] = ran.rotate;
  d["mirror"] = ran.mirror;
  d["oriented_size"] = py::make_tuple(ran.oriented_width, ran.oriented_height);
  d["resized_size"] = py::make_tuple(ran.resized_width, ran.resized_height);
  d["pad"] = py::make_tuple(ran.pad_x, ran.pad_y);
  d["out_size"] = py::make_tuple(ran.out_width, ran.out_height);
  d["scale"] = py::make_tuple(ran.scale_x, ran.scale_y);
  return d;
}

namespace {

py::tuple preprocess_py(const py::sequence& planes, const std::string& format, int width, int height, int out_w,
                        int out_h, const std::string& mode, const std::string& interp,
                        const std::array<int, 3>& pad, const std::vector<float>& mean, const std::vector<float>& std_,
                        int rotate, bool mirror, const std::optional<std::array<int, 4>>& crop,
                        const std::string& color, const std::string& layout, const std::string& dtype, float q_scale,
                        int zero_point, const py::object& out, const std::optional<std::string>& isa,
                        const std::string& device) {
  const bool vulkan = parse_device_arg("preprocess", device, isa);
  std::vector<std::pair<const void*, size_t>> src_ranges;
  PreprocessParams p = preprocess_params(planes, format, width, height, out_w, out_h, mode, interp, pad, mean, std_,
                                         rotate, mirror, crop, color, layout, dtype, q_scale, zero_point,
                                         &src_ranges);
  const std::optional<Isa> which = parse_isa_arg(isa);
  const int nch = preprocess_out_channels(p);

  std::vector<py::ssize_t> shape = layout == "chw" ? std::vector<py::ssize_t>{nch, out_h, out_w}
                                                   : std::vector<py::ssize_t>{out_h, out_w, nch};
  const py::dtype dt(dtype);
  py::array dst = out.is_none() ? py::array(dt, shape) : check_out("preprocess", out, dt, shape, nullptr, 0);
  if (!out.is_none()) {
    for (const auto& [ptr, bytes] : src_ranges) check_out("preprocess", out, dt, shape, ptr, bytes);
  }
  p.dst = dst.mutable_data();
  p.dst_bytes = static_cast<size_t>(dst.nbytes());
  PreprocessInfo ran;
  {
    py::gil_scoped_release release;
    ran = vulkan ? preprocess_vulkan(p) : which ? preprocess(p, *which) : preprocess(p);
  }
  return py::make_tuple(dst, preprocess_info_dict(ran));
}

std::vector<std::array<double, 4>> map_boxes_py(int src_w, int src_h, const std::array<int, 4>& crop, int rotate,
                                                bool mirror, const std::array<int, 2>& oriented,
                                                const std::array<int, 2>& pad, const std::array<double, 2>& scale,
                                                const std::vector<std::array<double, 4>>& boxes) {
  PreprocessInfo info;
  info.src_width = src_w;
  info.src_height = src_h;
  info.crop = CropRect{crop[0], crop[1], crop[2], crop[3]};
  info.rotate = rotate;
  info.mirror = mirror;
  info.oriented_width = oriented[0];
  info.oriented_height = oriented[1];
  info.pad_x = pad[0];
  info.pad_y = pad[1];
  info.scale_x = scale[0];
  info.scale_y = scale[1];
  std::vector<std::array<double, 4>> out(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) info.map_box(boxes[i].data(), out[i].data());
  return out;
}

}  // namespace

void init_preprocess(py::module_& m) {
  m.def("preprocess", &preprocess_py, py::arg("planes"), py::arg("format"), py::arg("width"), py::arg("height"),
        py::arg("out_width"), py::arg("out_height"), py::kw_only(), py::arg("mode") = "stretch",
        py::arg("interp") = "auto", py::arg("pad") = std::array<int, 3>{114, 114, 114},
        py::arg("mean") = std::vector<float>{0.0f}, py::arg("std") = std::vector<float>{1.0f},
        py::arg("rotate") = 0, py::arg("mirror") = false, py::arg("crop") = py::none(), py::arg("color") = "rgb",
        py::arg("layout") = "chw", py::arg("dtype") = "float32", py::arg("q_scale") = 1.0f,
        py::arg("zero_point") = 0, py::arg("out") = py::none(), py::arg("isa") = py::none(),
        py::arg("device") = "cpu", "Fused preprocess (see edgepack.kernels.preprocess); returns (array, geometry dict).");
  m.def("preprocess_map_boxes", &map_boxes_py, py::arg("src_width"), py::arg("src_height"), py::arg("crop"),
        py::arg("rotate"), py::arg("mirror"), py::arg("oriented_size"), py::arg("pad"), py::arg("scale"),
        py::arg("boxes"), "The C++ PreprocessInfo::map_box over a list of boxes (for tests and callers).");
}

}  // namespace edgepack::bindings
