// FrameRunner: frame -> preprocess into the engine's input -> engine -> the task's post-processing, with the
// same rules as the Python runtime (runtime/pipeline/pre.py, post.py) so an app and `edgepack run` agree.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "edgepack/app.h"
#include "edgepack/fp16.h"
#include "edgepack/postprocess.h"

namespace edgepack::app {

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

std::vector<int64_t> squeeze_leading(const std::vector<int64_t>& s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == 1) ++i;
  return {s.begin() + static_cast<std::ptrdiff_t>(i), s.end()};
}

size_t elements(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t d : s) n *= static_cast<size_t>(d);
  return n;
}

size_t find(const std::vector<EngineTensor>& ts, const std::string& name, const char* kind) {
  for (size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].name == name) return i;
  }
  std::string have;
  for (const auto& t : ts) have += (have.empty() ? "" : ", ") + t.name;
  throw AppError(std::string("the model has no ") + kind + " '" + name + "' (it has " + have +
                 "); regenerate the project with edgepack template");
}

}  // namespace

const float* output_as_float32(const EngineTensor& t, const void* p, std::vector<float>& buf) {
  if (t.dtype == DType::Float32) return static_cast<const float*>(p);
  const size_t n = elements(t.shape);
  buf.resize(n);
  if (t.dtype == DType::Float16) {
    fp16_to_fp32(static_cast<const uint16_t*>(p), buf.data(), n);
  } else if (t.dtype == DType::Int8 || t.dtype == DType::UInt8) {
    const float zp = static_cast<float>(t.zero_point);
    for (size_t k = 0; k < n; ++k) {
      const float q = t.dtype == DType::Int8 ? static_cast<float>(static_cast<const int8_t*>(p)[k])
                                             : static_cast<float>(static_cast<const uint8_t*>(p)[k]);
      buf[k] = (q - zp) * t.scale;
    }
  } else {
    return nullptr;
  }
  return buf.data();
}

FrameRunner::FrameRunner(ModelConfig cfg, std::unique_ptr<Engine> engine) : cfg_(std::move(cfg)), engine_(std::move(engine)) {
  if (!engine_) throw AppError("FrameRunner: no engine");
  input_ = find(engine_->inputs(), cfg_.pre_input, "input");
  output_ = find(engine_->outputs(), cfg_.post_output, "output");
  const auto& in = engine_->inputs()[input_];
  const int64_t c = cfg_.channels();
  const std::vector<int64_t> want = cfg_.layout == "NCHW" ? std::vector<int64_t>{c, cfg_.height, cfg_.width}
                                                          : std::vector<int64_t>{cfg_.height, cfg_.width, c};
  if (squeeze_leading(in.shape) != want) {
    throw AppError("input '" + in.name + "' has shape " + shape_text(in.shape) + " but the preprocess spec makes " +
                   shape_text(want) + "; the bundle is inconsistent: repack it with edgepack pack");
  }
  if (in.dtype == DType::Other) throw AppError("input '" + in.name + "' has a type the preprocess kernel cannot write");
  const auto& out = engine_->outputs()[output_];
  output_elems_ = elements(out.shape);
  const auto s = squeeze_leading(out.shape);
  if (cfg_.post_kind == "yolo") {
    const size_t attrs_min = 4 + (cfg_.has_objectness ? 1 : 0) + 1;
    const bool attrs_first = cfg_.yolo_layout == "attrs_first";
    if (s.size() != 2 || static_cast<size_t>(s[attrs_first ? 0 : 1]) < attrs_min) {
      throw AppError("output '" + out.name + "' has shape " + shape_text(out.shape) +
                     ", not a YOLO head ([1, 4+C, N] attrs_first or [1, N, 4+C] anchors_first)");
    }
  } else if (cfg_.post_kind == "seg_argmax") {
    if (out.shape.size() < 3 || out.shape[out.shape.size() - 3] < 1 || out.shape[out.shape.size() - 3] > 256) {
      throw AppError("output '" + out.name + "' has shape " + shape_text(out.shape) +
                     ", not segmentation logits [1, C, H, W] with 1 <= C <= 256");
    }
  } else if (output_elems_ == 0) {
    throw AppError("output '" + out.name + "' is empty");
  }
}

