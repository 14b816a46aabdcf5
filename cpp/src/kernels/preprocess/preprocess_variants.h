// Internals of preprocess shared by the driver (preprocess_ref.cpp) and the per-ISA row kernels.
// The driver streams rows: convert source row -> vertical filter -> horizontal filter -> write. Each
// ISA supplies a RowOps table; entries it does not speed up point at the ref row kernels, so every
// path runs the same driver and only the (exact, integer) row kernels differ.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgepack/preprocess.h"

namespace edgepack::kernels {

// Source row y (absolute), columns [x0, x0 + w) -> dst: 4 bytes per pixel (R, G, B, 255) or, when
// gray, 1 byte per pixel.
using ConvertRowFn = void (*)(const ImageView& src, int y, int x0, int w, bool gray, uint8_t* dst);
// dst[k] = (sum_j w[j] * rows[j][k] + 16) >> 5 for k < len; n >= 1 rows, weights in (0, 4096].
using VFilterFn = void (*)(const uint8_t* const* rows, const int16_t* w, int n, size_t len, int16_t* dst);
// dst[i * C + c] = min((sum_k f.weights[i * taps + k] * src[(f.first[i] + k) * C + c] + (1 << 18)) >> 19, 255)
// for i < f.out_len, C = 1 or 4.
using HFilterFn = void (*)(const int16_t* src, const AxisFilter& f, int C, uint8_t* dst);

// Optional fast path for float32 CHW rows written left to right (rotate 0, or 180 with mirror):
// dst[c][s] = (float(row[4 s + chan[c]]) - mean[c]) * scale[c] for s < n, c < 3 -- the same two float32
// roundings as the value tables, so the bytes are identical. nullptr: the tables are used.
using WriteF32Fn = void (*)(const uint8_t* row, int n, const int* chan, const float* mean, const float* scale,
                            float* const* dst);

struct RowOps {
  ConvertRowFn convert;
  VFilterFn vfilter;
  HFilterFn hfilter;
  WriteF32Fn write_f32;
};

void convert_row_ref(const ImageView& src, int y, int x0, int w, bool gray, uint8_t* dst);
void vfilter_ref(const uint8_t* const* rows, const int16_t* w, int n, size_t len, int16_t* dst);
void hfilter_ref(const int16_t* src, const AxisFilter& f, int C, uint8_t* dst);
// The WriteF32Fn formula for pixels [s0, n): the SIMD paths' row tails.
void write_f32_ref(const uint8_t* row, int s0, int n, const int* chan, const float* mean, const float* scale,
                   float* const* dst);

// The driver: p validated and info = plan_preprocess(p).
void preprocess_run(const PreprocessParams& p, const PreprocessInfo& info, const RowOps& ops);

RowOps row_ops_ref();
#if defined(EDGEPACK_WITH_AVX2)
RowOps row_ops_avx2();
#endif
#if defined(EDGEPACK_WITH_NEON)
RowOps row_ops_neon();
#endif

}  // namespace edgepack::kernels
