// Standalone kernel test: known values for the scalar spec, then every SIMD path available on this
// CPU against ref on the same inputs, bit for bit. Outputs live inside larger buffers filled with a
// sentinel; each case runs twice with different sentinels, so a skipped write or a write outside the
// output shows. Inputs sit at unaligned byte offsets.
//
// Usage: kernel_test [--require ISA]   (fails if ISA is not available, e.g. to prove NEON ran under qemu)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "edgepack/cpu.h"
#include "edgepack/fp16.h"
#include "edgepack/normalize.h"
#include "preprocess_test.h"

using edgepack::Isa;
using edgepack_test::Tally;

namespace {

Tally t;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 16);
  }
};

// ---------------------------------------------------------------- fp16: spec values (ref only)
void fp16_known_values() {
  struct Case {
    uint32_t f;
    uint16_t h;
  };
  const Case cases[] = {
      {0x00000000, 0x0000}, {0x80000000, 0x8000}, {0x3f800000, 0x3c00}, {0xc0000000, 0xc000},
      {0x477fe000, 0x7bff},  // 65504, the largest half
      {0x477fefff, 0x7bff},  // just below 65520 rounds down
      {0x477ff000, 0x7c00},  // 65520 ties to even: inf
      {0x7f800000, 0x7c00}, {0xff800000, 0xfc00}, {0x7f7fffff, 0x7c00},  // inf, -inf, FLT_MAX
      {0x38800000, 0x0400},  // 2^-14, smallest normal
      {0x33800000, 0x0001},  // 2^-24, smallest subnormal
      {0x33000000, 0x0000},  // 2^-25 ties to even: zero
      {0x33000001, 0x0001},  // just above 2^-25
      {0x33c00000, 0x0002},  // 1.5 * 2^-24 ties to even: 2
      {0x34200000, 0x0002},  // 2.5 * 2^-24 ties to even: 2
      {0x387fc000, 0x03ff},  // largest subnormal
      {0x387fe000, 0x0400},  // halfway between largest subnormal and smallest normal: even is 0x400
      {0x3f801000, 0x3c00},  // 1 + 2^-11 ties to even: 1
      {0x3f803000, 0x3c02},  // 1 + 3 * 2^-11 ties to even: 1 + 2^-9
      {0x3dcccccd, 0x2e66},  // 0.1f
      {0x00800000, 0x0000}, {0x00000001, 0x0000}, {0x80000001, 0x8000},  // FLT_MIN, fp32 subnormals
      {0x7fc00000, 0x7e00}, {0xffc00000, 0xfe00},  // quiet NaNs
      {0x7f800001, 0x7e00},  // signalling NaN gets quieted
      {0xffa00000, 0xff00},  // payload top bits kept
  };
  for (const Case& c : cases) {
    uint16_t h = 0;
    const float f = from_bits(c.f);
    edgepack::fp32_to_fp16(&f, &h, 1, Isa::Ref);
    t.check(h == c.h, "ref fp32_to_fp16(" + hex(c.f) + ") = " + hex(h) + ", expected " + hex(c.h));
  }
  const Case back[] = {{0x33800000, 0x0001}, {0x387fc000, 0x03ff}, {0x477fe000, 0x7bff}, {0x7fc02000, 0x7c01},
                       {0xffc00000, 0xfe00}, {0xff800000, 0xfc00}, {0x80000000, 0x8000}, {0x3f800000, 0x3c00}};
  for (const Case& c : back) {
    float f = 0;
    edgepack::fp16_to_fp32(&c.h, &f, 1, Isa::Ref);
    t.check(bits(f) == c.f, "ref fp16_to_fp32(" + hex(c.h) + ") = " + hex(bits(f)) + ", expected " + hex(c.f));
  }
}

// ---------------------------------------------------------------- fp16: SIMD vs ref
template <typename T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b, size_t* first) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) {
      *first = i;
      return false;
    }
  }
  return true;
}

