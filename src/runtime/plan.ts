// Plan compilation: from a Graph (float, or quantized per docs/quantization.md §12) and the
// input shapes of a run to a list of segments in topological order: native segments (a flat
// step list run by one native Session call: buffers, steps, weights; the step kinds are
// declared in src/runtime/step-schema.ts) and tfjs segments (nodes the runtime cannot run,
// executed by src/runtime/tfjs-segment.ts).
//
// 1. Shapes: inferPlanShapes (src/model/shape-inference.ts), concrete but for the symbolic batch.
// 2. Placement per node (placement.ts): int8 (§12.2, decided by planExecution of
//    src/quant/params.ts, shared with the simulation), dynamic (§12.4; int4 weights §12.5) or
//    float; native when a kernel takes the node's shapes and parameters, tfjs otherwise, with
//    the reason.
// 3. Segments: maximal runs of native / tfjs nodes; each native run emitted (emit-int8.ts,
//    emit-float.ts). Tensors crossing a segment boundary are float32 (int8 for the int8 graph
//    IO of §12.1; int32 ones with their dtype — a native TopK's indices; bool tensors only
//    cross between tfjs segments).
import type { RuntimePlan } from '../../binding.js';
import { controlFlowRegions, executionUnits, type ControlFlowRegion } from '../model/control-flow.js';
import { parseTensorName, type Graph, type Node } from '../model/ir.js';
import { inferPlanShapes, inferShapes, type PlanShapes } from '../model/shape-inference.js';
import { activationTable, planExecution, quantizationInfo } from '../quant/params.js';
import type { QParams } from '../quant/scheme.js';
import { selectSparseSteps, type SparseMode } from '../sparse/select.js';
import { atrousConvolutions } from './atrous.js';
import { applyNodeFusions } from './node-fusions.js';
import { equalMasks } from './equal-mask.js';
import { paddedMaxPools } from './pad-pool.js';
import { binaryActivations } from './binary-act.js';
import { applyFusions } from './fusion.js';
import { hardSwishes } from './hard-swish.js';
import { pointwiseDepthwise } from './pointwise-depthwise.js';
import { emitFloat } from './emit-float.js';
import { emitInt8 } from './emit-int8.js';
import {
  controlFlowRegion,
  dataInputs,
  decide,
  type PlacementContext,
  type Placement,
  type PlannedNode,
  type ReasonKind,
} from './placement.js';
import { foldPlanGraph } from './fold.js';
import { fuseLutChains } from './lut-chains.js';
import { SegmentBuilder, type SegmentTensor } from './segment-builder.js';
import { gemmFlops } from './summary.js';

export type { Placement, PlannedNode, ReasonKind, SegmentTensor };

export interface NativeSegment {
  kind: 'native';
  nodes: string[];
  plan: RuntimePlan;
  /** Tensors fed to the segment (float32, or int8 per SegmentTensor.dtype), in plan.inputs order. */
  inputs: SegmentTensor[];
  /** Tensors produced for later segments or graph outputs, in plan.outputs order. */
  outputs: SegmentTensor[];
  /** The node each step was emitted for (plan.steps order), to name the node of a step. */
  stepNodes: string[];
  /**
   * A measure of the segment's work at batch 1: conv / matmul multiply-adds plus the elements
   * of its activation buffers (a fixed-shape buffer counted as if it grew with the batch).
   */
  work: number;
}

export interface TfjsSegment {
  kind: 'tfjs';
  nodes: string[];
  inputs: string[];
  outputs: string[];
}

export type Segment = NativeSegment | TfjsSegment;

export interface CompiledPlan {
  mode: 'float' | 'int8' | 'dynamic' | 'float16';
  nodes: PlannedNode[];
  segments: Segment[];
  /** The planned shape and dtype of every tensor (negative dimension −k: k × the batch). */
  shapes: PlanShapes;
  /**
   * The graph as planned: the compiled graph plus, as constants, the values of the folded
   * shape computations (what the tfjs segments run on).
   */
  graph: Graph;
  /** The input shapes planned for (−1: the free batch; null: unknown). */
  inputShapes: Map<string, number[] | null>;
  /**
   * Outputs of control-flow regions whose shapes no rule gives before a run (a loop resizing
   * the image): what depends on them runs in tfjs until a run shows them (`regionShapes`).
   */
  unknownRegionOutputs: string[];
  /** The region output shapes this plan assumes (from `regionShapes`): a run must check them. */
  assumedShapes: Map<string, number[]>;
}

