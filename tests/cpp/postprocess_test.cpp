// Standalone test of the post-processing kernels (softmax/top-k, YOLO decode, seg argmax, histogram):
// known values for the scalar spec, then every SIMD path available here against ref on the same
// inputs: integer/selection results identical, floats identical except softmax (1e-5 relative).
// Inputs sit at unaligned offsets and end exactly at the end of their allocation (ASan catches an
// overread); masks are written inside sentinel-filled guards, twice with different sentinels.
//
// Usage: postprocess_test [--require ISA]
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "edgepack/cpu.h"
#include "edgepack/postprocess.h"

using edgepack::Isa;
using edgepack_test::Tally;

namespace {

Tally t;

struct Rng {
  uint64_t s = 0x2545f4914f6cdd1dull;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 16);
  }
  float uniform() { return static_cast<float>(next() % 1000000) / 1000000.0f; }
};

// n floats starting `off` floats into a vector that ends exactly at the last one (off shifts the
// alignment by 4 bytes per step).
struct Buffer {
  std::vector<float> v;
  size_t off;
  Buffer(size_t n, size_t offset) : v(n + offset), off(offset) {}
  float* data() { return v.data() + off; }
};

std::string tag(Isa isa, const std::string& what) { return std::string(edgepack::isa_name(isa)) + " " + what; }

bool close(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 1e-5f * std::fabs(b) + 1e-37f;
}

// ------------------------------------------------------------------------------ softmax / top-k
void softmax_vs_ref(Isa isa) {
  Rng rng;
  for (size_t cols : {1, 2, 7, 8, 15, 16, 17, 31, 33, 1000, 1001}) {
    for (size_t off : {0, 1}) {
      const size_t rows = 3;
      Buffer in(rows * cols, off);
      for (size_t i = 0; i < rows * cols; ++i) in.data()[i] = (rng.uniform() - 0.5f) * 40.0f;
      if (cols > 4) in.data()[cols + 3] = -INFINITY;  // exp -> 0
      std::vector<float> a(rows * cols), b(rows * cols);
      edgepack::softmax(in.data(), a.data(), rows, cols, Isa::Ref);
      edgepack::softmax(in.data(), b.data(), rows, cols, isa);
      bool ok = true;
      for (size_t i = 0; i < a.size(); ++i) ok = ok && close(b[i], a[i]);
      t.check(ok, tag(isa, "softmax cols=" + std::to_string(cols) + " off=" + std::to_string(off)));
      const size_t k = cols < 5 ? cols : 5;
      std::vector<float> va(rows * k), vb(rows * k);
      std::vector<int32_t> ia(rows * k), ib(rows * k);
      edgepack::topk(in.data(), rows, cols, k, true, va.data(), ia.data(), Isa::Ref);
      edgepack::topk(in.data(), rows, cols, k, true, vb.data(), ib.data(), isa);
      ok = ia == ib;
      for (size_t i = 0; i < va.size(); ++i) ok = ok && close(vb[i], va[i]);
      t.check(ok, tag(isa, "topk cols=" + std::to_string(cols)));
    }
  }
}

void topk_known_values() {
  const float x[6] = {1.0f, 3.0f, NAN, 3.0f, -2.0f, 0.5f};
  float v[6];
  int32_t i[6];
  edgepack::topk(x, 1, 6, 6, false, v, i, Isa::Ref);
  const int32_t want[6] = {1, 3, 0, 5, 4, 2};  // ties by lower index, NaN last
  bool ok = true;
  for (int k = 0; k < 6; ++k) ok = ok && i[k] == want[k];
  t.check(ok, "ref topk ranking (ties by lower index, NaN last)");
}

// ----------------------------------------------------------------------------------- YOLO decode
bool same(const edgepack::Detections& a, const edgepack::Detections& b) {
  if (a.class_ids != b.class_ids || a.scores.size() != b.scores.size()) return false;
  if (a.scores.empty()) return true;  // memcmp on an empty vector's null data() is UB
  return std::memcmp(a.scores.data(), b.scores.data(), a.scores.size() * 4) == 0 &&
         std::memcmp(a.boxes.data(), b.boxes.data(), a.boxes.size() * 4) == 0;
}

