// How close a converted model's outputs are to the float model's — over EVERY output, since a
// model's first output may be a scalar score while the output that matters is a 1024-value
// embedding. Per output:
//   ≥ 16 values: cosine similarity over all samples (score = cosine), unless the reference
//                is all but zero (max |ref| < 1e-3: a cosine of noise) — then as below;
//   fewer:       cosine says little about one or two numbers, so the score is
//                1 − max |q − ref| / max(max |ref|, 1) — the error relative to the output's
//                magnitude when it exceeds 1 (box coordinates in pixels), the absolute error
//                below (a probability of 1e-9 returned as 0.002 is off by 0.002, not by 2·10⁶
//                times; a normalized coordinate off by 0.01 scores 0.99);
// plus max abs error and top-1 agreement (outputs whose last dimension has > 1 class). The
// headline is the minimum score over outputs; a tolerance is a minimum score (e.g. 0.99).
// NaN where the reference is finite scores −∞.

import type { Graph } from '../model/ir.js';

/** Outputs with at least this many values are compared by cosine. */
export const COSINE_MIN_VALUES = 16;
/**
 * An output whose reference never exceeds this in magnitude on the evaluation inputs (a
 * segmentation mask of ~1e-6 on an image with no person) has no direction to compare: its
 * cosine measures noise. It is scored like a small output (absolute error below magnitude 1).
 */
export const NEAR_ZERO = 1e-3;
/** Floor of the magnitude small outputs' errors are relative to: below it the error is absolute. */
export const RELATIVE_ERROR_FLOOR = 1;

/** A small output's error relative to its magnitude (absolute below RELATIVE_ERROR_FLOOR); its score is 1 − this. */
export function relativeError(maxAbsError: number, maxReference: number): number {
  return maxAbsError / Math.max(maxReference, RELATIVE_ERROR_FLOOR);
}

/**
 * How a tensor of g is scored: its name and its classes (the last dimension when the tensor has
 * two or more dimensions and it is over 1: top-1 agreement is measured over it).
 */
export function tensorSpec(g: Graph, name: string): { name: string; classes: number } {
  const s = g.tensors.get(name)?.shape;
  return { name, classes: s && s.length >= 2 && s[s.length - 1]! > 1 ? s[s.length - 1]! : 1 };
}

export interface OutputFidelity {
  output: string;
  /** Values per sample. */
  values: number;
  metric: 'cosine' | 'relative error';
  score: number;
  cosine: number;
  maxAbsError: number;
  /** max |q − ref| / max(max |ref|, 1). */
  relativeError: number;
  top1Agreement?: number;
  /** Comes out of a selection op (NMS, top-k): not in the headline when continuous outputs exist. */
  discrete?: boolean;
  /** The accuracy guard's prediction for inputs it has not seen (small outputs: predictedScore). */
  predicted?: number;
  /**
   * Cosine outputs, in the accuracy guard: the pooled cosine predicted for a held-out set of
   * inputs as large as the guard's (predictedCosine).
   */
  heldOut?: number;
}

export interface ModelFidelity {
  samples: number;
  /** Minimum score over outputs (the continuous ones, when the model has any). */
  minScore: number;
  /** The output with the minimum score. */
  worstOutput: string;
  outputs: OutputFidelity[];
}