export interface CompileOptions {
  /** Sparse kernels for pruned MatMul / 1×1 conv weights (src/sparse/select.ts); default 'auto'. */
  sparse?: SparseMode;
  /**
   * Input shapes to plan for (−1 only for a free batch, dimension 0). Default: the declared
   * shapes; an input with other unknown dimensions leaves what depends on it unplanned (tfjs).
   */
  inputShapes?: ReadonlyMap<string, readonly number[] | null>;
  /**
   * Shapes of control-flow region outputs seen in a run with these (concrete) input shapes:
   * planned as known, so the network after a preprocessing loop can run natively. The plan is
   * valid only for runs whose regions give these shapes (`assumedShapes`).
   */
  regionShapes?: ReadonlyMap<string, readonly number[]>;
}

/** The declared input shapes as planning takes them: unknown dimensions beyond the batch → null. */
export function declaredInputShapes(g: Graph): Map<string, number[] | null> {
  return new Map(
    g.inputs.map((i) => [
      i.name,
      i.shape && i.shape.every((d, k) => d >= 0 || (k === 0 && d === -1)) ? [...i.shape] : null,
    ]),
  );
}

/** Compiles a graph (g.tensors is refreshed by inferShapes) into native and tfjs segments. */
export function compilePlan(g0: Graph, options: CompileOptions = {}): CompiledPlan {
  inferShapes(g0);
  const inputShapes = new Map(
    [...declaredInputShapes(g0)].map(([k, v]) => {
      const given = options.inputShapes?.get(k);
      return [k, given === undefined ? v : given ? [...given] : null] as const;
    }),
  );
  const shapes = inferPlanShapes(g0, inputShapes, options.regionShapes);
  const info = quantizationInfo(g0);
  const acts = activationTable(g0);
  const exec = planExecution(g0);
  const perRow = info?.dynamic?.granularity === 'row';
  // Shape computations known for these input shapes become constants (their inputs are then
  // needed only if something else reads them).
  const region = controlFlowRegion(g0);
  const regions = controlFlowRegions(g0);
  const { graph: unfused, folded } = foldPlanGraph(g0, shapes, g0.nodes, region);
  // Atrous convolutions (SpaceToBatchND → conv → BatchToSpaceND) become one dilated convolution;
  // in int8 it reads and writes tensors calibration gave parameters.
  const atrous = atrousConvolutions(
    unfused,
    region,
    (conv, input, output) => exec.get(conv.name) !== 'int8' || (!!acts[input] && !!acts[output]),
  );
  // A PadV2 by −Infinity and the VALID max pool reading it (float): one padded max pool.
  const padPools = paddedMaxPools(unfused, region, exec);
  const early = [...atrous, ...padPools];
  const g = early.length ? { ...unfused, nodes: applyNodeFusions(unfused.nodes, early) } : unfused;
  // Nodes needed for the outputs.
  const producer = new Map<string, Node>();
  for (const n of g0.nodes) for (const o of n.outputs) producer.set(o, n);
  const needed = new Set<Node>();
  const stack = [...g0.outputs];
  // A control-flow region runs whole in tfjs-converter: when any of its nodes is needed, all
  // are (a loop's bookkeeping nodes lead to no output but belong to the loop).
  const byName = new Map(g0.nodes.map((n) => [n.name, n]));
  const regionOfNode = new Map<string, string[]>();
  for (const r of regions) for (const n of r.nodes) regionOfNode.set(n, r.nodes);
  while (stack.length) {
    const t = stack.pop()!;
    const p = producer.get(t) ?? producer.get(parseTensorName(t)[0]);
    if (!p || needed.has(p)) continue;
    needed.add(p);
    if (!folded.has(p.name)) stack.push(...p.inputs, ...(p.controlInputs ?? []));
    for (const name of regionOfNode.get(p.name) ?? []) {
      const m = byName.get(name)!;
      if (needed.has(m)) continue;
      needed.add(m);
      if (!folded.has(m.name)) stack.push(...m.inputs, ...(m.controlInputs ?? []));
    }
  }
  const order0 = g0.nodes.filter((n) => needed.has(n));
  const orderAtrous = applyNodeFusions(
    keepRegionsTogether(
      g0,
      order0.filter((n) => !folded.has(n.name)),
      regions,
    ),
    early,
  );
  const ctx: PlacementContext = { g, shapes, region };
  const decidedUnmasked = orderAtrous.map((n) => decide(ctx, n, exec.get(n.name) ?? 'float'));
  // A float Equal read only by a Cast to float32 (both tfjs: no bool buffers): one native step.
  const masks = equalMasks(ctx, orderAtrous, decidedUnmasked, exec);
  const maskDecided = new Map(masks.map((m) => [m.fused.name, m.decided]));
  const masked = applyFusions(
    orderAtrous,
    decidedUnmasked.map((d) => maskDecided.get(d.node) ?? d),
    masks,
  );
  // Native float hard-swish chains become one activation step; then float Add / Sub / Mul → ReLU
  // pairs, both native, one clamping binary step; then 1 × 1 → depthwise pairs, one step.
  const hswish = hardSwishes(g, masked.order, masked.decided);
  const swished = applyFusions(masked.order, masked.decided, hswish);
  const binAct = binaryActivations(swished.order, swished.decided, g.outputs);
  const clamped = applyFusions(swished.order, swished.decided, binAct);
  // A 1 × 1 convolution (float, int8, or dynamic per row) and the depthwise one that alone reads
  // it: one step, the tensor between them kept in cache.
  const pwdw = pointwiseDepthwise(g, shapes, clamped.order, clamped.decided, perRow);
  const { order, decided } = applyFusions(clamped.order, clamped.decided, pwdw);
  // A native step reads its data inputs only: a Reshape's target shape, a transposed
  // convolution's output shape come from the plan's shapes. What computes such a parameter
  // for native consumers alone (Shape → StridedSlice → Pack over a free batch, which folding
  // cannot make a constant) would otherwise run every time, as small tfjs segments between
  // native ones. It runs nowhere, like a folded node.
  const read = nodesRead(g, order, decided, regions);
  const order1 = order.filter((n) => read.has(n.name));
  const planned = decided.filter((p) => read.has(p.node));
  // Maximal runs of native / tfjs nodes in topological order.
  const runs: { native: boolean; nodes: Node[] }[] = [];
  order1.forEach((n, i) => {
    const native = planned[i]!.placement !== 'tfjs';
    const last = runs[runs.length - 1];
    if (last && last.native === native) last.nodes.push(n);
    else runs.push({ native, nodes: [n] });
  });
  const placement = new Map(planned.map((p) => [p.node, p.placement]));
  const consumersAfter = (runIndex: number): Set<string> => {
    const s = new Set<string>(g.outputs);
    for (const r of runs.slice(runIndex + 1))
      for (const n of r.nodes) for (const t of [...n.inputs, ...(n.controlInputs ?? [])]) s.add(t);
    return s;
  };
  // int8 graph IO (§12.1): inputs of an inputType-int8 (or uint8) model arrive as int8; graph
  // outputs produced by int8 nodes of an outputType-int8 (or uint8) model leave as int8 (as
  // simulate() returns them; the session shows uint8 I/O as u = q + 128). Tensors crossing
  // segments otherwise travel as float32.
  const int8Values = new Map<string, QParams>();
  if (info?.mode === 'int8' && info.inputType !== 'float32') {
    for (const i of g.inputs)
      if (acts[i.name]) int8Values.set(i.name, { scale: acts[i.name]!.scale, zeroPoint: acts[i.name]!.zeroPoint });
  }
  const graphOutputs = new Set(g.outputs);
  const segments: Segment[] = runs.map((r, ri) => {
    const later = consumersAfter(ri);
    const produced = r.nodes.flatMap((n) => n.outputs);
    const exported = produced.filter((t) => later.has(t));
    if (!r.native) {
      const inside = new Set(produced);
      const inputs = [
        ...new Set(r.nodes.flatMap((n) => n.inputs).filter((t) => !inside.has(t) && !g.constants.has(t))),
      ];
      return { kind: 'tfjs', nodes: r.nodes.map((n) => n.name), inputs, outputs: exported };
    }
    const b = new SegmentBuilder(g, shapes, acts, int8Values);
    const stepNodes: string[] = [];
    for (const n of r.nodes) {
      const p = placement.get(n.name)!;
      const from = b.steps.length;
      if (p === 'native-int8') emitInt8(b, g, n);
      else emitFloat(b, g, n, p === 'native-dynamic' ? 'int8' : p === 'native-dynamic-int4' ? 'int4' : false, perRow);
      const sparse = selectSparseSteps(b.steps, from, b.buffers, b.weights, options.sparse ?? 'auto');
      if (sparse) planned.find((x) => x.node === n.name)!.sparse = sparse;
      while (stepNodes.length < b.steps.length) stepNodes.push(n.name);
    }
    const outputs: SegmentTensor[] = [];
    const outBufs = exported.map((t) => {
      const q =
        info?.mode === 'int8' && info.outputType !== 'float32' && graphOutputs.has(t) ? b.producedInt8(t) : undefined;
      if (q) {
        outputs.push({ tensor: t, shape: b.logical(t), dtype: 'int8', quantization: { ...q.p } });
        int8Values.set(t, { ...q.p });
        return q.buf;
      }
      if (shapes.get(t)?.dtype === 'int32') {
        outputs.push({ tensor: t, shape: b.logical(t), dtype: 'int32' });
        return b.getI32(t);
      }
      outputs.push({ tensor: t, shape: b.logical(t), dtype: 'float32' });
      const id = b.getF32(t);
      while (stepNodes.length < b.steps.length) stepNodes.push(t);
      return id;
    });
    const fused = fuseLutChains(b.steps, b.buffers, b.weights, new Set(outBufs));
    const plan: RuntimePlan = {
      buffers: b.buffers,
      weights: b.weights,
      steps: fused.steps,
      inputs: b.inputBufs,
      outputs: outBufs,
    };
    const macs = r.nodes.reduce((t, n) => t + gemmFlops(g, shapes, n) / 2, 0);
    const elements = b.buffers
      .filter((x) => x.constIndex === undefined || x.constIndex < 0)
      .reduce((t, x) => t + x.shape.reduce((e, d) => e * Math.abs(d), 1), 0);
    return {
      kind: 'native',
      nodes: r.nodes.map((n) => n.name),
      plan,
      inputs: b.inputs,
      outputs,
      stepNodes: fused.from.map((i) => stepNodes[i]!),
      work: macs + elements,
    };
  });
  // A control-flow region runs whole in tfjs-converter: its nodes are contiguous in the order
  // (keepRegionsTogether) and all placed in tfjs, so a split across segments is a planner bug,
  // reported here rather than as the executor's refusal at the first run.
  const segmentOf = new Map<string, number>();
  segments.forEach((seg, i) => seg.nodes.forEach((n) => segmentOf.set(n, i)));
  for (const r of regions) {
    const where = new Set(r.nodes.filter((n) => segmentOf.has(n)).map((n) => segmentOf.get(n)));
    if (where.size > 1)
      throw new Error(
        `internal: the control-flow region starting at '${r.nodes[0]}' is split across segments ${[...where].join(', ')}`,
      );
  }
  const foldedNodes: PlannedNode[] = [
    ...order0.filter((n) => folded.has(n.name)),
    ...order.filter((n) => !read.has(n.name)),
  ].map((n) => ({ node: n.name, op: n.op, placement: 'folded' }));
  const fusedNodes: PlannedNode[] = [...early, ...masks, ...hswish, ...binAct, ...pwdw].flatMap(
    ({ replaced, fused }) => {
      const { placement, reason, reasonKind } = planned.find((p) => p.node === fused.name)!;
      return replaced
        .filter((n) => n.name !== fused.name)
        .map((n) => ({ node: n.name, op: n.op, placement, reason, reasonKind, fusedInto: fused.name }));
    },
  );
  const nodes = order0.map(
    (n) =>
      planned.find((p) => p.node === n.name) ??
      foldedNodes.find((p) => p.node === n.name) ??
      fusedNodes.find((p) => p.node === n.name)!,
  );
  const regionOutputs = [...new Set(regions.flatMap((r) => r.outputs))];
  const unknownRegionOutputs = regionOutputs.filter(
    (t) => !shapes.get(t)?.shape && (shapes.get(t)?.dtype ?? 'float32') !== 'string',
  );
  const assumedShapes = new Map(
    [...(options.regionShapes ?? [])].filter(([t]) => regionOutputs.includes(t)).map(([t, v]) => [t, [...v]]),
  );
  // A tfjs segment hands out the region outputs it computes whose shapes are unknown or assumed,
  // even when only its own nodes read them: the session learns or checks their shapes.
  for (const seg of segments) {
    if (seg.kind !== 'tfjs') continue;
    const inside = new Set(seg.nodes);
    for (const t of [...unknownRegionOutputs, ...assumedShapes.keys()]) {
      if (!seg.outputs.includes(t) && inside.has(producer.get(t)?.name ?? parseTensorName(t)[0])) seg.outputs.push(t);
    }
  }
  return {
    mode: info?.mode ?? 'float',
    nodes,
    segments,
    shapes,
    graph: g,
    inputShapes,
    unknownRegionOutputs,
    assumedShapes,
  };
}

