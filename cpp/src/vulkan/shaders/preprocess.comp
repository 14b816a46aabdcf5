#version 450
// preprocess on Vulkan: the spec of cpp/include/edgepack/preprocess.h, steps 1-3 in exact integer
// arithmetic (the same formulas as preprocess_ref.cpp), step 4 through the per-channel value tables the
// host computed with the CPU kernel itself. So every output bit equals the ref's.
//
// Outputs are written as 32-bit words (no 8/16-bit storage extensions needed): float32 by one invocation
// per output pixel, float16/uint8/int8 by one invocation per word (2 or 4 elements), so no two
// invocations ever write the same word.
layout(local_size_x = 256) in;

layout(std430, binding = 0) readonly buffer Params {
  int format;       // PixelFormat: 0 RGB888, 1 BGR888, 2 RGBA8888, 3 BGRA8888, 4 GRAY8, 5 NV21, 6 NV12, 7 I420
  int gray;         // 1: one output channel (gray), 0: three
  int nch;          // output channels
  int esz;          // bytes per output element: 4, 2, 1
  int chw;          // 1: CHW, 0: HWC
  int out_w, out_h;
  int pad_x, pad_y;
  int rw, rh;       // resized region inside the output
  int tw, th;       // resampled crop size, in the crop's own orientation
  int rotate;       // 0, 90, 180, 270
  int mirror;
  int crop_x, crop_y;
  int elems;        // output elements
  int words;        // output 32-bit words
  int fx_taps, fx_first, fx_weights;  // horizontal filter: taps, offsets of first[] and weights[] in data[]
  int fy_taps, fy_first, fy_weights;  // vertical filter
  int tables;       // offset of the value tables in data[]: nch * 256 words (element bits, low bytes)
  int chan[3];      // source channel (0 R, 1 G, 2 B) of each output channel
  int pad[3];       // pad pixel value of each output channel
  int plane_off[3]; // byte offset in src[] of row 0 of each plane (rows outside the crop are not uploaded)
  int stride[3];    // row stride in bytes of each plane
} p;

layout(std430, binding = 1) readonly buffer Data { int data[]; };
layout(std430, binding = 2) readonly buffer Src { uint src[]; };  // bytes, 4 per word
layout(std430, binding = 3) writeonly buffer Dst { uint dst[]; };

int byte_at(int offset) { return int((src[offset >> 2] >> uint((offset & 3) * 8)) & 0xFFu); }

int clamp_u8(int v) { return clamp(v, 0, 255); }

// BT.601 video range in OpenCV's fixed point (spec step 1).
ivec3 yuv_to_rgb(int y, int u, int v) {
  const int yy = max(y - 16, 0) * 1220542 + (1 << 19);
  const int uu = u - 128, vv = v - 128;
  return clamp(ivec3((yy + 1673527 * vv) >> 20, (yy - 852492 * vv - 409993 * uu) >> 20, (yy + 2116026 * uu) >> 20),
               0, 255);
}

// Source pixel (x, y) (absolute) as (R, G, B), or (gray, -, -) when p.gray.
ivec3 source_pixel(int x, int y) {
  const int row0 = p.plane_off[0] + y * p.stride[0];
  if (p.format <= 3) {
    const int bpp = p.format <= 1 ? 3 : 4;
    const bool bgr = p.format == 1 || p.format == 3;
    const int px = row0 + x * bpp;
    const int r = byte_at(px + (bgr ? 2 : 0)), g = byte_at(px + 1), b = byte_at(px + (bgr ? 0 : 2));
    if (p.gray != 0) return ivec3((4899 * r + 9617 * g + 1868 * b + 8192) >> 14, 0, 0);
    return ivec3(r, g, b);
  }
  const int luma = byte_at(row0 + x);
  if (p.format == 4 || p.gray != 0) return ivec3(luma);  // GRAY8, or gray from YUV = Y
  const int cx = x >> 1, cy = y >> 1;
  const int c1 = p.plane_off[1] + cy * p.stride[1];
  int u, v;
  if (p.format == 5) {  // NV21: V, U pairs
    v = byte_at(c1 + 2 * cx);
    u = byte_at(c1 + 2 * cx + 1);
  } else if (p.format == 6) {  // NV12: U, V pairs
    u = byte_at(c1 + 2 * cx);
    v = byte_at(c1 + 2 * cx + 1);
  } else {  // I420: U plane, V plane
    u = byte_at(c1 + cx);
    v = byte_at(p.plane_off[2] + cy * p.stride[2] + cx);
  }
  return yuv_to_rgb(luma, u, v);
}

