// Built without Vulkan (no headers or glslangValidator at build time): every query says so and the
// kernels run on the CPU.
#include <stdexcept>

#include "edgepack/vulkan.h"
#include "gpu.h"

namespace edgepack {

bool vulkan_built() { return false; }

bool vulkan_available() { return false; }

const std::string& vulkan_note() {
  static const std::string note =
      "not built: this edgepack was compiled without Vulkan (needs the Vulkan headers and glslangValidator "
      "at build time; Debian: libvulkan-dev glslang-tools)";
  return note;
}

std::vector<VulkanDevice> vulkan_devices() { return {}; }

}  // namespace edgepack

namespace edgepack::vk {

// Unreachable: dispatch.cpp calls these only when vulkan_available().
void normalize_gpu(const NormalizeParams&) { throw std::logic_error("built without Vulkan"); }
void preprocess_gpu(const PreprocessParams&, const PreprocessInfo&) { throw std::logic_error("built without Vulkan"); }

}  // namespace edgepack::vk
