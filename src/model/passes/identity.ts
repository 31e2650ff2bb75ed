// Removes Identity nodes (incl. lowered no-op Dropout / noise layers at inference).
import type { Graph } from '../ir.js';
import { context, removeNode, rewire } from './common.js';

export function removeIdentity(g: Graph): boolean {
  let changed = false;
  const c = context(g);
  for (const n of [...g.nodes]) {
    if (n.op !== 'Identity' || n.opaque || n.inputs.length !== 1 || n.controlInputs?.length) continue;
    const out = n.outputs[0]!;
    // Keep graph output names, and never rewire an opaque node.
    if (g.outputs.includes(out) || (c.cons.get(out) ?? []).some((x) => x.opaque)) continue;
    rewire(g, out, n.inputs[0]!);
    removeNode(g, n);
    changed = true;
  }
  return changed;
}
