// SPIR-V modules compiled from shaders/*.comp at build time and embedded (embed_spirv.cmake).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgepack::vk {

struct Shader {
  const char* name;           // file name without .comp
  const unsigned char* code;  // 4-byte aligned SPIR-V
  size_t bytes;
  const uint32_t* words() const { return reinterpret_cast<const uint32_t*>(code); }
};

// The shader built from shaders/<name>.comp, or nullptr.
const Shader* find_shader(const char* name);

}  // namespace edgepack::vk
