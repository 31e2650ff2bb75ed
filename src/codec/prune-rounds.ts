// Stage 1 of Deep Compression: prune + retrain, in rounds. One round ramps each layer from the
// sparsity it has to its target (polynomial decay, masks kept through training), optionally
// averaging the weights over the last epochs. With sparsity 'auto', a round's targets come from
// the sensitivity scan of the model as it is (Han et al. prune → retrain → prune further), and a
// validation check after each round's retraining rolls the round back and retries it with the
// steps halved (in the log of the kept fraction) when the retrained model lost more than the allowed drop from the float baseline.
// With a size goal (size-goal.ts) the rounds stop once the saved file is small enough.
import { tf } from '../backend/float.js';
import { trainModel, type TrainOptions } from '../data/models.js';
import { assertFinite, assertInt } from '../native/validate.js';
import { prune, prunableWeights, stripPruning } from '../prune/prune.js';
import { assertSparsity, polynomialDecay } from '../prune/schedule.js';
import { trainDistilled, type DistillOptions } from './distill.js';
import { sensitivityScan, type SensitivityOptions, type SensitivityScan } from '../prune/sensitivity.js';
import { assertTargetRatio, stepTowardGoal, type RatioAt } from './size-goal.js';

export interface RetrainSettings {
  epochs: number;
  rampFraction: number;
  frequency: number;
  averageEpochs: number;
  learningRateDecay: number;
  training?: Omit<TrainOptions, 'epochs' | 'callbacks' | 'onProgress'>;
  /** Distil from the teacher's soft targets (teacherTargets on xTrain, rows aligned) instead of the labels alone. */
  distill?: { options: DistillOptions; teacher: tf.Tensor };
}

/** One attempt at one round: the sparsities tried and what validation said after retraining. */
export interface PruneRoundRecord {
  round: number;
  /** Per layer, the sparsity retrained to. */
  targets: Record<string, number>;
  /** Validation accuracy after this attempt's retraining (when validate was given). */
  validation?: number;
  /** False when the check rolled the attempt back. */
  accepted: boolean;
  /** With a size goal: the saved file's ratio estimated at `targets` before retraining. */
  estimatedRatio?: number;
  /** With a size goal: true when the step was cut short so as not to overshoot the goal. */
  shortened?: boolean;
  /** With a size goal, on a kept attempt: the saved file's ratio measured after retraining. */
  ratio?: number;
}

/**
 * Prunes `model`'s layers from `from` to `to` (absent = 0) while retraining; the weights end
 * with exactly the `to` sparsities (masks stripped).
 */
