// Pipeline: preprocess -> LiteRT -> post stage, under the model's lock, reading and writing its buffers in place.
#include "edgepack/pipeline.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace edgepack {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}

const litert::TensorDesc& output_desc(const litert::Model& model, size_t output, const char* stage) {
  if (output >= model.outputs().size()) {
    throw std::invalid_argument(std::string(stage) + ": output " + std::to_string(output) + " does not exist; the " +
                                "model has " + std::to_string(model.outputs().size()) + " output(s)");
  }
  const auto& d = model.outputs()[output];
  if (d.dtype != litert::DType::Float32) {
    throw std::invalid_argument(std::string(stage) + ": output '" + d.name + "' is " + litert::dtype_name(d.dtype) +
                                "; this stage reads float32 outputs");
  }
  return d;
}

// The shape without its leading 1s (a batch of one), e.g. [1, 84, 8400] -> [84, 8400].
std::vector<int64_t> squeeze_leading(const std::vector<int64_t>& s) {
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == 1) ++i;
  return std::vector<int64_t>(s.begin() + static_cast<std::ptrdiff_t>(i), s.end());
}

bool out_type_matches(OutType t, litert::DType d) {
  switch (t) {
    case OutType::Float32: return d == litert::DType::Float32;
    case OutType::Float16: return d == litert::DType::Float16;
    case OutType::UInt8: return d == litert::DType::UInt8;
    case OutType::Int8: return d == litert::DType::Int8;
  }
  return false;
}

const char* out_type_name(OutType t) {
  switch (t) {
    case OutType::Float32: return "float32";
    case OutType::Float16: return "float16";
    case OutType::UInt8: return "uint8";
    case OutType::Int8: return "int8";
  }
  return "?";
}

}  // namespace

PostStage raw_outputs_stage(const litert::Model& model) {
  std::vector<size_t> bytes;
  for (const auto& d : model.outputs()) bytes.push_back(d.bytes);
  return [bytes](const std::vector<const void*>& outs, const PreprocessInfo&, PipelineResult* r) {
    r->outputs.resize(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) {
      const auto* p = static_cast<const uint8_t*>(outs[i]);
      r->outputs[i].assign(p, p + bytes[i]);
    }
  };
}

PostStage topk_stage(const litert::Model& model, size_t output, size_t k, bool softmax) {
  const auto& d = output_desc(model, output, "topk_stage");
  // One row of scores: every dimension but one is 1 ([C], [1, C], [1, C, 1] ...).
  size_t cols = 1, not_one = 0;
  for (int64_t v : d.shape) {
    cols *= static_cast<size_t>(v);
    not_one += v != 1 ? 1 : 0;
  }
  if (not_one > 1 || cols == 0) {
    throw std::invalid_argument("topk_stage: output '" + d.name + "' has shape " + shape_text(d.shape) +
                                "; expected one row of class scores ([C], [1, C] or [1, C, 1])");
  }
  if (k < 1 || k > cols) {
    throw std::invalid_argument("topk_stage: k = " + std::to_string(k) + " must be in [1, " + std::to_string(cols) +
                                "] for output '" + d.name + "'");
  }
  return [output, cols, k, softmax](const std::vector<const void*>& outs, const PreprocessInfo&, PipelineResult* r) {
    r->values.resize(k);
    r->indices.resize(k);
    topk(static_cast<const float*>(outs[output]), 1, cols, k, softmax, r->values.data(), r->indices.data());
  };
}

PostStage yolo_stage(const litert::Model& model, size_t output, const DecodeYoloParams& params) {
  const auto& d = output_desc(model, output, "yolo_stage");
  const auto shape = squeeze_leading(d.shape);
  const size_t attrs_min = 4 + (params.has_objectness ? 1 : 0) + 1;
  const bool attrs_first = params.layout == YoloLayout::AttrsFirst;
  if (shape.size() != 2 || static_cast<size_t>(shape[attrs_first ? 0 : 1]) < attrs_min) {
    throw std::invalid_argument("yolo_stage: output '" + d.name + "' has shape " + shape_text(d.shape) + "; expected " +
                                (attrs_first ? "[1, 4+C, N] (attrs_first)" : "[1, N, 4+C] (anchors_first)") +
                                " with C >= 1 class" + (params.has_objectness ? " after the objectness value" : ""));
  }
  DecodeYoloParams p = params;
  const auto attrs = static_cast<size_t>(shape[attrs_first ? 0 : 1]);
  p.num_anchors = static_cast<size_t>(shape[attrs_first ? 1 : 0]);
  p.num_classes = attrs - attrs_min + 1;
  p.letterbox = Letterbox{};  // boxes stay in model-input pixels; map_box below does crop/rotation/letterbox
  p.source_width = p.source_height = 0.0f;
  return [p, output](const std::vector<const void*>& outs, const PreprocessInfo& info, PipelineResult* r) {
    DecodeYoloParams q = p;
    q.data = static_cast<const float*>(outs[output]);
    r->detections = decode_yolo(q);
    auto& boxes = r->detections.boxes;
    for (size_t i = 0; i + 4 <= boxes.size(); i += 4) {
      const double in[4] = {boxes[i], boxes[i + 1], boxes[i + 2], boxes[i + 3]};
      double o[4];
      info.map_box(in, o);
      const double lim[4] = {double(info.src_width), double(info.src_height), double(info.src_width),
                             double(info.src_height)};
      for (int c = 0; c < 4; ++c) boxes[i + static_cast<size_t>(c)] = static_cast<float>(std::clamp(o[c], 0.0, lim[c]));
    }
  };
}

Pipeline::Pipeline(std::shared_ptr<litert::Model> model, size_t input, PostStage post)
    : model_(std::move(model)), input_(input), post_(std::move(post)) {
  if (!model_) throw std::invalid_argument("Pipeline: no model");
  if (input_ >= model_->inputs().size()) {
    throw std::invalid_argument("Pipeline: input " + std::to_string(input_) + " does not exist; the model has " +
                                std::to_string(model_->inputs().size()) + " input(s)");
  }
  if (!post_) throw std::invalid_argument("Pipeline: no post stage (use raw_outputs_stage for the raw outputs)");
}

PipelineResult Pipeline::run(PreprocessParams frame) const {
  const auto& d = model_->inputs()[input_];
  const int c = preprocess_out_channels(frame);
  const std::vector<int64_t> want =
      frame.layout == TensorLayout::CHW ? std::vector<int64_t>{c, frame.out_height, frame.out_width}
                                        : std::vector<int64_t>{frame.out_height, frame.out_width, c};
  if (squeeze_leading(d.shape) != want || !out_type_matches(frame.dtype, d.dtype)) {
    throw std::invalid_argument(std::string("Pipeline: the preprocess output (") + out_type_name(frame.dtype) + " " +
                                shape_text(want) + ") does not fit model input '" + d.name + "' (" +
                                litert::dtype_name(d.dtype) + " " + shape_text(d.shape) +
                                "); set the output size, layout and dtype from the input");
  }
  frame.dst = nullptr;
  frame.dst_bytes = d.bytes;
  plan_preprocess(frame);  // refuse a bad frame before taking the model's lock
  PipelineResult r;
  model_->with_io(
      [&](const std::vector<void*>& ins) {
        frame.dst = ins[input_];
        r.info = preprocess(frame);
      },
      [&](const std::vector<const void*>& outs) { post_(outs, r.info, &r); });
  return r;
}

}  // namespace edgepack
