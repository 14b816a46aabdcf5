// The Vulkan API, loaded at run time: dlopen("libvulkan.so.1") and vkGetInstanceProcAddr. There is no
// link-time dependency on libvulkan, so the library (and the wheel) loads on machines without Vulkan.
// Only the functions edgepack uses are listed; each table entry is filled once from the loader.
#pragma once

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include <string>

namespace edgepack::vk {

#define EDGEPACK_VK_INSTANCE_FUNCTIONS(X)    \
  X(vkDestroyInstance)                       \
  X(vkEnumeratePhysicalDevices)              \
  X(vkGetPhysicalDeviceProperties)           \
  X(vkGetPhysicalDeviceQueueFamilyProperties) \
  X(vkGetPhysicalDeviceMemoryProperties)     \
  X(vkCreateDevice)                          \
  X(vkGetDeviceProcAddr)

#define EDGEPACK_VK_DEVICE_FUNCTIONS(X) \
  X(vkDestroyDevice)                    \
  X(vkGetDeviceQueue)                   \
  X(vkCreateBuffer)                     \
  X(vkDestroyBuffer)                    \
  X(vkGetBufferMemoryRequirements)      \
  X(vkAllocateMemory)                   \
  X(vkFreeMemory)                       \
  X(vkBindBufferMemory)                 \
  X(vkMapMemory)                        \
  X(vkUnmapMemory)                      \
  X(vkFlushMappedMemoryRanges)          \
  X(vkInvalidateMappedMemoryRanges)     \
  X(vkCreateShaderModule)               \
  X(vkDestroyShaderModule)              \
  X(vkCreateDescriptorSetLayout)        \
  X(vkDestroyDescriptorSetLayout)       \
  X(vkCreatePipelineLayout)             \
  X(vkDestroyPipelineLayout)            \
  X(vkCreateComputePipelines)           \
  X(vkDestroyPipeline)                  \
  X(vkCreateDescriptorPool)             \
  X(vkDestroyDescriptorPool)            \
  X(vkAllocateDescriptorSets)           \
  X(vkUpdateDescriptorSets)             \
  X(vkCreateCommandPool)                \
  X(vkDestroyCommandPool)               \
  X(vkAllocateCommandBuffers)           \
  X(vkBeginCommandBuffer)               \
  X(vkEndCommandBuffer)                 \
  X(vkResetCommandBuffer)               \
  X(vkCmdBindPipeline)                  \
  X(vkCmdBindDescriptorSets)            \
  X(vkCmdPushConstants)                 \
  X(vkCmdDispatch)                      \
  X(vkCmdPipelineBarrier)               \
  X(vkQueueSubmit)                      \
  X(vkCreateFence)                      \
  X(vkDestroyFence)                     \
  X(vkWaitForFences)                    \
  X(vkResetFences)

#define EDGEPACK_VK_DECLARE(name) PFN_##name name = nullptr;

struct Functions {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;  // null on Vulkan 1.0 loaders
  EDGEPACK_VK_INSTANCE_FUNCTIONS(EDGEPACK_VK_DECLARE)
  EDGEPACK_VK_DEVICE_FUNCTIONS(EDGEPACK_VK_DECLARE)
};

#undef EDGEPACK_VK_DECLARE

// The process-wide table. Filled step by step by load_loader / load_instance / load_device.
Functions& fn();

// dlopen the loader (EDGEPACK_VULKAN_LOADER overrides the library name) and resolve the global
// functions. On failure returns false and says why in *why.
bool load_loader(std::string* why);
bool load_instance(VkInstance instance, std::string* why);
bool load_device(VkDevice device, std::string* why);

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc.
const char* result_name(VkResult r);

}  // namespace edgepack::vk
