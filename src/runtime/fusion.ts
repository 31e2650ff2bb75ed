// Plan-time fusions over the planning copy of the graph (binary → ReLU, hard-swish chains):
// each replaces a few nodes by one fused node that keeps the name and the placement of one of
// them. The replaced nodes are reported with `fusedInto` (compilePlan).
import type { Node } from '../model/ir.js';
import type { PlannedNode } from './placement.js';

export interface Fusion {
  /** The nodes replaced, in graph order; one of them has the fused node's name. */
  replaced: Node[];
  /** The node that runs instead, at the place (and with the placement) of its namesake. */
  fused: Node;
}

/** `order` and `decided` (same indices) with each fusion applied. */
export function applyFusions(
  order: readonly Node[],
  decided: readonly PlannedNode[],
  fusions: readonly Fusion[],
): { order: Node[]; decided: PlannedNode[] } {
  if (!fusions.length) return { order: [...order], decided: [...decided] };
  const byName = new Map(fusions.map((f) => [f.fused.name, f.fused]));
  const gone = new Set(fusions.flatMap((f) => f.replaced.filter((n) => n.name !== f.fused.name).map((n) => n.name)));
  const keep = order.map((n) => !gone.has(n.name));
  return {
    order: order.flatMap((n, i) => (keep[i] ? [byName.get(n.name) ?? n] : [])),
    decided: decided.filter((_, i) => keep[i]),
  };
}

/**
 * The nodes of `order` planned native float, and next(n): the one reader of n's one output when
 * that output is no graph output, the reader is native float, and neither takes control inputs —
 * a node a fusion may take together with n — else undefined.
 */
export function floatChains(
  order: readonly Node[],
  decided: readonly PlannedNode[],
  graphOutputs: readonly string[],
): { floatNative: Set<string>; next: (n: Node) => Node | undefined } {
  const { members, next } = chains(order, decided, graphOutputs, 'native-float');
  return { floatNative: members, next };
}

/**
 * The nodes of `order` with the given placement, and next(n): the one reader of n's one output
 * when that output is no graph output, the reader has `readerPlacement` (by default the same),
 * and neither takes control inputs, else undefined.
 */
export function chains(
  order: readonly Node[],
  decided: readonly PlannedNode[],
  graphOutputs: readonly string[],
  placement: PlannedNode['placement'],
  readerPlacement: PlannedNode['placement'] = placement,
): { members: Set<string>; next: (n: Node) => Node | undefined } {
  const outputs = new Set(graphOutputs);
  const readers = new Map<string, Node[]>();
  for (const n of order)
    for (const t of [...n.inputs, ...(n.controlInputs ?? [])]) {
      const list = readers.get(t) ?? readers.set(t, []).get(t)!;
      list.push(n);
    }
  const placed = (p: PlannedNode['placement']) => new Set(decided.filter((d) => d.placement === p).map((d) => d.node));
  const members = placed(placement);
  const readersPlaced = readerPlacement === placement ? members : placed(readerPlacement);
  const next = (n: Node): Node | undefined => {
    if (n.outputs.length !== 1 || outputs.has(n.outputs[0]!) || n.controlInputs?.length) return undefined;
    const r = readers.get(n.outputs[0]!) ?? [];
    return r.length === 1 && readersPlaced.has(r[0]!.name) && !r[0]!.controlInputs?.length ? r[0] : undefined;
  };
  return { members, next };
}
