// Post-training quantization: optimize() the float graph (BatchNorm folding, bias and
// activation fusion), then annotate it for §12 —
//   dynamic: int8 weights of Conv2D / MatMul (per output channel by default), activations
//            quantized at run time; everything else float.
//   int8:    int8 weights of every weighted op, activation parameters from calibration
//            (observers), pass-through ops and Softmax with their fixed parameters; optional
//            bias correction, per-layer error report and accuracy guard (layers moved back to
//            float, most sensitive first, until a metric is within tolerance).
//   float16: float16 weight storage.
// The result is the annotated Graph (saveNative / saveTfjs) and a report.
import { tf } from '../backend/float.js';
import { cloneGraph, type Constant, type Graph } from '../model/ir.js';
import { loadModel, type ModelSource } from '../model/load.js';
import { optimize as optimizeGraph } from '../model/passes/index.js';
import { BiasCorrector, type BiasCorrection } from './bias-correction.js';
import { equalizationChains, equalize, type Equalization } from './equalize.js';
import { calibrate, iterateData, normalizeSample, type CalibrateProgress, type CalibrationData } from './calibrate.js';
import { quantizeWeightInt4, dequantizeWeightInt4, int4WeightStats } from './int4.js';
import {
  activationTable,
  DYNAMIC_MINIMUM,
  tooNarrowForDynamic,
  int8Obstacle,
  planExecution,
  quantizationInfo,
  type IoType,
  type NodeExecution,
  type QuantizationInfo,
  type QuantMode,
  WEIGHT_INPUT,
} from './params.js';
import type { ObserverKind } from './observers.js';
import { layerReport, type LayerReport } from './report.js';
import { observerOptions, QUANT_MODES, validateQuantizeOptions, type QuantizeOptions } from './quantize-options.js';
import { runGuard, type AccuracyGuardOptions, type GuardReport, type QuantMetric } from './guard.js';
import { hasNonFinite, nonFiniteReaders } from './non-finite.js';
import {
  fitBiasScale,
  float16Weight,
  quantizeWeight,
  setActivationRanges,
  weightedNodes,
  weightKind,
} from './weights.js';

export type { QuantMode, IoType, AccuracyGuardOptions, QuantMetric, GuardReport, QuantizeOptions };
export { QUANT_MODES };
export { simulatedPredict, floatPredict } from './guard.js';

export interface QuantizeReport {
  mode: QuantMode;
  perChannel: boolean;
  observer?: ObserverKind;
  calibrationSamples?: number;
  /** How every node runs (§12.2 / §12.4). */
  nodes: { name: string; op: string; execution: NodeExecution }[];
  /** Nodes left in float32 with the reason (unsupported op, user request, accuracy guard…). */
  floatNodes: { name: string; op: string; reason: string }[];
  weights: { quantized: number; floatBytes: number; storedBytes: number };
  /** weightBits 4: per weight, the group size, scale storage, stored bits per weight (scales and zero points included) and SNR vs float. */
  int4?: {
    node: string;
    weight: string;
    shape: number[];
    groupSize: number;
    scaleStorage: string;
    bitsPerWeight: number;
    snrDb: number;
  }[];
  /** weightBits 4: layers given 8-bit weights instead, and why (a thin layer, the accuracy guard). */
  widened?: { node: string; reason: string }[];
  biasCorrection?: BiasCorrection[];
  /** int8: weights given larger channel scales so their int32 bias fits (§12.1). */
  biasScaleFits?: { node: string; channels: number }[];
  /** int8: producer → consumer pairs whose channels were equalized. */
  equalization?: Equalization[];
  layers?: LayerReport;
  guard?: GuardReport;
}

export interface QuantizeResult {
  graph: Graph;
  report: QuantizeReport;
}

/**
 * 4-bit weights lose too much on thin layers: a row along K shorter than 32 (the first
 * convolution of an image model: K = 3·3·3 = 27) feeds every output from a handful of 16-level
 * weights, and a layer of fewer than 4096 weights saves a few kilobytes at most. Such layers get
 * 8-bit weights (the reason); others undefined. The guard widens more where measured to need it.
 */
function thinLayer(shape: readonly number[], nAxis: number): string | undefined {
  const total = shape.reduce((a, b) => a * b, 1);
  const k = total / shape[nAxis]!;
  if (k < 32) return `thin layer (K = ${k} < 32)`;
  if (total < 4096) return `small layer (${total} weights)`;
  return undefined;
}

