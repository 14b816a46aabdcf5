// JNI surface of the app's native library (Kotlin side: edgepack/runtime/NativeBridge.kt).
//
//   NativeBridge.create(NativeConfig) -> handle       the engine, configured from the bundle's manifest
//   NativeBridge.runYuv(handle, planes..., rotation, mirror) -> NativeResult
//   NativeBridge.describe(handle) -> String, NativeBridge.close(handle)
//
// Failures become edgepack.runtime.EdgepackException with a one-line message; nothing throws across JNI.
// Runs on one handle are serialized (the engines are not re-entrant); use one model per thread.
#include <jni.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "app_engine.h"
#include "app_frame.h"

namespace {

using edgepack_app::AppConfig;
using edgepack_app::AppError;
using edgepack_app::PostKind;

constexpr const char* kException = "edgepack/runtime/EdgepackException";
constexpr const char* kResult = "edgepack/runtime/NativeResult";

struct Handle {
  std::mutex mu;
  std::unique_ptr<edgepack_app::Engine> engine;
};

void throw_java(JNIEnv* env, const std::string& message) {
  if (env->ExceptionCheck()) return;  // a Java exception is already pending: keep it
  jclass cls = env->FindClass(kException);
  if (cls == nullptr) {
    env->ExceptionClear();
    cls = env->FindClass("java/lang/IllegalStateException");
  }
  env->ThrowNew(cls, message.c_str());
}

// Field readers: a missing field is a mismatch between this library and the Kotlin sources.
jfieldID field(JNIEnv* env, jclass cls, const char* name, const char* sig) {
  jfieldID id = env->GetFieldID(cls, name, sig);
  if (id == nullptr) {
    env->ExceptionClear();
    throw AppError(std::string("NativeConfig has no field ") + name + " (" + sig +
                   "); the Kotlin sources and the native library are from different edgepack versions");
  }
  return id;
}

std::string get_string(JNIEnv* env, jobject o, jclass cls, const char* name) {
  auto s = static_cast<jstring>(env->GetObjectField(o, field(env, cls, name, "Ljava/lang/String;")));
  if (s == nullptr) return "";
  const char* c = env->GetStringUTFChars(s, nullptr);
  std::string out = c ? c : "";
  env->ReleaseStringUTFChars(s, c);
  env->DeleteLocalRef(s);
  return out;
}

int get_int(JNIEnv* env, jobject o, jclass cls, const char* name) { return env->GetIntField(o, field(env, cls, name, "I")); }
bool get_bool(JNIEnv* env, jobject o, jclass cls, const char* name) {
  return env->GetBooleanField(o, field(env, cls, name, "Z")) == JNI_TRUE;
}
float get_float(JNIEnv* env, jobject o, jclass cls, const char* name) {
  return env->GetFloatField(o, field(env, cls, name, "F"));
}
double get_double(JNIEnv* env, jobject o, jclass cls, const char* name) {
  return env->GetDoubleField(o, field(env, cls, name, "D"));
}

void get_floats3(JNIEnv* env, jobject o, jclass cls, const char* name, float out[3]) {
  auto a = static_cast<jfloatArray>(env->GetObjectField(o, field(env, cls, name, "[F")));
  if (a == nullptr || env->GetArrayLength(a) != 3) throw AppError(std::string("NativeConfig.") + name + " must hold 3 values");
  env->GetFloatArrayRegion(a, 0, 3, out);
  env->DeleteLocalRef(a);
}

std::vector<int64_t> get_longs(JNIEnv* env, jobject o, jclass cls, const char* name) {
  auto a = static_cast<jlongArray>(env->GetObjectField(o, field(env, cls, name, "[J")));
  std::vector<int64_t> out;
  if (a == nullptr) return out;
  std::vector<jlong> tmp(static_cast<size_t>(env->GetArrayLength(a)));
  env->GetLongArrayRegion(a, 0, static_cast<jsize>(tmp.size()), tmp.data());
  env->DeleteLocalRef(a);
  out.assign(tmp.begin(), tmp.end());
  return out;
}

template <typename T>
T pick(const std::string& what, const std::string& value, std::initializer_list<std::pair<const char*, T>> table) {
  std::string names;
  for (const auto& [k, v] : table) {
    if (value == k) return v;
    names += (names.empty() ? "" : ", ") + std::string(k);
  }
  throw AppError("unknown " + what + " '" + value + "' in manifest.json; this app knows " + names);
}

AppConfig read_config(JNIEnv* env, jobject o) {
  if (o == nullptr) throw AppError("NativeConfig is null");
  jclass cls = env->GetObjectClass(o);
  AppConfig c;
  c.engine = get_string(env, o, cls, "engine");
  c.model_path = get_string(env, o, cls, "modelPath");
  c.model_path2 = get_string(env, o, cls, "modelPath2");
  c.lib_dir = get_string(env, o, cls, "libDir");
  c.input_name = get_string(env, o, cls, "inputName");
  c.output_name = get_string(env, o, cls, "outputName");
  c.input_position = get_int(env, o, cls, "inputPosition");
  c.output_position = get_int(env, o, cls, "outputPosition");
  c.output_shape = get_longs(env, o, cls, "outputShape");
  c.threads = get_int(env, o, cls, "threads");
  if (c.threads < 1) throw AppError("threads must be at least 1");

  auto& p = c.pre;
  p.width = get_int(env, o, cls, "width");
  p.height = get_int(env, o, cls, "height");
  if (p.width <= 0 || p.height <= 0) throw AppError("the model input size must be positive");
  const std::string resize = get_string(env, o, cls, "resize");
  p.mode = pick<edgepack::ResizeMode>("resize", resize, {{"stretch", edgepack::ResizeMode::Stretch},
                                                          {"letterbox", edgepack::ResizeMode::Letterbox},
                                                          {"center_crop", edgepack::ResizeMode::Stretch}});
  p.center_crop = resize == "center_crop";
  p.crop_fraction = get_double(env, o, cls, "cropFraction");
  if (!(p.crop_fraction > 0 && p.crop_fraction <= 1)) throw AppError("crop_fraction must be in (0, 1]");
  p.color = pick<edgepack::ColorOrder>("color", get_string(env, o, cls, "color"),
                                        {{"RGB", edgepack::ColorOrder::RGB}, {"BGR", edgepack::ColorOrder::BGR},
                                         {"GRAY", edgepack::ColorOrder::Gray}});
  p.layout = pick<edgepack::TensorLayout>("layout", get_string(env, o, cls, "layout"),
                                           {{"NCHW", edgepack::TensorLayout::CHW}, {"NHWC", edgepack::TensorLayout::HWC}});
  p.uint8_input = pick<bool>("dtype", get_string(env, o, cls, "dtype"), {{"float32", false}, {"uint8", true}});
  const int pad = get_int(env, o, cls, "padValue");
  if (pad < 0 || pad > 255) throw AppError("pad_value must be in 0..255");
  p.pad = static_cast<uint8_t>(pad);
  get_floats3(env, o, cls, "mean", p.mean);
  get_floats3(env, o, cls, "std", p.std);

  auto& q = c.post;
  q.kind = pick<PostKind>("postprocess kind", get_string(env, o, cls, "postKind"),
                          {{"topk", PostKind::TopK}, {"yolo", PostKind::Yolo}, {"seg_argmax", PostKind::Seg},
                           {"none", PostKind::None}});
  const int k = get_int(env, o, cls, "topK");
  if (q.kind == PostKind::TopK && k < 1) throw AppError("top_k must be at least 1");
  q.top_k = static_cast<size_t>(k < 1 ? 1 : k);
  q.softmax = get_bool(env, o, cls, "softmax");
  q.yolo.layout = pick<edgepack::YoloLayout>("yolo_layout", get_string(env, o, cls, "yoloLayout"),
                                              {{"attrs_first", edgepack::YoloLayout::AttrsFirst},
                                               {"anchors_first", edgepack::YoloLayout::AnchorsFirst}});
  q.yolo.box_format = pick<edgepack::BoxFormat>("box_format", get_string(env, o, cls, "boxFormat"),
                                                 {{"cxcywh", edgepack::BoxFormat::CxCyWh}, {"xyxy", edgepack::BoxFormat::Xyxy}});
  q.yolo.has_objectness = get_bool(env, o, cls, "hasObjectness");
  q.yolo.score_threshold = get_float(env, o, cls, "scoreThreshold");
  q.yolo.iou_threshold = get_float(env, o, cls, "iouThreshold");
  const int max_det = get_int(env, o, cls, "maxDetections");
  q.yolo.max_detections = static_cast<size_t>(max_det < 0 ? 0 : max_det);
  q.yolo.class_agnostic = get_bool(env, o, cls, "classAgnostic");
  env->DeleteLocalRef(cls);
  return c;
}

const uint8_t* direct(JNIEnv* env, jobject buf, size_t* bytes, const char* name) {
  if (buf == nullptr) throw AppError(std::string("camera frame: plane ") + name + " is null");
  void* p = env->GetDirectBufferAddress(buf);
  const jlong cap = env->GetDirectBufferCapacity(buf);
  if (p == nullptr || cap < 0) throw AppError(std::string("camera frame: plane ") + name + " is not a direct ByteBuffer");
  *bytes = static_cast<size_t>(cap);
  return static_cast<const uint8_t*>(p);
}

template <typename A, typename T>
A make_array(JNIEnv* env, const std::vector<T>& v, A (JNIEnv::*make)(jsize),
             void (JNIEnv::*set)(A, jsize, jsize, const typename std::conditional<sizeof(T) == 1, jbyte, T>::type*)) {
  A a = (env->*make)(static_cast<jsize>(v.size()));
  if (a != nullptr && !v.empty()) {
    (env->*set)(a, 0, static_cast<jsize>(v.size()),
                reinterpret_cast<const typename std::conditional<sizeof(T) == 1, jbyte, T>::type*>(v.data()));
  }
  return a;
}

jobject to_java(JNIEnv* env, const edgepack_app::AppResult& r) {
  jclass cls = env->FindClass(kResult);
  if (cls == nullptr) return nullptr;
  jmethodID ctor = env->GetMethodID(cls, "<init>", "([F[I[F[F[I[BIIZ[I[D)V");
  if (ctor == nullptr) return nullptr;
  const auto& i = r.info;
  const std::vector<jint> geometry = {i.src_width, i.src_height, i.crop.x, i.crop.y, i.crop.width, i.crop.height,
                                      i.rotate, i.mirror ? 1 : 0, i.oriented_width, i.oriented_height,
                                      i.resized_width, i.resized_height, i.pad_x, i.pad_y, i.out_width, i.out_height};
  const std::vector<jdouble> scale = {i.scale_x, i.scale_y};
  const std::vector<jint> indices(r.indices.begin(), r.indices.end());
  const std::vector<jint> class_ids(r.detections.class_ids.begin(), r.detections.class_ids.end());
  jobject out = env->NewObject(
      cls, ctor, make_array(env, r.values, &JNIEnv::NewFloatArray, &JNIEnv::SetFloatArrayRegion),
      make_array(env, indices, &JNIEnv::NewIntArray, &JNIEnv::SetIntArrayRegion),
      make_array(env, r.detections.boxes, &JNIEnv::NewFloatArray, &JNIEnv::SetFloatArrayRegion),
      make_array(env, r.detections.scores, &JNIEnv::NewFloatArray, &JNIEnv::SetFloatArrayRegion),
      make_array(env, class_ids, &JNIEnv::NewIntArray, &JNIEnv::SetIntArrayRegion),
      make_array(env, r.mask, &JNIEnv::NewByteArray, &JNIEnv::SetByteArrayRegion), static_cast<jint>(r.mask_width),
      static_cast<jint>(r.mask_height), static_cast<jboolean>(r.mask_in_source ? JNI_TRUE : JNI_FALSE),
      make_array(env, geometry, &JNIEnv::NewIntArray, &JNIEnv::SetIntArrayRegion),
      make_array(env, scale, &JNIEnv::NewDoubleArray, &JNIEnv::SetDoubleArrayRegion));
  env->DeleteLocalRef(cls);
  return out;
}

Handle* from(jlong h) {
  if (h == 0) throw AppError("the model is closed; load it again");
  return reinterpret_cast<Handle*>(static_cast<intptr_t>(h));
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_edgepack_runtime_NativeBridge_create(JNIEnv* env, jclass, jobject config) {
  try {
    auto h = std::make_unique<Handle>();
    h->engine = edgepack_app::make_engine(read_config(env, config));
    return static_cast<jlong>(reinterpret_cast<intptr_t>(h.release()));
  } catch (const std::exception& e) {
    throw_java(env, e.what());
  }
  return 0;
}

JNIEXPORT jobject JNICALL Java_edgepack_runtime_NativeBridge_runYuv(JNIEnv* env, jclass, jlong handle, jobject y,
                                                                    jobject u, jobject v, jint width, jint height,
                                                                    jint y_row, jint u_row, jint v_row, jint pixel,
                                                                    jint rotation, jboolean mirror) {
  try {
    Handle* h = from(handle);
    if (y_row < 0 || u_row < 0 || v_row < 0 || pixel < 1) throw AppError("camera frame: negative stride");
    if (rotation != 0 && rotation != 90 && rotation != 180 && rotation != 270) {
      throw AppError("rotation " + std::to_string(rotation) + " must be 0, 90, 180 or 270");
    }
    edgepack_app::Yuv420888 f;
    f.width = width;
    f.height = height;
    f.y = direct(env, y, &f.y_bytes, "Y");
    f.u = direct(env, u, &f.u_bytes, "U");
    f.v = direct(env, v, &f.v_bytes, "V");
    f.y_row_stride = static_cast<size_t>(y_row);
    f.u_row_stride = static_cast<size_t>(u_row);
    f.v_row_stride = static_cast<size_t>(v_row);
    f.uv_pixel_stride = static_cast<size_t>(pixel);
    std::vector<uint8_t> scratch;
    const edgepack::ImageView view = edgepack_app::yuv420888_view(f, &scratch);
    edgepack_app::AppResult r;
    {
      std::lock_guard<std::mutex> lock(h->mu);
      if (!h->engine) throw AppError("the model is closed; load it again");
      r = h->engine->run(view, rotation, mirror == JNI_TRUE);
    }
    return to_java(env, r);
  } catch (const std::exception& e) {
    throw_java(env, e.what());
  }
  return nullptr;
}

JNIEXPORT jstring JNICALL Java_edgepack_runtime_NativeBridge_describe(JNIEnv* env, jclass, jlong handle) {
  try {
    Handle* h = from(handle);
    std::lock_guard<std::mutex> lock(h->mu);
    if (!h->engine) throw AppError("the model is closed; load it again");
    return env->NewStringUTF(h->engine->describe().c_str());
  } catch (const std::exception& e) {
    throw_java(env, e.what());
  }
  return nullptr;
}

JNIEXPORT void JNICALL Java_edgepack_runtime_NativeBridge_close(JNIEnv*, jclass, jlong handle) {
  if (handle == 0) return;
  std::unique_ptr<Handle> h(reinterpret_cast<Handle*>(static_cast<intptr_t>(handle)));
  std::lock_guard<std::mutex> lock(h->mu);  // waits for a run in flight on another thread
  h->engine.reset();
}

}  // extern "C"
