// The int4 reference path (the oracle): literal loops over docs/quantization.md §12.5, reading
// each weight back from the panels with PackedInt4::weight. No blocking, no threads.
#include <cstdint>

#include "gemm/gemm_int4.h"

namespace tfjq {
namespace gemm {
namespace int4_internal {

namespace {

// C[m][n] = Finish(Σ_g in order: y = y + term(m, n, g, k0, k1, zw)) for every output.
template <typename Term>
void EachOutput(const PackedInt4& b, int64_t rows, const Call& call, Term term) {
  for (int64_t m = 0; m < rows; m++) {
    for (int64_t j = 0; j < b.n(); j++) {
      float y = 0.0f;
      for (int64_t g = 0; g < b.groups(); g++) {
        const int64_t k0 = g * b.group_size();
        y = y + term(m, j, g, k0, k0 + b.group_length(g), b.zero_point(g, j));
      }
      call.out.c[m * call.out.ldc + j] = Finish(call, y, j);
    }
  }
}

}  // namespace

void GemmRef(const Int4GemmArgs& args, const Call& call) {
  const PackedInt4& b = *args.b;
  const uint8_t* a = static_cast<const uint8_t*>(args.a);
  EachOutput(b, args.m, call, [&](int64_t m, int64_t j, int64_t g, int64_t k0, int64_t k1, int32_t zw) {
    const int32_t za = args.a_zero_points[args.a_zero_point_per_row ? m : 0];
    int32_t acc = 0;
    for (int64_t k = k0; k < k1; k++) {
      const uint8_t raw = a[m * args.lda + k];
      const int32_t av = args.a_signed ? static_cast<int32_t>(static_cast<int8_t>(raw)) : static_cast<int32_t>(raw);
      acc += (av - za) * (b.weight(k, j) - zw);
    }
    const float s = args.a_scales[args.a_scale_per_row ? m : 0] * b.scale(g, j);
    return static_cast<float>(acc) * s;
  });
}

void WeightOnlyRef(const WeightOnlyInt4Args& args, const Call& call) {
  const PackedInt4& b = *args.b;
  EachOutput(b, args.m, call, [&](int64_t m, int64_t j, int64_t g, int64_t k0, int64_t k1, int32_t zw) {
    float p = 0.0f;
    for (int64_t k = k0; k < k1; k++) p = p + args.x[m * args.ldx + k] * static_cast<float>(b.weight(k, j) - zw);
    return p * b.scale(g, j);
  });
}

}  // namespace int4_internal
}  // namespace gemm
}  // namespace tfjq
