// Calibration: run the float model on representative data (float backend, execute() with an
// observer) and let one observer per float32 tensor propose its range. Streaming: each batch's
// activations are seen once and dropped; only the observers' state (two numbers or one
// histogram per tensor) is kept. Nodes with a non-clamp fused activation (elu, sigmoid, tanh,
// leakyrelu, prelu) are run split so `<output>/preact` is observed too (§12.2).
import { tf } from '../backend/float.js';
import { executeAsync } from '../model/execute.js';
import type { Graph, Node } from '../model/ir.js';
import { describe } from '../native/validate.js';
import { channelMinMax } from '../kernels/quantize.js';
import { clampActivation, preactName } from './params.js';
import {
  createObserver,
  resolveObserverOptions,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
} from './observers.js';

/** One calibration sample or batch: a tensor (single-input models), tensors by input position, or by input name. */
export type CalibrationSample = tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;
export type CalibrationData = Iterable<CalibrationSample> | AsyncIterable<CalibrationSample>;

export interface CalibrateProgress {
  /** Samples (batch rows) seen so far. */
  samples: number;
  batches: number;
  /** The cap (maxSamples), if any. */
  total?: number;
}

export interface CalibrateOptions {
  observer?: ObserverKind | ObserverOptions;
  /** Stop after this many samples (batch rows). */
  maxSamples?: number;
  onProgress?: (p: CalibrateProgress) => void;
  /** Tensors whose range is also kept per channel (the last dimension): `channelRanges` of the result. */
  channelRanges?: readonly string[];
  /** Called with each normalized batch (inputs by name, batch dimension present) before it is freed. */
  onBatch?: (inputs: Record<string, tf.Tensor>) => void;
}

export interface CalibrationResult {
  ranges: Map<string, [number, number]>;
  samples: number;
  batches: number;
  observer: ObserverKind;
  /** The ranges per channel of the tensors named in `channelRanges` (each widened to include 0). */
  channelRanges: Map<string, { lo: Float32Array; hi: Float32Array }>;
}

const ACT_OPS: Record<string, string> = {
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/**
 * A view of g where each node with a non-clamp fused activation writes `<output>/preact` and a
 * separate activation node writes the output (constants shared, g unchanged).
 */
export function splitFusedActivations(g: Graph): Graph {
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    const act = n.attrs.activation;
    if (clampActivation(act) || n.opaque || !ACT_OPS[act as string] || n.outputs.length !== 1) {
      nodes.push(n);
      continue;
    }
    const out = n.outputs[0]!,
      pre = preactName(out);
    nodes.push({ ...n, inputs: n.inputs.slice(0, 3), outputs: [pre], attrs: { ...n.attrs, activation: 'none' } });
    const op = ACT_OPS[act as string]!;
    nodes.push({
      name: `${n.name}/activation`,
      op,
      inputs: op === 'Prelu' ? [pre, n.inputs[3]!] : [pre],
      outputs: [out],
      attrs: op === 'LeakyRelu' ? { alpha: (n.attrs.leakyrelu_alpha as number | undefined) ?? 0.2 } : {},
    });
  }
  return { ...g, nodes };
}

/** Checks one sample against the model's inputs; adds a batch dimension of 1 when it is missing. */
export function normalizeSample(
  g: Graph,
  s: CalibrationSample,
  index: number,
): { inputs: Record<string, tf.Tensor>; rows: number; created: tf.Tensor[] } {
  const names = g.inputs.map((i) => i.name);
  let rec: Record<string, tf.Tensor>;
  const where = `calibration sample ${index}`;
  if (s instanceof tf.Tensor) {
    if (names.length !== 1)
      throw new RangeError(
        `${where}: the model has ${names.length} inputs (${names.join(', ')}); give an array or a name → tensor record`,
      );
    rec = { [names[0]!]: s };
  } else if (Array.isArray(s)) {
    if (s.length !== names.length)
      throw new RangeError(
        `${where}: ${s.length} tensors given, the model has ${names.length} inputs (${names.join(', ')})`,
      );
    rec = Object.fromEntries(s.map((t, i) => [names[i]!, t]));
  } else if (s && typeof s === 'object') {
    for (const k of Object.keys(s))
      if (!names.includes(k))
        throw new RangeError(`${where}: '${k}' is not an input of the model (inputs: ${names.join(', ')})`);
    for (const k of names) if (!(k in s)) throw new RangeError(`${where}: input '${k}' is missing`);
    rec = s;
  } else {
    throw new TypeError(
      `${where} must be a tf.Tensor, an array of tensors or a name → tensor record, got ${describe(s)}`,
    );
  }
  const out: Record<string, tf.Tensor> = {};
  const created: tf.Tensor[] = [];
  let rows = -1;
  for (const spec of g.inputs) {
    let t = rec[spec.name]!;
    if (!(t instanceof tf.Tensor))
      throw new TypeError(`${where}: input '${spec.name}' must be a tf.Tensor, got ${describe(t)}`);
    if (t.isDisposed) throw new TypeError(`${where}: input '${spec.name}' is disposed`);
    if (t.dtype !== spec.dtype)
      throw new TypeError(`${where}: input '${spec.name}' has dtype ${t.dtype}, the model expects ${spec.dtype}`);
    if (spec.shape) {
      if (t.rank === spec.shape.length - 1) {
        t = tf.expandDims(t, 0);
        created.push(t);
      }
      const ok = t.rank === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === t.shape[i]);
      if (!ok) {
        throw new RangeError(
          `${where}: input '${spec.name}' has shape [${rec[spec.name]!.shape.join(', ')}], the model expects [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}] (or that without the batch dimension)`,
        );
      }
    }
    const b = t.rank > 0 ? t.shape[0]! : 1;
    if (rows >= 0 && b !== rows) throw new RangeError(`${where}: inputs have different batch sizes (${rows} and ${b})`);
    rows = b;
    out[spec.name] = t;
  }
  if (rows === 0) throw new RangeError(`${where} has an empty batch`);
  return { inputs: out, rows, created };
}

