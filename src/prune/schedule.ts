// Pruning schedules with TF-MOT's semantics (tfmot.sparsity.keras.ConstantSparsity /
// PolynomialDecay). `step` is the number of optimizer steps (batches) already taken; the
// mask is recomputed before the step's forward pass when shouldPrune(step) holds:
//   shouldPrune(step) = step >= beginStep && (endStep == -1 || step <= endStep)
//                       && (step - beginStep) % frequency == 0
//   polynomialDecay:  p = min(1, max(0, (step - beginStep) / (endStep - beginStep)))
//                     sparsity = (initial - final) · (1 - p)^power + final
//   constantSparsity: sparsity = target
import { assertFinite, assertInt } from '../native/validate.js';

export interface PruningSchedule {
  readonly kind: 'constantSparsity' | 'polynomialDecay';
  readonly beginStep: number;
  /** Last step at which masks may change; -1 = never stops (constantSparsity only). */
  readonly endStep: number;
  readonly frequency: number;
  /** The final sparsity this schedule reaches. */
  readonly finalSparsity: number;
  shouldPrune(step: number): boolean;
  sparsityAt(step: number): number;
}

export function assertSparsity(value: unknown, name: string): asserts value is number {
  assertFinite(value, name);
  if (!(value >= 0 && value < 1)) throw new RangeError(`${name} must be in [0, 1), got ${value}`);
}

function checkSteps(beginStep: number, endStep: number, frequency: number, allowOpenEnd: boolean): void {
  assertInt(beginStep, 'beginStep', 0);
  assertInt(endStep, 'endStep', -1);
  assertInt(frequency, 'frequency', 1);
  if (endStep === -1 && !allowOpenEnd)
    throw new RangeError('endStep must be >= beginStep (-1 is only allowed for constantSparsity)');
  if (endStep !== -1 && endStep < beginStep)
    throw new RangeError(`endStep (${endStep}) must be >= beginStep (${beginStep})`);
}

function inRange(step: number, begin: number, end: number, freq: number): boolean {
  return step >= begin && (end === -1 || step <= end) && (step - begin) % freq === 0;
}

export function constantSparsity(
  targetSparsity: number,
  beginStep: number,
  endStep = -1,
  frequency = 100,
): PruningSchedule {
  assertSparsity(targetSparsity, 'targetSparsity');
  checkSteps(beginStep, endStep, frequency, true);
  return {
    kind: 'constantSparsity',
    beginStep,
    endStep,
    frequency,
    finalSparsity: targetSparsity,
    shouldPrune: (step) => inRange(step, beginStep, endStep, frequency),
    sparsityAt: () => targetSparsity,
  };
}

export function polynomialDecay(
  initialSparsity: number,
  finalSparsity: number,
  beginStep: number,
  endStep: number,
  power = 3,
  frequency = 100,
): PruningSchedule {
  assertSparsity(initialSparsity, 'initialSparsity');
  assertSparsity(finalSparsity, 'finalSparsity');
  checkSteps(beginStep, endStep, frequency, false);
  if (endStep === beginStep)
    throw new RangeError(`endStep must be > beginStep for polynomialDecay, got ${endStep} = ${beginStep}`);
  assertFinite(power, 'power');
  if (!(power > 0)) throw new RangeError(`power must be > 0, got ${power}`);
  return {
    kind: 'polynomialDecay',
    beginStep,
    endStep,
    frequency,
    finalSparsity,
    shouldPrune: (step) => inRange(step, beginStep, endStep, frequency),
    sparsityAt: (step) => {
      const p = Math.min(1, Math.max(0, (step - beginStep) / (endStep - beginStep)));
      return (initialSparsity - finalSparsity) * (1 - p) ** power + finalSparsity;
    },
  };
}
