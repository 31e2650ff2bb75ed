// Data movement: Concat (raw and requantizing), Pad, Transpose, StridedSlice, DepthToSpace
// (resize.cc: ResizeNearest / ResizeBilinear).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <memory>
#include <type_traits>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"
#include "quant/quantize.h"

namespace tfjq {
namespace ops {

using detail::Fail;

namespace {

std::string ShapeStr(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Copies one element of `size` bytes (1, 2, 4 or 8 handled as integers).
template <typename T>
inline void CopyStrided(const uint8_t* src, int64_t src_step, uint8_t* dst, int64_t n) {
  const T* s = reinterpret_cast<const T*>(src);
  T* d = reinterpret_cast<T*>(dst);
  for (int64_t i = 0; i < n; i++) d[i] = s[i * src_step];
}

void CopyStridedAny(size_t es, const uint8_t* src, int64_t src_step, uint8_t* dst, int64_t n) {
  if (src_step == 1) return (void)std::memcpy(dst, src, static_cast<size_t>(n) * es);
  switch (es) {
    case 1:
      return CopyStrided<uint8_t>(src, src_step, dst, n);
    case 2:
      return CopyStrided<uint16_t>(src, src_step, dst, n);
    case 4:
      return CopyStrided<uint32_t>(src, src_step, dst, n);
    case 8:
      return CopyStrided<uint64_t>(src, src_step, dst, n);
    default:
      for (int64_t i = 0; i < n; i++) std::memcpy(dst + i * es, src + i * src_step * int64_t(es), es);
  }
}

// Elements [b, e) of y (U-sized) set to the U at value.
template <typename U>
void FillAs(uint8_t* y, int64_t b, int64_t e, const void* value) {
  U v;
  std::memcpy(&v, value, sizeof(U));
  std::fill(reinterpret_cast<U*>(y) + b, reinterpret_cast<U*>(y) + e, v);
}

// A transpose whose output's last dimension is strided in the input (step) while another
// output dimension q is the input's contiguous one: copied in square tiles of (q, last), so
// each input cache line read serves a whole tile row instead of one element per line.
// dims/strides: the merged output dimensions and their input strides (strides[q] == 1).
template <typename U>
void TransposeTiled(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides, size_t q, const U* x, U* y,
                    int threads) {
  constexpr int64_t kT = 32;
  const size_t k = dims.size();
  std::vector<int64_t> ostride(k, 1);
  for (size_t d = k - 1; d-- > 0;) ostride[d] = ostride[d + 1] * dims[d + 1];
  const int64_t nq = dims[q], nl = dims[k - 1], sl = strides[k - 1], oq = ostride[q];
  int64_t outer = 1;
  for (size_t d = 0; d + 1 < k; d++)
    if (d != q) outer *= dims[d];
  const int64_t tq = (nq + kT - 1) / kT;
  ParallelFor(outer * tq, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; item++) {
      int64_t rem = item / tq, in = 0, o = 0;
      for (size_t d = k - 1; d-- > 0;) {
        if (d == q) continue;
        const int64_t idx = rem % dims[d];
        rem /= dims[d];
        in += idx * strides[d];
        o += idx * ostride[d];
      }
      const int64_t i0 = (item % tq) * kT, i1 = std::min(nq, i0 + kT);
      for (int64_t j0 = 0; j0 < nl; j0 += kT) {
        const int64_t j1 = std::min(nl, j0 + kT);
        for (int64_t i = i0; i < i1; i++) {
          const U* src = x + in + i;
          U* dst = y + o + i * oq;
          for (int64_t j = j0; j < j1; j++) dst[j] = src[j * sl];
        }
      }
    }
  });
}

}  // namespace

// ---------------------------------------------------------------- concat

Shape ConcatShape(const std::vector<Shape>& shapes, int axis) {
  if (shapes.empty()) Fail("concat needs at least one input");
  const Shape& s0 = shapes[0];
  const int rank = static_cast<int>(s0.size());
  if (rank < 1 || rank > kMaxRank) Fail("concat rank must be in [1, " + std::to_string(kMaxRank) + "]");
  if (axis < 0 || axis >= rank)
    Fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  Shape out = s0;
  out[axis] = 0;
  for (size_t i = 0; i < shapes.size(); i++) {
    const Shape& s = shapes[i];
    if (s.size() != s0.size())
      Fail("input " + std::to_string(i) + " has rank " + std::to_string(s.size()) + ", expected " +
           std::to_string(rank));
    for (int d = 0; d < rank; d++) {
      if (s[d] < 0) Fail("dimensions must be >= 0");
      if (d != axis && s[d] != s0[d]) {
        Fail("input " + std::to_string(i) + " has shape " + ShapeStr(s) + ", incompatible with " + ShapeStr(s0) +
             " outside axis " + std::to_string(axis));
      }
    }
    out[axis] += s[axis];
  }
  return out;
}

namespace {
// Copies n bytes. A concat along the channel axis or a pad of it moves runs of a few dozen
// bytes (16 int8 channels, a 24-byte row), where a libc memcpy call costs more than the copy:
// runs of up to 64 bytes go as one or two fixed-size (overlapping) moves the compiler inlines,
// shorter than 8 byte by byte.
inline void CopyBytes(uint8_t* d, const uint8_t* s, size_t n) {
  if (n > 64) {
    std::memcpy(d, s, n);
  } else if (n > 32) {
    std::memcpy(d, s, 32);
    std::memcpy(d + n - 32, s + n - 32, 32);
  } else if (n >= 16) {
    std::memcpy(d, s, 16);
    std::memcpy(d + n - 16, s + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(d, s, 8);
    std::memcpy(d + n - 8, s + n - 8, 8);
  } else {
    for (size_t i = 0; i < n; i++) d[i] = s[i];
  }
}
}  // namespace

void Concat(size_t es, const std::vector<const void*>& inputs, const std::vector<Shape>& shapes, int axis, void* y,
            int threads) {
  const Shape out = ConcatShape(shapes, axis);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= out[d];
  for (size_t d = axis + 1; d < out.size(); d++) inner *= out[d];
  const int64_t row = out[axis] * inner * int64_t(es);
  ParallelFor(outer, std::max<int64_t>(1, 65536 / std::max<int64_t>(row, 1)), threads, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; o++) {
      uint8_t* dst = static_cast<uint8_t*>(y) + o * row;
      for (size_t i = 0; i < inputs.size(); i++) {
        const int64_t seg = shapes[i][axis] * inner * int64_t(es);
        CopyBytes(dst, static_cast<const uint8_t*>(inputs[i]) + o * seg, static_cast<size_t>(seg));
        dst += seg;
      }
    }
  });
}

