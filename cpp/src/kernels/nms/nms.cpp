// Greedy NMS (spec in edgepack/postprocess.h). There is no SIMD variant: after the score filter the
// work is a sort plus a few IoUs per candidate, and the exact float32 IoU below *is* the spec.
//
// Speed for thousands of candidates: the score filter runs first; one sort orders candidates by
// (class, score desc, index) so each class is a contiguous run processed on its own (a candidate is
// only compared with kept boxes of its class: no O(N^2) across classes); each class stops at
// max_detections kept; the per-class results are merged by (score desc, index) and cut. Because
// classes never suppress each other, this keeps exactly what one global greedy pass keeps.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgepack/postprocess.h"

namespace edgepack {

namespace {
struct Box {
  float x1, y1, x2, y2, area;
};

inline float iou(const Box& a, const Box& b) {
  const float iw = std::max(0.0f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const float ih = std::max(0.0f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const float inter = iw * ih;
  const float uni = a.area + b.area - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

inline Box load(const float* b) {
  Box o{b[0], b[1], b[2], b[3], 0.0f};
  o.area = std::max(0.0f, o.x2 - o.x1) * std::max(0.0f, o.y2 - o.y1);
  return o;
}
}  // namespace

std::vector<int32_t> nms(const float* boxes, const float* scores, const int32_t* class_ids, size_t n,
                         const NmsParams& p) {
  if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw std::invalid_argument("nms: too many boxes (" + std::to_string(n) + ")");
  }
  if (n > 0 && (boxes == nullptr || scores == nullptr)) throw std::invalid_argument("nms: null buffer");
  if (std::isnan(p.iou_threshold)) throw std::invalid_argument("nms: iou_threshold is NaN");
  const bool by_class = class_ids != nullptr && !p.class_agnostic;
  const size_t limit = p.max_detections == 0 ? n : p.max_detections;

  std::vector<int32_t> order;
  for (size_t i = 0; i < n; ++i) {
    if (scores[i] > p.score_threshold) order.push_back(static_cast<int32_t>(i));  // NaN never passes
  }
  const auto by_rank = [scores](int32_t a, int32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  if (by_class) {
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return class_ids[a] != class_ids[b] ? class_ids[a] < class_ids[b] : by_rank(a, b);
    });
  } else {
    std::sort(order.begin(), order.end(), by_rank);
  }

  std::vector<int32_t> keep;
  std::vector<Box> kept;  // boxes kept in the current class run
  size_t run_start = 0;
  while (run_start < order.size()) {
    size_t run_end = run_start + 1;
    if (by_class) {
      while (run_end < order.size() && class_ids[order[run_end]] == class_ids[order[run_start]]) ++run_end;
    } else {
      run_end = order.size();
    }
    kept.clear();
    for (size_t j = run_start; j < run_end && kept.size() < limit; ++j) {
      const Box b = load(boxes + 4 * static_cast<size_t>(order[j]));
      bool suppressed = false;
      for (const Box& k : kept) {
        if (iou(k, b) > p.iou_threshold) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) {
        kept.push_back(b);
        keep.push_back(order[j]);
      }
    }
    run_start = run_end;
  }
  if (by_class) std::sort(keep.begin(), keep.end(), by_rank);
  if (keep.size() > limit) keep.resize(limit);
  return keep;
}

}  // namespace edgepack
