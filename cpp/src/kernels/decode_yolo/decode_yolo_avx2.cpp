// decode_yolo candidate scan with AVX2.
// AttrsFirst ([4+O+C, N]): 32 anchors per step, four vectors per class row, a running max per lane
// (NaN ignored, as ref); for the few anchors whose score passes, the first class holding the max is
// found by a scalar scan, so class ids equal ref's first-maximum rule.
// AnchorsFirst ([N, 4+O+C]): a lane-wise max over each anchor's contiguous class scores, then
// the scalar scan finds the first class holding that max only for anchors above the threshold.
#include <immintrin.h>

#include <cmath>

#include "decode_yolo_variants.h"

namespace edgepack::kernels {

namespace {
constexpr size_t kVec = 4;  // 32 anchors per step: two cache lines of every class row

// Pass 1 keeps only a running max per lane (max_ps(v, acc) returns acc when v is NaN, so NaN is
// ignored as in ref); the argmax is recovered afterwards for passing anchors only.
void scan_attrs_first(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  const size_t n = p.num_anchors;
  const size_t first_cls = 4 + (p.has_objectness ? 1 : 0);
  const __m256 thr = _mm256_set1_ps(p.score_threshold);
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  size_t i = 0;
  for (; i + 8 * kVec <= n; i += 8 * kVec) {
    __m256 best[kVec];
    for (size_t h = 0; h < kVec; ++h) best[h] = neg_inf;
    const float* row = p.data + first_cls * n + i;
    for (size_t c = 0; c < p.num_classes; ++c, row += n) {
      for (size_t h = 0; h < kVec; ++h) best[h] = _mm256_max_ps(_mm256_loadu_ps(row + 8 * h), best[h]);
    }
    for (size_t h = 0; h < kVec; ++h) {
      __m256 score = best[h];
      if (p.has_objectness) score = _mm256_mul_ps(_mm256_loadu_ps(p.data + 4 * n + i + 8 * h), score);
      const __m256 pass = _mm256_and_ps(_mm256_cmp_ps(score, thr, _CMP_GT_OQ),
                                        _mm256_cmp_ps(best[h], neg_inf, _CMP_NEQ_OQ));
      int bits = _mm256_movemask_ps(pass);
      if (bits == 0) continue;
      alignas(32) float s[8], b[8];
      _mm256_store_ps(s, score);
      _mm256_store_ps(b, best[h]);
      while (bits != 0) {
        const int l = __builtin_ctz(static_cast<unsigned>(bits));
        bits &= bits - 1;
        const size_t a = i + 8 * h + static_cast<size_t>(l);
        const int32_t cls = decode_first_class_ref(p.data + first_cls * n + a, n, p.num_classes, b[l]);
        out->push_back({static_cast<int32_t>(a), cls, s[l]});
      }
    }
  }
  decode_scan_range_ref(p, i, n, out);
}

void scan_anchors_first(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  const size_t first_cls = 4 + (p.has_objectness ? 1 : 0);
  const size_t attrs = first_cls + p.num_classes;
  const size_t c_n = p.num_classes;
  const size_t tail = c_n % 8;
  alignas(32) int32_t mask_bits[8];
  for (size_t l = 0; l < 8; ++l) mask_bits[l] = l < tail ? -1 : 0;
  const __m256i tail_mask = _mm256_load_si256(reinterpret_cast<const __m256i*>(mask_bits));
  const __m256 neg_inf = _mm256_set1_ps(-INFINITY);
  for (size_t i = 0; i < p.num_anchors; ++i) {
    const float* base = p.data + i * attrs;
    const float* cls = base + first_cls;
    __m256 acc = neg_inf;
    size_t c = 0;
    for (; c + 8 <= c_n; c += 8) acc = _mm256_max_ps(_mm256_loadu_ps(cls + c), acc);  // NaN: acc kept
    if (tail != 0) {  // masked load: lanes past the row are never read
      const __m256 v = _mm256_blendv_ps(neg_inf, _mm256_maskload_ps(cls + c, tail_mask),
                                        _mm256_castsi256_ps(tail_mask));
      acc = _mm256_max_ps(v, acc);
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    const float best = _mm_cvtss_f32(m4);
    if (best == -INFINITY) continue;  // no class value above -inf (ref: cls stays -1)
    const float score = p.has_objectness ? base[4] * best : best;
    if (!(score > p.score_threshold)) continue;
    size_t k = 0;
    while (!(cls[k] == best)) ++k;  // the first class holding the maximum
    out->push_back({static_cast<int32_t>(i), static_cast<int32_t>(k), score});
  }
}
}  // namespace

void decode_scan_avx2(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  if (p.layout == YoloLayout::AttrsFirst) {
    scan_attrs_first(p, out);
  } else {
    scan_anchors_first(p, out);
  }
}

}  // namespace edgepack::kernels
