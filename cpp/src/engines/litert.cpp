// Native LiteRT engine over libLiteRt.so's C API, opened with dlopen (declarations in litert_capi.h).
#include "edgepack/litert.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "litert_capi.h"

namespace edgepack::litert {

namespace {

constexpr const char* kLibName = "libLiteRt.so";
constexpr const char* kEnvVar = "EDGEPACK_LITERT_LIB";
constexpr const char* kInstallHint = "install it with: pip install ai-edge-litert, or set EDGEPACK_LITERT_LIB to the "
                                     "path of libLiteRt.so";

// The C functions we call, resolved once per library file.
struct Api {
  std::string path;
  capi::CreateEnvironmentFn create_environment;
  capi::DestroyEnvironmentFn destroy_environment;
  capi::CreateModelFromFileFn create_model_from_file;
  capi::DestroyModelFn destroy_model;
  capi::GetNumModelSignaturesFn get_num_model_signatures;
  capi::GetModelSignatureFn get_model_signature;
  capi::GetNumSignatureIoFn get_num_signature_inputs;
  capi::GetNumSignatureIoFn get_num_signature_outputs;
  capi::GetSignatureIoNameFn get_signature_input_name;
  capi::GetSignatureIoNameFn get_signature_output_name;
  capi::GetSignatureIoTensorByIndexFn get_signature_input_tensor;
  capi::GetSignatureIoTensorByIndexFn get_signature_output_tensor;
  capi::GetTensorNameFn get_tensor_name;
  capi::GetTensorTypeIdFn get_tensor_type_id;
  capi::GetRankedTensorTypeFn get_ranked_tensor_type;
  capi::GetQuantizationTypeIdFn get_quantization_type_id;
  capi::GetPerTensorQuantizationFn get_per_tensor_quantization;
  capi::CreateOptionsFn create_options;
  capi::DestroyOptionsFn destroy_options;
  capi::SetOptionsHardwareAcceleratorsFn set_options_hardware_accelerators;
  capi::CreateOpaqueOptionsFn create_opaque_options;
  capi::DestroyOpaqueOptionsFn destroy_opaque_options;
  capi::AddOpaqueOptionsFn add_opaque_options;
  capi::CreateCompiledModelFn create_compiled_model;
  capi::DestroyCompiledModelFn destroy_compiled_model;
  capi::GetCompiledModelBufferRequirementsFn get_input_buffer_requirements;
  capi::GetCompiledModelBufferRequirementsFn get_output_buffer_requirements;
  capi::GetTensorBufferRequirementsBufferSizeFn get_requirements_buffer_size;
  capi::CreateTensorBufferFromHostMemoryFn create_tensor_buffer_from_host_memory;
  capi::DestroyTensorBufferFn destroy_tensor_buffer;
  capi::RunCompiledModelFn run_compiled_model;
};

std::mutex g_api_mu;
// Libraries stay loaded for the life of the process: LiteRT keeps process-wide state (thread pools,
// registries) that a dlclose would pull out from under running code.
std::map<std::string, Api>& api_cache() {
  static std::map<std::string, Api> cache;
  return cache;
}

template <typename Fn>
void resolve(void* handle, const std::string& path, const char* symbol, Fn* out) {
  dlerror();
  void* p = dlsym(handle, symbol);
  if (p == nullptr) {
    throw Error(ErrorKind::Library, std::string("LiteRT library ") + path + " has no function " + symbol +
                                        " (not libLiteRt.so, or a LiteRT too old for edgepack); upgrade it with: "
                                        "pip install -U ai-edge-litert, or point EDGEPACK_LITERT_LIB at a newer "
                                        "libLiteRt.so");
  }
  *out = reinterpret_cast<Fn>(p);
}

Api resolve_all(void* h, const std::string& path) {
  Api a;
  a.path = path;
  resolve(h, path, "LiteRtCreateEnvironment", &a.create_environment);
  resolve(h, path, "LiteRtDestroyEnvironment", &a.destroy_environment);
  resolve(h, path, "LiteRtCreateModelFromFile", &a.create_model_from_file);
  resolve(h, path, "LiteRtDestroyModel", &a.destroy_model);
  resolve(h, path, "LiteRtGetNumModelSignatures", &a.get_num_model_signatures);
  resolve(h, path, "LiteRtGetModelSignature", &a.get_model_signature);
  resolve(h, path, "LiteRtGetNumSignatureInputs", &a.get_num_signature_inputs);
  resolve(h, path, "LiteRtGetNumSignatureOutputs", &a.get_num_signature_outputs);
  resolve(h, path, "LiteRtGetSignatureInputName", &a.get_signature_input_name);
  resolve(h, path, "LiteRtGetSignatureOutputName", &a.get_signature_output_name);
  resolve(h, path, "LiteRtGetSignatureInputTensorByIndex", &a.get_signature_input_tensor);
  resolve(h, path, "LiteRtGetSignatureOutputTensorByIndex", &a.get_signature_output_tensor);
  resolve(h, path, "LiteRtGetTensorName", &a.get_tensor_name);
  resolve(h, path, "LiteRtGetTensorTypeId", &a.get_tensor_type_id);
  resolve(h, path, "LiteRtGetRankedTensorType", &a.get_ranked_tensor_type);
  resolve(h, path, "LiteRtGetQuantizationTypeId", &a.get_quantization_type_id);
  resolve(h, path, "LiteRtGetPerTensorQuantization", &a.get_per_tensor_quantization);
  resolve(h, path, "LiteRtCreateOptions", &a.create_options);
  resolve(h, path, "LiteRtDestroyOptions", &a.destroy_options);
  resolve(h, path, "LiteRtSetOptionsHardwareAccelerators", &a.set_options_hardware_accelerators);
  resolve(h, path, "LiteRtCreateOpaqueOptions", &a.create_opaque_options);
  resolve(h, path, "LiteRtDestroyOpaqueOptions", &a.destroy_opaque_options);
  resolve(h, path, "LiteRtAddOpaqueOptions", &a.add_opaque_options);
  resolve(h, path, "LiteRtCreateCompiledModel", &a.create_compiled_model);
  resolve(h, path, "LiteRtDestroyCompiledModel", &a.destroy_compiled_model);
  resolve(h, path, "LiteRtGetCompiledModelInputBufferRequirements", &a.get_input_buffer_requirements);
  resolve(h, path, "LiteRtGetCompiledModelOutputBufferRequirements", &a.get_output_buffer_requirements);
  resolve(h, path, "LiteRtGetTensorBufferRequirementsBufferSize", &a.get_requirements_buffer_size);
  resolve(h, path, "LiteRtCreateTensorBufferFromHostMemory", &a.create_tensor_buffer_from_host_memory);
  resolve(h, path, "LiteRtDestroyTensorBuffer", &a.destroy_tensor_buffer);
  resolve(h, path, "LiteRtRunCompiledModel", &a.run_compiled_model);
  return a;
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// dlopen + dlsym of every function; cached by the path that was asked for.
const Api& open_api(const std::string& hint_dir) {
  std::string path;
  std::string origin;
  const char* env = std::getenv(kEnvVar);
  if (env != nullptr && *env != '\0') {
    path = env;
    origin = std::string(kEnvVar) + "=" + path;
    if (!is_regular_file(path)) {
      throw Error(ErrorKind::Library, origin + " is not a file; set it to the path of libLiteRt.so (inside the "
                                               "ai_edge_litert package directory) or unset it");
    }
  } else if (!hint_dir.empty() && is_regular_file(hint_dir + "/" + kLibName)) {
    path = hint_dir + "/" + kLibName;
    origin = path;
  } else {
    path = kLibName;  // the dynamic linker's search path (LD_LIBRARY_PATH, system dirs)
    origin = std::string(kLibName) + " (searched in " + (hint_dir.empty() ? "" : hint_dir + " and ") +
             "the library path)";
  }
  std::lock_guard<std::mutex> lock(g_api_mu);
  auto& cache = api_cache();
  auto it = cache.find(path);
  if (it != cache.end()) return it->second;
  dlerror();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = dlerror();
    if (env != nullptr && *env != '\0') {
      throw Error(ErrorKind::Library, origin + " cannot be loaded as a library (" + (why ? why : "unknown error") +
                                          "); point it at libLiteRt.so from the ai-edge-litert wheel or unset it");
    }
    throw Error(ErrorKind::Library, std::string("LiteRT runtime not found: ") + origin + " failed to load (" +
                                        (why ? why : "unknown error") + "); " + kInstallHint);
  }
  try {
    return cache.emplace(path, resolve_all(h, path)).first->second;
  } catch (...) {
    dlclose(h);  // not LiteRT: nothing from it is in use yet
    throw;
  }
}

std::string status_text(capi::Status s) {
  switch (s) {
    case capi::kInvalidArgument: return "invalid argument";
    case capi::kMemoryAllocationFailure: return "memory allocation failure";
    case capi::kRuntimeFailure: return "runtime failure";
    case capi::kMissingInputTensor: return "missing input tensor";
    case capi::kUnsupported: return "unsupported";
    case capi::kNotFound: return "not found";
    case capi::kFileIO: return "file I/O error";
    case capi::kInvalidFlatbuffer: return "invalid flatbuffer";
    case capi::kDynamicLoading: return "dynamic loading error";
    case capi::kCompilation: return "compilation error";
    default: return "status " + std::to_string(s);
  }
}

void check(capi::Status s, ErrorKind kind, const std::string& what) {
  if (s != capi::kOk) throw Error(kind, what + " failed: LiteRT " + status_text(s) + " (" + std::to_string(s) + ")");
}

bool to_dtype(int element_type, DType* out) {
  switch (element_type) {
    case capi::kElementFloat32: *out = DType::Float32; return true;
    case capi::kElementFloat16: *out = DType::Float16; return true;
    case capi::kElementFloat64: *out = DType::Float64; return true;
    case capi::kElementInt8: *out = DType::Int8; return true;
    case capi::kElementUInt8: *out = DType::UInt8; return true;
    case capi::kElementInt16: *out = DType::Int16; return true;
    case capi::kElementUInt16: *out = DType::UInt16; return true;
    case capi::kElementInt32: *out = DType::Int32; return true;
    case capi::kElementUInt32: *out = DType::UInt32; return true;
    case capi::kElementInt64: *out = DType::Int64; return true;
    case capi::kElementUInt64: *out = DType::UInt64; return true;
    case capi::kElementBool: *out = DType::Bool; return true;
    default: return false;
  }
}

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::Float64: return "float64";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Int16: return "int16";
    case DType::UInt16: return "uint16";
    case DType::Int32: return "int32";
    case DType::UInt32: return "uint32";
    case DType::Int64: return "int64";
    case DType::UInt64: return "uint64";
    case DType::Bool: return "bool";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::Int8: case DType::UInt8: case DType::Bool: return 1;
    case DType::Float16: case DType::Int16: case DType::UInt16: return 2;
    case DType::Float32: case DType::Int32: case DType::UInt32: return 4;
    case DType::Float64: case DType::Int64: case DType::UInt64: return 8;
  }
  return 0;
}

