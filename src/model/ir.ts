// The graph IR shared by both TF.js model formats (see docs/format.md, "The graph IR").
//
// - A tensor is named by a string. Output i of node N is `N` (i = 0) or `N:i`; graph inputs
//   are named by their placeholder name; constants by their constant name.
// - Nodes use TF op names (Conv2D, DepthwiseConv2dNative, MatMul, BiasAdd, AddV2, Relu, …).
//   Fused forms are normalized into one node: Conv2D / DepthwiseConv2dNative / MatMul take
//   inputs [x, filter, bias?, preluAlpha?] and attrs {activation, leakyrelu_alpha}; TF.js's
//   _FusedConv2D, FusedDepthwiseConv2dNative and _FusedMatMul map onto them.
// - Weights are constants (dtype, shape, typed data, optional quantization metadata)
//   referenced by name from node inputs; several nodes may share one.
// - Shapes use -1 for an unknown dimension (the batch) and null for an unknown rank.
// - An op the loader does not know is kept as an opaque node (`opaque: true`, with its raw
//   TF attrs): executed by tfjs, never touched by passes.
// - Control flow (TF1 Switch/Merge/Enter/Exit/NextIteration, TF2 If/While with the function
//   library, tensor arrays and lists) is kept in raw form: every node of a control-flow region
//   is opaque and the region runs as a whole in tfjs-converter (src/model/control-flow.ts).
//   The NextIteration → Merge input closing a loop is a back edge, not a dependency.
import type { DType, TensorData, TfjsQuantization } from '../io/weights.js';
import { ModelFormatError } from './errors.js';

export type { DType, TensorData, TfjsQuantization };

export type AttrValue = number | string | boolean | number[] | string[] | null;
export type Attrs = Record<string, AttrValue>;

export interface TensorInfo {
  dtype: DType;
  /** -1 = unknown dimension; null = unknown rank. */
  shape: number[] | null;
}

/** Fused activation of Conv2D / DepthwiseConv2dNative / MatMul (attr `activation`). */
export type FusedActivation = 'none' | 'relu' | 'relu6' | 'elu' | 'leakyrelu' | 'prelu' | 'sigmoid' | 'tanh';
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = [
  'none',
  'relu',
  'relu6',
  'elu',
  'leakyrelu',
  'prelu',
  'sigmoid',
  'tanh',
];

/** Per-channel (or per-tensor) integer form of a constant (docs/quantization.md §1, §5). */
export interface AffineQuantization {
  /** Storage type of `values`. */
  dtype: 'int8' | 'uint8' | 'int4' | 'int32';
  /** Channel axis (per-channel), or -1 for per-tensor. */
  axis: number;
  /** Consecutive axes forming the channel index (default 1; DepthwiseConv2D [kh, kw, in, m]: axis 2, 2 axes). */
  axisCount?: number;
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** Quantized values in the constant's layout (int4: one value per element, unpacked). */
  values?: Int8Array | Uint8Array | Int32Array;
  /** int4 per-group scales: elements per group along `axis` (reserved). */
  groupSize?: number;
  /**
   * int4 double-quantized group scales (docs/quantization.md §12.5): `scales[i] = fl32(scaleCodes[i] ×
   * superScales[c])` for entry i = g·C + c, codes in [1, 255] ([groups][C]), one float32 super-scale
   * per channel. Absent: the scales are stored as float16 (or in the JSON when per channel).
   */
  scaleCodes?: Uint8Array;
  superScales?: Float32Array;
  /** Narrow range (−127..127) for symmetric int8 weights. */
  narrowRange?: boolean;
}

/** A constant encoded by a codec extension (e.g. 'deep-compression': one self-contained stream). */
export interface EncodedConstant {
  encoding: string;
  bytes: Uint8Array;
  meta?: Record<string, unknown>;
}

export interface ConstantQuantization {
  /** TF.js per-tensor storage to use when saving in TF.js format (and the storage it was read from). */
  tfjs?: TfjsQuantization;
  /** Integer form for the native runtime (saved by the tfjs-quant format). */
  affine?: AffineQuantization;
  /** Codec-encoded form (saved by the tfjs-quant format). */
  encoded?: EncodedConstant;
  /** Pruning mask (1 = kept), one byte per element (reserved). */
  mask?: Uint8Array;
}

