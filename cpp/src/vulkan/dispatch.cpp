// Entry points of the Vulkan kernels (edgepack/vulkan_kernels.h): argument checks, then the GPU
// implementation (gpu.h) or, when Vulkan is unavailable, the CPU path after a one-line warning.
// Compiled with and without Vulkan support (without it, off/vulkan_off.cpp provides the stubs).
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "edgepack/vulkan_kernels.h"
#include "gpu.h"

namespace edgepack {

namespace {
thread_local const char* g_last_device = "cpu";
}  // namespace

const char* last_device() { return g_last_device; }

void vulkan_warn_fallback(const char* what) {
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  std::fprintf(stderr, "edgepack: Vulkan unavailable (%s); running %s on the CPU\n", vulkan_note().c_str(), what);
}

void normalize_hwc_to_chw_vulkan(const NormalizeParams& p) {
  check_normalize_params(p);
  if (p.src == nullptr || p.dst == nullptr) throw std::invalid_argument("normalize: null buffer");
  if (!vulkan_available()) {
    vulkan_warn_fallback("normalize");
    normalize_hwc_to_chw(p);
    g_last_device = "cpu";
    return;
  }
  vk::normalize_gpu(p);
  g_last_device = "vulkan";
}

PreprocessInfo preprocess_vulkan(const PreprocessParams& p) {
  if (!vulkan_available()) {
    vulkan_warn_fallback("preprocess");
    const PreprocessInfo info = preprocess(p);  // validates
    g_last_device = "cpu";
    return info;
  }
  const PreprocessInfo info = check_preprocess(p);
  vk::preprocess_gpu(p, info);
  g_last_device = "vulkan";
  return info;
}

}  // namespace edgepack
