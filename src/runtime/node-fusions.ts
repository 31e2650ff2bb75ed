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

/**
 * A Pad / PadV2 of the spatial dimensions only (NHWC, constant paddings): its pad value and
 * [top, bottom, left, right]; undefined for any other node.
 */
export function spatialPad(g: Graph, pad: Node): { value: number; pads: [number, number, number, number] } | undefined {
  if (pad.opaque || (pad.op !== 'Pad' && pad.op !== 'PadV2')) return undefined;
  let value = (pad.attrs.constant_value as number | undefined) ?? 0;
  if (pad.op === 'PadV2') {
    const v = g.constants.get(pad.inputs[2]!);
    if (!v || v.dtype !== 'float32' || v.data.length !== 1) return undefined;
    value = (v.data as Float32Array)[0]!;
  }
  const c = g.constants.get(pad.inputs[1]!);
  const p = c && c.dtype === 'int32' ? Array.from(c.data as Int32Array) : undefined;
  if (!p || p.length !== 8 || p[0] !== 0 || p[1] !== 0 || p[6] !== 0 || p[7] !== 0) return undefined;
  return { value, pads: [p[2]!, p[3]!, p[4]!, p[5]!] };
}
