// AVX2 sparse kernels for CSC weights and many rows (compiled with -mavx2 -mfma by the
// file-name rule in CMakeLists.txt): x transposed into blocks of rows so each stored weight
// feeds a block of rows with contiguous loads instead of a gather per row.
#include <immintrin.h>

#include <cstdint>

#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {
namespace internal {

namespace {

// ---- kCsc with many rows: x transposed into blocks of MB rows (xt[k][0..MB), zero padded),
// so each stored (k, w) feeds MB rows with contiguous loads instead of a gather per row.
// float: acc[m] += w · xt[k][m] (FMA), ascending k per output. int8: xt is int16 (x − za) and
// the entries of a column go in pairs (k_a, k_b) (columns are padded to multiples of 8):
// VPUNPCK{L,H}WD interleaves xt[k_a] and xt[k_b], VPMADDWD multiplies by (w_a, w_b).
// Output: out[i·ldo + (j − n0)] for i < rows.
template <int V>
void CscTF32(const PackedSparse& w, const float* xt, int64_t rows, int64_t n0, int64_t n1, float* out, int64_t ldo) {
  constexpr int MB = 8 * V;
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const float* vals = w.vals<float>();
  for (int64_t j = n0; j < n1; j++) {
    __m256 acc[V];
    for (int v = 0; v < V; v++) acc[v] = _mm256_setzero_ps();
    for (int32_t e = ptr[j]; e < ptr[j + 1]; e++) {
      const __m256 wv = _mm256_broadcast_ss(vals + e);
      const float* xk = xt + static_cast<int64_t>(idx[e]) * MB;
      for (int v = 0; v < V; v++) acc[v] = _mm256_fmadd_ps(_mm256_load_ps(xk + 8 * v), wv, acc[v]);
    }
    alignas(32) float tmp[MB];
    for (int v = 0; v < V; v++) _mm256_store_ps(tmp + 8 * v, acc[v]);
    for (int64_t i = 0; i < rows; i++) out[i * ldo + (j - n0)] = tmp[i];
  }
}

template <int V>
void CscTI16(const PackedSparse& w, const int16_t* xt, int64_t rows, int64_t n0, int64_t n1, int32_t* out,
             int64_t ldo) {
  constexpr int MB = 16 * V;
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const int8_t* vals = w.vals<int8_t>();
  for (int64_t j = n0; j < n1; j++) {
    __m256i lo[V], hi[V];
    for (int v = 0; v < V; v++) lo[v] = hi[v] = _mm256_setzero_si256();
    for (int32_t e = ptr[j]; e < ptr[j + 1]; e += 2) {
      const __m256i wp =
          _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(vals[e])) |
                                                 (static_cast<uint32_t>(static_cast<uint16_t>(vals[e + 1])) << 16)));
      const int16_t* xa = xt + static_cast<int64_t>(idx[e]) * MB;
      const int16_t* xb = xt + static_cast<int64_t>(idx[e + 1]) * MB;
      for (int v = 0; v < V; v++) {
        const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(xa + 16 * v));
        const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(xb + 16 * v));
        lo[v] = _mm256_add_epi32(lo[v], _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), wp));
        hi[v] = _mm256_add_epi32(hi[v], _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), wp));
      }
    }
    // lo lanes: rows 0–3 and 8–11 of each 16; hi lanes: rows 4–7 and 12–15.
    alignas(32) int32_t tmp[MB];
    for (int v = 0; v < V; v++) {
      const __m256i l = lo[v], h = hi[v];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 16 * v), _mm256_permute2x128_si256(l, h, 0x20));
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 16 * v + 8), _mm256_permute2x128_si256(l, h, 0x31));
    }
    for (int64_t i = 0; i < rows; i++) out[i * ldo + (j - n0)] = tmp[i];
  }
}

}  // namespace

void CscTF32Avx2(const PackedSparse& w, const float* xt, int mb, int64_t rows, int64_t n0, int64_t n1, float* out,
                 int64_t ldo) {
  if (mb == 8)
    CscTF32<1>(w, xt, rows, n0, n1, out, ldo);
  else if (mb == 16)
    CscTF32<2>(w, xt, rows, n0, n1, out, ldo);
  else
    CscTF32<4>(w, xt, rows, n0, n1, out, ldo);
}

void CscTI16Avx2(const PackedSparse& w, const int16_t* xt, int mb, int64_t rows, int64_t n0, int64_t n1, int32_t* out,
                 int64_t ldo) {
  if (mb == 16)
    CscTI16<1>(w, xt, rows, n0, n1, out, ldo);
  else
    CscTI16<2>(w, xt, rows, n0, n1, out, ldo);
}

}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