export interface Constant {
  name: string;
  dtype: DType;
  shape: number[];
  /** Float values (dequantized if stored quantized); always present. */
  data: TensorData;
  quantization?: ConstantQuantization;
  /**
   * Holds NaN or ±Inf: legal data in graph models (a -Inf PadV2 fill for max pooling, a -Inf
   * score threshold). Such a constant has no finite range: quantizers keep it in float.
   */
  nonFinite?: boolean;
}

/** True when float data holds NaN or ±Inf. */
export function hasNonFiniteValues(data: TensorData): boolean {
  if (!(data instanceof Float32Array)) return false;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return true;
  return false;
}

/**
 * True when every value of the constant is finite (non-float constants always are). Reads the
 * data itself, so it also holds for constants a pass created after loading.
 */
export function isFiniteConstant(c: Constant): boolean {
  return !hasNonFiniteValues(c.data);
}

export interface Node {
  name: string;
  op: string;
  /** Tensor names (graph inputs, constants or node outputs). */
  inputs: string[];
  /** Tensor names produced, in output order. */
  outputs: string[];
  attrs: Attrs;
  /** Unknown op: run by tfjs, not transformed. rawAttrs are the TF attrs as read. */
  opaque?: boolean;
  rawAttrs?: Record<string, unknown>;
  /** Names of control dependencies (graph models), kept for opaque nodes. */
  controlInputs?: string[];
}

export interface GraphInput {
  name: string;
  dtype: DType;
  shape: number[] | null;
}

/** One input or output of the model's signature: the key tfjs names it by and its tensor in the IR. */
export interface SignatureEntry {
  /** Signature key (graph models with a signature: its key, e.g. 'output_0'; otherwise the tensor name). */
  key: string;
  /** Tensor name in the IR (a graph input name, or an output tensor 'node' / 'node:i'). */
  name: string;
}

/** The model's signature, in signature order: inputs[i].name === g.inputs[i].name, outputs[i].name === g.outputs[i]. */
export interface GraphSignature {
  inputs: SignatureEntry[];
  outputs: SignatureEntry[];
}

export interface GraphSource {
  format: 'graph-model' | 'layers-model' | 'tfjs-quant';
  file: string;
  files: string[];
  sha256: string;
  /** The model.json content as read (modelTopology etc., no weightsManifest). */
  json: Record<string, unknown>;
  /** Layers models: maps each constant to its Keras weight name, for re-writing the topology. */
  layerWeights?: Map<string, string>;
}

export interface Graph {
  name: string;
  inputs: GraphInput[];
  /** Output tensor names (in order). */
  outputs: string[];
  nodes: Node[];
  constants: Map<string, Constant>;
  /** Inferred dtype/shape of every tensor (filled by inferShapes). */
  tensors: Map<string, TensorInfo>;
  /** The model's input and output names (keys and tensor names), in signature order. */
  signature?: GraphSignature;
  /** modelTopology.library of a graph model (TF2 control flow functions), kept raw for tfjs-converter. */
  library?: { function?: unknown[] } & Record<string, unknown>;
  source?: GraphSource;
  /** True once a pass changed the math or the topology (layers re-save is no longer possible). */
  transformed?: boolean;
  metadata: Record<string, unknown>;
}

export function outputName(node: string, index: number): string {
  return index === 0 ? node : `${node}:${index}`;
}

/** Splits 'node:1' → ['node', 1]; 'node' → ['node', 0]. */
export function parseTensorName(t: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(t);
  return m ? [m[1]!, Number(m[2])] : [t, 0];
}

export function createGraph(name = 'model'): Graph {
  return { name, inputs: [], outputs: [], nodes: [], constants: new Map(), tensors: new Map(), metadata: {} };
}