function isGraph(v: unknown): v is Graph {
  return (
    typeof v === 'object' && v !== null && Array.isArray((v as Graph).nodes) && (v as Graph).constants instanceof Map
  );
}

/**
 * int8: weights whose int32 bias would overflow get larger channel scales (fitBiasScale, §12.1),
 * now that the input scales are calibrated and the biases final. Returns the nodes changed.
 */
function fitBiasScales(q: Graph): { node: string; channels: number }[] {
  const acts = activationTable(q);
  const out: { node: string; channels: number }[] = [];
  for (const n of q.nodes) {
    if (n.opaque || WEIGHT_INPUT[n.op] === undefined) continue;
    const deconv = n.op === 'Conv2DBackpropInput';
    const x = acts[deconv ? n.inputs[2]! : n.inputs[0]!];
    const b = q.constants.get((deconv ? n.inputs[3] : n.inputs[2]) ?? '');
    const w = q.constants.get(n.inputs[WEIGHT_INPUT[n.op]!]!);
    if (!x || !b || !w || b.dtype !== 'float32') continue;
    const channels = fitBiasScale(w, n, b.data as Float32Array, x.scale);
    if (channels) out.push({ node: n.name, channels });
  }
  return out;
}

/** Puts the float weights and biases of `nodes` back to `reference`'s (constants no quantized node reads). */
function restoreOriginalWeights(q: Graph, reference: Graph, nodes: string[]): void {
  for (const name of nodes) {
    const n = q.nodes.find((m) => m.name === name);
    for (const t of n?.inputs.slice(1, 3) ?? []) {
      const c = q.constants.get(t),
        orig = reference.constants.get(t);
      if (c && orig && !c.quantization?.affine) c.data = orig.data;
    }
  }
}

function constBytes(c: Constant): number {
  const q = c.quantization;
  if (q?.affine?.values) {
    const a = q.affine;
    if (a.dtype === 'int4' && a.groupSize !== undefined && c.data instanceof Float32Array)
      return int4WeightStats(c.data as Float32Array, a, c.shape).bytes;
    return (
      (a.dtype === 'int4' ? Math.ceil(a.values!.length / 2) : a.values!.byteLength) +
      a.scales.byteLength +
      a.zeroPoints.byteLength
    );
  }
  if (q?.tfjs?.dtype === 'float16') return (c.data as Float32Array).length * 2;
  return (c.data as { byteLength?: number }).byteLength ?? 0;
}

function weightStats(g: Graph): QuantizeReport['weights'] {
  let quantized = 0,
    floatBytes = 0,
    storedBytes = 0;
  for (const c of g.constants.values()) {
    const fb = (c.data as { byteLength?: number }).byteLength ?? 0;
    floatBytes += fb;
    const sb = constBytes(c);
    storedBytes += sb;
    if (c.quantization?.affine || c.quantization?.tfjs?.dtype === 'float16') quantized++;
  }
  return { quantized, floatBytes, storedBytes };
}

function topIndex(d: Float32Array, row: number, cols: number): number {
  let best = 0;
  for (let j = 1; j < cols; j++) if (d[row * cols + j]! > d[row * cols + best]!) best = j;
  return best;
}

/** Top-1 agreement of two [rows, classes] outputs. */
export function top1Agreement(a: Float32Array, b: Float32Array, classes: number): number {
  if (a.length !== b.length || a.length % classes !== 0) throw new RangeError('outputs of different sizes');
  const rows = a.length / classes;
  let same = 0;
  for (let r = 0; r < rows; r++) if (topIndex(a, r, classes) === topIndex(b, r, classes)) same++;
  return rows ? same / rows : 1;
}

async function collect(g: Graph, data: CalibrationData, max: number): Promise<Record<string, tf.Tensor>[]> {
  const out: Record<string, tf.Tensor>[] = [];
  let rows = 0;
  for await (const s of iterateData(data, 'validation data')) {
    const { inputs, rows: r, created } = normalizeSample(g, s, out.length);
    out.push(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.keep(t.clone())])));
    created.forEach((t) => t.dispose());
    rows += r;
    if (rows >= max) break;
  }
  if (!out.length) throw new RangeError('the validation dataset is empty');
  return out;
}

