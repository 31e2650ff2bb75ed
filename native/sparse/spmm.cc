// The sparse product driver: argument checks, threading (ParallelFor over row chunks ×
// column chunks), int8 input widening and the int8 epilogue (the dense GEMM's own §7
// requantize functions from gemm/internal.h, so results are bit-identical).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "gemm/internal.h"
#include "sparse/kernels.h"
#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {

namespace {

[[noreturn]] void Bad(const std::string& m) { throw std::invalid_argument(m); }

constexpr int64_t kRowChunk = 16;

struct Tiling {
  int64_t row_chunks, col_chunks, panels_per_chunk;
  int threads;
};

Tiling MakeTiling(const PackedSparse& w, int64_t rows, int threads) {
  Tiling t;
  t.threads = Participants(threads);
  // Waking pool workers costs microseconds: small products run on the caller alone.
  const double work = static_cast<double>(rows) * static_cast<double>(std::max<int64_t>(w.stored(), w.n()));
  if (work < 1.0e6) t.threads = 1;
  t.row_chunks = (rows + kRowChunk - 1) / kRowChunk;
  const int64_t panels = w.panels();
  int64_t want_cols = 1;
  if (t.threads > 1) want_cols = std::max<int64_t>(1, (4 * t.threads + t.row_chunks - 1) / t.row_chunks);
  // Column chunks also bound the int32 tile of the int8 path (≤ 1024 columns).
  want_cols = std::max<int64_t>(want_cols, (w.n() + 1023) / 1024);
  want_cols = std::min(want_cols, panels);
  t.panels_per_chunk = (panels + want_cols - 1) / want_cols;
  t.col_chunks = (panels + t.panels_per_chunk - 1) / t.panels_per_chunk;
  return t;
}

template <typename Fn>
void ForTiles(const PackedSparse& w, int64_t rows, const Tiling& t, Fn fn) {
  const int64_t tasks = t.row_chunks * t.col_chunks;
  const int64_t pc = w.panel_cols();
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; task++) {
      const int64_t rc = task / t.col_chunks, cc = task % t.col_chunks;
      const int64_t r0 = rc * kRowChunk, r1 = std::min(rows, r0 + kRowChunk);
      const int64_t n0 = cc * t.panels_per_chunk * pc, n1 = std::min(w.n(), n0 + t.panels_per_chunk * pc);
      fn(r0, r1, n0, n1);
    }
  };
  if (t.threads <= 1 || tasks == 1) {
    body(0, tasks);
    return;
  }
  ParallelFor(tasks, 1, t.threads, body);
}

void CheckCall(const PackedSparse& w, ValueType type, const void* x, int64_t ldx, int64_t rows, const void* y,
               int64_t ldy, int threads) {
  if (w.k() == 0) Bad("sparse weights are empty");
  if (w.type() != type)
    Bad(type == ValueType::kF32 ? "weights were packed as int8, not float32"
                                : "weights were packed as float32, not int8");
  if (!(w.isa() == Isa::kRef || IsaSupported(w.isa())))
    Bad(std::string("weights are packed for isa '") + IsaName(w.isa()) + "', not available here");
  if (rows < 0) Bad("rows must be >= 0");
  if (ldx < w.k()) Bad("ldx must be >= k");
  if (ldy < w.n()) Bad("ldy must be >= n");
  if (rows > 0 && (x == nullptr || y == nullptr)) Bad("x and y must not be null");
  if (threads < 0) Bad("threads must be >= 0");
}

const internal::SparseKernels& KernelsOf(const PackedSparse& w) {
  return *internal::SparseKernelTable().Resolve(w.isa());
}

thread_local AlignedBuffer t_widened;
thread_local AlignedBuffer t_tile;
thread_local AlignedBuffer t_transposed;

// The transposed-x CSC path (AVX2, rows ≥ these): each stored weight feeds a block of rows.
constexpr int64_t kCscTMinRowsF32 = 4, kCscTMinRowsI8 = 8;

bool UseCscT(const PackedSparse& w, int64_t rows, int64_t min_rows) {
  return w.format() == Format::kCsc && KernelsOf(w).csct_f32 != nullptr && rows >= min_rows;
}

// x (rows × k, stride ldx) → xt[(rb·k + kk)·mb + i] = conv(x[(rb·mb + i)·ldx + kk]), zero past rows.
template <typename T, typename Conv>
T* TransposeBlocks(const void* x_any, int64_t ldx, int64_t rows, int64_t k, int mb, int threads, Conv conv) {
  const int64_t nrb = (rows + mb - 1) / mb;
  const size_t need = static_cast<size_t>(nrb * k * mb) * sizeof(T);
  if (t_transposed.size() < need) t_transposed.Reset(need);
  T* xt = t_transposed.as<T>();
  ParallelFor(nrb, 1, rows * k < 262144 ? 1 : threads, [&](int64_t b, int64_t e) {
    for (int64_t rb = b; rb < e; rb++) {
      T* blk = xt + rb * k * mb;
      for (int i = 0; i < mb; i++) {
        const int64_t m = rb * mb + i;
        if (m < rows) {
          for (int64_t kk = 0; kk < k; kk++) blk[kk * mb + i] = conv(x_any, m * ldx + kk);
        } else {
          for (int64_t kk = 0; kk < k; kk++) blk[kk * mb + i] = T(0);
        }
      }
    }
  });
  return xt;
}