void ConcatQuant(bool is_signed, const std::vector<const void*>& inputs, const std::vector<Shape>& shapes, int axis,
                 const ConcatQ& p, void* y, int threads) {
  const int32_t tmin = is_signed ? -128 : 0, tmax = is_signed ? 127 : 255;
  // Requantized inputs (not zeroed first: every byte is written).
  std::vector<std::unique_ptr<uint8_t[]>> tmp(inputs.size());
  std::vector<const void*> srcs = inputs;
  for (size_t i = 0; i < inputs.size(); i++) {
    const bool same =
        p.scales[i] == p.y_scale && p.zero_points[i] == p.y_zero_point && p.y_min <= tmin && p.y_max >= tmax;
    if (same) continue;
    const int64_t n = ShapeSize(shapes[i]);
    tmp[i].reset(new uint8_t[static_cast<size_t>(n)]);
    const float m = p.scales[i] / p.y_scale;
    const int32_t zi = p.zero_points[i];
    const quant::Layout l = quant::PerTensor(n);
    if (is_signed) {
      quant::Requantize(static_cast<const int8_t*>(inputs[i]), l, &m, &zi, p.y_zero_point, p.y_min, p.y_max,
                        reinterpret_cast<int8_t*>(tmp[i].get()), threads);
    } else {
      quant::Requantize(static_cast<const uint8_t*>(inputs[i]), l, &m, &zi, p.y_zero_point, p.y_min, p.y_max,
                        tmp[i].get(), threads);
    }
    srcs[i] = tmp[i].get();
  }
  Concat(1, srcs, shapes, axis, y, threads);
}

// ---------------------------------------------------------------- pad