std::string FrameRunner::label(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < cfg_.labels.size() ? cfg_.labels[static_cast<size_t>(id)]
                                                                 : std::to_string(id);
}

PreprocessParams FrameRunner::params_for(const Frame& frame) const {
  const auto& in = engine_->inputs()[input_];
  PreprocessParams p;
  p.src = frame.image;
  p.rotate = frame.rotate;
  p.mirror = frame.mirror;
  p.out_width = cfg_.width;
  p.out_height = cfg_.height;
  p.mode = cfg_.resize == "letterbox" ? ResizeMode::Letterbox : ResizeMode::Stretch;
  p.interp = Interp::Auto;
  // Camera frames are BGRA (iOS) or YUV (Android); the model gets the channel order its bundle names.
  p.color = cfg_.color == "GRAY" ? ColorOrder::Gray : cfg_.color == "BGR" ? ColorOrder::BGR : ColorOrder::RGB;
  p.layout = cfg_.layout == "NCHW" ? TensorLayout::CHW : TensorLayout::HWC;
  for (int c = 0; c < 3; ++c) {
    p.pad[c] = static_cast<uint8_t>(cfg_.pad_value);
    p.mean[c] = cfg_.mean[c];
    p.std[c] = cfg_.std[c];
  }
  // The tensor type is the engine input's: a uint8 spec means raw pixels (scale 1); a quantized int8 input
  // under a float spec gets the model's scale / zero point (as the Python LiteRT engine quantizes).
  switch (in.dtype) {
    case DType::Float32: p.dtype = OutType::Float32; break;
    case DType::Float16: p.dtype = OutType::Float16; break;
    case DType::UInt8: p.dtype = OutType::UInt8; break;
    default: p.dtype = OutType::Int8; break;
  }
  if ((p.dtype == OutType::Int8 || (p.dtype == OutType::UInt8 && cfg_.dtype != "uint8")) && in.quantized) {
    p.q_scale = in.scale;
    p.q_zero_point = static_cast<int>(in.zero_point);
  }
  if (cfg_.resize == "center_crop") {
    // torchvision Resize(size / crop_fraction) + CenterCrop(size) as a source crop (runtime/pipeline/pre.py)
    const int w = frame.image.width, h = frame.image.height;
    const bool turned = frame.rotate == 90 || frame.rotate == 270;
    const int ow = turned ? h : w, oh = turned ? w : h;
    const double scale = std::min(cfg_.width, cfg_.height) / cfg_.crop_fraction / std::min(ow, oh);
    long cw = std::min<long>(ow, std::lrint(cfg_.width / scale));  // ties to even, as Python's round
    long ch = std::min<long>(oh, std::lrint(cfg_.height / scale));
    if (turned) std::swap(cw, ch);
    cw = std::max<long>(1, cw);
    ch = std::max<long>(1, ch);
    p.crop = CropRect{static_cast<int>((w - cw) / 2), static_cast<int>((h - ch) / 2), static_cast<int>(cw),
                      static_cast<int>(ch)};
  }
  return p;
}