void decode_vs_ref(Isa isa) {
  Rng rng;
  for (size_t n : {1, 15, 16, 17, 33, 1000, 8400}) {
    for (size_t c : {1, 3, 7, 8, 9, 80}) {
      for (int layout = 0; layout < 2; ++layout) {
        for (bool obj : {false, true}) {
          const size_t attrs = 4 + (obj ? 1 : 0) + c;
          Buffer d(n * attrs, (n + c) % 3);
          const size_t a_stride = layout == 0 ? n : 1, i_stride = layout == 0 ? 1 : attrs;
          for (size_t i = 0; i < n; ++i) {
            float* base = d.data() + i * i_stride;
            base[0] = rng.uniform() * 640.0f;
            base[a_stride] = rng.uniform() * 640.0f;
            base[2 * a_stride] = 5.0f + rng.uniform() * 100.0f;
            base[3 * a_stride] = 5.0f + rng.uniform() * 100.0f;
            for (size_t k = 4; k < attrs; ++k) {
              // Quantised scores make ties between classes and anchors common; a few NaNs and -infs.
              const uint32_t r = rng.next() % 64;
              base[k * a_stride] = r == 0 ? NAN : (r == 1 ? -INFINITY : static_cast<float>(r % 20) / 20.0f);
            }
          }
          edgepack::DecodeYoloParams p;
          p.data = d.data();
          p.num_anchors = n;
          p.num_classes = c;
          p.layout = layout == 0 ? edgepack::YoloLayout::AttrsFirst : edgepack::YoloLayout::AnchorsFirst;
          p.has_objectness = obj;
          p.score_threshold = obj ? 0.3f : 0.6f;
          p.letterbox = {0.5f, 0.5f, 0.0f, 80.0f};
          p.source_width = 1280.0f;
          p.source_height = 960.0f;
          for (bool agnostic : {false, true}) {
            p.class_agnostic = agnostic;
            const auto a = edgepack::decode_yolo(p, Isa::Ref);
            const auto b = edgepack::decode_yolo(p, isa);
            t.check(same(a, b), tag(isa, "decode_yolo n=" + std::to_string(n) + " c=" + std::to_string(c) +
                                             " layout=" + std::to_string(layout) + " obj=" + std::to_string(obj)));
          }
        }
      }
    }
  }
}

void decode_known_values() {
  // Two anchors, 2 classes, [4+C, N]: anchor 0 class 1 (0.9), anchor 1 class 0 (0.8), far apart.
  const float out[6 * 2] = {100, 300, 50, 40, 20, 10, 30, 20, 0.1f, 0.8f, 0.9f, 0.2f};
  edgepack::DecodeYoloParams p;
  p.data = out;
  p.num_anchors = 2;
  p.num_classes = 2;
  p.letterbox = {0.5f, 0.5f, 0.0f, 20.0f};  // source -> network: x * 0.5, y * 0.5 + 20
  p.source_width = 600.0f;
  p.source_height = 960.0f;
  const auto d = edgepack::decode_yolo(p, Isa::Ref);
  // anchor 0: cx=100 cy=50 w=20 h=30 -> (90, 35, 110, 65) -> (180, 30, 220, 90)
  // anchor 1: cx=300 cy=40 w=10 h=20 -> (295, 30, 305, 50) -> (590, 20, 610 clipped to 600, 60)
  const float want[8] = {180, 30, 220, 90, 590, 20, 600, 60};
  bool ok = d.size() == 2 && d.class_ids[0] == 1 && d.class_ids[1] == 0 && d.scores[0] == 0.9f;
  for (size_t k = 0; ok && k < 8; ++k) ok = d.boxes[k] == want[k];
  t.check(ok, "ref decode_yolo letterbox mapping");
}

// ---------------------------------------------------------------------------- segmentation argmax
std::vector<uint8_t> guarded_mask(const edgepack::SegArgmaxParams& base, Isa isa, const std::string& what) {
  const size_t bytes = base.out_width * base.out_height, guard = 32;
  std::vector<uint8_t> first;
  for (uint8_t sentinel : {0xa5, 0x5a}) {
    std::vector<uint8_t> buf(bytes + 2 * guard + 1, sentinel);
    edgepack::SegArgmaxParams p = base;
    p.mask = buf.data() + guard + 1;
    edgepack::seg_argmax(p, isa);
    bool g = true;
    for (size_t k = 0; k < guard + 1; ++k) g = g && buf[k] == sentinel;
    for (size_t k = guard + 1 + bytes; k < buf.size(); ++k) g = g && buf[k] == sentinel;
    t.check(g, what + ": wrote outside the mask");
    const auto from = buf.begin() + static_cast<long>(guard + 1);
    std::vector<uint8_t> out(from, from + static_cast<long>(bytes));
    if (first.empty()) {
      first = out;
    } else if (out != first) {
      t.check(false, what + ": mask not fully written");
      return {};
    }
  }
  return first;
}

