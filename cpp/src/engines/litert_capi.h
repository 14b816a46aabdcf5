// Our own declarations of the part of LiteRT's C API (libLiteRt.so, ai-edge-litert wheel) that edgepack
// uses. No LiteRT header ships with the wheel, so the types and signatures below are written from the
// documented API (litert/c/litert_common.h, litert_model.h, litert_compiled_model.h, litert_options.h,
// litert_opaque_options.h, litert_tensor_buffer.h, litert_layout.h) and checked against the symbols the
// .so exports. Functions are resolved at run time with dlsym: nothing links against LiteRT at build time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgepack::litert::capi {

// Status codes (LiteRtStatus). Only the ones we name in messages; every other value is reported by number.
using Status = int;
constexpr Status kOk = 0;
constexpr Status kInvalidArgument = 1;
constexpr Status kMemoryAllocationFailure = 2;
constexpr Status kRuntimeFailure = 3;
constexpr Status kMissingInputTensor = 4;
constexpr Status kUnsupported = 5;
constexpr Status kNotFound = 6;
constexpr Status kFileIO = 500;
constexpr Status kInvalidFlatbuffer = 501;
constexpr Status kDynamicLoading = 502;
constexpr Status kCompilation = 504;

// Opaque handles: pointers to incomplete types, never dereferenced here.
struct EnvironmentT;
struct ModelT;
struct SignatureT;
struct TensorT;
struct OptionsT;
struct OpaqueOptionsT;
struct CompiledModelT;
struct TensorBufferT;
struct TensorBufferRequirementsT;
using Environment = EnvironmentT*;
using Model = ModelT*;
using Signature = SignatureT*;
using Tensor = TensorT*;
using Options = OptionsT*;
using OpaqueOptions = OpaqueOptionsT*;
using CompiledModel = CompiledModelT*;
using TensorBuffer = TensorBufferT*;
using TensorBufferRequirements = TensorBufferRequirementsT*;
using ParamIndex = size_t;

// LiteRtElementType values (they are TfLiteType's).
enum ElementType : int {
  kElementNone = 0,
  kElementFloat32 = 1,
  kElementInt32 = 2,
  kElementUInt8 = 3,
  kElementInt64 = 4,
  kElementString = 5,
  kElementBool = 6,
  kElementInt16 = 7,
  kElementComplex64 = 8,
  kElementInt8 = 9,
  kElementFloat16 = 10,
  kElementFloat64 = 11,
  kElementUInt64 = 13,
  kElementUInt32 = 16,
  kElementUInt16 = 17,
};

constexpr int kTensorMaxRank = 8;
constexpr int kRankedTensorTypeId = 0;     // LiteRtTensorTypeId
constexpr int kHwAcceleratorCpu = 1 << 0;  // LiteRtHwAccelerators
constexpr int kQuantizationPerTensor = 1;  // LiteRtQuantizationTypeId
constexpr size_t kHostMemoryAlignment = 64;

// LiteRtLayout: a 7-bit rank and a 1-bit has_strides flag share the first 32-bit word.
struct Layout {
  unsigned int rank : 7;
  unsigned int has_strides : 1;
  int32_t dimensions[kTensorMaxRank];
  uint32_t strides[kTensorMaxRank];
};
struct RankedTensorType {
  int element_type;  // ElementType, stored as a C enum (int)
  Layout layout;
};
struct QuantizationPerTensor {
  float scale;
  int64_t zero_point;
};
// Sizes and offsets LiteRT asserts for 64-bit targets; a mismatch here means our declarations are wrong.
static_assert(sizeof(Layout) == 68, "LiteRtLayout is 68 bytes");
static_assert(offsetof(Layout, dimensions) == 4, "LiteRtLayout.dimensions at 4");
static_assert(offsetof(Layout, strides) == 36, "LiteRtLayout.strides at 36");
static_assert(sizeof(RankedTensorType) == 72, "LiteRtRankedTensorType is 72 bytes");
static_assert(offsetof(RankedTensorType, layout) == 4, "LiteRtRankedTensorType.layout at 4");
static_assert(sizeof(QuantizationPerTensor) == 16, "LiteRtQuantizationPerTensor is 16 bytes");

using HostMemoryDeallocator = void (*)(void*);

// Function pointer types, one per C function we call (names follow the exported symbols).
extern "C" {
using CreateEnvironmentFn = Status (*)(int num_options, const void* options, Environment* env);
using DestroyEnvironmentFn = void (*)(Environment);
using CreateModelFromFileFn = Status (*)(Environment, const char* filename, Model* model);
using DestroyModelFn = void (*)(Model);
using GetNumModelSignaturesFn = Status (*)(Model, ParamIndex* num);
using GetModelSignatureFn = Status (*)(Model, ParamIndex index, Signature* signature);
using GetNumSignatureIoFn = Status (*)(Signature, ParamIndex* num);
using GetSignatureIoNameFn = Status (*)(Signature, ParamIndex index, const char** name);
using GetSignatureIoTensorByIndexFn = Status (*)(Signature, ParamIndex index, Tensor* tensor);
using GetTensorNameFn = Status (*)(Tensor, const char** name);
using GetTensorTypeIdFn = Status (*)(Tensor, int* type_id);
using GetRankedTensorTypeFn = Status (*)(Tensor, RankedTensorType* type);
using GetQuantizationTypeIdFn = Status (*)(Tensor, int* q_type_id);
using GetPerTensorQuantizationFn = Status (*)(Tensor, QuantizationPerTensor* q);
using CreateOptionsFn = Status (*)(Options* options);
using DestroyOptionsFn = void (*)(Options);
using SetOptionsHardwareAcceleratorsFn = Status (*)(Options, int accelerators);
using CreateOpaqueOptionsFn = Status (*)(const char* identifier, void* payload, void (*destructor)(void*),
                                         OpaqueOptions* out);
using DestroyOpaqueOptionsFn = void (*)(OpaqueOptions);
using AddOpaqueOptionsFn = Status (*)(Options, OpaqueOptions);
using CreateCompiledModelFn = Status (*)(Environment, Model, Options, CompiledModel* out);
using DestroyCompiledModelFn = void (*)(CompiledModel);
using GetCompiledModelBufferRequirementsFn = Status (*)(CompiledModel, ParamIndex signature, ParamIndex index,
                                                        TensorBufferRequirements* req);
using GetTensorBufferRequirementsBufferSizeFn = Status (*)(TensorBufferRequirements, size_t* size);
using CreateTensorBufferFromHostMemoryFn = Status (*)(const RankedTensorType* type, void* addr, size_t size,
                                                      HostMemoryDeallocator deallocator, TensorBuffer* out);
using DestroyTensorBufferFn = void (*)(TensorBuffer);
using RunCompiledModelFn = Status (*)(CompiledModel, ParamIndex signature, size_t num_inputs, TensorBuffer* inputs,
                                      size_t num_outputs, TensorBuffer* outputs);
}

}  // namespace edgepack::litert::capi
