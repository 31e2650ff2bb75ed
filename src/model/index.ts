// Model IO and the graph IR.
export * from './ir.js';
export { ModelFormatError, type ModelErrorContext } from './errors.js';
export { loadModel, readModel, graphFromRaw, type LoadOptions, type ModelSource } from './load.js';
export { inferShapes } from './shape-inference.js';
export {
  execute,
  executeAsync,
  executeNamed,
  requiresAsync,
  constantTensor,
  disposeConstants,
  type ExecuteOptions,
  type GraphInputs,
} from './execute.js';
export { inferOpaque } from './infer-opaque.js';
export {
  controlFlowRegions,
  executionUnits,
  hasControlFlow,
  isControlFlowOp,
  CONTROL_FLOW_OPS,
  type ControlFlowRegion,
  type ExecutionUnit,
} from './control-flow.js';
export { OPS } from './ops.js';
export {
  fileIO,
  readModelFiles,
  readModelMemory,
  readModelHandler,
  toArtifacts,
  type InMemoryModel,
  type RawModel,
} from '../io/files.js';
export { writeFilesAtomic } from '../io/atomic.js';
export { saveTfjs, tfjsFiles, graphModelFiles, layersModelFiles, type SaveTfjsOptions } from './save-tfjs.js';
export { optimize, PASSES, DEFAULT_PASSES, type Pass, type PassName, type OptimizeOptions } from './passes/index.js';
export {
  saveNative,
  nativeFiles,
  FORMAT_NAME,
  FORMAT_VERSION,
  type SaveNativeOptions,
  type ActivationRange,
} from './save-native.js';
export {
  registerEncoding,
  getEncoding,
  registeredEncodings,
  type WeightCodec,
  type EncodingDecodeContext,
} from './encodings.js';
export { NATIVE_INT8_OPS, nativeInt8Supported, inspectGraph, formatInspect, type InspectReport } from './inspect.js';
