// AVX2 int8 sparse kernels on VPMADDWD (compiled with -mavx2 -mfma by the file-name rule in
// CMakeLists.txt): kBlock with 8 or 4 columns and 2:4 (kNM24) weights, x − za as int16, two
// weight rows per instruction — the dense AVX2 GEMM's instruction, exact (|x| ≤ 255,
// |w| ≤ 128). Rows 4 at a time, as spmm_avx2.cc's kernels.
#include <immintrin.h>

#include <cstdint>

#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {
namespace internal {

namespace {

// ---- int8 kBlock with bc = 8 or 4 on VPMADDWD: x − za as int16 (rows zero-padded by the
// driver past K, so a block at the K edge reads zeros), the weight rows of a panel taken two
// at a time: 16-bit pairs (x[k_a], x[k_b]) times (w[k_a][c], w[k_b][c]) summed into 32 bits per
// column — the dense AVX2 GEMM's instruction, exact (|x| ≤ 255, |w| ≤ 128). bc = 8: one ymm
// per pair; bc = 4: two pairs per ymm (lanes 0–3, 4–7) folded at the end. Rows of a block
// (br even) pair within the block; 1-row blocks pair with the next block of the panel.
inline int32_t XPair(const int16_t* x, int64_t ka, int64_t kb) {
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(x[ka])) |
                              (static_cast<uint32_t>(static_cast<uint16_t>(x[kb])) << 16));
}
inline int32_t Load32(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
alignas(16) const int8_t kZeroRow[16] = {};

template <int R, int BC>
void MaddBlockRows(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t n0, int64_t n1, int32_t* out,
                   int64_t ldo) {
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const int8_t* vals = w.vals<int8_t>();
  const int br = w.block_rows();
  const __m256i dup = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  const __m128i inter4 = _mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
  for (int64_t p = n0 / BC; p * BC < n1; p++) {
    __m256i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    const int32_t b0 = ptr[p], b1 = ptr[p + 1];
    if (br == 1) {
      constexpr int G = BC == 8 ? 2 : 4;
      for (int32_t b = b0; b < b1; b += G) {
        int64_t ks[G];
        const int8_t* ws[G];
        for (int g = 0; g < G; g++) {
          const bool in = b + g < b1;
          ks[g] = in ? idx[b + g] : idx[b];  // a missing partner: zero weights, any valid k
          ws[g] = in ? vals + static_cast<int64_t>(b + g) * BC : kZeroRow;
        }
        if constexpr (BC == 8) {
          const __m256i wp =
              _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(ws[0])),
                                                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(ws[1]))));
          for (int r = 0; r < R; r++) {
            acc[r] =
                _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_set1_epi32(XPair(x + r * ldx, ks[0], ks[1])), wp));
          }
        } else {
          const __m128i ab = _mm_unpacklo_epi8(_mm_cvtsi32_si128(Load32(ws[0])), _mm_cvtsi32_si128(Load32(ws[1])));
          const __m128i cd = _mm_unpacklo_epi8(_mm_cvtsi32_si128(Load32(ws[2])), _mm_cvtsi32_si128(Load32(ws[3])));
          const __m256i wp = _mm256_cvtepi8_epi16(_mm_unpacklo_epi64(ab, cd));
          for (int r = 0; r < R; r++) {
            const int16_t* xr = x + r * ldx;
            const __m256i xv = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi32(XPair(xr, ks[0], ks[1]))),
                                                       _mm_set1_epi32(XPair(xr, ks[2], ks[3])), 1);
            acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xv, wp));
          }
        }
      }
    } else {
      for (int32_t b = b0; b < b1; b++) {
        const int64_t k0 = idx[b];
        const int8_t* vb = vals + static_cast<int64_t>(b) * br * BC;
        if constexpr (BC == 8) {
          for (int q = 0; q < br; q += 2) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(vb + q * 8));
            const __m256i wp = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v, _mm_srli_si128(v, 8)));
            for (int r = 0; r < R; r++) {
              acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(_mm256_set1_epi32(Load32(x + r * ldx + k0 + q)), wp));
            }
          }
        } else {
          for (int q = 0; q < br; q += 4) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(vb + q * 4));
            const __m256i wp = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(v, inter4));
            for (int r = 0; r < R; r++) {
              const __m256i xv = _mm256_permutevar8x32_epi32(
                  _mm256_castsi128_si256(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + r * ldx + k0 + q))), dup);
              acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xv, wp));
            }
          }
        }
      }
    }
    const int64_t c0 = p * BC - n0;
    const int cols = static_cast<int>(std::min<int64_t>(BC, n1 - p * BC));
    for (int r = 0; r < R; r++) {
      int32_t* o = out + r * ldo + c0;
      if constexpr (BC == 4) {
        const __m128i f = _mm_add_epi32(_mm256_castsi256_si128(acc[r]), _mm256_extracti128_si256(acc[r], 1));
        if (cols == 4) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(o), f);
        } else {
          alignas(16) int32_t tmp[4];
          _mm_store_si128(reinterpret_cast<__m128i*>(tmp), f);
          for (int c = 0; c < cols; c++) o[c] = tmp[c];
        }
      } else if (cols == 8) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), acc[r]);
      } else {
        alignas(32) int32_t tmp[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), acc[r]);
        for (int c = 0; c < cols; c++) o[c] = tmp[c];
      }
    }
  }
}

