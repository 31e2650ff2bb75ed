// Elementwise kernels: broadcasting binary ops (int8 + float), activations, PReLU, bias add.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

using detail::Fail;

Shape BroadcastShape(const Shape& a, const Shape& b) {
  if (a.size() > size_t(kMaxRank) || b.size() > size_t(kMaxRank)) {
    Fail("rank must be <= " + std::to_string(kMaxRank));
  }
  const size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (size_t i = 0; i < r; i++) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da < 0 || db < 0) Fail("dimensions must be >= 0");
    if (da != db && da != 1 && db != 1) {
      Fail("shapes are not broadcast-compatible: dimension " + std::to_string(i) + " is " + std::to_string(da) +
           " vs " + std::to_string(db));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// Calls f(a_off, a_step, b_off, b_step, y_off, len) over runs covering the broadcast output;
// steps are 0 (broadcast) or 1.
template <typename F>
void ForBroadcast(const Shape& as, const Shape& bs, int threads, const F& f) {
  const Shape out = BroadcastShape(as, bs);
  const size_t r = out.size();
  const int64_t total = ShapeSize(out);
  if (total == 0) return;
  // Padded strides.
  std::vector<int64_t> dims, sa, sb;
  {
    std::vector<int64_t> ta(r), tb(r);
    int64_t pa = 1, pb = 1;
    for (size_t i = r; i-- > 0;) {
      const int64_t da = i < r - as.size() ? 1 : as[i - (r - as.size())];
      const int64_t db = i < r - bs.size() ? 1 : bs[i - (r - bs.size())];
      ta[i] = da == 1 ? 0 : pa;
      tb[i] = db == 1 ? 0 : pb;
      pa *= da;
      pb *= db;
    }
    // Drop size-1 output dims, then merge adjacent dims whose strides chain.
    for (size_t i = 0; i < r; i++) {
      if (out[i] == 1) continue;
      if (!dims.empty() && sa.back() == ta[i] * out[i] && sb.back() == tb[i] * out[i]) {
        dims.back() *= out[i];
        sa.back() = ta[i];
        sb.back() = tb[i];
      } else {
        dims.push_back(out[i]);
        sa.push_back(ta[i]);
        sb.push_back(tb[i]);
      }
    }
    if (dims.empty()) {
      dims.push_back(1);
      sa.push_back(0);
      sb.push_back(0);
    }
  }
  const size_t k = dims.size();
  const int64_t len = dims[k - 1], as1 = sa[k - 1], bs1 = sb[k - 1];
  const int64_t runs = total / len;
  if (runs == 1) {
    ParallelFor(len, 1 << 14, threads, [&](int64_t b, int64_t e) { f(b * as1, as1, b * bs1, bs1, b, e - b); });
    return;
  }
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / len);
  ParallelFor(runs, grain, threads, [&](int64_t rb, int64_t re) {
    for (int64_t run = rb; run < re; run++) {
      int64_t rem = run, ao = 0, bo = 0;
      for (size_t d = k - 1; d-- > 0;) {
        const int64_t idx = rem % dims[d];
        rem /= dims[d];
        ao += idx * sa[d];
        bo += idx * sb[d];
      }
      f(ao, as1, bo, bs1, run * len, len);
    }
  });
}

template <typename T>
void BinaryQuantScalarRun(BinaryOp op, const T* a, int64_t as, const T* b, int64_t bs, int64_t n, const BinaryQ& p,
                          T* y) {
  const float ma = p.a_scale / p.y_scale, mb = p.b_scale / p.y_scale;
  const float mm = (p.a_scale * p.b_scale) / p.y_scale;
  for (int64_t i = 0; i < n; i++) {
    const int32_t da = int32_t(a[i * as]) - p.a_zero_point, db = int32_t(b[i * bs]) - p.b_zero_point;
    float v;
    if (op == BinaryOp::kMul) {
      v = static_cast<float>(da * db) * mm;
    } else {
      const float va = static_cast<float>(da) * ma, vb = static_cast<float>(db) * mb;
      switch (op) {
        case BinaryOp::kAdd:
          v = va + vb;
          break;
        case BinaryOp::kSub:
          v = va - vb;
          break;
        case BinaryOp::kMaximum:
          v = std::max(va, vb);
          break;
        default:
          v = std::min(va, vb);
          break;
      }
    }
    y[i] = static_cast<T>(detail::Finish(v, p.y_zero_point, p.y_min, p.y_max));
  }
}

