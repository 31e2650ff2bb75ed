// The scalar oracle of the sparse products: literal loops over the packed entries, each
// output summed in ascending k (float: multiply, then add; int: mod 2^32).
#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {
namespace internal {

namespace {

// Acc: float (float32 product) or uint32 (int product, wrap-around).
template <typename X, typename V, typename Acc>
void RefKernel(const PackedSparse& w, const X* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1, X* out,
               int64_t ldo) {
  const V* vals = w.vals<V>();
  const int32_t* ptr = w.ptr();
  const int32_t* idx = w.idx();
  auto mul = [](X a, V b) -> Acc { return static_cast<Acc>(a) * static_cast<Acc>(b); };
  for (int64_t i = 0; i < rows; i++) {
    const X* xr = x + i * ldx;
    X* o = out + i * ldo;
    if (w.format() == Format::kCsc) {
      for (int64_t j = n0; j < n1; j++) {
        Acc s = 0;
        for (int32_t e = ptr[j]; e < ptr[j + 1]; e++) s += mul(xr[idx[e]], vals[e]);
        o[j - n0] = static_cast<X>(s);
      }
    } else if (w.format() == Format::kBlock) {
      const int br = w.block_rows(), bc = w.block_cols();
      const int64_t k = w.k();
      for (int64_t j = n0; j < n1; j++) {
        const int64_t p = j / bc;
        const int c = static_cast<int>(j - p * bc);
        Acc s = 0;
        for (int32_t b = ptr[p]; b < ptr[p + 1]; b++) {
          const int64_t k0 = idx[b];
          const V* vb = vals + static_cast<int64_t>(b) * br * bc;
          for (int r = 0; r < br && k0 + r < k; r++) s += mul(xr[k0 + r], vb[r * bc + c]);
        }
        o[j - n0] = static_cast<X>(s);
      }
    } else {
      const int64_t groups = w.groups();
      for (int64_t j = n0; j < n1; j++) {
        const int64_t p = j / 8;
        const int c = static_cast<int>(j - p * 8);
        Acc s = 0;
        for (int64_t g = 0; g < groups; g++) {
          const uint32_t bits = static_cast<uint32_t>(idx[p * groups + g]);
          const V* vg = vals + (p * groups + g) * 16;
          s += mul(xr[g * 4 + ((bits >> (4 * c)) & 3)], vg[c]);
          s += mul(xr[g * 4 + ((bits >> (4 * c + 2)) & 3)], vg[8 + c]);
        }
        o[j - n0] = static_cast<X>(s);
      }
    }
  }
}

}  // namespace

void SpmmF32Ref(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1, float* out,
                int64_t ldo) {
  RefKernel<float, float, float>(w, x, ldx, rows, n0, n1, out, ldo);
}

void SpmmI32Ref(const PackedSparse& w, const int32_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                int32_t* out, int64_t ldo) {
  RefKernel<int32_t, int8_t, uint32_t>(w, x, ldx, rows, n0, n1, out, ldo);
}

}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
