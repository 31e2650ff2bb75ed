// What share of a plan runs natively: nodes, and the multiply-adds of the convolution and
// matrix-product nodes (where the time goes), for reports and the zoo table.
import type { CompiledPlan, PlannedNode, ReasonKind } from './plan.js';
import type { Graph, Node } from '../model/ir.js';
import type { PlanShapes } from '../model/shape-inference.js';

export interface PlanSummary {
  nodes: number;
  /** Nodes run by native steps. */
  nativeNodes: number;
  /** Shape computations the planner evaluated (they run nowhere). */
  foldedNodes: number;
  /** Conv / depthwise / transposed conv / MatMul / BatchMatMul multiply-adds × 2 at batch 1 (0 when no shape is known). */
  gemmFlops: number;
  nativeGemmFlops: number;
  /** nativeGemmFlops / gemmFlops (1 when the model has none). */
  nativeGemmShare: number;
  /** tfjs nodes per reason kind. */
  tfjsByReason: Partial<Record<ReasonKind, number>>;
}

const GEMM_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'Conv2DBackpropInput', 'MatMul', 'BatchMatMulV2']);

/**
 * FLOPs (2 × multiply-adds) of a conv / matmul node (by name, or the node itself where the
 * caller holds it: no search of the graph) at batch 1, from planned shapes; 0 for other ops or
 * unknown shapes.
 */
export function gemmFlops(g: Graph, shapes: PlanShapes, node: string | Node): number {
  const n = typeof node === 'string' ? g.nodes.find((x) => x.name === node) : node;
  if (!n || !GEMM_OPS.has(n.op)) return 0;
  const shape = (t: string | undefined): number[] | undefined =>
    t === undefined ? undefined : (shapes.get(t)?.shape ?? g.constants.get(t)?.shape ?? undefined);
  const elems = (s: number[]): number => s.reduce((a, d) => a * (d < 0 ? -d : d), 1);
  const y = shape(n.outputs[0]);
  if (!y) return 0;
  switch (n.op) {
    case 'Conv2D': {
      const w = shape(n.inputs[1]);
      return w ? 2 * elems(y) * w[0]! * w[1]! * w[2]! : 0;
    }
    case 'DepthwiseConv2dNative': {
      const w = shape(n.inputs[1]);
      return w ? 2 * elems(y) * w[0]! * w[1]! : 0;
    }
    case 'Conv2DBackpropInput': {
      const dy = shape(n.inputs[2]),
        w = shape(n.inputs[1]);
      return dy && w ? 2 * elems(dy) * w[0]! * w[1]! * w[2]! : 0;
    }
    default: {
      // MatMul / BatchMatMul: y [..., M, N] with depth K from the first operand.
      const a = shape(n.inputs[0]);
      if (!a) return 0;
      const ta = n.attrs.transpose_a === true || n.attrs.adj_x === true;
      const k = ta ? a[a.length - 2]! : a[a.length - 1]!;
      return 2 * elems(y) * Math.abs(k);
    }
  }
}

/** Summary of a compiled plan over the graph it was compiled from. */
export function summarizePlan(g: Graph, plan: Pick<CompiledPlan, 'nodes' | 'shapes'>): PlanSummary {
  let gemm = 0,
    nativeGemm = 0;
  const tfjsByReason: PlanSummary['tfjsByReason'] = {};
  for (const p of plan.nodes as PlannedNode[]) {
    const f = gemmFlops(g, plan.shapes, p.node);
    gemm += f;
    if (p.placement !== 'tfjs') nativeGemm += f;
    else if (p.reasonKind) tfjsByReason[p.reasonKind] = (tfjsByReason[p.reasonKind] ?? 0) + 1;
  }
  const nativeNodes = plan.nodes.filter((p) => p.placement.startsWith('native')).length;
  const foldedNodes = plan.nodes.filter((p) => p.placement === 'folded').length;
  return {
    nodes: plan.nodes.length,
    nativeNodes,
    foldedNodes,
    gemmFlops: gemm,
    nativeGemmFlops: nativeGemm,
    nativeGemmShare: gemm > 0 ? nativeGemm / gemm : 1,
    tfjsByReason,
  };
}
