// ncnn engine for the app: edgepack's preprocess kernel writes the CHW float input, ncnn runs it on the CPU,
// the post stage reads the unpacked float output. Blob names are the artifact's engine names (in0, out0...).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "app_engine.h"
#include "net.h"

namespace edgepack_app {

namespace {

class NcnnEngine final : public Engine {
 public:
  explicit NcnnEngine(const AppConfig& c) : config_(c) {
    net_.opt.num_threads = c.threads;
    net_.opt.use_vulkan_compute = false;  // CPU: the same numbers edgepack verified; Vulkan is a later choice
    if (net_.load_param(c.model_path.c_str()) != 0) throw AppError("ncnn cannot read " + c.model_path);
    if (net_.load_model(c.model_path2.c_str()) != 0) throw AppError("ncnn cannot read " + c.model_path2);
    if (c.pre.layout != edgepack::TensorLayout::CHW) throw AppError("the ncnn engine takes NCHW inputs; repack with --layout NCHW");
  }

  AppResult run(const edgepack::ImageView& src, int rotate, bool mirror) override {
    edgepack::PreprocessParams p = frame_params(config_.pre, src, rotate, mirror);
    p.dtype = edgepack::OutType::Float32;  // ncnn takes float input, also for uint8 specs (raw pixel values)
    const int c = edgepack::preprocess_out_channels(p);
    input_.resize(static_cast<size_t>(c) * p.out_width * p.out_height);
    p.dst = input_.data();
    p.dst_bytes = input_.size() * sizeof(float);
    AppResult r;
    try {
      r.info = edgepack::preprocess(p);
    } catch (const std::invalid_argument& e) {
      throw AppError(e.what());
    }
    ncnn::Mat in(p.out_width, p.out_height, c);
    const size_t plane = static_cast<size_t>(p.out_width) * p.out_height;
    for (int q = 0; q < c; ++q) std::memcpy(in.channel(q), input_.data() + q * plane, plane * sizeof(float));
    ncnn::Extractor ex = net_.create_extractor();
    if (ex.input(config_.input_name.c_str(), in) != 0) throw AppError("ncnn has no input blob '" + config_.input_name + "'");
    if (config_.post.kind == PostKind::None) return r;
    ncnn::Mat out;
    if (ex.extract(config_.output_name.c_str(), out) != 0) {
      throw AppError("ncnn has no output blob '" + config_.output_name + "'");
    }
    // unpacked float32 (extract's default): copy channel by channel (channels are cstep-aligned)
    const size_t per = static_cast<size_t>(out.w) * out.h * out.d;
    output_.resize(per * out.c);
    for (int q = 0; q < out.c; ++q) std::memcpy(output_.data() + q * per, out.channel(q), per * sizeof(float));
    size_t want = 1;
    for (int64_t v : config_.output_shape) want *= static_cast<size_t>(v > 0 ? v : 1);
    if (want != output_.size()) {
      throw AppError("ncnn output '" + config_.output_name + "' has " + std::to_string(output_.size()) +
                     " values, the manifest's shape has " + std::to_string(want));
    }
    postprocess(config_.post, output_.data(), config_.output_shape, r.info, &r);
    return r;
  }

  std::string describe() const override {
    return "ncnn CPU, " + std::to_string(config_.threads) + " thread(s), input " + std::to_string(config_.pre.width) +
           "x" + std::to_string(config_.pre.height);
  }

 private:
  AppConfig config_;
  ncnn::Net net_;
  std::vector<float> input_, output_;
};

}  // namespace

std::unique_ptr<Engine> make_engine(const AppConfig& config) { return std::make_unique<NcnnEngine>(config); }

}  // namespace edgepack_app
