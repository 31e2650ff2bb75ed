// AVX-512 256-entry byte lookup (compiled with the avx512vnni flags; AVX-512 BW is all it
// uses). Without VBMI's byte permutes, the table is held as 256 words in eight zmm and looked
// up 32 values at a time: VPERMT2W picks from 64 words by an index's low 6 bits, four of them
// cover the table, and two mask blends by bits 6 and 7 choose among the four — about 15
// instructions per 32 bytes where the AVX2 kernel's 16 nibble shuffles take about 64.
#include <immintrin.h>

#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

int64_t ApplyLutAvx512(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y) {
  __m512i t[8];
  for (int k = 0; k < 8; k++)
    t[k] = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 32 * k)));
  const __m512i bit6 = _mm512_set1_epi16(64), bit7 = _mm512_set1_epi16(128);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i v = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    const __m512i r0 = _mm512_permutex2var_epi16(t[0], v, t[1]);
    const __m512i r1 = _mm512_permutex2var_epi16(t[2], v, t[3]);
    const __m512i r2 = _mm512_permutex2var_epi16(t[4], v, t[5]);
    const __m512i r3 = _mm512_permutex2var_epi16(t[6], v, t[7]);
    const __mmask32 m6 = _mm512_test_epi16_mask(v, bit6), m7 = _mm512_test_epi16_mask(v, bit7);
    const __m512i lo = _mm512_mask_blend_epi16(m6, r0, r1), hi = _mm512_mask_blend_epi16(m6, r2, r3);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), _mm512_cvtepi16_epi8(_mm512_mask_blend_epi16(m7, lo, hi)));
  }
  return i;
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
