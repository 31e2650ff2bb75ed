export { constantSparsity, polynomialDecay, assertSparsity, type PruningSchedule } from './schedule.js';
export { magnitudeMask, blockMask, nmMask, keptCount, sparsityOf, type BlockPooling } from './masks.js';
export {
  prune, stripPruning, getPruning, magnitudePrune, prunableWeights, PruningHandle,
  type PruneConfig, type LayerPruneConfig, type PrunedWeight, type MagnitudePruneOptions,
} from './prune.js';
