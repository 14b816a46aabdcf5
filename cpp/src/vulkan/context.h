// The process-wide Vulkan context: instance, chosen physical device, logical device, one compute queue,
// and a command buffer + fence for synchronous submissions. Created on first use and never destroyed:
// tearing Vulkan down from a static destructor races with the driver's own exit handlers.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "edgepack/vulkan.h"
#include "loader.h"

namespace edgepack::vk {

struct Context {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties properties{};
  VkPhysicalDeviceMemoryProperties memory{};
  VkDevice device = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkQueue queue = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkCommandBuffer command_buffer = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  // Held for a whole record-submit-wait cycle: the queue, the command buffer and descriptor sets are shared.
  std::mutex mutex;
};

// The context, or nullptr when Vulkan is unavailable (see vulkan_note()).
Context* context();

// Throws std::runtime_error("Vulkan: <what> failed: <VkResult>") unless r is VK_SUCCESS.
void check(VkResult r, const char* what);

}  // namespace edgepack::vk
