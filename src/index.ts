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
export * as scheme from './quant/scheme.js';
// Models: loading, graph IR, passes, execution, saving, inspection.
export * from './model/index.js';
// Deep Compression.
export * from './prune/index.js';
export * from './cluster/index.js';
export * from './codec/index.js';
// Data and reference models (MNIST from the `mnist` package, LeNets).
export * as data from './data/index.js';
// Native float training kernels for tfjs backends.
export { registerNativeTrainingKernels, unregisterNativeTrainingKernels, nativeTrainingKernels, DEFAULT_TRAIN_KERNELS } from './train/kernels.js';
