// The accuracy guard: keeps in float (or, for 4-bit weights, widens to 8 bits) the layers that
// cannot be quantized accurately, until a metric of the quantized model is within tolerance.
//
// Default metric: the minimum over EVERY output of the output score (src/quant/output-fidelity.ts:
// cosine for outputs of ≥ 16 values, 1 − relative error for smaller ones), each also judged by
// the score predicted for inputs the guard has not seen (a small output's worst input; a cosine
// output's pooled cosine on a held-out set, which a few strong samples can pull below the guard's:
// predictedCosine), the quantized graph run by the engine given (the CLI gives
// the native runtime) or by simulate(), against the float reference run by execute() on the
// guard data (calibration or validation samples — never the evaluation inputs a report
// shows). An output that comes out of a selection (NMS, top-k, a peak mask before one:
// src/quant/measure-points.ts) is scored at the continuous tensors entering its discrete part
// (and at itself too when every output is discrete): a reordering of near-equal boxes would
// otherwise send the whole detector to float.
//
// Which layers: the per-layer error report (src/quant/report.ts) measures the SNR each node loses
// on the guard data. A float node that amplifies its input's error (Exp, Sigmoid, a division in
// a box decoder) shows the loss at itself, where nothing can be changed: its loss is charged to
// the quantized nodes that feed it. A ConcatV2 whose inputs' calibrated ranges differ more than
// 16× loses the small-range inputs under one shared scale while its SNR (dominated by the large
// part) looks fine: it is ranked first. Only ancestors of the outputs that miss the target are
// candidates. The candidates are taken in that order, in a prefix of growing length (1, 2, 4, …)
// until the metric holds, then the shortest passing prefix is found by bisection: about
// 2·log2(candidates) evaluations instead of one per layer; then groups of that prefix are tried
// back in quantized form (a bounded group test, two trials per layer of the prefix, 12 to 128),
// since the ranking is only a guess. So many trials fit the samples they are judged on, so what
// a search keeps must hold on guard samples it did not search on (the dynamic search's other
// half; for the float search's group test, half of the samples search and half check).
import type { tf } from '../backend/float.js';
import { execute } from '../model/execute.js';
import {
  ancestors,
  type Constant,
  type ConstantQuantization,
  type Graph,
  type Node,
  type TensorData,
} from '../model/ir.js';
import {
  activationInputs,
  activationTable,
  DYNAMIC_MINIMUM,
  dynamicCapable,
  planExecution,
  tooNarrowForDynamic,
  type DynamicMinimum,
  type NodeExecution,
  type QuantizationInfo,
} from './params.js';
import { layerReport, type LayerReport } from './report.js';
import { dequantizeSim, simulate, simulateAsync } from './simulate.js';
import { guardFidelity, guardScore, tensorSpec, type OutputFidelity } from './output-fidelity.js';
import { measurePoints, type DiscreteOutput } from './measure-points.js';
import { floatOutputs, precisionFloor, type PrecisionFloor } from './precision-floor.js';
import { quantizeWeight } from './weights.js';

/** A metric of a model given a predict function (first output, float32); higher is better. */
export type QuantMetric = (predict: (inputs: Record<string, tf.Tensor>) => Float32Array) => number | Promise<number>;

/**
 * The quantized graph run as it will be deployed. prepare() is called once per evaluation with
 * the graph as annotated for that trial and the tensors to fetch; its run() returns them for
 * one sample (float32, in `points` order). The default is the §12 simulation. It matches the
 * native kernels operation by operation, but a quantized network is discontinuous: float
 * partial sums added in another order flip a few roundings, and through twenty layers that
 * moves a softmax by 0.003 — as much as the margin the guard keeps. Judging on the engine
 * that will run the file removes that doubt.
 */
export interface QuantizedEngine {
  /** What the report calls it ('native runtime'). */
  name: string;
  /** undefined when this engine cannot run g (the guard then uses the simulation). */
  prepare(g: Graph, points: string[], sample: Record<string, tf.Tensor>): Promise<QuantizedRun | undefined>;
}

export interface QuantizedRun {
  run(inputs: Record<string, tf.Tensor>): Promise<Float32Array[]>;
  dispose(): void;
}

export interface AccuracyGuardOptions {
  /**
   * Allowed drop of the metric below the float model's (≥ 0). The default metric's float value
   * is 1, so tolerance 0.01 asks every output's cosine (or 1 − relative error) to be ≥ 0.99.
   */
  tolerance: number;
  /** Default: the minimum output score over every output (see the file comment). */
  metric?: QuantMetric;
  /** At most this many nodes moved to float (default: all that can be). */
  maxFloatNodes?: number;
  /** Default metric: what runs the quantized graph (default: the §12 simulation). */
  engine?: QuantizedEngine;
}

