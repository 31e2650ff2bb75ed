#include "common/cpu.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__x86_64__) || defined(_M_X64)
#define TFJQ_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define TFJQ_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

namespace tfjq {
namespace {

#if TFJQ_X86
uint64_t Xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures Detect() {
  CpuFeatures f;
#if TFJQ_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    char v[13];
    std::memcpy(v, &b, 4);
    std::memcpy(v + 4, &d, 4);
    std::memcpy(v + 8, &c, 4);
    v[12] = 0;
    f.vendor = v;
  }
  if (__get_cpuid_max(0x80000000, nullptr) >= 0x80000004) {
    char brand[49] = {0};
    for (unsigned i = 0; i < 3; i++) {
      __get_cpuid(0x80000002 + i, &a, &b, &c, &d);
      std::memcpy(brand + 16 * i, &a, 4);
      std::memcpy(brand + 16 * i + 4, &b, 4);
      std::memcpy(brand + 16 * i + 8, &c, 4);
      std::memcpy(brand + 16 * i + 12, &d, 4);
    }
    f.brand = brand;
    while (!f.brand.empty() && f.brand.back() == ' ') f.brand.pop_back();
    size_t s = f.brand.find_first_not_of(' ');
    f.brand = s == std::string::npos ? "" : f.brand.substr(s);
  }
  if (max_leaf < 1) return f;
  __get_cpuid(1, &a, &b, &c, &d);
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  const bool fma = (c >> 12) & 1;
  const bool f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = Xgetbv0();
  const bool ymm_os = (xcr0 & 0x6) == 0x6;
  const bool zmm_os = (xcr0 & 0xE6) == 0xE6;
  if (!ymm_os) return f;
  f.fma = fma;
  f.f16c = f16c;
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.bmi2 = (b >> 8) & 1;
    if (zmm_os) {
      f.avx512f = (b >> 16) & 1;
      f.avx512dq = (b >> 17) & 1;
      f.avx512bw = (b >> 30) & 1;
      f.avx512vl = (b >> 31) & 1;
      f.avx512vnni = (c >> 11) & 1;
    }
    unsigned max_sub = a;
    if (max_sub >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avxvnni = (a >> 4) & 1;
    }
  }
#elif TFJQ_ARM64
  f.neon = true;
#if defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP);
  f.neon_dot = (hw >> 20) & 1;                     // HWCAP_ASIMDDP
  f.neon_fp16 = (hw >> 10) & 1;                    // HWCAP_ASIMDHP
  f.neon_i8mm = (getauxval(AT_HWCAP2) >> 13) & 1;  // HWCAP2_I8MM
#elif defined(__APPLE__)
  f.neon_dot = true;
  f.neon_fp16 = true;
  int i8mm = 0;  // M2 and later
  size_t len = sizeof(i8mm);
  f.neon_i8mm = sysctlbyname("hw.optional.arm.FEAT_I8MM", &i8mm, &len, nullptr, 0) == 0 && i8mm != 0;
#endif
#endif
  return f;
}

// Which per-ISA translation units this build contains (set by CMake per architecture).
bool Compiled(Isa isa) {
  switch (isa) {
    case Isa::kRef:
      return true;
#if TFJQ_X86
    case Isa::kAvx2:
    case Isa::kAvxVnni:
    case Isa::kAvx512Vnni:
      return true;
#endif
#if TFJQ_ARM64
    case Isa::kNeon:
    case Isa::kNeonDot:
    case Isa::kNeonI8mm:
      return true;
#endif
    default:
      return false;
  }
}

std::once_flag g_once;
std::atomic<int> g_active{0};
std::string g_env_warning;

void InitActive() {
  Isa isa = BestIsa();
  const char* env = std::getenv("TFJS_QUANT_ISA");
  if (env && *env) {
    Isa want;
    if (!ParseIsa(env, &want)) {
      g_env_warning = std::string("TFJS_QUANT_ISA=") + env + " is not a known path; using " + IsaName(isa);
    } else if (!IsaSupported(want)) {
      g_env_warning =
          std::string("TFJS_QUANT_ISA=") + env + " is not supported on this CPU/build; using " + IsaName(isa);
    } else {
      isa = want;
    }
  }
  g_active.store(static_cast<int>(isa));
}

}  // namespace

const CpuFeatures& GetCpuFeatures() {
  static const CpuFeatures f = Detect();
  return f;
}

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kRef:
      return "ref";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvxVnni:
      return "avxvnni";
    case Isa::kAvx512Vnni:
      return "avx512vnni";
    case Isa::kNeon:
      return "neon";
    case Isa::kNeonDot:
      return "neondot";
    case Isa::kNeonI8mm:
      return "neoni8mm";
  }
  return "unknown";
}

bool ParseIsa(const std::string& name, Isa* out) {
  for (int i = 0; i < kIsaCount; i++) {
    if (name == IsaName(static_cast<Isa>(i))) {
      *out = static_cast<Isa>(i);
      return true;
    }
  }
  return false;
}

bool IsaSupported(Isa isa) {
  if (!Compiled(isa)) return false;
  const CpuFeatures& f = GetCpuFeatures();
  switch (isa) {
    case Isa::kRef:
      return true;
    case Isa::kAvx2:
      return f.avx2 && f.fma && f.f16c && f.bmi2;
    case Isa::kAvxVnni:
      return f.avx2 && f.fma && f.f16c && f.bmi2 && f.avxvnni;
    case Isa::kAvx512Vnni:
      return f.avx2 && f.fma && f.f16c && f.bmi2 && f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx512vnni;
    case Isa::kNeon:
      return f.neon;
    case Isa::kNeonDot:
      return f.neon && f.neon_dot;
    case Isa::kNeonI8mm:
      return f.neon && f.neon_dot && f.neon_i8mm;
  }
  return false;
}

std::vector<Isa> SupportedIsas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kRef, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm, Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni}) {
    if (IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

Isa BestIsa() { return SupportedIsas().back(); }

Isa ActiveIsa() {
  std::call_once(g_once, InitActive);
  return static_cast<Isa>(g_active.load(std::memory_order_relaxed));
}

void SetActiveIsa(Isa isa) {
  std::call_once(g_once, InitActive);
  g_active.store(static_cast<int>(isa));
}

const std::string& IsaEnvWarning() {
  std::call_once(g_once, InitActive);
  return g_env_warning;
}

}  // namespace tfjq