/** Fidelity of one output: ref[s] and got[s] are sample s's values; `classes` is the last dimension. */
export function outputFidelity(
  output: string,
  ref: readonly Float32Array[],
  got: readonly Float32Array[],
  classes = 1,
): OutputFidelity {
  if (ref.length !== got.length || ref.length === 0)
    throw new RangeError(`output '${output}': ${ref.length} reference samples vs ${got.length}`);
  let dot = 0,
    rr = 0,
    gg = 0,
    maxAbs = 0,
    maxRef = 0,
    rows = 0,
    agree = 0,
    nanMismatch = false;
  for (let s = 0; s < ref.length; s++) {
    const r = ref[s]!,
      q = got[s]!;
    if (r.length !== q.length)
      throw new RangeError(`output '${output}': sample ${s} has ${q.length} values, the float model ${r.length}`);
    for (let i = 0; i < r.length; i++) {
      const a = r[i]!,
        b = q[i]!;
      if (Number.isNaN(b) !== Number.isNaN(a)) {
        nanMismatch = true;
        continue;
      }
      if (!Number.isFinite(a) || !Number.isFinite(b)) {
        if (a !== b) nanMismatch = true;
        continue;
      }
      dot += a * b;
      rr += a * a;
      gg += b * b;
      maxAbs = Math.max(maxAbs, Math.abs(a - b));
      maxRef = Math.max(maxRef, Math.abs(a));
    }
    if (classes > 1 && r.length % classes === 0) {
      for (let o = 0; o < r.length; o += classes) {
        let ia = 0,
          ib = 0;
        for (let c = 1; c < classes; c++) {
          if (r[o + c]! > r[o + ia]!) ia = c;
          if (q[o + c]! > q[o + ib]!) ib = c;
        }
        rows++;
        if (ia === ib) agree++;
      }
    }
  }
  const cosine = rr === 0 && gg === 0 ? 1 : rr === 0 || gg === 0 ? 0 : dot / Math.sqrt(rr * gg);
  const relErr = relativeError(maxAbs, maxRef);
  const values = ref[0]!.length;
  const metric = values >= COSINE_MIN_VALUES && maxRef >= NEAR_ZERO ? 'cosine' : 'relative error';
  const score = nanMismatch ? -Infinity : metric === 'cosine' ? cosine : 1 - relErr;
  return {
    output,
    values,
    metric,
    score,
    cosine,
    maxAbsError: nanMismatch ? Infinity : maxAbs,
    relativeError: relErr,
    ...(rows ? { top1Agreement: agree / rows } : {}),
  };
}

/** Fidelity over every output: ref[s][o] / got[s][o] are sample s's values of output o. */
export function modelFidelity(
  outputs: readonly { name: string; classes?: number; discrete?: boolean }[],
  ref: readonly Float32Array[][],
  got: readonly Float32Array[][],
): ModelFidelity {
  if (!outputs.length) throw new RangeError('the model has no outputs to compare');
  const per = outputs.map((o, i) => ({
    ...outputFidelity(
      o.name,
      ref.map((r) => r[i]!),
      got.map((r) => r[i]!),
      o.classes,
    ),
    ...(o.discrete ? { discrete: true } : {}),
  }));
  // Discrete outputs (after a selection: src/quant/measure-points.ts) are shown, but the headline
  // is the continuous outputs' when the model has any.
  const headline = per.some((p) => !p.discrete) ? per.filter((p) => !p.discrete) : per;
  let worst = headline[0]!;
  for (const p of headline) if (p.score < worst.score) worst = p;
  return { samples: ref.length, minScore: worst.score, worstOutput: worst.output, outputs: per };
}

/** Standard deviations of the per-sample losses a new input is allowed to be worse by (three sigma, set a priori). */
export const TAIL_SIGMAS = 3;

/**
 * The score a small output (scored by relative error) is predicted to keep on inputs not among
 * the samples. Its score is a maximum over samples, which grows with the number of inputs seen:
 * a model whose eight samples lose 0.001 to 0.007 loses more than 0.01 on some inputs, though
 * on none of those eight. Per sample, the loss 1 − score of that sample alone; the prediction
 * is the worst sample's loss or mean + TAIL_SIGMAS·sd of the losses, whichever is larger. (A
 * cosine pooled over samples weighs each by its energy and does not grow with their number.)
 */
export function predictedScore(
  output: string,
  ref: readonly Float32Array[],
  got: readonly Float32Array[],
  classes = 1,
): number {
  const losses = ref.map((r, s) => 1 - outputFidelity(output, [r], [got[s]!], classes).score);
  if (losses.some((l) => !Number.isFinite(l))) return -Infinity;
  const n = losses.length;
  const mean = losses.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(losses.reduce((a, l) => a + (l - mean) ** 2, 0) / (n - 1)) : 0;
  return 1 - Math.max(Math.max(...losses), mean + TAIL_SIGMAS * sd);
}

