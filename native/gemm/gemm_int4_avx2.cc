// int4 kernels for AVX2 (docs/quantization.md §12.5, packed layout). Weights stay packed in memory; each 32-byte
// block (8 columns × 8 K values) is unpacked in registers: low nibbles = K values 0..3, high
// nibbles = 4..7 of the block, as offset-binary w' = w + 8 ∈ [0, 15].
//
// Quantized path: VPMADDUBSW(a_u8, w'_u4) is exact here (|pair| ≤ 2·255·15 = 7650), and four
// of them still fit int16 (30600 < 32767) before one VPMADDWD with ones widens to int32. The
// raw group sum Σ a·w' is corrected to Σ (a − za)(w − zw) = raw − za·Σw' − (zw + 8)·Σ(a − za)
// (exact int32), then the float group step of §12.5 runs in vector lanes, one column per lane,
// in the same order as the reference: every output equals GemmRef bit for bit.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "gemm/gemm_int4.h"

namespace tfjq {
namespace gemm {
namespace int4_internal {
namespace {

inline __m256i Bcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Stores 8 columns of row m from panel p: vector finish for a full panel, the scalar
// statement (Finish) for the last, partial one.
inline void StorePanel(const Call& c, __m256 y, int64_t m, int64_t p) {
  const int64_t n0 = p * kInt4PanelCols, n = c.b->n();
  float* dst = c.out.c + m * c.out.ldc + n0;
  if (n0 + kInt4PanelCols <= n) {
    if (c.out.bias != nullptr) y = _mm256_add_ps(y, _mm256_loadu_ps(c.out.bias + n0));
    if (c.has_lo) y = _mm256_max_ps(y, _mm256_set1_ps(c.lo));  // (y > lo ? y : lo)
    if (c.has_hi) y = _mm256_min_ps(y, _mm256_set1_ps(c.hi));  // (y < hi ? y : hi)
    _mm256_storeu_ps(dst, y);
    return;
  }
  alignas(32) float tmp[kInt4PanelCols];
  _mm256_store_ps(tmp, y);
  for (int64_t j = 0; n0 + j < n; j++) dst[j] = Finish(c, tmp[j], n0 + j);
}

using ScaleKind = PackedInt4::ScaleKind;

// The per-(group, column) tables of 8 columns at table index t (see PackedInt4). Scales of a
// kCode8 table: fl32(code × super) per lane, the scalar PackedInt4::scale statement.
template <ScaleKind SK>
inline __m256 LoadScalesK(const PackedInt4& b, int64_t t, __m256 super) {
  if constexpr (SK == ScaleKind::kCode8) {
    const __m256i code = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scale_codes() + t)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(code), super);
  } else if constexpr (SK == ScaleKind::kF16) {
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(b.scales16() + t)));  // exact
  } else {
    return _mm256_load_ps(b.scales32() + t);
  }
}
inline __m256 Supers(const PackedInt4& b, int64_t p) {
  return b.scale_kind() == ScaleKind::kCode8 ? _mm256_load_ps(b.super_scales() + p * kInt4PanelCols)
                                             : _mm256_setzero_ps();
}
inline __m256 LoadScales(const PackedInt4& b, int64_t t, __m256 super) {
  switch (b.scale_kind()) {
    case ScaleKind::kCode8:
      return LoadScalesK<ScaleKind::kCode8>(b, t, super);
    case ScaleKind::kF16:
      return LoadScalesK<ScaleKind::kF16>(b, t, super);
    default:
      return LoadScalesK<ScaleKind::kF32>(b, t, super);
  }
}
inline __m256i LoadSums(const PackedInt4& b, int64_t t) {
  if (b.sums_i16()) return _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.sums16() + t)));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(b.sums32() + t));
}
inline __m256i LoadZp8(const uint8_t* zp8, int64_t t) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(zp8 + t)));
}

inline __m256i LoadBlock(const uint8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }

