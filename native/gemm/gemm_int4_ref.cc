// The int4 reference path (the oracle): literal loops over docs/quantization.md §12.5, reading
// each weight back from the panels with PackedInt4::weight. No blocking, no threads.
#include <cstdint>

#include "gemm/gemm_int4.h"

namespace tfjq {
namespace gemm {
namespace int4_internal {

void GemmRef(const Int4GemmArgs& args, const Call& call) {
  const PackedInt4& b = *args.b;
  const int64_t n = b.n();
  const uint8_t* a = static_cast<const uint8_t*>(args.a);
  for (int64_t m = 0; m < args.m; m++) {
    const int32_t za = args.a_zero_points[args.a_zero_point_per_row ? m : 0];
    const float sa = args.a_scales[args.a_scale_per_row ? m : 0];
    for (int64_t j = 0; j < n; j++) {
      float y = 0.0f;
      for (int64_t g = 0; g < b.groups(); g++) {
        const int64_t k0 = g * b.group_size(), k1 = k0 + b.group_length(g);
        const int32_t zw = b.zero_point(g, j);
        int32_t acc = 0;
        for (int64_t k = k0; k < k1; k++) {
          const uint8_t raw = a[m * args.lda + k];
          const int32_t av = args.a_signed ? static_cast<int32_t>(static_cast<int8_t>(raw)) : static_cast<int32_t>(raw);
          acc += (av - za) * (b.weight(k, j) - zw);
        }
        const float s = sa * b.scale(g, j);
        y = y + static_cast<float>(acc) * s;
      }
      call.out.c[m * call.out.ldc + j] = Finish(call, y, j);
    }
  }
}

void WeightOnlyRef(const WeightOnlyInt4Args& args, const Call& call) {
  const PackedInt4& b = *args.b;
  const int64_t n = b.n();
  for (int64_t m = 0; m < args.m; m++) {
    for (int64_t j = 0; j < n; j++) {
      float y = 0.0f;
      for (int64_t g = 0; g < b.groups(); g++) {
        const int64_t k0 = g * b.group_size(), k1 = k0 + b.group_length(g);
        const int32_t zw = b.zero_point(g, j);
        float p = 0.0f;
        for (int64_t k = k0; k < k1; k++) p = p + args.x[m * args.ldx + k] * static_cast<float>(b.weight(k, j) - zw);
        y = y + p * b.scale(g, j);
      }
      call.out.c[m * call.out.ldc + j] = Finish(call, y, j);
    }
  }
}

}  // namespace int4_internal
}  // namespace gemm
}  // namespace tfjq