std::string load_library(const std::string& hint_dir) { return open_api(hint_dir).path; }

// Owns every LiteRT object of one loaded model, destroyed in reverse order of creation.
struct Model::Impl {
  const Api* api = nullptr;
  capi::Environment env = nullptr;
  capi::Model model = nullptr;
  capi::Options options = nullptr;
  capi::CompiledModel compiled = nullptr;
  std::vector<capi::TensorBuffer> in_buffers, out_buffers;
  std::vector<void*> in_host, out_host;  // 64-byte aligned, freed after the buffers over them

  ~Impl() {
    for (auto b : in_buffers) api->destroy_tensor_buffer(b);
    for (auto b : out_buffers) api->destroy_tensor_buffer(b);
    if (compiled) api->destroy_compiled_model(compiled);
    if (options) api->destroy_options(options);
    if (model) api->destroy_model(model);
    if (env) api->destroy_environment(env);
    for (void* p : in_host) std::free(p);
    for (void* p : out_host) std::free(p);
  }
};

Model::Model() : impl_(new Impl) {}
Model::~Model() = default;

namespace {

TensorDesc describe_tensor(const Api& api, capi::Tensor t, const char* sig_name, const std::string& where,
                           capi::RankedTensorType* type) {
  TensorDesc d;
  const char* name = nullptr;
  check(api.get_tensor_name(t, &name), ErrorKind::Model, "reading the name of " + where);
  d.name = name ? name : "";
  d.signature_name = sig_name ? sig_name : d.name;
  const std::string label = where + " '" + d.name + "'";
  int type_id = -1;
  check(api.get_tensor_type_id(t, &type_id), ErrorKind::Model, "reading the type of " + label);
  if (type_id != capi::kRankedTensorTypeId) {
    throw Error(ErrorKind::Model, label + " has no fixed rank; litert-native runs models with static shapes only "
                                          "(use engine 'litert' for dynamic shapes)");
  }
  check(api.get_ranked_tensor_type(t, type), ErrorKind::Model, "reading the shape of " + label);
  if (!to_dtype(type->element_type, &d.dtype)) {
    throw Error(ErrorKind::Model, label + " has element type " + std::to_string(type->element_type) +
                                      " (string, complex or sub-byte), which litert-native cannot feed or read; "
                                      "use engine 'litert'");
  }
  if (type->layout.rank > capi::kTensorMaxRank) {
    throw Error(ErrorKind::Model, label + " has rank " + std::to_string(type->layout.rank) + " > 8");
  }
  size_t n = 1;
  for (unsigned i = 0; i < type->layout.rank; ++i) {
    const int32_t dim = type->layout.dimensions[i];
    if (dim < 0) {
      throw Error(ErrorKind::Model, label + " has a dynamic dimension " + std::to_string(i) +
                                        "; litert-native runs models with static shapes only (use engine 'litert')");
    }
    d.shape.push_back(dim);
    n *= static_cast<size_t>(dim);
  }
  d.bytes = n * dtype_size(d.dtype);
  int q_type = 0;
  if (api.get_quantization_type_id(t, &q_type) == capi::kOk && q_type == capi::kQuantizationPerTensor) {
    capi::QuantizationPerTensor q{};
    check(api.get_per_tensor_quantization(t, &q), ErrorKind::Model, "reading the quantization of " + label);
    d.quantized = true;
    d.scale = q.scale;
    d.zero_point = q.zero_point;
  }
  return d;
}

// The inputs (or outputs) of a signature, in signature order, with the tensor types their buffers need.
void describe_signature_io(const Api& api, capi::Signature sig, bool inputs, std::vector<TensorDesc>* descs,
                           std::vector<capi::RankedTensorType>* types) {
  const std::string kind = inputs ? "input" : "output";
  capi::ParamIndex n = 0;
  check((inputs ? api.get_num_signature_inputs : api.get_num_signature_outputs)(sig, &n), ErrorKind::Model,
        "counting the " + kind + "s");
  for (capi::ParamIndex i = 0; i < n; ++i) {
    const char* sname = nullptr;
    capi::Tensor t = nullptr;
    const std::string what = "reading " + kind + " " + std::to_string(i);
    check((inputs ? api.get_signature_input_name : api.get_signature_output_name)(sig, i, &sname), ErrorKind::Model,
          what);
    check((inputs ? api.get_signature_input_tensor : api.get_signature_output_tensor)(sig, i, &t), ErrorKind::Model,
          what);
    capi::RankedTensorType type{};
    descs->push_back(describe_tensor(api, t, sname, kind, &type));
    types->push_back(type);
  }
}

// A tensor buffer over our own 64-byte aligned host memory, at least `bytes` and what LiteRT requires.
void make_buffer(const Api& api, capi::TensorBufferRequirements req, const capi::RankedTensorType& type,
                 const TensorDesc& d, std::vector<void*>* hosts, std::vector<capi::TensorBuffer>* buffers) {
  size_t size = d.bytes;
  size_t req_size = 0;
  if (req != nullptr && api.get_requirements_buffer_size(req, &req_size) == capi::kOk && req_size > size) {
    size = req_size;
  }
  const size_t alloc = round_up(size == 0 ? 1 : size, capi::kHostMemoryAlignment);
  void* p = std::aligned_alloc(capi::kHostMemoryAlignment, alloc);
  if (p == nullptr) throw Error(ErrorKind::Model, "out of memory allocating " + std::to_string(alloc) + " bytes for '" +
                                                      d.name + "'");
  std::memset(p, 0, alloc);
  hosts->push_back(p);
  capi::TensorBuffer b = nullptr;
  check(api.create_tensor_buffer_from_host_memory(&type, p, alloc, nullptr, &b), ErrorKind::Model,
        "creating the tensor buffer of '" + d.name + "'");
  buffers->push_back(b);
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& path, int threads, const std::string& lib_hint_dir) {
  if (threads < 1) throw Error(ErrorKind::Input, "threads must be >= 1, got " + std::to_string(threads));
  {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      throw Error(ErrorKind::Input, "model file " + path + " cannot be opened (" + std::strerror(errno) +
                                        "); check the path");
    }
    if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::Input, "model path " + path + " is not a file");
  }
  const Api& api = open_api(lib_hint_dir);
  std::unique_ptr<Model> m(new Model);
  m->library_path_ = api.path;
  m->threads_ = threads;
  Impl& I = *m->impl_;
  I.api = &api;
  check(api.create_environment(0, nullptr, &I.env), ErrorKind::Model, "creating the LiteRT environment");
  const capi::Status load_status = api.create_model_from_file(I.env, path.c_str(), &I.model);
  if (load_status != capi::kOk) {
    I.model = nullptr;
    throw Error(ErrorKind::Model, path + " is not a valid .tflite model (LiteRT " + status_text(load_status) +
                                      "); check that the file is complete and was written by a TFLite/LiteRT "
                                      "converter");
  }
  capi::ParamIndex n_sig = 0;
  check(api.get_num_model_signatures(I.model, &n_sig), ErrorKind::Model, "reading the signatures of " + path);
  if (n_sig == 0) throw Error(ErrorKind::Model, path + " has no signature and no subgraph to run");
  capi::Signature sig = nullptr;
  check(api.get_model_signature(I.model, 0, &sig), ErrorKind::Model, "reading signature 0 of " + path);

  std::vector<capi::RankedTensorType> in_types, out_types;
  describe_signature_io(api, sig, true, &m->inputs_, &in_types);
  describe_signature_io(api, sig, false, &m->outputs_, &out_types);

  // CPU accelerator; the thread count goes in the CPU (XNNPACK) options, an opaque payload that LiteRT
  // parses as TOML text under the identifier "xnnpack" (what LrtGetOpaqueCpuOptionsData produces).
  check(api.create_options(&I.options), ErrorKind::Model, "creating LiteRT options");
  check(api.set_options_hardware_accelerators(I.options, capi::kHwAcceleratorCpu), ErrorKind::Model,
        "selecting the CPU accelerator");
  {
    const std::string toml = "num_threads = " + std::to_string(threads) + "\n";
    char* payload = static_cast<char*>(std::malloc(toml.size() + 1));
    if (payload == nullptr) throw Error(ErrorKind::Model, "out of memory");
    std::memcpy(payload, toml.c_str(), toml.size() + 1);
    capi::OpaqueOptions cpu = nullptr;
    const capi::Status s = api.create_opaque_options("xnnpack", payload, std::free, &cpu);
    if (s != capi::kOk) {
      std::free(payload);
      check(s, ErrorKind::Model, "creating the CPU options");
    }
    const capi::Status add = api.add_opaque_options(I.options, cpu);  // takes ownership on success
    if (add != capi::kOk) {
      api.destroy_opaque_options(cpu);
      check(add, ErrorKind::Model, "adding the CPU options");
    }
  }
  const capi::Status cs = api.create_compiled_model(I.env, I.model, I.options, &I.compiled);
  if (cs != capi::kOk) {
    I.compiled = nullptr;
    throw Error(ErrorKind::Model, "LiteRT could not compile " + path + " for the CPU (" + status_text(cs) +
                                      "); the model may use an op this LiteRT build lacks: run it with engine "
                                      "'litert' to see the interpreter's message");
  }
  for (size_t i = 0; i < m->inputs_.size(); ++i) {
    capi::TensorBufferRequirements req = nullptr;
    if (api.get_input_buffer_requirements(I.compiled, 0, i, &req) != capi::kOk) req = nullptr;
    make_buffer(api, req, in_types[i], m->inputs_[i], &I.in_host, &I.in_buffers);
  }
  for (size_t i = 0; i < m->outputs_.size(); ++i) {
    capi::TensorBufferRequirements req = nullptr;
    if (api.get_output_buffer_requirements(I.compiled, 0, i, &req) != capi::kOk) req = nullptr;
    make_buffer(api, req, out_types[i], m->outputs_[i], &I.out_host, &I.out_buffers);
  }
  return m;
}

void Model::run_locked() {
  Impl& I = *impl_;
  check(I.api->run_compiled_model(I.compiled, 0, I.in_buffers.size(), I.in_buffers.data(), I.out_buffers.size(),
                                  I.out_buffers.data()),
        ErrorKind::Run, "running the model");
}

void Model::run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs) {
  if (inputs.size() != inputs_.size() || outputs.size() != outputs_.size()) {
    std::ostringstream s;
    s << "run: the model takes " << inputs_.size() << " input(s) and " << outputs_.size() << " output(s), got "
      << inputs.size() << " and " << outputs.size();
    throw Error(ErrorKind::Input, s.str());
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < inputs.size(); ++i) std::memcpy(impl_->in_host[i], inputs[i], inputs_[i].bytes);
  run_locked();
  for (size_t i = 0; i < outputs.size(); ++i) std::memcpy(outputs[i], impl_->out_host[i], outputs_[i].bytes);
}

void Model::with_io(const IoFn& fill, const std::function<void(const std::vector<const void*>&)>& read) {
  std::lock_guard<std::mutex> lock(mu_);
  fill(impl_->in_host);
  run_locked();
  read(std::vector<const void*>(impl_->out_host.begin(), impl_->out_host.end()));
}

}  // namespace edgepack::litert
