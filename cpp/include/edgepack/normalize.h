// uint8 HWC image -> float32 CHW planes with per-channel mean/std.
//
// Spec (every path is bit-identical to the scalar ref in normalize_ref.cpp):
//   scale[c] = 1.0f / std[c]                     (float32 division, done once by the dispatcher)
//   out[c][y][x] = (float(in[y][x][channel[c]]) - mean[c]) * scale[c]
// evaluated in float32 with two separately rounded operations (no FMA contraction), so results can
// differ from (v - mean) / std by at most ~1 ulp, and not at all between paths.
// channel[c] selects the input channel for output plane c (identity, BGR->RGB (2,1,0), RGBA->RGB
// (0,1,2) ...). Input rows may be padded: row y starts at src + y * src_row_stride (bytes).
// Output planes are contiguous: plane c starts at dst + c * height * width.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgepack/cpu.h"

namespace edgepack {

constexpr int kNormalizeMaxChannels = 4;

struct NormalizeParams {
  const uint8_t* src = nullptr;
  size_t src_row_stride = 0;  // bytes, >= width * in_channels
  size_t width = 0;
  size_t height = 0;
  int in_channels = 0;   // 1, 3 or 4
  int out_channels = 0;  // 1 .. kNormalizeMaxChannels
  int channel[kNormalizeMaxChannels] = {0, 1, 2, 3};  // input channel for each output plane
  float mean[kNormalizeMaxChannels] = {0, 0, 0, 0};
  float scale[kNormalizeMaxChannels] = {1, 1, 1, 1};  // 1 / std
  float* dst = nullptr;  // out_channels * height * width floats
};

// Fills scale[] from std (1.0f / std[c]); throws std::invalid_argument on a zero or non-finite std.
void set_normalize_std(NormalizeParams* p, const float* std_values);
// Throws std::invalid_argument describing the first problem with the geometry (channels, sizes,
// stride). The entry points below call it, and also reject null src/dst.
void check_normalize_params(const NormalizeParams& p);

void normalize_hwc_to_chw(const NormalizeParams& p);            // active_isa()
void normalize_hwc_to_chw(const NormalizeParams& p, Isa isa);   // throws if isa unusable

}  // namespace edgepack