void seg_vs_ref(Isa isa) {
  Rng rng;
  for (size_t c : {1, 2, 21, 256}) {
    for (size_t w : {1, 15, 16, 17, 33, 160}) {
      const size_t h = w == 160 ? 120 : 3;
      Buffer l(c * h * w, 1);
      for (size_t i = 0; i < c * h * w; ++i) {
        const uint32_t r = rng.next() % 100;
        l.data()[i] = r == 0 ? NAN : static_cast<float>(r % 7);
      }
      edgepack::SegArgmaxParams p;
      p.logits = l.data();
      p.channels = c;
      p.height = h;
      p.width = w;
      for (int mode = 0; mode < 3; ++mode) {
        p.out_width = mode == 0 ? w : 2 * w + 1;
        p.out_height = mode == 0 ? h : h + 2;
        p.use_letterbox = mode == 2;
        p.letterbox = {0.5f, 0.25f, 1.0f, 0.5f};
        const std::string what = tag(isa, "seg_argmax c=" + std::to_string(c) + " w=" + std::to_string(w) +
                                              " mode=" + std::to_string(mode));
        const auto a = guarded_mask(p, Isa::Ref, what + " ref");
        const auto b = guarded_mask(p, isa, what);
        t.check(!a.empty() && a == b, what + ": differs from ref");
      }
    }
  }
}

// -------------------------------------------------------------------------- calibration histogram
void histogram_vs_ref(Isa isa) {
  Rng rng;
  for (size_t n : {1, 7, 8, 15, 16, 17, 100, 100003}) {
    for (size_t off : {0, 1, 3}) {
      Buffer x(n, off);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t r = rng.next() % 50;
        x.data()[i] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -0.0f : r == 3 ? 0.0f
                    : (rng.uniform() - 0.5f) * 10.0f;
      }
      if (n > 3) x.data()[n - 1] = -42.0f;  // the maximum sits in the scalar tail
      const std::string what = tag(isa, "histogram n=" + std::to_string(n) + " off=" + std::to_string(off));
      const float ma = edgepack::abs_max(x.data(), n, Isa::Ref), mb = edgepack::abs_max(x.data(), n, isa);
      t.check(std::memcmp(&ma, &mb, 4) == 0, what + " abs_max");
      for (size_t bins : {1, 7, 2048}) {
        for (bool iz : {false, true}) {
          std::vector<int64_t> a(bins, 5), b(bins, 5);  // accumulate into non-zero counts
          edgepack::histogram_accumulate(x.data(), n, 5.0f, a.data(), bins, iz, Isa::Ref);
          edgepack::histogram_accumulate(x.data(), n, 5.0f, b.data(), bins, iz, isa);
          t.check(a == b, what + " bins=" + std::to_string(bins) + " ignore_zeros=" + std::to_string(iz));
        }
      }
    }
  }
}

void histogram_known_values() {
  const float x[8] = {0.0f, 0.5f, -1.0f, 1.5f, 3.99f, 4.0f, 100.0f, NAN};
  std::vector<int64_t> b(4, 0);
  edgepack::histogram_accumulate(x, 8, 4.0f, b.data(), 4, false, Isa::Ref);
  t.check(b == std::vector<int64_t>({2, 2, 0, 3}), "ref histogram edges (upper bin on edges, clamp, NaN skipped)");
  bool threw = false;
  try {
    edgepack::histogram_accumulate(x, 8, NAN, b.data(), 4, false);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  t.check(threw, "histogram accepted a NaN max_value");
}

}  // namespace

int main(int argc, char** argv) {
  std::string required;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--require") required = argv[i + 1];
  }
  std::printf("postprocess_test: available ISAs:");
  for (Isa isa : edgepack::available_isas()) std::printf(" %s", edgepack::isa_name(isa));
  std::printf("\n");
  if (!required.empty()) {
    Isa want = Isa::Ref;
    t.check(edgepack::parse_isa(required, &want) && edgepack::isa_available(want),
            "required ISA '" + required + "' is not available");
  }
  topk_known_values();
  decode_known_values();
  histogram_known_values();
  for (Isa isa : edgepack::available_isas()) {
    if (isa == Isa::Ref) continue;
    std::printf("postprocess_test: checking %s against ref\n", edgepack::isa_name(isa));
    softmax_vs_ref(isa);
    decode_vs_ref(isa);
    seg_vs_ref(isa);
    histogram_vs_ref(isa);
  }
  return t.finish("postprocess_test");
}
