// Pruning-round settings shared by the tests whose sensitivity scan always passes: a 0.6
// accuracy budget that no rung's loss exceeds, so the scan asks for its highest rung; one short
// retraining epoch a round, the sparsity ramp over half of it, a mask update every step.
export function passingScan(rungs: number[], seed: number) {
  return {
    sparsity: 'auto' as const,
    maxAccuracyDrop: 0.6,
    sensitivitySparsities: rungs,
    epochs: 1,
    rampFraction: 0.5,
    frequency: 1,
    training: { learningRate: 0.01, seed },
  };
}