export interface GuardReport {
  metric: string;
  float: number;
  initial: number;
  final: number;
  tolerance: number;
  movedToFloat: string[];
  /** int8 mode: Conv2D / MatMul nodes run dynamic instead (int8 weights, activations quantized per row). */
  movedToDynamic: string[];
  /** 4-bit weights widened to 8 bits. */
  widenedTo8Bit: string[];
  satisfied: boolean;
  /** Evaluations of the quantized model the search took. */
  evaluations: number;
  /** Default metric: what ran the quantized graph ('simulation' or the engine's name). */
  engine?: string;
  /** Default metric: the final score of every measure point (output or, for a discrete output, the tensors it is measured at) on the guard data. */
  outputs?: OutputFidelity[];
  /** Default metric: outputs after a selection op, measured at the continuous tensors entering it. */
  discrete?: DiscreteOutput[];
  /**
   * int8 with the default metric and ≥ 4 guard samples: the first search (which may step
   * convolutions back to dynamic) ran on the first half of the samples; its result scored
   * `score` on the other half, and was kept when that met the tolerance (else a second search,
   * with float as the only step back, ran on every sample).
   */
  heldOut?: { samples: number; score: number; kept: boolean };
  /**
   * Default metric, when the fully quantized model missed the target: what the stored weights
   * alone cost and how finely the float model's outputs resolve (precision-floor.ts).
   */
  floor?: PrecisionFloor;
}

/** Concatenated inputs whose ranges differ by more than this share one scale badly. */
const CONCAT_RANGE_RATIO = 16;
/** Share of the allowed loss the guard keeps in hand against held-out inputs. */
const GUARD_MARGIN = 0.25;
/**
 * Evaluations spent putting needlessly float layers back to quantized: two per layer of the
 * prefix (a group search finds each needed layer in about 2·log2(groups) trials), at least
 * BACK_OFF_MIN and at most BACK_OFF_MAX. Each is one run of the guard samples on the native
 * runtime.
 */
const BACK_OFF_MIN = 12;
const BACK_OFF_MAX = 128;
/** SNR of a full-range signal quantized to 8 bits. */
const INPUT_SNR_DB = 6.02 * 8 + 1.76;
/** How many ops back a float node's loss is charged to the quantized nodes feeding it. */
const CHARGE_DEPTH = 4;

/** predict() of a graph on the simulation (first output, dequantized). */
export function simulatedPredict(g: Graph): (inputs: Record<string, tf.Tensor>) => Float32Array {
  return (inputs) => dequantizeSim(simulate(g, inputs).outputs[0]!).data as Float32Array;
}

/** predict() of a graph with float execution (first output). */
export function floatPredict(g: Graph): (inputs: Record<string, tf.Tensor>) => Float32Array {
  return (inputs) => {
    const outs = execute(g, inputs);
    const d = Float32Array.from(outs[0]!.dataSync() as Float32Array);
    outs.forEach((t) => t.dispose());
    return d;
  };
}

async function simulatedOutputs(g: Graph, x: Record<string, tf.Tensor>, points: string[]): Promise<Float32Array[]> {
  const sim = await simulateAsync(g, x, { capture: points.filter((t) => !g.outputs.includes(t)) });
  return points.map((t) => {
    const i = g.outputs.indexOf(t);
    const v = i >= 0 ? sim.outputs[i] : sim.tensors.get(t);
    if (!v) throw new Error(`internal: measure point '${t}' was not computed by the simulation`);
    return Float32Array.from(dequantizeSim(v).data as ArrayLike<number>);
  });
}

/** ConcatV2 nodes whose activation inputs' calibrated ranges differ by more than CONCAT_RANGE_RATIO. */
export function mismatchedConcats(g: Graph): string[] {
  const acts = activationTable(g);
  const out: string[] = [];
  for (const n of g.nodes) {
    if (n.op !== 'ConcatV2') continue;
    const spans = activationInputs(g, n)
      .map((t) => acts[t])
      .filter((a) => a !== undefined)
      .map((a) => Math.max(Math.abs(a!.min), Math.abs(a!.max)));
    if (spans.length < 2) continue;
    const lo = Math.min(...spans),
      hi = Math.max(...spans);
    if (hi > CONCAT_RANGE_RATIO * Math.max(lo, 1e-12)) out.push(n.name);
  }
  return out;
}

