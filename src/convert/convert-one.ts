// One model of a batch conversion: load, choose the float backend that runs the model, convert
// (PTQ with the accuracy guard, or Deep Compression), save atomically, then measure what the
// report shows from the WRITTEN files (evaluate-written.ts) — fidelity over every output and
// latency — on evaluation inputs disjoint from the calibration and guard data. A model that
// misses its tolerance is `degraded`; a measurement that cannot be made is reported as "not
// evaluated: <why>" and never fails a conversion that succeeded. Runs inside a worker thread
// (convert-worker.ts) or inline; never throws: failures come back as a result.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tf, initFloatBackend, floatBackendName } from '../backend/float.js';
import { loadModel } from '../model/load.js';
import { disposeConstants } from '../model/execute.js';
import { inspectGraph } from '../model/inspect.js';
import { optimize } from '../model/passes/index.js';
import { saveNative } from '../model/save-native.js';
import { nativeEngine } from './native-engine.js';
import { saveTfjs } from '../model/save-tfjs.js';
import { cloneGraph, type Graph } from '../model/ir.js';
import { compressGraph } from '../codec/graph.js';
import { quantize } from '../quant/quantize.js';
import { normalizeSample } from '../quant/calibrate.js';
import { loadCalibrationData } from '../quant/dataset.js';
import type { ObserverKind } from '../quant/observers.js';
import { hasNonFinite } from '../quant/non-finite.js';
import {
  CALIBRATION_SEED,
  EVALUATION_SEED,
  VALIDATION_SEED,
  describeInputs,
  syntheticInputs,
  type InputAssumption,
} from '../quant/synthetic-inputs.js';
import { chooseReferenceBackend, evaluateWritten } from './evaluate-written.js';
import type { ModelResult, ModelStatus } from '../report/batch.js';

export type ConvertMode = 'dynamic' | 'int8' | 'float16' | 'compress';
export type OutputFormat = 'native' | 'tfjs';

export interface ConvertOptions {
  mode: ConvertMode;
  format: OutputFormat;
  perTensor?: boolean;
  /** Directory of .npy files or a JS module exporting an async generator (PTQ calibration). */
  calibration?: string;
  /** Calibration samples (from `calibration`, or generated image-like inputs when absent). */
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
  /** Minimum output score (cosine / 1 − relative error, every output) the model must keep (default 0.99). */
  tolerance?: number;
  /** The accuracy guard (dynamic, int8): layers that break the tolerance stay float / 8-bit (default true). */
  guard?: boolean;
  /** Samples the guard measures on (taken from the calibration data; default 8). */
  guardSamples?: number;
  floatNodes?: string[];
  opTypes?: string[];
  biasCorrection?: boolean;
  /** int8: channel range equalization before quantizing (src/quant/equalize.ts). */
  equalize?: boolean;
  /** Layers with fewer products per output run float instead of dynamic (quantize's dynamicMinK). */
  dynamicMinK?: number;
  /** Layers with fewer output channels run float instead of dynamic (quantize's dynamicMinN). */
  dynamicMinN?: number;
  inputType?: 'float32' | 'int8' | 'uint8';
  outputType?: 'float32' | 'int8' | 'uint8';
  /** Inputs used to measure fidelity and latency (0 = skip measurement). */
  evalSamples: number;
  /** Timed runs per engine for latency. */
  runs: number;
  threads: number;
  allowNonFinite?: boolean;
}

// The record of one conversion is the batch report's input, so report/batch.ts defines it.
export type { ModelResult, ModelStatus };

/** Rows of the per-layer table kept in the report. */
export const LAYER_ROWS = 25;
export const DEFAULT_TOLERANCE = 0.99;

export async function filesSize(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) n += (await fs.stat(f)).size;
  return n;
}

async function dirSize(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }))
    if (e.isFile()) n += (await fs.stat(join(dir, e.name))).size;
  return n;
}

/** The graph's constants stored as float32 (bool as bytes). */
export function float32Bytes(g: Graph): number {
  let n = 0;
  for (const c of g.constants.values()) n += c.shape.reduce((a, b) => a * b, 1) * (c.dtype === 'bool' ? 1 : 4);
  return n;
}

/** Generated image-like inputs for a graph (see src/quant/synthetic-inputs.ts); unknown dims take `batch`. */
export function seededInputs(g: Graph, count: number, seed = CALIBRATION_SEED, batch = 1): Record<string, tf.Tensor>[] {
  return syntheticInputs(g, count, seed, batch);
}

/** Calibration (and guard) samples and the disjoint evaluation samples, with what they are. */
interface ConvertData {
  calib: Record<string, tf.Tensor>[];
  /** What the guard measures on (undefined: the calibration samples). */
  validation?: Record<string, tf.Tensor>[];
  evalIn: Record<string, tf.Tensor>[];
  evalWhat: string;
  /** What the guard measured on, for the report. */
  guardWhat?: string;
  assumptions?: InputAssumption[];
}

