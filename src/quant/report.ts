// Per-layer error report (as TFLite's QuantizationDebugger / ORT's qdq debugging): every node
// output of the quantized graph, run by simulate() (int8 tensors dequantized), against the
// same tensor of the float reference graph run by execute() (observer), over the same data.
// SNR, cosine similarity and max abs error per tensor, worst first; `snrDrop` (the SNR lost
// by this node relative to its worst input) ranks the nodes the accuracy guard keeps in float.
import type { tf } from '../backend/float.js';
import { executeAsync } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import { iterateData, normalizeSample, type CalibrationData, type CalibrationSample } from './calibrate.js';
import { activationInputs, type NodeExecution } from './params.js';
import { dequantizeSim, simulateAsync } from './simulate.js';

export interface LayerError {
  tensor: string;
  node: string;
  op: string;
  execution: NodeExecution;
  /** 10·log10(Σ ref² / Σ (q − ref)²); +∞ when equal. */
  snrDb: number;
  cosine: number;
  maxAbsError: number;
  /** The quantization step of the tensor when it is int8. */
  scale?: number;
  /** SNR of the node's worst input minus its own (dB, both capped at 100): the error this node adds. */
  snrDrop: number;
}

export interface LayerReport {
  samples: number;
  /** Worst (lowest SNR) first. */
  layers: LayerError[];
}

/** SNRs are capped here for `snrDrop` (an exact tensor counts as 100 dB). */
const SNR_CAP = 100;

interface Acc {
  ref2: number;
  err2: number;
  dot: number;
  q2: number;
  maxAbs: number;
}

/** Compares quantized (simulate) and float reference (execute) tensors of every node output. */
export async function layerReport(
  q: Graph,
  reference: Graph,
  data: CalibrationData | CalibrationSample[],
  opts: { maxSamples?: number } = {},
): Promise<LayerReport> {
  const nodeOf = new Map(q.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const refTensors = new Set(reference.nodes.flatMap((n) => n.outputs));
  const names = [...nodeOf.keys()].filter((t) => refTensors.has(t));
  const acc = new Map<string, Acc>();
  let samples = 0,
    index = 0;
  let plan: Map<string, NodeExecution> | undefined;
  for await (const s of iterateData(data as CalibrationData, 'report data')) {
    const { inputs, rows, created } = normalizeSample(q, s, index++);
    try {
      const sim = await simulateAsync(q, inputs, { capture: names });
      plan = sim.plan;
      const outs = await executeAsync(reference, inputs, {
        observer: (n, ts) =>
          n.outputs.forEach((o, i) => {
            const got = sim.tensors.get(o);
            const t = ts[i] as tf.Tensor | undefined;
            if (!got || !t || t.dtype !== 'float32') return;
            const ref = t.dataSync() as Float32Array;
            const qd = dequantizeSim(got).data as Float32Array;
            if (qd.length !== ref.length) return;
            let a = acc.get(o);
            if (!a) acc.set(o, (a = { ref2: 0, err2: 0, dot: 0, q2: 0, maxAbs: 0 }));
            for (let j = 0; j < ref.length; j++) {
              const r = ref[j]!,
                v = qd[j]!,
                e = v - r;
              a.ref2 += r * r;
              a.err2 += e * e;
              a.dot += r * v;
              a.q2 += v * v;
              if (Math.abs(e) > a.maxAbs) a.maxAbs = Math.abs(e);
            }
          }),
      });
      outs.forEach((t) => t.dispose());
    } finally {
      created.forEach((t) => t.dispose());
    }
    samples += rows;
    if (opts.maxSamples !== undefined && samples >= opts.maxSamples) break;
  }
  if (samples === 0) throw new RangeError('the report dataset is empty');
  const snr = new Map<string, number>();
  for (const [t, a] of acc) snr.set(t, a.err2 === 0 ? Infinity : 10 * Math.log10(a.ref2 / a.err2));
  const layers: LayerError[] = [];
  for (const [t, a] of acc) {
    const n = nodeOf.get(t)!;
    const inSnr = activationInputs(q, n).map((i) => snr.get(i) ?? Infinity);
    const worstIn = inSnr.length ? Math.min(...inSnr) : Infinity;
    const own = snr.get(t)!;
    const cos = a.ref2 === 0 || a.q2 === 0 ? (a.ref2 === a.q2 ? 1 : 0) : a.dot / Math.sqrt(a.ref2 * a.q2);
    const scale = (q.metadata.activations as Record<string, { scale: number }> | undefined)?.[t]?.scale;
    layers.push({
      tensor: t,
      node: n.name,
      op: n.op,
      execution: plan?.get(n.name) ?? 'float',
      snrDb: own,
      cosine: cos,
      maxAbsError: a.maxAbs,
      ...(plan?.get(n.name) === 'int8' && scale !== undefined ? { scale } : {}),
      snrDrop: Math.min(worstIn, SNR_CAP) - Math.min(own, SNR_CAP),
    });
  }
  layers.sort((a, b) => a.snrDb - b.snrDb);
  return { samples, layers };
}
