// Where a quantized model's fidelity is measured. A detector's final boxes come out of a
// non-maximum suppression: a score moved by 0.001 past another box's changes which boxes are
// kept and in what order, so the cosine of the kept boxes swings from 1 to 0.3 while every
// score and box the network computed is within 0.1% of float. Such outputs are discrete: they
// are measured where the model is still continuous — the float tensors entering the first
// selection op (non-maximum suppression, top-k, arg max) on their path, or the control-flow
// region holding it (a batched NMS in a while loop) — as TFLite's and ONNX Runtime's
// quantization debuggers compare a detector before its post-processing. Outputs with no
// selection on their path are measured as they are.
import { controlFlowRegions, executionUnits } from '../model/control-flow.js';
import type { Graph } from '../model/ir.js';

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

/** The measure points of g (see the file comment). */
export function measurePoints(g: Graph): MeasurePoints {
  const regions = controlFlowRegions(g);
  // For every tensor, the first selections on its path (those no other selection precedes),
  // unit by unit in execution order; a region is one unit (tfjs-converter runs its inside).
  const first = new Map<string, ReadonlySet<string>>();
  const entering = new Map<string, readonly string[]>();
  const none: ReadonlySet<string> = new Set();
  const visit = (name: string, inputs: readonly string[], outputs: readonly string[], selects: boolean) => {
    const upstream = new Set<string>();
    for (const i of inputs) for (const s of first.get(i) ?? none) upstream.add(s);
    const mine = selects && upstream.size === 0 ? new Set([name]) : upstream;
    if (mine.has(name)) entering.set(name, inputs);
    for (const t of outputs) first.set(t, mine);
  };
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  for (const u of executionUnits(g, regions)) {
    if (u.kind === 'node') visit(u.node.name, u.node.inputs, u.node.outputs, SELECTION_OPS.has(u.node.op));
    else {
      const r = u.region;
      const nodes = r.nodes.map((n) => byName.get(n)!);
      visit(
        r.nodes[0]!,
        r.inputs,
        nodes.flatMap((n) => n.outputs),
        nodes.some((n) => SELECTION_OPS.has(n.op)),
      );
    }
  }
  // A graph input is the same in both models: nothing to measure there.
  const inputs = new Set(g.inputs.map((i) => i.name));
  const isFloat = (t: string) =>
    !g.constants.has(t) && !inputs.has(t) && (g.tensors.get(t)?.dtype ?? 'float32') === 'float32';
  const points: string[] = [];
  const add = (t: string) => {
    if (!points.includes(t)) points.push(t);
  };
  const discrete: DiscreteOutput[] = [];
  for (const o of g.outputs) {
    const sel = [...(first.get(o) ?? none)];
    if (!sel.length) {
      add(o);
      continue;
    }
    discrete.push({
      output: o,
      selections: sel,
      measuredAt: [...new Set(sel.flatMap((s) => entering.get(s)!.filter(isFloat)))],
    });
  }
  for (const d of discrete) d.measuredAt.forEach(add);
  // Without a continuous output the report's headline is the discrete outputs themselves
  // (src/quant/output-fidelity.ts): they are measured too, so the guard aims at what is judged.
  if (discrete.length === g.outputs.length) for (const d of discrete) add(d.output);
  return { points, discrete };
}
