// Prints the CPU features edgepack's core detects, one "name=0|1" per line, and the active ISA.
// tests/test_cpu_features.py runs it cross-compiled for aarch64 under qemu with several CPU models.
#include <cstdio>

#include "edgepack/cpu.h"

int main() {
  const edgepack::CpuFeatures& f = edgepack::cpu_features();
  std::printf("avx2=%d\nf16c=%d\nfma=%d\navx512f=%d\n", f.avx2, f.f16c, f.fma, f.avx512f);
  std::printf("neon=%d\nasimdhp=%d\nasimddp=%d\ni8mm=%d\nsve=%d\n", f.neon, f.asimdhp, f.asimddp, f.i8mm, f.sve);
  std::printf("active=%s\n", edgepack::isa_name(edgepack::active_isa()));
  return 0;
}