export async function retrainRound(
  model: tf.LayersModel,
  xTrain: tf.Tensor,
  yTrain: tf.Tensor,
  from: Readonly<Record<string, number>>,
  to: Readonly<Record<string, number>>,
  r: RetrainSettings,
  log: (message: string) => void,
): Promise<void> {
  const batchSize = r.training?.batchSize ?? 64;
  const perEpoch = Math.ceil(xTrain.shape[0] / batchSize);
  const end = Math.max(1, Math.floor(perEpoch * r.epochs * r.rampFraction));
  const layers: Record<string, { schedule: ReturnType<typeof polynomialDecay> } | false> = {};
  for (const k of prunableWeights(model)) {
    const s = to[k.layerName] ?? 0;
    const s0 = Math.min(from[k.layerName] ?? 0, s);
    layers[k.layerName] = s === 0 ? false : { schedule: polynomialDecay(s0, s, 0, end, 3, Math.min(r.frequency, end)) };
  }
  const rampEpochs = Math.ceil(end / perEpoch);
  if (r.averageEpochs > 0 && r.epochs - r.averageEpochs < rampEpochs) {
    throw new RangeError(
      `prune.averageEpochs (${r.averageEpochs}) must leave the ${rampEpochs} epochs of the sparsity ramp out of the average`,
    );
  }
  const callbacks: tf.CustomCallbackArgs[] = [];
  if (r.learningRateDecay !== 1) {
    let lr = r.training?.learningRate ?? (r.training?.optimizer === 'adam' ? 0.001 : 0.05);
    callbacks.push({
      onEpochEnd: async () => {
        lr *= r.learningRateDecay;
        const opt = model.optimizer as unknown as { setLearningRate?: (v: number) => void };
        if (typeof opt.setLearningRate !== 'function')
          throw new TypeError('prune.learningRateDecay needs an optimizer with setLearningRate (sgd)');
        opt.setLearningRate(lr);
      },
    });
  }
  const distill = r.distill;
  const handle = prune(model, { layers });
  let avgSum: Float64Array[] | undefined;
  const how = distill ? `, distilled at T ${distill.options.temperature}, weight ${distill.options.weight}` : '';
  log(
    `pruning: ${Object.entries(to)
      .map(([n, s]) => `${n} ${(100 * (1 - s)).toFixed(1)}% kept`)
      .join(', ')}; ${r.epochs} epochs${how}`,
  );
  const train: typeof trainModel = distill
    ? (m, x, y, t) => trainDistilled(m, x, y, distill.teacher, distill.options, t)
    : trainModel;
  await train(model, xTrain, yTrain, {
    ...r.training,
    epochs: r.epochs,
    callbacks: [handle.callback(), ...callbacks],
    onProgress: (p) => {
      if (r.averageEpochs > 0 && p.epoch > p.epochs - r.averageEpochs) {
        const w = model.getWeights();
        if (!avgSum) avgSum = w.map((t) => Float64Array.from(t.dataSync()));
        else
          w.forEach((t, i) => {
            const d = t.dataSync();
            const a = avgSum![i]!;
            for (let j = 0; j < d.length; j++) a[j]! += d[j]!;
          });
      }
      log(`  prune-retrain epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
    },
  });
  if (avgSum) {
    const shapes = model.getWeights().map((t) => t.shape);
    const avg = avgSum.map((a, i) =>
      tf.tensor(
        Float32Array.from(a, (v) => v / r.averageEpochs),
        shapes[i],
        'float32',
      ),
    );
    model.setWeights(avg);
    tf.dispose(avg);
    log(`  weights averaged over the last ${r.averageEpochs} retraining epochs`);
  }
  stripPruning(model);
}

export interface PruneRoundsOptions {
  /** The first round's targets (fixed sparsities), or 'auto' to scan before every round. */
  targets: Record<string, number> | 'auto';
  /** Validation accuracy; needed by 'auto' and by maxRetrainedDrop. */
  validate?: (model: tf.LayersModel) => number | Promise<number>;
  /** Options of each round's scan (with 'auto'). */
  scan?: Omit<SensitivityOptions, 'evaluate' | 'floor' | 'onProgress'>;
  rounds: number;
  /**
   * The check after each round's retraining: validation accuracy may be at most this much
   * below the float model's, or 'noise': the standard error of the float model's
   * validation accuracy (see validationTolerance), which needs validationSize.
   */
  maxRetrainedDrop?: number | 'noise';
  /** Digits in the validation split (for maxRetrainedDrop 'noise'). */
  validationSize?: number;
  /**
   * Per round, each layer keeps at least this fraction of the weights it kept before the round
   * (default 0: no cap, the round goes straight to the scan's choice). 0.5 = the kept fraction
   * at most halves per round: steps small enough for the retraining to recover.
   */
  minRoundKeep?: number;
  backoffs: number;
  retrain: RetrainSettings;
  /**
   * The size goal: the rounds stop as soon as the saved file's ratio (ratioAt() on the model as
   * it is) reaches targetRatio, and a round whose step would overshoot it takes a smaller one
   * (stepTowardGoal).
   */
  size?: { targetRatio: number; ratioAt: RatioAt };
}

export interface PruneRoundsResult {
  /** The per-layer sparsities the model ends with. */
  sparsity: Record<string, number>;
  /** Every round's scan (with 'auto'). */
  scans: SensitivityScan[];
  attempts: PruneRoundRecord[];
  /** The validation accuracy a round was allowed to lose (absent without a check). */
  tolerance?: number;
  /** With a size goal: the ratio measured after the last kept round (before any round: the float model's). */
  ratio?: number;
}

/**
 * The check's tolerance derived from the validation split's own noise: the binomial standard
 * error sqrt(p(1 − p)/n) of the float model's validation accuracy p on n digits. Not less:
 * the check compares the float model with a pruned, retrained one, and two such models differ
 * on tens of the digits (d of n), so their paired difference has a standard error of
 * sqrt(d)/n, as large as one model's (on 1,500 digits at 97%: 0.44 points for one model,
 * 0.37–0.47 for 30–50 disagreements). Half of it (0.19 points) rolled back a LeNet-5 round at
 * 50% kept — a step pruning is known to recover from — over 3 validation digits.
 */
export function validationTolerance(accuracy: number, n: number): number {
  assertFinite(accuracy, 'validation accuracy');
  if (!(accuracy >= 0 && accuracy <= 1)) throw new RangeError(`validation accuracy must be in [0, 1], got ${accuracy}`);
  assertInt(n, 'validationSize', 1);
  return Math.sqrt((accuracy * (1 - accuracy)) / n);
}

/**
 * Caps each layer's step: its kept fraction may fall to at most `minKeep` times what it kept
 * before (rounded to 0.1% sparsity, never below where the layer is).
 */
export function capStep(
  from: Readonly<Record<string, number>>,
  to: Readonly<Record<string, number>>,
  minKeep: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(to)) {
    const f = from[name] ?? 0;
    const cap = Math.floor(1000 * (1 - (1 - f) * minKeep)) / 1000;
    out[name] = Math.max(f, Math.min(s, cap));
  }
  return out;
}

/**
 * The retry after a failed check: per layer, the kept fraction halfway between where the layer
 * was and its target on a log scale (the geometric mean: from 100% kept towards 6%, 24.5%),
 * because accuracy follows the fraction kept, not removed. Rounded to 0.1% sparsity.
 */
function backOff(from: Readonly<Record<string, number>>, to: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(to)) {
    const kept = Math.sqrt((1 - (from[name] ?? 0)) * (1 - s));
    out[name] = Math.round(1000 * (1 - kept)) / 1000;
  }
  return out;
}

const same = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  Object.keys({ ...a, ...b }).every((k) => (a[k] ?? 0) === (b[k] ?? 0));

export function checkRoundsOptions(o: {
  rounds?: number;
  maxRetrainedDrop?: number | 'noise';
  backoffs?: number;
  minRoundKeep?: number;
  validationSize?: number;
  targetRatio?: number;
  auto: boolean;
  validate: boolean;
}): void {
  const rounds = o.rounds ?? 1;
  assertInt(rounds, 'prune.rounds', 1, 100);
  if (o.minRoundKeep !== undefined) {
    assertFinite(o.minRoundKeep, 'prune.minRoundKeep');
    if (!(o.minRoundKeep >= 0 && o.minRoundKeep < 1))
      throw new RangeError(`prune.minRoundKeep must be in [0, 1), got ${o.minRoundKeep}`);
  }
  if (o.targetRatio !== undefined) {
    assertTargetRatio(o.targetRatio);
    if (!o.auto)
      throw new RangeError("prune.targetRatio needs sparsity 'auto' (the rounds scan, then stop at the goal)");
  }
  if (rounds > 1 && !o.auto) throw new RangeError("prune.rounds > 1 needs sparsity 'auto' (each round scans again)");
  assertInt(o.backoffs ?? 1, 'prune.backoffs', 0, 20);
  if (o.maxRetrainedDrop === 'noise') {
    if (o.validationSize === undefined)
      throw new TypeError("prune.maxRetrainedDrop 'noise' needs prune.validationSize: the digits validate() scores");
    assertInt(o.validationSize, 'prune.validationSize', 1);
    if (!o.validate) throw new TypeError('prune.maxRetrainedDrop needs validate(model): accuracy on validation data');
  } else if (o.maxRetrainedDrop !== undefined) {
    assertFinite(o.maxRetrainedDrop, 'prune.maxRetrainedDrop');
    if (!(o.maxRetrainedDrop >= 0 && o.maxRetrainedDrop < 1))
      throw new RangeError(`prune.maxRetrainedDrop must be in [0, 1), got ${o.maxRetrainedDrop}`);
    if (!o.validate) throw new TypeError('prune.maxRetrainedDrop needs validate(model): accuracy on validation data');
  }
}

/**
 * Runs the pruning rounds on `model` (in place). A round whose retrained model fails the
 * check is rolled back to the weights before it and retried halfway (geometrically, in kept
 * fraction) between where each layer was and its target, up to `backoffs` times; when the last retry fails too, the round is
 * dropped and no further round runs (the model keeps the last accepted weights — the float
 * baseline when even the first round failed, which the attempts record shows).
 */
export async function pruneRounds(
  model: tf.LayersModel,
  xTrain: tf.Tensor,
  yTrain: tf.Tensor,
  o: PruneRoundsOptions,
  log: (message: string) => void,
): Promise<PruneRoundsResult> {
  const scans: SensitivityScan[] = [];
  const attempts: PruneRoundRecord[] = [];
  let current: Record<string, number> = {};
  const baseline = o.maxRetrainedDrop !== undefined ? await o.validate!(model) : undefined;
  const tolerance =
    o.maxRetrainedDrop === 'noise' ? validationTolerance(baseline!, o.validationSize!) : o.maxRetrainedDrop;
  if (tolerance !== undefined)
    log(
      `check after each round: validation may lose at most ${(100 * tolerance).toFixed(2)} points` +
        (o.maxRetrainedDrop === 'noise'
          ? ` (the standard error of the float model's ${(100 * baseline!).toFixed(2)}% on ${o.validationSize} digits)`
          : ''),
    );
  let ratio = o.size ? await o.size.ratioAt() : undefined;
  for (let round = 1; round <= o.rounds; round++) {
    if (o.size) {
      log(`saved file now ${ratio!.toFixed(1)}× smaller than float32 (size goal ${o.size.targetRatio}×)`);
      if (ratio! >= o.size.targetRatio) {
        log(`size goal reached: no further round (each would cost accuracy the goal does not ask for)`);
        break;
      }
    }
    let targets: Record<string, number>;
    if (o.targets === 'auto') {
      const scan = await sensitivityScan(model, {
        ...o.scan!,
        evaluate: o.validate!,
        floor: current,
        onProgress: (layer, p) =>
          log(
            `  sensitivity ${layer} ${(100 * p.sparsity).toFixed(0)}%: validation accuracy ${(100 * p.accuracy).toFixed(2)}%`,
          ),
      });
      scans.push(scan);
      targets = Object.fromEntries(scan.layers.map((l) => [l.layer, l.chosen]));
    } else {
      targets = { ...o.targets };
    }
    if (o.minRoundKeep) targets = capStep(current, targets, o.minRoundKeep);
    for (const [n, s] of Object.entries(targets)) assertSparsity(s, `sparsity['${n}']`);
    if (same(targets, current)) {
      log(`round ${round}: the scan prunes no layer further; stopping`);
      break;
    }
    let goalStep: { estimate: number; shortened: boolean } | undefined;
    if (o.size) {
      const step = await stepTowardGoal(current, targets, o.size.targetRatio, o.size.ratioAt);
      goalStep = step;
      log(
        `round ${round}: estimated ${step.estimate.toFixed(1)}× at the step${step.shortened ? " (shortened: the scan's step would overshoot the size goal)" : ''}`,
      );
      targets = step.targets;
      if (same(targets, current)) {
        log(`round ${round}: the step toward the size goal rounds to no change; stopping`);
        break;
      }
    }
    const before = model.getWeights().map((w) => w.clone());
    let accepted = false;
    try {
      for (let attempt = 0; attempt <= o.backoffs; attempt++) {
        if (attempt > 0) {
          model.setWeights(before);
          targets = backOff(current, targets);
        }
        log(`round ${round}${attempt > 0 ? ` (back-off ${attempt})` : ''}`);
        // The estimate is of the weights before retraining (restored above for a retry).
        const estimatedRatio = !goalStep
          ? undefined
          : attempt === 0
            ? goalStep.estimate
            : await o.size!.ratioAt(targets);
        await retrainRound(model, xTrain, yTrain, current, targets, o.retrain, log);
        const validation = baseline !== undefined ? await o.validate!(model) : undefined;
        accepted = baseline === undefined || baseline - validation! <= tolerance! + 1e-9;
        const record: PruneRoundRecord = { round, targets: { ...targets }, validation, accepted };
        if (goalStep) {
          record.estimatedRatio = estimatedRatio;
          record.shortened = goalStep.shortened;
        }
        attempts.push(record);
        if (validation !== undefined)
          log(
            `  round ${round}: validation ${(100 * validation).toFixed(2)}% against ${(100 * baseline!).toFixed(2)}% before pruning: ${accepted ? 'kept' : 'over the allowed drop'}`,
          );
        if (accepted) break;
      }
      if (!accepted) model.setWeights(before);
    } finally {
      tf.dispose(before);
    }
    if (!accepted) {
      log(`round ${round} rolled back: no sparsity tried kept validation within the allowed drop`);
      break;
    }
    current = targets;
    if (o.size) {
      ratio = await o.size.ratioAt();
      attempts.at(-1)!.ratio = ratio;
    }
  }
  return { sparsity: current, scans, attempts, tolerance, ratio };
}