/** The graph's signature, or (for a graph built without one) its inputs and outputs keyed by tensor name. */
export function signatureOf(g: Graph): GraphSignature {
  return (
    g.signature ?? {
      inputs: g.inputs.map((i) => ({ key: i.name, name: i.name })),
      outputs: g.outputs.map((o) => ({ key: o, name: o })),
    }
  );
}

/**
 * The input of `consumer` produced by `producer` closes a TF1 while loop (NextIteration → Merge):
 * it carries the next iteration's value and is not a dependency for ordering.
 */
export function isBackEdge(consumer: Node, producer: Node): boolean {
  return consumer.op === 'Merge' && producer.op === 'NextIteration';
}

/** tensor name → [node, output index] for node outputs. */
export function producers(g: Graph): Map<string, [Node, number]> {
  const m = new Map<string, [Node, number]>();
  for (const n of g.nodes) n.outputs.forEach((t, i) => m.set(t, [n, i]));
  return m;
}

/** Names of the nodes whose outputs the given tensors depend on (their producers included). */
export function ancestors(g: Graph, tensors: readonly string[]): Set<string> {
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const seen = new Set<string>();
  const stack = [...tensors];
  while (stack.length) {
    const n = producer.get(stack.pop()!);
    if (!n || seen.has(n.name)) continue;
    seen.add(n.name);
    stack.push(...n.inputs);
  }
  return seen;
}

/** tensor name → nodes reading it (a node reading twice appears once). */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const t of new Set([...n.inputs, ...(n.controlInputs ?? [])])) {
      const l = m.get(t);
      if (l) l.push(n);
      else m.set(t, [n]);
    }
  }
  return m;
}

/** Number of readers of a tensor, counting graph outputs. */
export function useCount(g: Graph, t: string, cons = consumers(g)): number {
  return (cons.get(t)?.length ?? 0) + g.outputs.filter((o) => o === t).length;
}

/**
 * Sorts g.nodes topologically (stable: keeps the existing order where possible). Throws a
 * ModelFormatError naming a node on a cycle, or a node reading an undefined tensor.
 */
export function topoSort(g: Graph, file?: string): void {
  const prod = producers(g);
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.constants.keys()]);
  const deps = new Map<Node, Node[]>();
  for (const n of g.nodes) {
    const d: Node[] = [];
    for (const t of [...n.inputs, ...(n.controlInputs ?? [])]) {
      const p = prod.get(t);
      if (p && isBackEdge(n, p[0])) continue;
      if (p) d.push(p[0]);
      else if (!defined.has(t))
        throw new ModelFormatError(`input '${t}' is not produced by any node, input or constant`, {
          file,
          node: n.name,
        });
    }
    deps.set(n, d);
  }
  const state = new Map<Node, 1 | 2>();
  const order: Node[] = [];
  for (const root of g.nodes) {
    if (state.has(root)) continue;
    // Iterative DFS (graphs can be deep).
    const stack: [Node, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const d = deps.get(top[0])!;
      if (top[1] < d.length) {
        const next = d[top[1]++]!;
        const s = state.get(next);
        if (s === 1)
          throw new ModelFormatError(`the graph has a cycle through this node (via '${top[0].name}')`, {
            file,
            node: next.name,
          });
        if (s === undefined) {
          state.set(next, 1);
          stack.push([next, 0]);
        }
      } else {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  g.nodes = order;
}

/** Replaces every read of tensor `from` (node inputs and graph outputs) by `to`. */
export function replaceUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((t) => (t === from ? to : t));
  }
  g.outputs = g.outputs.map((t) => (t === from ? to : t));
}

/**
 * Names of the Const nodes inside the function library (TF2 control flow). tfjs-converter reads
 * their values from the model's weights by name, so they are constants of the graph read by no
 * top-level node.
 */
export function libraryConstantNames(library: Graph['library']): string[] {
  const out: string[] = [];
  for (const f of (library?.function ?? []) as { nodeDef?: { name?: unknown; op?: unknown }[] }[]) {
    for (const n of f?.nodeDef ?? []) if (n?.op === 'Const' && typeof n.name === 'string') out.push(n.name);
  }
  return out;
}

