// Multiply-accumulates of the conv / matmul nodes of a graph at the harness's concrete input
// shapes, and the share of them that a session's plan runs natively. The shapes are observed by
// executing a copy of the graph in float on one real input (the project's static shape
// inference can lose ranks behind dynamic resizes, and this count must not depend on it);
// where that execution cannot run, static inference on the concrete input shapes is used. A
// node whose shapes stay unknown is counted apart (never guessed).
import { tf } from '../../src/backend/float.js';
import { execute } from '../../src/model/execute.js';
import { cloneGraph, type Graph, type Node } from '../../src/model/ir.js';
import { inferShapes } from '../../src/model/shape-inference.js';
import type { PlannedNode } from '../../src/runtime/plan.js';

export const HEAVY_OPS = new Set([
  'Conv2D',
  'DepthwiseConv2dNative',
  'MatMul',
  'BatchMatMul',
  'BatchMatMulV2',
  'Conv2DBackpropInput',
  'Conv3D',
  'Einsum',
]);

export interface FlopShare {
  /** MACs of the heavy nodes with known shapes. */
  totalMacs: number;
  nativeMacs: number;
  /** nativeMacs / totalMacs (undefined when no heavy node has known shapes). */
  share?: number;
  heavyNodes: number;
  /** Heavy nodes whose shapes are unknown, or that the plan does not list. */
  unmeasured: number;
  /** 'executed' (observed) or 'inferred: <why execution was not used>'. */
  shapes: string;
  /** The largest heavy nodes not run natively: "name (op, share of MACs, reason)". */
  notNative: string[];
}

const known = (s: readonly number[] | null | undefined): s is number[] => !!s && s.every((d) => d >= 0);
const elems = (s: number[]) => s.reduce((a, b) => a * b, 1);

function macs(g: Graph, n: Node): number | undefined {
  const shape = (t: string | undefined) => (t === undefined ? undefined : g.tensors.get(t)?.shape);
  const out = shape(n.outputs[0]);
  if (!known(out)) return undefined;
  switch (n.op) {
    case 'Conv2D':
    case 'Conv3D': {
      const f = shape(n.inputs[1]);
      return known(f) ? elems(out) * elems(f.slice(0, -1)) : undefined;
    }
    case 'DepthwiseConv2dNative': {
      const f = shape(n.inputs[1]);
      return known(f) ? elems(out) * f[0]! * f[1]! : undefined;
    }
    case 'Conv2DBackpropInput': {
      const f = shape(n.inputs[1]),
        x = shape(n.inputs[2]);
      return known(f) && known(x) ? elems(x) * f[0]! * f[1]! * f[2]! : undefined;
    }
    case 'MatMul':
    case 'BatchMatMul':
    case 'BatchMatMulV2': {
      const a = shape(n.inputs[0]);
      if (!known(a) || a.length < 2) return undefined;
      const transposed = n.attrs.transpose_a === true || n.attrs.adj_x === true;
      return elems(out) * a[transposed ? a.length - 2 : a.length - 1]!;
    }
    default:
      return undefined;
  }
}

/** Shapes of the heavy nodes' operands and results, by running `g` in float on `feed`. */
function observeShapes(g: Graph, feed: Record<string, tf.Tensor>): void {
  const names = [
    ...new Set(
      g.nodes
        .filter((n) => HEAVY_OPS.has(n.op))
        .flatMap((n) => [n.outputs[0]!, ...n.inputs.slice(0, 2)])
        .filter((t) => !g.constants.has(t)),
    ),
  ];
  const got = execute(g, feed, { outputs: names });
  names.forEach((t, i) => {
    g.tensors.set(t, { dtype: got[i]!.dtype as 'float32', shape: [...got[i]!.shape] });
    got[i]!.dispose();
  });
}

/**
 * The FLOP share of `plan` on `graph` (the graph the session was created from) with `feed`
 * (one sample, keyed by the graph's input names).
 */
export function nativeFlopShare(
  graph: Graph,
  plan: readonly PlannedNode[],
  feed: Record<string, tf.Tensor>,
): FlopShare {
  const g = cloneGraph(graph);
  for (const i of g.inputs) if (feed[i.name]) i.shape = [...feed[i.name]!.shape];
  let shapes = 'executed';
  try {
    inferShapes(g);
    observeShapes(g, feed);
  } catch (e) {
    shapes = `inferred (float execution failed: ${(e as Error).message.slice(0, 120)})`;
  }
  const placed = new Map(plan.map((p) => [p.node, p]));
  const r: FlopShare = { totalMacs: 0, nativeMacs: 0, heavyNodes: 0, unmeasured: 0, notNative: [], shapes };
  const missed: [string, number][] = [];
  for (const n of g.nodes) {
    if (!HEAVY_OPS.has(n.op)) continue;
    r.heavyNodes++;
    const m = macs(g, n);
    const p = placed.get(n.name);
    if (m === undefined || !p) {
      r.unmeasured++;
      continue;
    }
    r.totalMacs += m;
    if (p.placement !== 'tfjs') r.nativeMacs += m;
    else missed.push([`${n.name} (${n.op}, ${p.reason ?? 'no reason given'})`, m]);
  }
  if (r.totalMacs) r.share = r.nativeMacs / r.totalMacs;
  r.notNative = missed
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([s, m]) => `${s}: ${((100 * m) / (r.totalMacs || 1)).toFixed(1)}% of MACs`);
  return r;
}