// R rows (m0..m0+R) × P consecutive panels (p0..p0+P), all of K; SK and kSym are fixed per
// packed weight (Tile below picks the instance, so the group loop has no table branches).
template <int R, int P, ScaleKind SK, bool kSym>
void TileImpl(const Call& c, int64_t m0, int64_t p0) {
  const PackedInt4& b = *c.b;
  const int64_t groups = b.groups(), stride = b.panel_stride();
  const uint8_t* w = b.panels() + p0 * stride;
  const uint8_t* a[R];
  for (int r = 0; r < R; r++) a[r] = c.a + (m0 + r) * c.a_stride;
  const __m256i mask = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
  __m256 y[R][P];
  for (int r = 0; r < R; r++)
    for (int q = 0; q < P; q++) y[r][q] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; g++) {
    __m256i acc[R][P];
    for (int r = 0; r < R; r++)
      for (int q = 0; q < P; q++) acc[r][q] = _mm256_setzero_si256();
    int64_t o = b.group_block_begin(g);
    const int64_t oe = b.group_block_end(g);
    if constexpr (R == 1) {
      // GEMV: broadcast A once per 16 K values, then stream the P panels (unpacking each
      // block right before its use keeps the live registers at acc[P] + y[P] + 4 + constants).
      for (; o + 2 <= oe; o += 2) {
        const uint8_t* ar = a[0] + o * kInt4BlockK;
        const __m256i a0 = Bcast4(ar), a1 = Bcast4(ar + 4), a2 = Bcast4(ar + 8), a3 = Bcast4(ar + 12);
        for (int q = 0; q < P; q++) {
          const uint8_t* wq = w + q * stride + o * kInt4BlockBytes;
          const __m256i w0 = LoadBlock(wq), w1 = LoadBlock(wq + kInt4BlockBytes);
          const __m256i s = _mm256_add_epi16(
              _mm256_add_epi16(_mm256_maddubs_epi16(a0, _mm256_and_si256(w0, mask)),
                               _mm256_maddubs_epi16(a1, _mm256_and_si256(_mm256_srli_epi16(w0, 4), mask))),
              _mm256_add_epi16(_mm256_maddubs_epi16(a2, _mm256_and_si256(w1, mask)),
                               _mm256_maddubs_epi16(a3, _mm256_and_si256(_mm256_srli_epi16(w1, 4), mask))));
          acc[0][q] = _mm256_add_epi32(acc[0][q], _mm256_madd_epi16(s, ones));
        }
      }
    }
    for (; o + 2 <= oe; o += 2) {
      __m256i lo0[P], hi0[P], lo1[P], hi1[P];
      for (int q = 0; q < P; q++) {
        const __m256i w0 = LoadBlock(w + q * stride + o * kInt4BlockBytes);
        const __m256i w1 = LoadBlock(w + q * stride + (o + 1) * kInt4BlockBytes);
        lo0[q] = _mm256_and_si256(w0, mask);
        hi0[q] = _mm256_and_si256(_mm256_srli_epi16(w0, 4), mask);
        lo1[q] = _mm256_and_si256(w1, mask);
        hi1[q] = _mm256_and_si256(_mm256_srli_epi16(w1, 4), mask);
      }
      for (int r = 0; r < R; r++) {
        const uint8_t* ar = a[r] + o * kInt4BlockK;
        const __m256i a0 = Bcast4(ar), a1 = Bcast4(ar + 4), a2 = Bcast4(ar + 8), a3 = Bcast4(ar + 12);
        for (int q = 0; q < P; q++) {
          const __m256i s =
              _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(a0, lo0[q]), _mm256_maddubs_epi16(a1, hi0[q])),
                               _mm256_add_epi16(_mm256_maddubs_epi16(a2, lo1[q]), _mm256_maddubs_epi16(a3, hi1[q])));
          acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(s, ones));
        }
      }
    }
    if (o < oe) {
      __m256i lo0[P], hi0[P];
      for (int q = 0; q < P; q++) {
        const __m256i w0 = LoadBlock(w + q * stride + o * kInt4BlockBytes);
        lo0[q] = _mm256_and_si256(w0, mask);
        hi0[q] = _mm256_and_si256(_mm256_srli_epi16(w0, 4), mask);
      }
      for (int r = 0; r < R; r++) {
        const uint8_t* ar = a[r] + o * kInt4BlockK;
        const __m256i a0 = Bcast4(ar), a1 = Bcast4(ar + 4);
        for (int q = 0; q < P; q++) {
          const __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(a0, lo0[q]), _mm256_maddubs_epi16(a1, hi0[q]));
          acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(s, ones));
        }
      }
    }
    for (int q = 0; q < P; q++) {
      const int64_t t = ((p0 + q) * groups + g) * kInt4PanelCols;
      const __m256i sums = LoadSums(b, t);
      // The super-scales are reloaded per group (an L1 hit) rather than held in P registers.
      const __m256 sw = LoadScalesK<SK>(
          b, t,
          SK == ScaleKind::kCode8 ? _mm256_load_ps(b.super_scales() + (p0 + q) * kInt4PanelCols) : _mm256_setzero_ps());
      for (int r = 0; r < R; r++) {
        __m256i v = _mm256_sub_epi32(acc[r][q], _mm256_mullo_epi32(_mm256_set1_epi32(c.za[m0 + r]), sums));
        const int32_t rs = c.rs[(m0 + r) * groups + g];
        // − (zw + 8)·Σ(A − za): symmetric weights have zw + 8 = 8 in every column.
        if constexpr (kSym)
          v = _mm256_sub_epi32(v, _mm256_set1_epi32(rs * 8));
        else
          v = _mm256_sub_epi32(v, _mm256_mullo_epi32(LoadZp8(b.zero_points8(), t), _mm256_set1_epi32(rs)));
        const __m256 s = _mm256_mul_ps(_mm256_set1_ps(c.sa[m0 + r]), sw);
        y[r][q] = _mm256_add_ps(y[r][q], _mm256_mul_ps(_mm256_cvtepi32_ps(v), s));
      }
    }
  }
  for (int r = 0; r < R; r++)
    for (int q = 0; q < P; q++) StorePanel(c, y[r][q], m0 + r, p0 + q);
}