// The path's vector binary kernel for T on n contiguous elements (z: b[0] for every element
// when z_scalar); returns how many leading elements it did (the caller finishes the rest).
template <typename T>
int64_t VectorBinary(const detail::VectorKernels* vk, BinaryOp op, const T* x, const T* z, bool z_scalar, int64_t n,
                     const BinaryQ& q, T* y) {
  if constexpr (std::is_same<T, int8_t>::value)
    return vk->binary_s8(op, x, z, z_scalar, n, q, y);
  else
    return vk->binary_u8(op, x, z, z_scalar, n, q, y);
}

// One operand full, the other a block of L ≤ 16 values repeated along the leading dimensions
// (a scalar, or a per-channel mean or scale applied to an image: [1, H, W, 3] − [3]).
// Broadcast runs are then L long and the generic walk pays its index arithmetic per run.
// Instead: with vector kernels, the block repeated to a long run is a full operand, so the
// op runs at full width; a scalar (L = 1) makes y a function of the full operand's code
// alone, one 256-entry lookup; without vector kernels, y depends only on (the code, the
// position in the block), a 256·L table. The tables are computed by the scalar kernel itself,
// so every form gives its bits. Returns false when the shapes are not of that form or the
// table would not pay for itself.
template <typename T>
bool BinaryQuantBlock(BinaryOp op, const Shape& as, const T* a, const Shape& bs, const T* b, const BinaryQ& p, T* y,
                      int threads) {
  const Shape out = BroadcastShape(as, bs);
  const int64_t total = ShapeSize(out);
  const bool a_full = ShapeSize(as) == total && as.size() == out.size();
  const bool b_full = ShapeSize(bs) == total && bs.size() == out.size();
  if (a_full == b_full) return false;
  const Shape& ss = a_full ? bs : as;
  size_t lead = 0;
  while (lead < ss.size() && ss[lead] == 1) lead++;
  const size_t tail = ss.size() - lead;
  if (tail > out.size()) return false;
  for (size_t i = 0; i < tail; i++)
    if (ss[lead + i] != out[out.size() - tail + i]) return false;
  const int64_t L = std::max<int64_t>(1, ShapeSize(ss));
  // Up to 16 values per block; longer blocks make broadcast runs long enough for the vector
  // kernels as they come.
  if (L > 16 || L >= total || 256 * L * 4 > total) return false;
  const T* full = a_full ? a : b;
  const T* small = a_full ? b : a;
  if (const detail::VectorKernels* vk = detail::ActiveVectorKernels(); vk != nullptr && L > 1) {
    // With vector kernels, the block repeated to a long run is an operand as full as the
    // other, and the op runs at full vector width over whole runs.
    const int64_t run = L * std::max<int64_t>(1, 4096 / L);
    std::vector<T> rep(static_cast<size_t>(run));
    for (int64_t i = 0; i < run; i++) rep[static_cast<size_t>(i)] = small[i % L];
    ParallelFor((total + run - 1) / run, 1, threads, [&](int64_t rb, int64_t re) {
      for (int64_t r = rb; r < re; r++) {
        const int64_t o = r * run, len = std::min(run, total - o);
        const T* xa = a_full ? full + o : rep.data();
        const T* xb = a_full ? rep.data() : full + o;
        const int64_t done = VectorBinary(vk, op, xa, xb, false, len, p, y + o);
        BinaryQuantScalarRun<T>(op, xa + done, 1, xb + done, 1, len - done, p, y + o + done);
      }
    });
    return true;
  }
  constexpr int kLow = std::is_same<T, int8_t>::value ? -128 : 0;
  const size_t n = static_cast<size_t>(256 * L);
  std::vector<T> codes(n), reps(n), raw(n), table(n);
  for (int64_t v = 0; v < 256; v++) {
    for (int64_t c = 0; c < L; c++) {
      codes[static_cast<size_t>(v * L + c)] = static_cast<T>(v + kLow);
      reps[static_cast<size_t>(v * L + c)] = small[c];
    }
  }
  const int64_t len = static_cast<int64_t>(n);
  if (a_full)
    BinaryQuantScalarRun<T>(op, codes.data(), 1, reps.data(), 1, len, p, raw.data());
  else
    BinaryQuantScalarRun<T>(op, reps.data(), 1, codes.data(), 1, len, p, raw.data());
  for (int64_t v = 0; v < 256; v++) {
    for (int64_t c = 0; c < L; c++) table[static_cast<size_t>(c * 256 + v)] = raw[static_cast<size_t>(v * L + c)];
  }
  if (L == 1) {
    // One value against every element (a scalar operand): a plain 256-entry lookup, indexed
    // by the element's byte pattern, for the vector lookup kernels.
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) lut[static_cast<uint8_t>(static_cast<T>(v + kLow))] = static_cast<uint8_t>(table[v]);
    ApplyLut(lut, reinterpret_cast<const uint8_t*>(full), total, reinterpret_cast<uint8_t*>(y), threads);
    return true;
  }
  const int64_t rows = total / L;
  ParallelFor(rows, std::max<int64_t>(1, (int64_t(1) << 14) / L), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      const T* x = full + r * L;
      T* yr = y + r * L;
      for (int64_t c = 0; c < L; c++) yr[c] = table[static_cast<size_t>(c * 256 + (int32_t(x[c]) - kLow))];
    }
  });
  return true;
}

