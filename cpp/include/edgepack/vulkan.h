// Vulkan compute for edgepack's kernels: device discovery and selection, and the CPU fallback rule.
//
// Vulkan is optional twice over: at build time (no Vulkan headers or glslangValidator -> built without it,
// vulkan_built() is false) and at run time (libvulkan.so.1 is dlopen'ed on first use; no loader, no
// device, or EDGEPACK_VULKAN=0 -> vulkan_available() is false and vulkan_note() says why).
// Kernels asked to run on Vulkan when it is unavailable run their CPU path instead and print one line on
// stderr, once per process (vulkan_warn_fallback()).
//
// Device choice (once per process): EDGEPACK_VULKAN_DEVICE=<index> (an index into vulkan_devices()) picks
// a device; otherwise the first device with a compute queue by type: discrete > integrated > virtual > cpu
// (e.g. Mesa's lavapipe) > other. An index that does not name a usable device falls back to that order
// with a note on stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgepack {

struct VulkanDevice {
  int index = 0;            // position in the loader's enumeration; what EDGEPACK_VULKAN_DEVICE takes
  std::string name;
  std::string type;         // "discrete", "integrated", "virtual", "cpu", "other"
  std::string api_version;  // "1.3.230"
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;
  bool compute = false;     // has a queue family with compute
  bool selected = false;    // the device edgepack uses
};

// Compiled with Vulkan support (headers + SPIR-V shaders present at build time).
bool vulkan_built();
// True once a device, queue and pipelines can be used. The first call loads Vulkan (thread-safe).
bool vulkan_available();
// Empty when Vulkan is available; otherwise why not, in one line. Also notes an ignored
// EDGEPACK_VULKAN_DEVICE.
const std::string& vulkan_note();
// Every physical device the loader reports (empty without a loader or when not built).
std::vector<VulkanDevice> vulkan_devices();
// Prints "edgepack: Vulkan unavailable (<note>); running <what> on the CPU" on stderr the first time it
// is called in the process; later calls print nothing.
void vulkan_warn_fallback(const char* what);

}  // namespace edgepack
