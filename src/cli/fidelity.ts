// How close a converted model's outputs are to the float model's, over a set of inputs:
// top-1 agreement (for outputs whose last dimension has more than one class), cosine
// similarity and maximum absolute error over all output values.
import type { tf } from '../backend/float.js';

export interface Fidelity {
  samples: number;
  /** Fraction of rows whose argmax agrees (undefined when the output has one column). */
  top1Agreement?: number;
  cosine: number;
  maxAbsError: number;
}

export function fidelityOfArrays(ref: Float32Array[], got: Float32Array[], classes: number): Fidelity {
  if (ref.length !== got.length) throw new RangeError(`fidelity: ${ref.length} reference outputs vs ${got.length}`);
  let dot = 0, nr = 0, ng = 0, maxAbs = 0, rows = 0, agree = 0;
  for (let s = 0; s < ref.length; s++) {
    const r = ref[s]!, q = got[s]!;
    if (r.length !== q.length) throw new RangeError(`fidelity: sample ${s} has ${q.length} values, the float model ${r.length}`);
    for (let i = 0; i < r.length; i++) {
      const a = r[i]!, b = q[i]!;
      dot += a * b;
      nr += a * a;
      ng += b * b;
      const d = Math.abs(a - b);
      if (d > maxAbs || Number.isNaN(d)) maxAbs = d;
    }
    if (classes > 1) {
      for (let o = 0; o + classes <= r.length; o += classes) {
        let ia = 0, ib = 0;
        for (let c = 1; c < classes; c++) {
          if (r[o + c]! > r[o + ia]!) ia = c;
          if (q[o + c]! > q[o + ib]!) ib = c;
        }
        rows++;
        if (ia === ib) agree++;
      }
    }
  }
  const cosine = nr === 0 && ng === 0 ? 1 : dot / (Math.sqrt(nr) * Math.sqrt(ng) || 1);
  return { samples: ref.length, top1Agreement: classes > 1 ? agree / rows : undefined, cosine, maxAbsError: maxAbs };
}

/** Fidelity of tfjs output tensors (one per sample, same shapes). */
export function fidelity(ref: tf.Tensor[], got: tf.Tensor[]): Fidelity {
  const classes = ref[0]?.shape.at(-1) ?? 1;
  return fidelityOfArrays(
    ref.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>)),
    got.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>)),
    classes,
  );
}
