// Structure detection and packing of sparse weights (formats in sparse.h). Runs once per
// weight at session creation (or packSparse), O(k·n) per candidate block shape.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "gemm/gemm.h"
#include "sparse/kernels.h"
#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {

namespace {

[[noreturn]] void Bad(const std::string& m) { throw std::invalid_argument(m); }

struct Shape {
  int br, bc;
};
// Candidate block shapes, preferred first (bigger blocks; column blocks before row blocks:
// the column-vector kernels need no horizontal reduction).
constexpr Shape kShapes[] = {{4, 4}, {1, 8}, {8, 1}, {2, 4}, {1, 4}, {4, 1}};
constexpr double kMinFill = 0.9;
// A 2:4-valid matrix much sparser than 50% (random pruning at 90% is mostly 2:4-valid too)
// runs faster as CSC: the 2:4 kernel always does half the dense work.
constexpr double kMaxNM24Sparsity = 0.625;

bool ValidBlock(int br, int bc) {
  const bool r = br == 1 || br == 2 || br == 4 || br == 8;
  const bool c = bc == 1 || bc == 4 || bc == 8;
  return r && c && !(br == 1 && bc == 1);
}

void CheckDims(int64_t k, int64_t n) {
  if (k < 1 || k > gemm::kMaxK) Bad("k must be in [1, 65536], got " + std::to_string(k));
  if (n < 1 || n >= gemm::kMaxDim) Bad("n must be in [1, 2^31), got " + std::to_string(n));
}

// Stored blocks and the real (edge-clipped) area they cover.
template <typename T>
void CountBlocks(const T* w, int64_t k, int64_t n, int br, int bc, int64_t* blocks, int64_t* area) {
  *blocks = 0;
  *area = 0;
  for (int64_t k0 = 0; k0 < k; k0 += br) {
    const int64_t k1 = std::min<int64_t>(k, k0 + br);
    for (int64_t n0 = 0; n0 < n; n0 += bc) {
      const int64_t n1 = std::min<int64_t>(n, n0 + bc);
      bool any = false;
      for (int64_t kk = k0; kk < k1 && !any; kk++) {
        for (int64_t j = n0; j < n1; j++) {
          if (w[kk * n + j] != T(0)) {
            any = true;
            break;
          }
        }
      }
      if (any) {
        (*blocks)++;
        *area += (k1 - k0) * (n1 - n0);
      }
    }
  }
}

template <typename T>
bool IsNM24(const T* w, int64_t k, int64_t n) {
  for (int64_t g = 0; g < k; g += 4) {
    const int64_t g1 = std::min<int64_t>(k, g + 4);
    for (int64_t j = 0; j < n; j++) {
      int c = 0;
      for (int64_t kk = g; kk < g1; kk++) c += w[kk * n + j] != T(0);
      if (c > 2) return false;
    }
  }
  return true;
}

template <typename T>
Structure AnalyzeT(const T* w, int64_t k, int64_t n) {
  CheckDims(k, n);
  Structure s;
  s.k = k;
  s.n = n;
  for (int64_t i = 0; i < k * n; i++) s.nnz += w[i] != T(0);
  s.sparsity = 1.0 - static_cast<double>(s.nnz) / (static_cast<double>(k) * static_cast<double>(n));
  s.nm24 = IsNM24(w, k, n);
  if (s.nnz > 0) {
    for (const Shape& sh : kShapes) {
      int64_t blocks, area;
      CountBlocks(w, k, n, sh.br, sh.bc, &blocks, &area);
      const double fill = static_cast<double>(s.nnz) / static_cast<double>(area);
      if (fill >= kMinFill) {
        s.block_rows = sh.br;
        s.block_cols = sh.bc;
        s.block_fill = fill;
        break;
      }
    }
  }
  if (s.block_rows * s.block_cols > 1)
    s.format = Format::kBlock;
  else if (s.nm24 && s.nnz > 0 && s.sparsity < kMaxNM24Sparsity)
    s.format = Format::kNM24;
  else
    s.format = Format::kCsc;
  return s;
}

}  // namespace

const char* FormatName(Format f) {
  switch (f) {
    case Format::kCsc:
      return "csc";
    case Format::kBlock:
      return "block";
    case Format::kNM24:
      return "2:4";
  }
  return "?";
}

Structure AnalyzeF32(const float* w, int64_t k, int64_t n) { return AnalyzeT(w, k, n); }
Structure AnalyzeI8(const int8_t* w, int64_t k, int64_t n) { return AnalyzeT(w, k, n); }

Isa SparseIsaFor(Isa isa) {
  Isa used = Isa::kRef;
  internal::SparseKernelTable().Resolve(isa, &used);
  return IsaSupported(used) ? used : Isa::kRef;
}

