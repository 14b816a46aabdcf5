// Vulkan: build/run-time availability, the device list, where the last call ran, and the device= argument
// parsing shared by the kernels that have a Vulkan path.
#include <pybind11/stl.h>

#include "bindings.h"
#include "edgepack/vulkan_kernels.h"

namespace edgepack::bindings {

bool parse_device_arg(const char* fn, const std::string& device, const std::optional<std::string>& isa) {
  if (device == "cpu") return false;
  if (device != "vulkan") {
    throw py::value_error(std::string(fn) + ": device must be 'cpu' or 'vulkan', got '" + device + "'");
  }
  if (isa) {
    throw py::value_error(std::string(fn) + ": isa='" + *isa +
                          "' selects a CPU path; it cannot be combined with device='vulkan'");
  }
  return true;
}

void init_vulkan(py::module_& m) {
  m.def("vulkan_built", &vulkan_built, "Compiled with Vulkan support (headers and glslangValidator at build time).");
  m.def("vulkan_available", [] {
    py::gil_scoped_release release;  // the first call loads the driver
    return vulkan_available();
  }, "A Vulkan device is ready (the first call loads Vulkan).");
  m.def("vulkan_note", [] { return vulkan_note(); },
        "Why Vulkan is unavailable, or a note on an ignored EDGEPACK_VULKAN_DEVICE; empty otherwise.");
  m.def("vulkan_devices", [] {
    std::vector<VulkanDevice> devs;
    {
      py::gil_scoped_release release;
      devs = vulkan_devices();
    }
    py::list out;
    for (const VulkanDevice& d : devs) {
      py::dict e;
      e["index"] = d.index;
      e["name"] = d.name;
      e["type"] = d.type;
      e["api_version"] = d.api_version;
      e["vendor_id"] = d.vendor_id;
      e["device_id"] = d.device_id;
      e["compute"] = d.compute;
      e["selected"] = d.selected;
      out.append(e);
    }
    return out;
  }, "Every Vulkan physical device the loader reports, as dicts; 'selected' marks the one edgepack uses.");
  m.def("last_device", [] { return std::string(last_device()); },
        "Where the most recent device='vulkan' kernel call of this thread ran: 'vulkan' or 'cpu' (fallback).");
}

}  // namespace edgepack::bindings