/** Iterates sync or async data with a clear error for anything else. */
export async function* iterateData(
  data: CalibrationData,
  what = 'calibration data',
): AsyncGenerator<CalibrationSample> {
  if (data === null || typeof data !== 'object' || (!(Symbol.asyncIterator in data) && !(Symbol.iterator in data))) {
    throw new TypeError(`${what} must be an iterable or async iterable of samples, got ${describe(data)}`);
  }
  if (data instanceof tf.Tensor)
    throw new TypeError(`${what} must be an iterable of samples (wrap a single tensor in an array: [x])`);
  yield* data as AsyncIterable<CalibrationSample>;
}

/** Runs the float model over the data, returning each float32 tensor's observed range. */
export async function calibrate(
  g: Graph,
  data: CalibrationData,
  opts: CalibrateOptions = {},
): Promise<CalibrationResult> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
  const oo = resolveObserverOptions(opts.observer);
  if (opts.maxSamples !== undefined && (!Number.isInteger(opts.maxSamples) || opts.maxSamples < 1)) {
    throw new RangeError(`maxSamples must be an integer >= 1, got ${describe(opts.maxSamples)}`);
  }
  const cg = splitFusedActivations(g);
  const observers = new Map<string, Observer>();
  const wanted = new Set(opts.channelRanges ?? []);
  const channelRanges = new Map<string, { lo: Float32Array; hi: Float32Array }>();
  const see = (name: string, t: tf.Tensor) => {
    if (t.dtype !== 'float32') return;
    let o = observers.get(name);
    if (!o) observers.set(name, (o = createObserver(oo)));
    const x = t.dataSync() as Float32Array;
    o.observe(x);
    if (wanted.has(name) && t.rank >= 1 && t.size > 0) {
      const r = channelMinMax(x, { shape: t.shape, axis: -1 });
      const acc = channelRanges.get(name);
      if (!acc) channelRanges.set(name, r);
      else if (acc.lo.length === r.lo.length)
        for (let c = 0; c < r.lo.length; c++) {
          acc.lo[c] = Math.min(acc.lo[c]!, r.lo[c]!);
          acc.hi[c] = Math.max(acc.hi[c]!, r.hi[c]!);
        }
    }
  };
  let samples = 0,
    batches = 0;
  for await (const s of iterateData(data)) {
    const { inputs, rows, created } = normalizeSample(g, s, batches);
    try {
      for (const [k, t] of Object.entries(inputs)) see(k, t);
      const outs = await executeAsync(cg, inputs, {
        observer: (n, ts) =>
          n.outputs.forEach((o, i) => {
            if (ts[i]) see(o, ts[i]!);
          }),
      });
      outs.forEach((t) => t.dispose());
      opts.onBatch?.(inputs);
    } finally {
      created.forEach((t) => t.dispose());
    }
    samples += rows;
    batches++;
    opts.onProgress?.({ samples, batches, ...(opts.maxSamples ? { total: opts.maxSamples } : {}) });
    if (opts.maxSamples !== undefined && samples >= opts.maxSamples) break;
  }
  if (samples === 0) throw new RangeError('the calibration dataset is empty');
  const ranges = new Map<string, [number, number]>();
  for (const [t, o] of observers) {
    const r = o.range();
    if (r) ranges.set(t, r);
  }
  return { ranges, samples, batches, observer: oo.kind, channelRanges };
}
