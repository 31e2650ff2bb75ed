// The kernel paths (ISAs) and the one mechanism every kernel family uses to pick its kernels
// for a path: a per-ISA table of that family's kernel set, resolved along a fixed fallback
// chain (the way XNNPACK keeps one config table per operator family).
//
// A family (GEMM, quantize, ops, sparse, int4, float training) fills the entries of the
// paths it has kernels for and leaves the others empty; Resolve(isa) walks the chain from
// `isa` down to the first filled entry. A path whose kernels exist only for a slower path of
// the same architecture thereby runs those (e.g. the quantize kernels of AVX2 on an
// AVX-512 VNNI machine), and nothing outside this file encodes "which ISA implies which".
#pragma once
#include <cstddef>

namespace tfjq {

// Kernel paths, slowest to fastest within an architecture. Every path computes exactly
// the same integers as kRef (the oracle); see docs/quantization.md. The numeric values are
// stable (they index the tables below and appear in nothing persisted).
enum class Isa : int {
  kRef = 0,         // portable C++: the oracle, and the fallback of every chain
  kAvx2 = 1,        // x86-64 AVX2 + FMA + F16C + BMI2 (int8 via sign-extension + VPMADDWD: never saturates)
  kAvxVnni = 2,     // x86-64 AVX-VNNI (VEX VPDPBUSD on ymm); implies kAvx2
  kAvx512Vnni = 3,  // x86-64 AVX-512 F/BW/DQ/VL + VNNI (VPDPBUSD on zmm); implies kAvx2
  kNeon = 4,        // arm64 Advanced SIMD
  kNeonDot = 5,     // arm64 Advanced SIMD + dot product (SDOT/UDOT); implies kNeon
  kNeonI8mm = 6,    // arm64 + 8-bit matrix multiply (USMMLA: 2×8 by 8×2 blocks); implies kNeonDot
};
constexpr int kIsaCount = 7;

// The next path down the fallback chain:
//   avx512vnni → avxvnni → avx2 → ref;   neoni8mm → neondot → neon → ref.
// Every CPU running a path also runs the paths after it, with one exception: a CPU with
// AVX-512 VNNI need not expose the VEX AVX-VNNI encoding (Ice Lake; Sapphire Rapids under some
// hypervisors), so avx512vnni → avxvnni gives the order only and IsaTable::Resolve never picks an
// AVX-VNNI entry for an AVX-512 VNNI request (it goes on to avx2).
constexpr Isa IsaFallback(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Vnni:
      return Isa::kAvxVnni;
    case Isa::kAvxVnni:
      return Isa::kAvx2;
    case Isa::kNeonI8mm:
      return Isa::kNeonDot;
    case Isa::kNeonDot:
      return Isa::kNeon;
    default:
      return Isa::kRef;
  }
}

// One kernel family's table: entries[isa] is the family's kernel set for that path, or
// nullptr where the family has no kernels of its own for it. Kernel sets are reached through
// getter functions (each per-ISA file defines its set as a function-local static), so the
// table itself is a constant of function pointers.
template <typename Set>
struct IsaTable {
  using Getter = const Set* (*)();
  Getter entries[kIsaCount] = {};

  // The set registered for exactly `isa` (no fallback): for families whose data layout is
  // bound to one path (packed GEMM weights).
  const Set* Exact(Isa isa) const {
    const int i = static_cast<int>(isa);
    return i >= 0 && i < kIsaCount && entries[i] != nullptr ? entries[i]() : nullptr;
  }

  // The set of `isa` or of the first path down its fallback chain that has one; `used`
  // (optional) receives that path. nullptr (and used = kRef) when the chain ends without one.
  // AVX-VNNI kernels are never chosen for an AVX-512 VNNI request: the CPU may lack the VEX
  // encoding (see IsaFallback); the chain then continues at kAvx2.
  const Set* Resolve(Isa isa, Isa* used = nullptr) const {
    const Isa start = isa;
    for (;;) {
      const bool skip = start == Isa::kAvx512Vnni && isa == Isa::kAvxVnni;
      if (!skip) {
        if (const Set* s = Exact(isa)) {
          if (used != nullptr) *used = isa;
          return s;
        }
      }
      if (isa == Isa::kRef) break;
      isa = IsaFallback(isa);
    }
    if (used != nullptr) *used = Isa::kRef;
    return nullptr;
  }
};

}  // namespace tfjq