void fp16_all_halves(Isa isa) {
  std::vector<uint16_t> h(65536);
  for (uint32_t i = 0; i < 65536; ++i) h[i] = static_cast<uint16_t>(i);
  std::vector<float> ref(65536), got(65536);
  edgepack::fp16_to_fp32(h.data(), ref.data(), h.size(), Isa::Ref);
  edgepack::fp16_to_fp32(h.data(), got.data(), h.size(), isa);
  size_t i = 0;
  t.check(same_bytes(ref, got, &i), std::string(edgepack::isa_name(isa)) + " fp16_to_fp32 differs from ref at " +
                                        hex(static_cast<uint32_t>(i)));
  // Round trip: identity except that signalling NaNs come back quieted.
  std::vector<uint16_t> back(65536);
  edgepack::fp32_to_fp16(got.data(), back.data(), got.size(), isa);
  bool ok = true;
  for (uint32_t k = 0; k < 65536 && ok; ++k) {
    const bool snan = (k & 0x7c00u) == 0x7c00u && (k & 0x3ffu) != 0 && (k & 0x200u) == 0;
    ok = back[k] == (snan ? (k | 0x200u) : k);
    if (!ok) i = k;
  }
  t.check(ok, std::string(edgepack::isa_name(isa)) + " fp16 round trip broken at " + hex(static_cast<uint32_t>(i)));
}

void fp32_to_fp16_patterns(Isa isa) {
  std::vector<float> in;
  // Every half's exact value, the midpoint to the next half, and one float ulp either side of it.
  for (uint32_t h = 0; h < 0x7c00u; ++h) {
    for (uint32_t sign : {0u, 0x8000u}) {
      const uint16_t a = static_cast<uint16_t>(h | sign), b = static_cast<uint16_t>((h + 1) | sign);
      float fa, fb;
      edgepack::fp16_to_fp32(&a, &fa, 1, Isa::Ref);
      edgepack::fp16_to_fp32(&b, &fb, 1, Isa::Ref);
      const float mid = static_cast<float>((static_cast<double>(fa) + fb) / 2);  // exact in fp32
      in.insert(in.end(), {fa, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f)});
    }
  }
  Rng rng;
  for (int k = 0; k < 1 << 20; ++k) in.push_back(from_bits(rng.next()));  // any bits, NaNs included
  for (int k = 0; k < 1 << 20; ++k) {  // exponents around the half range
    const uint32_t e = 100u + rng.next() % 48u;
    in.push_back(from_bits((rng.next() & 0x807fffffu) | (e << 23)));
  }
  std::vector<uint16_t> ref(in.size()), got(in.size());
  edgepack::fp32_to_fp16(in.data(), ref.data(), in.size(), Isa::Ref);
  edgepack::fp32_to_fp16(in.data(), got.data(), in.size(), isa);
  size_t i = 0;
  const bool ok = same_bytes(ref, got, &i);
  t.check(ok, std::string(edgepack::isa_name(isa)) + " fp32_to_fp16(" + (ok ? "" : hex(bits(in[i]))) +
                  ") differs from ref");
}

// Runs fn(dst) twice, with dst inside a buffer pre-filled with two different sentinels; checks the
// guard bytes kept their sentinel, then returns the output of the first run (empty if runs differ).
template <typename Fn>
std::vector<unsigned char> guarded(size_t out_bytes, size_t offset, const std::string& what, Fn fn) {
  const size_t guard = 64;
  std::vector<unsigned char> first;
  for (unsigned char sentinel : {0xa5, 0x5a}) {
    std::vector<unsigned char> buf(offset + out_bytes + 2 * guard, sentinel);
    fn(buf.data() + guard + offset);
    bool guards_ok = true;
    for (size_t k = 0; k < guard + offset; ++k) guards_ok = guards_ok && buf[k] == sentinel;
    for (size_t k = guard + offset + out_bytes; k < buf.size(); ++k) guards_ok = guards_ok && buf[k] == sentinel;
    t.check(guards_ok, what + ": wrote outside the output");
    std::vector<unsigned char> out(buf.begin() + static_cast<long>(guard + offset),
                                   buf.begin() + static_cast<long>(guard + offset + out_bytes));
    if (first.empty()) {
      first = out;
    } else if (out != first) {
      t.check(false, what + ": some outputs were not written (sentinel shows through)");
      return {};
    }
  }
  return first;
}

