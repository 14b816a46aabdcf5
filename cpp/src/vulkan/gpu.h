// GPU implementations behind the entry points in dispatch.cpp. Called only when vulkan_available(),
// with arguments already checked. No Vulkan types here: dispatch.cpp is also built without Vulkan.
#pragma once

#include "edgepack/normalize.h"

namespace edgepack::vk {

void normalize_gpu(const NormalizeParams& p);

}  // namespace edgepack::vk
