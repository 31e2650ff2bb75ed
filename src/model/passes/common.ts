// Helpers shared by the graph passes.
import { consumers, hasNonFiniteValues, producers, type Constant, type Graph, type Node } from '../ir.js';

export interface PassContext {
  g: Graph;
  prod: Map<string, [Node, number]>;
  cons: Map<string, Node[]>;
}

export function context(g: Graph): PassContext {
  return { g, prod: producers(g), cons: consumers(g) };
}

/** The canonical (non-opaque) node producing t, if its only reader is one node and t is not a graph output. */
export function soleProducer(c: PassContext, t: string): Node | undefined {
  const p = c.prod.get(t);
  if (!p || p[0].opaque || p[1] !== 0) return undefined;
  if ((c.cons.get(t)?.length ?? 0) !== 1 || c.g.outputs.includes(t)) return undefined;
  return p[0];
}

export function isConvLike(n: Node | undefined): n is Node {
  return !!n && !n.opaque && (n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative' || n.op === 'MatMul');
}

export function activation(n: Node): string {
  return (n.attrs.activation as string | undefined) ?? 'none';
}

export function floatConst(g: Graph, t: string | undefined): Constant | undefined {
  if (t === undefined) return undefined;
  const c = g.constants.get(t);
  return c && c.dtype === 'float32' && !c.quantization?.encoded ? c : undefined;
}

/** A float constant holding one value (any shape of size 1). */
export function scalarValue(g: Graph, t: string | undefined): number | undefined {
  const c = floatConst(g, t);
  if (!c || (c.data as Float32Array).length !== 1) return undefined;
  return (c.data as Float32Array)[0];
}

/** Output channels of a conv-like node's filter (Conv2D: out; depthwise: in × multiplier; MatMul: columns). */
export function outChannels(g: Graph, n: Node): number | undefined {
  const f = g.constants.get(n.inputs[1]!)?.shape ?? g.tensors.get(n.inputs[1]!)?.shape;
  if (!f) return undefined;
  if (n.op === 'Conv2D' && f.length === 4) return f[3];
  if (n.op === 'DepthwiseConv2dNative' && f.length === 4) return f[2]! * f[3]!;
  if (n.op === 'MatMul' && f.length === 2 && !n.attrs.transpose_b && !n.attrs.transpose_a) return f[1];
  return undefined;
}

export function removeNode(g: Graph, n: Node): void {
  g.nodes = g.nodes.filter((x) => x !== n);
}

/** Redirects readers of `from` to `to` (node inputs and graph outputs). */
export function rewire(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((t) => (t === from ? to : t));
  g.outputs = g.outputs.map((t) => (t === from ? to : t));
}

function renameControlInputs(g: Graph, from: string, to: string): void {
  for (const n of g.nodes)
    if (n.controlInputs?.includes(from))
      n.controlInputs = [...new Set(n.controlInputs.map((c) => (c === from ? to : c)))];
}

/**
 * `absorbed` (one output) was folded into `into` (one output), which now computes its value,
 * and is removed. Its readers read `into` — except when its value is a graph output: then `into`
 * takes its name, so a graph output keeps the model's name whatever a pass fuses.
 */
export function absorbNode(g: Graph, absorbed: Node, into: Node): void {
  const out = absorbed.outputs[0]!;
  const old = into.outputs[0]!;
  removeNode(g, absorbed);
  if (g.outputs.includes(out) && out === absorbed.name && old === into.name) {
    into.name = absorbed.name;
    into.outputs[0] = out;
    rewire(g, old, out);
    renameControlInputs(g, old, out);
    g.tensors.delete(old);
  } else {
    rewire(g, out, old);
    renameControlInputs(g, absorbed.name, into.name);
  }
}

export function newConst(g: Graph, base: string, c: Omit<Constant, 'name'>): string {
  let name = base;
  for (let i = 1; g.constants.has(name) || g.nodes.some((n) => n.name === name); i++) name = `${base}_${i}`;
  g.constants.set(name, { ...c, name, ...(hasNonFiniteValues(c.data) ? { nonFinite: true } : {}) });
  g.tensors.set(name, { dtype: c.dtype, shape: [...c.shape] });
  return name;
}