template <typename T>
PackedSparse PackT(const T* w, int64_t k, int64_t n, const PackOptions& o, Isa isa) {
  CheckDims(k, n);
  if (w == nullptr) Bad("weights must not be null");
  PackedSparse p;
  p.type_ = sizeof(T) == 1 ? ValueType::kI8 : ValueType::kF32;
  p.isa_ = SparseIsaFor(isa);
  p.k_ = k;
  p.n_ = n;
  Format f;
  int br = 1, bc = 1;
  if (o.force_format) {
    f = o.format;
    if (f == Format::kBlock) {
      br = o.block_rows;
      bc = o.block_cols;
      if (!ValidBlock(br, bc)) {
        Bad("block shape " + std::to_string(br) + "×" + std::to_string(bc) +
            " is not supported (rows 1, 2, 4 or 8; columns 1, 4 or 8; not 1×1)");
      }
    } else if (f == Format::kNM24) {
      if (!IsNM24(w, k, n)) Bad("weights are not 2:4 sparse (a group of 4 along K has more than 2 nonzeros)");
    } else if (f != Format::kCsc) {
      Bad("unknown sparse format");
    }
  } else {
    const Structure s = AnalyzeT(w, k, n);
    f = s.format;
    br = s.block_rows;
    bc = s.block_cols;
  }
  p.format_ = f;
  p.br_ = br;
  p.bc_ = bc;
  for (int64_t i = 0; i < k * n; i++) p.nnz_ += w[i] != T(0);

  if (f == Format::kCsc) {
    p.ptr_.assign(static_cast<size_t>(n) + 1, 0);
    int64_t total = 0;
    std::vector<int32_t> count(static_cast<size_t>(n), 0);
    for (int64_t kk = 0; kk < k; kk++) {
      for (int64_t j = 0; j < n; j++) count[static_cast<size_t>(j)] += w[kk * n + j] != T(0);
    }
    for (int64_t j = 0; j < n; j++) {
      const int64_t padded = (count[static_cast<size_t>(j)] + 7) / 8 * 8;
      total += padded;
      if (total > INT32_MAX) Bad("too many nonzeros for the CSC format");
      p.ptr_[static_cast<size_t>(j) + 1] = static_cast<int32_t>(total);
    }
    p.idx_.assign(static_cast<size_t>(total), 0);
    p.vals_.Reset(static_cast<size_t>(total) * sizeof(T) + 64);
    T* v = p.vals_.template as<T>();
    std::vector<int32_t> fill(p.ptr_.begin(), p.ptr_.end() - 1);
    for (int64_t kk = 0; kk < k; kk++) {
      for (int64_t j = 0; j < n; j++) {
        const T x = w[kk * n + j];
        if (x == T(0)) continue;
        const int32_t e = fill[static_cast<size_t>(j)]++;
        p.idx_[static_cast<size_t>(e)] = static_cast<int32_t>(kk);
        v[e] = x;
      }
    }
    p.stored_ = total;
  } else if (f == Format::kBlock) {
    const int64_t panels = (n + bc - 1) / bc;
    p.ptr_.assign(static_cast<size_t>(panels) + 1, 0);
    std::vector<int32_t> rows;
    std::vector<T> vals;
    for (int64_t pn = 0; pn < panels; pn++) {
      const int64_t n0 = pn * bc, n1 = std::min<int64_t>(n, n0 + bc);
      for (int64_t k0 = 0; k0 < k; k0 += br) {
        const int64_t k1 = std::min<int64_t>(k, k0 + br);
        bool any = false;
        for (int64_t kk = k0; kk < k1 && !any; kk++) {
          for (int64_t j = n0; j < n1; j++)
            if (w[kk * n + j] != T(0)) {
              any = true;
              break;
            }
        }
        if (!any) continue;
        rows.push_back(static_cast<int32_t>(k0));
        for (int r = 0; r < br; r++) {
          for (int c = 0; c < bc; c++) {
            const int64_t kk = k0 + r, j = n0 + c;
            vals.push_back(kk < k && j < n ? w[kk * n + j] : T(0));
          }
        }
      }
      if (rows.size() > static_cast<size_t>(INT32_MAX)) Bad("too many blocks");
      p.ptr_[static_cast<size_t>(pn) + 1] = static_cast<int32_t>(rows.size());
    }
    p.idx_ = std::move(rows);
    p.vals_.Reset(vals.size() * sizeof(T) + 64);
    std::copy(vals.begin(), vals.end(), p.vals_.template as<T>());
    p.stored_ = static_cast<int64_t>(vals.size());
  } else {  // kNM24
    const int64_t panels = (n + 7) / 8, groups = (k + 3) / 4;
    p.idx_.assign(static_cast<size_t>(panels * groups), 0);
    p.vals_.Reset(static_cast<size_t>(panels * groups * 16) * sizeof(T) + 64);
    T* v = p.vals_.template as<T>();
    for (int64_t pn = 0; pn < panels; pn++) {
      for (int64_t g = 0; g < groups; g++) {
        uint32_t bits = 0;
        T* vg = v + (pn * groups + g) * 16;
        for (int c = 0; c < 8; c++) {
          const int64_t j = pn * 8 + c;
          int offs[2] = {0, 0}, cnt = 0;
          T vv[2] = {T(0), T(0)};
          if (j < n) {
            for (int t = 0; t < 4 && g * 4 + t < k; t++) {
              const T x = w[(g * 4 + t) * n + j];
              if (x != T(0)) {
                offs[cnt] = t;
                vv[cnt] = x;
                cnt++;
              }
            }
          }
          if (cnt == 1) offs[1] = offs[0];  // v1 = 0 at the same k: ascending order kept
          vg[c] = vv[0];
          vg[8 + c] = vv[1];
          bits |= static_cast<uint32_t>(offs[0]) << (4 * c);
          bits |= static_cast<uint32_t>(offs[1]) << (4 * c + 2);
        }
        p.idx_[static_cast<size_t>(pn * groups + g)] = static_cast<int32_t>(bits);
      }
    }
    p.stored_ = panels * groups * 16;
  }
  return p;
}

template PackedSparse PackT<float>(const float*, int64_t, int64_t, const PackOptions&, Isa);
template PackedSparse PackT<int8_t>(const int8_t*, int64_t, int64_t, const PackOptions&, Isa);

PackedSparse PackF32(const float* w, int64_t k, int64_t n, const PackOptions& o, Isa isa) {
  return PackT(w, k, n, o, isa);
}
PackedSparse PackI8(const int8_t* w, int64_t k, int64_t n, const PackOptions& o, Isa isa) {
  return PackT(w, k, n, o, isa);
}

}  // namespace sparse
}  // namespace tfjq
