// AVX2 (+FMA) sparse kernels (compiled with -mavx2 -mfma by the file-name rule in
// CMakeLists.txt). One template per format over two element traits: float32 (FMA) and
// int32 (x − za already widened to int32 by the driver, weights int8 → int32, VPMULLD +
// VPADDD, wrap-around like the reference). Rows are processed 4 at a time so each weight
// load (and each index decode) serves 4 rows. The int8 kernels on VPMADDWD are in
// spmm_madd_avx2.cc, the transposed-CSC kernels for many rows in spmm_csct_avx2.cc.
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

}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
