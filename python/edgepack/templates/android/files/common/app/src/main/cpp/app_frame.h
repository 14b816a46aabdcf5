// A CameraX ImageProxy in YUV_420_888 -> an edgepack ImageView, without copying when the layout allows.
//
// YUV_420_888 gives three planes, each with a row stride, and the chroma planes with a pixel stride:
//   * chroma pixel stride 1: planar U and V, i.e. I420 (each plane keeps its own row stride);
//   * chroma pixel stride 2 with V one byte before U in memory: interleaved VU rows, i.e. NV21;
//   * chroma pixel stride 2 with U one byte before V: interleaved UV rows, i.e. NV12;
//   * anything else (separate buffers with a pixel stride, or another stride): the chroma samples are
//     gathered into I420 planes in `scratch` (w/2 x h/2 each), the only case that copies.
// The preprocess kernel reads every plane through its row stride, so the padded rows cameras deliver are
// never concatenated or compacted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgepack/preprocess.h"

namespace edgepack_app {

struct Yuv420888 {
  int width = 0, height = 0;
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  size_t y_bytes = 0, u_bytes = 0, v_bytes = 0;  // the plane buffers' capacities (ByteBuffer.capacity)
  size_t y_row_stride = 0, u_row_stride = 0, v_row_stride = 0;
  size_t uv_pixel_stride = 1;
};

// Throws AppError naming the first problem (odd size, a stride smaller than the row, a plane too short).
// `scratch` receives the gathered chroma when needed and must outlive the returned view.
edgepack::ImageView yuv420888_view(const Yuv420888& f, std::vector<uint8_t>* scratch);

}  // namespace edgepack_app
