// Pipeline: camera frame -> preprocess (edgepack/preprocess.h) -> LiteRT (edgepack/litert.h) ->
// postprocess (edgepack/postprocess.h), all in C++. The preprocess kernel writes straight into the
// model's 64-byte aligned input buffer and the postprocess stage reads the output buffers in place.
//
// Stages are pluggable: the post stage is any PostStage; raw_outputs_stage, topk_stage and
// yolo_stage are the ones edgepack ships. A Pipeline is as thread-safe as its model: run() holds the
// model's lock from preprocess to the end of the post stage, so runs on one model are serialized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "edgepack/litert.h"
#include "edgepack/postprocess.h"
#include "edgepack/preprocess.h"

namespace edgepack {

struct PipelineResult {
  PreprocessInfo info;                        // where the frame went; maps model-input points back
  std::vector<std::vector<uint8_t>> outputs;  // raw_outputs_stage: every output's bytes, in model order
  std::vector<float> values;                  // topk_stage: k values (softmax probabilities or logits)
  std::vector<int32_t> indices;               // topk_stage: k class indices
  Detections detections;                      // yolo_stage: boxes in source pixels
};

// Reads the model outputs (in place, valid only during the call) and fills its part of the result.
using PostStage =
    std::function<void(const std::vector<const void*>& outputs, const PreprocessInfo& info, PipelineResult* r)>;

// Copies every output.
PostStage raw_outputs_stage(const litert::Model& model);
// Top-k over output `output`: float32, one row of class scores (every dimension but one is 1).
PostStage topk_stage(const litert::Model& model, size_t output, size_t k, bool softmax);
// YOLO anchor-free decode + NMS over output `output` (float32 [1,] 4+O+C x N, or N x 4+O+C for
// AnchorsFirst). `params` gives layout, box format, objectness, thresholds and max detections; its
// data / sizes / letterbox / source size are filled per frame. Boxes are decoded in model-input
// pixels, mapped back through PreprocessInfo::map_box (crop, rotation, mirror, letterbox) in double
// and clipped to the source frame.
PostStage yolo_stage(const litert::Model& model, size_t output, const DecodeYoloParams& params);

class Pipeline {
 public:
  // `input`: the model input that receives the frame; it must be float32, float16, uint8 or int8 of
  // shape [1, C, H, W] or [1, H, W, C] (C = 1 or 3), or the same without the batch dimension.
  Pipeline(std::shared_ptr<litert::Model> model, size_t input, PostStage post);

  // Preprocesses `frame` into the model input (frame.dst / dst_bytes / out size are set here and must
  // agree with the input: out_width/out_height, layout and dtype are checked against its shape and
  // type), runs the model, runs the post stage. Throws std::invalid_argument for a frame that does not
  // fit, litert::Error for LiteRT failures.
  PipelineResult run(PreprocessParams frame) const;

  const litert::Model& model() const { return *model_; }
  size_t input() const { return input_; }

 private:
  std::shared_ptr<litert::Model> model_;
  size_t input_;
  PostStage post_;
};

}  // namespace edgepack
