// normalize over numpy arrays: uint8 (H, W[, C]) with any row stride -> float32 (C_out, H, W).
// The image is read in place (zero-copy); the GIL is released while the kernel runs.
#include <pybind11/stl.h>

#include <vector>

#include "bindings.h"
#include "edgepack/normalize.h"
#include "edgepack/vulkan_kernels.h"

namespace edgepack::bindings {

namespace {
constexpr const char* kExpected =
    "normalize: expected a uint8 image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) with H, W > 0, "
    "pixels packed within each row (strides (row_stride, C, 1), row_stride >= W * C; rows may be padded)";

[[noreturn]] void bad_image(const std::string& why) {
  throw py::value_error(std::string(kExpected) + "; " + why);
}

std::vector<float> per_channel(const char* name, const std::vector<float>& v, int out_channels) {
  if (v.size() == 1) return std::vector<float>(static_cast<size_t>(out_channels), v[0]);
  if (v.size() != static_cast<size_t>(out_channels)) {
    throw py::value_error(std::string("normalize: ") + name + " has " + std::to_string(v.size()) +
                          " values; expected 1 or " + std::to_string(out_channels) + " (one per output channel)");
  }
  return v;
}

NormalizeParams image_params(const py::array& src) {
  if (!src.dtype().equal(py::dtype("uint8"))) bad_image("got " + describe(src));
  if (src.ndim() != 2 && src.ndim() != 3) bad_image("got " + describe(src));
  NormalizeParams p;
  p.height = static_cast<size_t>(src.shape(0));
  p.width = static_cast<size_t>(src.shape(1));
  p.in_channels = src.ndim() == 3 ? static_cast<int>(src.shape(2)) : 1;
  if (p.in_channels != 1 && p.in_channels != 3 && p.in_channels != 4) bad_image("got " + describe(src));
  if (p.height == 0 || p.width == 0) bad_image("got an empty image of shape " + shape_str(src));
  const auto c = static_cast<py::ssize_t>(p.in_channels);
  const py::ssize_t row_bytes = static_cast<py::ssize_t>(p.width) * c;
  // A stride along a length-1 axis is never used, so numpy may set it to anything.
  const bool channel_ok = src.ndim() == 2 || c == 1 || src.strides(2) == 1;
  const bool pixel_ok = p.width == 1 || src.strides(1) == c;
  const bool row_ok = p.height == 1 || src.strides(0) >= row_bytes;
  if (!(channel_ok && pixel_ok && row_ok)) {
    std::string strides = "(";
    for (py::ssize_t i = 0; i < src.ndim(); ++i) strides += (i ? ", " : "") + std::to_string(src.strides(i));
    bad_image("got strides " + strides + ") for shape " + shape_str(src) + "; use np.ascontiguousarray(img)");
  }
  p.src_row_stride = p.height == 1 ? static_cast<size_t>(row_bytes) : static_cast<size_t>(src.strides(0));
  p.src = static_cast<const uint8_t*>(src.data());
  return p;
}

py::array normalize_py(const py::object& src_obj, const std::vector<float>& mean, const std::vector<float>& std_,
                       const std::optional<std::vector<int>>& channels, const py::object& out,
                       const std::optional<std::string>& isa, const std::string& device) {
  const bool vulkan = parse_device_arg("normalize", device, isa);
  if (!py::isinstance<py::array>(src_obj)) bad_image("got " + describe(src_obj));
  const auto src = py::reinterpret_borrow<py::array>(src_obj);
  NormalizeParams p = image_params(src);
  if (channels) {
    if (channels->empty() || channels->size() > static_cast<size_t>(kNormalizeMaxChannels)) {
      throw py::value_error("normalize: channels must list 1 to 4 input channel indices, got " +
                            std::to_string(channels->size()));
    }
    p.out_channels = static_cast<int>(channels->size());
    for (int c = 0; c < p.out_channels; ++c) {
      const int s = (*channels)[static_cast<size_t>(c)];
      if (s < 0 || s >= p.in_channels) {
        throw py::value_error("normalize: channels[" + std::to_string(c) + "] = " + std::to_string(s) +
                              " is not an input channel of an image with " + std::to_string(p.in_channels) +
                              " channel(s)");
      }
      p.channel[c] = s;
    }
  } else {
    p.out_channels = p.in_channels;
  }
  const std::vector<float> m = per_channel("mean", mean, p.out_channels);
  const std::vector<float> s = per_channel("std", std_, p.out_channels);
  for (int c = 0; c < p.out_channels; ++c) p.mean[c] = m[static_cast<size_t>(c)];
  set_normalize_std(&p, s.data());  // std::invalid_argument (-> ValueError) on zero / non-finite std
  check_normalize_params(p);

  const std::optional<Isa> which = parse_isa_arg(isa);
  const size_t src_bytes = (p.height - 1) * p.src_row_stride + p.width * static_cast<size_t>(p.in_channels);
  const std::vector<py::ssize_t> shape = {p.out_channels, static_cast<py::ssize_t>(p.height),
                                          static_cast<py::ssize_t>(p.width)};
  py::array dst = out.is_none() ? py::array(py::dtype("float32"), shape)
                                : check_out("normalize", out, py::dtype("float32"), shape, p.src, src_bytes);
  p.dst = static_cast<float*>(dst.mutable_data());
  {
    py::gil_scoped_release release;
    if (vulkan) {
      normalize_hwc_to_chw_vulkan(p);
    } else if (which) {
      normalize_hwc_to_chw(p, *which);
    } else {
      normalize_hwc_to_chw(p);
    }
  }
  return dst;
}
}  // namespace

void init_normalize(py::module_& m) {
  m.def("normalize", &normalize_py, py::arg("src"), py::arg("mean"), py::arg("std"), py::kw_only(),
        py::arg("channels") = py::none(), py::arg("out") = py::none(), py::arg("isa") = py::none(),
        py::arg("device") = "cpu",
        "uint8 HWC image -> float32 CHW: out[c] = (img[..., channels[c]] - mean[c]) * (1 / std[c]).");
}

}  // namespace edgepack::bindings
