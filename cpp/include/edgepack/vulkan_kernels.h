// Vulkan versions of the kernels. Each takes the same parameters as its CPU entry point and produces the
// same output (see each kernel's header for the spec and tests/test_vulkan.py for the tolerances).
// When Vulkan is unavailable (vulkan_available() is false) each runs the CPU path (active_isa()) instead,
// after vulkan_warn_fallback(). last_device() tells which one ran.
#pragma once

#include "edgepack/normalize.h"
#include "edgepack/preprocess.h"
#include "edgepack/vulkan.h"

namespace edgepack {

// "vulkan" or "cpu": where the most recent *_vulkan call made by this thread ran ("cpu" before any call).
const char* last_device();

// Throws std::invalid_argument like normalize_hwc_to_chw; std::runtime_error on a Vulkan failure.
void normalize_hwc_to_chw_vulkan(const NormalizeParams& p);

// Bit-identical to preprocess(p) for every format, geometry and dtype (the shader computes the exact
// integer steps 1-3 of the spec; the value stage uses tables made by the CPU kernel). Validates like
// preprocess(p); also std::invalid_argument when the frame or output exceeds the device's storage
// buffer range (2 GiB at most).
PreprocessInfo preprocess_vulkan(const PreprocessParams& p);

}  // namespace edgepack
