// Native LiteRT engine: runs a .tflite file through LiteRT's C API (CompiledModel, CPU accelerator).
// libLiteRt.so is opened with dlopen at run time, so building edgepack needs no LiteRT files at all.
//
// Thread-safety: a LiteRtModel may be shared between threads. run() and with_io() hold a per-model mutex
// for the whole copy-in / run / copy-out, so calls on one model are serialized (a LiteRT compiled model
// is not re-entrant). Different models run in parallel; load one model per thread for parallel inference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgepack::litert {

// Why a call failed; the bindings map each kind to an edgepack.Error subclass.
enum class ErrorKind {
  Library,  // libLiteRt.so missing, not a library, or lacking a symbol -> EngineUnavailableError
  Model,    // the .tflite cannot be read, parsed or compiled -> ModelError
  Input,    // wrong number / size of inputs, bad argument -> InputError
  Run,      // LiteRT failed while running -> EngineRunError
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Element types edgepack can feed and read (a subset of LiteRT's; strings/complex are refused at load).
enum class DType { Float32, Float16, Float64, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64, Bool };
// numpy's name for the type: "float32", "uint8", "bool"...
const char* dtype_name(DType t);
size_t dtype_size(DType t);

struct TensorDesc {
  std::string name;            // the tensor's name in the .tflite (what the Python Interpreter reports)
  std::string signature_name;  // its name in the model's first signature (same as `name` without signatures)
  std::vector<int64_t> shape;
  DType dtype = DType::Float32;
  size_t bytes = 0;            // product(shape) * dtype_size
  bool quantized = false;      // per-tensor affine quantization: real = scale * (q - zero_point)
  float scale = 0.0f;
  int64_t zero_point = 0;
};

// The directory that holds libLiteRt.so is found in this order: the file named by EDGEPACK_LITERT_LIB
// (must be the library itself), then `<hint_dir>/libLiteRt.so` when hint_dir is not empty, then the
// dynamic linker's search path ("libLiteRt.so"). Returns the path that loaded; throws Error(Library).
std::string load_library(const std::string& hint_dir);

class Model {
 public:
  // Loads `path` and compiles it for the CPU with `threads` threads (>= 1).
  static std::unique_ptr<Model> load(const std::string& path, int threads, const std::string& lib_hint_dir = "");
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::vector<TensorDesc>& inputs() const { return inputs_; }
  const std::vector<TensorDesc>& outputs() const { return outputs_; }
  const std::string& library_path() const { return library_path_; }
  int threads() const { return threads_; }

  // Copies inputs[i] (inputs()[i].bytes each) in, runs, copies each output to outputs[i]. Serialized per model.
  void run(const std::vector<const void*>& inputs, const std::vector<void*>& outputs);

  // Zero-copy access for the Pipeline: under the model's lock, `fill(input_ptrs)` writes the inputs in place
  // (64-byte aligned host buffers), the model runs, then `read(output_ptrs)` reads the outputs in place.
  using IoFn = std::function<void(const std::vector<void*>&)>;
  void with_io(const IoFn& fill, const std::function<void(const std::vector<const void*>&)>& read);

 private:
  struct Impl;
  Model();
  void run_locked();

  std::unique_ptr<Impl> impl_;
  std::vector<TensorDesc> inputs_, outputs_;
  std::string library_path_;
  int threads_ = 1;
  std::mutex mu_;
};

}  // namespace edgepack::litert
