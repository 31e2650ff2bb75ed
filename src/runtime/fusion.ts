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
