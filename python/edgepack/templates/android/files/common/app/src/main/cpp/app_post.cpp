// Frame geometry and the post stage, written to give what edgepack's Python runtime gives for the same frame
// (runtime/pipeline/pre.py and post.py); the kernels themselves are edgepack's (cpp/include/edgepack).
#include <algorithm>
#include <cmath>
#include <string>

#include "app_engine.h"

namespace edgepack_app {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

size_t numel(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t v : s) n *= static_cast<size_t>(v > 0 ? v : 0);
  return n;
}

// The shape without leading 1s (a batch of one): [1, 84, 8400] -> [84, 8400].
std::vector<int64_t> squeeze_leading(const std::vector<int64_t>& s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == 1) ++i;
  return {s.begin() + static_cast<std::ptrdiff_t>(i), s.end()};
}

void run_topk(const PostSpec& post, const float* data, const std::vector<int64_t>& shape, AppResult* out) {
  const size_t cols = numel(shape);
  if (cols == 0) throw AppError("top-k: the model output " + shape_text(shape) + " is empty");
  // as runtime/pipeline/post.py: k is capped by the per-image class count
  const size_t per_image = shape.size() > 1 ? cols / static_cast<size_t>(std::max<int64_t>(shape[0], 1)) : cols;
  const size_t k = std::min(post.top_k, per_image);
  out->values.resize(k);
  out->indices.resize(k);
  edgepack::topk(data, 1, cols, k, post.softmax, out->values.data(), out->indices.data());
}

void run_yolo(const PostSpec& post, const float* data, const std::vector<int64_t>& shape,
              const edgepack::PreprocessInfo& info, AppResult* out) {
  const auto s = squeeze_leading(shape);
  const bool attrs_first = post.yolo.layout == edgepack::YoloLayout::AttrsFirst;
  const size_t extra = 4 + (post.yolo.has_objectness ? 1 : 0);
  if (s.size() != 2 || static_cast<size_t>(s[attrs_first ? 0 : 1]) <= extra) {
    throw AppError("detect: the model output " + shape_text(shape) + " is not a YOLO head (" +
                   (attrs_first ? "[1, 4+C, N]" : "[1, N, 4+C]") + "); check the bundle's postprocess yolo_layout");
  }
  edgepack::DecodeYoloParams p = post.yolo;
  p.data = data;
  p.num_anchors = static_cast<size_t>(s[attrs_first ? 1 : 0]);
  p.num_classes = static_cast<size_t>(s[attrs_first ? 0 : 1]) - extra;
  p.letterbox = edgepack::Letterbox{};  // decode + NMS in model-input pixels, as Ultralytics
  p.source_width = p.source_height = 0.0f;
  out->detections = edgepack::decode_yolo(p);
  // then the preprocess geometry (crop, rotation, mirror, letterbox) takes the boxes to source pixels
  auto& b = out->detections.boxes;
  const double lim[4] = {double(info.src_width), double(info.src_height), double(info.src_width),
                         double(info.src_height)};
  for (size_t i = 0; i + 4 <= b.size(); i += 4) {
    const double in[4] = {b[i], b[i + 1], b[i + 2], b[i + 3]};
    double o[4];
    info.map_box(in, o);
    for (size_t c = 0; c < 4; ++c) b[i + c] = static_cast<float>(std::clamp(o[c], 0.0, lim[c]));
  }
}

void run_seg(const float* data, const std::vector<int64_t>& shape, const edgepack::PreprocessInfo& info,
             AppResult* out) {
  if (shape.size() < 3) throw AppError("segment: the model output " + shape_text(shape) + " is not [1, C, H, W]");
  edgepack::SegArgmaxParams p;
  p.logits = data;
  p.channels = static_cast<size_t>(shape[shape.size() - 3]);
  p.height = static_cast<size_t>(shape[shape.size() - 2]);
  p.width = static_cast<size_t>(shape[shape.size() - 1]);
  const bool straight = info.rotate == 0 && !info.mirror && info.crop.x == 0 && info.crop.y == 0 &&
                        info.crop.width == info.src_width && info.crop.height == info.src_height;
  if (straight) {
    // straight to source pixels: logits pixel = (source pixel * scale + pad) * logits size / input size
    const double fx = double(p.width) / info.out_width, fy = double(p.height) / info.out_height;
    p.use_letterbox = true;
    p.letterbox = {static_cast<float>(info.scale_x * fx), static_cast<float>(info.scale_y * fy),
                   static_cast<float>(info.pad_x * fx), static_cast<float>(info.pad_y * fy)};
    p.out_width = static_cast<size_t>(info.src_width);
    p.out_height = static_cast<size_t>(info.src_height);
  } else {  // rotated, mirrored or cropped: the mask stays on the model's output grid (Kotlin maps it)
    p.out_width = p.width;
    p.out_height = p.height;
  }
  out->mask.assign(p.out_width * p.out_height, 0);
  p.mask = out->mask.data();
  edgepack::seg_argmax(p);
  out->mask_width = static_cast<int>(p.out_width);
  out->mask_height = static_cast<int>(p.out_height);
  out->mask_in_source = straight;
}

}  // namespace

edgepack::PreprocessParams frame_params(const PreSpec& pre, const edgepack::ImageView& src, int rotate, bool mirror) {
  edgepack::PreprocessParams p;
  p.src = src;
  p.rotate = rotate;
  p.mirror = mirror;
  p.out_width = pre.width;
  p.out_height = pre.height;
  p.mode = pre.mode;
  p.interp = edgepack::Interp::Auto;
  p.color = pre.color;
  p.layout = pre.layout;
  for (int c = 0; c < 3; ++c) {
    p.pad[c] = pre.pad;
    p.mean[c] = pre.mean[c];
    p.std[c] = pre.std[c];
  }
  if (pre.center_crop) {
    // torchvision Resize(size / crop_fraction) + CenterCrop(size) as one crop, as runtime/pipeline/pre.py
    const bool quarter = rotate == 90 || rotate == 270;
    const int ow = quarter ? src.height : src.width, oh = quarter ? src.width : src.height;
    const double scale = double(std::min(pre.width, pre.height)) / pre.crop_fraction / double(std::min(ow, oh));
    // Python's round() rounds half to even, as nearbyint in the default rounding mode
    int cw = std::min(ow, static_cast<int>(std::nearbyint(pre.width / scale)));
    int ch = std::min(oh, static_cast<int>(std::nearbyint(pre.height / scale)));
    if (quarter) std::swap(cw, ch);
    p.crop.x = (src.width - cw) / 2;
    p.crop.y = (src.height - ch) / 2;
    p.crop.width = std::max(1, cw);
    p.crop.height = std::max(1, ch);
    p.mode = edgepack::ResizeMode::Stretch;
  }
  return p;
}

void postprocess(const PostSpec& post, const float* data, const std::vector<int64_t>& shape,
                 const edgepack::PreprocessInfo& info, AppResult* out) {
  switch (post.kind) {
    case PostKind::TopK: run_topk(post, data, shape, out); return;
    case PostKind::Yolo: run_yolo(post, data, shape, info, out); return;
    case PostKind::Seg: run_seg(data, shape, info, out); return;
    case PostKind::None: return;
  }
}

}  // namespace edgepack_app
