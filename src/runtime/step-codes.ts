// Codes shared by placement and the emitters: buffer dtypes, activation and binary-op codes
// as the native steps read them (native/runtime/step_schema.h), and the TF ops each maps.

/** Buffer dtypes of a plan (runtime::DType). */
export const DT = { f32: 0, i8: 1, u8: 2, i32: 3 } as const;
/** Fused activation name → Activation code (native/common/activation.h, the one table of codes). */
export const ACT: Record<string, number> = {
  none: 0,
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 3,
  elu: 4,
  sigmoid: 5,
  tanh: 6,
};
/** Hard-swish in a graph's rounding orders → Activation code (kHardSwishProduct, …ScaledGate, …ScaledInput). */
export const HARD_SWISH = { product: 11, scaledGate: 12, scaledInput: 13 } as const;
/** Unary activation op → Activation code. */
export const UNARY_ACT: Record<string, number> = { Relu: 1, Relu6: 2, LeakyRelu: 3, Elu: 4, Sigmoid: 5, Tanh: 6 };
/** Binary op → ops::BinaryOp code. */
export const BINARY: Record<string, number> = {
  AddV2: 0,
  BiasAdd: 0,
  Sub: 1,
  Mul: 2,
  Maximum: 3,
  Minimum: 4,
  RealDiv: 5,
  SquaredDifference: 6,
  /** Only as the 0 / 1 float mask an Equal → Cast pair computes (src/runtime/equal-mask.ts). */
  Equal: 7,
  /** int32 only (binary_i32). */
  FloorDiv: 8,
  FloorMod: 9,
};
/** Float unary math op → ops::UnaryOp code (unary_f32). */
export const UNARY_MATH: Record<string, number> = { Sqrt: 0, Rsqrt: 1, Square: 2, Floor: 3, Abs: 4, Erf: 5 };
/** Float reduction op → ops::ReduceOp code (reduce_f32; a Max or Mean over H, W of an image is a global pool). */
export const REDUCE: Record<string, number> = { Sum: 0, Max: 1, Min: 2, Prod: 3, Mean: 4 };
/** Ops whose native steps take int32 as well as float32: data movement, and int32 arithmetic (binary_i32). */
export const INT32_MOVE = new Set([
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Identity',
  'ConcatV2',
  'Pack',
  'StridedSlice',
  'Slice',
  'Transpose',
]);
export const INT32_BINARY = new Set(['AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum', 'FloorDiv', 'FloorMod']);
/** Ops that only reinterpret their input's bytes. */
export const COPY_OPS = new Set(['Reshape', 'Squeeze', 'ExpandDims', 'Identity']);