// Tasks of the transposed path: row blocks × column chunks (≤ 256 columns: bounds the int32 tile).
template <typename Fn>
void ForCscTTiles(const PackedSparse& w, int64_t rows, int mb, int threads, Fn fn) {
  const int64_t n = w.n();
  const int64_t nrb = (rows + mb - 1) / mb;
  int t = Participants(threads);
  // As MakeTiling: small products run on the caller alone.
  if (static_cast<double>(rows) * static_cast<double>(std::max<int64_t>(w.stored(), n)) < 1.0e6) t = 1;
  int64_t ccount = std::max<int64_t>((n + 255) / 256, t > 1 ? (4 * t + nrb - 1) / nrb : 1);
  ccount = std::min(ccount, n);
  const int64_t per = (n + ccount - 1) / ccount;
  ccount = (n + per - 1) / per;
  const int64_t tasks = nrb * ccount;
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; task++) {
      const int64_t rb = task / ccount, cc = task % ccount;
      fn(rb * mb, std::min(rows, rb * mb + mb), cc * per, std::min(n, cc * per + per));
    }
  };
  if (t <= 1 || tasks == 1)
    body(0, tasks);
  else
    ParallelFor(tasks, 1, t, body);
}

}  // namespace

void SpmmF32(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, int threads) {
  CheckCall(w, ValueType::kF32, x, ldx, rows, y, ldy, threads);
  if (rows == 0) return;
  const internal::SparseKernels& ks = KernelsOf(w);
  if (UseCscT(w, rows, kCscTMinRowsF32)) {
    const int mb = rows <= 8 ? 8 : rows <= 16 ? 16 : 32;
    const float* xt = TransposeBlocks<float>(x, ldx, rows, w.k(), mb, threads,
                                             [](const void* p, int64_t i) { return static_cast<const float*>(p)[i]; });
    const int64_t k = w.k();
    ForCscTTiles(w, rows, mb, threads, [&](int64_t r0, int64_t r1, int64_t n0, int64_t n1) {
      ks.csct_f32(w, xt + (r0 / mb) * k * mb, mb, r1 - r0, n0, n1, y + r0 * ldy + n0, ldy);
    });
    return;
  }
  const internal::F32Kernel kernel = ks.spmm_f32;
  const Tiling t = MakeTiling(w, rows, threads);
  ForTiles(w, rows, t, [&](int64_t r0, int64_t r1, int64_t n0, int64_t n1) {
    kernel(w, x + r0 * ldx, ldx, r1 - r0, n0, n1, y + r0 * ldy + n0, ldy);
  });
}

