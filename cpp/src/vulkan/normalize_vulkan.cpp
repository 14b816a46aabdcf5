// normalize on the GPU: shaders/normalize.comp over reused host-visible buffers.
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "compute.h"
#include "gpu.h"
#include "shaders.h"

namespace edgepack::vk {

namespace {
struct Push {
  uint32_t width, height, row_stride, in_channels, out_channels;
  uint32_t pad[3];  // std430 aligns the uvec4 that follows to 16 bytes
  uint32_t channel[4];
  float mean[4];
  float scale[4];
};
static_assert(sizeof(Push) == 80, "push constant layout must match shaders/normalize.comp");

struct Resources {
  std::mutex mutex;  // held for a whole call: the buffers are reused
  std::unique_ptr<Kernel> kernel;
  Buffer src, dst;
};
}  // namespace

void normalize_gpu(const NormalizeParams& p) {
  Context& c = *context();
  const size_t src_bytes = (p.height - 1) * p.src_row_stride + p.width * static_cast<size_t>(p.in_channels);
  const size_t dst_bytes = static_cast<size_t>(p.out_channels) * p.width * p.height * sizeof(float);
  if (src_bytes > c.properties.limits.maxStorageBufferRange || dst_bytes > c.properties.limits.maxStorageBufferRange) {
    throw std::invalid_argument("normalize: image too large for the Vulkan device's storage buffers (" +
                                std::to_string(c.properties.limits.maxStorageBufferRange) + " bytes)");
  }
  Push push{};
  push.width = static_cast<uint32_t>(p.width);
  push.height = static_cast<uint32_t>(p.height);
  push.row_stride = static_cast<uint32_t>(p.src_row_stride);
  push.in_channels = static_cast<uint32_t>(p.in_channels);
  push.out_channels = static_cast<uint32_t>(p.out_channels);
  for (int i = 0; i < kNormalizeMaxChannels; ++i) {
    push.channel[i] = static_cast<uint32_t>(p.channel[i]);
    push.mean[i] = p.mean[i];
    push.scale[i] = p.scale[i];
  }
  static Resources r;
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.kernel) {
    const Shader* s = find_shader("normalize");
    if (s == nullptr) throw std::logic_error("normalize.spv is not embedded");
    r.kernel = std::make_unique<Kernel>(c, s->words(), s->bytes, 2, static_cast<uint32_t>(sizeof(Push)));
  }
  r.src.reserve(c, src_bytes, false);
  r.dst.reserve(c, dst_bytes, true);
  std::memcpy(r.src.data(), p.src, src_bytes);
  r.kernel->run({&r.src, &r.dst}, &push, static_cast<uint32_t>((p.width + 15) / 16),
                static_cast<uint32_t>((p.height + 15) / 16));
  std::memcpy(p.dst, r.dst.data(), dst_bytes);
}

}  // namespace edgepack::vk