/**
 * How `total` user samples are shared, in this order, between calibration, the guard and the
 * evaluation (disjoint parts): up to `evalSamples` at the end are held out for the evaluation
 * (with no more than `samples`, a quarter of them instead); of the rest, the
 * first `samples` calibrate and up to `guardSamples` of what follows are the guard's. The guard
 * must not judge on the samples the ranges were fitted to: there the ranges fit exactly, and a
 * model that misses the tolerance on any other input would pass. When the rest holds no more
 * than `samples`, a quarter of it (at most `guardSamples`) goes to the guard, if that makes two
 * samples at least; with fewer, the guard measures on the calibration samples (guard = 0).
 */
export function splitUserSamples(
  total: number,
  samples: number,
  guardSamples: number,
  evalSamples: number,
): { calibrate: number; guard: number; evaluate: number } {
  let evaluate = Math.min(evalSamples, Math.max(0, total - samples));
  if (evaluate === 0 && evalSamples > 0 && total >= 2) evaluate = Math.max(1, Math.floor(total / 4));
  const rest = total - evaluate;
  const guard = !guardSamples
    ? 0
    : rest > samples
      ? Math.min(guardSamples, rest - samples)
      : Math.min(guardSamples, Math.floor(rest / 4) >= 2 ? Math.floor(rest / 4) : 0);
  return { calibrate: rest - guard, guard, evaluate };
}

async function loadData(g: Graph, o: ConvertOptions): Promise<ConvertData> {
  const guarded = o.guard !== false && (o.mode === 'int8' || o.mode === 'dynamic');
  const wantCalib = o.mode === 'int8' ? o.samples : o.mode === 'dynamic' && guarded ? (o.guardSamples ?? 8) : 0;
  if (!o.calibration) {
    const assumptions = describeInputs(g);
    return {
      calib: wantCalib ? syntheticInputs(g, wantCalib, CALIBRATION_SEED, 1, assumptions) : [],
      validation: guarded ? syntheticInputs(g, o.guardSamples ?? 8, VALIDATION_SEED, 1, assumptions) : undefined,
      evalIn: o.evalSamples ? syntheticInputs(g, o.evalSamples, EVALUATION_SEED, 1, assumptions) : [],
      evalWhat: `${o.evalSamples} generated inputs (seed ${EVALUATION_SEED}; calibration seed ${CALIBRATION_SEED}, guard seed ${VALIDATION_SEED})`,
      ...(guarded ? { guardWhat: `${o.guardSamples ?? 8} generated inputs (seed ${VALIDATION_SEED})` } : {}),
      assumptions,
    };
  }
  // User data: calibration, guard and evaluation samples, disjoint (splitUserSamples).
  const guardWanted = guarded ? (o.guardSamples ?? 8) : 0;
  const all: Record<string, tf.Tensor>[] = [];
  for await (const s of loadCalibrationData(o.calibration, g)) {
    all.push(normalizeSample(g, s, all.length).inputs);
    if (all.length >= o.samples + guardWanted + o.evalSamples) break;
  }
  if (!all.length) throw new Error(`calibration data '${o.calibration}' is empty`);
  const split = splitUserSamples(all.length, o.samples, guardWanted, o.evalSamples);
  const calib = all.slice(0, split.calibrate),
    validation = all.slice(split.calibrate, split.calibrate + split.guard),
    evalIn = all.slice(split.calibrate + split.guard);
  const held = evalIn.length;
  return {
    calib: calib.slice(0, Math.max(wantCalib, o.mode === 'int8' ? calib.length : 0)),
    ...(validation.length ? { validation } : {}),
    evalIn,
    evalWhat: held
      ? `${held} calibration samples held out (not used to calibrate or by the guard)`
      : 'none: one calibration sample only',
    ...(validation.length
      ? { guardWhat: `${validation.length} samples apart from the ${calib.length} that calibrate` }
      : guarded
        ? { guardWhat: 'the calibration samples (too few samples to set some apart)' }
        : {}),
  };
}

