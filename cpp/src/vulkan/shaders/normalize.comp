#version 450
// normalize on Vulkan: uint8 HWC -> float32 CHW, the spec of cpp/include/edgepack/normalize.h:
//   out[c][y][x] = (float(in[y][x][channel[c]]) - mean[c]) * scale[c]
// `precise` forbids contraction, so the two float32 operations round separately, as in the ref
// (Vulkan requires correctly rounded add/sub/mul).
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) readonly buffer Src { uint src[]; };  // bytes, packed 4 per word
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };

layout(push_constant) uniform Params {
  uint width;
  uint height;
  uint row_stride;
  uint in_channels;
  uint out_channels;
  uvec4 channel;
  vec4 mean;
  vec4 scale;
} p;

uint load_byte(uint offset) { return (src[offset >> 2] >> ((offset & 3u) * 8u)) & 0xFFu; }

void main() {
  const uint x = gl_GlobalInvocationID.x;
  const uint y = gl_GlobalInvocationID.y;
  if (x >= p.width || y >= p.height) return;
  const uint pixel = y * p.row_stride + x * p.in_channels;
  const uint plane = p.width * p.height;
  for (uint c = 0u; c < p.out_channels; ++c) {
    precise float v = (float(load_byte(pixel + p.channel[c])) - p.mean[c]) * p.scale[c];
    dst[c * plane + y * p.width + x] = v;
  }
}