template <typename T>
void BinaryQuantImpl(BinaryOp op, const Shape& as, const T* a, const Shape& bs, const T* b, const BinaryQ& p, T* y,
                     int threads) {
  if (op != BinaryOp::kAdd && op != BinaryOp::kSub && op != BinaryOp::kMul && op != BinaryOp::kMaximum &&
      op != BinaryOp::kMinimum) {
    Fail("quantized binary op must be add, sub, mul, maximum or minimum");
  }
  if (BinaryQuantBlock(op, as, a, bs, b, p, y, threads)) return;
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  ForBroadcast(as, bs, threads, [&](int64_t ao, int64_t ast, int64_t bo, int64_t bst, int64_t yo, int64_t len) {
    int64_t done = 0;
    if (vk != nullptr && ast == 1) {
      done = VectorBinary(vk, op, a + ao, b + bo, bst == 0, len, p, y + yo);
    } else if (vk != nullptr && ast == 0 && bst == 1 && op != BinaryOp::kSub) {  // commutative: swap operands
      BinaryQ q = p;
      std::swap(q.a_scale, q.b_scale);
      std::swap(q.a_zero_point, q.b_zero_point);
      done = VectorBinary(vk, op, b + bo, a + ao, true, len, q, y + yo);
    }
    BinaryQuantScalarRun<T>(op, a + ao + done * ast, ast, b + bo + done * bst, bst, len - done, p, y + yo + done);
  });
}

}  // namespace

void BinaryQuant(BinaryOp op, const Shape& as, const int8_t* a, const Shape& bs, const int8_t* b, const BinaryQ& p,
                 int8_t* y, int threads) {
  BinaryQuantImpl<int8_t>(op, as, a, bs, b, p, y, threads);
}
void BinaryQuant(BinaryOp op, const Shape& as, const uint8_t* a, const Shape& bs, const uint8_t* b, const BinaryQ& p,
                 uint8_t* y, int threads) {
  BinaryQuantImpl<uint8_t>(op, as, a, bs, b, p, y, threads);
}

namespace {

template <BinaryOp kOp>
inline float BinF(float a, float b) {
  switch (kOp) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kMaximum:
      return a != a || b != b ? NAN : std::max(a, b);
    case BinaryOp::kMinimum:
      return a != a || b != b ? NAN : std::min(a, b);
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kEqual:
      return a == b ? 1.0f : 0.0f;
    default: {
      const float d = a - b;
      return d * d;
    }
  }
}