/**
 * The pooled cosine an output of ≥ 16 values is predicted to keep on a held-out set of inputs
 * as many as the samples. The pooled cosine weighs each sample by its energy |ref|², so with
 * eight samples a few strong ones decide it: a held-out set whose strong samples lose more
 * scores lower (a face detector's scores: 0.9952 on the photos it was converted with, 0.9895 on
 * photos of other people, its samples' own cosines spreading from 0.984 to 0.998). The pooled
 * loss L = 1 − cosine is, to first order, a ratio of sums over samples, Σ e_s·l_s / Σ e_s (e_s a
 * sample's energy, l_s its own loss); another set of n samples differs from it by about
 * sd(ê_s·(l_s − L))·√(1/n + 1/n) (the delta method for a ratio estimator, ê_s = e_s over the mean
 * energy), this set's own error and the other's. The prediction is 1 − (L + TAIL_SIGMAS times
 * that); with fewer than two samples of non-zero energy, the pooled cosine itself.
 */
export function predictedCosine(ref: readonly Float32Array[], got: readonly Float32Array[]): number {
  const per: { dot: number; rr: number; gg: number }[] = [];
  for (let s = 0; s < ref.length; s++) {
    const r = ref[s]!,
      q = got[s]!;
    let dot = 0,
      rr = 0,
      gg = 0;
    for (let i = 0; i < r.length; i++) {
      const a = r[i]!,
        b = q[i]!;
      // Non-finite values are outputFidelity's to judge (a NaN scores −∞ there).
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      dot += a * b;
      rr += a * a;
      gg += b * b;
    }
    if (rr > 0) per.push({ dot, rr, gg });
  }
  const n = per.length;
  const sum = (f: (x: { dot: number; rr: number; gg: number }) => number) => per.reduce((a, x) => a + f(x), 0);
  const rr = sum((x) => x.rr),
    gg = sum((x) => x.gg);
  if (n === 0 || gg === 0) return n === 0 ? 1 : 0;
  const pooled = sum((x) => x.dot) / Math.sqrt(rr * gg);
  if (n < 2) return pooled;
  const L = 1 - pooled;
  const meanEnergy = rr / n;
  const d = per.map((x) => (x.rr / meanEnergy) * (x.gg === 0 ? 1 - L : 1 - x.dot / Math.sqrt(x.rr * x.gg) - L));
  const dm = d.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(d.reduce((a, v) => a + (v - dm) ** 2, 0) / (n - 1));
  return 1 - (L + TAIL_SIGMAS * sd * Math.sqrt(2 / n));
}

/**
 * The accuracy guard's view of a comparison: modelFidelity with each output's prediction for
 * inputs the guard has not seen filled in (small outputs: predictedScore; cosine outputs:
 * predictedCosine), and the score it is judged by (guardScore, minimum over outputs).
 */
export function guardFidelity(
  specs: readonly { name: string; classes: number }[],
  ref: readonly Float32Array[][],
  got: readonly Float32Array[][],
  allowance = 0,
): { fidelity: ModelFidelity; score: number } {
  const fidelity = modelFidelity(specs, ref, got);
  for (const [k, p] of fidelity.outputs.entries()) {
    const r = ref.map((x) => x[k]!),
      q = got.map((x) => x[k]!);
    if (p.metric === 'relative error') p.predicted = predictedScore(p.output, r, q, specs[k]!.classes);
    else p.heldOut = predictedCosine(r, q);
  }
  return { fidelity, score: Math.min(...fidelity.outputs.map((p) => guardScore(p, allowance))) };
}

/**
 * An output's score as the guard judges it: the lower of its score, its prediction for unseen
 * inputs and its held-out prediction plus `allowance`. The guard aims its scores a margin above
 * the tolerance because held-out inputs score differently; a held-out prediction already
 * models that difference, so it is held to the tolerance itself: the guard passes the margin
 * as the allowance.
 */
export function guardScore(p: OutputFidelity, allowance = 0): number {
  return Math.min(p.score, p.predicted ?? Infinity, (p.heldOut ?? Infinity) + allowance);
}
