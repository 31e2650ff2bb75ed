// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization…" §4.2, empirical
// variant; TF-MOT / AIMET): weight quantization shifts a layer's expected output by
// E[(W − Wq)·x]; measured on calibration data with the float model's own activations x and
// added to the float bias, so E[Wq·x + b'] = E[W·x + b].
import { tf } from '../backend/float.js';
import { execute } from '../model/execute.js';
import type { Constant, Graph, Node } from '../model/ir.js';
import { OPS } from '../model/ops.js';

export interface BiasCorrection {
  node: string;
  bias: string;
  /** The correction added per output channel: its largest magnitude and its mean magnitude. */
  maxAbs: number;
  meanAbs: number;
}

interface Pending {
  node: Node;
  w: Constant;
  wq: Constant;
  bias: Constant;
  sum: Float64Array;
  count: number;
}

/**
 * Accumulates E[(W − Wq)·x] per output channel over batches of the float reference model and
 * applies it to the biases of `q` (nodes whose weight was quantized and whose bias is a
 * constant used by that node alone). `reference` holds the float weights, `q` the quantized.
 */
export class BiasCorrector {
  private readonly pending = new Map<string, Pending[]>();
  constructor(
    private readonly reference: Graph,
    private readonly q: Graph,
  ) {
    const uses = new Map<string, number>();
    for (const n of q.nodes) for (const t of n.inputs) uses.set(t, (uses.get(t) ?? 0) + 1);
    for (const n of reference.nodes) {
      if (n.op !== 'Conv2D' && n.op !== 'DepthwiseConv2dNative' && n.op !== 'MatMul') continue;
      const w = reference.constants.get(n.inputs[1]!),
        wq = q.constants.get(n.inputs[1]!);
      const bias = n.inputs[2] !== undefined ? q.constants.get(n.inputs[2]) : undefined;
      if (!w || !wq?.quantization?.affine || !bias || bias.dtype !== 'float32' || uses.get(bias.name) !== 1) continue;
      const list = this.pending.get(n.inputs[0]!) ?? [];
      list.push({ node: n, w, wq, bias, sum: new Float64Array(bias.data.length), count: 0 });
      this.pending.set(n.inputs[0]!, list);
    }
  }

  get size(): number {
    let s = 0;
    for (const l of this.pending.values()) s += l.length;
    return s;
  }

  private see(t: string, x: tf.Tensor): void {
    for (const p of this.pending.get(t) ?? []) {
      let positions = 0;
      const diff = tf.tidy(() => {
        const n: Node = {
          ...p.node,
          inputs: p.node.inputs.slice(0, 2),
          attrs: { ...p.node.attrs, activation: 'none' },
        };
        const wt = tf.tensor(p.w.data as Float32Array, p.w.shape);
        const wqt = tf.tensor(p.wq.data as Float32Array, p.wq.shape);
        const d = tf.sub(OPS[n.op]!.execute(n, [x, wt])[0]!, OPS[n.op]!.execute(n, [x, wqt])[0]!);
        const c = d.shape[d.rank - 1]!;
        positions = d.size / c;
        return tf.sum(tf.reshape(d, [-1, c]), 0);
      });
      const v = diff.dataSync();
      diff.dispose();
      for (let c = 0; c < p.sum.length; c++) p.sum[c]! += v[c]!;
      p.count += positions;
    }
  }

  /** Runs the reference model on one batch (inputs by name), accumulating the output shifts. */
  observe(inputs: Record<string, tf.Tensor>): void {
    for (const [k, t] of Object.entries(inputs)) this.see(k, t);
    const outs = execute(this.reference, inputs, {
      observer: (n, ts) =>
        n.outputs.forEach((o, i) => {
          if (ts[i]) this.see(o, ts[i]!);
        }),
    });
    outs.forEach((t) => t.dispose());
  }

  /** Adds the mean shifts to the biases of q; returns what was changed. */
  apply(): BiasCorrection[] {
    const out: BiasCorrection[] = [];
    for (const list of this.pending.values()) {
      for (const p of list) {
        if (p.count === 0) continue;
        const b = Float32Array.from(p.bias.data as Float32Array);
        let maxAbs = 0,
          sumAbs = 0;
        for (let c = 0; c < b.length; c++) {
          const d = p.sum[c]! / p.count;
          b[c] = Math.fround(b[c]! + d);
          maxAbs = Math.max(maxAbs, Math.abs(d));
          sumAbs += Math.abs(d);
        }
        p.bias.data = b;
        out.push({ node: p.node.name, bias: p.bias.name, maxAbs, meanAbs: sumAbs / b.length });
      }
    }
    return out;
  }
}
