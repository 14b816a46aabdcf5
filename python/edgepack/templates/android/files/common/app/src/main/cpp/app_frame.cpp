// YUV_420_888 planes -> ImageView (see app_frame.h for the layouts).
#include "app_frame.h"

#include <string>

#include "app_engine.h"

namespace edgepack_app {

namespace {

// The bytes a plane of `rows` rows, `row_bytes` readable bytes each, spans with `row_stride`.
size_t span(size_t rows, size_t row_stride, size_t row_bytes) { return rows == 0 ? 0 : (rows - 1) * row_stride + row_bytes; }

void need(bool ok, const std::string& what) {
  if (!ok) throw AppError("camera frame: " + what);
}

}  // namespace

edgepack::ImageView yuv420888_view(const Yuv420888& f, std::vector<uint8_t>* scratch) {
  need(f.width > 0 && f.height > 0 && f.width % 2 == 0 && f.height % 2 == 0,
       "size " + std::to_string(f.width) + "x" + std::to_string(f.height) + " must be positive and even (4:2:0)");
  need(f.y && f.u && f.v, "a plane has no direct buffer");
  const auto w = static_cast<size_t>(f.width), h = static_cast<size_t>(f.height), cw = w / 2, ch = h / 2;
  need(f.y_row_stride >= w, "Y row stride " + std::to_string(f.y_row_stride) + " is less than the width");
  need(f.y_bytes >= span(h, f.y_row_stride, w), "the Y plane is shorter than height x row stride");
  need(f.uv_pixel_stride >= 1, "chroma pixel stride must be at least 1");
  const size_t ps = f.uv_pixel_stride;
  const size_t chroma_row = (cw - 1) * ps + 1;  // readable bytes of one chroma row
  need(f.u_row_stride >= chroma_row && f.v_row_stride >= chroma_row, "a chroma row stride is less than its row");
  need(f.u_bytes >= span(ch, f.u_row_stride, chroma_row) && f.v_bytes >= span(ch, f.v_row_stride, chroma_row),
       "a chroma plane is shorter than its rows");

  edgepack::ImageView v;
  v.width = f.width;
  v.height = f.height;
  v.plane[0] = f.y;
  v.stride[0] = f.y_row_stride;
  if (ps == 1) {
    v.format = edgepack::PixelFormat::I420;
    v.plane[1] = f.u;
    v.plane[2] = f.v;
    v.stride[1] = f.u_row_stride;
    v.stride[2] = f.v_row_stride;
    return v;
  }
  if (ps == 2 && f.u_row_stride == f.v_row_stride && (f.v + 1 == f.u || f.u + 1 == f.v)) {
    // one interleaved buffer seen through two planes: every row of 2 * cw bytes lies inside the pair
    const bool vu = f.v + 1 == f.u;
    v.format = vu ? edgepack::PixelFormat::NV21 : edgepack::PixelFormat::NV12;
    v.plane[1] = vu ? f.v : f.u;
    v.stride[1] = f.u_row_stride;
    return v;
  }
  scratch->resize(2 * cw * ch);
  uint8_t* u = scratch->data();
  uint8_t* vv = u + cw * ch;
  for (size_t r = 0; r < ch; ++r) {
    const uint8_t* su = f.u + r * f.u_row_stride;
    const uint8_t* sv = f.v + r * f.v_row_stride;
    for (size_t c = 0; c < cw; ++c) {
      u[r * cw + c] = su[c * ps];
      vv[r * cw + c] = sv[c * ps];
    }
  }
  v.format = edgepack::PixelFormat::I420;
  v.plane[1] = u;
  v.plane[2] = vv;
  v.stride[1] = v.stride[2] = cw;
  return v;
}

}  // namespace edgepack_app