void Pad(size_t es, const Shape& shape, const int64_t* before, const int64_t* after, const void* x, const void* value,
         void* y, int threads) {
  const size_t r = shape.size();
  Shape out(r);
  for (size_t d = 0; d < r; d++) out[d] = shape[d] + before[d] + after[d];
  const int64_t total = ShapeSize(out);
  uint8_t* yb = static_cast<uint8_t*>(y);
  // Fill with the value (typed fills for the common widths: a call per element is slow).
  auto fill = [&](int64_t b, int64_t e) {
    switch (es) {
      case 1:
        return (void)std::memset(yb + b, *static_cast<const uint8_t*>(value), static_cast<size_t>(e - b));
      case 2:
        return FillAs<uint16_t>(yb, b, e, value);
      case 4:
        return FillAs<uint32_t>(yb, b, e, value);
      case 8:
        return FillAs<uint64_t>(yb, b, e, value);
      default:
        for (int64_t i = b; i < e; i++) std::memcpy(yb + i * es, value, es);
    }
  };
  // Only the last dimension padded (the channel padding of a residual into a wider block):
  // each output row is written once — its padding, then its copy — instead of the whole
  // output filled and then mostly overwritten.
  bool last_only = r > 0 && ShapeSize(shape) > 0;
  for (size_t d = 0; d + 1 < r && last_only; d++) last_only = before[d] == 0 && after[d] == 0;
  if (last_only) {
    const int64_t len = shape[r - 1], olen = out[r - 1], rows = ShapeSize(shape) / len;
    const size_t bytes = static_cast<size_t>(len) * es, obytes = static_cast<size_t>(olen) * es;
    // One padded row of the value, copied under each row before its data (short copies are
    // inlined; a memset call per pad was slower than filling the whole output).
    std::vector<uint8_t> blank(obytes);
    for (size_t i = 0; i < obytes; i += es) std::memcpy(blank.data() + i, value, es);
    const size_t at = static_cast<size_t>(before[r - 1]) * es;
    ParallelFor(rows, std::max<int64_t>(1, 16384 / olen), threads, [&](int64_t b, int64_t e) {
      const uint8_t* src = static_cast<const uint8_t*>(x) + b * bytes;
      uint8_t* dst = yb + b * obytes;
      for (int64_t row = b; row < e; row++, src += bytes, dst += obytes) {
        CopyBytes(dst, blank.data(), obytes);
        CopyBytes(dst + at, src, bytes);
      }
    });
    return;
  }
  ParallelFor(total, 1 << 16, threads, fill);
  if (ShapeSize(shape) == 0) return;
  if (r == 0) return (void)std::memcpy(y, x, es);
  // Copy runs into place. The dimensions inside the innermost padded one are not padded, so
  // from that dimension inwards an input row is one contiguous run in the output too (padding
  // H and W of NHWC or NCHW copies whole rows of W·C or W values, not pixels).
  std::vector<int64_t> ostride(r, 1);
  for (size_t d = r - 1; d-- > 0;) ostride[d] = ostride[d + 1] * out[d + 1];
  size_t p = r - 1;  // the innermost padded dimension (the last one when none is)
  while (p > 0 && before[p] == 0 && after[p] == 0) p--;
  int64_t len = 1;
  for (size_t d = p; d < r; d++) len *= shape[d];
  const int64_t rows = ShapeSize(shape) / len;
  const size_t bytes = static_cast<size_t>(len) * es;
  ParallelFor(rows, std::max<int64_t>(1, 16384 / len), threads, [&](int64_t b, int64_t e) {
    // The first row's index in the outer dimensions by division, the next ones by counting:
    // a division per dimension and row cost more than the copy when the rows are short (the
    // channel padding of a 64 × 64 × 24 int8 map: 24-byte rows, 7 ns each).
    std::vector<int64_t> idx(p);
    int64_t rem = b, off = before[p] * ostride[p];
    for (size_t d = p; d-- > 0;) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
      off += (idx[d] + before[d]) * ostride[d];
    }
    const uint8_t* src = static_cast<const uint8_t*>(x) + b * len * es;
    for (int64_t row = b; row < e; row++, src += bytes) {
      CopyBytes(yb + off * es, src, bytes);
      for (size_t d = p; d-- > 0;) {
        off += ostride[d];
        if (++idx[d] < shape[d]) break;
        off -= shape[d] * ostride[d];
        idx[d] = 0;
      }
    }
  });
}

// ---------------------------------------------------------------- transpose

