// One model of a batch conversion: load, convert (PTQ or Deep Compression), save atomically,
// then measure what the report shows — int8 coverage, sizes, fidelity against the float
// model and latency — on seeded inputs (or the calibration samples). Runs inside a worker
// thread (convert-worker.ts) or inline; never throws: failures come back as a result.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tf, initFloatBackend, floatBackendName } from '../backend/float.js';
import { loadModel } from '../model/load.js';
import { execute, disposeConstants } from '../model/execute.js';
import { inspectGraph } from '../model/inspect.js';
import { optimize } from '../model/passes/index.js';
import { saveNative } from '../model/save-native.js';
import { saveTfjs } from '../model/save-tfjs.js';
import { cloneGraph, type Graph } from '../model/ir.js';
import { compressGraph } from '../codec/graph.js';
import { seededRandom } from '../data/random.js';
import { medianMs } from '../report/timing.js';
import { fidelity, type Fidelity } from './fidelity.js';
import { quantize } from '../quant/quantize.js';
import { normalizeSample } from '../quant/calibrate.js';
import { loadCalibrationData } from '../quant/dataset.js';
import type { ObserverKind } from '../quant/observers.js';
import { InferenceSession } from '../runtime/session.js';

export type ConvertMode = 'dynamic' | 'int8' | 'float16' | 'compress';
export type OutputFormat = 'native' | 'tfjs';

export interface ConvertOptions {
  mode: ConvertMode;
  format: OutputFormat;
  perTensor?: boolean;
  /** Directory of .npy files or a JS module exporting an async generator (PTQ calibration). */
  calibration?: string;
  /** Calibration samples (from `calibration`, or seeded random inputs when absent). */
  samples: number;
  observer?: string;
  percentile?: number;
  /** dynamic: 4-bit weights with `groupSize` values per group and `scaleBits` group scales (§12.5). */
  weightBits?: 4;
  groupSize?: number;
  scaleBits?: 8 | 16;
  /** compress: sparsity and label bits. */
  sparsity?: number;
  bits?: number;
  /** Inputs used to measure fidelity and latency (0 = skip measurement). */
  evalSamples: number;
  /** Timed runs per engine for latency. */
  runs: number;
  threads: number;
  allowNonFinite?: boolean;
}

export interface ModelResult {
  source: string;
  rel: string;
  output: string;
  status: 'done' | 'failed' | 'skipped';
  error?: string;
  sourceSha256?: string;
  sourceFormat?: string;
  nodes?: number;
  nativeCoverage?: number;
  bytesBefore?: number;
  bytesAfter?: number;
  ratio?: number;
  fidelity?: Fidelity;
  /** Median batch-1 latency in ms. */
  floatMs?: number;
  quantMs?: number;
  quantEngine?: string;
  floatBackend?: string;
  warnings: string[];
  seconds: number;
}

async function filesSize(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (await fs.stat(f)).size;
  return n;
}

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) if (e.isFile()) n += (await fs.stat(join(dir, e.name))).size;
  return n;
}

/** Seeded inputs for a graph: uniform [0, 1) for float inputs; unknown dims take `batch`. */
export function seededInputs(g: Graph, count: number, seed = 1, batch = 1): Record<string, tf.Tensor>[] {
  const rng = seededRandom(seed);
  const out: Record<string, tf.Tensor>[] = [];
  for (let s = 0; s < count; s++) {
    const rec: Record<string, tf.Tensor> = {};
    for (const inp of g.inputs) {
      if (!inp.shape) throw new Error(`input '${inp.name}' has an unknown rank: give calibration data`);
      const shape = inp.shape.map((d) => (d < 0 ? batch : d));
      const n = shape.reduce((a, b) => a * b, 1);
      if (inp.dtype === 'float32') rec[inp.name] = tf.tensor(Float32Array.from({ length: n }, () => rng()), shape, 'float32');
      else if (inp.dtype === 'int32') rec[inp.name] = tf.tensor(Int32Array.from({ length: n }, () => Math.floor(rng() * 4)), shape, 'int32');
      else throw new Error(`input '${inp.name}' has dtype ${inp.dtype}: give calibration data`);
    }
    out.push(rec);
  }
  return out;
}

async function convertGraph(g: Graph, o: ConvertOptions, calib: Record<string, tf.Tensor>[], warnings: string[]): Promise<Graph> {
  if (o.mode === 'compress') {
    const r = compressGraph(g, { sparsity: o.sparsity, bits: o.bits });
    if (!r.weights.length) warnings.push('no conv/matmul weight large enough to compress; saved unchanged');
    return r.graph;
  }
  const r = await quantize(g, {
    mode: o.mode,
    perChannel: !o.perTensor,
    calibration: o.mode === 'int8' ? calib : undefined,
    observer: o.observer as ObserverKind | undefined,
    percentile: o.observer === 'percentile' ? o.percentile : undefined,
    ...(o.weightBits === 4 ? { weightBits: 4 as const, groupSize: o.groupSize, scaleBits: o.scaleBits } : {}),
    report: false,
  });
  const floatNodes = r.report.floatNodes;
  if (floatNodes.length) warnings.push(`${floatNodes.length} node(s) kept in float32 (${[...new Set(floatNodes.map((n) => n.op))].join(', ')})`);
  return r.graph;
}

