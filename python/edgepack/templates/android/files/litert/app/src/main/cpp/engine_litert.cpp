// LiteRT engine for the app: edgepack's native pipeline (edgepack/pipeline.h) over LiteRT's C API.
// libLiteRt.so comes with the Maven AAR com.google.ai.edge.litert:litert (one per ABI, packaged by Gradle)
// and is opened with dlopen from the app's native library directory; nothing links against it.
// The preprocess kernel writes straight into LiteRT's input buffer and the post stage reads the output
// buffer in place, under the model's lock.
#include <memory>
#include <string>

#include "app_engine.h"
#include "edgepack/litert.h"
#include "edgepack/pipeline.h"

namespace edgepack_app {

namespace {

size_t find_tensor(const std::vector<edgepack::litert::TensorDesc>& ds, const std::string& name, int position,
                   const char* kind) {
  for (size_t i = 0; i < ds.size(); ++i) {
    if (!name.empty() && (ds[i].name == name || ds[i].signature_name == name)) return i;
  }
  if (ds.size() == 1) return 0;
  if (position >= 0 && static_cast<size_t>(position) < ds.size()) return static_cast<size_t>(position);
  throw AppError(std::string("the model has no ") + kind + " '" + name + "'");
}

edgepack::OutType out_type(const edgepack::litert::TensorDesc& d) {
  switch (d.dtype) {
    case edgepack::litert::DType::Float32: return edgepack::OutType::Float32;
    case edgepack::litert::DType::Float16: return edgepack::OutType::Float16;
    case edgepack::litert::DType::UInt8: return edgepack::OutType::UInt8;
    case edgepack::litert::DType::Int8: return edgepack::OutType::Int8;
    default:
      throw AppError("model input '" + d.name + "' is " + edgepack::litert::dtype_name(d.dtype) +
                     "; an image input must be float32, float16, uint8 or int8");
  }
}

class LiteRtEngine final : public Engine {
 public:
  explicit LiteRtEngine(const AppConfig& c) : config_(c) {
    std::shared_ptr<edgepack::litert::Model> model;
    try {
      model = edgepack::litert::Model::load(c.model_path, c.threads, c.lib_dir);
    } catch (const edgepack::litert::Error& e) {
      throw AppError(e.what());
    }
    input_ = find_tensor(model->inputs(), c.input_name, c.input_position, "input");
    const auto& in = model->inputs()[input_];
    // a uint8 input takes the raw pixels (the spec's mean 0 / std 1), as edgepack's Python Session feeds it
    dtype_ = out_type(in);
    edgepack::PostStage post = [](const std::vector<const void*>&, const edgepack::PreprocessInfo&,
                                  edgepack::PipelineResult*) {};
    if (c.post.kind != PostKind::None) {
      const size_t output = find_tensor(model->outputs(), c.output_name, c.output_position, "output");
      const auto& od = model->outputs()[output];
      if (od.dtype != edgepack::litert::DType::Float32) {
        throw AppError("model output '" + od.name + "' is " + edgepack::litert::dtype_name(od.dtype) +
                       "; the post stage reads float32");
      }
      const PostSpec spec = c.post;
      const std::vector<int64_t> shape = od.shape;
      // the post stage fills the AppResult of the frame in flight (run() holds the model's lock)
      post = [this, spec, shape, output](const std::vector<const void*>& outs, const edgepack::PreprocessInfo& info,
                                         edgepack::PipelineResult*) {
        postprocess(spec, static_cast<const float*>(outs[output]), shape, info, current_);
      };
    }
    try {
      pipeline_ = std::make_unique<edgepack::Pipeline>(model, input_, post);
    } catch (const std::invalid_argument& e) {
      throw AppError(e.what());
    }
    library_ = model->library_path();
  }

  AppResult run(const edgepack::ImageView& src, int rotate, bool mirror) override {
    edgepack::PreprocessParams p = frame_params(config_.pre, src, rotate, mirror);
    p.dtype = dtype_;
    AppResult r;
    current_ = &r;
    try {
      r.info = pipeline_->run(p).info;
    } catch (const edgepack::litert::Error& e) {
      current_ = nullptr;
      throw AppError(e.what());
    } catch (const std::invalid_argument& e) {
      current_ = nullptr;
      throw AppError(e.what());
    }
    current_ = nullptr;
    return r;
  }

  std::string describe() const override {
    const auto& in = pipeline_->model().inputs()[input_];
    std::string shape;
    for (size_t i = 0; i < in.shape.size(); ++i) shape += (i ? "x" : "") + std::to_string(in.shape[i]);
    return "LiteRT CPU, " + std::to_string(config_.threads) + " thread(s), input " +
           edgepack::litert::dtype_name(in.dtype) + " " + shape;
  }

 private:
  AppConfig config_;
  std::unique_ptr<edgepack::Pipeline> pipeline_;
  size_t input_ = 0;
  edgepack::OutType dtype_ = edgepack::OutType::Float32;
  std::string library_;
  AppResult* current_ = nullptr;  // only touched by run(), which the JNI layer serializes per model
};

}  // namespace

std::unique_ptr<Engine> make_engine(const AppConfig& config) { return std::make_unique<LiteRtEngine>(config); }

}  // namespace edgepack_app
