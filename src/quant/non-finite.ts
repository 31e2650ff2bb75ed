// Constants holding NaN or ±Infinity are legal model data (a PadV2 fill of −Inf before a max
// pool, a score threshold of −Inf) but have no int8 form: a scale chosen from an infinite range
// is infinite and every other value rounds to zero. Such constants are never quantized and the
// nodes that read them stay in float.
import type { Constant, Graph } from '../model/ir.js';

/** True when a float constant holds a NaN or an infinity. */
export function hasNonFinite(c: Constant): boolean {
  if (c.dtype !== 'float32' || !(c.data instanceof Float32Array)) return false;
  for (const v of c.data) if (!Number.isFinite(v)) return true;
  return false;
}

/** Nodes reading a non-finite constant, with the constant's name. */
export function nonFiniteReaders(g: Graph): { node: string; op: string; constant: string }[] {
  const bad = new Set([...g.constants.values()].filter(hasNonFinite).map((c) => c.name));
  if (!bad.size) return [];
  return g.nodes.flatMap((n) =>
    n.inputs
      .filter((t) => bad.has(t))
      .slice(0, 1)
      .map((t) => ({ node: n.name, op: n.op, constant: t })),
  );
}
