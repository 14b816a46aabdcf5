// App runner: what a phone app (the iOS template's Objective-C++ bridge, or any other native host) runs per
// camera frame, in plain C++: a packed or YUV frame with its row stride -> preprocess (edgepack/preprocess.h)
// -> an Engine -> post-processing (edgepack/postprocess.h) -> task results in source-frame pixels.
//
// The model is described by a ModelConfig, read from `edgepack_model.cfg`, which `edgepack template` writes
// from the bundle's manifest (the app has no JSON parser and needs none). The results follow the Python
// runtime's `Session.run` exactly (same kernels, same geometry rules):
//   classify: top-k (softmax when the bundle says so) over the output;
//   detect:   YOLO decode + NMS in model-input pixels, boxes mapped back through the preprocess geometry
//             (crop, rotation, mirror, letterbox) to source pixels and clipped to the frame;
//   segment:  per-pixel argmax; at source size when the frame is neither rotated, mirrored nor cropped,
//             else in the model's output pixels (then `mask_content` says where the frame lies in it).
//
// Engines are adapters behind one interface, one file each under src/app/: LiteRT's C API through
// libLiteRt (engine_litert.cpp: the host tests run it), ncnn's C++ API (engine_ncnn.cpp) and the TensorFlow
// Lite C API of the TensorFlowLiteC pod (engine_tflite.cpp); an app compiles the one it links.
//
// Thread-safety: FrameRunner::run may be called from any thread; runs on one runner are serialized (engines
// are not re-entrant). Use one runner per thread to run in parallel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgepack/preprocess.h"

namespace edgepack::app {

// A bad config, a missing file, a frame that does not fit: the message names the problem and the fix.
class AppError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TensorSpec {
  std::string name;         // the ONNX name (what pre.input / post.output refer to)
  std::string engine_name;  // the engine's own name for it (ncnn blob in0 / out0 ...)
  std::vector<int64_t> shape;
  std::string dtype;        // "float32", "uint8" ...
};

struct ModelConfig {
  std::string task;       // classify | detect | segment
  std::string engine;     // ncnn | litert
  std::string precision;  // fp32 | fp16 | int8
  std::string name;       // the model's name (display only)
  std::map<std::string, std::string> files;  // role (param, bin, model) -> file name beside the config
  std::map<std::string, std::string> sha256;  // file name -> its sha256, as the bundle lists it
  std::vector<TensorSpec> inputs, outputs;
  // preprocess (PreprocessSpec)
  std::string pre_input;
  int width = 0, height = 0;
  std::string color = "RGB", resize = "stretch", layout = "NCHW", dtype = "float32";
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
  int pad_value = 114;
  double crop_fraction = 1.0;
  // postprocess (PostprocessSpec)
  std::string post_kind, post_output;
  int top_k = 5;
  bool softmax = true;
  std::string yolo_layout = "attrs_first", box_format = "cxcywh";
  bool has_objectness = false;
  float score_threshold = 0.25f, iou_threshold = 0.45f;
  int max_detections = 300;
  bool class_agnostic = false;
  std::vector<std::string> labels;

  int channels() const { return color == "GRAY" ? 1 : 3; }
};

// Parses the text of edgepack_model.cfg (one `key value...` per line, `#` comments); throws AppError
// naming the line for anything unknown, missing or out of range.
ModelConfig parse_model_config(const std::string& text);
ModelConfig load_model_config(const std::string& path);

enum class DType { Float32, Float16, UInt8, Int8, Other };

struct EngineTensor {
  std::string name;  // ONNX name
  std::vector<int64_t> shape;
  DType dtype = DType::Float32;
  size_t bytes = 0;
  bool quantized = false;  // affine: real = scale * (q - zero_point)
  float scale = 1.0f;
  int64_t zero_point = 0;
};

// One loaded model. inputs()/outputs() follow the config's order. run() hands `fill` the input buffers
// (inputs()[i].bytes each, written in place), runs, and hands `read` every output as float32 in its
// config shape (engines dequantize or unpack as needed); buffers are valid only during the call.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual const std::vector<EngineTensor>& inputs() const = 0;
  virtual const std::vector<EngineTensor>& outputs() const = 0;
  virtual void run(const std::function<void(const std::vector<void*>&)>& fill,
                   const std::function<void(const std::vector<const float*>&)>& read) = 0;
  virtual std::string describe() const = 0;  // "ncnn 4 threads", for the screen
};

// An engine output as float32: `p` itself for float32, else float16 widened or int8/uint8 dequantized
// ((q - zero_point) * scale in float32, as the Python engines do) into `buf`; nullptr for other types.
const float* output_as_float32(const EngineTensor& t, const void* p, std::vector<float>& buf);

// The engines (each defined in its own file; link the one the app uses). `dir` holds the config's files.
std::unique_ptr<Engine> make_litert_engine(const ModelConfig& cfg, const std::string& dir, int threads,
                                           const std::string& lib_hint_dir = "");
std::unique_ptr<Engine> make_ncnn_engine(const ModelConfig& cfg, const std::string& dir, int threads);
std::unique_ptr<Engine> make_tflite_engine(const ModelConfig& cfg, const std::string& dir, int threads);

struct Frame {
  ImageView image;      // e.g. BGRA8888 with the CVPixelBuffer's bytes-per-row as stride[0]
  int rotate = 0;       // clockwise degrees that turn the frame upright: 0, 90, 180, 270
  bool mirror = false;  // flip after rotation (the model then sees a mirrored image)
};

struct Timing {
  double pre_ms = 0, infer_ms = 0, post_ms = 0;
};

struct FrameResult {
  std::string task;
  PreprocessInfo info;             // where the frame went (maps model-input points to source pixels)
  std::vector<int32_t> class_ids;  // classify: top-k class ids; detect: one per box
  std::vector<float> scores;       // classify: top-k scores; detect: one per box
  std::vector<float> boxes;        // detect: K x (x1, y1, x2, y2) in source-frame pixels
  std::vector<uint8_t> mask;       // segment: mask_height x mask_width class ids
  int mask_width = 0, mask_height = 0;
  bool mask_in_source = false;     // true: mask pixels are source-frame pixels
  float mask_content[4] = {0, 0, 0, 0};  // x, y, w, h of the frame's image inside the mask (model pixels)
  Timing timing;
};

class FrameRunner {
 public:
  // Checks the config against the engine (the pre.input / post.output tensors exist, the input shape is
  // the preprocess output, the output fits the post-processing) and throws AppError otherwise.
  FrameRunner(ModelConfig cfg, std::unique_ptr<Engine> engine);
  FrameResult run(const Frame& frame);
  const ModelConfig& config() const { return cfg_; }
  const Engine& engine() const { return *engine_; }
  // The label of class `id` ("class 7" when the bundle has no label for it).
  std::string label(int32_t id) const;

 private:
  PreprocessParams params_for(const Frame& frame) const;
  ModelConfig cfg_;
  std::unique_ptr<Engine> engine_;
  size_t input_ = 0, output_ = 0;
  size_t output_elems_ = 0;
  std::mutex mu_;
};

}  // namespace edgepack::app