void CheckPermutation(const Shape& shape, const int32_t* perm, size_t perm_len) {
  if (perm_len != shape.size()) {
    Fail("perm has " + std::to_string(perm_len) + " entries, expected " + std::to_string(shape.size()) + " (the rank)");
  }
  if (shape.size() > size_t(kMaxRank)) Fail("rank must be <= " + std::to_string(kMaxRank));
  std::vector<bool> seen(shape.size(), false);
  for (size_t i = 0; i < perm_len; i++) {
    if (perm[i] < 0 || size_t(perm[i]) >= shape.size() || seen[perm[i]]) {
      Fail("perm must be a permutation of 0.." + std::to_string(int(shape.size()) - 1));
    }
    seen[perm[i]] = true;
  }
}

void Transpose(size_t es, const Shape& shape, const int32_t* perm, const void* x, void* y, int threads) {
  const size_t r = shape.size();
  const int64_t total = ShapeSize(shape);
  if (total == 0) return;
  std::vector<int64_t> istride(r, 1);
  for (size_t d = r; d-- > 1;) istride[d - 1] = istride[d] * shape[d];
  // Output dims with their input strides; drop size-1 dims and merge runs that stay contiguous.
  std::vector<int64_t> dims, strides;
  for (size_t d = 0; d < r; d++) {
    const int64_t n = shape[perm[d]], s = istride[perm[d]];
    if (n == 1) continue;
    if (!dims.empty() && strides.back() == s * n) {
      dims.back() *= n;
      strides.back() = s;
    } else {
      dims.push_back(n);
      strides.push_back(s);
    }
  }
  if (dims.empty()) return (void)std::memcpy(y, x, es);
  const size_t k = dims.size();
  const int64_t len = dims[k - 1], step = strides[k - 1], rows = total / len;
  if (step != 1 && len >= 8) {
    size_t q = k;
    for (size_t d = 0; d + 1 < k; d++)
      if (strides[d] == 1) q = d;
    if (q < k && dims[q] >= 8) {
      switch (es) {
        case 1:
          return TransposeTiled(dims, strides, q, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), threads);
        case 2:
          return TransposeTiled(dims, strides, q, static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), threads);
        case 4:
          return TransposeTiled(dims, strides, q, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), threads);
        case 8:
          return TransposeTiled(dims, strides, q, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), threads);
        default:
          break;
      }
    }
  }
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  uint8_t* yb = static_cast<uint8_t*>(y);
  ParallelFor(rows, std::max<int64_t>(1, 16384 / len), threads, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; row++) {
      int64_t rem = row, off = 0;
      for (size_t d = k - 1; d-- > 0;) {
        off += (rem % dims[d]) * strides[d];
        rem /= dims[d];
      }
      CopyStridedAny(es, xb + off * int64_t(es), step, yb + row * len * int64_t(es), len);
    }
  });
}

// ---------------------------------------------------------------- strided slice (TF semantics)