void SpmmI8(const PackedSparse& w, const int8_t* x, int64_t ldx, int64_t rows, const I8Epilogue& e, int8_t* y,
            int64_t ldy, int threads) {
  CheckCall(w, ValueType::kI8, x, ldx, rows, y, ldy, threads);
  if (e.za < -128 || e.za > 127) Bad("input zero point must be in [-128, 127]");
  if (e.zo < -128 || e.zo > 127) Bad("output zero point must be in [-128, 127]");
  if (e.qmin < -128 || e.qmax > 127 || e.qmin > e.qmax) Bad("qmin/qmax must satisfy -128 <= qmin <= qmax <= 127");
  if (e.multipliers == nullptr) Bad("multipliers must not be null");
  const int64_t n = w.n(), k = w.k();
  const int64_t nm = e.per_channel ? n : 1;
  for (int64_t i = 0; i < nm; i++) {
    if (!(std::isfinite(e.multipliers[i]) && e.multipliers[i] > 0)) Bad("multipliers must be finite and > 0");
  }
  if (rows == 0) return;
  const internal::SparseKernels& ks = KernelsOf(w);
  const bool csct = UseCscT(w, rows, kCscTMinRowsI8);

  // x − za widened once (|x − za| ≤ 255: every product fits, sums wrap mod 2^32 as §6): to
  // int16 for the VPMADDWD block kernels, to int32 for the others.
  const bool madd = !csct && ks.madd_eligible != nullptr && ks.madd_eligible(w);
  // int16 rows are zero-padded past K (16 values) so block and group loads at the K edge read zeros.
  const int64_t ldw = madd ? (k + 7) / 8 * 8 + 16 : k;
  const size_t esize = madd ? sizeof(int16_t) : sizeof(int32_t);
  const size_t need = static_cast<size_t>(rows * ldw) * esize + 64;
  if (t_widened.size() < need) t_widened.Reset(need);
  int32_t* xw = t_widened.as<int32_t>();
  int16_t* xh = t_widened.as<int16_t>();
  const int32_t za = e.za;
  if (!csct)
    ParallelFor(rows, std::max<int64_t>(1, 65536 / k), rows * k < 262144 ? 1 : threads, [&](int64_t b, int64_t end) {
      for (int64_t i = b; i < end; i++) {
        const int8_t* src = x + i * ldx;
        if (madd) {
          int16_t* dst = xh + i * ldw;
          for (int64_t kk = 0; kk < k; kk++) dst[kk] = static_cast<int16_t>(src[kk] - za);
          for (int64_t kk = k; kk < ldw; kk++) dst[kk] = 0;
        } else {
          int32_t* dst = xw + i * k;
          for (int64_t kk = 0; kk < k; kk++) dst[kk] = static_cast<int32_t>(src[kk]) - za;
        }
      }
    });

  // The dense GEMM's epilogue context: acc = raw + col_term[n] (col_term = bias, za is
  // already inside raw), then §7 requantize.
  std::vector<int32_t> col_term(static_cast<size_t>(n), 0);
  if (e.bias) std::copy(e.bias, e.bias + n, col_term.begin());
  std::vector<float> mult(static_cast<size_t>(n), e.multipliers[0]);
  if (e.per_channel) std::copy(e.multipliers, e.multipliers + n, mult.begin());
  gemm::internal::EpiCtx ctx;
  ctx.output = gemm::OutputType::kInt8;
  ctx.col_term = col_term.data();
  ctx.mult = mult.data();
  ctx.zo = e.zo;
  ctx.qlo_f = static_cast<float>(e.qmin - e.zo);
  ctx.qhi_f = static_cast<float>(e.qmax - e.zo);
  ctx.c = y;
  ctx.ldc = ldy;
  const gemm::internal::EpilogueFn epilogue = ks.epilogue;
  static const gemm::internal::EpiRow kRows[32] = {};
  if (csct) {
    const int mb = rows <= 16 ? 16 : 32;
    const int16_t* xt = TransposeBlocks<int16_t>(x, ldx, rows, k, mb, threads, [za](const void* p, int64_t i) {
      return static_cast<int16_t>(static_cast<const int8_t*>(p)[i] - za);
    });
    ForCscTTiles(w, rows, mb, threads, [&](int64_t r0, int64_t r1, int64_t n0, int64_t n1) {
      const int64_t cols = n1 - n0;
      const size_t tile = static_cast<size_t>(mb * cols) * sizeof(int32_t);
      if (t_tile.size() < tile) t_tile.Reset(tile);
      int32_t* acc = t_tile.as<int32_t>();
      ks.csct_i16(w, xt + (r0 / mb) * k * mb, mb, r1 - r0, n0, n1, acc, cols);
      epilogue(ctx, acc, cols, kRows, r0, static_cast<int>(r1 - r0), n0, cols);
    });
    return;
  }
  const internal::I32Kernel kernel = ks.spmm_i32;
  const Tiling t = MakeTiling(w, rows, threads);
  ForTiles(w, rows, t, [&](int64_t r0, int64_t r1, int64_t n0, int64_t n1) {
    const int64_t cols = n1 - n0;
    const size_t tile = static_cast<size_t>(kRowChunk * cols) * sizeof(int32_t);
    if (t_tile.size() < tile) t_tile.Reset(tile);
    int32_t* acc = t_tile.as<int32_t>();
    if (madd)
      ks.spmm_i16(w, xh + r0 * ldw, ldw, r1 - r0, n0, n1, acc, cols);
    else
      kernel(w, xw + r0 * k, k, r1 - r0, n0, n1, acc, cols);
    epilogue(ctx, acc, cols, kRows, r0, static_cast<int>(r1 - r0), n0, cols);
  });
}

namespace internal {

const IsaTable<SparseKernels>& SparseKernelTable() {
  static const IsaTable<SparseKernels> table = [] {
    IsaTable<SparseKernels> t;
    t.entries[static_cast<int>(Isa::kRef)] = [] {
      static const SparseKernels ref{SpmmF32Ref, SpmmI32Ref, gemm::internal::EpilogueScalar};
      return &ref;
    };
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = [] {
      static const SparseKernels avx2{SpmmF32Avx2, SpmmI32Avx2, gemm::internal::EpilogueAvx2, MaddEligible, SpmmI16Avx2,
                                      CscTF32Avx2, CscTI16Avx2};
      return &avx2;
    };
#endif
    return t;
  }();
  return table;
}

}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