/** Quantizes a model (a Graph, or a path / in-memory model to load). The input graph is not modified. */
export async function quantize(model: Graph | ModelSource, options: QuantizeOptions): Promise<QuantizeResult> {
  validateQuantizeOptions(options);
  const src = isGraph(model) ? model : await loadModel(model as ModelSource);
  const reference = options.optimize === false ? cloneGraph(src) : optimizeGraph(src);
  const q = cloneGraph(reference);
  // The float model q's quantization is measured against: `reference`, or its equalized form.
  let floatRef = reference;
  const perChannel = options.perChannel ?? true;
  const dynamicMin = {
    k: options.dynamicMinK ?? DYNAMIC_MINIMUM.k,
    n: options.dynamicMinN ?? DYNAMIC_MINIMUM.n,
  };
  for (const name of options.floatNodes ?? [])
    if (!q.nodes.some((n) => n.name === name))
      throw new RangeError(`floatNodes: '${name}' is not a node of the (optimized) graph`);
  const opTypes = options.opTypes;
  const userFloat = [
    ...new Set([
      ...(options.floatNodes ?? []),
      ...(opTypes ? q.nodes.filter((n) => !opTypes.includes(n.op)).map((n) => n.name) : []),
    ]),
  ];
  const report: QuantizeReport = {
    mode: options.mode,
    perChannel,
    nodes: [],
    floatNodes: [],
    weights: { quantized: 0, floatBytes: 0, storedBytes: 0 },
  };

  if (options.mode === 'float16') {
    let n = 0;
    for (const c of q.constants.values()) if (float16Weight(c)) n++;
    if (n === 0) throw new RangeError('the model has no float32 weights to store as float16');
    q.metadata.quantization = {
      mode: 'float16',
      floatNodes: [],
      inputType: 'float32',
      outputType: 'float32',
    } satisfies QuantizationInfo;
    report.nodes = q.nodes.map((m) => ({ name: m.name, op: m.op, execution: 'float' as const }));
    report.weights = weightStats(q);
    q.transformed = true;
    return { graph: q, report };
  }

  // ---- weights (never a constant holding NaN/Inf: its readers stay float)
  const nonFinite = nonFiniteReaders(q);
  const nonFiniteNodes = new Set(nonFinite.map((r) => r.node));
  const weighted = weightedNodes(q).filter(
    ({ node, weight }) => !userFloat.includes(node.name) && !nonFiniteNodes.has(node.name) && !hasNonFinite(weight),
  );
  const skipped: { name: string; op: string; reason: string }[] = nonFinite.map((r) => ({
    name: r.node,
    op: r.op,
    reason: `reads non-finite constant '${r.constant}'`,
  }));
  const quantizeInt8Weights = () => {
    for (const { node, weight } of weighted) {
      if (!quantizeWeight(weight, node, perChannel ? 'channel' : 'tensor')) {
        skipped.push({ name: node.name, op: node.op, reason: 'weight is not a float32 constant of the expected rank' });
      }
    }
  };
  // int8: channel range equalization (src/quant/equalize.ts) needs per-channel ranges from the
  // calibration pass before the weights are quantized; bias correction compares quantized with
  // float weights during that same pass, so the two exclude each other (decided here).
  const equalizeOn = options.mode === 'int8' && perChannel && options.equalize === true && !options.biasCorrection;
  const chains = equalizeOn ? equalizationChains(q, new Set([...userFloat, ...nonFiniteNodes])) : [];
  if (options.mode === 'dynamic') {
    for (const { node, weight } of weighted) {
      const perLayer = options.weightBits === 4 && options.weightBitsPerLayer === true;
      if (
        perLayer &&
        node.op === 'DepthwiseConv2dNative' &&
        !weight.quantization?.affine &&
        !q.nodes.some((m) => m !== node && m.inputs.includes(weight.name)) &&
        quantizeWeight(weight, node, 'channel')
      ) {
        // Depthwise layers have no dynamic kernel and few weights per channel (9): they keep
        // float execution on 8-bit stored weights (dequantized at load) — the file shrinks 4×
        // where 4 bits would lose too much.
        (report.widened ??= []).push({ node: node.name, reason: 'depthwise: 8-bit stored weights, float execution' });
        continue;
      }
      if (node.op !== 'Conv2D' && node.op !== 'MatMul') continue;
      if (node.op === 'MatMul' && node.attrs.transpose_a === true) {
        skipped.push({ name: node.name, op: node.op, reason: 'MatMul with transpose_a has no dynamic kernel' });
        continue;
      }
      const kind = weightKind(node);
      const axis = kind === 'dense' ? (node.attrs.transpose_b === true ? 0 : 1) : 3;
      const thin = perLayer && thinLayer(weight.shape, axis);
      if (
        thin &&
        weight.dtype === 'float32' &&
        !weight.quantization?.affine &&
        quantizeWeight(weight, node, 'channel')
      ) {
        (report.widened ??= []).push({ node: node.name, reason: thin });
      } else if (options.weightBits === 4) {
        if (weight.dtype !== 'float32' || weight.quantization?.affine) continue;
        const affine = quantizeWeightInt4(weight.data as Float32Array, weight.shape, axis, {
          groupSize: options.groupSize ?? 64,
          scaleBits: options.scaleBits ?? 8,
        });
        const st = int4WeightStats(weight.data as Float32Array, affine, weight.shape);
        (report.int4 ??= []).push({
          node: node.name,
          weight: weight.name,
          shape: [...weight.shape],
          groupSize: st.groupSize,
          scaleStorage: st.scaleStorage,
          bitsPerWeight: st.bitsPerWeight,
          snrDb: st.snrDb,
        });
        weight.data = dequantizeWeightInt4(affine, weight.shape);
        weight.quantization = { ...(weight.quantization ?? {}), affine };
      } else if (!quantizeWeight(weight, node, perChannel ? 'channel' : 'tensor')) {
        skipped.push({ name: node.name, op: node.op, reason: 'weight is not a float32 constant of the expected rank' });
      }
    }
    // Layers too narrow for the dynamic kernel to pay: float on their int8 weights.
    const narrowFloat: string[] = [];
    for (const n of q.nodes) {
      const why = tooNarrowForDynamic(q, n, dynamicMin);
      if (why === undefined || userFloat.includes(n.name) || nonFiniteNodes.has(n.name)) continue;
      if (q.constants.get(n.inputs[1]!)?.quantization?.affine?.dtype !== 'int8') continue;
      narrowFloat.push(n.name);
      skipped.push({
        name: n.name,
        op: n.op,
        reason: `${why}: float on its int8 weights (the dynamic kernel would be slower)`,
      });
    }
    q.metadata.quantization = {
      mode: 'dynamic',
      floatNodes: [...userFloat, ...nonFiniteNodes, ...narrowFloat],
      inputType: 'float32',
      outputType: 'float32',
      dynamic: { granularity: options.dynamicGranularity ?? 'row' },
      ...(options.weightBits === 4 ? { weightBits: 4, groupSize: options.groupSize ?? 64 } : {}),
    } satisfies QuantizationInfo;
    const anyQuant = q.nodes.some(
      (n) => (n.op === 'Conv2D' || n.op === 'MatMul') && q.constants.get(n.inputs[1]!)?.quantization?.affine,
    );
    if (!anyQuant)
      throw new RangeError(
        'the model has no quantizable op for mode dynamic (Conv2D or MatMul with a constant float32 weight)',
      );
  } else {
    if (!equalizeOn) quantizeInt8Weights();
    q.metadata.quantization = {
      mode: 'int8',
      floatNodes: [...userFloat, ...nonFiniteNodes],
      inputType: options.inputType ?? 'float32',
      outputType: options.outputType ?? 'float32',
      // For the nodes the accuracy guard runs dynamic.
      dynamic: { granularity: options.dynamicGranularity ?? 'row' },
    } satisfies QuantizationInfo;
  }

  // ---- calibration (int8), bias correction, evaluation samples (one pass over the data)
  const evalMax = options.evalSamples ?? 256;
  const kept: Record<string, tf.Tensor>[] = [];
  let keptRows = 0;
  const corrector = options.biasCorrection ? new BiasCorrector(reference, q) : undefined;
  const keep = (inputs: Record<string, tf.Tensor>) => {
    if (keptRows >= evalMax || options.validation !== undefined) return;
    kept.push(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.keep(t.clone())])));
    keptRows += Object.values(inputs)[0]?.shape[0] ?? 1;
  };
  try {
    if (options.mode === 'int8') {
      const oo = observerOptions(options);
      const cal = await calibrate(reference, options.calibration!, {
        observer: oo,
        maxSamples: options.maxSamples,
        onProgress: (p: CalibrateProgress) => options.onProgress?.({ stage: 'calibrate', ...p }),
        onBatch: (inputs) => {
          corrector?.observe(inputs);
          keep(inputs);
        },
        channelRanges: chains.flatMap((c) => c.tensors),
      });
      report.observer = cal.observer;
      report.calibrationSamples = cal.samples;
      if (equalizeOn) {
        report.equalization = equalize(q, chains, cal.channelRanges, cal.ranges);
        // The equalized float model computes the same function as `reference` but its scaled
        // tensors differ per channel: reports and the guard compare like with like against it.
        if (report.equalization.length) floatRef = cloneGraph(q);
        quantizeInt8Weights();
      }
      setActivationRanges(q, cal.ranges);
      const acts = activationTable(q);
      if ((options.inputType ?? 'float32') !== 'float32')
        for (const i of q.inputs)
          if (!acts[i.name])
            throw new RangeError(`inputType ${options.inputType}: input '${i.name}' has no calibrated range`);
    } else if (options.calibration !== undefined && (corrector || options.report !== false || options.accuracyGuard)) {
      let batches = 0,
        rows = 0;
      for await (const s of iterateData(options.calibration)) {
        const { inputs, rows: r, created } = normalizeSample(q, s, batches++);
        corrector?.observe(inputs);
        keep(inputs);
        created.forEach((t) => t.dispose());
        rows += r;
        if (options.maxSamples !== undefined && rows >= options.maxSamples) break;
      }
    }
    if (corrector) {
      options.onProgress?.({ stage: 'bias-correction' });
      report.biasCorrection = corrector.apply();
    } else if (options.biasCorrection && options.calibration === undefined) {
      throw new TypeError('biasCorrection needs calibration data (options.calibration)');
    }

    if (options.mode === 'int8') report.biasScaleFits = fitBiasScales(q);

    // ---- the plan and what stays float
    const plan = planExecution(q);
    if (options.mode === 'int8' && ![...plan.values()].includes('int8')) {
      throw new RangeError('no node of the model can run int8 (no quantizable op with calibrated inputs and outputs)');
    }
    const evalData = options.validation !== undefined ? await collect(q, options.validation, evalMax) : kept;
    if (options.validation !== undefined) kept.push(...evalData);

    // ---- accuracy guard
    if (options.accuracyGuard) {
      if (!evalData.length)
        throw new TypeError('accuracyGuard needs evaluation data (options.validation or options.calibration)');
      options.onProgress?.({ stage: 'guard' });
      report.guard = await runGuard(q, floatRef, evalData, options.accuracyGuard, options.onProgress, dynamicMin);
      const widened = new Set(report.guard.widenedTo8Bit);
      if (widened.size) {
        report.int4 = report.int4?.filter((w) => !widened.has(w.node));
        (report.widened ??= []).push(...[...widened].map((node) => ({ node, reason: 'accuracy guard' })));
      }
    }
    const finalPlan = planExecution(q);
    // A chain the guard moved wholly to float gains nothing from its equalization: it gets the
    // original weights back (the same function without the rescaling's float rounding, which a
    // high-gain net amplifies).
    for (const e of report.equalization ?? []) {
      const names = [e.producer, ...e.between, e.consumer];
      if (names.every((n) => finalPlan.get(n) === 'float'))
        restoreOriginalWeights(q, reference, [e.producer, e.consumer]);
    }
    const info = quantizationInfo(q)!;
    report.nodes = q.nodes.map((n) => ({ name: n.name, op: n.op, execution: finalPlan.get(n.name)! }));
    for (const n of q.nodes) {
      if (finalPlan.get(n.name) !== 'float') continue;
      if (n.outputs.every((o) => (q.tensors.get(o)?.dtype ?? 'float32') !== 'float32')) continue;
      const s = skipped.find((x) => x.name === n.name);
      const reason =
        s?.reason ??
        (report.guard?.movedToFloat.includes(n.name)
          ? 'accuracy guard'
          : userFloat.includes(n.name)
            ? options.floatNodes?.includes(n.name)
              ? 'requested (floatNodes)'
              : `op ${n.op} not in opTypes`
            : undefined) ??
        (options.mode === 'int8' ? (int8Obstacle(q, n, info) ?? 'float') : `op ${n.op} runs float in mode dynamic`);
      if (options.mode === 'dynamic' && reason.startsWith('op ') && !s) continue; // dynamic: only conv/matmul are candidates
      report.floatNodes.push({ name: n.name, op: n.op, reason });
    }
    if (options.report ?? evalData.length > 0) {
      if (evalData.length) {
        options.onProgress?.({ stage: 'report' });
        report.layers = await layerReport(q, floatRef, evalData);
      }
    }
    report.weights = weightStats(q);
    q.transformed = true;
    return { graph: q, report };
  } finally {
    for (const r of kept) for (const t of Object.values(r)) t.dispose();
  }
}