/** Candidates, most harmful first: each quantized node's own SNR loss plus the losses of float nodes it feeds. */
function rankCandidates(q: Graph, plan: Map<string, NodeExecution>, rep: LayerReport, failing: string[]): string[] {
  const byName = new Map(q.nodes.map((n) => [n.name, n]));
  const producer = new Map(q.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const drop = new Map<string, number>();
  const charge = (name: string, d: number) => drop.set(name, Math.max(drop.get(name) ?? -Infinity, d));
  const graphInputs = new Set(q.inputs.map((i) => i.name));
  for (const l of rep.layers) {
    const n = byName.get(l.node);
    if (!n) continue;
    if (plan.get(n.name) !== 'float' || q.constants.get(n.inputs[1] ?? '')?.quantization?.affine) {
      // The report cannot see the quantization of a graph input, so a layer reading only graph
      // inputs looks as if it lost everything from a perfect input; its input is taken as an
      // 8-bit signal instead (≈ 6.02·8 + 1.76 dB).
      const inputFed = activationInputs(q, n).every((t) => graphInputs.has(t));
      charge(n.name, inputFed ? Math.min(l.snrDrop, INPUT_SNR_DB - l.snrDb) : l.snrDrop);
      continue;
    }
    // A float node's loss: charged to the quantized nodes that feed it, up to CHARGE_DEPTH ops
    // back (an Exp amplifies the error of the scale before it and of the layer before that).
    let frontier: Node[] = [n];
    for (let depth = 0; depth < CHARGE_DEPTH && frontier.length; depth++) {
      const next: Node[] = [];
      for (const m of frontier) {
        for (const t of m.inputs) {
          const p = producer.get(t);
          if (!p) continue;
          // 1 dB less per op back: the nearest feeders first.
          if (plan.get(p.name) !== 'float') charge(p.name, l.snrDrop - depth);
          next.push(p);
        }
      }
      frontier = next;
    }
  }
  const relevant = ancestors(q, failing);
  const concats = new Set(mismatchedConcats(q));
  // Float nodes on quantized stored weights (depthwise layers of 4-bit models) are candidates too.
  const quantizedWeight = (name: string) => !!q.constants.get(byName.get(name)?.inputs[1] ?? '')?.quantization?.affine;
  return [...drop.keys()]
    .filter((n) => relevant.has(n) && (plan.get(n) !== 'float' || quantizedWeight(n)))
    .sort((a, b) => (concats.has(b) ? 1 : 0) - (concats.has(a) ? 1 : 0) || drop.get(b)! - drop.get(a)!);
}

interface WeightVariant {
  data: TensorData;
  quantization: ConstantQuantization | undefined;
}

/** Puts a weight's data and quantization back to a variant kept earlier. */
function setVariant(c: Constant, v: WeightVariant): void {
  c.data = v.data;
  if (v.quantization) c.quantization = v.quantization;
  else delete c.quantization;
}

/** The int4 weights of a dynamic graph, with an int8 variant prepared for widening. */
function int4Variants(
  q: Graph,
  reference: Graph,
): Map<string, { node: Node; weight: Constant; int4: WeightVariant; int8: WeightVariant }> {
  const out = new Map<string, { node: Node; weight: Constant; int4: WeightVariant; int8: WeightVariant }>();
  for (const n of q.nodes) {
    if (n.op !== 'Conv2D' && n.op !== 'MatMul') continue;
    const w = q.constants.get(n.inputs[1]!);
    const orig = reference.constants.get(n.inputs[1]!);
    if (!w || !orig || w.quantization?.affine?.dtype !== 'int4') continue;
    if (q.nodes.some((m) => m !== n && m.inputs.includes(w.name))) continue; // shared weight: leave as it is
    const copy: Constant = { ...orig, quantization: orig.quantization ? { ...orig.quantization } : undefined };
    if (!quantizeWeight(copy, n, 'channel')) continue;
    out.set(n.name, {
      node: n,
      weight: w,
      int4: { data: w.data, quantization: w.quantization },
      int8: { data: copy.data, quantization: copy.quantization },
    });
  }
  return out;
}

/** Restores the float weight (and bias) of a node moved to float when no quantized node still reads them. */
export function restoreFloat(q: Graph, reference: Graph, n: Node, plan: Map<string, NodeExecution>): void {
  for (const t of n.inputs.slice(1, 3)) {
    const c = q.constants.get(t),
      orig = reference.constants.get(t);
    if (!c || !orig) continue;
    if (q.nodes.some((m) => m !== n && m.inputs.includes(t) && plan.get(m.name) !== 'float')) continue;
    c.data = orig.data;
    if (c.quantization?.affine) {
      const { affine: _drop, ...rest } = c.quantization;
      void _drop;
      if (Object.keys(rest).length) c.quantization = rest;
      else delete c.quantization;
    }
  }
}

/**
 * Runs the guard on q (annotated, modified in place): returns what it moved and the metric
 * before and after. `data` are the guard samples.
 */
export async function runGuard(
  q: Graph,
  reference: Graph,
  data: Record<string, tf.Tensor>[],
  o: AccuracyGuardOptions,
  onProgress?: (p: { stage: 'guard'; floatNodes: number }) => void,
  /** Conv2D / MatMul layers the narrow-layer rule runs float never step back to dynamic (params.ts DYNAMIC_MINIMUM). */
  dynamicMin: DynamicMinimum = DYNAMIC_MINIMUM,
): Promise<GuardReport> {
  const info = q.metadata.quantization as QuantizationInfo;
  const userFloat = [...info.floatNodes];
  let evaluations = 0;
  let lastOutputs: OutputFidelity[] | undefined;
  // Default metric: the last evaluation's score with every prediction held to the tolerance
  // itself (the metric the search compares with the target lets held-out predictions the
  // margin: guardScore); what the report shows and `satisfied` judges.
  let lastJudged: number | undefined;
  let discreteOutputs: DiscreteOutput[] = [];
  let failing: string[] = [];
  let metric: (g: Graph) => Promise<number>;
  // Default metric: the precision floor of q as quantized (precision-floor.ts).
  let floorOf: (() => Promise<PrecisionFloor>) | undefined;
  // What ran the quantized graph in the evaluations (the last one's).
  let engineUsed = 'simulation';
  // The samples the default metric runs on (all of them, but for the hold-out check below).
  const all = data.map((_, i) => i);
  let use = all;
  // The samples the last evaluation ran on (whose failing outputs `failing` holds).
  let measuredOn: number[] | undefined;
  let base: number;
  if (o.metric) {
    const m = o.metric;
    base = await m(floatPredict(reference));
    metric = async (g) => {
      evaluations++;
      return m(simulatedPredict(g));
    };
  } else {
    // Discrete outputs (after a non-maximum suppression, a top-k) are measured where the model
    // is still continuous (src/quant/measure-points.ts).
    const { points, discrete } = measurePoints(reference);
    discreteOutputs = discrete;
    const specs = points.map((t) => tensorSpec(reference, t));
    const ref: Float32Array[][] = [];
    for (const x of data) ref.push(await floatOutputs(reference, x, points));
    floorOf = () => precisionFloor(q, reference, data, points, specs, ref, allowance);
    base = 1;
    metric = async (g) => {
      evaluations++;
      const got: Float32Array[][] = [];
      const run = await o.engine?.prepare(g, points, data[use[0]!]!);
      if (run) engineUsed = o.engine!.name;
      try {
        for (const i of use) got.push(run ? await run.run(data[i]!) : await simulatedOutputs(g, data[i]!, points));
      } finally {
        run?.dispose();
      }
      // Outputs are judged by the scores predicted for inputs the guard has not seen too.
      const { fidelity: f, score } = guardFidelity(
        specs,
        use.map((i) => ref[i]!),
        got,
        allowance,
      );
      measuredOn = use;
      lastOutputs = f.outputs;
      lastJudged = Math.min(...f.outputs.map((p) => guardScore(p)));
      // Failing: below the target the search aims at, not only below the tolerance; an output
      // scoring between the two would leave the search no candidate while it misses the target.
      failing = f.outputs.filter((p) => guardScore(p, allowance) < target).map((p) => p.output);
      return score;
    };
  }
  // The guard sees a few samples; held-out inputs score a little differently, so it aims a
  // quarter of the allowed loss above the tolerance (0.9925 for 0.99), and `satisfied` is
  // judged against the tolerance itself. A cosine output's held-out prediction models that
  // difference already: it is held to the tolerance (guardScore's allowance).
  const target = base - o.tolerance * (1 - GUARD_MARGIN);
  const required = base - o.tolerance;
  const allowance = target - required;
  const initialSearch = await metric(q);
  const initial = lastJudged ?? initialSearch;
  const moved: string[] = [];
  const movedDynamic: string[] = [];
  const widened: string[] = [];
  let current = initialSearch;
  // One search: which candidates run dynamic (relaxOn, int8 only), which float, which 4-bit
  // layers get 8-bit weights; leaves q annotated with the result.
  const searchOnce = async (relaxOn: boolean): Promise<void> => {
    if (!o.metric && measuredOn !== use) await metric(q); // the failing outputs on these samples
    const plan = planExecution(q);
    const rep = await layerReport(
      q,
      reference,
      use.map((i) => data[i]!),
    );
    const order = rankCandidates(q, plan, rep, o.metric ? q.outputs : failing);
    // 4-bit weights: first widen to 8 bits (same order), then move to float if that is not enough.
    const variants = int4Variants(q, reference);
    const widenOrder = order.filter((n) => variants.has(n));
    // Each trial runs exactly what would be written: nodes moved to float get their float
    // weights and biases back (restoreFloat), the others keep their quantized ones.
    const quantized = new Map<string, WeightVariant>();
    for (const name of order) {
      for (const t of q.nodes.find((m) => m.name === name)!.inputs.slice(1, 3)) {
        const c = q.constants.get(t);
        if (c && !quantized.has(t)) quantized.set(t, { data: c.data, quantization: c.quantization });
      }
    }
    // int8: a Conv2D / MatMul candidate first runs dynamic (its activations quantized per row
    // as they come keep small variations a static scale rounds away, at a fraction of float's
    // cost); other candidates, and those dynamic cannot save, run float.
    const relaxable = new Set(
      relaxOn && info.mode === 'int8'
        ? order.filter((n) => {
            const node = q.nodes.find((m) => m.name === n)!;
            return dynamicCapable(q, node) && tooNarrowForDynamic(q, node, dynamicMin) === undefined;
          })
        : [],
    );
    let relaxed: string[] = [];
    const apply = (widen: number, float: number | string[]) => {
      const hard = typeof float === 'number' ? order.slice(0, float) : float;
      const hardSet = new Set(hard);
      const floatSet = [...hard, ...relaxed.filter((n) => !relaxable.has(n) && !hardSet.has(n))];
      info.dynamicNodes = relaxed.filter((n) => relaxable.has(n) && !hardSet.has(n));
      widenOrder.forEach((n, i) => {
        const v = variants.get(n)!;
        const use = i < widen ? v.int8 : v.int4;
        quantized.set(v.weight.name, use);
      });
      for (const [t, v] of quantized) setVariant(q.constants.get(t)!, v);
      info.floatNodes = [...userFloat, ...floatSet];
      const p = planExecution(q);
      for (const name of floatSet)
        restoreFloat(
          q,
          reference,
          q.nodes.find((m) => m.name === name)!,
          p,
        );
    };
    const max = Math.min(order.length, o.maxFloatNodes ?? order.length);
    // The shortest prefix of `count` candidates for which the metric holds (count when none does).
    const search = async (count: number, set: (k: number) => void): Promise<number> => {
      let lo = 0,
        hi = -1;
      for (let k = 1; ; k = Math.min(count, k * 2)) {
        set(k);
        if ((await metric(q)) >= target) {
          hi = k;
          break;
        }
        lo = k;
        if (k === count) break;
      }
      if (hi < 0) return count;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        set(mid);
        if ((await metric(q)) >= target) hi = mid;
        else lo = mid;
      }
      return hi;
    };
    let widen = 0,
      float = 0;
    if (widenOrder.length) {
      widen = await search(widenOrder.length, (k) => apply(k, 0));
      apply(widen, 0);
    }
    if (relaxable.size && max > 0 && (await metric(q)) < target) {
      const k = await search(max, (k) => {
        relaxed = order.slice(0, k);
        apply(widen, 0);
      });
      relaxed = order.slice(0, k);
      apply(widen, 0);
    }
    if (max > 0 && (await metric(q)) < target) {
      float = await search(max, (k) => apply(widen, k));
    }
    // The ranking is a guess: much of the prefix may not be needed (on a 140-layer pose net the
    // layers that matter were ranked last). Groups of it, least harmful first, are put back to
    // quantized and kept so when the metric still holds; a group that breaks it is split in two
    // and its halves tried, within a budget of evaluations (BACK_OFF_MIN…BACK_OFF_MAX).
    // Backed off: the float prefix (to its relaxed form) when there is one, else the relaxed one
    // (to quantized).
    const backOffFloat = float > 0 || relaxed.length === 0;
    const prefix = backOffFloat ? order.slice(0, float) : relaxed;
    let kept = prefix;
    const groups: string[][] = [];
    const size = Math.max(1, Math.ceil(prefix.length / 8));
    for (let end = prefix.length; end > 0; end -= size) groups.push(prefix.slice(Math.max(0, end - size), end));
    const trialApply = (set: string[]) => {
      if (backOffFloat) apply(widen, set);
      else {
        relaxed = set;
        apply(widen, 0);
      }
    };
    const budgetTotal = prefix.length > 1 ? Math.min(BACK_OFF_MAX, Math.max(BACK_OFF_MIN, 2 * prefix.length)) : 0;
    // Tens of trials, each kept when it passes, fit the samples they are judged on: on a face
    // detector 198 of them passed at 0.9926 and the model scored 0.967 on other inputs. When
    // nothing else will judge this search (every guard sample is in `use`), its trials run on
    // half of them and what it kept must hold on the other half, or the prefix stays float.
    const searched = use;
    const unchecked = use.length === all.length && use.length >= 4;
    const checkOn = unchecked ? use.slice(Math.ceil(use.length / 2)) : [];
    if (unchecked) use = use.slice(0, Math.ceil(use.length / 2));
    for (let budget = budgetTotal; budget > 0 && groups.length; budget--) {
      const group = new Set(groups.shift()!);
      const trial = kept.filter((n) => !group.has(n));
      trialApply(trial);
      if ((await metric(q)) >= target) kept = trial;
      else if (group.size > 1) {
        const g = [...group];
        groups.unshift(g.slice(Math.ceil(g.length / 2)), g.slice(0, Math.ceil(g.length / 2)));
      }
    }
    if (unchecked && kept !== prefix) {
      use = checkOn;
      trialApply(kept);
      if ((await metric(q)) < target) kept = prefix;
    }
    use = searched;
    trialApply(kept);
    widened.splice(0, widened.length, ...widenOrder.slice(0, widen));
  };
  let heldOut: GuardReport['heldOut'];
  let floor: PrecisionFloor | undefined;
  if (current < target) {
    // Measured before the search moves weights back to float: why layers will be kept float.
    floor = await floorOf?.();
    // Running a convolution dynamic saves most of its int8 speed, but where its error meets a
    // discrete choice (non-max suppression) or an amplifier (an Exp head) the few guard samples
    // may not show it. So the search that may step back to dynamic runs on half of the samples
    // and what it chose must hold on the other half; otherwise the guard searches again with
    // float as the only step back. What holds is kept even when it runs nothing dynamic: its
    // float set was searched and checked as the second search's would be, and is often much
    // smaller (on a published detector, 6 nodes against the 29 the second search ends with).
    const half = Math.floor(data.length / 2);
    // Weights as quantized, to start the second search from (the first restores float ones).
    const snapshot = new Map([...q.constants].map(([k, c]) => [k, { data: c.data, quantization: c.quantization }]));
    if (!o.metric && half >= 2 && info.mode === 'int8') {
      use = all.slice(0, half);
      await searchOnce(true);
      use = all.slice(half);
      const score = await metric(q);
      heldOut = { samples: use.length, score, kept: score >= required };
      use = all;
      if (!heldOut.kept) {
        info.floatNodes = [...userFloat];
        info.dynamicNodes = [];
        for (const [k, v] of snapshot) setVariant(q.constants.get(k)!, v);
      }
    }
    if (!heldOut?.kept) await searchOnce(false);
    moved.push(...info.floatNodes.filter((n) => !userFloat.includes(n)));
    movedDynamic.push(...(info.dynamicNodes ?? []));
    current = await metric(q);
    onProgress?.({ stage: 'guard', floatNodes: moved.length });
  }
  return {
    metric: o.metric
      ? 'custom'
      : 'min output score vs float, every output (cosine; small outputs: 1 − relative error), and its prediction for unseen inputs',
    ...(o.metric ? {} : { engine: engineUsed }),
    float: base,
    initial,
    final: lastJudged ?? current,
    tolerance: o.tolerance,
    movedToFloat: moved,
    movedToDynamic: movedDynamic,
    widenedTo8Bit: widened,
    satisfied: (lastJudged ?? current) >= required,
    evaluations,
    ...(lastOutputs ? { outputs: lastOutputs } : {}),
    ...(discreteOutputs.length ? { discrete: discreteOutputs } : {}),
    ...(heldOut ? { heldOut } : {}),
    ...(floor ? { floor } : {}),
  };
}
