// decode_yolo candidate scan with AArch64 Advanced SIMD; same structure as the AVX2 path.
// Both layouts: a lane-wise maxNum (NaN ignored, as ref) over the class scores (AttrsFirst: 16
// anchors per step, four vectors per class row; AnchorsFirst: over each anchor's contiguous row); the
// first class holding the max is found by a scalar scan only for anchors above the threshold.
#include <arm_neon.h>

#include <cmath>

#include "decode_yolo_variants.h"

namespace edgepack::kernels {

namespace {
constexpr size_t kVec = 4;

void scan_attrs_first(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  const size_t n = p.num_anchors;
  const size_t first_cls = 4 + (p.has_objectness ? 1 : 0);
  const float32x4_t thr = vdupq_n_f32(p.score_threshold);
  const float32x4_t neg_inf = vdupq_n_f32(-INFINITY);
  size_t i = 0;
  for (; i + 4 * kVec <= n; i += 4 * kVec) {
    float32x4_t best[kVec];
    for (size_t h = 0; h < kVec; ++h) best[h] = neg_inf;
    const float* row = p.data + first_cls * n + i;
    for (size_t c = 0; c < p.num_classes; ++c, row += n) {
      for (size_t h = 0; h < kVec; ++h) best[h] = vmaxnmq_f32(best[h], vld1q_f32(row + 4 * h));  // NaN ignored
    }
    for (size_t h = 0; h < kVec; ++h) {
      float32x4_t score = best[h];
      if (p.has_objectness) score = vmulq_f32(vld1q_f32(p.data + 4 * n + i + 4 * h), score);
      const uint32x4_t pass = vandq_u32(vcgtq_f32(score, thr), vmvnq_u32(vceqq_f32(best[h], neg_inf)));
      if (vmaxvq_u32(pass) == 0) continue;
      float s[4], b[4];
      uint32_t ok[4];
      vst1q_f32(s, score);
      vst1q_f32(b, best[h]);
      vst1q_u32(ok, pass);
      for (size_t l = 0; l < 4; ++l) {
        if (ok[l] == 0) continue;
        const size_t a = i + 4 * h + l;
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
  for (size_t i = 0; i < p.num_anchors; ++i) {
    const float* base = p.data + i * attrs;
    const float* cls = base + first_cls;
    float32x4_t acc = vdupq_n_f32(-INFINITY);
    size_t c = 0;
    for (; c + 4 <= c_n; c += 4) acc = vmaxnmq_f32(acc, vld1q_f32(cls + c));
    float best = vmaxnmvq_f32(acc);
    for (; c < c_n; ++c) best = cls[c] > best ? cls[c] : best;
    if (best == -INFINITY) continue;  // no class value above -inf (ref: cls stays -1)
    const float score = p.has_objectness ? base[4] * best : best;
    if (!(score > p.score_threshold)) continue;
    size_t k = 0;
    while (!(cls[k] == best)) ++k;  // the first class holding the maximum
    out->push_back({static_cast<int32_t>(i), static_cast<int32_t>(k), score});
  }
}
}  // namespace

void decode_scan_neon(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  if (p.layout == YoloLayout::AttrsFirst) {
    scan_attrs_first(p, out);
  } else {
    scan_anchors_first(p, out);
  }
}

}  // namespace edgepack::kernels