void fp16_sizes_and_offsets(Isa isa) {
  std::vector<size_t> sizes;
  for (size_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (size_t n : {127, 128, 129, 255, 256, 257, 1000, 4099}) sizes.push_back(n);
  Rng rng;
  for (size_t n : sizes) {
    for (size_t off : {0, 1, 2, 3}) {
      std::vector<unsigned char> src(off + n * 4);
      for (auto& b : src) b = static_cast<unsigned char>(rng.next());
      const auto* f32 = reinterpret_cast<const float*>(src.data() + off);
      const auto* f16 = reinterpret_cast<const uint16_t*>(src.data() + off);
      const std::string tag = std::string(edgepack::isa_name(isa)) + " n=" + std::to_string(n) +
                              " offset=" + std::to_string(off);
      auto a = guarded(n * 2, off, tag + " fp32_to_fp16 ref",
                       [&](unsigned char* d) { edgepack::fp32_to_fp16(f32, reinterpret_cast<uint16_t*>(d), n, Isa::Ref); });
      auto b = guarded(n * 2, off, tag + " fp32_to_fp16",
                       [&](unsigned char* d) { edgepack::fp32_to_fp16(f32, reinterpret_cast<uint16_t*>(d), n, isa); });
      t.check(!a.empty() && a == b, tag + " fp32_to_fp16 differs from ref");
      a = guarded(n * 4, off, tag + " fp16_to_fp32 ref",
                  [&](unsigned char* d) { edgepack::fp16_to_fp32(f16, reinterpret_cast<float*>(d), n, Isa::Ref); });
      b = guarded(n * 4, off, tag + " fp16_to_fp32",
                  [&](unsigned char* d) { edgepack::fp16_to_fp32(f16, reinterpret_cast<float*>(d), n, isa); });
      t.check(!a.empty() && a == b, tag + " fp16_to_fp32 differs from ref");
    }
  }
}

// ---------------------------------------------------------------- normalize
void normalize_known_values() {
  const uint8_t px[6] = {0, 10, 255, 128, 1, 2};  // 2 RGB pixels
  edgepack::NormalizeParams p;
  p.src = px;
  p.width = 2;
  p.height = 1;
  p.src_row_stride = 6;
  p.in_channels = 3;
  p.out_channels = 3;
  const int order[3] = {2, 1, 0};
  const float mean[3] = {1.0f, 2.0f, 3.0f}, stdv[3] = {1.0f, 2.0f, 4.0f};
  for (int c = 0; c < 3; ++c) {
    p.channel[c] = order[c];
    p.mean[c] = mean[c];
  }
  edgepack::set_normalize_std(&p, stdv);
  float out[6] = {};
  p.dst = out;
  edgepack::normalize_hwc_to_chw(p, Isa::Ref);
  const float want[6] = {254.0f, 1.0f, 4.0f, -0.5f, -0.75f, 31.25f};  // planes B, G, R after the swap
  for (int k = 0; k < 6; ++k) {
    t.check(out[k] == want[k], "ref normalize value " + std::to_string(k) + " = " + std::to_string(out[k]));
  }
}

void normalize_vs_ref(Isa isa) {
  Rng rng;
  const std::vector<std::vector<int>> orders3 = {{0, 1, 2}, {2, 1, 0}, {1}, {0, 0, 2, 1}};
  const std::vector<std::vector<int>> orders4 = {{0, 1, 2, 3}, {2, 1, 0}, {3}};
  for (int c_in : {1, 3, 4}) {
    const auto& orders = c_in == 1 ? std::vector<std::vector<int>>{{0}} : c_in == 3 ? orders3 : orders4;
    for (size_t w : {1, 2, 15, 16, 17, 31, 32, 33, 47, 100}) {
      for (size_t h : {1, 3}) {
        for (size_t pad : {0, 5}) {
          for (size_t off : {0, 1}) {
            for (const auto& order : orders) {
              const size_t stride = w * static_cast<size_t>(c_in) + pad;
              // The image ends exactly at the end of its allocation (no trailing pad on the last row) so
              // an overread past it is caught by ASan.
              std::vector<uint8_t> img(off + (h - 1) * stride + w * static_cast<size_t>(c_in));
              for (auto& b : img) b = static_cast<uint8_t>(rng.next());
              edgepack::NormalizeParams p;
              p.src = img.data() + off;
              p.src_row_stride = stride;
              p.width = w;
              p.height = h;
              p.in_channels = c_in;
              p.out_channels = static_cast<int>(order.size());
              float stdv[4];
              for (int c = 0; c < p.out_channels; ++c) {
                p.channel[c] = order[static_cast<size_t>(c)];
                p.mean[c] = static_cast<float>(rng.next() % 25600) / 100.0f;
                stdv[c] = 0.5f + static_cast<float>(rng.next() % 1000) / 7.0f;
              }
              edgepack::set_normalize_std(&p, stdv);
              const size_t out_bytes = static_cast<size_t>(p.out_channels) * w * h * 4;
              const std::string tag = std::string(edgepack::isa_name(isa)) + " normalize C=" +
                                      std::to_string(c_in) + " w=" + std::to_string(w) + " h=" + std::to_string(h) +
                                      " pad=" + std::to_string(pad) + " off=" + std::to_string(off) +
                                      " out=" + std::to_string(order.size());
              auto run = [&](Isa which) {
                return guarded(out_bytes, off * 2, tag, [&](unsigned char* d) {
                  edgepack::NormalizeParams q = p;
                  q.dst = reinterpret_cast<float*>(d);
                  edgepack::normalize_hwc_to_chw(q, which);
                });
              };
              const auto a = run(Isa::Ref);
              const auto b = run(isa);
              t.check(!a.empty() && a == b, tag + ": differs from ref");
            }
          }
        }
      }
    }
  }
}

void rejects_bad_params() {
  edgepack::NormalizeParams p;
  bool threw = false;
  try {
    edgepack::normalize_hwc_to_chw(p, Isa::Ref);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  t.check(threw, "normalize accepted empty params");
}

}  // namespace

int main(int argc, char** argv) {
  std::string required;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--require") required = argv[i + 1];
  }
  std::printf("kernel_test: available ISAs:");
  for (Isa isa : edgepack::available_isas()) std::printf(" %s", edgepack::isa_name(isa));
  std::printf("\n");
  if (!required.empty()) {
    Isa want = Isa::Ref;
    t.check(edgepack::parse_isa(required, &want) && edgepack::isa_available(want),
            "required ISA '" + required + "' is not available");
  }

  fp16_known_values();
  normalize_known_values();
  rejects_bad_params();
  preprocess_known_values(t);
  int simd = 0;
  for (Isa isa : edgepack::available_isas()) {
    if (isa == Isa::Ref) continue;
    ++simd;
    std::printf("kernel_test: checking %s against ref\n", edgepack::isa_name(isa));
    fp16_all_halves(isa);
    fp32_to_fp16_patterns(isa);
    fp16_sizes_and_offsets(isa);
    normalize_vs_ref(isa);
    preprocess_vs_ref(t, isa);
  }
  if (simd == 0) std::printf("kernel_test: no SIMD path available here; only the ref spec was checked\n");
  return t.finish("kernel_test");
}
