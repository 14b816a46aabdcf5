// Engine adapter over the TensorFlow Lite C API (TfLiteInterpreter) of the TensorFlowLiteC pod, which the
// iOS template's Podfile brings in with TensorFlowLiteSwift. Tensors are matched to the config as the
// Python LiteRT engine does (engine name, then ONNX name, then position); quantized int8/uint8 and float16
// outputs are handed on as float32.
//
// Not compiled on the edgepack test machines (no TensorFlow Lite C library or headers there; the host tests
// run the same model through LiteRT's C API in engine_litert.cpp instead).
#if __has_include(<TensorFlowLiteC/TensorFlowLiteC.h>)
#include <TensorFlowLiteC/TensorFlowLiteC.h>  // the pod's framework
#else
#include <tensorflow/lite/c/c_api.h>  // a TensorFlow Lite C library built from source
#endif

#include <cstring>

#include "edgepack/app.h"

namespace edgepack::app {

namespace {

DType from_tflite(TfLiteType t) {
  switch (t) {
    case kTfLiteFloat32: return DType::Float32;
    case kTfLiteFloat16: return DType::Float16;
    case kTfLiteUInt8: return DType::UInt8;
    case kTfLiteInt8: return DType::Int8;
    default: return DType::Other;
  }
}

EngineTensor describe_tensor(const std::string& onnx_name, const TfLiteTensor* t) {
  EngineTensor e;
  e.name = onnx_name;
  for (int32_t i = 0; i < TfLiteTensorNumDims(t); ++i) e.shape.push_back(TfLiteTensorDim(t, i));
  e.dtype = from_tflite(TfLiteTensorType(t));
  e.bytes = TfLiteTensorByteSize(t);
  const TfLiteQuantizationParams q = TfLiteTensorQuantizationParams(t);
  e.quantized = q.scale != 0.0f;
  e.scale = e.quantized ? q.scale : 1.0f;
  e.zero_point = e.quantized ? q.zero_point : 0;
  return e;
}

template <typename Get>
std::vector<int32_t> match(const std::vector<TensorSpec>& specs, int32_t count, Get get, const char* kind) {
  std::vector<int32_t> idx;
  for (size_t pos = 0; pos < specs.size(); ++pos) {
    int32_t found = -1;
    for (const std::string* want : {&specs[pos].engine_name, &specs[pos].name}) {
      for (int32_t i = 0; i < count && found < 0; ++i) {
        const char* n = TfLiteTensorName(get(i));
        if (n != nullptr && *want == n) found = i;
      }
    }
    if (found < 0) found = static_cast<int32_t>(pos);
    if (found >= count) {
      throw AppError(std::string("the .tflite has ") + std::to_string(count) + " " + kind + "(s) but the config lists " +
                     std::to_string(specs.size()) + "; regenerate the project");
    }
    idx.push_back(found);
  }
  return idx;
}

class TfLiteEngine : public Engine {
 public:
  TfLiteEngine(const ModelConfig& cfg, const std::string& dir, int threads) : threads_(threads) {
    auto it = cfg.files.find("model");
    if (it == cfg.files.end()) throw AppError("edgepack_model.cfg names no 'model' file for the litert engine");
    const std::string path = dir + "/" + it->second;
    model_ = TfLiteModelCreateFromFile(path.c_str());
    if (model_ == nullptr) throw AppError("TensorFlow Lite could not read " + it->second + " (corrupt or not a .tflite)");
    TfLiteInterpreterOptions* opts = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(opts, threads);
    interp_ = TfLiteInterpreterCreate(model_, opts);
    TfLiteInterpreterOptionsDelete(opts);
    if (interp_ == nullptr || TfLiteInterpreterAllocateTensors(interp_) != kTfLiteOk) {
      release();
      throw AppError("TensorFlow Lite could not prepare " + it->second + " (an op this runtime lacks?)");
    }
    in_idx_ = match(cfg.inputs, TfLiteInterpreterGetInputTensorCount(interp_),
                    [&](int32_t i) { return TfLiteInterpreterGetInputTensor(interp_, i); }, "input");
    out_idx_ = match(cfg.outputs, TfLiteInterpreterGetOutputTensorCount(interp_),
                     [&](int32_t i) { return TfLiteInterpreterGetOutputTensor(interp_, i); }, "output");
    for (size_t i = 0; i < in_idx_.size(); ++i) {
      ins_.push_back(describe_tensor(cfg.inputs[i].name, TfLiteInterpreterGetInputTensor(interp_, in_idx_[i])));
    }
    for (size_t i = 0; i < out_idx_.size(); ++i) {
      outs_.push_back(describe_tensor(cfg.outputs[i].name, TfLiteInterpreterGetOutputTensor(interp_, out_idx_[i])));
    }
    converted_.resize(outs_.size());
  }
  ~TfLiteEngine() override { release(); }

  const std::vector<EngineTensor>& inputs() const override { return ins_; }
  const std::vector<EngineTensor>& outputs() const override { return outs_; }
  std::string describe() const override { return "TensorFlow Lite CPU, " + std::to_string(threads_) + " thread(s)"; }

  void run(const std::function<void(const std::vector<void*>&)>& fill,
           const std::function<void(const std::vector<const float*>&)>& read) override {
    std::vector<void*> bufs;
    for (int32_t i : in_idx_) bufs.push_back(TfLiteTensorData(TfLiteInterpreterGetInputTensor(interp_, i)));
    fill(bufs);  // the preprocess kernel writes straight into the interpreter's input tensor
    if (TfLiteInterpreterInvoke(interp_) != kTfLiteOk) throw AppError("TensorFlow Lite failed while running the model");
    std::vector<const float*> outs;
    for (size_t i = 0; i < out_idx_.size(); ++i) {
      const TfLiteTensor* t = TfLiteInterpreterGetOutputTensor(interp_, out_idx_[i]);
      outs.push_back(as_float(i, TfLiteTensorData(t)));
    }
    read(outs);
  }

 private:
  void release() {
    if (interp_ != nullptr) TfLiteInterpreterDelete(interp_);
    if (model_ != nullptr) TfLiteModelDelete(model_);
    interp_ = nullptr;
    model_ = nullptr;
  }

  const float* as_float(size_t i, const void* p) { return output_as_float32(outs_[i], p, converted_[i]); }

  TfLiteModel* model_ = nullptr;
  TfLiteInterpreter* interp_ = nullptr;
  int threads_;
  std::vector<int32_t> in_idx_, out_idx_;
  std::vector<EngineTensor> ins_, outs_;
  std::vector<std::vector<float>> converted_;
};

}  // namespace

std::unique_ptr<Engine> make_tflite_engine(const ModelConfig& cfg, const std::string& dir, int threads) {
  return std::make_unique<TfLiteEngine>(cfg, dir, threads);
}

}  // namespace edgepack::app
