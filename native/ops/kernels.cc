// The ops family's per-ISA table (common/dispatch.h): AVX2 vector kernels, which every x86
// SIMD path resolves to, and AVX-512 VNNI's own depthwise; no entry for kRef or arm64 (the
// callers' portable loops run there).
#include "common/cpu.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

const VectorKernels* ActiveVectorKernels() {
  static const IsaTable<VectorKernels> table = [] {
    IsaTable<VectorKernels> t;
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = [] {
      static const VectorKernels avx2{
          PrepareDepthwiseAvx2,
          static_cast<void (*)(const ConvGeom&, const int8_t*, const DepthwiseQ&, int8_t*, int)>(DepthwiseAvx2),
          static_cast<void (*)(const ConvGeom&, const uint8_t*, const DepthwiseQ&, uint8_t*, int)>(DepthwiseAvx2),
          DepthwiseF32Avx2,
          ApplyLutAvx2,
          BinaryQuantAvx2S8,
          BinaryQuantAvx2U8,
          static_cast<int64_t (*)(const int8_t*, const int8_t*, const BilinearTap*, int64_t, int64_t, float,
                                  const ResizeQ&, int8_t*)>(ResizeRowAvx2),
          static_cast<int64_t (*)(const uint8_t*, const uint8_t*, const BilinearTap*, int64_t, int64_t, float,
                                  const ResizeQ&, uint8_t*)>(ResizeRowAvx2),
          ResizeRowF32Avx2,
          PreluRowsAvx2S8,
          PreluRowsAvx2U8};
      return &avx2;
    };
    // Depthwise with VPDPBUSD (int8) and 16 float lanes, the lookup with VPERMT2W, binary ops
    // and PReLU at 16 lanes, max and float average pooling at 16 floats / 64 bytes, sigmoid and swish with a
    // 16-lane exp; the resize rows are the AVX2 ones.
    t.entries[static_cast<int>(Isa::kAvx512Vnni)] = [] {
      static const VectorKernels avx512vnni{
          PrepareDepthwiseAvx512Vnni,
          static_cast<void (*)(const ConvGeom&, const int8_t*, const DepthwiseQ&, int8_t*, int)>(DepthwiseAvx512Vnni),
          static_cast<void (*)(const ConvGeom&, const uint8_t*, const DepthwiseQ&, uint8_t*, int)>(DepthwiseAvx512Vnni),
          DepthwiseF32Avx512,
          ApplyLutAvx512,
          BinaryQuantAvx512S8,
          BinaryQuantAvx512U8,
          static_cast<int64_t (*)(const int8_t*, const int8_t*, const BilinearTap*, int64_t, int64_t, float,
                                  const ResizeQ&, int8_t*)>(ResizeRowAvx2),
          static_cast<int64_t (*)(const uint8_t*, const uint8_t*, const BilinearTap*, int64_t, int64_t, float,
                                  const ResizeQ&, uint8_t*)>(ResizeRowAvx2),
          ResizeRowF32Avx2,
          PreluRowsAvx512S8,
          PreluRowsAvx512U8,
          MaxTapsF32Avx512,
          MaxTapsS8Avx512,
          MaxTapsU8Avx512,
          AvgTapsF32Avx512,
          ActivationF32Avx512};
      return &avx512vnni;
    };
#endif
    return t;
  }();
  return table.Resolve(ActiveIsa());
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