// ---- int8 kNM24 on VPMADDWD: per group, x[4g..4g+3] (int16) in every qword; VPSHUFB picks
// for each column the pair (x[4g + i0], x[4g + i1]) (control bytes built from the 2-bit
// offsets), VPMADDWD multiplies it by (v0, v1).
template <int R>
void MaddNm24Rows(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t n0, int64_t n1, int32_t* out,
                  int64_t ldo) {
  const int32_t* idx = w.idx();
  const int8_t* vals = w.vals<int8_t>();
  const int64_t groups = w.groups();
  const __m256i sh0 = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i sh1 = _mm256_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30);
  const __m256i three = _mm256_set1_epi32(3);
  const __m256i base = _mm256_set1_epi32(0x01000100);
  for (int64_t p = n0 / 8; p * 8 < n1; p++) {
    __m256i acc[R];
    for (int r = 0; r < R; r++) acc[r] = _mm256_setzero_si256();
    for (int64_t g = 0; g < groups; g++) {
      const __m256i bits = _mm256_set1_epi32(idx[p * groups + g]);
      const __m256i i0 = _mm256_and_si256(_mm256_srlv_epi32(bits, sh0), three);
      const __m256i i1 = _mm256_and_si256(_mm256_srlv_epi32(bits, sh1), three);
      // bytes of lane c: 2·i0, 2·i0 + 1, 2·i1, 2·i1 + 1
      const __m256i pair = _mm256_or_si256(i0, _mm256_slli_epi32(i1, 16));
      const __m256i ctrl =
          _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(pair, 9), _mm256_slli_epi32(pair, 1)), base);
      const int8_t* vg = vals + (p * groups + g) * 16;
      const __m128i v0 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(vg));
      const __m128i v1 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(vg + 8));
      const __m256i wp = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v0, v1));
      for (int r = 0; r < R; r++) {
        int64_t q;  // rows are zero-padded past K by the driver
        __builtin_memcpy(&q, x + r * ldx + g * 4, 8);
        const __m256i xs = _mm256_shuffle_epi8(_mm256_set1_epi64x(q), ctrl);
        acc[r] = _mm256_add_epi32(acc[r], _mm256_madd_epi16(xs, wp));
      }
    }
    const int64_t c0 = p * 8 - n0;
    const int cols = static_cast<int>(std::min<int64_t>(8, n1 - p * 8));
    for (int r = 0; r < R; r++) {
      alignas(32) int32_t tmp[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), acc[r]);
      int32_t* o = out + r * ldo + c0;
      for (int c = 0; c < cols; c++) o[c] = tmp[c];
    }
  }
}

template <int R>
void MaddDispatch(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t n0, int64_t n1, int32_t* out,
                  int64_t ldo) {
  if (w.format() == Format::kNM24)
    MaddNm24Rows<R>(w, x, ldx, n0, n1, out, ldo);
  else if (w.block_cols() == 8)
    MaddBlockRows<R, 8>(w, x, ldx, n0, n1, out, ldo);
  else
    MaddBlockRows<R, 4>(w, x, ldx, n0, n1, out, ldo);
}

}  // namespace

bool MaddEligible(const PackedSparse& w) {
  if (w.format() == Format::kNM24) return true;
  if (w.format() != Format::kBlock) return false;
  const int br = w.block_rows(), bc = w.block_cols();
  return (bc == 8 && (br == 1 || br % 2 == 0)) || (bc == 4 && (br == 1 || br % 4 == 0));
}

void SpmmI16Avx2(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                 int32_t* out, int64_t ldo) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) MaddDispatch<4>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
  switch (rows - i) {
    case 3:
      MaddDispatch<3>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    case 2:
      MaddDispatch<2>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    case 1:
      MaddDispatch<1>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    default:
      break;
  }
}

}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
