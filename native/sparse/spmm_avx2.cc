// AVX2 (+FMA) sparse kernels (compiled with -mavx2 -mfma by the file-name rule in
// CMakeLists.txt). One template per format over two element traits: float32 (FMA) and
// int32 (x − za already widened to int32 by the driver, weights int8 → int32, VPMULLD +
// VPADDD, wrap-around like the reference). Rows are processed 4 at a time so each weight
// load (and each index decode) serves 4 rows.
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {
namespace internal {

namespace {

struct F32T {
  using X = float;
  using V = float;
  using V8 = __m256;
  using V4 = __m128;
  static V8 Zero8() { return _mm256_setzero_ps(); }
  static V4 Zero4() { return _mm_setzero_ps(); }
  static V8 W8(const V* p) { return _mm256_loadu_ps(p); }
  static V4 W4(const V* p) { return _mm_loadu_ps(p); }
  static V8 X8(const X* p) { return _mm256_loadu_ps(p); }
  static V4 X4(const X* p) { return _mm_loadu_ps(p); }
  static V8 B8(const X* p) { return _mm256_broadcast_ss(p); }
  static V4 B4(const X* p) { return _mm_broadcast_ss(p); }
  static V8 Madd(V8 a, V8 b, V8 c) { return _mm256_fmadd_ps(a, b, c); }
  static V4 Madd(V4 a, V4 b, V4 c) { return _mm_fmadd_ps(a, b, c); }
  static V8 Gather(const X* base, __m256i idx) { return _mm256_i32gather_ps(base, idx, 4); }
  static V8 Quad(const X* p) { return _mm256_broadcast_ps(reinterpret_cast<const __m128*>(p)); }
  static V8 Perm(V8 q, __m256i i) { return _mm256_permutevar8x32_ps(q, i); }
  static void St8(X* p, V8 v) { _mm256_storeu_ps(p, v); }
  static void St4(X* p, V4 v) { _mm_storeu_ps(p, v); }
  static X Sum8(V8 v) {
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 1)));
  }
  static X Sum4(V4 a) {
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_shuffle_ps(b, b, 1)));
  }
  static X Mul(X a, V b) { return a * b; }
};

struct I32T {
  using X = int32_t;
  using V = int8_t;
  using V8 = __m256i;
  using V4 = __m128i;
  static V8 Zero8() { return _mm256_setzero_si256(); }
  static V4 Zero4() { return _mm_setzero_si128(); }
  static V8 W8(const V* p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
  static V4 W4(const V* p) {
    int32_t t;
    __builtin_memcpy(&t, p, 4);
    return _mm_cvtepi8_epi32(_mm_cvtsi32_si128(t));
  }
  static V8 X8(const X* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static V4 X4(const X* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static V8 B8(const X* p) { return _mm256_set1_epi32(*p); }
  static V4 B4(const X* p) { return _mm_set1_epi32(*p); }
  static V8 Madd(V8 a, V8 b, V8 c) { return _mm256_add_epi32(c, _mm256_mullo_epi32(a, b)); }
  static V4 Madd(V4 a, V4 b, V4 c) { return _mm_add_epi32(c, _mm_mullo_epi32(a, b)); }
  static V8 Gather(const X* base, __m256i idx) {
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(base), idx, 4);
  }
  static V8 Quad(const X* p) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V8 Perm(V8 q, __m256i i) { return _mm256_permutevar8x32_epi32(q, i); }
  static void St8(X* p, V8 v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static void St4(X* p, V4 v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
  static X Sum8(V8 v) { return Sum4(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1))); }
  static X Sum4(V4 a) {
    const __m128i b = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1)));
  }
  static X Mul(X a, V b) {
    return static_cast<X>(static_cast<uint32_t>(a) * static_cast<uint32_t>(static_cast<int32_t>(b)));
  }
};

// The accumulator vector of width W (8 or 4 lanes) of traits T.
template <class T, int W>
struct VecT;
template <class T>
struct VecT<T, 8> {
  using type = typename T::V8;
};
template <class T>
struct VecT<T, 4> {
  using type = typename T::V4;
};

template <class T>
typename T::X Add(typename T::X a, typename T::X b);
template <>
inline float Add<F32T>(float a, float b) {
  return a + b;
}
template <>
inline int32_t Add<I32T>(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// ---- kCsc: per column, 8 entries per gather (columns are padded to multiples of 8).
template <class T, int R>
void CscRows(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t n0, int64_t n1, typename T::X* out,
             int64_t ldo) {
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const typename T::V* vals = w.vals<typename T::V>();
  for (int64_t j = n0; j < n1; j++) {
    typename T::V8 acc[R];
    for (int r = 0; r < R; r++) acc[r] = T::Zero8();
    for (int32_t e = ptr[j]; e < ptr[j + 1]; e += 8) {
      const __m256i i8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(idx + e));
      const typename T::V8 w8 = T::W8(vals + e);
      for (int r = 0; r < R; r++) acc[r] = T::Madd(T::Gather(x + r * ldx, i8), w8, acc[r]);
    }
    for (int r = 0; r < R; r++) out[r * ldo + (j - n0)] = T::Sum8(acc[r]);
  }
}

