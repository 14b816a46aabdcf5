// Dispatch and parameter checks for normalize: the one place that maps an Isa to a variant.
#include "edgepack/normalize.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "normalize_variants.h"

namespace edgepack {

namespace {
using NormalizeFn = void (*)(const NormalizeParams&);

NormalizeFn fn_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::normalize_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::normalize_neon;
#endif
    default: return kernels::normalize_ref;
  }
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("normalize: " + what); }
}  // namespace

void set_normalize_std(NormalizeParams* p, const float* std_values) {
  for (int c = 0; c < p->out_channels && c < kNormalizeMaxChannels; ++c) {
    const float s = std_values[c];
    if (!(std::isfinite(s) && s != 0.0f)) fail("std[" + std::to_string(c) + "] must be finite and non-zero");
    p->scale[c] = 1.0f / s;
  }
}

void check_normalize_params(const NormalizeParams& p) {
  const size_t max = std::numeric_limits<size_t>::max();
  if (p.in_channels != 1 && p.in_channels != 3 && p.in_channels != 4) {
    fail("input must have 1, 3 or 4 channels, got " + std::to_string(p.in_channels));
  }
  if (p.out_channels < 1 || p.out_channels > kNormalizeMaxChannels) {
    fail("1 to 4 output channels expected, got " + std::to_string(p.out_channels));
  }
  for (int c = 0; c < p.out_channels; ++c) {
    if (p.channel[c] < 0 || p.channel[c] >= p.in_channels) {
      fail("channel[" + std::to_string(c) + "] = " + std::to_string(p.channel[c]) + " is not an input channel");
    }
  }
  if (p.width == 0 || p.height == 0) fail("image must not be empty");
  if (p.width > max / 4 / static_cast<size_t>(kNormalizeMaxChannels) / p.height) fail("image too large");
  if (p.src_row_stride < p.width * static_cast<size_t>(p.in_channels)) {
    fail("row stride " + std::to_string(p.src_row_stride) + " is smaller than width * channels");
  }
}

namespace {
void check_all(const NormalizeParams& p) {
  check_normalize_params(p);
  if (p.src == nullptr || p.dst == nullptr) fail("null buffer");
}
}  // namespace

void normalize_hwc_to_chw(const NormalizeParams& p) {
  static const NormalizeFn fn = fn_for(active_isa());
  check_all(p);
  fn(p);
  set_last_isa(active_isa());
}

void normalize_hwc_to_chw(const NormalizeParams& p, Isa isa) {
  require_isa(isa);
  check_all(p);
  fn_for(isa)(p);
  set_last_isa(isa);
}

}  // namespace edgepack