/** Runs the quantized graph the way users will: the native session when it loads, else the simulation. */
async function quantizedEngine(g: Graph, threads: number): Promise<{ name: string; run: (x: Record<string, tf.Tensor>) => Promise<tf.Tensor[]>; dispose: () => void }> {
  const s = await InferenceSession.create(g, { threads });
  return {
    name: 'native session',
    run: async (x) => {
      const out = await s.run(x, { tensors: true });
      return s.outputs.map((o) => out[o.name]!);
    },
    dispose: () => s.dispose(),
  };
}

export async function convertOne(task: { source: string; rel: string; output: string }, o: ConvertOptions): Promise<ModelResult> {
  const t0 = performance.now();
  const res: ModelResult = { source: task.source, rel: task.rel, output: task.output, status: 'failed', warnings: [], seconds: 0 };
  let g: Graph | undefined;
  const tensors: tf.Tensor[] = [];
  try {
    await initFloatBackend();
    res.floatBackend = floatBackendName();
    g = await loadModel(task.source, { allowNonFinite: o.allowNonFinite });
    res.sourceSha256 = g.source?.sha256;
    res.sourceFormat = g.source?.format;
    res.bytesBefore = await filesSize(g.source?.files ?? [task.source]);
    const float = cloneGraph(g);
    const calib = await loadCalibration(g, o);
    if (o.mode === 'int8' && !o.calibration) res.warnings.push(`activation ranges calibrated on ${o.samples} seeded random inputs in [0, 1): give --calibration with real data`);
    for (const c of calib) tensors.push(...Object.values(c));
    const q = await convertGraph(g, o, calib, res.warnings);
    // Coverage of the graph as the runtime sees it, after BN folding and fusion (PTQ has already
    // optimized its output; compression keeps the graph as it was).
    const ins = inspectGraph(o.mode === 'compress' ? optimize(cloneGraph(q)) : q);
    res.nodes = ins.nodes;
    res.nativeCoverage = ins.nodes ? ins.int8Nodes / ins.nodes : 0;
    if (o.format === 'tfjs') {
      if (o.mode === 'compress') throw new Error('--mode compress needs --format native (stock TF.js cannot hold compressed weights)');
      await saveTfjs(q, task.output, { quantize: o.mode === 'float16' ? 'float16' : 'uint8' });
      if (o.mode !== 'float16') res.warnings.push('stock TF.js format: weights stored as per-tensor uint8 (dequantized at load); int8 execution needs --format native');
    } else {
      await saveNative(q, task.output, { mode: o.mode === 'compress' ? 'deep-compression' : o.mode, options: { ...o } as Record<string, unknown> });
    }
    res.bytesAfter = await dirSize(task.output);
    res.ratio = res.bytesBefore / res.bytesAfter;
    if (o.evalSamples > 0) {
      const evalIn = calib.length >= o.evalSamples ? calib.slice(0, o.evalSamples) : seededInputs(float, o.evalSamples, 7);
      if (evalIn !== calib) for (const c of evalIn) tensors.push(...Object.values(c));
      const ref = evalIn.map((x) => execute(float, x));
      let engine;
      try {
        engine = await quantizedEngine(q, o.threads);
      } catch (e) {
        res.warnings.push(`native runtime unavailable for this model (${(e as Error).message}); fidelity from float execution of the converted weights`);
        engine = { name: 'float execution', run: async (x: Record<string, tf.Tensor>) => execute(q, x), dispose: () => disposeConstants(q) };
      }
      res.quantEngine = engine.name;
      const got: tf.Tensor[][] = [];
      for (const x of evalIn) got.push(await engine.run(x));
      res.fidelity = fidelity(ref.map((r) => r[0]!), got.map((r) => r[0]!));
      res.floatMs = await medianMs(() => tf.tidy(() => execute(float, evalIn[0]!).forEach((t) => t.dataSync())), { runs: o.runs });
      res.quantMs = await medianMs(async () => (await engine.run(evalIn[0]!)).forEach((t) => t.dispose()), { runs: o.runs });
      engine.dispose();
      for (const r of [...ref, ...got]) r.forEach((t) => t.dispose());
    }
    res.status = 'done';
  } catch (e) {
    res.error = (e as Error).message ?? String(e);
    res.status = 'failed';
  } finally {
    for (const t of tensors) t.dispose();
    if (g) disposeConstants(g);
    res.seconds = (performance.now() - t0) / 1000;
  }
  return res;
}


async function loadCalibration(g: Graph, o: ConvertOptions): Promise<Record<string, tf.Tensor>[]> {
  if (o.mode !== 'int8' || !o.calibration) return o.mode === 'int8' ? seededInputs(g, o.samples, 1) : [];
  const out: Record<string, tf.Tensor>[] = [];
  for await (const s of loadCalibrationData(o.calibration, g)) {
    out.push(normalizeSample(g, s, out.length).inputs);
    if (out.length >= o.samples) break;
  }
  if (!out.length) throw new Error(`calibration data '${o.calibration}' is empty`);
  return out;
}
