// decode_yolo: validation, ISA dispatch of the candidate scan, then boxes, NMS and the letterbox
// inverse (ISA-independent scalar code: it only touches the few candidates above the threshold).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "decode_yolo_variants.h"

namespace edgepack {

namespace {
using ScanFn = void (*)(const DecodeYoloParams&, std::vector<kernels::YoloCandidate>*);

ScanFn fn_for(Isa isa) {
  switch (isa) {
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return kernels::decode_scan_avx2;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return kernels::decode_scan_neon;
#endif
    default: return kernels::decode_scan_ref;
  }
}

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("decode_yolo: " + what); }

void check(const DecodeYoloParams& p) {
  if (p.num_anchors == 0) fail("the output has no anchors");
  if (p.num_classes == 0) fail("the output has no class scores (need 4 box values + classes per anchor)");
  const size_t attrs = 4 + (p.has_objectness ? 1 : 0) + p.num_classes;
  if (p.num_anchors > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      attrs > std::numeric_limits<size_t>::max() / sizeof(float) / p.num_anchors) {
    fail("output too large");
  }
  if (p.data == nullptr) fail("null buffer");
  if (std::isnan(p.score_threshold)) fail("score_threshold is NaN");
  if (std::isnan(p.iou_threshold)) fail("iou_threshold is NaN");
  const Letterbox& l = p.letterbox;
  if (!(std::isfinite(l.scale_x) && l.scale_x > 0 && std::isfinite(l.scale_y) && l.scale_y > 0)) {
    fail("letterbox scales must be finite and > 0");
  }
  if (!(std::isfinite(l.pad_x) && std::isfinite(l.pad_y))) fail("letterbox pads must be finite");
  if (!(std::isfinite(p.source_width) && p.source_width >= 0 && std::isfinite(p.source_height) &&
        p.source_height >= 0)) {
    fail("source size must be finite and >= 0 (0 = do not clip)");
  }
}

float clip(float v, float hi) { return hi > 0.0f ? std::min(std::max(v, 0.0f), hi) : v; }

Detections finish(const DecodeYoloParams& p, const std::vector<kernels::YoloCandidate>& cand) {
  const size_t n = p.num_anchors;
  const size_t first_cls = 4 + (p.has_objectness ? 1 : 0);
  const size_t a_stride = p.layout == YoloLayout::AttrsFirst ? n : 1;
  const size_t i_stride = p.layout == YoloLayout::AttrsFirst ? 1 : first_cls + p.num_classes;
  std::vector<float> boxes(cand.size() * 4), scores(cand.size());
  std::vector<int32_t> cls(cand.size());
  for (size_t k = 0; k < cand.size(); ++k) {
    const float* base = p.data + static_cast<size_t>(cand[k].anchor) * i_stride;
    const float a = base[0], b = base[a_stride], c = base[2 * a_stride], d = base[3 * a_stride];
    float* o = &boxes[4 * k];
    if (p.box_format == BoxFormat::CxCyWh) {
      const float hw = c * 0.5f, hh = d * 0.5f;
      o[0] = a - hw;
      o[1] = b - hh;
      o[2] = a + hw;
      o[3] = b + hh;
    } else {
      o[0] = a;
      o[1] = b;
      o[2] = c;
      o[3] = d;
    }
    scores[k] = cand[k].score;
    cls[k] = cand[k].cls;
  }
  NmsParams np;
  np.iou_threshold = p.iou_threshold;
  np.max_detections = p.max_detections;
  np.class_agnostic = p.class_agnostic;
  const std::vector<int32_t> keep = nms(boxes.data(), scores.data(), cls.data(), cand.size(), np);

  Detections out;
  out.boxes.resize(keep.size() * 4);
  out.scores.resize(keep.size());
  out.class_ids.resize(keep.size());
  const Letterbox& l = p.letterbox;
  for (size_t j = 0; j < keep.size(); ++j) {
    const float* b = &boxes[4 * static_cast<size_t>(keep[j])];
    float* o = &out.boxes[4 * j];
    o[0] = clip((b[0] - l.pad_x) / l.scale_x, p.source_width);
    o[1] = clip((b[1] - l.pad_y) / l.scale_y, p.source_height);
    o[2] = clip((b[2] - l.pad_x) / l.scale_x, p.source_width);
    o[3] = clip((b[3] - l.pad_y) / l.scale_y, p.source_height);
    out.scores[j] = scores[static_cast<size_t>(keep[j])];
    out.class_ids[j] = cls[static_cast<size_t>(keep[j])];
  }
  return out;
}
}  // namespace

Detections decode_yolo(const DecodeYoloParams& p) {
  static const ScanFn fn = fn_for(active_isa());
  check(p);
  std::vector<kernels::YoloCandidate> cand;
  fn(p, &cand);
  set_last_isa(active_isa());
  return finish(p, cand);
}

Detections decode_yolo(const DecodeYoloParams& p, Isa isa) {
  require_isa(isa);
  check(p);
  std::vector<kernels::YoloCandidate> cand;
  fn_for(isa)(p, &cand);
  set_last_isa(isa);
  return finish(p, cand);
}

}  // namespace edgepack