FrameResult FrameRunner::run(const Frame& frame) {
  std::lock_guard<std::mutex> lock(mu_);
  PreprocessParams p = params_for(frame);
  p.dst = nullptr;
  p.dst_bytes = engine_->inputs()[input_].bytes;
  try {
    plan_preprocess(p);  // refuse a bad frame before the engine is touched
  } catch (const std::invalid_argument& e) {
    throw AppError(std::string("frame rejected: ") + e.what());
  }
  FrameResult r;
  r.task = cfg_.task;
  const auto t0 = Clock::now();
  Clock::time_point t1, t2;
  const auto& oshape = engine_->outputs()[output_].shape;
  engine_->run(
      [&](const std::vector<void*>& ins) {
        p.dst = ins[input_];
        r.info = preprocess(p);
        t1 = Clock::now();
      },
      [&](const std::vector<const float*>& outs) {
        t2 = Clock::now();
        const float* out = outs[output_];
        if (out == nullptr) {
          throw AppError("output '" + cfg_.post_output + "' has a type post-processing cannot read (not float)");
        }
        if (cfg_.post_kind == "topk") {
          const size_t cols = output_elems_;
          const size_t k = std::min(static_cast<size_t>(cfg_.top_k), cols);
          r.scores.resize(k);
          r.class_ids.resize(k);
          topk(out, 1, cols, k, cfg_.softmax, r.scores.data(), r.class_ids.data());
        } else if (cfg_.post_kind == "yolo") {
          const auto s = squeeze_leading(oshape);
          const bool attrs_first = cfg_.yolo_layout == "attrs_first";
          DecodeYoloParams d;
          d.data = out;
          d.num_anchors = static_cast<size_t>(s[attrs_first ? 1 : 0]);
          d.num_classes = static_cast<size_t>(s[attrs_first ? 0 : 1]) - 4 - (cfg_.has_objectness ? 1 : 0);
          d.layout = attrs_first ? YoloLayout::AttrsFirst : YoloLayout::AnchorsFirst;
          d.box_format = cfg_.box_format == "xyxy" ? BoxFormat::Xyxy : BoxFormat::CxCyWh;
          d.has_objectness = cfg_.has_objectness;
          d.score_threshold = cfg_.score_threshold;
          d.iou_threshold = cfg_.iou_threshold;
          d.max_detections = static_cast<size_t>(cfg_.max_detections);
          d.class_agnostic = cfg_.class_agnostic;
          Detections det = decode_yolo(d);  // model-input pixels; the preprocess geometry maps them back
          const double lim[4] = {double(r.info.src_width), double(r.info.src_height), double(r.info.src_width),
                                 double(r.info.src_height)};
          for (size_t i = 0; i + 4 <= det.boxes.size(); i += 4) {
            const double b[4] = {det.boxes[i], det.boxes[i + 1], det.boxes[i + 2], det.boxes[i + 3]};
            double o[4];
            r.info.map_box(b, o);
            for (size_t c = 0; c < 4; ++c) det.boxes[i + c] = static_cast<float>(std::clamp(o[c], 0.0, lim[c]));
          }
          r.boxes = std::move(det.boxes);
          r.scores = std::move(det.scores);
          r.class_ids = std::move(det.class_ids);
        } else {
          const size_t n = oshape.size();
          SegArgmaxParams s;
          s.logits = out;
          s.channels = static_cast<size_t>(oshape[n - 3]);
          s.height = static_cast<size_t>(oshape[n - 2]);
          s.width = static_cast<size_t>(oshape[n - 1]);
          const auto& info = r.info;
          const double fx = double(s.width) / info.out_width, fy = double(s.height) / info.out_height;
          const bool whole = info.rotate == 0 && !info.mirror && info.crop.x == 0 && info.crop.y == 0 &&
                             info.crop.width == info.src_width && info.crop.height == info.src_height;
          if (whole) {  // straight to source pixels (as runtime/pipeline/post.py)
            s.out_width = static_cast<size_t>(info.src_width);
            s.out_height = static_cast<size_t>(info.src_height);
            s.use_letterbox = true;
            s.letterbox = Letterbox{static_cast<float>(info.scale_x * fx), static_cast<float>(info.scale_y * fy),
                                    static_cast<float>(info.pad_x * fx), static_cast<float>(info.pad_y * fy)};
          } else {  // rotated, mirrored or cropped: the mask stays in the model's output pixels
            s.out_width = s.width;
            s.out_height = s.height;
          }
          r.mask.resize(s.out_width * s.out_height);
          s.mask = r.mask.data();
          seg_argmax(s);
          r.mask_width = static_cast<int>(s.out_width);
          r.mask_height = static_cast<int>(s.out_height);
          r.mask_in_source = whole;
          if (whole) {
            r.mask_content[2] = static_cast<float>(info.src_width);
            r.mask_content[3] = static_cast<float>(info.src_height);
          } else {
            r.mask_content[0] = static_cast<float>(info.pad_x * fx);
            r.mask_content[1] = static_cast<float>(info.pad_y * fy);
            r.mask_content[2] = static_cast<float>(info.resized_width * fx);
            r.mask_content[3] = static_cast<float>(info.resized_height * fy);
          }
        }
      });
  const auto t3 = Clock::now();
  r.timing = Timing{ms(t0, t1), ms(t1, t2), ms(t2, t3)};
  return r;
}

}  // namespace edgepack::app
