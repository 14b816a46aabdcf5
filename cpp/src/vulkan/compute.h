// Host-visible storage buffers and compute pipelines over the process-wide context.
//
// Every buffer lives in host-visible memory (device-local too where the device has such memory: UMA,
// ReBAR): kernels read inputs the host wrote in place and the host reads outputs back in place, so a
// call costs one copy in and one copy out, never a staging buffer. Kernel::run records, submits and waits
// synchronously under the context mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "context.h"

namespace edgepack::vk {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // Makes the buffer at least `bytes` long (rounded up to 4; contents are lost when it grows).
  void reserve(Context& c, size_t bytes, bool readback);
  void* data() const { return mapped_; }
  VkBuffer handle() const { return buffer_; }
  size_t size() const { return size_; }
  // Non-coherent memory needs these around host access; no-ops on coherent memory.
  void flush_to_device(Context& c) const;
  void invalidate_from_device(Context& c) const;

 private:
  void release();
  Context* ctx_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  void* mapped_ = nullptr;
  size_t size_ = 0;
  bool coherent_ = true;
};

// One compute shader: `buffers` storage buffers at bindings 0..buffers-1 of set 0, and `push_bytes` of
// push constants.
class Kernel {
 public:
  Kernel(Context& c, const uint32_t* spirv, size_t spirv_bytes, uint32_t buffers, uint32_t push_bytes);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  // Binds `buffers` (exactly as many as declared), dispatches groups_x * groups_y * groups_z workgroups
  // and waits. Throws std::runtime_error on a Vulkan error.
  void run(const std::vector<const Buffer*>& buffers, const void* push, uint32_t groups_x, uint32_t groups_y,
           uint32_t groups_z = 1);

 private:
  Context& ctx_;
  uint32_t buffers_;
  uint32_t push_bytes_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  VkDescriptorSet set_ = VK_NULL_HANDLE;
};

}  // namespace edgepack::vk
