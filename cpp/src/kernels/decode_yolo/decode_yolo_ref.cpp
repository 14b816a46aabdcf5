// Scalar specification of the decode_yolo candidate scan (see edgepack/postprocess.h).
#include <cmath>

#include "decode_yolo_variants.h"

namespace edgepack::kernels {

void decode_scan_range_ref(const DecodeYoloParams& p, size_t begin, size_t end, std::vector<YoloCandidate>* out) {
  const size_t n = p.num_anchors;
  const size_t first_cls = 4 + (p.has_objectness ? 1 : 0);
  const size_t attrs = first_cls + p.num_classes;
  // Attribute a of anchor i lives at data[a * a_stride + i * i_stride].
  const size_t a_stride = p.layout == YoloLayout::AttrsFirst ? n : 1;
  const size_t i_stride = p.layout == YoloLayout::AttrsFirst ? 1 : attrs;
  for (size_t i = begin; i < end; ++i) {
    const float* base = p.data + i * i_stride;
    float best = -INFINITY;
    int32_t cls = -1;
    for (size_t c = 0; c < p.num_classes; ++c) {
      const float v = base[(first_cls + c) * a_stride];
      if (v > best) {  // first maximum wins; NaN never does
        best = v;
        cls = static_cast<int32_t>(c);
      }
    }
    if (cls < 0) continue;
    const float score = p.has_objectness ? base[4 * a_stride] * best : best;
    if (score > p.score_threshold) out->push_back({static_cast<int32_t>(i), cls, score});
  }
}

int32_t decode_first_class_ref(const float* cls_row0, size_t n, size_t num_classes, float best) {
  for (size_t c = 0; c < num_classes; ++c) {
    if (cls_row0[c * n] == best) return static_cast<int32_t>(c);
  }
  return -1;  // unreachable when best is one of the values
}

void decode_scan_ref(const DecodeYoloParams& p, std::vector<YoloCandidate>* out) {
  decode_scan_range_ref(p, 0, p.num_anchors, out);
}

}  // namespace edgepack::kernels
