// Agreement of one output with its float reference, accumulated over the evaluation inputs:
// cosine similarity over all values (float64 sums; reported for outputs of ≥ 16 values),
// max absolute error (every output), and top-1 agreement per row for classifier outputs.

import { NEAR_ZERO } from '../../src/quant/output-fidelity.js';

export interface OutputAgreement {
  /** Values per sample. */
  size: number;
  /** Over all samples' values together; undefined for outputs under MIN_COSINE_SIZE values. */
  cosine?: number;
  maxAbsError: number;
  /** Largest |reference| value: what the converter's small-output score is relative to. */
  maxReference?: number;
  /** Classifier outputs: share of rows whose argmax agrees. */
  top1?: number;
  /** Non-finite values in the session's output (a NaN makes cosine meaningless). */
  nonFinite: number;
  /** Set when a sample's output has another number of values than the reference's (e.g. NMS kept other boxes). */
  sizeMismatch?: string;
  /**
   * The reference never reaches NEAR_ZERO in magnitude on these inputs (a person mask on pictures
   * with no person): its cosine would measure noise, so none is given and the output's fidelity
   * counts as unmeasured, as the converter's report scores it (src/quant/output-fidelity.ts).
   */
  nearZeroReference?: boolean;
}

/** Outputs with fewer values are compared by max abs error only (a cosine of 2 numbers says little). */
export const MIN_COSINE_SIZE = 16;

export class AgreementAccumulator {
  private dot = 0;
  private refNorm = 0;
  private gotNorm = 0;
  private maxAbs = 0;
  private maxRef = 0;
  private rows = 0;
  private agree = 0;
  private nonFinite = 0;
  private size = 0;
  private mismatch: string | undefined;

  constructor(private readonly classifier: boolean) {}

  /** Adds one sample; `ref` and `got` hold the same number of values, rows of `classes` for classifiers. */
  add(ref: ArrayLike<number>, got: ArrayLike<number>, classes: number): void {
    this.size = Math.max(this.size, ref.length);
    if (ref.length !== got.length) {
      // Not comparable value by value: the output counts as wrong (cosine NaN, error infinite).
      this.mismatch ??= `${got.length} values where the reference has ${ref.length}`;
      return;
    }
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!,
        g = got[i]!;
      if (!Number.isFinite(g)) {
        this.nonFinite++;
        continue;
      }
      this.dot += r * g;
      this.refNorm += r * r;
      this.gotNorm += g * g;
      this.maxAbs = Math.max(this.maxAbs, Math.abs(r - g));
      this.maxRef = Math.max(this.maxRef, Math.abs(r));
    }
    if (this.classifier && classes >= 2) {
      for (let o = 0; o + classes <= ref.length; o += classes) {
        let ar = 0,
          ag = 0;
        for (let k = 1; k < classes; k++) {
          if (ref[o + k]! > ref[o + ar]!) ar = k;
          if (got[o + k]! > got[o + ag]!) ag = k;
        }
        this.rows++;
        if (ar === ag) this.agree++;
      }
    }
  }

  result(): OutputAgreement {
    let cosine: number | undefined;
    const nearZeroReference =
      this.size >= MIN_COSINE_SIZE && !this.nonFinite && !this.mismatch && this.maxRef < NEAR_ZERO;
    if (this.size >= MIN_COSINE_SIZE && !nearZeroReference) {
      if (this.nonFinite || this.mismatch) cosine = Number.NaN;
      else if (this.refNorm === 0 && this.gotNorm === 0) cosine = 1;
      else cosine = this.dot / (Math.sqrt(this.refNorm * this.gotNorm) || Number.MIN_VALUE);
    }
    return {
      size: this.size,
      cosine,
      maxAbsError: this.nonFinite || this.mismatch ? Number.POSITIVE_INFINITY : this.maxAbs,
      maxReference: this.maxRef,
      top1: this.rows ? this.agree / this.rows : undefined,
      nonFinite: this.nonFinite,
      ...(this.mismatch ? { sizeMismatch: this.mismatch } : {}),
      ...(nearZeroReference ? { nearZeroReference } : {}),
    };
  }
}

/** Classifier-like: the model's task says classifier and the output is one row of ≥ 2 scores per sample. */
export function isClassifierOutput(task: string, shape: readonly number[]): boolean {
  return /classifier/.test(task) && shape.length === 2 && shape[1]! >= 2;
}
