// Why the accuracy guard kept layers float: two measurements on its own samples that bound
// what any quantization of the model can reach, scored as the guard scores.
//   weightsOnly: every weight as the converter stored it (int8 per channel, or 4-bit),
//                activations float — what the weights alone cost. Below the target, no
//                choice of activation precision brings every layer back: some weights must
//                stay float.
//   inputNoise:  the float model on its inputs plus half an 8-bit step of each float input's
//                range as noise (a fixed pattern) — how finely the model's outputs resolve at
//                all. Below the tolerance, the tolerance asks more of the converted model than
//                the float model gives for a picture stored in 8 bits; a looser --tolerance is
//                the honest fix, not more float layers.
// On 35 published models with float layers (bench/zoo/RESULTS-precision.md), weights alone broke
// the tolerance on 19 and the input noise on 6: the guard's float set was the price of the
// tolerance there, and the report says so.
import { tf } from '../backend/float.js';
import { seededRandom } from '../data/random.js';
import { disposeConstants, executeAsync } from '../model/execute.js';
import type { Constant, Graph } from '../model/ir.js';
import { guardFidelity } from './output-fidelity.js';

export interface PrecisionFloor {
  /** The guard's score with every quantized weight as stored and float activations. */
  weightsOnly: number;
  /** The float model's score on its guard inputs plus ½ an 8-bit step of noise. */
  inputNoise: number;
}

/** The measure points of the float graph (control-flow regions run whole in tfjs-converter). */
export async function floatOutputs(g: Graph, x: Record<string, tf.Tensor>, points: string[]): Promise<Float32Array[]> {
  const outs = await executeAsync(g, x, { outputs: points });
  const r = outs.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>));
  outs.forEach((t) => t.dispose());
  return r;
}

/**
 * The precision floor of quantized graph q (its weights as quantized, before the guard moves
 * any back) against its float reference, on the guard samples `data` at the measure points
 * `points` (specs: their scoring), whose float values are `ref`; `allowance` as the guard
 * gives guardScore.
 */
export async function precisionFloor(
  q: Graph,
  reference: Graph,
  data: readonly Record<string, tf.Tensor>[],
  points: string[],
  specs: readonly { name: string; classes: number }[],
  ref: readonly Float32Array[][],
  allowance: number,
): Promise<PrecisionFloor> {
  // The reference with the quantized weights' stored values in place of its own.
  const replaced = new Map<string, Constant>();
  for (const [name, c] of q.constants) {
    const orig = reference.constants.get(name);
    if (!c.quantization?.affine || !orig || orig.dtype !== 'float32' || c.data.length !== orig.data.length) continue;
    replaced.set(name, { ...orig, data: c.data });
  }
  const weighted: Graph = { ...reference, constants: new Map([...reference.constants, ...replaced]) };
  const gotWeights: Float32Array[][] = [];
  try {
    for (const x of data) gotWeights.push(await floatOutputs(weighted, x, points));
  } finally {
    disposeConstants({ ...reference, constants: replaced });
  }
  const gotNoise: Float32Array[][] = [];
  for (const [i, x] of data.entries()) {
    const noisy = withInputNoise(x, i);
    try {
      gotNoise.push(await floatOutputs(reference, noisy, points));
    } finally {
      for (const [k, t] of Object.entries(noisy)) if (t !== x[k]) t.dispose();
    }
  }
  return {
    weightsOnly: guardFidelity(specs, ref, gotWeights, allowance).score,
    inputNoise: guardFidelity(specs, ref, gotNoise, allowance).score,
  };
}

/**
 * x with uniform noise of ±½ · (max − min) / 255 on each float32 input (others as they are; the
 * float ones are new tensors), the noise a fixed pattern per sample index.
 */
export function withInputNoise(x: Record<string, tf.Tensor>, sample: number): Record<string, tf.Tensor> {
  const rng = seededRandom(0x5eed + sample);
  return Object.fromEntries(
    Object.entries(x).map(([k, t]) => {
      if (t.dtype !== 'float32') return [k, t];
      const d = t.dataSync() as Float32Array;
      let lo = Infinity,
        hi = -Infinity;
      for (const v of d) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const step = Number.isFinite(hi - lo) ? (hi - lo) / 255 : 0;
      const noisy = new Float32Array(d.length);
      for (let i = 0; i < d.length; i++) noisy[i] = d[i]! + step * (rng() - 0.5);
      return [k, tf.tensor(noisy, t.shape, 'float32')];
    }),
  );
}
