// The reference path (the oracle): a literal loop over docs/quantization.md §6–§7, and the
// scalar epilogue shared as the tail of the vectorized ones.
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>

#include "common/thread_pool.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {

namespace {

inline int32_t Wrap(uint32_t v) { return static_cast<int32_t>(v); }

inline float Rne(float v) { return std::nearbyintf(v); }
// max(y, lo) = y > lo ? y : lo; min(y, hi) = y < hi ? y : hi (the vector max/min semantics).
inline float MaxF(float y, float lo) { return y > lo ? y : lo; }
inline float MinF(float y, float hi) { return y < hi ? y : hi; }

}  // namespace

int32_t CorrectAcc(const EpiCtx& ctx, int32_t raw, const EpiRow& r, int64_t n) {
  uint32_t v = static_cast<uint32_t>(raw);
  if (ctx.col_term) {
    v += static_cast<uint32_t>(ctx.col_term[n]);
  } else {
    v -= static_cast<uint32_t>(r.za) * static_cast<uint32_t>(ctx.col_sums[n]);
    if (ctx.bias) v += static_cast<uint32_t>(ctx.bias[n]);
  }
  if (ctx.zb) v += static_cast<uint32_t>(r.zbc) * static_cast<uint32_t>(ctx.zb[n]);
  return Wrap(v);
}

void StoreOne(const EpiCtx& ctx, int32_t acc, const EpiRow& r, int64_t m, int64_t n) {
  const int64_t at = m * ctx.ldc + n;
  switch (ctx.output) {
    case OutputType::kInt32:
      static_cast<int32_t*>(ctx.c)[at] = acc;
      return;
    case OutputType::kInt8:
    case OutputType::kUint8: {
      float y = static_cast<float>(acc) * ctx.mult[n];
      y = MinF(MaxF(y, ctx.qlo_f), ctx.qhi_f);
      const int32_t q = static_cast<int32_t>(Rne(y)) + ctx.zo;
      if (ctx.output == OutputType::kInt8)
        static_cast<int8_t*>(ctx.c)[at] = static_cast<int8_t>(q);
      else
        static_cast<uint8_t*>(ctx.c)[at] = static_cast<uint8_t>(q);
      return;
    }
    case OutputType::kFloat32: {
      const float s = r.sa * ctx.w_scales[n];
      float y = static_cast<float>(acc) * s;
      if (ctx.bias_f32) y = y + ctx.bias_f32[n];
      if (ctx.act != Activation::kLinear) y = MaxF(y, ctx.act_lo);
      if (ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp) y = MinF(y, ctx.act_hi);
      static_cast<float*>(ctx.c)[at] = y;
      return;
    }
  }
}

void EpilogueScalar(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                    int64_t n0, int64_t cols) {
  for (int i = 0; i < rows; i++) {
    for (int64_t j = 0; j < cols; j++) {
      const int32_t v = CorrectAcc(ctx, acc[i * ldacc + j], rows_info[i], n0 + j);
      StoreOne(ctx, v, rows_info[i], m0 + i, n0 + j);
    }
  }
}

// acc[m][n] = Σ_k (A[m][k] − za[m])·(B[k][n] − zb[n]) + bias[n], literally, mod 2^32.
void GemmRef(const GemmArgs& args, const EpiCtx& ctx, const float* a_scales_rows) {
  const PackedB& pb = *args.b;
  const int64_t m = args.m, n = pb.n(), k = pb.k(), kpad = pb.kpad();
  const int8_t* bt = pb.panels();  // [n][kpad]
  const bool sgn = args.a_signed;
  ParallelFor(m, 1, args.threads, [&](int64_t mb, int64_t me) {
    for (int64_t i = mb; i < me; i++) {
      const int32_t za = args.a_zero_points[args.a_zero_point_per_row ? i : 0];
      const float sa = a_scales_rows ? a_scales_rows[args.epilogue.a_scale_per_row ? i : 0] : 0.0f;
      const EpiRow row{0, 0, sa};
      for (int64_t j = 0; j < n; j++) {
        const int32_t zb = pb.zero_point(j);
        uint32_t s = 0;
        for (int64_t kk = 0; kk < k; kk++) {
          const int32_t av = sgn ? static_cast<const int8_t*>(args.a)[i * args.lda + kk]
                                 : static_cast<const uint8_t*>(args.a)[i * args.lda + kk];
          const int32_t bv = bt[j * kpad + kk];
          s += static_cast<uint32_t>((av - za) * (bv - zb));  // each product fits in int32
        }
        if (ctx.bias) s += static_cast<uint32_t>(ctx.bias[j]);
        StoreOne(ctx, Wrap(s), row, i, j);
      }
    }
  });
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ThreadCpuSeconds() {
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return NowSeconds();
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double PeakRef(double seconds) {
  // Scalar int32 multiply-accumulate, 8 independent chains.
  volatile int32_t seed = 3;
  int32_t a = seed, b = seed + 2;
  int32_t c0 = 0, c1 = 1, c2 = 2, c3 = 3, c4 = 4, c5 = 5, c6 = 6, c7 = 7;
  int64_t iters = 0;
  const double t0 = ThreadCpuSeconds();
  double elapsed = 0;
  do {
    for (int r = 0; r < 4096; r++) {
      c0 += a * b;
      c1 += a * b;
      c2 += a * b;
      c3 += a * b;
      c4 += a * b;
      c5 += a * b;
      c6 += a * b;
      c7 += a * b;
      __asm__ volatile("" : "+r"(c0), "+r"(c1), "+r"(c2), "+r"(c3), "+r"(c4), "+r"(c5), "+r"(c6), "+r"(c7), "+r"(a));
    }
    iters += 4096;
    elapsed = ThreadCpuSeconds() - t0;
  } while (elapsed < seconds);
  volatile int32_t sink = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
  (void)sink;
  return static_cast<double>(iters) * 8 * 2 / elapsed * 1e-9;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
