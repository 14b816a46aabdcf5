// Vulkan discovery, device selection and the process-wide context (see edgepack/vulkan.h, context.h).
#include "context.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace edgepack {
namespace vk {
namespace {

struct State {
  Context* ctx = nullptr;  // null when unavailable
  std::string note;
  std::vector<VulkanDevice> devices;
};

const char* type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

// Lower is better: discrete > integrated > virtual > cpu > other.
int type_rank(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

std::string version_str(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

int compute_family(VkPhysicalDevice pd) {
  const Functions& f = fn();
  uint32_t n = 0;
  f.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, nullptr);
  std::vector<VkQueueFamilyProperties> fams(n);
  f.vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, fams.data());
  int any = -1;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(fams[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || fams[i].queueCount == 0) continue;
    // A compute-only family is usually the async compute engine: prefer it.
    if (!(fams[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) return static_cast<int>(i);
    if (any < 0) any = static_cast<int>(i);
  }
  return any;
}

bool env_disabled() {
  const char* e = std::getenv("EDGEPACK_VULKAN");
  if (e == nullptr) return false;
  const std::string v = e;
  return v == "0" || v == "off" || v == "false" || v == "no";
}

// Picks the device index to use, or -1; may append a note about EDGEPACK_VULKAN_DEVICE.
int choose_device(const std::vector<VulkanDevice>& devs, const std::vector<VkPhysicalDeviceType>& types,
                  std::string* note) {
  const char* env = std::getenv("EDGEPACK_VULKAN_DEVICE");
  if (env != nullptr && env[0] != '\0') {
    char* end = nullptr;
    const long want = std::strtol(env, &end, 10);
    if (*end == '\0' && want >= 0 && want < static_cast<long>(devs.size()) && devs[static_cast<size_t>(want)].compute) {
      return static_cast<int>(want);
    }
    *note = std::string("EDGEPACK_VULKAN_DEVICE=") + env + " does not name a Vulkan device with compute (" +
            std::to_string(devs.size()) + " device(s), see edgepack.kernels.vulkan_devices()); choosing by type";
    std::fprintf(stderr, "edgepack: %s\n", note->c_str());
  }
  int best = -1;
  for (size_t i = 0; i < devs.size(); ++i) {
    if (!devs[i].compute) continue;
    if (best < 0 || type_rank(types[i]) < type_rank(types[static_cast<size_t>(best)])) best = static_cast<int>(i);
  }
  return best;
}

void create_device(Context* c) {
  const Functions& f = fn();
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo qi{};
  qi.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qi.queueFamilyIndex = c->queue_family;
  qi.queueCount = 1;
  qi.pQueuePriorities = &priority;
  VkDeviceCreateInfo di{};
  di.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  di.queueCreateInfoCount = 1;
  di.pQueueCreateInfos = &qi;
  check(f.vkCreateDevice(c->physical, &di, nullptr, &c->device), "vkCreateDevice");
  std::string why;
  if (!load_device(c->device, &why)) throw std::runtime_error(why);
  const Functions& d = fn();
  d.vkGetDeviceQueue(c->device, c->queue_family, 0, &c->queue);
  VkCommandPoolCreateInfo pi{};
  pi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pi.queueFamilyIndex = c->queue_family;
  check(d.vkCreateCommandPool(c->device, &pi, nullptr, &c->command_pool), "vkCreateCommandPool");
  VkCommandBufferAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  ai.commandPool = c->command_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(d.vkAllocateCommandBuffers(c->device, &ai, &c->command_buffer), "vkAllocateCommandBuffers");
  VkFenceCreateInfo fi{};
  fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  check(d.vkCreateFence(c->device, &fi, nullptr, &c->fence), "vkCreateFence");
}

State discover() {
  State s;
  if (env_disabled()) {
    s.note = "disabled by EDGEPACK_VULKAN=" + std::string(std::getenv("EDGEPACK_VULKAN"));
    return s;
  }
  std::string why;
  if (!load_loader(&why)) {
    s.note = why;
    return s;
  }
  const Functions& f = fn();
  uint32_t loader_version = VK_API_VERSION_1_0;
  if (f.vkEnumerateInstanceVersion) f.vkEnumerateInstanceVersion(&loader_version);
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "edgepack";
  app.pEngineName = "edgepack";
  // The kernels need Vulkan 1.0 only; asking for 1.1 where the loader has it lets 1.1 drivers report fully.
  app.apiVersion = loader_version >= VK_API_VERSION_1_1 ? VK_API_VERSION_1_1 : VK_API_VERSION_1_0;
  VkInstanceCreateInfo ii{};
  ii.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ii.pApplicationInfo = &app;
  VkInstance instance = VK_NULL_HANDLE;
  const VkResult r = f.vkCreateInstance(&ii, nullptr, &instance);
  if (r != VK_SUCCESS) {
    s.note = std::string("vkCreateInstance failed (") + result_name(r) + "): no usable Vulkan driver";
    return s;
  }
  if (!load_instance(instance, &why)) {
    s.note = why;
    return s;
  }
  uint32_t n = 0;
  f.vkEnumeratePhysicalDevices(instance, &n, nullptr);
  std::vector<VkPhysicalDevice> pds(n);
  if (n) f.vkEnumeratePhysicalDevices(instance, &n, pds.data());
  pds.resize(n);
  std::vector<VkPhysicalDeviceType> types;
  for (uint32_t i = 0; i < n; ++i) {
    VkPhysicalDeviceProperties p{};
    f.vkGetPhysicalDeviceProperties(pds[i], &p);
    VulkanDevice d;
    d.index = static_cast<int>(i);
    d.name = p.deviceName;
    d.type = type_name(p.deviceType);
    d.api_version = version_str(p.apiVersion);
    d.vendor_id = p.vendorID;
    d.device_id = p.deviceID;
    d.compute = compute_family(pds[i]) >= 0;
    s.devices.push_back(d);
    types.push_back(p.deviceType);
  }
  const int pick = choose_device(s.devices, types, &s.note);
  if (pick < 0) {
    s.note = n == 0 ? "the Vulkan loader reports no device; install a driver (Debian: mesa-vulkan-drivers)"
                    : "no Vulkan device has a compute queue";
    return s;
  }
  s.devices[static_cast<size_t>(pick)].selected = true;
  auto* c = new Context();  // never deleted, see context.h
  c->instance = instance;
  c->physical = pds[static_cast<size_t>(pick)];
  f.vkGetPhysicalDeviceProperties(c->physical, &c->properties);
  f.vkGetPhysicalDeviceMemoryProperties(c->physical, &c->memory);
  c->queue_family = static_cast<uint32_t>(compute_family(c->physical));
  try {
    create_device(c);
  } catch (const std::exception& e) {
    s.note = std::string("device ") + std::to_string(pick) + " (" + s.devices[static_cast<size_t>(pick)].name +
             "): " + e.what();
    s.devices[static_cast<size_t>(pick)].selected = false;
    return s;
  }
  s.ctx = c;
  return s;
}

const State& state() {
  static const State s = discover();  // thread-safe one-time initialisation
  return s;
}

}  // namespace

Context* context() { return state().ctx; }

void check(VkResult r, const char* what) {
  if (r != VK_SUCCESS) throw std::runtime_error(std::string("Vulkan: ") + what + " failed: " + result_name(r));
}

}  // namespace vk

bool vulkan_built() { return true; }

bool vulkan_available() { return vk::state().ctx != nullptr; }

const std::string& vulkan_note() { return vk::state().note; }

std::vector<VulkanDevice> vulkan_devices() { return vk::state().devices; }

}  // namespace edgepack
