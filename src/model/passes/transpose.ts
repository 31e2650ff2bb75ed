// Sinks Transposes through ops that do not care about the layout, and cancels inverse pairs:
//
//   x → Transpose(p) → op → …   becomes   x → op' → Transpose(p) → …
//   Transpose(q) ∘ Transpose(p) with q ∘ p = identity   becomes nothing
//
// Models exported from PyTorch through ONNX to TensorFlow wrap every convolution in
// transposes (NHWC for the convolution, NCHW for everything else). NanoDet holds 83 of them,
// about a sixth of its run: Conv2D → Transpose to NCHW → LeakyRelu → Pad (and a ConcatV2
// branch) → Transpose to NHWC → Conv2D. Sunk below the LeakyRelu, the Pad and the ConcatV2,
// the first meets the second and both go; the activation then fuses into the convolution
// before it and the zero pad folds into the one after (fuse-activation, fold-pad).
//
// An op takes a sunk transpose when each of its tensor inputs comes out of a Transpose with
// the same permutation p: element-wise ops of one tensor; element-wise binary ops (the other
// operand transposed the same way, or a constant of one value, which broadcasts alike in any
// layout); Pad / PadV2 (the paddings permuted into the source layout); ConcatV2 (the axis
// mapped through p). The op then computes in the source layout and one Transpose(p) after it
// gives its readers the same tensor as before, under the same name. A transpose goes once all
// its readers have taken it; one read by ops that cannot stays where it is. Sinking into
// several readers multiplies a transpose before the copies meet their inverses, so the
// rewrite is kept only when the graph ends with fewer transposes than it had.
import type { Graph, Node } from '../ir.js';
import { constInts } from '../ir.js';
import { context, newConst, removeNode, rewire, scalarValue, type PassContext } from './common.js';

