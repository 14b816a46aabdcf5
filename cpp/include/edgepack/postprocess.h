// Post-processing kernels: softmax + top-k, NMS, YOLO-style anchor-free decode, segmentation argmax,
// and the calibration histogram. The scalar refs (src/kernels/<k>/<k>_ref.cpp) are the specification;
// every SIMD path gives identical integer/selection results (indices, class ids, masks, histogram
// counts, kept boxes) and float results within 1e-5 relative (softmax) or identical (boxes, scores).
//
// Every entry point without an Isa argument uses active_isa(); the overloads taking an Isa throw
// std::invalid_argument when that ISA is not usable here. All entry points throw std::invalid_argument
// on bad geometry (zero sizes, k > classes, ...). Buffers need no particular alignment.
//
// Shared definitions
//   * Ranking: "score descending, ties by lower index first" everywhere (a strict total order, so
//     every path selects the same elements in the same order). NaN scores are never selected / kept.
//   * Argmax over classes: the first index holding the largest value; NaN values are ignored (an
//     all-NaN row has no maximum: decode drops that anchor, seg_argmax writes class 0).
//   * IoU of two x1,y1,x2,y2 boxes, in float32, operation by operation (no FMA):
//       area(b) = max(0, x2 - x1) * max(0, y2 - y1)
//       inter   = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
//       uni     = area(a) + area(b) - inter
//       IoU     = uni > 0 ? inter / uni : 0          (so zero-area boxes never suppress anything)
//     A box is suppressed when IoU > iou_threshold (strictly greater, as OpenCV's NMSBoxes and
//     torchvision do): with iou_threshold = 0.5 a box overlapping a kept box by exactly 0.5 is kept.
//   * Letterbox inverse: src = (dst - pad) / scale, per axis, in float32; then clipped to
//     [0, source_width] x [0, source_height] when a source size is given.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgepack/cpu.h"

