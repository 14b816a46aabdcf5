// GPU implementations behind the entry points in dispatch.cpp. Called only when vulkan_available(),
// with arguments already checked. No Vulkan types here: dispatch.cpp is also built without Vulkan.
#pragma once

#include "edgepack/normalize.h"
#include "edgepack/preprocess.h"

namespace edgepack::vk {

void normalize_gpu(const NormalizeParams& p);
// info = plan_preprocess(p).
void preprocess_gpu(const PreprocessParams& p, const PreprocessInfo& info);

}  // namespace edgepack::vk