// Resampled crop pixel (s, t), spec step 3: vertical taps first (Q7 intermediate), then horizontal.
ivec3 resampled(int s, int t) {
  const int x0 = p.crop_x + data[p.fx_first + s];
  const int y0 = p.crop_y + data[p.fy_first + t];
  ivec3 acc = ivec3(0);
  for (int i = 0; i < p.fx_taps; ++i) {
    const int wx = data[p.fx_weights + s * p.fx_taps + i];
    if (wx == 0) continue;
    ivec3 vsum = ivec3(0);
    for (int j = 0; j < p.fy_taps; ++j) {
      const int wy = data[p.fy_weights + t * p.fy_taps + j];
      if (wy != 0) vsum += wy * source_pixel(x0 + i, y0 + j);
    }
    acc += wx * ((vsum + 16) >> 5);
  }
  return min((acc + (1 << 18)) >> 19, ivec3(255));
}

// The 8-bit pixel of each output channel at output (X, Y): resampled image or pad (spec step 2).
ivec3 pixel(int X, int Y) {
  int x = X - p.pad_x, y = Y - p.pad_y;
  if (x < 0 || y < 0 || x >= p.rw || y >= p.rh) return ivec3(p.pad[0], p.pad[1], p.pad[2]);
  if (p.mirror != 0) x = p.rw - 1 - x;
  int s = x, t = y;  // invert: rot 90 (X', Y') = (th-1-t, s); 180 (tw-1-s, th-1-t); 270 (t, tw-1-s)
  if (p.rotate == 90) {
    s = y;
    t = p.th - 1 - x;
  } else if (p.rotate == 180) {
    s = p.tw - 1 - x;
    t = p.th - 1 - y;
  } else if (p.rotate == 270) {
    s = p.tw - 1 - y;
    t = x;
  }
  const ivec3 rgb = resampled(s, t);
  return ivec3(rgb[p.chan[0]], rgb[p.chan[1]], rgb[p.chan[2]]);
}

uint value_bits(int c, int v) { return uint(data[p.tables + c * 256 + v]); }

uint element_bits(int e) {
  int c, X, Y;
  if (p.chw != 0) {
    const int plane = p.out_w * p.out_h;
    c = e / plane;
    const int r = e - c * plane;
    Y = r / p.out_w;
    X = r - Y * p.out_w;
  } else {
    const int px = e / p.nch;
    c = e - px * p.nch;
    Y = px / p.out_w;
    X = px - Y * p.out_w;
  }
  return value_bits(c, pixel(X, Y)[c]);
}

void main() {
  const int id = int((gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * gl_WorkGroupSize.x +
                     gl_LocalInvocationID.x);
  if (p.esz == 4) {
    // float32: every element is a whole word, so one invocation per output pixel writes all its channels
    // (one filter pass for the three channels).
    const int pixels = p.out_w * p.out_h;
    if (id >= pixels) return;
    const int Y = id / p.out_w, X = id - Y * p.out_w;
    const ivec3 v = pixel(X, Y);
    for (int c = 0; c < p.nch; ++c) dst[p.chw != 0 ? c * pixels + id : id * p.nch + c] = value_bits(c, v[c]);
    return;
  }
  // float16 / uint8 / int8: one invocation per output word (2 or 4 elements), so no two share a word.
  if (id >= p.words) return;
  const int per_word = 4 / p.esz;
  const uint mask = p.esz == 2 ? 0xFFFFu : 0xFFu;
  uint out_word = 0u;
  for (int k = 0; k < per_word; ++k) {
    const int e = id * per_word + k;
    if (e >= p.elems) break;
    out_word |= (element_bits(e) & mask) << uint(k * p.esz * 8);
  }
  dst[id] = out_word;
}
