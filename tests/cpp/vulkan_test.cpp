// Vulkan entry points from C++, with or without Vulkan in the build: prints the status, then checks that
// normalize_hwc_to_chw_vulkan (on the device, or on the CPU after the fallback warning) is bit-identical
// to the ref. tests/test_vulkan_build.py builds it without Vulkan headers and runs it.
#include <cstdio>
#include <cstring>
#include <vector>

#include "edgepack/vulkan_kernels.h"

int main() {
  using namespace edgepack;
  std::printf("built=%d available=%d note=%s\n", vulkan_built() ? 1 : 0, vulkan_available() ? 1 : 0,
              vulkan_note().c_str());
  const size_t w = 33, h = 7, c = 3;
  std::vector<uint8_t> img(w * h * c);
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<uint8_t>(i * 37 + 11);
  NormalizeParams p;
  p.src = img.data();
  p.src_row_stride = w * c;
  p.width = w;
  p.height = h;
  p.in_channels = 3;
  p.out_channels = 3;
  const float std_values[3] = {58.4f, 57.1f, 57.4f};
  for (int i = 0; i < 3; ++i) p.mean[i] = 100.0f + static_cast<float>(i);
  set_normalize_std(&p, std_values);
  std::vector<float> ref(c * w * h), got(c * w * h, -1.0f);
  p.dst = ref.data();
  normalize_hwc_to_chw(p, Isa::Ref);
  int failed = 0;
  for (int call = 0; call < 2; ++call) {  // twice: the fallback warning must appear once
    p.dst = got.data();
    normalize_hwc_to_chw_vulkan(p);
    if (std::memcmp(got.data(), ref.data(), ref.size() * sizeof(float)) != 0) ++failed;
    std::printf("call %d ran on %s\n", call, last_device());
  }
  std::printf("vulkan_test: %d failed\n", failed);
  return failed == 0 ? 0 : 1;
}
