// Where a quantized model's fidelity is measured. A detector's final boxes come out of a
// non-maximum suppression: a score moved by 0.001 past another box's changes which boxes are
// kept and in what order, so the cosine of the kept boxes swings from 1 to 0.3 while every
// score and box the network computed is within 0.1% of float. Such outputs are discrete: they
// are measured where the model is still continuous — the float tensors entering the first
// selection op (non-maximum suppression, top-k, arg max) on their path, or the control-flow
// region holding it (a batched NMS in a while loop) — as TFLite's and ONNX Runtime's
// quantization debuggers compare a detector before its post-processing. Outputs with no
// selection on their path are measured as they are.
//
// When the model also has continuous outputs, the discrete ones are not judged themselves (the
// report's headline leaves them out), so every float tensor entering the discrete part on their
// path is measured: a regression head gathered at the indices a top-k chose would otherwise be
// judged nowhere. When every output is discrete, the outputs are measured themselves beside the
// tensors entering the selection; they carry the heads at the chosen indices, where a whole
// offset map's cosine would also judge the values at cells nothing reads.
//
// A comparison of float tensors whose result reaches a selection is part of that selection:
// CenterNet-style heads keep the peaks of a heatmap, x · (x == maxpool(x)) or
// |x − maxpool(x)| < ε, before a top-k, and near-equal neighbours swap which of them is the
// peak under any change (one layer's weights at 45 dB SNR moved the masked heatmap to cosine
// 0.6). A comparison that reaches no selection (the bounds test of a bilinear sampler) stays
// continuous: measuring around it would hide every layer after it from the guard.
import { COMPARISON_OPS } from '../model/comparisons.js';
import { controlFlowRegions, executionUnits } from '../model/control-flow.js';
import { ancestors, type Graph } from '../model/ir.js';

/** Ops whose outputs jump under a small change of their inputs (a rank, a threshold, an overlap). */
export const SELECTION_OPS: ReadonlySet<string> = new Set([
  'NonMaxSuppressionV2',
  'NonMaxSuppressionV3',
  'NonMaxSuppressionV4',
  'NonMaxSuppressionV5',
  'TopKV2',
  'ArgMax',
  'ArgMin',
]);

export interface DiscreteOutput {
  output: string;
  /** The selection ops (or the first node of the region holding one) it comes out of. */
  selections: string[];
  /** The continuous tensors it is measured at. */
  measuredAt: string[];
}

export interface MeasurePoints {
  /**
   * Tensors to compare with float, each once: continuous outputs, then the discrete outputs'
   * points, then — when every output is discrete — the discrete outputs themselves.
   */
  points: string[];
  discrete: DiscreteOutput[];
}

/**
 * The nodes of g that select (see the file comment): SELECTION_OPS, and comparisons of float
 * tensors whose result reaches one of them.
 */
export function selectingNodes(g: Graph): Set<string> {
  const selections = g.nodes.filter((n) => SELECTION_OPS.has(n.op));
  const selecting = new Set(selections.map((n) => n.name));
  // Every node a selection reads from, directly or not.
  const feeds = ancestors(
    g,
    selections.flatMap((n) => n.inputs),
  );
  for (const n of g.nodes)
    if (
      COMPARISON_OPS.has(n.op) &&
      feeds.has(n.name) &&
      n.inputs.some((i) => (g.tensors.get(i)?.dtype ?? 'float32') === 'float32')
    )
      selecting.add(n.name);
  return selecting;
}

/** The measure points of g (see the file comment). */
export function measurePoints(g: Graph): MeasurePoints {
  const regions = controlFlowRegions(g);
  const selecting = selectingNodes(g);
  // A graph input or a constant is the same in both models: nothing to measure there.
  const inputs = new Set(g.inputs.map((i) => i.name));
  const isFloat = (t: string) =>
    !g.constants.has(t) && !inputs.has(t) && (g.tensors.get(t)?.dtype ?? 'float32') === 'float32';
  // For every tensor, the first selections on its path (those no other selection precedes) and
  // the continuous float tensors that entered the discrete part on its path, unit by unit in
  // execution order; a region is one unit (tfjs-converter runs its inside).
  const first = new Map<string, ReadonlySet<string>>();
  const entering = new Map<string, readonly string[]>();
  const frontier = new Map<string, ReadonlySet<string>>();
  const none: ReadonlySet<string> = new Set();
  const visit = (name: string, inputs: readonly string[], outputs: readonly string[], selects: boolean) => {
    const upstream = new Set<string>();
    for (const i of inputs) for (const s of first.get(i) ?? none) upstream.add(s);
    const mine = selects && upstream.size === 0 ? new Set([name]) : upstream;
    if (mine.has(name)) entering.set(name, inputs.filter(isFloat));
    let entered: ReadonlySet<string> = none;
    if (mine.size) {
      const e = new Set<string>();
      for (const i of inputs) {
        for (const t of frontier.get(i) ?? none) e.add(t);
        if (!(first.get(i) ?? none).size && isFloat(i)) e.add(i);
      }
      entered = e;
    }
    for (const t of outputs) {
      first.set(t, mine);
      frontier.set(t, entered);
    }
  };
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  for (const u of executionUnits(g, regions)) {
    if (u.kind === 'node') visit(u.node.name, u.node.inputs, u.node.outputs, selecting.has(u.node.name));
    else {
      const r = u.region;
      const nodes = r.nodes.map((n) => byName.get(n)!);
      visit(
        r.nodes[0]!,
        r.inputs,
        nodes.flatMap((n) => n.outputs),
        nodes.some((n) => selecting.has(n.name)),
      );
    }
  }
  const points: string[] = [];
  const add = (t: string) => {
    if (!points.includes(t)) points.push(t);
  };
  const discrete: DiscreteOutput[] = [];
  const allDiscrete = g.outputs.every((o) => (first.get(o) ?? none).size > 0);
  for (const o of g.outputs) {
    const sel = [...(first.get(o) ?? none)];
    if (!sel.length) {
      add(o);
      continue;
    }
    const at = allDiscrete ? new Set(sel.flatMap((s) => entering.get(s)!)) : (frontier.get(o) ?? none);
    discrete.push({ output: o, selections: sel, measuredAt: [...at] });
  }
  for (const d of discrete) d.measuredAt.forEach(add);
  // Without a continuous output the report's headline is the discrete outputs themselves
  // (src/quant/output-fidelity.ts): they are measured too, so the guard aims at what is judged.
  if (allDiscrete) for (const d of discrete) add(d.output);
  return { points, discrete };
}