template <int R, int P>
void Tile(const Call& c, int64_t m0, int64_t p0) {
  const bool sym = c.b->zero_points8() == nullptr;
  switch (c.b->scale_kind()) {
    case ScaleKind::kCode8:
      return sym ? TileImpl<R, P, ScaleKind::kCode8, true>(c, m0, p0)
                 : TileImpl<R, P, ScaleKind::kCode8, false>(c, m0, p0);
    case ScaleKind::kF16:
      return sym ? TileImpl<R, P, ScaleKind::kF16, true>(c, m0, p0) : TileImpl<R, P, ScaleKind::kF16, false>(c, m0, p0);
    default:
      return sym ? TileImpl<R, P, ScaleKind::kF32, true>(c, m0, p0) : TileImpl<R, P, ScaleKind::kF32, false>(c, m0, p0);
  }
}

// Weight-only: R rows × P panels. Each block's nibbles are transposed in registers to K-major
// order (VPSHUFB + VPERMD: 8 bytes = 8 columns per K value) and kept in a small stack tile,
// from which each K value's 8 columns are widened (VPMOVZXBD), offset by the zero point and
// converted to float. Every (row, column) sum is one sequential chain in K, as the reference
// orders it; P panels (and R rows) give the core independent chains instead of one add
// latency per K value.
template <int R, int P>
void WeightOnlyTile(const Call& c, int64_t m0, int64_t p0) {
  const PackedInt4& b = *c.b;
  const int64_t groups = b.groups(), stride = b.panel_stride();
  const uint8_t* w = b.panels() + p0 * stride;
  const float* x[R];
  for (int r = 0; r < R; r++) x[r] = c.x + (m0 + r) * c.ldx;
  const __m256i mask = _mm256_set1_epi8(0x0F);
  const __m256i tr = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2,
                                      6, 10, 14, 3, 7, 11, 15);
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  alignas(32) uint8_t kmajor[P][64];  // [panel][K value t of the block][column]
  __m256 y[R][P];
  for (int r = 0; r < R; r++)
    for (int q = 0; q < P; q++) y[r][q] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; g++) {
    __m256i zp8[P];
    for (int q = 0; q < P; q++) {
      const int64_t col = ((p0 + q) * groups + g) * kInt4PanelCols;
      zp8[q] = b.zero_points8() == nullptr ? _mm256_set1_epi32(8) : LoadZp8(b.zero_points8(), col);
    }
    __m256 acc[R][P];
    for (int r = 0; r < R; r++)
      for (int q = 0; q < P; q++) acc[r][q] = _mm256_setzero_ps();
    const int64_t k1 = g * b.group_size() + b.group_length(g);
    for (int64_t o = b.group_block_begin(g); o < b.group_block_end(g); o++) {
      for (int q = 0; q < P; q++) {
        const __m256i wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + q * stride + o * kInt4BlockBytes));
        _mm256_store_si256(reinterpret_cast<__m256i*>(kmajor[q]),
                           _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(_mm256_and_si256(wv, mask), tr), perm));
        _mm256_store_si256(reinterpret_cast<__m256i*>(kmajor[q] + 32),
                           _mm256_permutevar8x32_epi32(
                               _mm256_shuffle_epi8(_mm256_and_si256(_mm256_srli_epi16(wv, 4), mask), tr), perm));
      }
      const int64_t kb = o * kInt4BlockK;
      const int tn = static_cast<int>(k1 - kb < kInt4BlockK ? k1 - kb : kInt4BlockK);
      for (int t = 0; t < tn; t++) {
        __m256 xv[R];
        for (int r = 0; r < R; r++) xv[r] = _mm256_set1_ps(x[r][kb + t]);
        for (int q = 0; q < P; q++) {
          const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kmajor[q] + 8 * t));
          const __m256 wf = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), zp8[q]));
          for (int r = 0; r < R; r++) acc[r][q] = _mm256_add_ps(acc[r][q], _mm256_mul_ps(xv[r], wf));
        }
      }
    }
    for (int q = 0; q < P; q++) {
      const __m256 sw = LoadScales(b, ((p0 + q) * groups + g) * kInt4PanelCols, Supers(b, p0 + q));
      for (int r = 0; r < R; r++) y[r][q] = _mm256_add_ps(y[r][q], _mm256_mul_ps(acc[r][q], sw));
    }
  }
  for (int r = 0; r < R; r++)
    for (int q = 0; q < P; q++) StorePanel(c, y[r][q], m0 + r, p0 + q);
}

const Kernels kAvx2Kernels = {Isa::kAvx2,
                              {Tile<1, 1>, Tile<2, 1>, Tile<3, 1>, Tile<4, 1>},
                              Tile<1, 4>,
                              {WeightOnlyTile<1, 1>, WeightOnlyTile<2, 1>, WeightOnlyTile<3, 1>, WeightOnlyTile<4, 1>},
                              WeightOnlyTile<1, 4>};

}  // namespace

const Kernels* Avx2() { return &kAvx2Kernels; }

}  // namespace int4_internal
}  // namespace gemm
}  // namespace tfjq
