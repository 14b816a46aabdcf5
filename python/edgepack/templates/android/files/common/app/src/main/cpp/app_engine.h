// The app's native side: one camera frame -> edgepack preprocess kernel -> engine -> edgepack postprocess
// kernels, configured from the bundle's manifest (parsed in Kotlin, handed over as NativeConfig).
//
// Engines are one file each (engine_litert.cpp, engine_ncnn.cpp); the generated project compiles the one it
// was generated for and make_engine() comes from it. Everything here is plain C++17 over edgepack's cpp/
// tree, so the same files build with the NDK for the app and with the host compiler for edgepack's tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "edgepack/postprocess.h"
#include "edgepack/preprocess.h"

namespace edgepack_app {

// What goes wrong, in words the Kotlin side shows as they are.
class AppError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// manifest.json "preprocess" (docs/bundle.md), in the kernel's terms.
struct PreSpec {
  int width = 0, height = 0;
  edgepack::ResizeMode mode = edgepack::ResizeMode::Stretch;
  bool center_crop = false;  // resize "center_crop": a centred crop of the source, then stretch
  double crop_fraction = 1.0;
  edgepack::ColorOrder color = edgepack::ColorOrder::RGB;
  edgepack::TensorLayout layout = edgepack::TensorLayout::CHW;
  bool uint8_input = false;  // dtype "uint8": raw pixels (quantized by the model's input scale if it has one)
  uint8_t pad = 114;
  float mean[3] = {0, 0, 0};
  float std[3] = {1, 1, 1};
};

enum class PostKind { TopK, Yolo, Seg, None };

// manifest.json "postprocess".
struct PostSpec {
  PostKind kind = PostKind::None;
  size_t top_k = 5;
  bool softmax = true;
  edgepack::DecodeYoloParams yolo;  // layout, box format, objectness, thresholds, max detections, agnostic
};

struct AppConfig {
  std::string engine;       // "litert" | "ncnn"
  std::string model_path;   // .tflite, or ncnn's .param
  std::string model_path2;  // ncnn's .bin ("" for litert)
  std::string lib_dir;      // where libLiteRt.so lives (the app's nativeLibraryDir); "" = linker path
  std::string input_name;   // engine tensor/blob name of the image input
  std::string output_name;  // engine tensor/blob name of the output the post stage reads ("" for none)
  int input_position = 0;   // fallbacks when a name is not found (the order in the manifest)
  int output_position = 0;
  std::vector<int64_t> output_shape;  // the output's ONNX shape from the manifest (ncnn Mats carry no batch)
  int threads = 2;
  PreSpec pre;
  PostSpec post;
};

// One frame's result (what Kotlin's NativeResult receives).
struct AppResult {
  edgepack::PreprocessInfo info;
  std::vector<float> values;       // top-k
  std::vector<int32_t> indices;    // top-k
  edgepack::Detections detections; // boxes in source (sensor buffer) pixels
  std::vector<uint8_t> mask;       // seg: mask_height x mask_width class ids
  int mask_width = 0, mask_height = 0;
  bool mask_in_source = false;     // true: mask pixels are source pixels; false: the model output's grid
};

class Engine {
 public:
  virtual ~Engine() = default;
  // Runs one frame; src is a validated view of the camera planes (valid during the call).
  virtual AppResult run(const edgepack::ImageView& src, int rotate, bool mirror) = 0;
  // One line for the screen: engine, input, threads, library.
  virtual std::string describe() const = 0;
};

// Provided by the engine file the project was generated with.
std::unique_ptr<Engine> make_engine(const AppConfig& config);

// The preprocess parameters for one frame (crop for center_crop, letterbox/stretch, colour, mean/std);
// the caller sets dst/dst_bytes/dtype for its engine's input buffer.
edgepack::PreprocessParams frame_params(const PreSpec& pre, const edgepack::ImageView& src, int rotate, bool mirror);

// The post stage over a float32 output of `shape` (the model's, batch included or not), as edgepack's Python
// runtime does it (runtime/pipeline/post.py): top-k, YOLO decode + NMS mapped back through `info`, or seg
// argmax (at source size when the frame was neither rotated, mirrored nor cropped, else on the output grid).
void postprocess(const PostSpec& post, const float* data, const std::vector<int64_t>& shape,
                 const edgepack::PreprocessInfo& info, AppResult* out);

}  // namespace edgepack_app