StridedSliceSpec ResolveStridedSlice(const Shape& shape, const std::vector<int64_t>& begin_in,
                                     const std::vector<int64_t>& end_in, const std::vector<int64_t>& strides_in,
                                     int32_t begin_mask, int32_t end_mask, int32_t ellipsis_mask, int32_t new_axis_mask,
                                     int32_t shrink_axis_mask) {
  const int n = static_cast<int>(shape.size());
  if (n > kMaxRank) Fail("rank must be <= " + std::to_string(kMaxRank));
  if (begin_in.size() != end_in.size() || begin_in.size() != strides_in.size()) {
    Fail("begin, end and strides must have the same length");
  }
  if (begin_in.size() > 30) Fail("begin has too many entries");
  int sparse_dims = static_cast<int>(begin_in.size());
  std::vector<int64_t> sb = begin_in, se = end_in, ss = strides_in;
  if ((ellipsis_mask & (ellipsis_mask - 1)) != 0) Fail("multiple ellipses in slice spec not allowed");
  if (ellipsis_mask >> sparse_dims) Fail("ellipsisMask has bits past the end of begin");
  if (!ellipsis_mask) {  // implicit ellipsis at the end
    ellipsis_mask = 1 << sparse_dims;
    sparse_dims++;
    sb.push_back(0);
    se.push_back(0);
    ss.push_back(1);
  }
  int num_add_axis_after_ellipsis = 0;
  {
    bool seen = false;
    for (int i = 0; i < sparse_dims; i++) {
      if (seen && ((1 << i) & new_axis_mask)) num_add_axis_after_ellipsis++;
      if ((1 << i) & ellipsis_mask) seen = true;
    }
  }
  constexpr int kNewAxis = -1, kShrink = -2;
  std::vector<int64_t> db(n, 0), de(n, 0), ds(n, 1);
  int32_t dbm = 0, dem = 0, dsh = 0;
  std::vector<int> gather;
  int full = 0;
  for (int i = 0; i < sparse_dims; i++) {
    if ((1 << i) & ellipsis_mask) {
      const int next = std::min(n - (sparse_dims - i) + 1 + num_add_axis_after_ellipsis, n);
      for (; full < next; full++) {
        db[full] = de[full] = 0;
        ds[full] = 1;
        dbm |= 1 << full;
        dem |= 1 << full;
        gather.push_back(full);
      }
    } else if ((1 << i) & new_axis_mask) {
      gather.push_back(kNewAxis);
    } else {
      if (full >= n) Fail("slice index " + std::to_string(i) + " is out of range for input rank " + std::to_string(n));
      db[full] = sb[i];
      de[full] = se[i];
      ds[full] = ss[i];
      if (begin_mask & (1 << i)) dbm |= 1 << full;
      if (end_mask & (1 << i)) dem |= 1 << full;
      if (shrink_axis_mask & (1 << i)) {
        gather.push_back(kShrink);
        dsh |= 1 << full;
      } else {
        gather.push_back(full);
      }
      full++;
    }
  }
  StridedSliceSpec spec;
  spec.input_shape = shape;
  spec.begin.assign(n, 0);
  spec.step.assign(n, 1);
  spec.count.assign(n, 0);
  for (int i = 0; i < n; i++) {
    const int64_t stride = ds[i], dim = shape[i];
    if (stride == 0) Fail("strides[" + std::to_string(i) + "] must be non-zero");
    const bool shrink = (dsh >> i) & 1;
    int64_t b, e;
    if (shrink) {
      const int64_t xf = db[i] < 0 ? dim + db[i] : db[i];
      if (xf < 0 || xf >= dim) {
        Fail("slice index " + std::to_string(db[i]) + " of dimension " + std::to_string(i) +
             " is out of bounds (size " + std::to_string(dim) + ")");
      }
      spec.begin[i] = xf;
      spec.step[i] = 1;
      spec.count[i] = 1;
      continue;
    }
    const int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
    auto canonical = [&](int64_t x, int c) -> int64_t {
      const bool masked = c == 0 ? ((dbm >> i) & 1) : ((dem >> i) & 1);
      if (masked) return stride > 0 ? (c == 0 ? lo : hi) : (c == 0 ? hi : lo);
      const int64_t xf = x < 0 ? dim + x : x;
      return xf < lo ? lo : (xf > hi ? hi : xf);
    };
    b = canonical(db[i], 0);
    e = canonical(de[i], 1);
    const int64_t len = e - b;
    int64_t size = 0;
    if (len != 0 && ((len < 0) == (stride < 0))) size = len / stride + (len % stride != 0 ? 1 : 0);
    spec.begin[i] = b;
    spec.step[i] = stride;
    spec.count[i] = size;
  }
  for (int gi : gather) {
    if (gi == kNewAxis)
      spec.final_shape.push_back(1);
    else if (gi >= 0)
      spec.final_shape.push_back(spec.count[gi]);
  }
  return spec;
}

