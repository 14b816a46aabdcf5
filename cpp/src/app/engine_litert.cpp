// Engine adapter over edgepack's native LiteRT engine (edgepack/litert.h: LiteRT's C API, libLiteRt opened
// with dlopen). Tensors are matched to the config as the Python LiteRT engine does: engine name, then
// ONNX name, then position. Quantized int8/uint8 and float16 outputs are handed on as float32.
#include <cstring>

#include "edgepack/app.h"
#include "edgepack/litert.h"

namespace edgepack::app {

namespace {

DType from_litert(litert::DType t) {
  switch (t) {
    case litert::DType::Float32: return DType::Float32;
    case litert::DType::Float16: return DType::Float16;
    case litert::DType::UInt8: return DType::UInt8;
    case litert::DType::Int8: return DType::Int8;
    default: return DType::Other;
  }
}

std::vector<size_t> match(const std::vector<TensorSpec>& specs, const std::vector<litert::TensorDesc>& descs,
                          const char* kind) {
  std::vector<size_t> idx;
  for (size_t pos = 0; pos < specs.size(); ++pos) {
    size_t found = descs.size();
    for (const std::string* want : {&specs[pos].engine_name, &specs[pos].name}) {
      for (size_t i = 0; i < descs.size() && found == descs.size(); ++i) {
        if (descs[i].name == *want || descs[i].signature_name == *want) found = i;
      }
    }
    if (found == descs.size()) found = pos;
    if (found >= descs.size()) {
      throw AppError(std::string("the .tflite has ") + std::to_string(descs.size()) + " " + kind +
                     "(s) but the config lists " + std::to_string(specs.size()) + "; regenerate the project");
    }
    idx.push_back(found);
  }
  return idx;
}

class LiteRtEngine : public Engine {
 public:
  LiteRtEngine(const ModelConfig& cfg, const std::string& dir, int threads, const std::string& hint) {
    auto it = cfg.files.find("model");
    if (it == cfg.files.end()) throw AppError("edgepack_model.cfg names no 'model' file for the litert engine");
    try {
      model_ = litert::Model::load(dir + "/" + it->second, threads, hint);
    } catch (const litert::Error& e) {
      throw AppError(std::string("LiteRT: ") + e.what());
    }
    in_idx_ = match(cfg.inputs, model_->inputs(), "input");
    out_idx_ = match(cfg.outputs, model_->outputs(), "output");
    for (size_t i = 0; i < in_idx_.size(); ++i) ins_.push_back(describe_tensor(cfg.inputs[i].name, model_->inputs()[in_idx_[i]]));
    for (size_t i = 0; i < out_idx_.size(); ++i) {
      outs_.push_back(describe_tensor(cfg.outputs[i].name, model_->outputs()[out_idx_[i]]));
    }
    converted_.resize(outs_.size());
    threads_ = threads;
  }

  const std::vector<EngineTensor>& inputs() const override { return ins_; }
  const std::vector<EngineTensor>& outputs() const override { return outs_; }
  std::string describe() const override { return "LiteRT CPU, " + std::to_string(threads_) + " thread(s)"; }

  void run(const std::function<void(const std::vector<void*>&)>& fill,
           const std::function<void(const std::vector<const float*>&)>& read) override {
    try {
      model_->with_io(
          [&](const std::vector<void*>& bufs) {
            std::vector<void*> mine;
            for (size_t i : in_idx_) mine.push_back(bufs[i]);
            fill(mine);
          },
          [&](const std::vector<const void*>& bufs) {
            std::vector<const float*> mine;
            for (size_t i = 0; i < out_idx_.size(); ++i) mine.push_back(as_float(i, bufs[out_idx_[i]]));
            read(mine);
          });
    } catch (const litert::Error& e) {
      throw AppError(std::string("LiteRT: ") + e.what());
    }
  }

 private:
  static EngineTensor describe_tensor(const std::string& onnx_name, const litert::TensorDesc& d) {
    EngineTensor t;
    t.name = onnx_name;
    t.shape = d.shape;
    t.dtype = from_litert(d.dtype);
    t.bytes = d.bytes;
    t.quantized = d.quantized;
    t.scale = d.quantized ? d.scale : 1.0f;
    t.zero_point = d.quantized ? d.zero_point : 0;
    return t;
  }

  const float* as_float(size_t i, const void* p) { return output_as_float32(outs_[i], p, converted_[i]); }

  std::unique_ptr<litert::Model> model_;
  std::vector<size_t> in_idx_, out_idx_;
  std::vector<EngineTensor> ins_, outs_;
  std::vector<std::vector<float>> converted_;
  int threads_ = 1;
};

}  // namespace

std::unique_ptr<Engine> make_litert_engine(const ModelConfig& cfg, const std::string& dir, int threads,
                                           const std::string& lib_hint_dir) {
  return std::make_unique<LiteRtEngine>(cfg, dir, threads, lib_hint_dir);
}

}  // namespace edgepack::app
