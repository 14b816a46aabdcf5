// preprocess row kernels with AVX2 (compiled with -mavx2 -mf16c -mfma; only called when the CPU has them).
// Exact integer arithmetic, the same operations as the ref row kernels, so the bytes are identical:
//   convert: YUV 4:2:0 -> RGBx 16 pixels per step (int32 lanes for OpenCV's 20-bit coefficients, chroma
//            terms computed once per pair and duplicated), packed RGB/BGR/RGBA/BGRA -> RGBx with PSHUFB.
//   vfilter: pairs of rows widened to int16 and combined with PMADDWD (weights paired), 16 bytes per step.
//   hfilter: RGBx: per output pixel, taps paired with PMADDWD over the 4 channels.
// Gray rows and the few pixels at row ends go through the ref kernels.
#include <immintrin.h>

#include <cstring>

#include "preprocess_variants.h"

namespace edgepack::kernels {

namespace {

// 16 pixels of 4:2:0 -> 64 bytes RGBx. y: 16 luma bytes; vv/uu: 8 chroma pairs as int32 (value - 128).
inline void yuv16(__m128i y, __m256i vv, __m256i uu, uint8_t* dst) {
  const __m256i half = _mm256_set1_epi32(1 << 19);
  const __m256i rv = _mm256_add_epi32(_mm256_mullo_epi32(vv, _mm256_set1_epi32(1673527)), half);
  const __m256i gv = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(vv, _mm256_set1_epi32(-852492)),
                                                       _mm256_mullo_epi32(uu, _mm256_set1_epi32(-409993))),
                                      half);
  const __m256i bu = _mm256_add_epi32(_mm256_mullo_epi32(uu, _mm256_set1_epi32(2116026)), half);
  const __m128i ys = _mm_subs_epu8(y, _mm_set1_epi8(16));  // max(Y - 16, 0)
  const __m256i cy = _mm256_set1_epi32(1220542);
  const __m256i dup_lo = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), dup_hi = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
  __m256i ch[3][2];
  for (int h = 0; h < 2; ++h) {
    const __m256i yy = _mm256_mullo_epi32(_mm256_cvtepu8_epi32(h ? _mm_srli_si128(ys, 8) : ys), cy);
    const __m256i idx = h ? dup_hi : dup_lo;
    ch[0][h] = _mm256_srai_epi32(_mm256_add_epi32(yy, _mm256_permutevar8x32_epi32(rv, idx)), 20);
    ch[1][h] = _mm256_srai_epi32(_mm256_add_epi32(yy, _mm256_permutevar8x32_epi32(gv, idx)), 20);
    ch[2][h] = _mm256_srai_epi32(_mm256_add_epi32(yy, _mm256_permutevar8x32_epi32(bu, idx)), 20);
  }
  __m128i b8[3];
  for (int c = 0; c < 3; ++c) {
    // packs works per 128-bit lane: fix the order, then saturate int16 -> uint8 (the clamp to [0, 255]).
    const __m256i s16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(ch[c][0], ch[c][1]), 0xD8);
    b8[c] = _mm_packus_epi16(_mm256_castsi256_si128(s16), _mm256_extracti128_si256(s16, 1));
  }
  const __m128i a = _mm_set1_epi8(-1);
  const __m128i rg_lo = _mm_unpacklo_epi8(b8[0], b8[1]), rg_hi = _mm_unpackhi_epi8(b8[0], b8[1]);
  const __m128i ba_lo = _mm_unpacklo_epi8(b8[2], a), ba_hi = _mm_unpackhi_epi8(b8[2], a);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(rg_lo, ba_lo));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(rg_lo, ba_lo));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(rg_hi, ba_hi));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(rg_hi, ba_hi));
}