// ---- kBlock, bc = 8 or 4: one vector of bc columns per row, ascending k.
template <class T, int R, int BC>
void BlockColsRows(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t n0, int64_t n1,
                   typename T::X* out, int64_t ldo) {
  using X = typename T::X;
  using VV = typename VecT<T, BC>::type;
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const typename T::V* vals = w.vals<typename T::V>();
  const int br = w.block_rows();
  const int64_t k = w.k();
  for (int64_t p = n0 / BC; p * BC < n1; p++) {
    VV acc[R];
    for (int r = 0; r < R; r++) {
      if constexpr (BC == 8)
        acc[r] = T::Zero8();
      else
        acc[r] = T::Zero4();
    }
    for (int32_t b = ptr[p]; b < ptr[p + 1]; b++) {
      const int64_t k0 = idx[b];
      const int rr = static_cast<int>(std::min<int64_t>(br, k - k0));
      const typename T::V* vb = vals + static_cast<int64_t>(b) * br * BC;
      for (int q = 0; q < rr; q++) {
        if constexpr (BC == 8) {
          const VV wv = T::W8(vb + q * BC);
          for (int r = 0; r < R; r++) acc[r] = T::Madd(T::B8(x + r * ldx + k0 + q), wv, acc[r]);
        } else {
          const VV wv = T::W4(vb + q * BC);
          for (int r = 0; r < R; r++) acc[r] = T::Madd(T::B4(x + r * ldx + k0 + q), wv, acc[r]);
        }
      }
    }
    const int64_t c0 = p * BC - n0;
    const int cols = static_cast<int>(std::min<int64_t>(BC, n1 - p * BC));
    for (int r = 0; r < R; r++) {
      X* o = out + r * ldo + c0;
      if (cols == BC) {
        if constexpr (BC == 8)
          T::St8(o, acc[r]);
        else
          T::St4(o, acc[r]);
      } else {
        alignas(32) X tmp[8];
        if constexpr (BC == 8)
          T::St8(tmp, acc[r]);
        else
          T::St4(tmp, acc[r]);
        for (int c = 0; c < cols; c++) o[c] = tmp[c];
      }
    }
  }
}

// ---- kBlock, bc = 1, br = 4 or 8: contiguous x[k0 .. k0+br) times the block, br partial sums.
template <class T, int R, int BR>
void BlockRowsRows(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t n0, int64_t n1,
                   typename T::X* out, int64_t ldo) {
  using X = typename T::X;
  using VV = typename VecT<T, BR>::type;
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  const typename T::V* vals = w.vals<typename T::V>();
  const int64_t k = w.k();
  for (int64_t j = n0; j < n1; j++) {
    VV acc[R];
    X tail[R];
    for (int r = 0; r < R; r++) {
      if constexpr (BR == 8)
        acc[r] = T::Zero8();
      else
        acc[r] = T::Zero4();
      tail[r] = X(0);
    }
    for (int32_t b = ptr[j]; b < ptr[j + 1]; b++) {
      const int64_t k0 = idx[b];
      const typename T::V* vb = vals + static_cast<int64_t>(b) * BR;
      if (k0 + BR <= k) {
        if constexpr (BR == 8) {
          const VV wv = T::W8(vb);
          for (int r = 0; r < R; r++) acc[r] = T::Madd(T::X8(x + r * ldx + k0), wv, acc[r]);
        } else {
          const VV wv = T::W4(vb);
          for (int r = 0; r < R; r++) acc[r] = T::Madd(T::X4(x + r * ldx + k0), wv, acc[r]);
        }
      } else {
        for (int64_t q = 0; k0 + q < k; q++) {
          for (int r = 0; r < R; r++) tail[r] = Add<T>(tail[r], T::Mul(x[r * ldx + k0 + q], vb[q]));
        }
      }
    }
    for (int r = 0; r < R; r++) {
      X s;
      if constexpr (BR == 8)
        s = T::Sum8(acc[r]);
      else
        s = T::Sum4(acc[r]);
      out[r * ldo + (j - n0)] = Add<T>(s, tail[r]);
    }
  }
}

