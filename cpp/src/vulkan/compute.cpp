// Buffers and compute pipelines (see compute.h).
#include "compute.h"

#include <stdexcept>
#include <string>

namespace edgepack::vk {

namespace {
// Host-visible memory, preferring (for readback) cached or (for upload) device-local memory.
uint32_t pick_memory(const Context& c, uint32_t allowed, bool readback, bool* coherent) {
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
  const VkMemoryPropertyFlags bonus =
      readback ? VK_MEMORY_PROPERTY_HOST_CACHED_BIT : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  int best = -1, best_score = -1;
  for (uint32_t i = 0; i < c.memory.memoryTypeCount; ++i) {
    if (!(allowed & (1u << i))) continue;
    const VkMemoryPropertyFlags flags = c.memory.memoryTypes[i].propertyFlags;
    if ((flags & want) != want) continue;
    const int score = ((flags & bonus) ? 2 : 0) + ((flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) ? 1 : 0);
    if (score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  if (best < 0) throw std::runtime_error("Vulkan: the device has no host-visible memory for storage buffers");
  *coherent = (c.memory.memoryTypes[best].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
  return static_cast<uint32_t>(best);
}
}  // namespace

Buffer::~Buffer() { release(); }

void Buffer::release() {
  if (ctx_ == nullptr) return;
  const Functions& f = fn();
  if (mapped_) f.vkUnmapMemory(ctx_->device, memory_);
  if (buffer_) f.vkDestroyBuffer(ctx_->device, buffer_, nullptr);
  if (memory_) f.vkFreeMemory(ctx_->device, memory_, nullptr);
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
  size_ = 0;
}

void Buffer::reserve(Context& c, size_t bytes, bool readback) {
  bytes = (bytes + 3) & ~size_t{3};
  if (bytes == 0) bytes = 4;
  if (ctx_ == &c && bytes <= size_) return;
  release();
  ctx_ = &c;
  const Functions& f = fn();
  VkBufferCreateInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bi.size = bytes;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(f.vkCreateBuffer(c.device, &bi, nullptr, &buffer_), "vkCreateBuffer");
  VkMemoryRequirements req{};
  f.vkGetBufferMemoryRequirements(c.device, buffer_, &req);
  VkMemoryAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = pick_memory(c, req.memoryTypeBits, readback, &coherent_);
  try {
    check(f.vkAllocateMemory(c.device, &ai, nullptr, &memory_), "vkAllocateMemory");
    check(f.vkBindBufferMemory(c.device, buffer_, memory_, 0), "vkBindBufferMemory");
    check(f.vkMapMemory(c.device, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
  } catch (...) {
    release();
    throw;
  }
  size_ = bytes;
}

void Buffer::flush_to_device(Context& c) const {
  if (coherent_ || !memory_) return;
  VkMappedMemoryRange r{};
  r.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
  r.memory = memory_;
  r.size = VK_WHOLE_SIZE;
  check(fn().vkFlushMappedMemoryRanges(c.device, 1, &r), "vkFlushMappedMemoryRanges");
}

void Buffer::invalidate_from_device(Context& c) const {
  if (coherent_ || !memory_) return;
  VkMappedMemoryRange r{};
  r.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE;
  r.memory = memory_;
  r.size = VK_WHOLE_SIZE;
  check(fn().vkInvalidateMappedMemoryRanges(c.device, 1, &r), "vkInvalidateMappedMemoryRanges");
}

Kernel::Kernel(Context& c, const uint32_t* spirv, size_t spirv_bytes, uint32_t buffers, uint32_t push_bytes)
    : ctx_(c), buffers_(buffers), push_bytes_(push_bytes) {
  const Functions& f = fn();
  VkShaderModuleCreateInfo mi{};
  mi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  mi.codeSize = spirv_bytes;
  mi.pCode = spirv;
  check(f.vkCreateShaderModule(c.device, &mi, nullptr, &module_), "vkCreateShaderModule");

  std::vector<VkDescriptorSetLayoutBinding> bindings(buffers);
  for (uint32_t i = 0; i < buffers; ++i) {
    bindings[i] = VkDescriptorSetLayoutBinding{};
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = 1;
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo li{};
  li.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  li.bindingCount = buffers;
  li.pBindings = bindings.data();
  check(f.vkCreateDescriptorSetLayout(c.device, &li, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo pli{};
  pli.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &set_layout_;
  pli.pushConstantRangeCount = push_bytes ? 1 : 0;
  pli.pPushConstantRanges = push_bytes ? &range : nullptr;
  check(f.vkCreatePipelineLayout(c.device, &pli, nullptr, &layout_), "vkCreatePipelineLayout");

  VkComputePipelineCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module_;
  ci.stage.pName = "main";
  ci.layout = layout_;
  check(f.vkCreateComputePipelines(c.device, VK_NULL_HANDLE, 1, &ci, nullptr, &pipeline_),
        "vkCreateComputePipelines");

  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, buffers};
  VkDescriptorPoolCreateInfo pi{};
  pi.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pi.maxSets = 1;
  pi.poolSizeCount = 1;
  pi.pPoolSizes = &ps;
  check(f.vkCreateDescriptorPool(c.device, &pi, nullptr, &pool_), "vkCreateDescriptorPool");
  VkDescriptorSetAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  ai.descriptorPool = pool_;
  ai.descriptorSetCount = 1;
  ai.pSetLayouts = &set_layout_;
  check(f.vkAllocateDescriptorSets(c.device, &ai, &set_), "vkAllocateDescriptorSets");
}

Kernel::~Kernel() {
  const Functions& f = fn();
  if (pool_) f.vkDestroyDescriptorPool(ctx_.device, pool_, nullptr);
  if (pipeline_) f.vkDestroyPipeline(ctx_.device, pipeline_, nullptr);
  if (layout_) f.vkDestroyPipelineLayout(ctx_.device, layout_, nullptr);
  if (set_layout_) f.vkDestroyDescriptorSetLayout(ctx_.device, set_layout_, nullptr);
  if (module_) f.vkDestroyShaderModule(ctx_.device, module_, nullptr);
}

void Kernel::run(const std::vector<const Buffer*>& buffers, const void* push, uint32_t groups_x,
                 uint32_t groups_y, uint32_t groups_z) {
  if (buffers.size() != buffers_) throw std::logic_error("Kernel::run: wrong number of buffers");
  const Functions& f = fn();
  std::lock_guard<std::mutex> lock(ctx_.mutex);
  std::vector<VkDescriptorBufferInfo> infos(buffers_);
  std::vector<VkWriteDescriptorSet> writes(buffers_);
  for (uint32_t i = 0; i < buffers_; ++i) {
    buffers[i]->flush_to_device(ctx_);
    infos[i] = VkDescriptorBufferInfo{buffers[i]->handle(), 0, VK_WHOLE_SIZE};
    writes[i] = VkWriteDescriptorSet{};
    writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[i].dstSet = set_;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = 1;
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[i];
  }
  // Safe to rewrite: the previous submission using this set finished (run waits before returning).
  f.vkUpdateDescriptorSets(ctx_.device, buffers_, writes.data(), 0, nullptr);

  VkCommandBuffer cb = ctx_.command_buffer;
  check(f.vkResetCommandBuffer(cb, 0), "vkResetCommandBuffer");
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  check(f.vkBeginCommandBuffer(cb, &bi), "vkBeginCommandBuffer");
  f.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_);
  f.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, layout_, 0, 1, &set_, 0, nullptr);
  if (push_bytes_) f.vkCmdPushConstants(cb, layout_, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes_, push);
  f.vkCmdDispatch(cb, groups_x, groups_y, groups_z);
  // Shader writes -> host reads after the fence (host writes before the submit are made visible by
  // vkQueueSubmit itself).
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  f.vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                         nullptr, 0, nullptr);
  check(f.vkEndCommandBuffer(cb), "vkEndCommandBuffer");

  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  check(f.vkResetFences(ctx_.device, 1, &ctx_.fence), "vkResetFences");
  check(f.vkQueueSubmit(ctx_.queue, 1, &si, ctx_.fence), "vkQueueSubmit");
  check(f.vkWaitForFences(ctx_.device, 1, &ctx_.fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
  for (const Buffer* b : buffers) b->invalidate_from_device(ctx_);
}

}  // namespace edgepack::vk
