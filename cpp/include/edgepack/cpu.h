// CPU feature detection and kernel ISA selection.
//
// The ISA used by the dispatching kernel entry points is decided once per process, on first use:
//   * EDGEPACK_ISA unset or empty -> the best ISA that is both compiled into this binary and supported
//     by the CPU (avx2 > ref on x86-64, neon > ref on aarch64).
//   * EDGEPACK_ISA=ref|avx2|neon  -> that ISA, if it is compiled in and the CPU supports it.
//   * EDGEPACK_ISA names an ISA this binary/CPU lacks, or an unknown name -> the ref kernels, with one
//     line on stderr saying why (also returned by isa_note()). We fall back instead of aborting because
//     the variable is process-wide (often set in CI scripts) and ref is always correct.
// Callers that want a specific ISA for one call (tests, benchmarks) use the overloads taking an Isa;
// those throw std::invalid_argument when the ISA is not usable here.
#pragma once

#include <string>
#include <vector>

namespace edgepack {

enum class Isa { Ref = 0, Avx2 = 1, Neon = 2 };

struct CpuFeatures {
  bool avx2 = false;  // AVX2 with OS support for YMM state
  bool f16c = false;
  bool fma = false;
  bool avx512f = false;  // AVX-512 Foundation with OS support for opmask and ZMM state (reported, no kernels)
  bool neon = false;  // AArch64 Advanced SIMD (includes fp16<->fp32 conversion instructions)
  // ARMv8.2+ extensions, from getauxval(AT_HWCAP/AT_HWCAP2) on Linux. Reported for diagnosis (the engines'
  // fp16/int8 paths depend on them); the core's own kernels need plain NEON only.
  bool asimdhp = false;  // fp16 arithmetic in Advanced SIMD
  bool asimddp = false;  // dot product (SDOT/UDOT)
  bool i8mm = false;     // int8 matrix multiply (SMMLA)
  bool sve = false;
};

// Features of the running CPU, detected once.
const CpuFeatures& cpu_features();

const char* isa_name(Isa isa);
// Parses "ref", "avx2" or "neon"; returns false for anything else.
bool parse_isa(const std::string& name, Isa* out);

// The SIMD paths compiled into this binary (ref is always compiled).
bool isa_compiled(Isa isa);
// Compiled in and supported by this CPU.
bool isa_available(Isa isa);
std::vector<Isa> available_isas();

// The ISA the dispatching entry points use (decided once per process, see above).
Isa active_isa();
// Empty unless EDGEPACK_ISA was set and could not be honoured; then the reason.
const std::string& isa_note();

// Throws std::invalid_argument naming the ISA and why it cannot run here.
void require_isa(Isa isa);

// The ISA of the most recent kernel call made by this thread (Isa::Ref before any call).
Isa last_isa();
void set_last_isa(Isa isa);

}  // namespace edgepack
