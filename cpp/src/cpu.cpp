// CPU feature detection (once per process) and the process-wide ISA choice. See cpu.h.
#include "edgepack/cpu.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define EDGEPACK_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef AT_HWCAP2
#define AT_HWCAP2 26  // Linux auxv type of the second capability word
#endif
#endif

namespace edgepack {
namespace {

#if defined(EDGEPACK_X86)
void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int out[4];
  __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(out[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

unsigned long long read_xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<unsigned long long>(hi) << 32) | lo;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(EDGEPACK_X86)
  unsigned r[4] = {0, 0, 0, 0};
  cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  if (max_leaf >= 1) {
    cpuid(1, 0, r);
    const unsigned ecx = r[2];
    const bool osxsave = (ecx >> 27) & 1;
    const bool avx = (ecx >> 28) & 1;
    // The OS must save XMM and YMM state (XCR0 bits 1 and 2) for AVX registers to be usable.
    const bool ymm_ok = osxsave && avx && (read_xcr0() & 0x6) == 0x6;
    f.fma = ymm_ok && ((ecx >> 12) & 1);
    f.f16c = ymm_ok && ((ecx >> 29) & 1);
    // AVX-512 also needs the OS to save opmask and ZMM state (XCR0 bits 5-7).
    const bool zmm_ok = ymm_ok && (read_xcr0() & 0xE0) == 0xE0;
    if (max_leaf >= 7) {
      cpuid(7, 0, r);
      f.avx2 = ymm_ok && ((r[1] >> 5) & 1);
      f.avx512f = zmm_ok && ((r[1] >> 16) & 1);
    }
  }
#elif defined(__aarch64__)
#if defined(__linux__)
  // Bit positions of the Linux arm64 ABI (arch/arm64/include/uapi/asm/hwcap.h), spelled out so that older
  // libc headers without the newer names still build.
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  f.neon = (hwcap & (1UL << 1)) != 0;      // HWCAP_ASIMD
  f.asimdhp = (hwcap & (1UL << 10)) != 0;  // HWCAP_ASIMDHP
  f.asimddp = (hwcap & (1UL << 20)) != 0;  // HWCAP_ASIMDDP
  f.sve = (hwcap & (1UL << 22)) != 0;      // HWCAP_SVE
  f.i8mm = (hwcap2 & (1UL << 13)) != 0;    // HWCAP2_I8MM
#else
  f.neon = true;  // Advanced SIMD is mandatory in AArch64
#endif
#endif
  return f;
}

struct IsaChoice {
  Isa isa = Isa::Ref;
  std::string note;
};

IsaChoice choose() {
  IsaChoice c;
  const char* env = std::getenv("EDGEPACK_ISA");
  if (env == nullptr || env[0] == '\0') {
    for (Isa isa : available_isas()) c.isa = isa;  // the list is ordered ref first, best last
    return c;
  }
  Isa wanted = Isa::Ref;
  if (!parse_isa(env, &wanted)) {
    c.note = std::string("EDGEPACK_ISA=") + env + " is not one of ref|avx2|neon; using the ref kernels";
  } else if (!isa_available(wanted)) {
    c.note = std::string("EDGEPACK_ISA=") + env + " is not available here (" +
             (isa_compiled(wanted) ? "this CPU lacks it" : "not compiled into this build") +
             "); using the ref kernels";
  } else {
    c.isa = wanted;
  }
  if (!c.note.empty()) std::fprintf(stderr, "edgepack: %s\n", c.note.c_str());
  return c;
}

const IsaChoice& choice() {
  static const IsaChoice c = choose();
  return c;
}

thread_local Isa g_last_isa = Isa::Ref;

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Ref: return "ref";
    case Isa::Avx2: return "avx2";
    case Isa::Neon: return "neon";
  }
  return "?";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (Isa isa : {Isa::Ref, Isa::Avx2, Isa::Neon}) {
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

bool isa_compiled(Isa isa) {
  switch (isa) {
    case Isa::Ref: return true;
#if defined(EDGEPACK_WITH_AVX2)
    case Isa::Avx2: return true;
#endif
#if defined(EDGEPACK_WITH_NEON)
    case Isa::Neon: return true;
#endif
    default: return false;
  }
}

bool isa_available(Isa isa) {
  if (!isa_compiled(isa)) return false;
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::Ref: return true;
    case Isa::Avx2: return f.avx2 && f.f16c && f.fma;
    case Isa::Neon: return f.neon;
  }
  return false;
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Ref, Isa::Avx2, Isa::Neon}) {
    if (isa_available(isa)) out.push_back(isa);
  }
  return out;
}

Isa active_isa() { return choice().isa; }

const std::string& isa_note() { return choice().note; }

void require_isa(Isa isa) {
  if (isa_available(isa)) return;
  throw std::invalid_argument(std::string("isa '") + isa_name(isa) + "' is not available here (" +
                              (isa_compiled(isa) ? "this CPU lacks it" : "not compiled into this build") +
                              ")");
}

Isa last_isa() { return g_last_isa; }

void set_last_isa(Isa isa) { g_last_isa = isa; }

}  // namespace edgepack