void StridedSlice(size_t es, const StridedSliceSpec& spec, const void* x, void* y, int threads) {
  int n = static_cast<int>(spec.input_shape.size());
  int64_t total = 1;
  for (int i = 0; i < n; i++) total *= spec.count[i];
  if (total == 0) return;
  // Trailing dimensions taken whole are one element of their combined size: an unstack of
  // [1, 192, 192, 3] is then one copy, not 36,864 rows of 3 values with index arithmetic each.
  StridedSliceSpec s = spec;
  while (n > 0 && s.step[n - 1] == 1 && s.begin[n - 1] == 0 && s.count[n - 1] == s.input_shape[n - 1]) {
    es *= static_cast<size_t>(s.input_shape[n - 1]);
    total /= s.input_shape[n - 1];
    n--;
  }
  if (n == 0) return (void)std::memcpy(y, x, es);
  std::vector<int64_t> istride(n, 1);
  for (int d = n - 1; d > 0; d--) istride[d - 1] = istride[d] * s.input_shape[d];
  const int64_t len = s.count[n - 1], rows = total / len;
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  uint8_t* yb = static_cast<uint8_t*>(y);
  ParallelFor(rows, std::max<int64_t>(1, 16384 / len), threads, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; row++) {
      int64_t rem = row, off = s.begin[n - 1];
      for (int d = n - 1; d-- > 0;) {
        const int64_t idx = rem % s.count[d];
        rem /= s.count[d];
        off += (s.begin[d] + idx * s.step[d]) * istride[d];
      }
      // The last dimension: step may be negative.
      const uint8_t* src = xb + off * int64_t(es);
      uint8_t* dst = yb + row * len * int64_t(es);
      if (s.step[n - 1] > 0) {
        CopyStridedAny(es, src, s.step[n - 1], dst, len);
      } else {
        for (int64_t i = 0; i < len; i++) std::memcpy(dst + i * es, src + i * s.step[n - 1] * int64_t(es), es);
      }
    }
  });
}

// ---------------------------------------------------------------- depth to space

void DepthToSpace(size_t es, int64_t n, int64_t h, int64_t w, int64_t c, int64_t bs, const void* x, void* y,
                  int threads) {
  const int64_t oc = c / (bs * bs);
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  uint8_t* yb = static_cast<uint8_t*>(y);
  const int64_t seg = oc * int64_t(es);
  ParallelFor(n * h, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t ni = r / h, hi = r % h;
      for (int64_t i = 0; i < bs; i++) {
        for (int64_t wi = 0; wi < w; wi++) {
          for (int64_t j = 0; j < bs; j++) {
            const int64_t oy = hi * bs + i, ox = wi * bs + j;
            std::memcpy(yb + ((ni * h * bs + oy) * w * bs + ox) * seg, xb + ((r * w + wi) * c + (i * bs + j) * oc) * es,
                        static_cast<size_t>(seg));
          }
        }
      }
    }
  });
}

void GatherNd(size_t es, const Shape& ps, const void* params, int64_t tuples, int64_t d, const int32_t* indices,
              void* y) {
  if (d < 1 || d > static_cast<int64_t>(ps.size()))
    throw std::invalid_argument("gather_nd: index depth outside the rank");
  int64_t slice = 1;
  for (size_t k = static_cast<size_t>(d); k < ps.size(); k++) slice *= ps[k];
  const size_t bytes = static_cast<size_t>(slice) * es;
  const auto* src = static_cast<const uint8_t*>(params);
  auto* dst = static_cast<uint8_t*>(y);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t at = 0;
    for (int64_t k = 0; k < d; k++) {
      const int32_t i = indices[t * d + k];
      if (i < 0 || i >= ps[static_cast<size_t>(k)])
        throw std::out_of_range("gather_nd: index " + std::to_string(i) + " outside [0, " +
                                std::to_string(ps[static_cast<size_t>(k)]) + ") of dimension " + std::to_string(k));
      at = at * ps[static_cast<size_t>(k)] + i;
    }
    CopyBytes(dst + static_cast<size_t>(t) * bytes, src + static_cast<size_t>(at) * bytes, bytes);
  }
}

void GatherAxis(size_t es, int64_t outer, int64_t n, int64_t inner, const void* params, int64_t count,
                const int32_t* indices, void* y) {
  const size_t bytes = static_cast<size_t>(inner) * es;
  for (int64_t j = 0; j < count; j++)
    if (indices[j] < 0 || indices[j] >= n)
      throw std::out_of_range("gather: index " + std::to_string(indices[j]) + " outside [0, " + std::to_string(n) +
                              ")");
  const auto* src = static_cast<const uint8_t*>(params);
  auto* dst = static_cast<uint8_t*>(y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < count; j++)
      CopyBytes(dst + static_cast<size_t>(o * count + j) * bytes, src + static_cast<size_t>(o * n + indices[j]) * bytes,
                bytes);
}

}  // namespace ops
}  // namespace tfjq
