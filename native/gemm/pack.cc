// PackB: weights into per-path panels (layout in gemm.h / docs/gemm.md), column sums and
// zero points stored alongside.
#include <cstring>
#include <stdexcept>
#include <string>

#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {

void LayoutFor(Isa isa, int* nr, int* kgroup) {
  const KernelSet* ks = KernelsFor(isa);
  // ref: plain B transposed, [n][k].
  *nr = ks != nullptr ? ks->nr : 1;
  *kgroup = ks != nullptr ? ks->kgroup : 1;
}

}  // namespace internal

bool GemmIsaUsable(Isa isa) {
#if defined(TFJQ_GEMM_ALLOW_UNSUPPORTED)
  // Emulated harness: every compiled path runs (the VNNI files are built on SIMDe).
  return isa == Isa::kRef || internal::KernelsFor(isa) != nullptr;
#else
  return IsaSupported(isa);
#endif
}

size_t PackedB::byte_length() const {
  return panels_.size() + static_cast<size_t>(n_) * sizeof(int32_t) * (zb_per_col_ ? 2 : 1);
}

PackedB PackB(const int8_t* b, int64_t k, int64_t n, BLayout layout, int64_t ldb, const int32_t* zero_points,
              bool zb_per_column, Isa isa) {
  if (!GemmIsaUsable(isa)) throw std::invalid_argument(std::string("isa '") + IsaName(isa) + "' is not available");
  if (k < 1 || k > kMaxK) throw std::invalid_argument("k must be in [1, 65536], got " + std::to_string(k));
  if (n < 1 || n >= kMaxDim) throw std::invalid_argument("n must be in [1, 2^31), got " + std::to_string(n));
  if (b == nullptr) throw std::invalid_argument("b must not be null");
  const bool kn = layout == BLayout::kKN;
  if (ldb < (kn ? n : k)) throw std::invalid_argument("ldb must be at least " + std::to_string(kn ? n : k));
  if (zero_points) {
    const int64_t cnt = zb_per_column ? n : 1;
    for (int64_t i = 0; i < cnt; i++) {
      if (zero_points[i] < -128 || zero_points[i] > 127) {
        throw std::invalid_argument("zero_points[" + std::to_string(i) + "] must be in [-128, 127]");
      }
    }
  }

  PackedB p;
  p.isa_ = isa;
  p.k_ = k;
  p.n_ = n;
  internal::LayoutFor(isa, &p.nr_, &p.kgroup_);
  const int nr = p.nr_, kgroup = p.kgroup_;
  p.kpad_ = (k + kgroup - 1) / kgroup * kgroup;
  const int64_t panels = p.num_panels();
  p.panels_.Reset(static_cast<size_t>(panels * p.panel_stride()));
  p.col_sums_.reset(new int32_t[static_cast<size_t>(n)]);
  int8_t* dst = p.panels_.as<int8_t>();
  int32_t* sums = p.col_sums_.get();
  const int64_t kpad = p.kpad_;

  ParallelFor(panels, 4, 0, [&](int64_t pb, int64_t pe) {
    for (int64_t pi = pb; pi < pe; pi++) {
      int8_t* panel = dst + pi * kpad * nr;
      for (int j = 0; j < nr; j++) {
        const int64_t col = pi * nr + j;
        if (col >= n) break;  // padding columns stay zero
        int32_t s = 0;
        for (int64_t kk = 0; kk < k; kk++) {
          const int8_t v = kn ? b[kk * ldb + col] : b[col * ldb + kk];
          s += v;
          const int64_t g = kk / kgroup, t = kk % kgroup;
          panel[(g * nr + j) * kgroup + t] = v;
        }
        sums[col] = s;
      }
    }
  });

  p.zb_per_col_ = zero_points != nullptr && zb_per_column;
  p.zb_scalar_ = zero_points != nullptr && !zb_per_column ? zero_points[0] : 0;
  p.zb_all_zero_ = p.zb_scalar_ == 0;
  if (p.zb_per_col_) {
    p.zb_.reset(new int32_t[static_cast<size_t>(n)]);
    std::memcpy(p.zb_.get(), zero_points, static_cast<size_t>(n) * sizeof(int32_t));
    for (int64_t i = 0; i < n; i++) p.zb_all_zero_ = p.zb_all_zero_ && zero_points[i] == 0;
  }
  return p;
}

}  // namespace gemm
}  // namespace tfjq
