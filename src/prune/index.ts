export { constantSparsity, polynomialDecay, assertSparsity, type PruningSchedule } from './schedule.js';
export { magnitudeMask, blockMask, nmMask, keptCount, sparsityOf, type BlockPooling } from './masks.js';
export {
  prune,
  stripPruning,
  getPruning,
  magnitudePrune,
  prunableWeights,
  PruningHandle,
  type PruneConfig,
  type LayerPruneConfig,
  type PrunedWeight,
  type MagnitudePruneOptions,
} from './prune.js';
export {
  sensitivityScan,
  formatSensitivity,
  SENSITIVITY_SPARSITIES,
  type SensitivityScan,
  type LayerSensitivity,
  type SensitivityPoint,
  type SensitivityOptions,
} from './sensitivity.js';