void convert_yuv(const ImageView& s, int y, int x0, int w, uint8_t* dst) {
  const uint8_t* yrow = s.plane[0] + static_cast<size_t>(y) * s.stride[0];
  const size_t cy = static_cast<size_t>(y / 2);
  const uint8_t* c1 = s.plane[1] + cy * s.stride[1];
  const uint8_t* c2 = s.format == PixelFormat::I420 ? s.plane[2] + cy * s.stride[2] : nullptr;
  int x = 0;
  if (x0 & 1) {  // blocks start on an even source column so each chroma sample covers a pixel pair
    convert_row_ref(s, y, x0, 1, false, dst);
    x = 1;
  }
  const __m256i lo16 = _mm256_set1_epi32(0xffff), c128 = _mm256_set1_epi32(128);
  for (; x + 16 <= w; x += 16) {
    const int sx = x0 + x;
    const __m128i yv = _mm_loadu_si128(reinterpret_cast<const __m128i*>(yrow + sx));
    __m256i vv, uu;
    if (c2 == nullptr) {
      const __m256i pairs = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c1 + sx)));
      const __m256i first = _mm256_sub_epi32(_mm256_and_si256(pairs, lo16), c128);
      const __m256i second = _mm256_sub_epi32(_mm256_srli_epi32(pairs, 16), c128);
      const bool nv21 = s.format == PixelFormat::NV21;
      vv = nv21 ? first : second;
      uu = nv21 ? second : first;
    } else {
      uu = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c1 + sx / 2))), c128);
      vv = _mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c2 + sx / 2))), c128);
    }
    yuv16(yv, vv, uu, dst + 4 * static_cast<size_t>(x));
  }
  if (x < w) convert_row_ref(s, y, x0 + x, w - x, false, dst + 4 * static_cast<size_t>(x));
}

// Packed 3- or 4-byte pixels -> RGBx, 4 pixels per 16-byte load; the load never passes the row end.
void convert_packed(const ImageView& s, int y, int x0, int w, uint8_t* dst) {
  const int bpp = pixel_format_bpp(s.format);
  const bool bgr = s.format == PixelFormat::BGR888 || s.format == PixelFormat::BGRA8888;
  const uint8_t* row = s.plane[0] + static_cast<size_t>(y) * s.stride[0] + static_cast<size_t>(x0) * static_cast<size_t>(bpp);
  alignas(16) int8_t m[16];
  for (int p = 0; p < 4; ++p) {
    m[4 * p] = static_cast<int8_t>(bpp * p + (bgr ? 2 : 0));
    m[4 * p + 1] = static_cast<int8_t>(bpp * p + 1);
    m[4 * p + 2] = static_cast<int8_t>(bpp * p + (bgr ? 0 : 2));
    m[4 * p + 3] = -128;
  }
  const __m128i mask = _mm_load_si128(reinterpret_cast<const __m128i*>(m));
  const __m128i alpha = _mm_set1_epi32(static_cast<int>(0xff000000u));
  int x = 0;
  // 16 bytes are read per 4 pixels: stop while 16 bytes still lie inside the w pixels.
  for (; static_cast<size_t>(x) * static_cast<size_t>(bpp) + 16 <= static_cast<size_t>(w) * static_cast<size_t>(bpp); x += 4) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + static_cast<size_t>(x) * static_cast<size_t>(bpp)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 4 * static_cast<size_t>(x)), _mm_or_si128(_mm_shuffle_epi8(v, mask), alpha));
  }
  if (x < w) convert_row_ref(s, y, x0 + x, w - x, false, dst + 4 * static_cast<size_t>(x));
}

void convert_avx2(const ImageView& s, int y, int x0, int w, bool gray, uint8_t* dst) {
  if (gray || s.format == PixelFormat::GRAY8) return convert_row_ref(s, y, x0, w, gray, dst);
  if (s.format == PixelFormat::NV21 || s.format == PixelFormat::NV12 || s.format == PixelFormat::I420) {
    return convert_yuv(s, y, x0, w, dst);
  }
  convert_packed(s, y, x0, w, dst);
}

