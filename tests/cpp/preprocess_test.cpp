// preprocess in the standalone kernel test: spec values for ref, then an ISA against ref over formats x
// rotations x mirror x modes x dtypes x layouts on small sizes (1, 15, 16, 17 and odd crops) and a
// representative subset on 1919x1081-class frames. Sources end exactly at their allocation (ASan
// catches an overread) and start at odd addresses; outputs sit between sentinel guards, twice.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "edgepack/preprocess.h"
#include "preprocess_test.h"

using edgepack::Isa;
using namespace edgepack;

namespace {

struct Rng {
  uint64_t s = 0x2545f4914f6cdd1dull;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 16);
  }
};

// A source frame whose last plane ends exactly at the end of its allocation, planes at odd offsets.
struct Frame {
  std::vector<std::vector<uint8_t>> bufs;
  ImageView view;
};

Frame make_frame(PixelFormat f, int w, int h, int pad, Rng& rng) {
  Frame fr;
  fr.view.format = f;
  fr.view.width = w;
  fr.view.height = h;
  const int np = pixel_format_planes(f);
  for (int k = 0; k < np; ++k) {
    size_t row = static_cast<size_t>(w) * static_cast<size_t>(pixel_format_bpp(f)), rows = static_cast<size_t>(h);
    if (k > 0) {
      row = f == PixelFormat::I420 ? static_cast<size_t>(w / 2) : static_cast<size_t>(w);
      rows = static_cast<size_t>(h / 2);
    }
    const size_t stride = row + static_cast<size_t>(pad);
    const size_t off = 1 + static_cast<size_t>(k);
    fr.bufs.emplace_back(off + (rows - 1) * stride + row);
    for (auto& b : fr.bufs.back()) b = static_cast<uint8_t>(rng.next());
    fr.view.plane[k] = fr.bufs.back().data() + off;
    fr.view.stride[k] = stride;
  }
  return fr;
}

// Runs preprocess into a guarded buffer twice (two sentinels); returns the bytes, empty on failure.
std::vector<unsigned char> run_guarded(edgepack_test::Tally& t, PreprocessParams p, Isa isa, const std::string& tag) {
  const size_t n = preprocess_out_bytes(p), guard = 64, off = 3;
  std::vector<unsigned char> first;
  for (unsigned char sentinel : {0xa5, 0x5a}) {
    std::vector<unsigned char> buf(n + 2 * guard + off, sentinel);
    p.dst = buf.data() + guard + off;
    p.dst_bytes = n;
    preprocess(p, isa);
    bool ok = true;
    for (size_t k = 0; k < guard + off; ++k) ok = ok && buf[k] == sentinel;
    for (size_t k = guard + off + n; k < buf.size(); ++k) ok = ok && buf[k] == sentinel;
    t.check(ok, tag + ": wrote outside the output");
    std::vector<unsigned char> out(buf.begin() + static_cast<long>(guard + off), buf.begin() + static_cast<long>(guard + off + n));
    if (first.empty()) {
      first = out;
    } else if (out != first) {
      t.check(false, tag + ": some outputs were not written (sentinel shows through)");
      return {};
    }
  }
  return first;
}

const PixelFormat kFormats[] = {PixelFormat::RGB888, PixelFormat::BGR888, PixelFormat::RGBA8888, PixelFormat::BGRA8888,
                                PixelFormat::GRAY8, PixelFormat::NV21, PixelFormat::NV12, PixelFormat::I420};
const OutType kTypes[] = {OutType::Float32, OutType::Float16, OutType::UInt8, OutType::Int8};

PreprocessParams base_params(const Frame& fr, int ow, int oh) {
  PreprocessParams p;
  p.src = fr.view;
  p.out_width = ow;
  p.out_height = oh;
  const float mean[3] = {123.675f, 116.28f, 103.53f}, stdv[3] = {58.395f, 57.12f, 57.375f};
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = mean[c];
    p.std[c] = stdv[c];
  }
  p.pad[0] = 114, p.pad[1] = 0, p.pad[2] = 255;
  p.q_scale = 0.02f;
  p.q_zero_point = 3;
  return p;
}

