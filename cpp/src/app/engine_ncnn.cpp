// Engine adapter over ncnn's C++ API (the iOS app links ncnn.xcframework + openmp.xcframework; Android
// links an ncnn SDK). As the Python ncnn engine: blobs by their pnnx names (in0 / out0, the config's
// engine names), a leading batch of 1 dropped on the way in and restored on the way out, fp16 storage and
// arithmetic only for an fp16 artifact (fp32 parity otherwise), CPU only (ncnn's Vulkan on Apple needs
// MoltenVK). ncnn Mats pad every channel to 16 bytes, so data is copied per channel both ways.
//
// Not compiled on the edgepack test machines (the ncnn wheels ship no headers or libraries).
#if __has_include(<ncnn/ncnn/net.h>)
#include <ncnn/ncnn/net.h>  // ncnn.framework keeps its headers in Headers/ncnn/
#else
#include <ncnn/net.h>  // an installed ncnn SDK: include/ncnn/net.h
#endif

#include <cstring>

#include "edgepack/app.h"

namespace edgepack::app {

namespace {

std::vector<int64_t> without_batch(const std::vector<int64_t>& s) {
  if (s.size() >= 2 && s[0] == 1) return {s.begin() + 1, s.end()};
  return s;
}

size_t elements(const std::vector<int64_t>& s) {
  size_t n = 1;
  for (int64_t d : s) n *= static_cast<size_t>(d);
  return n;
}

// A Mat of the (batch-less) shape: ncnn orders dims as c, d, h, w from the outermost.
ncnn::Mat make_mat(const std::vector<int64_t>& s, const std::string& name) {
  auto d = [&](size_t i) { return static_cast<int>(s[i]); };
  switch (s.size()) {
    case 1: return ncnn::Mat(d(0));
    case 2: return ncnn::Mat(d(1), d(0));
    case 3: return ncnn::Mat(d(2), d(1), d(0));
    case 4: return ncnn::Mat(d(3), d(2), d(1), d(0));
    default: throw AppError("ncnn tensors have at most 4 dims without the batch: '" + name + "' has more");
  }
}

class NcnnEngine : public Engine {
 public:
  NcnnEngine(const ModelConfig& cfg, const std::string& dir, int threads) : threads_(threads) {
    const auto param = cfg.files.find("param"), bin = cfg.files.find("bin");
    if (param == cfg.files.end() || bin == cfg.files.end()) {
      throw AppError("edgepack_model.cfg names no 'param' and 'bin' files for the ncnn engine");
    }
    const bool fp16 = cfg.precision == "fp16";
    net_.opt.num_threads = threads;
    net_.opt.use_vulkan_compute = false;
    net_.opt.use_fp16_storage = fp16;
    net_.opt.use_fp16_arithmetic = fp16;
    net_.opt.use_fp16_packed = fp16;
    const std::string pp = dir + "/" + param->second, bp = dir + "/" + bin->second;
    if (net_.load_param(pp.c_str()) != 0) {
      throw AppError("ncnn could not load " + param->second + ": corrupt, or a layer this ncnn build lacks");
    }
    if (net_.load_model(bp.c_str()) != 0) throw AppError("ncnn could not load " + bin->second + ": corrupt or truncated");
    for (const auto& t : cfg.inputs) ins_.push_back(describe_tensor(t)), in_names_.push_back(t.engine_name);
    for (const auto& t : cfg.outputs) outs_.push_back(describe_tensor(t)), out_names_.push_back(t.engine_name);
    staging_.resize(ins_.size());
    for (size_t i = 0; i < ins_.size(); ++i) staging_[i].resize(elements(ins_[i].shape));
    results_.resize(outs_.size());
  }

  const std::vector<EngineTensor>& inputs() const override { return ins_; }
  const std::vector<EngineTensor>& outputs() const override { return outs_; }
  std::string describe() const override { return "ncnn CPU, " + std::to_string(threads_) + " thread(s)"; }

  void run(const std::function<void(const std::vector<void*>&)>& fill,
           const std::function<void(const std::vector<const float*>&)>& read) override {
    std::vector<void*> bufs;
    for (auto& s : staging_) bufs.push_back(s.data());
    fill(bufs);
    ncnn::Extractor ex = net_.create_extractor();
    std::vector<ncnn::Mat> keep;  // inputs must outlive the extractor's use of them
    for (size_t i = 0; i < ins_.size(); ++i) {
      const auto shape = without_batch(ins_[i].shape);
      ncnn::Mat m = make_mat(shape, ins_[i].name);
      const size_t per = elements(shape) / static_cast<size_t>(m.c);
      for (int q = 0; q < m.c; ++q) {
        std::memcpy(m.channel(q).data, staging_[i].data() + per * static_cast<size_t>(q), per * sizeof(float));
      }
      keep.push_back(m);
      if (ex.input(in_names_[i].c_str(), keep.back()) != 0) {
        throw AppError("ncnn has no input blob '" + in_names_[i] + "'; regenerate the project");
      }
    }
    std::vector<const float*> outs;
    for (size_t i = 0; i < outs_.size(); ++i) {
      ncnn::Mat m;
      if (ex.extract(out_names_[i].c_str(), m) != 0) {
        throw AppError("ncnn failed to compute output blob '" + out_names_[i] + "'");
      }
      const size_t per = static_cast<size_t>(m.w) * m.h * m.d, n = per * static_cast<size_t>(m.c);
      if (n != elements(outs_[i].shape) || m.elemsize != 4 || m.elempack != 1) {
        throw AppError("ncnn output '" + outs_[i].name + "' has " + std::to_string(n) + " elements, expected " +
                       std::to_string(elements(outs_[i].shape)));
      }
      auto& dst = results_[i];
      dst.resize(n);
      for (int q = 0; q < m.c; ++q) {
        std::memcpy(dst.data() + per * static_cast<size_t>(q), m.channel(q).data, per * sizeof(float));
      }
      outs.push_back(dst.data());
    }
    read(outs);
  }

 private:
  static EngineTensor describe_tensor(const TensorSpec& t) {
    EngineTensor e;
    e.name = t.name;
    e.shape = t.shape;
    e.dtype = DType::Float32;  // ncnn takes and gives float32 blobs
    e.bytes = elements(t.shape) * sizeof(float);
    return e;
  }

  ncnn::Net net_;
  int threads_;
  std::vector<EngineTensor> ins_, outs_;
  std::vector<std::string> in_names_, out_names_;
  std::vector<std::vector<float>> staging_, results_;
};

}  // namespace

std::unique_ptr<Engine> make_ncnn_engine(const ModelConfig& cfg, const std::string& dir, int threads) {
  return std::make_unique<NcnnEngine>(cfg, dir, threads);
}

}  // namespace edgepack::app