async function convertGraph(
  g: Graph,
  o: ConvertOptions,
  calib: Record<string, tf.Tensor>[],
  validation: Record<string, tf.Tensor>[] | undefined,
  res: ModelResult,
  guard: boolean,
): Promise<Graph> {
  if (o.mode === 'compress') {
    const r = compressGraph(g, { sparsity: o.sparsity, bits: o.bits });
    if (!r.weights.length) res.warnings.push('no conv/matmul weight large enough to compress; saved unchanged');
    return r.graph;
  }
  const tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
  const useGuard = guard && o.mode !== 'float16' && calib.length > 0;
  const r = await quantize(g, {
    mode: o.mode,
    perChannel: !o.perTensor,
    calibration: o.mode === 'float16' ? undefined : calib.length ? calib : undefined,
    observer: o.observer as ObserverKind | undefined,
    percentile: o.observer === 'percentile' ? o.percentile : undefined,
    ...(o.weightBits === 4
      ? { weightBits: 4 as const, weightBitsPerLayer: true, groupSize: o.groupSize, scaleBits: o.scaleBits }
      : {}),
    floatNodes: o.floatNodes,
    opTypes: o.opTypes,
    biasCorrection: o.biasCorrection,
    ...(o.equalize ? { equalize: true } : {}),
    ...(o.dynamicMinK !== undefined ? { dynamicMinK: o.dynamicMinK } : {}),
    ...(o.dynamicMinN !== undefined ? { dynamicMinN: o.dynamicMinN } : {}),
    inputType: o.inputType,
    outputType: o.outputType,
    ...(validation?.length && calib.length ? { validation } : {}),
    evalSamples: Math.min((validation ?? calib).length || 1, o.guardSamples ?? 8),
    report: o.mode !== 'float16' && calib.length > 0,
    ...(useGuard ? { accuracyGuard: { tolerance: 1 - tolerance, engine: nativeEngine } } : {}),
  });
  res.floatNodes = r.report.floatNodes;
  if (r.report.floatNodes.length)
    res.warnings.push(
      `${r.report.floatNodes.length} node(s) kept in float32 (${[...new Set(r.report.floatNodes.map((n) => n.reason.replace(/'[^']*'/g, '…')))].join('; ')})`,
    );
  if (r.report.guard?.movedToDynamic.length)
    res.warnings.push(`${r.report.guard.movedToDynamic.length} convolution(s)/matmul(s) run dynamic (accuracy guard)`);
  if (r.report.widened?.length)
    res.warnings.push(`${r.report.widened.length} layer(s) with 8-bit weights instead of 4`);
  if (r.report.guard) {
    const { outputs: _o, ...gr } = r.report.guard;
    void _o;
    res.guard = gr;
  }
  // Layers that run exactly as float (SNR ∞) say nothing: the table keeps the ones that lose.
  if (r.report.layers) res.layers = r.report.layers.layers.filter((l) => Number.isFinite(l.snrDb)).slice(0, LAYER_ROWS);
  return r.graph;
}

