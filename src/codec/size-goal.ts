// The size goal of the pruning rounds: a compression ratio the user decides up front (float32
// bytes of every weight / bytes of the saved files, every byte counted). Each further round of
// pruning costs accuracy, so the rounds stop as soon as the file reaches the goal; and a round
// whose step would land far past it takes a smaller step, the one that just reaches it.
import { assertFinite } from '../native/validate.js';

/**
 * A shortened step aims this far past the goal. The size of a step is estimated before its
 * retraining (magnitude-pruned, clustered, encoded); the retraining then picks which weights
 * survive anew and moves the Huffman-coded size by a few percent either way. Aiming 5% past
 * the goal makes the round land past it instead of needing one more round for the last percent.
 */
export const STEP_AIM = 1.05;

/** Halvings of the step's search; 2^-7 of the way in log kept fraction is below the 0.1% rounding. */
const BISECTIONS = 7;

/** The ratio of the saved file at these per-layer sparsities, or of the model as it is (absent). */
export type RatioAt = (sparsity?: Readonly<Record<string, number>>) => Promise<number>;

export function assertTargetRatio(value: unknown, name = 'prune.targetRatio'): asserts value is number {
  assertFinite(value, name);
  if (!((value as number) > 1))
    throw new RangeError(`${name} must be a compression ratio above 1 (40 = a 40× smaller file), got ${value}`);
}

/**
 * Per layer, the sparsity a fraction t of the way from `from` to `to`, on a log scale of the
 * kept fraction (t = 0.5 from 100% towards 4% kept: 20% kept), because size and accuracy follow
 * the fraction kept. Rounded to 0.1% sparsity and never outside [from, to].
 */
export function partialStep(
  from: Readonly<Record<string, number>>,
  to: Readonly<Record<string, number>>,
  t: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(to)) {
    const f = from[name] ?? 0;
    const kept = Math.pow(1 - f, 1 - t) * Math.pow(1 - s, t);
    const rounded = Math.round(1000 * (1 - kept)) / 1000;
    out[name] = Math.min(Math.max(rounded, Math.min(f, s)), Math.max(f, s));
  }
  return out;
}

export interface GoalStep {
  /** The sparsities to retrain to. */
  targets: Record<string, number>;
  /** The estimated ratio at those sparsities (before retraining). */
  estimate: number;
  /** True when the step was cut short of the targets asked for. */
  shortened: boolean;
}

/**
 * The step of a round under a size goal: `to` when its estimated ratio is at most STEP_AIM ×
 * `targetRatio` (it does not overshoot, or only by the margin aimed for); otherwise the smallest
 * step towards `to` (partialStep, by bisection) whose estimate reaches STEP_AIM × targetRatio.
 * The estimate is assumed to grow with the step (more pruned, smaller file).
 */
export async function stepTowardGoal(
  from: Readonly<Record<string, number>>,
  to: Readonly<Record<string, number>>,
  targetRatio: number,
  ratioAt: RatioAt,
): Promise<GoalStep> {
  assertTargetRatio(targetRatio, 'targetRatio');
  const aim = STEP_AIM * targetRatio;
  const full = await ratioAt(to);
  if (full <= aim) return { targets: { ...to }, estimate: full, shortened: false };
  let lo = 0,
    hi = 1,
    best = { targets: { ...to }, estimate: full };
  for (let i = 0; i < BISECTIONS; i++) {
    const mid = (lo + hi) / 2;
    const targets = partialStep(from, to, mid);
    const estimate = await ratioAt(targets);
    if (estimate >= aim) {
      hi = mid;
      best = { targets, estimate };
    } else {
      lo = mid;
    }
  }
  return { ...best, shortened: true };
}
