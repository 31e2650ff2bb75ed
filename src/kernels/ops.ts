// Validated wrappers over the native operator kernels (native/ops; formulas in
// docs/quantization.md §11). Every argument is checked here before it crosses into C++
// (which checks again); outputs are allocated here. 8-bit tensors are Int8Array or
// Uint8Array with per-tensor { scale, zeroPoint }; weights are int8 symmetric per channel.
//
// The wrappers live in ops/ by family (conv: windowed ops; elementwise; movement); this file is
// their public surface: ops/args.ts's argument checks stay internal.
export {
  ACTIVATIONS,
  BINARY_OPS,
  convGeometry,
  type AnyArray,
  type ConvOptions,
  type FusedActivation,
  type OpsActivation,
  type OpsBinaryOp,
  type OpsConvGeom,
  type OpsStridedSliceMasks,
  type PaddingSpec,
  type Q8Array,
  type Q8Type,
  type QParams,
} from './ops/args.js';
export * from './ops/conv.js';
export * from './ops/elementwise.js';
export * from './ops/movement.js';