/** Element-wise ops of one tensor: the value at an index depends only on the input at that index. */
const ELEMENTWISE_UNARY = new Set([
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Elu',
  'Selu',
  'Sigmoid',
  'Tanh',
  'Softplus',
  'Exp',
  'Log',
  'Sqrt',
  'Rsqrt',
  'Square',
  'Neg',
  'Abs',
  'Floor',
]);
/** Element-wise ops of two tensors of one shape (or one of a single value). */
const ELEMENTWISE_BINARY = new Set(['AddV2', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference']);

/** A permutation of 0..n−1 read from a constant, or undefined. */
function permutation(g: Graph, t: string | undefined): number[] | undefined {
  const p = constInts(g, t);
  if (!p || !p.length) return undefined;
  return new Set(p).size === p.length && p.every((v) => Number.isInteger(v) && v >= 0 && v < p.length) ? p : undefined;
}

/** The canonical Transpose producing t, with its permutation. */
function transposeOf(c: PassContext, t: string): { node: Node; perm: number[] } | undefined {
  const pr = c.prod.get(t);
  if (!pr || pr[0].opaque || pr[0].op !== 'Transpose' || pr[1] !== 0) return undefined;
  const perm = permutation(c.g, pr[0].inputs[1]);
  return perm ? { node: pr[0], perm } : undefined;
}

const samePerm = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Which inputs of n carry the tensor (the others are parameters: paddings, an axis, a scalar). */
function tensorInputs(g: Graph, n: Node): number[] | undefined {
  if (n.opaque || n.outputs.length !== 1) return undefined;
  if (ELEMENTWISE_UNARY.has(n.op)) return n.inputs.length === 1 ? [0] : undefined;
  if (ELEMENTWISE_BINARY.has(n.op)) {
    if (n.inputs.length !== 2) return undefined;
    const scalar = n.inputs.map((t) => g.constants.has(t) && scalarValue(g, t) !== undefined);
    if (scalar[0] && scalar[1]) return undefined;
    return scalar[0] ? [1] : scalar[1] ? [0] : [0, 1];
  }
  if (n.op === 'Pad' || n.op === 'PadV2') {
    if (!constInts(g, n.inputs[1])) return undefined;
    if (n.op === 'PadV2' && (n.inputs.length !== 3 || scalarValue(g, n.inputs[2]) === undefined)) return undefined;
    return [0];
  }
  if (n.op === 'ConcatV2') {
    const k = n.inputs.length - 1;
    if (k < 1 || constInts(g, n.inputs[k])?.length !== 1) return undefined;
    return n.inputs.slice(0, k).every((t) => !g.constants.has(t)) ? [...Array(k).keys()] : undefined;
  }
  return undefined;
}

/** A fresh node / tensor name starting with base. */
function freshName(g: Graph, base: string): string {
  const taken = (s: string) => g.nodes.some((n) => n.name === s) || g.constants.has(s) || g.tensors.has(s);
  let name = base;
  for (let i = 1; taken(name); i++) name = `${base}_${i}`;
  return name;
}

/** Whether every tensor input of r comes out of a Transpose with permutation p. */
function takesSunk(c: PassContext, r: Node, p: number[]): boolean {
  const idx = tensorInputs(c.g, r);
  return (
    !!idx &&
    idx.every((i) => {
      const t = transposeOf(c, r.inputs[i]!);
      return !!t && samePerm(t.perm, p);
    })
  );
}

/**
 * Moves the Transpose(p) on n's tensor inputs to its output, when each of those transposes is
 * read only by ops that can take it too (so that each goes once its last reader has taken it).
 */
function sinkInto(c: PassContext, n: Node): boolean {
  const g = c.g;
  const idx = tensorInputs(g, n);
  if (!idx) return false;
  const ts = idx.map((i) => transposeOf(c, n.inputs[i]!));
  if (ts.some((t) => !t)) return false;
  const p = ts[0]!.perm;
  if (!ts.every((t) => samePerm(t!.perm, p))) return false;
  for (const t of ts) {
    const o = t!.node.outputs[0]!;
    if (g.outputs.includes(o) || !(c.cons.get(o) ?? []).every((r) => takesSunk(c, r, p))) return false;
  }
  const rank = p.length;
  for (const [j, i] of idx.entries()) n.inputs[i] = ts[j]!.node.inputs[0]!;
  // The transposed tensor's dimension d is the source's p[d].
  if (n.op === 'Pad' || n.op === 'PadV2') {
    const pads = constInts(g, n.inputs[1])!;
    if (pads.length !== 2 * rank) return undo(n, idx, ts);
    const permuted = new Array<number>(pads.length);
    for (let d = 0; d < rank; d++) {
      permuted[2 * p[d]!] = pads[2 * d]!;
      permuted[2 * p[d]! + 1] = pads[2 * d + 1]!;
    }
    n.inputs[1] = newConst(g, `${n.name}/paddings`, {
      dtype: 'int32',
      shape: [rank, 2],
      data: Int32Array.from(permuted),
    });
  } else if (n.op === 'ConcatV2') {
    const k = n.inputs.length - 1;
    const a = constInts(g, n.inputs[k])![0]!;
    const axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) return undo(n, idx, ts);
    n.inputs[k] = newConst(g, `${n.name}/axis`, { dtype: 'int32', shape: [], data: Int32Array.of(p[axis]!) });
  }
  // n computes in the source layout under a new name; a Transpose(p) takes n's old name, so
  // its readers (and a graph output, a signature) see the same tensor as before.
  const out = n.outputs[0]!;
  const moved = freshName(g, `${n.name}/source_layout`);
  const renamedFrom = n.name;
  n.name = moved;
  n.outputs = [moved];
  const back: Node = { name: out, op: 'Transpose', inputs: [moved, ts[0]!.node.inputs[1]!], outputs: [out], attrs: {} };
  g.nodes.splice(g.nodes.indexOf(n) + 1, 0, back);
  for (const m of g.nodes)
    if (m.controlInputs?.includes(renamedFrom))
      m.controlInputs = m.controlInputs.map((x) => (x === renamedFrom ? out : x));
  for (const t of new Set(ts.map((x) => x!.node)))
    if (!g.nodes.some((m) => m.inputs.includes(t.outputs[0]!))) removeNode(g, t);
  return true;
}

function undo(n: Node, idx: number[], ts: ({ node: Node } | undefined)[]): false {
  for (const [j, i] of idx.entries()) n.inputs[i] = ts[j]!.node.outputs[0]!;
  return false;
}

/** Transpose(q) of a Transpose(p) output with q ∘ p = identity: its readers read p's input. */
function cancelInverse(c: PassContext, n: Node): boolean {
  if (n.opaque || n.op !== 'Transpose') return false;
  const q = permutation(c.g, n.inputs[1]);
  const t = transposeOf(c, n.inputs[0]!);
  if (!q || !t || q.length !== t.perm.length || !q.every((qi, i) => t.perm[qi] === i)) return false;
  const out = n.outputs[0]!;
  // A graph output keeps the model's name: left as is.
  if (c.g.outputs.includes(out)) return false;
  rewire(c.g, out, t.node.inputs[0]!);
  removeNode(c.g, n);
  if (!c.g.nodes.some((m) => m.inputs.includes(t.node.outputs[0]!)) && !c.g.outputs.includes(t.node.outputs[0]!))
    removeNode(c.g, t.node);
  return true;
}

const transposes = (g: Graph) => g.nodes.filter((n) => n.op === 'Transpose').length;

export function sinkTransposes(g: Graph): boolean {
  const before = transposes(g);
  if (before === 0) return false;
  // Sinking into several readers adds transposes before it removes any: the rewrite is kept
  // only if it ends with fewer than it started with, else the graph is put back as it was.
  const saved = g.nodes.map((n) => ({
    n,
    name: n.name,
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    control: n.controlInputs ? [...n.controlInputs] : undefined,
  }));
  const constants = new Set(g.constants.keys());
  const tensors = new Map(g.tensors);
  let changed = false;
  for (let pass = 0; pass < 64; pass++) {
    let any = false;
    // The producer / reader maps are built again only after a rewrite, not for every node.
    let c = context(g);
    for (const n of [...g.nodes]) {
      if (!g.nodes.includes(n)) continue;
      if (cancelInverse(c, n) || sinkInto(c, n)) {
        any = true;
        c = context(g);
      }
    }
    if (!any) break;
    changed = true;
  }
  if (!changed || transposes(g) < before) return changed;
  for (const s of saved) {
    s.n.name = s.name;
    s.n.inputs = s.inputs;
    s.n.outputs = s.outputs;
    if (s.control) s.n.controlInputs = s.control;
  }
  g.nodes = saved.map((s) => s.n);
  for (const k of [...g.constants.keys()]) if (!constants.has(k)) g.constants.delete(k);
  g.tensors = tensors;
  return false;
}