// One pass: y = op(a, b), clamped to [lo, hi] as it is stored when a ReLU / ReLU6 is fused
// (a second pass over y cost as much as the unfused activation step it replaced). The clamp is
// the activation step's comparison: NaN passes through.
template <BinaryOp kOp, bool kClamp>
void BinaryF32Loop(const float* a, int64_t as, const float* b, int64_t bs, int64_t n, float lo, float hi, float* y) {
  auto put = [&](int64_t i, float v) { y[i] = kClamp ? std::min(std::max(v, lo), hi) : v; };
  if (as == 1 && bs == 1) {
    for (int64_t i = 0; i < n; i++) put(i, BinF<kOp>(a[i], b[i]));
  } else if (as == 1) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; i++) put(i, BinF<kOp>(a[i], bv));
  } else if (bs == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; i++) put(i, BinF<kOp>(av, b[i]));
  } else {
    const float v = BinF<kOp>(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) put(i, v);
  }
}

template <BinaryOp kOp>
void BinaryF32Run(const float* a, int64_t as, const float* b, int64_t bs, int64_t n, float lo, float hi, float* y) {
  if (lo > -INFINITY || hi < INFINITY) {
    BinaryF32Loop<kOp, true>(a, as, b, bs, n, lo, hi, y);
  } else {
    BinaryF32Loop<kOp, false>(a, as, b, bs, n, lo, hi, y);
  }
}

// The length of b when it is a short vector along a's last dimension, broadcast over the
// others (a per-channel scale or offset of an NHWC tensor, 1 × 1 × 1 × 3 on an image), else 0.
int64_t LastDimVector(const Shape& as, const Shape& bs) {
  if (as.empty() || bs.empty() || bs.size() > as.size() || bs.back() != as.back() || bs.back() > 64) return 0;
  for (size_t i = 0; i + 1 < bs.size(); i++)
    if (bs[i] != 1) return 0;
  return ShapeSize(as) > bs.back() ? bs.back() : 0;
}

template <BinaryOp kOp>
void BinaryF32Impl(const Shape& as, const float* a, const Shape& bs, const float* b, float lo, float hi, float* y,
                   int threads) {
  if (const int64_t C = LastDimVector(as, bs)) {
    // As runs of C values, a division and a call each (1.3 ns a value at C = 3, the input
    // normalization of a pose model); here b repeated to 16·C values and a in blocks of that.
    const int64_t T = 16 * C, n = ShapeSize(as);
    std::vector<float> tiled(static_cast<size_t>(T));
    for (int64_t i = 0; i < T; i++) tiled[static_cast<size_t>(i)] = b[i % C];
    ParallelFor((n + T - 1) / T, std::max<int64_t>(1, (int64_t(1) << 14) / T), threads, [&](int64_t bb, int64_t be) {
      for (int64_t blk = bb; blk < be; blk++) {
        const int64_t o = blk * T;
        BinaryF32Run<kOp>(a + o, 1, tiled.data(), 1, std::min(T, n - o), lo, hi, y + o);
      }
    });
    return;
  }
  ForBroadcast(as, bs, threads, [&](int64_t ao, int64_t ast, int64_t bo, int64_t bst, int64_t yo, int64_t len) {
    BinaryF32Run<kOp>(a + ao, ast, b + bo, bst, len, lo, hi, y + yo);
  });
}

}  // namespace

void BinaryF32(BinaryOp op, const Shape& as, const float* a, const Shape& bs, const float* b, float lo, float hi,
               float* y, int threads) {
  switch (op) {
    case BinaryOp::kAdd:
      return BinaryF32Impl<BinaryOp::kAdd>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kSub:
      return BinaryF32Impl<BinaryOp::kSub>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kMul:
      return BinaryF32Impl<BinaryOp::kMul>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kMaximum:
      return BinaryF32Impl<BinaryOp::kMaximum>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kMinimum:
      return BinaryF32Impl<BinaryOp::kMinimum>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kDiv:
      return BinaryF32Impl<BinaryOp::kDiv>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kSquaredDifference:
      return BinaryF32Impl<BinaryOp::kSquaredDifference>(as, a, bs, b, lo, hi, y, threads);
    case BinaryOp::kEqual:
      return BinaryF32Impl<BinaryOp::kEqual>(as, a, bs, b, lo, hi, y, threads);
  }
  Fail("unknown binary op");
}