// ---- kNM24: per panel of 8 columns and group of 4 k: x[4g..4g+3] in both halves, each
// column's two values selected by VPERMD with the decoded 2-bit offsets.
template <class T, int R>
void Nm24Rows(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t n0, int64_t n1, typename T::X* out,
              int64_t ldo) {
  using X = typename T::X;
  const int32_t* idx = w.idx();
  const typename T::V* vals = w.vals<typename T::V>();
  const int64_t k = w.k(), groups = w.groups();
  const int64_t full = k / 4;  // groups whose 4 x values are all inside the row
  const __m256i sh0 = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i sh1 = _mm256_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30);
  const __m256i three = _mm256_set1_epi32(3);
  for (int64_t p = n0 / 8; p * 8 < n1; p++) {
    typename T::V8 acc[R];
    for (int r = 0; r < R; r++) acc[r] = T::Zero8();
    for (int64_t g = 0; g < groups; g++) {
      const __m256i bits = _mm256_set1_epi32(idx[p * groups + g]);
      const __m256i i0 = _mm256_and_si256(_mm256_srlv_epi32(bits, sh0), three);
      const __m256i i1 = _mm256_and_si256(_mm256_srlv_epi32(bits, sh1), three);
      const typename T::V* vg = vals + (p * groups + g) * 16;
      const typename T::V8 v0 = T::W8(vg), v1 = T::W8(vg + 8);
      for (int r = 0; r < R; r++) {
        typename T::V8 q;
        if (g < full) {
          q = T::Quad(x + r * ldx + g * 4);
        } else {
          alignas(16) X t[4] = {X(0), X(0), X(0), X(0)};
          for (int64_t u = 0; g * 4 + u < k; u++) t[u] = x[r * ldx + g * 4 + u];
          q = T::Quad(t);
        }
        acc[r] = T::Madd(T::Perm(q, i0), v0, acc[r]);
        acc[r] = T::Madd(T::Perm(q, i1), v1, acc[r]);
      }
    }
    const int64_t c0 = p * 8 - n0;
    const int cols = static_cast<int>(std::min<int64_t>(8, n1 - p * 8));
    for (int r = 0; r < R; r++) {
      X* o = out + r * ldo + c0;
      if (cols == 8) {
        T::St8(o, acc[r]);
      } else {
        alignas(32) X tmp[8];
        T::St8(tmp, acc[r]);
        for (int c = 0; c < cols; c++) o[c] = tmp[c];
      }
    }
  }
}

template <class T, int R>
void Dispatch(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t n0, int64_t n1, typename T::X* out,
              int64_t ldo) {
  switch (w.format()) {
    case Format::kCsc:
      CscRows<T, R>(w, x, ldx, n0, n1, out, ldo);
      return;
    case Format::kNM24:
      Nm24Rows<T, R>(w, x, ldx, n0, n1, out, ldo);
      return;
    case Format::kBlock:
      if (w.block_cols() == 8)
        BlockColsRows<T, R, 8>(w, x, ldx, n0, n1, out, ldo);
      else if (w.block_cols() == 4)
        BlockColsRows<T, R, 4>(w, x, ldx, n0, n1, out, ldo);
      else if (w.block_rows() == 8)
        BlockRowsRows<T, R, 8>(w, x, ldx, n0, n1, out, ldo);
      else
        BlockRowsRows<T, R, 4>(w, x, ldx, n0, n1, out, ldo);
      return;
  }
}

template <class T>
void Run(const PackedSparse& w, const typename T::X* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
         typename T::X* out, int64_t ldo) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) Dispatch<T, 4>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
  switch (rows - i) {
    case 3:
      Dispatch<T, 3>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    case 2:
      Dispatch<T, 2>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    case 1:
      Dispatch<T, 1>(w, x + i * ldx, ldx, n0, n1, out + i * ldo, ldo);
      break;
    default:
      break;
  }
}

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

void SpmmF32Avx2(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1, float* out,
                 int64_t ldo) {
  if (w.format() == Format::kBlock && w.block_cols() == 1 && w.block_rows() == 2) {
    SpmmF32Ref(w, x, ldx, rows, n0, n1, out, ldo);
    return;
  }
  Run<F32T>(w, x, ldx, rows, n0, n1, out, ldo);
}

void SpmmI32Avx2(const PackedSparse& w, const int32_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                 int32_t* out, int64_t ldo) {
  if (w.format() == Format::kBlock && w.block_cols() == 1 && w.block_rows() == 2) {
    SpmmI32Ref(w, x, ldx, rows, n0, n1, out, ldo);
    return;
  }
  Run<I32T>(w, x, ldx, rows, n0, n1, out, ldo);
}

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
