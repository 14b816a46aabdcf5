// preprocess on the GPU: shaders/preprocess.comp. The host does the exact, cheap parts once per call
// (geometry, the Q12 filter tables from make_axis_filter, the 256-entry value tables) and uploads only
// the source rows the crop covers; the shader computes every output element.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "compute.h"
#include "gpu.h"
#include "shaders.h"

namespace edgepack::vk {

namespace {
struct Params {  // std430 layout of the Params block in shaders/preprocess.comp: all 32-bit ints
  int32_t format, gray, nch, esz, chw;
  int32_t out_w, out_h, pad_x, pad_y, rw, rh, tw, th, rotate, mirror, crop_x, crop_y;
  int32_t elems, words;
  int32_t fx_taps, fx_first, fx_weights, fy_taps, fy_first, fy_weights, tables;
  int32_t chan[3], pad[3], plane_off[3], stride[3];
};

constexpr uint32_t kGroup = 256;  // local_size_x of the shader

// Step 4 of the spec (value stage) for every 8-bit value of every output channel, computed by the CPU
// kernel itself: a 256x1 GRAY8 ramp through an identity resize yields out[c][0][v] = value(c, v), so the
// tables cannot drift from the ref. Returned as one word per entry holding the element's bytes.
std::vector<int32_t> value_tables(const PreprocessParams& p, int nch) {
  uint8_t ramp[256];
  for (int v = 0; v < 256; ++v) ramp[v] = static_cast<uint8_t>(v);
  PreprocessParams q = p;
  q.src = ImageView{};
  q.src.format = PixelFormat::GRAY8;
  q.src.width = 256;
  q.src.height = 1;
  q.src.plane[0] = ramp;
  q.src.stride[0] = 256;
  q.crop = CropRect{};
  q.rotate = 0;
  q.mirror = false;
  q.out_width = 256;
  q.out_height = 1;
  q.mode = ResizeMode::Stretch;
  q.layout = TensorLayout::CHW;
  const size_t esz = preprocess_out_bytes(q) / preprocess_out_elements(q);
  std::vector<uint8_t> bytes(preprocess_out_bytes(q));
  q.dst = bytes.data();
  q.dst_bytes = bytes.size();
  preprocess(q, Isa::Ref);
  std::vector<int32_t> t(static_cast<size_t>(nch) * 256, 0);
  for (size_t i = 0; i < t.size(); ++i) std::memcpy(&t[i], bytes.data() + i * esz, esz);  // little-endian
  return t;
}

// Appends a filter's first[] and weights[] to data; returns their offsets.
std::pair<int32_t, int32_t> append_filter(const AxisFilter& f, std::vector<int32_t>* data) {
  const auto first = static_cast<int32_t>(data->size());
  data->insert(data->end(), f.first.begin(), f.first.end());
  const auto weights = static_cast<int32_t>(data->size());
  data->insert(data->end(), f.weights.begin(), f.weights.end());
  return {first, weights};
}

struct Resources {
  std::mutex mutex;  // held for a whole call: the buffers are reused
  std::unique_ptr<Kernel> kernel;
  Buffer params, data, src, dst;
};
}  // namespace

void preprocess_gpu(const PreprocessParams& p, const PreprocessInfo& info) {
  Context& c = *context();
  const ImageView& s = p.src;
  const int nch = preprocess_out_channels(p);
  const size_t out_bytes = preprocess_out_bytes(p);
  const size_t elems = preprocess_out_elements(p);
  const bool swap = p.rotate == 90 || p.rotate == 270;

  Params prm{};
  prm.format = static_cast<int32_t>(s.format);
  prm.gray = nch == 1;
  prm.nch = nch;
  prm.esz = static_cast<int32_t>(out_bytes / elems);
  prm.chw = p.layout == TensorLayout::CHW;
  prm.out_w = p.out_width;
  prm.out_h = p.out_height;
  prm.pad_x = info.pad_x;
  prm.pad_y = info.pad_y;
  prm.rw = info.resized_width;
  prm.rh = info.resized_height;
  prm.tw = swap ? info.resized_height : info.resized_width;
  prm.th = swap ? info.resized_width : info.resized_height;
  prm.rotate = p.rotate;
  prm.mirror = p.mirror;
  prm.crop_x = info.crop.x;
  prm.crop_y = info.crop.y;
  const int chan[3] = {p.color == ColorOrder::BGR ? 2 : 0, 1, p.color == ColorOrder::BGR ? 0 : 2};
  for (int k = 0; k < 3; ++k) {
    prm.chan[k] = chan[k];
    prm.pad[k] = p.pad[k];
  }

  std::vector<int32_t> data;
  const AxisFilter fx = make_axis_filter(info.crop.width, prm.tw, p.interp);
  const AxisFilter fy = make_axis_filter(info.crop.height, prm.th, p.interp);
  prm.fx_taps = fx.taps;
  std::tie(prm.fx_first, prm.fx_weights) = append_filter(fx, &data);
  prm.fy_taps = fy.taps;
  std::tie(prm.fy_first, prm.fy_weights) = append_filter(fy, &data);
  prm.tables = static_cast<int32_t>(data.size());
  const std::vector<int32_t> tables = value_tables(p, nch);
  data.insert(data.end(), tables.begin(), tables.end());

  // Source: for each plane, the rows the crop reads (chroma rows y/2), packed at 4-byte aligned offsets.
  struct Span {
    const uint8_t* from;
    size_t bytes, at;
  };
  std::vector<Span> spans;
  size_t src_bytes = 0;
  const int planes = pixel_format_planes(s.format);
  for (int k = 0; k < planes; ++k) {
    const int sub = k == 0 ? 1 : 2;
    const size_t r0 = static_cast<size_t>(info.crop.y / sub);
    const size_t r1 = static_cast<size_t>((info.crop.y + info.crop.height - 1) / sub);  // inclusive
    const size_t row_bytes = k == 0 ? static_cast<size_t>(s.width) * static_cast<size_t>(pixel_format_bpp(s.format))
                             : s.format == PixelFormat::I420 ? static_cast<size_t>(s.width / 2)
                                                             : static_cast<size_t>(s.width);
    const size_t bytes = (r1 - r0) * s.stride[k] + row_bytes;
    spans.push_back(Span{s.plane[k] + r0 * s.stride[k], bytes, src_bytes});
    prm.plane_off[k] = static_cast<int32_t>(static_cast<int64_t>(src_bytes) - static_cast<int64_t>(r0 * s.stride[k]));
    prm.stride[k] = static_cast<int32_t>(s.stride[k]);
    src_bytes = (src_bytes + bytes + 3) & ~size_t{3};
  }
  const size_t words = (out_bytes + 3) / 4;
  const uint64_t limit = std::min<uint64_t>(c.properties.limits.maxStorageBufferRange, INT32_MAX);
  if (src_bytes > limit || words * 4 > limit || s.stride[0] > INT32_MAX / 2) {
    throw std::invalid_argument("preprocess: frame or output too large for the Vulkan device's storage buffers (" +
                                std::to_string(limit) + " bytes); use device='cpu'");
  }
  prm.elems = static_cast<int32_t>(elems);
  prm.words = static_cast<int32_t>(words);

  // One invocation per output pixel for float32, per output word otherwise (see the shader).
  const uint64_t invocations = prm.esz == 4 ? static_cast<uint64_t>(p.out_width) * p.out_height : words;
  const uint64_t groups = (invocations + kGroup - 1) / kGroup;
  const uint64_t max_x = c.properties.limits.maxComputeWorkGroupCount[0];
  const uint32_t gx = static_cast<uint32_t>(std::min<uint64_t>(groups, max_x));
  const uint32_t gy = static_cast<uint32_t>((groups + gx - 1) / gx);

  static Resources r;
  std::lock_guard<std::mutex> lock(r.mutex);
  if (!r.kernel) {
    const Shader* sh = find_shader("preprocess");
    if (sh == nullptr) throw std::logic_error("preprocess.spv is not embedded");
    r.kernel = std::make_unique<Kernel>(c, sh->words(), sh->bytes, 4, 0);
  }
  r.params.reserve(c, sizeof(Params), false);
  r.data.reserve(c, data.size() * sizeof(int32_t), false);
  r.src.reserve(c, src_bytes, false);
  r.dst.reserve(c, words * 4, true);
  std::memcpy(r.params.data(), &prm, sizeof(Params));
  std::memcpy(r.data.data(), data.data(), data.size() * sizeof(int32_t));
  for (const Span& sp : spans) std::memcpy(static_cast<uint8_t*>(r.src.data()) + sp.at, sp.from, sp.bytes);
  r.kernel->run({&r.params, &r.data, &r.src, &r.dst}, nullptr, gx, gy);
  std::memcpy(p.dst, r.dst.data(), out_bytes);
}

}  // namespace edgepack::vk