// ---------------------------------------------------------------- int32, casts, unary math

namespace {

inline int32_t Wrap(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

template <BinaryOp kOp>
inline int32_t BinI(int32_t a, int32_t b) {
  const int64_t x = a, y = b;
  switch (kOp) {
    case BinaryOp::kAdd:
      return Wrap(x + y);
    case BinaryOp::kSub:
      return Wrap(x - y);
    case BinaryOp::kMul:
      return Wrap(x * y);
    case BinaryOp::kMaximum:
      return std::max(a, b);
    case BinaryOp::kMinimum:
      return std::min(a, b);
    case BinaryOp::kFloorDiv: {
      if (y == 0) return 0;
      const int64_t q = x / y;
      return Wrap(q * y != x && ((x < 0) != (y < 0)) ? q - 1 : q);
    }
    default: {  // kFloorMod
      if (y == 0) return 0;
      const int64_t r = x % y;
      return Wrap(r != 0 && ((r < 0) != (y < 0)) ? r + y : r);
    }
  }
}

template <BinaryOp kOp>
void BinaryI32Impl(const Shape& as, const int32_t* a, const Shape& bs, const int32_t* b, int32_t* y, int threads) {
  ForBroadcast(as, bs, threads, [&](int64_t ao, int64_t ast, int64_t bo, int64_t bst, int64_t yo, int64_t len) {
    for (int64_t i = 0; i < len; i++) y[yo + i] = BinI<kOp>(a[ao + i * ast], b[bo + i * bst]);
  });
}

}  // namespace

void BinaryI32(BinaryOp op, const Shape& as, const int32_t* a, const Shape& bs, const int32_t* b, int32_t* y,
               int threads) {
  switch (op) {
    case BinaryOp::kAdd:
      return BinaryI32Impl<BinaryOp::kAdd>(as, a, bs, b, y, threads);
    case BinaryOp::kSub:
      return BinaryI32Impl<BinaryOp::kSub>(as, a, bs, b, y, threads);
    case BinaryOp::kMul:
      return BinaryI32Impl<BinaryOp::kMul>(as, a, bs, b, y, threads);
    case BinaryOp::kMaximum:
      return BinaryI32Impl<BinaryOp::kMaximum>(as, a, bs, b, y, threads);
    case BinaryOp::kMinimum:
      return BinaryI32Impl<BinaryOp::kMinimum>(as, a, bs, b, y, threads);
    case BinaryOp::kFloorDiv:
      return BinaryI32Impl<BinaryOp::kFloorDiv>(as, a, bs, b, y, threads);
    case BinaryOp::kFloorMod:
      return BinaryI32Impl<BinaryOp::kFloorMod>(as, a, bs, b, y, threads);
    default:
      break;
  }
  Fail("binary op not defined on int32");
}

void CastF32ToI32(int64_t n, const float* x, int32_t* y) {
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    if (!std::isfinite(v)) {
      y[i] = 0;
      continue;
    }
    // ToInt32: the truncated value modulo 2^32 (exact in double: |v| < 2^128, fmod is exact).
    double t = std::fmod(std::trunc(static_cast<double>(v)), 4294967296.0);
    if (t < 0) t += 4294967296.0;
    y[i] = static_cast<int32_t>(static_cast<uint32_t>(t));
  }
}

void CastI32ToF32(int64_t n, const int32_t* x, float* y) {
  for (int64_t i = 0; i < n; i++) y[i] = static_cast<float>(x[i]);
}

