// One init_<area> per bindings file; module.cpp calls them all. Shared array checks live here.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edgepack/cpu.h"
#include "edgepack/preprocess.h"

namespace edgepack::bindings {

namespace py = pybind11;

void init_cpu(py::module_& m);
void init_fp16(py::module_& m);
void init_normalize(py::module_& m);
void init_preprocess(py::module_& m);
void init_litert(py::module_& m);
void init_vulkan(py::module_& m);
void init_postprocess(py::module_& m);

// "(3, 1080, 1920)"
std::string shape_str(const py::array& a);
// "float32 array of shape (3, 4)" or the Python type name for a non-array.
std::string describe(const py::handle& obj);
// None -> nullopt; a known name -> that Isa; anything else -> ValueError.
std::optional<Isa> parse_isa_arg(const std::optional<std::string>& isa);
// "cpu" -> false, "vulkan" -> true (ValueError if an isa is forced too), anything else -> ValueError.
bool parse_device_arg(const char* fn, const std::string& device, const std::optional<std::string>& isa);
// ValueError unless `out` is a writeable C-contiguous array of `dtype` and exactly `shape`, not
// overlapping the input's bytes [src, src + src_bytes); returns it as an array.
py::array check_out(const char* fn, const py::object& out, const py::dtype& dtype,
                    const std::vector<py::ssize_t>& shape, const void* src, size_t src_bytes);

// Preprocess arguments as the Python surface passes them -> checked PreprocessParams (dst unset); ValueError
// naming the problem. *src_ranges receives the byte range (start, size) of each source plane.
PreprocessParams preprocess_params(const py::sequence& planes, const std::string& format, int width, int height,
                                   int out_w, int out_h, const std::string& mode, const std::string& interp,
                                   const std::array<int, 3>& pad, const std::vector<float>& mean,
                                   const std::vector<float>& std_, int rotate, bool mirror,
                                   const std::optional<std::array<int, 4>>& crop, const std::string& color,
                                   const std::string& layout, const std::string& dtype, float q_scale, int zero_point,
                                   std::vector<std::pair<const void*, size_t>>* src_ranges);
// PreprocessInfo as the dict edgepack.kernels_pre.PreprocessInfo is built from.
py::dict preprocess_info_dict(const PreprocessInfo& info);

}  // namespace edgepack::bindings
