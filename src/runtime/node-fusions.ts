// Graph-level fusions the planner applies before placement (atrous convolutions, padded max
// pools): each replaces a short chain of nodes by one node that the native kernels run whole.
import type { Graph, Node } from '../model/ir.js';

export interface NodeFusion {
  /** The nodes the fused one replaces, in graph order. */
  replaced: Node[];
  /** The node standing for them: the name (and weights) of one of them, the first one's input, the last one's output. */
  fused: Node;
}

/** Nodes with the fusions applied: each fused node stands where the node of its name stood, the rest of what it replaced goes. */
export function applyNodeFusions(nodes: readonly Node[], fusions: readonly NodeFusion[]): Node[] {
  if (!fusions.length) return [...nodes];
  const gone = new Set(fusions.flatMap((f) => f.replaced.map((n) => n.name)));
  const byName = new Map(fusions.map((f) => [f.fused.name, f.fused]));
  return nodes.flatMap((n) => (byName.has(n.name) ? [byName.get(n.name)!] : gone.has(n.name) ? [] : [n]));
}

/** The nodes reading each tensor of g, in graph order. */
export function readersOf(g: Graph): Map<string, Node[]> {
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes)
    for (const t of n.inputs) {
      const list = readers.get(t) ?? readers.set(t, []).get(t)!;
      list.push(n);
    }
  return readers;
}