void UnaryF32(UnaryOp op, int64_t n, const float* x, float* y) {
  switch (op) {
    case UnaryOp::kSqrt:
      for (int64_t i = 0; i < n; i++) y[i] = std::sqrt(x[i]);
      return;
    case UnaryOp::kRsqrt:
      for (int64_t i = 0; i < n; i++) y[i] = 1.0f / std::sqrt(x[i]);
      return;
    case UnaryOp::kSquare:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i];
      return;
    case UnaryOp::kFloor:
      for (int64_t i = 0; i < n; i++) y[i] = std::floor(x[i]);
      return;
    case UnaryOp::kAbs:
      for (int64_t i = 0; i < n; i++) y[i] = std::fabs(x[i]);
      return;
    case UnaryOp::kErf:
      for (int64_t i = 0; i < n; i++) y[i] = std::erf(x[i]);
      return;
  }
  Fail("unknown unary op");
}

void ReduceF32(ReduceOp op, const Shape& shape, const std::vector<bool>& reduced, const float* x, float* y) {
  if (reduced.size() != shape.size()) Fail("reduce: one flag per dimension");
  // Element strides, then the offsets of one output's elements (reduced axes, row-major) and
  // each output's first element (kept axes, row-major).
  const size_t rank = shape.size();
  std::vector<int64_t> stride(rank, 1);
  for (size_t d = rank; d-- > 1;) stride[d - 1] = stride[d] * shape[d];
  auto offsets = [&](bool of_reduced) {
    std::vector<int64_t> out{0};
    for (size_t d = 0; d < rank; d++) {
      if (reduced[d] != of_reduced) continue;
      std::vector<int64_t> next;
      next.reserve(out.size() * static_cast<size_t>(shape[d]));
      for (int64_t base : out)
        for (int64_t i = 0; i < shape[d]; i++) next.push_back(base + i * stride[d]);
      out.swap(next);
    }
    return out;
  };
  const std::vector<int64_t> inner = offsets(true), outer = offsets(false);
  if (inner.empty()) return;
  for (size_t o = 0; o < outer.size(); o++) {
    const float* p = x + outer[o];
    const bool sums = op == ReduceOp::kSum || op == ReduceOp::kMean;
    float acc = sums ? 0.0f : op == ReduceOp::kProd ? 1.0f : p[inner[0]];
    for (size_t k = op == ReduceOp::kMax || op == ReduceOp::kMin ? 1 : 0; k < inner.size(); k++) {
      const float v = p[inner[k]];
      switch (op) {
        case ReduceOp::kSum:
        case ReduceOp::kMean:
          acc += v;
          break;
        case ReduceOp::kProd:
          acc *= v;
          break;
        case ReduceOp::kMax:
          if (v > acc) acc = v;
          break;
        case ReduceOp::kMin:
          if (v < acc) acc = v;
          break;
      }
    }
    y[o] = op == ReduceOp::kMean ? acc / static_cast<float>(inner.size()) : acc;
  }
}

// ---------------------------------------------------------------- activations

double ActivationValue(Activation act, double alpha, double x) {
  switch (act) {
    case Activation::kLinear:
      return x;
    case Activation::kRelu:
      return x > 0 ? x : 0.0;
    case Activation::kRelu6:
      return x > 0 ? (x < 6 ? x : 6.0) : 0.0;
    case Activation::kLeakyRelu:
      return x >= 0 ? x : alpha * x;
    case Activation::kElu:
      return x > 0 ? x : std::expm1(x);
    case Activation::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kHardSwish:
      return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    case Activation::kSwish:
      return x / (1.0 + std::exp(-x));
    case Activation::kHardSigmoid:
      return std::min(std::max(0.2 * x + 0.5, 0.0), 1.0);
    case Activation::kHardSwishProduct:
      return x * std::min(std::max(x + 3.0, 0.0), 6.0) * alpha;
    case Activation::kHardSwishScaledGate:
      return x * (std::min(std::max(x + 3.0, 0.0), 6.0) * alpha);
    case Activation::kHardSwishScaledInput:
      return x * alpha * std::min(std::max(x + 3.0, 0.0), 6.0);
    case Activation::kClamp:
      break;
  }
  Fail("activation has no formula without bounds (clamp is the GEMMs' only)");
}

