// tfjs-quant public API.
export { cpuInfo, supportedIsas, getIsa, setIsa, withIsa, getThreads, setThreads, ISA_NAMES } from './native/cpu.js';
export type { CpuInfo, IsaName } from './native/cpu.js';
export { initFloatBackend, floatBackendName, availableFloatBackends, describeFloatBackend } from './backend/float.js';
export type { FloatBackendName } from './backend/float.js';

// Kernels (validated wrappers over the native addon).
export * from './kernels/gemm.js';
export * from './kernels/quantize.js';
export * from './kernels/float16.js';
export * as ops from './kernels/ops.js';
// The quantization scheme in TypeScript (bit-exact with the native kernels).
export * as scheme from './kernels/scheme.js';
// Models: loading, graph IR, passes, execution, saving, inspection.
export * from './model/index.js';
// Deep Compression.
export * from './prune/index.js';
export * from './cluster/index.js';
export * from './codec/index.js';
// Data and reference models (MNIST from the `mnist` package, LeNets).
export * as data from './data/index.js';
// Native float training kernels for tfjs backends.
export {
  registerNativeTrainingKernels,
  unregisterNativeTrainingKernels,
  nativeTrainingKernels,
  DEFAULT_TRAIN_KERNELS,
} from './train/kernels.js';
// Sub-byte (int4) weights: per-group quantization and the native int4 GEMM.
export {
  Int4PackedWeights,
  packInt4Weights,
  gemmInt4,
  gemmInt4Async,
  dynamicGemmInt4,
  dynamicGemmInt4Async,
  weightOnlyGemmInt4,
  weightOnlyGemmInt4Async,
  int4Isas,
  int4DefaultIsa,
  int4Groups,
} from './kernels/int4.js';
export type { Int4PackOptions, Int4GemmOptions, Int4DynamicOptions, Int4WeightOnlyOptions } from './kernels/int4.js';
export {
  quantizeWeightInt4,
  dequantizeWeightInt4,
  packInt4Quantization,
  chooseWeightBits,
  int4WeightStats,
  int4Range,
  float16Scale,
  INT4_GROUP_SIZES,
  INT4_DEFAULT_GROUP_SIZE,
  INT4_DEFAULT_SCALE_BITS,
  superScaleFor,
  scaleCodeFor,
  decodeScale,
} from './quant/int4.js';
export type { Int4Bits, Int4Options, Int4ScaleBits, Int4WeightStats, WeightBitsChoice } from './quant/int4.js';
// Quantization-aware training (fake quantization, quantizeModel / quantizeApply, convertQat → §12 int8 graph).
export * from './qat/index.js';
// Native inference runtime: InferenceSession (whole-graph native segments, tfjs fallback segments).
export { InferenceSession, compilePlan, loadGraphModel } from './runtime/index.js';
// file:// URLs for stock tfjs in Node (tf.loadGraphModel('file://…'), model.save('file://…')).
export { registerFileRouter } from './io/router.js';
export { createServer, type ServeOptions, type TfjsQuantServer } from './serve/index.js'; // HTTP serving (TF Serving REST API, dynamic batching)
export type {
  HostTensor,
  RunInputs,
  RunOptions,
  SessionMemory,
  SessionOptions,
  TensorSpec,
  TensorLike,
  PlannedNode,
  Placement,
  CompiledPlan,
} from './runtime/index.js';
// Post-training quantization: all of it as `ptq` (ptq.quantize, ptq.calibrate, ptq.simulate, …),
// the main entry points also by name; .npy files.
export * as ptq from './ptq.js';
export {
  quantize as postTrainingQuantize,
  simulate,
  calibrate,
  layerReport,
  formatLayerReport,
  loadCalibrationData,
} from './ptq.js';
export type {
  QuantizeOptions as PtqOptions,
  QuantizeReport as PtqReport,
  SimTensor,
  ObserverKind,
  ObserverOptions,
} from './quant/index.js';
export { readNpy, writeNpy, type NpyArray } from './io/npy.js';
