// CPU feature detection and the choice of kernel path (ISA) at run time.
#pragma once
#include <string>
#include <vector>

#include "common/dispatch.h"  // Isa, the fallback chain, per-family kernel tables

namespace tfjq {

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, avx512vnni = false;
  bool avxvnni = false;
  bool neon = false, neon_dot = false, neon_fp16 = false, neon_i8mm = false;
  std::string vendor, brand;
};

const CpuFeatures& GetCpuFeatures();

const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* out);
bool IsaSupported(Isa isa);        // compiled in and runnable on this CPU
std::vector<Isa> SupportedIsas();  // in order of preference, best last
Isa BestIsa();

// The active path: initialised from TFJS_QUANT_ISA (if set and supported) or BestIsa().
Isa ActiveIsa();
void SetActiveIsa(Isa isa);  // caller checks IsaSupported first
// Set when TFJS_QUANT_ISA named a path this CPU or build lacks (empty otherwise).
const std::string& IsaEnvWarning();

}  // namespace tfjq
