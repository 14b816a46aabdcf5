// dlopen-based Vulkan loading (see loader.h).
#include "loader.h"

#include <dlfcn.h>

#include <cstdlib>

namespace edgepack::vk {

Functions& fn() {
  static Functions f;
  return f;
}

bool load_loader(std::string* why) {
  const char* env = std::getenv("EDGEPACK_VULKAN_LOADER");
  const std::string name = (env && env[0]) ? env : "libvulkan.so.1";
  // The handle is kept for the life of the process: drivers register atexit handlers and must stay mapped.
  void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = dlerror();
    *why = "no Vulkan loader (" + name + ": " + (err ? err : "not found") +
           "); install the Vulkan loader and a driver (Debian: libvulkan1 mesa-vulkan-drivers)";
    return false;
  }
  Functions& f = fn();
  f.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(lib, "vkGetInstanceProcAddr"));
  if (f.vkGetInstanceProcAddr == nullptr) {
    *why = name + " does not export vkGetInstanceProcAddr";
    return false;
  }
  f.vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(f.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkCreateInstance"));
  f.vkEnumerateInstanceVersion = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      f.vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  if (f.vkCreateInstance == nullptr) {
    *why = name + " does not provide vkCreateInstance";
    return false;
  }
  return true;
}

// Fills f.<name> from get(handle, "<name>"); `missing` says who lacks it. Used inside the two loaders below.
#define EDGEPACK_VK_LOAD(name)                                                \
  f.name = reinterpret_cast<PFN_##name>(get(handle, #name));                  \
  if (f.name == nullptr) {                                                    \
    *why = std::string(missing) + " does not provide " #name;                 \
    return false;                                                             \
  }

bool load_instance(VkInstance handle, std::string* why) {
  Functions& f = fn();
  const PFN_vkGetInstanceProcAddr get = f.vkGetInstanceProcAddr;
  const char* missing = "the Vulkan loader";
  EDGEPACK_VK_INSTANCE_FUNCTIONS(EDGEPACK_VK_LOAD)
  return true;
}

bool load_device(VkDevice handle, std::string* why) {
  Functions& f = fn();
  const PFN_vkGetDeviceProcAddr get = f.vkGetDeviceProcAddr;
  const char* missing = "the Vulkan driver";
  EDGEPACK_VK_DEVICE_FUNCTIONS(EDGEPACK_VK_LOAD)
  return true;
}

#undef EDGEPACK_VK_LOAD

const char* result_name(VkResult r) {
  switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
  }
}

}  // namespace edgepack::vk