/**
 * The nodes whose outputs something reads at run time: walked back from the graph outputs,
 * through every input of a tfjs node (and its control inputs; a control-flow region is read
 * whole) but only through the data inputs of a native one (placement.ts dataInputs).
 */
function nodesRead(
  g: Graph,
  order: readonly Node[],
  planned: readonly PlannedNode[],
  regions: readonly ControlFlowRegion[],
): Set<string> {
  const producer = new Map<string, Node>();
  for (const n of order) for (const o of n.outputs) producer.set(o, n);
  const byName = new Map(order.map((n) => [n.name, n]));
  const native = new Set(planned.filter((p) => p.placement !== 'tfjs').map((p) => p.node));
  const regionOf = new Map<string, readonly string[]>();
  for (const r of regions) for (const n of r.nodes) regionOf.set(n, r.nodes);
  const read = new Set<string>();
  const stack = [...g.outputs];
  const visit = (n: Node): void => {
    if (read.has(n.name)) return;
    read.add(n.name);
    if (native.has(n.name)) stack.push(...dataInputs(g, n));
    else stack.push(...n.inputs, ...(n.controlInputs ?? []));
    for (const m of regionOf.get(n.name) ?? []) {
      const node = byName.get(m);
      if (node) visit(node);
    }
  };
  while (stack.length) {
    const t = stack.pop()!;
    const p = producer.get(t) ?? producer.get(parseTensorName(t)[0]);
    if (p) visit(p);
  }
  return read;
}

/**
 * A topological order in which each control-flow region is contiguous, so that it falls in
 * one tfjs segment and runs as a whole: the executor's own execution units (a region, or one
 * other node) over the nodes to plan, in their given order wherever the dependencies allow.
 * The units are exactly the executor's regions: two regions joined by a tensor (a cond reading
 * another cond's output) stay two units, and the network between them stays outside both.
 * Every node of a region is in `order` or none is (compilePlan takes a needed region whole and
 * never folds a region node).
 */
function keepRegionsTogether(g: Graph, order: Node[], regions: readonly ControlFlowRegion[]): Node[] {
  if (regions.length === 0) return order;
  const byName = new Map(order.map((n) => [n.name, n]));
  const planned = regions.filter((r) => byName.has(r.nodes[0]!));
  return executionUnits({ ...g, nodes: order }, planned).flatMap((u) =>
    u.kind === 'node' ? [u.node] : u.region.nodes.map((name) => byName.get(name)!),
  );
}