std::string name(const PreprocessParams& p, const std::string& extra) {
  return std::string(pixel_format_name(p.src.format)) + " " + std::to_string(p.src.width) + "x" +
         std::to_string(p.src.height) + " -> " + std::to_string(p.out_width) + "x" + std::to_string(p.out_height) +
         " rot " + std::to_string(p.rotate) + (p.mirror ? " mirror" : "") +
         (p.mode == ResizeMode::Letterbox ? " letterbox" : " stretch") + " dtype " +
         std::to_string(static_cast<int>(p.dtype)) + " color " + std::to_string(static_cast<int>(p.color)) +
         " layout " + std::to_string(static_cast<int>(p.layout)) + " interp " +
         std::to_string(static_cast<int>(p.interp)) + extra;
}

void compare(edgepack_test::Tally& t, const PreprocessParams& p, Isa isa, const std::string& extra) {
  const std::string tag = std::string(isa_name(isa)) + " preprocess " + name(p, extra);
  const auto a = run_guarded(t, p, Isa::Ref, tag + " (ref)");
  const auto b = run_guarded(t, p, isa, tag);
  t.check(!a.empty() && a == b, tag + ": differs from ref");
}

}  // namespace

void preprocess_known_values(edgepack_test::Tally& t) {
  // One NV21 2x2 block: Y = 16, 235, 128, 81; V = 200, U = 60 (OpenCV's cvtColor gives these bytes).
  const uint8_t frame[6] = {16, 235, 128, 81, 200, 60};
  PreprocessParams p;
  p.src.format = PixelFormat::NV21;
  p.src.width = p.src.height = 2;
  p.src.plane[0] = frame;
  p.src.plane[1] = frame + 4;
  p.src.stride[0] = p.src.stride[1] = 2;
  p.out_width = p.out_height = 2;
  p.dtype = OutType::UInt8;
  p.layout = TensorLayout::HWC;
  uint8_t out[12] = {};
  p.dst = out;
  p.dst_bytes = sizeof out;
  preprocess(p, Isa::Ref);
  // R = (1220542 max(Y-16,0) + 2^19 + 1673527 * 72) >> 20 ...
  auto px = [](int y) {
    const int yy = (y > 16 ? y - 16 : 0) * 1220542 + (1 << 19);
    auto c = [](int v) { return v < 0 ? 0 : v > 255 ? 255 : v; };
    return std::vector<int>{c((yy + 1673527 * 72) >> 20), c((yy - 852492 * 72 - 409993 * -68) >> 20),
                            c((yy + 2116026 * -68) >> 20)};
  };
  const int ys[4] = {16, 235, 128, 81};
  for (int k = 0; k < 4; ++k) {
    const auto want = px(ys[k]);
    for (int c = 0; c < 3; ++c) {
      t.check(out[3 * k + c] == want[static_cast<size_t>(c)],
              "ref preprocess nv21 pixel " + std::to_string(k) + " channel " + std::to_string(c) + " = " +
                  std::to_string(out[3 * k + c]) + ", expected " + std::to_string(want[static_cast<size_t>(c)]));
    }
  }
  // Filter tables: bilinear 4 -> 2 samples pixels (0.5, 2.5): weights 2048/2048; area 6 -> 2: three 1365/1366s.
  const AxisFilter bl = make_axis_filter(4, 2, Interp::Bilinear);
  t.check(bl.taps == 2 && bl.first[0] == 0 && bl.weights[0] == 2048 && bl.weights[1] == 2048 && bl.first[1] == 2,
          "bilinear 4->2 table");
  const AxisFilter ar = make_axis_filter(6, 2, Interp::Auto);
  t.check(ar.area && ar.taps == 3 && ar.first[1] == 3 && ar.weights[0] + ar.weights[1] + ar.weights[2] == 4096 &&
              ar.weights[0] == 1365 && ar.weights[1] == 1366,
          "area 6->2 table");
  // Letterbox geometry and box mapping: 1920x1080 rotated 90 into 640x640.
  PreprocessParams g;
  g.src.format = PixelFormat::NV21;
  g.src.width = 1920;
  g.src.height = 1080;
  g.src.stride[0] = g.src.stride[1] = 1920;
  g.out_width = g.out_height = 640;
  g.mode = ResizeMode::Letterbox;
  g.rotate = 90;
  const PreprocessInfo info = plan_preprocess(g);
  t.check(info.resized_width == 360 && info.resized_height == 640 && info.pad_x == 140 && info.pad_y == 0,
          "letterbox 1920x1080 rot 90 -> 640x640 geometry");
  const double box[4] = {140, 0, 500, 640}, want[4] = {0, 0, 1920, 1080};
  double got[4];
  info.map_box(box, got);
  bool ok = true;
  for (int k = 0; k < 4; ++k) ok = ok && std::abs(got[k] - want[k]) < 1e-9;
  t.check(ok, "map_box of the whole image area");
  bool threw = false;
  try {
    PreprocessParams bad = g;
    bad.src.width = 1919;
    plan_preprocess(bad);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  t.check(threw, "odd NV21 width accepted");
}

void preprocess_vs_ref(edgepack_test::Tally& t, Isa isa) {
  Rng rng;
  const int sizes[][2] = {{1, 1}, {15, 15}, {16, 16}, {17, 17}, {33, 18}};
  const int outs[][2] = {{1, 1}, {16, 15}, {17, 40}, {40, 17}};
  for (PixelFormat f : kFormats) {
    const bool yuv = pixel_format_planes(f) > 1;
    for (const auto& sz : sizes) {
      const int w = yuv ? (sz[0] + 1) / 2 * 2 : sz[0], h = yuv ? (sz[1] + 1) / 2 * 2 : sz[1];
      for (int pad : {0, 5}) {
        const Frame fr = make_frame(f, w, h, pad, rng);
        for (const auto& o : outs) {
          for (int rot : {0, 90, 180, 270}) {
            for (bool mirror : {false, true}) {
              PreprocessParams p = base_params(fr, o[0], o[1]);
              p.rotate = rot;
              p.mirror = mirror;
              p.mode = (rot / 90 + mirror) % 2 ? ResizeMode::Letterbox : ResizeMode::Stretch;
              p.dtype = kTypes[(rot / 90 + o[0]) % 4];
              p.layout = mirror ? TensorLayout::HWC : TensorLayout::CHW;
              p.color = static_cast<ColorOrder>((o[1] + rot / 90) % 3);
              p.interp = static_cast<Interp>((o[0] + pad) % 3);
              if (w > 2 && h > 2) p.crop = CropRect{1, 1, w - 2, h - 1};
              compare(t, p, isa, " pad " + std::to_string(pad));
              p.crop = CropRect{};
              p.dtype = OutType::Float32;
              p.layout = TensorLayout::CHW;
              p.color = ColorOrder::RGB;
              compare(t, p, isa, " pad " + std::to_string(pad) + " full");
            }
          }
        }
      }
    }
  }
  // Large frames: each format once, the P1 configuration and rotated/cropped variants.
  for (PixelFormat f : kFormats) {
    const bool yuv = pixel_format_planes(f) > 1;
    const Frame fr = make_frame(f, yuv ? 1920 : 1919, yuv ? 1080 : 1081, 7, rng);
    PreprocessParams p = base_params(fr, 640, 640);
    p.mode = ResizeMode::Letterbox;
    compare(t, p, isa, " large");
    p.interp = Interp::Bilinear;
    p.rotate = 90;
    p.dtype = OutType::Int8;
    p.crop = CropRect{3, 5, 1001, 777};
    compare(t, p, isa, " large crop");
    p.out_width = 1999;  // enlarging
    p.out_height = 301;
    p.rotate = 0;
    p.mirror = true;
    p.dtype = OutType::Float16;
    p.layout = TensorLayout::HWC;
    compare(t, p, isa, " large enlarge");
  }
}
