// Per-ISA candidate scan of decode_yolo (the hot loop: every class score of every anchor is read
// once). Only decode_yolo.cpp calls these, after validating the parameters. Spec: decode_yolo_ref.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "edgepack/postprocess.h"

namespace edgepack::kernels {

struct YoloCandidate {
  int32_t anchor;
  int32_t cls;
  float score;
};

// Appends, in anchor order, every anchor whose score passes p.score_threshold (see the header).
void decode_scan_ref(const DecodeYoloParams& p, std::vector<YoloCandidate>* out);
// The scalar scan of anchors [begin, end): also the tail handler of the SIMD paths.
void decode_scan_range_ref(const DecodeYoloParams& p, size_t begin, size_t end, std::vector<YoloCandidate>* out);
// AttrsFirst: the first class c with data[c * n] == best, where cls_row0 points at anchor i's first
// class score (used by the SIMD paths, which find the max first and the class only for passing anchors).
int32_t decode_first_class_ref(const float* cls_row0, size_t n, size_t num_classes, float best);
#if defined(EDGEPACK_WITH_AVX2)
void decode_scan_avx2(const DecodeYoloParams& p, std::vector<YoloCandidate>* out);
#endif
#if defined(EDGEPACK_WITH_NEON)
void decode_scan_neon(const DecodeYoloParams& p, std::vector<YoloCandidate>* out);
#endif

}  // namespace edgepack::kernels