namespace {

// x, y and f are captured by value: through references the compiler reloads them after every
// store to y (which might alias the closure) and the loop stays scalar.
template <typename F>
void MapF32(const float* x, int64_t n, float* y, int threads, const F& f) {
  ParallelFor(n, 1 << 14, threads, [x, y, f](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) y[i] = f(x[i]);
  });
}

}  // namespace

void ActivationF32(Activation act, float alpha, const float* x, int64_t n, float* y, int threads) {
  // Sigmoid and swish call exp once a value in the loops below; the table's kernel (if any)
  // vectorizes them.
  const detail::VectorKernels* k = detail::ActiveVectorKernels();
  if (k != nullptr && k->activation_f32 != nullptr && (act == Activation::kSigmoid || act == Activation::kSwish)) {
    ParallelFor(n, 1 << 14, threads, [&](int64_t b, int64_t e) { k->activation_f32(act, x + b, e - b, y + b); });
    return;
  }
  switch (act) {
    case Activation::kLinear:
      return MapF32(x, n, y, threads, [](float v) { return v; });
    // Branch-free (max / min keep a NaN: std::max(NaN, 0) is its first argument), so the
    // loops vectorize; only the sign of a zero may differ from a branchy form.
    case Activation::kRelu:
      return MapF32(x, n, y, threads, [](float v) { return std::max(v, 0.0f); });
    case Activation::kRelu6:
      return MapF32(x, n, y, threads, [](float v) { return std::min(std::max(v, 0.0f), 6.0f); });
    case Activation::kLeakyRelu:
      return MapF32(x, n, y, threads, [alpha](float v) { return std::max(v, 0.0f) + alpha * std::min(v, 0.0f); });
    case Activation::kElu:
      return MapF32(x, n, y, threads, [](float v) { return v > 0.0f ? v : std::expm1f(v); });
    case Activation::kSigmoid:
      return MapF32(x, n, y, threads, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
    case Activation::kTanh:
      return MapF32(x, n, y, threads, [](float v) { return std::tanh(v); });
    case Activation::kHardSwish:
      return MapF32(x, n, y, threads, [](float v) { return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f; });
    case Activation::kSwish:
      return MapF32(x, n, y, threads, [](float v) { return v / (1.0f + std::exp(-v)); });
    case Activation::kHardSigmoid:
      return MapF32(x, n, y, threads, [](float v) { return std::min(std::max(0.2f * v + 0.5f, 0.0f), 1.0f); });
    // The graph's operations in its order (a product by alpha = 1 changes nothing).
    case Activation::kHardSwishProduct:
      return MapF32(x, n, y, threads,
                    [alpha](float v) { return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) * alpha; });
    case Activation::kHardSwishScaledGate:
      return MapF32(x, n, y, threads,
                    [alpha](float v) { return v * (std::min(std::max(v + 3.0f, 0.0f), 6.0f) * alpha); });
    case Activation::kHardSwishScaledInput:
      return MapF32(x, n, y, threads,
                    [alpha](float v) { return v * alpha * std::min(std::max(v + 3.0f, 0.0f), 6.0f); });
    case Activation::kClamp:
      break;
  }
  Fail("unknown activation");
}

// ---------------------------------------------------------------- PReLU, bias add

namespace {

template <typename T>
void PreluImpl(const T* x, int64_t n, int64_t C, const float* alpha, const PreluQ& p, T* y, int threads) {
  const float mp = p.x_scale / p.y_scale;
  std::vector<float> mn(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; c++) mn[c] = (p.x_scale * alpha[c]) / p.y_scale;
  const int64_t rows = n / C;
  const detail::VectorKernels* k = detail::ActiveVectorKernels();
  ParallelFor(rows, std::max<int64_t>(1, 8192 / C), threads, [&](int64_t rb, int64_t re) {
    int64_t done = 0;
    if (k) {
      if constexpr (std::is_same_v<T, int8_t>)
        done = k->prelu_s8(x + rb * C, re - rb, C, mn.data(), mp, p, y + rb * C);
      else
        done = k->prelu_u8(x + rb * C, re - rb, C, mn.data(), mp, p, y + rb * C);
    }
    for (int64_t r = rb; r < re; r++) {
      for (int64_t c = done; c < C; c++) {
        const int64_t i = r * C + c;
        const int32_t d = int32_t(x[i]) - p.x_zero_point;
        const float v = static_cast<float>(d) * (d >= 0 ? mp : mn[c]);
        y[i] = static_cast<T>(detail::Finish(v, p.y_zero_point, p.y_min, p.y_max));
      }
    }
  });
}

}  // namespace

