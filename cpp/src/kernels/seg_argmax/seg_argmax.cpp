// seg_argmax: validation, ISA dispatch, and the nearest-neighbour sampling to the output size.
// Only the network rows that some output row samples are reduced, each once.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgepack/postprocess.h"
#include "seg_argmax_variants.h"

namespace edgepack {

namespace {
using PlanesFn = void (*)(const float*, size_t, size_t, size_t, uint8_t*);

PlanesFn fn_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::seg_argmax_planes_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::seg_argmax_planes_neon;
#endif
    default: return kernels::seg_argmax_planes_ref;
  }
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("seg_argmax: " + what); }

void check(const SegArgmaxParams& p) {
  if (p.channels == 0 || p.channels > 256) {
    fail("1 to 256 classes expected (the mask is uint8), got " + std::to_string(p.channels));
  }
  if (p.height == 0 || p.width == 0) fail("logits must not be empty");
  if (p.out_height == 0 || p.out_width == 0) fail("output size must not be empty");
  const size_t max = std::numeric_limits<size_t>::max() / sizeof(float);
  if (p.width > max / p.height / p.channels || p.out_width > max / p.out_height) fail("too large");
  if (p.logits == nullptr || p.mask == nullptr) fail("null buffer");
  if (p.use_letterbox) {
    const Letterbox& l = p.letterbox;
    if (!(std::isfinite(l.scale_x) && l.scale_x > 0 && std::isfinite(l.scale_y) && l.scale_y > 0)) {
      fail("letterbox scales must be finite and > 0");
    }
    if (!(std::isfinite(l.pad_x) && std::isfinite(l.pad_y))) fail("letterbox pads must be finite");
  }
}

// Network index sampled by output pixel i: floor((i + 0.5f) * scale + pad), clamped to [0, size - 1].
std::vector<size_t> sample_table(size_t out_size, size_t size, float scale, float pad) {
  std::vector<size_t> t(out_size);
  for (size_t i = 0; i < out_size; ++i) {
    const float u = std::floor((static_cast<float>(i) + 0.5f) * scale + pad);
    t[i] = u < 0.0f ? 0 : (u >= static_cast<float>(size) ? size - 1 : static_cast<size_t>(u));
  }
  return t;
}

void run(PlanesFn fn, const SegArgmaxParams& p) {
  const size_t plane = p.height * p.width;
  if (!p.use_letterbox && p.out_height == p.height && p.out_width == p.width) {
    fn(p.logits, p.channels, plane, plane, p.mask);
    return;
  }
  const float sx =
      p.use_letterbox ? p.letterbox.scale_x : static_cast<float>(p.width) / static_cast<float>(p.out_width);
  const float sy =
      p.use_letterbox ? p.letterbox.scale_y : static_cast<float>(p.height) / static_cast<float>(p.out_height);
  const float px = p.use_letterbox ? p.letterbox.pad_x : 0.0f;
  const float py = p.use_letterbox ? p.letterbox.pad_y : 0.0f;
  const std::vector<size_t> xs = sample_table(p.out_width, p.width, sx, px);
  const std::vector<size_t> ys = sample_table(p.out_height, p.height, sy, py);
  std::vector<uint8_t> row(p.width);
  size_t have = std::numeric_limits<size_t>::max();
  for (size_t y = 0; y < p.out_height; ++y) {
    if (ys[y] != have) {
      have = ys[y];
      fn(p.logits + have * p.width, p.channels, plane, p.width, row.data());
    }
    uint8_t* o = p.mask + y * p.out_width;
    for (size_t x = 0; x < p.out_width; ++x) o[x] = row[xs[x]];
  }
}
}  // namespace

void seg_argmax(const SegArgmaxParams& p) {
  static const PlanesFn fn = fn_for(active_isa());
  check(p);
  run(fn, p);
  set_last_isa(active_isa());
}

void seg_argmax(const SegArgmaxParams& p, Isa isa) {
  require_isa(isa);
  check(p);
  run(fn_for(isa), p);
  set_last_isa(isa);
}

}  // namespace edgepack