export async function convertOne(
  task: { source: string; rel: string; output: string },
  o: ConvertOptions,
): Promise<ModelResult> {
  const t0 = performance.now();
  const res: ModelResult = {
    source: task.source,
    rel: task.rel,
    output: task.output,
    status: 'failed',
    warnings: [],
    seconds: 0,
  };
  let g: Graph | undefined, float: Graph | undefined;
  const tensors: tf.Tensor[] = [];
  const initialBackend = await initFloatBackend().catch(() => undefined);
  try {
    res.floatBackend = floatBackendName();
    g = await loadModel(task.source, { allowNonFinite: o.allowNonFinite });
    res.sourceSha256 = g.source?.sha256;
    res.sourceFormat = g.source?.format;
    res.bytesBefore = await filesSize(g.source?.files ?? [task.source]);
    res.bytesFloat32 = float32Bytes(g);
    res.tolerance = o.tolerance ?? DEFAULT_TOLERANCE;
    float = cloneGraph(g);
    const { calib, validation, evalIn, evalWhat, guardWhat, assumptions } = await loadData(g, o);
    if (guardWhat) res.guardData = guardWhat;
    for (const c of [...calib, ...(validation ?? []), ...evalIn]) tensors.push(...Object.values(c));
    if (assumptions) res.inputAssumptions = assumptions;
    if (assumptions && calib.length) {
      const why = assumptions
        .map((a) => `${a.input}: ${a.kind} in [${a.range.join(', ')}]${a.source === 'assumed' ? ' (assumed)' : ''}`)
        .join('; ');
      res.warnings.push(`calibrated on ${calib.length} generated inputs (${why}): give --calibration with real data`);
    }
    // The float backend that runs this model, decided before any work that needs float execution.
    const trial = calib[0] ?? evalIn[0];
    const ref = trial ? await chooseReferenceBackend(float, trial) : { rejected: [] };
    res.floatBackend = ref.backend ?? res.floatBackend;
    res.evaluation = {
      evaluated: false,
      referenceBackend: ref.backend,
      ...(ref.rejected.length ? { rejectedBackends: ref.rejected } : {}),
      inputs: evalWhat,
    };
    if (trial && !ref.backend) {
      const why = `the float model runs on no float backend (${ref.rejected.map((r) => `${r.backend}: ${r.error}`).join('; ')})`;
      if (o.mode === 'int8') throw new Error(`cannot calibrate: ${why}`);
      res.warnings.push(`accuracy guard off: ${why}`);
    }
    // Without a float backend that runs the model, nothing can be measured against it: the
    // (dynamic or float16) conversion goes on without the guard and the per-layer report.
    const q = await convertGraph(
      g,
      o,
      ref.backend !== undefined || !trial ? calib : [],
      validation,
      res,
      o.guard !== false && ref.backend !== undefined,
    );
    // Coverage of the graph as the runtime sees it, after BN folding and fusion (PTQ has already
    // optimized its output; compression keeps the graph as it was).
    const ins = inspectGraph(o.mode === 'compress' ? optimize(cloneGraph(q)) : q);
    res.nodes = ins.nodes;
    res.nativeCoverage = ins.nodes ? ins.int8Nodes / ins.nodes : 0;
    if (o.format === 'tfjs') {
      if (o.mode === 'compress')
        throw new Error('--mode compress needs --format native (stock TF.js cannot hold compressed weights)');
      // Stock tfjs stores per-tensor uint8 from the tensor's [min, max]: a constant holding
      // ±Inf has none. float16 holds ±Inf (and NaN) exactly, so such constants go out as float16.
      for (const c of q.constants.values()) {
        if (hasNonFinite(c) && !c.quantization?.tfjs) {
          c.quantization = { ...(c.quantization ?? {}), tfjs: { dtype: 'float16' } };
          res.warnings.push(`constant '${c.name}' holds non-finite values: stored as float16`);
        }
      }
      await saveTfjs(q, task.output, { quantize: o.mode === 'float16' ? 'float16' : 'uint8' });
      if (o.mode !== 'float16')
        res.warnings.push(
          'stock TF.js format: weights stored as per-tensor uint8 (dequantized at load, run in float); int8 execution needs --format native',
        );
    } else {
      await saveNative(q, task.output, {
        mode: o.mode === 'compress' ? 'deep-compression' : o.mode,
        options: { ...o } as Record<string, unknown>,
      });
    }
    disposeConstants(q);
    res.bytesAfter = await dirSize(task.output);
    res.ratio = res.bytesBefore / res.bytesAfter;
    res.ratioFloat32 = res.bytesFloat32 / res.bytesAfter;
    res.status = 'done';
    // ---- measured on the written files; a failure here never fails the conversion.
    if (!evalIn.length) res.evaluation.reason = o.evalSamples ? 'no evaluation inputs' : '--eval-samples 0';
    else if (!ref.backend)
      res.evaluation.reason = `float reference: ${ref.rejected.map((r) => `${r.backend}: ${r.error}`).join('; ')}`;
    else {
      try {
        const ev = await evaluateWritten(float, task.output, o.format, evalIn, {
          threads: o.threads,
          runs: o.runs,
          allowNonFinite: o.allowNonFinite,
        });
        res.fidelity = ev.fidelity;
        res.floatMs = ev.floatMs;
        res.quantMs = ev.quantMs;
        res.quantEngine = ev.engine;
        res.evaluation = { ...res.evaluation, evaluated: true, engine: ev.engine };
        res.warnings.push(...ev.notes);
      } catch (e) {
        res.evaluation.reason = (e as Error).message ?? String(e);
      }
    }
    if (!res.evaluation.evaluated) res.warnings.push(`not evaluated: ${res.evaluation.reason}`);
    const score = res.fidelity?.minScore ?? (res.guard && !res.guard.satisfied ? res.guard.final : undefined);
    if (score !== undefined && !(score >= res.tolerance)) {
      res.status = 'degraded';
      res.warnings.push(
        res.fidelity
          ? `degraded: output '${res.fidelity.worstOutput}' scores ${res.fidelity.minScore.toFixed(4)} < tolerance ${res.tolerance}`
          : `degraded: the guard reached ${res.guard!.final.toFixed(4)} < tolerance ${res.tolerance} on its data`,
      );
    }
  } catch (e) {
    res.error = (e as Error).message ?? String(e);
    res.status = 'failed';
  } finally {
    // A float backend that aborted (tfjs-backend-wasm on an op it cannot set up) cannot free its
    // tensors any more: the result measured so far is still reported, with the failure named.
    try {
      for (const t of tensors) t.dispose();
      if (g) disposeConstants(g);
      if (float) disposeConstants(float);
      if (initialBackend && tf.getBackend() !== initialBackend) await tf.setBackend(initialBackend);
    } catch (e) {
      res.warnings.push(
        `the float backend ${tf.getBackend()} failed while freeing this model's tensors (${(e as Error).message ?? String(e)}): later models in this process may fail`,
      );
    }
    res.seconds = (performance.now() - t0) / 1000;
  }
  return res;
}