void Prelu(const int8_t* x, int64_t n, int64_t C, const float* alpha, const PreluQ& p, int8_t* y, int threads) {
  PreluImpl<int8_t>(x, n, C, alpha, p, y, threads);
}
void Prelu(const uint8_t* x, int64_t n, int64_t C, const float* alpha, const PreluQ& p, uint8_t* y, int threads) {
  PreluImpl<uint8_t>(x, n, C, alpha, p, y, threads);
}

bool PreluPrefersTable() { return detail::ActiveVectorKernels() == nullptr; }

std::vector<uint8_t> PreluTable(bool x_signed, int64_t C, const float* alpha, const PreluQ& p) {
  if (C < 1 || C > kPreluTableMaxChannels)
    Fail("PReLU table: channels must be in [1, " + std::to_string(kPreluTableMaxChannels) + "]");
  // Row v holds the byte v in every channel; Prelu maps all 256 × C at once.
  std::vector<uint8_t> in(static_cast<size_t>(256 * C)), out(in.size()), table(in.size());
  for (int64_t v = 0; v < 256; v++) std::fill_n(in.begin() + v * C, C, static_cast<uint8_t>(v));
  if (x_signed) {
    Prelu(reinterpret_cast<const int8_t*>(in.data()), 256 * C, C, alpha, p, reinterpret_cast<int8_t*>(out.data()), 1);
  } else {
    Prelu(in.data(), 256 * C, C, alpha, p, out.data(), 1);
  }
  for (int64_t v = 0; v < 256; v++) {
    for (int64_t c = 0; c < C; c++) table[static_cast<size_t>(c * 256 + v)] = out[static_cast<size_t>(v * C + c)];
  }
  return table;
}

void PreluApplyTable(const std::vector<uint8_t>& table, int64_t C, const uint8_t* x, int64_t n, uint8_t* y,
                     int threads) {
  if (C < 1 || static_cast<int64_t>(table.size()) != C * 256 || n % C != 0) Fail("PReLU table: size mismatch");
  const int64_t rows = n / C;
  ParallelFor(rows, std::max<int64_t>(1, 16384 / C), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      const uint8_t* xr = x + r * C;
      uint8_t* yr = y + r * C;
      for (int64_t c = 0; c < C; c++) yr[c] = table[static_cast<size_t>(c * 256 + xr[c])];
    }
  });
}

void PreluF32(const float* x, int64_t n, int64_t C, const float* alpha, float* y, int threads) {
  const int64_t rows = n / C;
  // max(v, 0) + alpha · min(v, 0), pointers held in locals: written as a branch on v < 0 with
  // alpha read through the captured reference, GCC kept the loop scalar and the branch
  // mispredicted on every other value of a real activation (6 ns per value, slower than
  // tfjs-wasm). The same values (v · alpha where v < 0, else v; a zero may change sign).
  ParallelFor(rows, std::max<int64_t>(1, 8192 / C), threads, [x, y, alpha, C](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float v = xr[c];
        yr[c] = std::max(v, 0.0f) + alpha[c] * std::min(v, 0.0f);
      }
    }
  });
}

void BiasAddF32(const float* x, int64_t n, int64_t C, const float* bias, float lo, float hi, float* y, int threads) {
  const int64_t rows = n / C;
  ParallelFor(rows, std::max<int64_t>(1, 8192 / C), threads, [x, y, bias, C, lo, hi](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      for (int64_t c = 0; c < C; c++) y[r * C + c] = std::min(std::max(x[r * C + c] + bias[c], lo), hi);
    }
  });
}

}  // namespace ops
}  // namespace tfjq
