// x86 SIMD intrinsics for the per-ISA kernel files (*_avx2.cc, *_avxvnni.cc, *_avx512vnni.cc).
//
// Normally this is <immintrin.h> and the file's ISA flags come from CMake (by file name).
// With TFJQ_EMULATE_SIMD defined the same kernel source compiles WITHOUT ISA flags on SIMDe
// (portable implementations of AVX2 / AVX-512 / VNNI intrinsics), so the AVX-VNNI and
// AVX-512 VNNI kernels can be checked bit for bit on a machine that lacks those
// instructions (scripts/check-emulated-isa.sh). Emulated code is slow: correctness only.
#pragma once

#if defined(TFJQ_EMULATE_SIMD)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx2.h>
#include <simde/x86/avx512.h>
// AVX-VNNI (VEX) spells the ymm dot product _mm256_dpbusd_avx_epi32; SIMDe has the
// AVX512VL+VNNI spelling, which computes the same thing.
#ifndef _mm256_dpbusd_avx_epi32
#define _mm256_dpbusd_avx_epi32(src, a, b) simde_mm256_dpbusd_epi32((src), (a), (b))
#endif
#define TFJQ_SIMD_EMULATED 1
#else
#include <immintrin.h>
#define TFJQ_SIMD_EMULATED 0
#endif

#include <cstdint>
#include <cstring>

namespace tfjq {
namespace simd {

// Makes the compiler forget what it knows about a vector value (peak loops: no hoisting).
#if TFJQ_SIMD_EMULATED
#define TFJQ_OPAQUE(x) __asm__ volatile("" : "+m"(x))
#else
#define TFJQ_OPAQUE(x) __asm__ volatile("" : "+v"(x))
#endif

// One row of A as bytes (a ^ mask), zero-padded to kcpad values (the VNNI paths' A layout).
// static: each ISA-flagged file gets its own copy (an inline function shared across files
// compiled with different -m flags could be merged into the AVX-512 one by the linker).
static inline void PackBytesXor(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst) {
  const __m128i mask = _mm_set1_epi8(static_cast<char>(xor_mask));
  int64_t i = 0;
  for (; i + 16 <= kc; i += 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)), mask));
  }
  if (i < kc) {
    // Tail (< 16 values) through a zeroed buffer: one 16-byte store, which may write zeros
    // past kcpad but stays inside the 64-byte-rounded row stride the driver allocates.
    alignas(16) uint8_t tail[16] = {0};
    std::memcpy(tail, src + i, static_cast<size_t>(kc - i));
    const __m128i keep = _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(kc - i)),
                                        _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm_and_si128(_mm_xor_si128(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)), mask), keep));
    i += 16;
  }
  for (; i < kcpad; i++) dst[i] = 0;
}

static inline int32_t LoadU32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The first n of 8 int32 lanes set (n ≤ 0: none; n ≥ 8: all): the mask of VPMASKMOV loads and
// stores of a row's last values in the AVX2 kernels (nothing past them is read or written).
static inline __m256i FirstLanes8(int64_t n) {
  alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  const int64_t k = n < 0 ? 0 : n > 8 ? 8 : n;
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - k));
}

// The mask of the first n of 16 lanes (n ≤ 0: none; n ≥ 16: all), as a __mmask16 holds it:
// the last, partial block of a row in the AVX-512 kernels. Plain integer arithmetic (and a
// plain integer type: SIMDe has no __mmask16), so any file may include it.
static inline uint16_t FirstLanes16(int64_t n) {
  return n >= 16 ? uint16_t{0xFFFF} : n <= 0 ? uint16_t{0} : static_cast<uint16_t>((1u << n) - 1);
}

}  // namespace simd
}  // namespace tfjq