/** Removes nodes whose outputs are never used (opaque nodes too) and unused constants. */
export function pruneUnused(g: Graph): void {
  const prod = producers(g);
  const live = new Set<Node>();
  const stack = [...g.outputs];
  const usedTensors = new Set<string>(libraryConstantNames(g.library));
  while (stack.length) {
    const t = stack.pop()!;
    if (usedTensors.has(t)) continue;
    usedTensors.add(t);
    const p = prod.get(t);
    if (p && !live.has(p[0])) {
      live.add(p[0]);
      stack.push(...p[0].inputs, ...(p[0].controlInputs ?? []));
    }
  }
  g.nodes = g.nodes.filter((n) => live.has(n));
  for (const name of [...g.constants.keys()]) if (!usedTensors.has(name)) g.constants.delete(name);
  for (const t of [...g.tensors.keys()])
    if (!usedTensors.has(t) && !g.inputs.some((i) => i.name === t)) g.tensors.delete(t);
}

/** A fresh name not used by any node, constant or input. */
export function uniqueName(g: Graph, base: string): string {
  // A free name is the common case: test it without building the set (lowering an unrolled
  // recurrent layer names thousands of nodes, and a set per name made that quadratic in time
  // and allocation).
  if (!g.constants.has(base) && !g.inputs.some((i) => i.name === base) && !g.nodes.some((n) => n.name === base))
    return base;
  const taken = new Set<string>([...g.nodes.map((n) => n.name), ...g.constants.keys(), ...g.inputs.map((i) => i.name)]);
  for (let i = 1; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

export function cloneData(d: TensorData): TensorData {
  return Array.isArray(d) ? d.map((s) => s.slice()) : d.slice();
}

/** Deep copy (constants' data copied too, so passes on the copy never alter the original). */
export function cloneGraph(g: Graph): Graph {
  const constants = new Map<string, Constant>();
  for (const [k, c] of g.constants) {
    const q = c.quantization;
    constants.set(k, {
      ...c,
      shape: [...c.shape],
      data: cloneData(c.data),
      ...(q ? { quantization: { ...q, ...(q.tfjs ? { tfjs: { ...q.tfjs } } : {}) } } : {}),
    });
  }
  return {
    ...g,
    inputs: g.inputs.map((i) => ({ ...i, shape: i.shape ? [...i.shape] : null })),
    outputs: [...g.outputs],
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: structuredClone(n.attrs),
      ...(n.rawAttrs ? { rawAttrs: structuredClone(n.rawAttrs) } : {}),
      ...(n.controlInputs ? { controlInputs: [...n.controlInputs] } : {}),
    })),
    constants,
    tensors: new Map([...g.tensors].map(([k, v]) => [k, { ...v, shape: v.shape ? [...v.shape] : null }])),
    metadata: structuredClone(g.metadata),
    ...(g.signature
      ? {
          signature: {
            inputs: g.signature.inputs.map((e) => ({ ...e })),
            outputs: g.signature.outputs.map((e) => ({ ...e })),
          },
        }
      : {}),
    ...(g.library ? { library: structuredClone(g.library) } : {}),
    ...(g.source ? { source: { ...g.source } } : {}),
  };
}

/** Adds a constant (name made unique), returning its name. */
export function addConstant(
  g: Graph,
  name: string,
  dtype: Constant['dtype'],
  shape: number[],
  data: TensorData,
): string {
  const n = uniqueName(g, name);
  g.constants.set(n, { name: n, dtype, shape, data, ...(hasNonFiniteValues(data) ? { nonFinite: true } : {}) });
  g.tensors.set(n, { dtype, shape: [...shape] });
  return n;
}

/** Number of elements of a constant. */
export function constSize(c: Constant): number {
  return c.shape.reduce((a, b) => a * b, 1);
}

/** Integer values of a small int32 constant (shapes, axes), or undefined if not a constant. */
export function constInts(g: Graph, t: string | undefined): number[] | undefined {
  if (t === undefined) return undefined;
  const c = g.constants.get(t);
  if (!c || (c.dtype !== 'int32' && c.dtype !== 'float32')) return undefined;
  return Array.from(c.data as Int32Array | Float32Array);
}
