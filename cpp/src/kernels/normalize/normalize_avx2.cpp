// normalize with AVX2 (compiled with -mavx2 -mf16c -mfma; only called when the CPU has them).
// 16 pixels per step: C 16-byte loads hold 16 interleaved pixels; one PSHUFB per load gathers the
// bytes of one channel, which are widened to two 8-float vectors, then (v - mean) * scale.
// The last < 16 pixels of a row are copied into a zeroed stack block so no byte past the row is read.
#include <immintrin.h>

#include <cstring>

#include "normalize_variants.h"

namespace edgepack::kernels {

namespace {
constexpr size_t kBlock = 16;

template <int C>
struct RowKernel {
  __m128i mask[kNormalizeMaxChannels][C];
  __m256 mean[kNormalizeMaxChannels];
  __m256 scale[kNormalizeMaxChannels];
  int out_channels;

  explicit RowKernel(const NormalizeParams& p) : out_channels(p.out_channels) {
    for (int c = 0; c < out_channels; ++c) {
      mean[c] = _mm256_set1_ps(p.mean[c]);
      scale[c] = _mm256_set1_ps(p.scale[c]);
      for (int r = 0; r < C; ++r) {
        alignas(16) int8_t m[16];
        for (int j = 0; j < 16; ++j) {
          const int idx = j * C + p.channel[c] - 16 * r;  // byte of pixel j, channel[c], in load r
          m[j] = (idx >= 0 && idx < 16) ? static_cast<int8_t>(idx) : static_cast<int8_t>(-128);
        }
        mask[c][r] = _mm_load_si128(reinterpret_cast<const __m128i*>(m));
      }
    }
  }

  static void store8(float* dst, __m128i bytes8, __m256 mean, __m256 scale) {
    const __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes8));
    _mm256_storeu_ps(dst, _mm256_mul_ps(_mm256_sub_ps(v, mean), scale));
  }

  // src: 16 * C bytes; dst[c]: 16 floats each.
  void block(const uint8_t* src, float* const* dst) const {
    __m128i in[C];
    for (int r = 0; r < C; ++r) in[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16 * r));
    for (int c = 0; c < out_channels; ++c) {
      __m128i b = _mm_shuffle_epi8(in[0], mask[c][0]);
      for (int r = 1; r < C; ++r) b = _mm_or_si128(b, _mm_shuffle_epi8(in[r], mask[c][r]));
      store8(dst[c], b, mean[c], scale[c]);
      store8(dst[c] + 8, _mm_srli_si128(b, 8), mean[c], scale[c]);
    }
  }

  void row(const uint8_t* src, size_t width, float* const* out) const {
    float* dst[kNormalizeMaxChannels];
    size_t x = 0;
    for (; x + kBlock <= width; x += kBlock) {
      for (int c = 0; c < out_channels; ++c) dst[c] = out[c] + x;
      block(src + x * C, dst);
    }
    if (x < width) {
      const size_t n = width - x;
      uint8_t in[kBlock * C] = {};
      float tmp[kNormalizeMaxChannels][kBlock];
      std::memcpy(in, src + x * C, n * C);
      for (int c = 0; c < out_channels; ++c) dst[c] = tmp[c];
      block(in, dst);
      for (int c = 0; c < out_channels; ++c) std::memcpy(out[c] + x, tmp[c], n * sizeof(float));
    }
  }
};

template <int C>
void run(const NormalizeParams& p) {
  const RowKernel<C> k(p);
  const size_t plane = p.width * p.height;
  float* out[kNormalizeMaxChannels];
  for (size_t y = 0; y < p.height; ++y) {
    for (int c = 0; c < p.out_channels; ++c) out[c] = p.dst + static_cast<size_t>(c) * plane + y * p.width;
    k.row(p.src + y * p.src_row_stride, p.width, out);
  }
}
}  // namespace

void normalize_avx2(const NormalizeParams& p) {
  switch (p.in_channels) {
    case 1: run<1>(p); break;
    case 3: run<3>(p); break;
    case 4: run<4>(p); break;
    default: normalize_ref(p); break;  // unreachable: the dispatcher validated in_channels
  }
}

}  // namespace edgepack::kernels
