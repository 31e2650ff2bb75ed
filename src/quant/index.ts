// Post-training quantization: quantize(), calibration and observers, the §12
// simulation, per-layer reports, calibration sources; §12 derived parameters shared with the
// runtime and QAT.
export {
  quantize,
  top1Agreement,
  simulatedPredict,
  floatPredict,
  QUANT_MODES,
  type QuantizeOptions,
  type QuantizeReport,
  type QuantizeResult,
  type AccuracyGuardOptions,
  type QuantMetric,
  type GuardReport,
} from './quantize.js';
export { mismatchedConcats } from './guard.js';
export {
  outputFidelity,
  modelFidelity,
  COSINE_MIN_VALUES,
  RELATIVE_ERROR_FLOOR,
  NEAR_ZERO,
  type OutputFidelity,
  type ModelFidelity,
} from './output-fidelity.js';
export {
  describeInputs,
  syntheticInputs,
  CALIBRATION_SEED,
  EVALUATION_SEED,
  type InputAssumption,
} from './synthetic-inputs.js';
export { hasNonFinite, nonFiniteReaders } from './non-finite.js';
export {
  simulate,
  dequantizeSim,
  type SimTensor,
  type SimulateOptions,
  type SimulateResult,
  type SimulateInputs,
} from './simulate.js';
export {
  calibrate,
  splitFusedActivations,
  type CalibrateOptions,
  type CalibrationData,
  type CalibrationSample,
  type CalibrationResult,
  type CalibrateProgress,
} from './calibrate.js';
export {
  createObserver,
  resolveObserverOptions,
  searchRange,
  searchCandidate,
  StreamingHistogram,
  OBSERVER_KINDS,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
} from './observers.js';
// Its formatting (layerTable, formatLayerReport) is report/layers.ts's: src/ptq.ts adds it to the public `ptq`.
export { layerReport, type LayerError, type LayerReport } from './report.js';
export { BiasCorrector, type BiasCorrection } from './bias-correction.js';
export { loadCalibrationData } from './dataset.js';
export {
  quantizeWeight,
  float16Weight,
  setActivationRanges,
  activationParams,
  weightedNodes,
  type Granularity,
} from './weights.js';
export {
  planExecution,
  int8Obstacle,
  int32Bias,
  requantMultipliers,
  constantOperandParams,
  quantizationInfo,
  activationTable,
  SOFTMAX_INT8_PARAMS,
  INT8_OPS,
  PASS_THROUGH_OPS,
  type QuantizationInfo,
  type ActivationParams,
  type NodeExecution,
  type QuantMode,
  type IoType,
} from './params.js';