void vfilter_avx2(const uint8_t* const* rows, const int16_t* w, int n, size_t len, int16_t* dst) {
  size_t k = 0;
  const __m256i round = _mm256_set1_epi32(16);
  for (; k + 16 <= len; k += 16) {
    __m256i lo = round, hi = round;
    for (int j = 0; j < n; j += 2) {
      const __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[j] + k)));
      const bool pair = j + 1 < n;
      const __m256i b = pair ? _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[j + 1] + k)))
                             : _mm256_setzero_si256();
      const int wb = pair ? w[j + 1] : 0;
      const __m256i wp = _mm256_set1_epi32(static_cast<int>((static_cast<uint32_t>(wb) << 16) | static_cast<uint16_t>(w[j])));
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
    }
    const __m256i r = _mm256_packs_epi32(_mm256_srai_epi32(lo, 5), _mm256_srai_epi32(hi, 5));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), r);
  }
  for (; k < len; ++k) {
    int acc = 0;
    for (int j = 0; j < n; ++j) acc += w[j] * rows[j][k];
    dst[k] = static_cast<int16_t>((acc + 16) >> 5);
  }
}

void hfilter_avx2(const int16_t* src, const AxisFilter& f, int C, uint8_t* dst) {
  if (C != 4) return hfilter_ref(src, f, C, dst);
  const size_t taps = static_cast<size_t>(f.taps);
  // Weight pairs per output pixel, built once per call: (w[k], w[k+1]) as one int32.
  const size_t npairs = (taps + 1) / 2;
  const __m128i round = _mm_set1_epi32(1 << 18), maxv = _mm_set1_epi32(255);
  for (int i = 0; i < f.out_len; ++i) {
    const int16_t* wt = f.weights.data() + static_cast<size_t>(i) * taps;
    const int16_t* px = src + static_cast<size_t>(f.first[static_cast<size_t>(i)]) * 4;
    __m128i acc = round;
    for (size_t q = 0; q < npairs; ++q) {
      const size_t k = 2 * q;
      const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(px + 4 * k));
      const bool pair = k + 1 < taps;
      const __m128i b = pair ? _mm_loadl_epi64(reinterpret_cast<const __m128i*>(px + 4 * (k + 1))) : _mm_setzero_si128();
      const int wb = pair ? wt[k + 1] : 0;
      const __m128i wp = _mm_set1_epi32(static_cast<int>((static_cast<uint32_t>(wb) << 16) | static_cast<uint16_t>(wt[k])));
      acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_unpacklo_epi16(a, b), wp));
    }
    const __m128i v = _mm_min_epi32(_mm_srai_epi32(acc, 19), maxv);
    const __m128i b8 = _mm_packus_epi16(_mm_packs_epi32(v, v), _mm_setzero_si128());
    const int word = _mm_cvtsi128_si32(b8);
    std::memcpy(dst + 4 * static_cast<size_t>(i), &word, 4);
  }
}

// 8 RGBx pixels per step: each pixel is one int32 lane, so a channel is a shift and a mask away.
void write_f32_avx2(const uint8_t* row, int n, const int* chan, const float* mean, const float* scale,
                    float* const* dst) {
  __m256 m[3], k[3];
  for (int c = 0; c < 3; ++c) {
    m[c] = _mm256_set1_ps(mean[c]);
    k[c] = _mm256_set1_ps(scale[c]);
  }
  const __m256i byte = _mm256_set1_epi32(0xff);
  const __m128i sh[3] = {_mm_cvtsi32_si128(8 * chan[0]), _mm_cvtsi32_si128(8 * chan[1]), _mm_cvtsi32_si128(8 * chan[2])};
  int s = 0;
  for (; s + 8 <= n; s += 8) {
    const __m256i px = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 4 * static_cast<size_t>(s)));
    for (int c = 0; c < 3; ++c) {
      const __m256 v = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srl_epi32(px, sh[c]), byte));
      _mm256_storeu_ps(dst[c] + s, _mm256_mul_ps(_mm256_sub_ps(v, m[c]), k[c]));
    }
  }
  write_f32_ref(row, s, n, chan, mean, scale, dst);
}

}  // namespace

RowOps row_ops_avx2() { return RowOps{convert_avx2, vfilter_avx2, hfilter_avx2, write_f32_avx2}; }

}  // namespace edgepack::kernels
