// Small AVX2 helpers shared by the operator kernel files (ops/*_avx2.cc only: they are
// compiled with the AVX2 flags). In an anonymous namespace so each file keeps its own copy.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace tfjq {
namespace ops {
namespace detail {
namespace {

template <bool kSigned>
inline __m256i Load16x16(const void* p) {
  const __m128i v = _mm_loadu_si128(static_cast<const __m128i*>(p));
  return kSigned ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

template <bool kSigned>
inline __m256i Load8x32(const void* p) {
  const __m128i v = _mm_loadl_epi64(static_cast<const __m128i*>(p));
  return kSigned ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

// 8 int32 values already inside the output type's range → 8 bytes.
template <bool kSigned>
inline void Store8(void* p, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i b = kSigned ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  _mm_storel_epi64(static_cast<__m128i*>(p), b);
}

// §7 finish on 8 floats: rne(clamp(v, lo − zo, hi − zo)) + zo.
inline __m256i Finish8(__m256 v, __m256 vlo, __m256 vhi, __m256i vzo) {
  v = _mm256_min_ps(_mm256_max_ps(v, vlo), vhi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), vzo);
}

}  // namespace
}  // namespace detail
}  // namespace ops
}  // namespace tfjq