namespace edgepack {

// Mapping from network-input pixels back to source pixels: src = (dst - pad) / scale.
// Identity by default. What a letterbox resize returns: scale = resized / source, pad = offset.
struct Letterbox {
  float scale_x = 1.0f;
  float scale_y = 1.0f;
  float pad_x = 0.0f;
  float pad_y = 0.0f;
};

// ------------------------------------------------------------------------------- softmax + top-k
// logits: rows x cols floats (row-major). Row-wise softmax:
//   m = max(row) (NaN ignored), e[i] = exp(x[i] - m), out[i] = e[i] / sum(e).
// A row containing NaN gives NaN outputs. out may equal in (in place); otherwise no overlap.
void softmax(const float* in, float* out, size_t rows, size_t cols);
void softmax(const float* in, float* out, size_t rows, size_t cols, Isa isa);

// Top-k per row: the k largest logits (ranking above; NaN ranks below everything), written to
// indices[r*k .. r*k+k) and values[r*k ..] in rank order. Selection uses the raw logits (so it is
// exact and identical on every path); with apply_softmax the values are the row's softmax
// probabilities of the selected entries, else the raw logits. 1 <= k <= cols.
void topk(const float* logits, size_t rows, size_t cols, size_t k, bool apply_softmax, float* values,
          int32_t* indices);
void topk(const float* logits, size_t rows, size_t cols, size_t k, bool apply_softmax, float* values,
          int32_t* indices, Isa isa);

// ------------------------------------------------------------------------------------------- NMS
// Greedy NMS: candidates with score > score_threshold (NaN never passes) are visited in ranking order;
// a candidate is kept unless a kept box (of the same class, when class_ids is given and
// class_agnostic is false) has IoU > iou_threshold with it. Stops after max_detections kept boxes
// (0 = no limit). boxes: n x 4 floats x1,y1,x2,y2; class_ids may be null (class-agnostic).
// Returns the kept indices in ranking order.
struct NmsParams {
  float iou_threshold = 0.45f;
  float score_threshold = -INFINITY;  // keep everything that is not NaN by default
  size_t max_detections = 0;          // 0 = no limit
  bool class_agnostic = false;        // ignore class_ids even when given
};
std::vector<int32_t> nms(const float* boxes, const float* scores, const int32_t* class_ids, size_t n,
                         const NmsParams& p);

// ----------------------------------------------------------------------------------- YOLO decode
// Anchor-free YOLO head output (YOLOv8/v11 style), one image:
//   AttrsFirst:   [4 + O + C, N]  (what YOLOv8 exports: 84 x 8400 for COCO)
//   AnchorsFirst: [N, 4 + O + C]  (transposed / YOLOv5-style rows)
// Attributes per anchor: 4 box values, then O = 1 objectness value if has_objectness, then C class
// scores (already activated: probabilities). Per anchor: cls = argmax of the class scores (first max,
// NaN ignored), score = class_score[cls] (times objectness when has_objectness). Anchors with
// score > score_threshold become candidates; boxes are taken as cx,cy,w,h (x1 = cx - w*0.5, ...) or
// x1,y1,x2,y2, in network-input pixels. NMS (above; class-aware unless class_agnostic) runs on those
// network-space boxes, as Ultralytics does; then the kept boxes go through the letterbox inverse and
// are clipped to the source size when source_width/height > 0.
enum class YoloLayout { AttrsFirst = 0, AnchorsFirst = 1 };
enum class BoxFormat { CxCyWh = 0, Xyxy = 1 };

struct DecodeYoloParams {
  const float* data = nullptr;
  size_t num_anchors = 0;  // N
  size_t num_classes = 0;  // C
  YoloLayout layout = YoloLayout::AttrsFirst;
  BoxFormat box_format = BoxFormat::CxCyWh;
  bool has_objectness = false;
  float score_threshold = 0.25f;
  float iou_threshold = 0.45f;
  size_t max_detections = 300;  // 0 = no limit
  bool class_agnostic = false;
  Letterbox letterbox;
  float source_width = 0.0f;   // > 0: clip x to [0, source_width]
  float source_height = 0.0f;  // > 0: clip y to [0, source_height]
};

struct Detections {
  std::vector<float> boxes;        // K x 4: x1, y1, x2, y2 in source pixels
  std::vector<float> scores;       // K, descending (ties by lower anchor index)
  std::vector<int32_t> class_ids;  // K
  size_t size() const { return scores.size(); }
};

Detections decode_yolo(const DecodeYoloParams& p);
Detections decode_yolo(const DecodeYoloParams& p, Isa isa);

// ------------------------------------------------------------------------------ segmentation argmax
// logits: [C, H, W] floats (1 <= C <= 256). mask: out_height x out_width uint8 class ids.
// Output pixel (x, y) samples the logits at the nearest network pixel of its centre:
//   u = floor((x + 0.5f) * sx + pad_x), v = floor((y + 0.5f) * sy + pad_y)  (float32, clamped to
//   [0, W-1] / [0, H-1]), where (sx, sy) = letterbox scale if given, else (W / out_width, H / out_height).
// With out size == (W, H) and no letterbox this is the plain per-pixel argmax.
struct SegArgmaxParams {
  const float* logits = nullptr;
  size_t channels = 0;
  size_t height = 0;
  size_t width = 0;
  uint8_t* mask = nullptr;
  size_t out_height = 0;
  size_t out_width = 0;
  bool use_letterbox = false;
  Letterbox letterbox;  // network = source * scale + pad (the forward mapping of the letterbox)
};
void seg_argmax(const SegArgmaxParams& p);
void seg_argmax(const SegArgmaxParams& p, Isa isa);

// --------------------------------------------------------------------------- calibration histogram
// abs_max: the largest |x| over n floats, NaN ignored (0 when n == 0 or all NaN; may be inf).
float abs_max(const float* x, size_t n);
float abs_max(const float* x, size_t n, Isa isa);

// Adds the histogram of |x| over [0, max_value] with num_bins equal bins into bins[0 .. num_bins):
//   bin = min(num_bins - 1, (int)(|x| * (float(num_bins) / max_value)))   (float32, truncation)
// so a value on an inner bin edge goes to the upper bin, and |x| >= max_value (inf too) goes to the
// last bin (as ncnn2table clamps). NaN is skipped; zeros are skipped when ignore_zeros (ncnn2table's
// KL histograms skip zeros). max_value must be finite and > 0, except that max_value == 0 puts every
// counted value into bin 0 (an all-zero tensor). This is the hot loop of KL / percentile calibration.
void histogram_accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                          bool ignore_zeros);
void histogram_accumulate(const float* x, size_t n, float max_value, int64_t* bins, size_t num_bins,
                          bool ignore_zeros, Isa isa);

}  // namespace edgepack
