// A tiny check counter for the standalone kernel test: no framework, one closing line
// "kernel_test: N passed, M failed" that CI log readers understand.
#pragma once

#include <cstdio>
#include <string>

namespace edgepack_test {

struct Tally {
  int passed = 0;
  int failed = 0;
  int reported = 0;  // failure messages printed so far (capped so a broken kernel stays readable)

  void check(bool ok, const std::string& what) {
    if (ok) {
      ++passed;
      return;
    }
    ++failed;
    if (reported++ < 40) std::printf("FAIL %s\n", what.c_str());
  }

  int finish(const char* name) const {
    std::printf("%s: %d passed, %d failed\n", name, passed, failed);
    return failed == 0 ? 0 : 1;
  }
};

}  // namespace edgepack_test
