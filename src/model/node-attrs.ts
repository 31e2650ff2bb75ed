// Typed readers of a node's IR attributes (attrs.ts decodes them from model.json), failing with
// a ModelFormatError that names the node, and the attributes every layer reads the same way: a
// convolution's padding, a fused activation.
import { ModelFormatError } from './errors.js';
import type { AttrValue, FusedActivation, Node } from './ir.js';

export function attrNum(n: Node, k: string, def?: number): number {
  const v = n.attrs[k];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelFormatError(`attribute '${k}' must be a number, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrStr(n: Node, k: string, def?: string): string {
  const v = n.attrs[k];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (typeof v !== 'string')
    throw new ModelFormatError(`attribute '${k}' must be a string, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrBool(n: Node, k: string, def = false): boolean {
  const v = n.attrs[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean')
    throw new ModelFormatError(`attribute '${k}' must be a boolean, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrInts(n: Node, k: string, def?: number[]): number[] {
  const v = n.attrs[k] as AttrValue | undefined;
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
    throw new ModelFormatError(`attribute '${k}' must be a list of integers, got ${JSON.stringify(v)}`, {
      node: n.name,
    });
  }
  return v as number[];
}

/** tfjs pad argument from the TF attrs (padding SAME | VALID | EXPLICIT + explicit_paddings). */
export function convPad(
  n: Node,
): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  const p = attrStr(n, 'padding').toUpperCase();
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  if (p === 'EXPLICIT') {
    const e = attrInts(n, 'explicit_paddings');
    if (e.length !== 8)
      throw new ModelFormatError(`explicit_paddings must have 8 values, got ${e.length}`, { node: n.name });
    return [
      [e[0]!, e[1]!],
      [e[2]!, e[3]!],
      [e[4]!, e[5]!],
      [e[6]!, e[7]!],
    ];
  }
  throw new ModelFormatError(`unsupported padding '${p}'`, { node: n.name });
}

export function activationOf(n: Node): FusedActivation {
  return (n.attrs.activation as FusedActivation | undefined) ?? 'none';
}
