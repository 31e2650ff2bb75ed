// TF.js graph models (tfjs-converter output, format "graph-model") → IR.
import { decodeAttrs, parseTfDtype } from './attrs.js';
import { ModelFormatError } from './errors.js';
import { controlFlowRegions } from './control-flow.js';
import {
  createGraph,
  hasNonFiniteValues,
  libraryConstantNames,
  outputName,
  parseTensorName,
  topoSort,
  uniqueName,
  type Attrs,
  type Constant,
  type FusedActivation,
  type Graph,
  type Node,
} from './ir.js';
import { OPS } from './ops.js';
import type { DecodedWeight } from '../io/weights.js';

interface RawNode {
  name: string;
  op: string;
  input: string[];
  attr?: unknown;
}

const RENAME: Record<string, string> = {
  Add: 'AddV2',
  BatchMatMul: 'BatchMatMulV2',
  FusedBatchNorm: 'FusedBatchNormV3',
  FusedBatchNormV2: 'FusedBatchNormV3',
  DepthwiseConv2d: 'DepthwiseConv2dNative',
  Snapshot: 'Identity',
  StopGradient: 'Identity',
  Concat: 'ConcatV2',
  Conv2dTranspose: 'Conv2DBackpropInput',
};

const FUSED_ACT: Record<string, FusedActivation> = {
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  leakyrelu: 'leakyrelu',
  prelu: 'prelu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};

function checkNode(raw: unknown, i: number, file: string): RawNode {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ModelFormatError(`modelTopology.node[${i}] must be an object`, { file });
  const n = raw as Record<string, unknown>;
  if (typeof n.name !== 'string' || n.name === '')
    throw new ModelFormatError(`modelTopology.node[${i}] has no name`, { file });
  if (typeof n.op !== 'string' || n.op === '') throw new ModelFormatError('has no op', { file, node: n.name });
  if (n.input !== undefined && (!Array.isArray(n.input) || n.input.some((s) => typeof s !== 'string' || s === ''))) {
    throw new ModelFormatError('input must be an array of tensor names', { file, node: n.name });
  }
  return { name: n.name, op: n.op, input: (n.input as string[] | undefined) ?? [], attr: n.attr };
}

export interface GraphLoadContext {
  file: string;
  /** Decoded with non-finite values accepted: which ones are legal is decided here. */
  weights: Map<string, DecodedWeight>;
  /** Accept non-finite trained parameters too (normally an error: see PARAMETER_SLOTS). */
  allowNonFinite?: boolean;
}

export function isGraphModelJson(json: Record<string, unknown>): boolean {
  const t = json.modelTopology as Record<string, unknown> | undefined;
  return (
    json.format === 'graph-model' || (!!t && typeof t === 'object' && Array.isArray((t as { node?: unknown }).node))
  );
}

/** Builds the IR of a graph model from its model.json content and decoded weights. */
export function loadGraphModelIR(json: Record<string, unknown>, ctx: GraphLoadContext): Graph {
  const { file } = ctx;
  const topo = json.modelTopology as Record<string, unknown>;
  if (!topo || typeof topo !== 'object' || !Array.isArray(topo.node))
    throw new ModelFormatError('modelTopology.node must be an array', { file });
  const library = checkLibrary(topo.library, file);
  const raws = (topo.node as unknown[]).map((n, i) => checkNode(n, i, file));
  const g = createGraph(typeof json.name === 'string' ? json.name : 'model');
  if (library) g.library = library;
  const byName = new Map<string, RawNode>();
  for (const r of raws) {
    if (byName.has(r.name)) throw new ModelFormatError('duplicate node name', { file, node: r.name });
    byName.set(r.name, r);
  }
  // Outputs each node is referenced with (to size opaque nodes).
  const maxIndex = new Map<string, number>();
  const refName = (ref: string, node: string): string => {
    const control = ref.startsWith('^');
    const [name, idx] = parseTensorName(control ? ref.slice(1) : ref);
    if (!byName.has(name)) throw new ModelFormatError(`input '${ref}' names no node of the graph`, { file, node });
    maxIndex.set(name, Math.max(maxIndex.get(name) ?? 0, idx));
    return control ? name : outputName(name, idx);
  };
  const inputsOf = new Map<string, { data: string[]; control: string[] }>();
  for (const r of raws) {
    const data: string[] = [];
    const control: string[] = [];
    for (const ref of r.input) (ref.startsWith('^') ? control : data).push(refName(ref, r.name));
    inputsOf.set(r.name, { data, control });
  }
  // Signature outputs count as references too (an NMS's second output may be read by no node).
  const sig = json.signature as
    { inputs?: Record<string, { name?: string }>; outputs?: Record<string, { name?: string }> } | undefined;
  const sigEntries = (part: 'inputs' | 'outputs'): [string, string][] => {
    const m = sig && typeof sig === 'object' ? sig[part] : undefined;
    if (!m || typeof m !== 'object') return [];
    return Object.entries(m).map(([key, v]) => {
      if (!v || typeof v.name !== 'string')
        throw new ModelFormatError(`signature ${part.slice(0, -1)} '${key}' has no name`, { file });
      const [nm, idx] = parseTensorName(v.name);
      if (!byName.has(nm))
        throw new ModelFormatError(
          `signature ${part.slice(0, -1)} '${key}' names '${v.name}', which is no node of the graph`,
          { file },
        );
      return [key, outputName(nm, idx)];
    });
  };
  const sigOutputs = sigEntries('outputs');
  for (const [, t] of sigOutputs) refName(t, '<signature>');
  const attrsOf = new Map(raws.map((r) => [r.name, decodeAttrs(r.attr, { file, node: r.name })]));
  const isValueSource = (r: RawNode): boolean =>
    r.op === 'Const' ||
    r.op === 'NoOp' ||
    r.op === 'Placeholder' ||
    (r.op === 'PlaceholderWithDefault' && inputsOf.get(r.name)!.data.length === 0);
  // Every operation in raw form first: control-flow regions are found on it, and their nodes stay raw.
  const rawForm = (r: RawNode): Node => {
    const { data, control } = inputsOf.get(r.name)!;
    const count = (maxIndex.get(r.name) ?? 0) + 1;
    return {
      name: r.name,
      op: r.op,
      inputs: data,
      outputs: Array.from({ length: count }, (_, i) => outputName(r.name, i)),
      attrs: attrsOf.get(r.name)!,
      opaque: true,
      rawAttrs: (r.attr as Record<string, unknown> | undefined) ?? {},
      ...(control.length ? { controlInputs: control } : {}),
    };
  };
  const probe = createGraph();
  probe.nodes = raws.filter((r) => !isValueSource(r)).map(rawForm);
  const inRegion = new Set(controlFlowRegions(probe).flatMap((r) => r.nodes));
  const functions = new Set(
    ((library?.function ?? []) as { signature: { name: string } }[]).map((f) => f.signature.name),
  );
  for (const r of raws) {
    if (!FUNCTIONAL_OPS.has(r.op)) continue;
    for (const key of ['then_branch', 'else_branch', 'cond', 'body']) {
      const fn = (r.attr as Record<string, { func?: { name?: unknown } }> | undefined)?.[key]?.func?.name;
      if (fn !== undefined && (typeof fn !== 'string' || !functions.has(fn))) {
        throw new ModelFormatError(
          `${r.op} attribute ${key} names the function ${JSON.stringify(fn)}, which modelTopology.library.function lacks`,
          { file, node: r.name },
        );
      }
    }
  }
  const dropped = new Set<string>();
  for (const r of raws) {
    const attrs = attrsOf.get(r.name)!;
    const { data, control } = inputsOf.get(r.name)!;
    if (r.op === 'Const') {
      const w = ctx.weights.get(r.name);
      if (!w) throw new ModelFormatError('Const node has no weight in the weights manifest', { file, node: r.name });
      const c: Constant = { name: r.name, dtype: w.dtype, shape: [...w.shape], data: w.data };
      if (w.quantization) c.quantization = { tfjs: { ...w.quantization } };
      if (hasNonFiniteValues(w.data)) c.nonFinite = true;
      g.constants.set(r.name, c);
      g.tensors.set(r.name, { dtype: w.dtype, shape: [...w.shape] });
      continue;
    }
    if (r.op === 'Placeholder' || (r.op === 'PlaceholderWithDefault' && data.length === 0)) {
      const dtype = parseTfDtype((r.attr as Record<string, { type?: unknown }> | undefined)?.dtype?.type) ?? 'float32';
      const shape = Array.isArray(attrs.shape) ? (attrs.shape as number[]) : null;
      g.inputs.push({ name: r.name, dtype, shape });
      g.tensors.set(r.name, { dtype, shape });
      continue;
    }
    if (r.op === 'NoOp') {
      dropped.add(r.name);
      continue;
    }
    if (inRegion.has(r.name)) {
      g.nodes.push(rawForm(r));
      continue;
    }
    const node = canonicalNode(g, r, attrs, data, file);
    if (control.length) node.controlInputs = control;
    g.nodes.push(node);
  }
  for (const n of g.nodes) if (n.attrs.activation === 'prelu') fixBias(g, n);
  // Size outputs of every node now that all references are known.
  for (const n of g.nodes) {
    const count = Math.max(n.outputs.length, (maxIndex.get(n.name) ?? 0) + 1);
    n.outputs = Array.from({ length: count }, (_, i) => outputName(n.name, i));
  }
  for (const n of g.nodes)
    if (n.controlInputs)
      n.controlInputs = n.controlInputs.filter(
        (c) => !dropped.has(c) && !g.constants.has(c) && !g.inputs.some((i) => i.name === c),
      );
  for (const n of g.nodes) if (n.controlInputs?.length === 0) delete n.controlInputs;
  // Signature (inputs/outputs) or, as tfjs does, placeholders and leaf nodes.
  if (sigOutputs.length) {
    g.outputs = sigOutputs.map(([, t]) => t);
  } else {
    const used = new Set<string>();
    for (const r of raws) for (const ref of r.input) used.add(parseTensorName(ref.replace(/^\^/, ''))[0]);
    g.outputs = raws
      .filter((r) => !used.has(r.name) && r.op !== 'Const' && r.op !== 'NoOp' && !r.op.startsWith('Placeholder'))
      .map((r) => r.name);
  }
  if (g.outputs.length === 0) throw new ModelFormatError('the graph has no outputs', { file });
  const sigInputs = sigEntries('inputs');
  const inputKey = new Map(sigInputs.map(([key, t]) => [t, key]));
  if (sigInputs.length) {
    const order = sigInputs.map(([, t]) => t);
    g.inputs.sort((a, b) => (order.indexOf(a.name) + 1 || 1e9) - (order.indexOf(b.name) + 1 || 1e9));
  }
  g.signature = {
    inputs: g.inputs.map((i) => ({ key: inputKey.get(i.name) ?? i.name, name: i.name })),
    outputs: sigOutputs.length
      ? sigOutputs.map(([key, name]) => ({ key, name }))
      : g.outputs.map((o) => ({ key: o, name: o })),
  };
  for (const name of libraryConstantNames(library)) {
    const w = ctx.weights.get(name);
    if (!w)
      throw new ModelFormatError(`Const node '${name}' of the function library has no weight in the weights manifest`, {
        file,
      });
    if (g.constants.has(name)) continue;
    g.constants.set(name, {
      name,
      dtype: w.dtype,
      shape: [...w.shape],
      data: w.data,
      ...(hasNonFiniteValues(w.data) ? { nonFinite: true } : {}),
    });
    g.tensors.set(name, { dtype: w.dtype, shape: [...w.shape] });
  }
  if (!ctx.allowNonFinite) rejectNonFiniteParameters(g, file);
  topoSort(g, file);
  return g;
}

/** Ops run by tfjs-converter from functions of the library. */
const FUNCTIONAL_OPS: ReadonlySet<string> = new Set(['If', 'StatelessIf', 'While', 'StatelessWhile']);

function checkLibrary(lib: unknown, file: string): Graph['library'] {
  if (lib === undefined || lib === null) return undefined;
  if (typeof lib !== 'object' || Array.isArray(lib))
    throw new ModelFormatError('modelTopology.library must be an object', { file });
  const fns = (lib as { function?: unknown }).function;
  if (fns === undefined) return undefined;
  if (!Array.isArray(fns)) throw new ModelFormatError('modelTopology.library.function must be an array', { file });
  fns.forEach((f, i) => {
    const name = (f as { signature?: { name?: unknown } } | null)?.signature?.name;
    if (typeof name !== 'string' || name === '')
      throw new ModelFormatError(`modelTopology.library.function[${i}] has no signature.name`, { file });
    if (!Array.isArray((f as { nodeDef?: unknown }).nodeDef ?? []))
      throw new ModelFormatError(`function '${name}': nodeDef must be an array`, { file });
  });
  return fns.length ? (lib as Graph['library']) : undefined;
}

/**
 * Input slots holding trained parameters: the filters, biases and PReLU slopes of convolutions
 * and matrix products, and the batch-norm statistics. A NaN or ±Inf there comes from a training
 * that diverged or a damaged file, never from the model's design, so it is corrupt data;
 * anywhere else (a -Inf padding fill, a -Inf score threshold, masks) a non-finite constant is legal.
 */
const PARAMETER_SLOTS: Record<string, number[]> = {
  Conv2D: [1, 2, 3],
  DepthwiseConv2dNative: [1, 2, 3],
  MatMul: [1, 2, 3],
  Conv2DBackpropInput: [1, 3],
  FusedBatchNormV3: [1, 2, 3, 4],
  BiasAdd: [1],
};

function rejectNonFiniteParameters(g: Graph, file: string): void {
  for (const n of g.nodes) {
    if (n.opaque) continue;
    for (const slot of PARAMETER_SLOTS[n.op] ?? []) {
      const c = n.inputs[slot] !== undefined ? g.constants.get(n.inputs[slot]!) : undefined;
      if (!c?.nonFinite) continue;
      const f = c.data as Float32Array;
      const i = f.findIndex((v) => !Number.isFinite(v));
      throw new ModelFormatError(
        `element ${i} is ${f[i]}: a trained parameter (input ${slot} of ${n.op} '${n.name}') must be finite; the file is damaged or the training diverged (pass allowNonFinite to load it anyway)`,
        { file, weight: c.name },
      );
    }
  }
}

function fusedCanonical(g: Graph, r: RawNode, attrs: Attrs, data: string[], file: string, op: string): Node {
  const fused = ((attrs.fused_ops as string[] | undefined) ?? []).map((s) => s.toLowerCase());
  const numArgs = typeof attrs.num_args === 'number' ? attrs.num_args : data.length - 2;
  if (data.length < 2 + numArgs)
    throw new ModelFormatError(`needs ${2 + numArgs} inputs (num_args ${numArgs}), has ${data.length}`, {
      file,
      node: r.name,
    });
  let ops = fused;
  let bias: string | undefined;
  let rest = data.slice(2, 2 + numArgs);
  if (ops[0] === 'biasadd') {
    bias = rest[0];
    rest = rest.slice(1);
    ops = ops.slice(1);
  }
  if (ops.some((o) => o === 'fusedbatchnorm'))
    throw new ModelFormatError(`${r.op} with FusedBatchNorm is not supported`, { file, node: r.name });
  if (ops.length > 1) throw new ModelFormatError(`unsupported fused_ops [${fused.join(', ')}]`, { file, node: r.name });
  const act: FusedActivation = ops.length ? (FUSED_ACT[ops[0]!] ?? 'none') : 'none';
  if (ops.length && act === 'none')
    throw new ModelFormatError(`unsupported fused activation '${ops[0]}'`, { file, node: r.name });
  const inputs = [data[0]!, data[1]!];
  if (bias || act === 'prelu') {
    if (!bias) {
      // prelu without bias: a zero bias keeps the canonical input positions.
      const nm = uniqueName(g, `${r.name}/zero_bias`);
      g.constants.set(nm, { name: nm, dtype: 'float32', shape: [0], data: new Float32Array(0) });
      bias = nm;
      const alphaIn = rest[0];
      if (!alphaIn) throw new ModelFormatError('prelu needs an alpha argument', { file, node: r.name });
    }
    inputs.push(bias);
  }
  if (act === 'prelu') {
    const alpha = rest[0];
    if (!alpha) throw new ModelFormatError('prelu needs an alpha argument', { file, node: r.name });
    inputs.push(alpha);
  }
  const keep: Attrs = {};
  for (const k of [
    'strides',
    'padding',
    'explicit_paddings',
    'dilations',
    'data_format',
    'transpose_a',
    'transpose_b',
  ]) {
    if (attrs[k] !== undefined) keep[k] = attrs[k]!;
  }
  keep.activation = act;
  if (act === 'leakyrelu')
    keep.leakyrelu_alpha = typeof attrs.leakyrelu_alpha === 'number' ? attrs.leakyrelu_alpha : 0.2;
  return { name: r.name, op, inputs, outputs: [r.name], attrs: keep };
}

function canonicalNode(g: Graph, r: RawNode, attrs: Attrs, data: string[], file: string): Node {
  switch (r.op) {
    case '_FusedConv2D':
      return fusedCanonical(g, r, attrs, data, file, 'Conv2D');
    case 'FusedDepthwiseConv2dNative':
      return fusedCanonical(g, r, attrs, data, file, 'DepthwiseConv2dNative');
    case '_FusedMatMul':
      return fusedCanonical(g, r, attrs, data, file, 'MatMul');
    case 'Concat':
      return {
        name: r.name,
        op: 'ConcatV2',
        inputs: [...data.slice(1), data[0]!],
        outputs: [r.name],
        attrs: { ...attrs },
      };
    default:
      break;
  }
  const op = RENAME[r.op] ?? r.op;
  if (!OPS[op])
    return {
      name: r.name,
      op: r.op,
      inputs: data,
      outputs: [r.name],
      attrs,
      opaque: true,
      rawAttrs: (r.attr as Record<string, unknown>) ?? {},
    };
  const node: Node = { name: r.name, op, inputs: data, outputs: [r.name], attrs: { ...attrs } };
  if (op === 'Conv2D' || op === 'DepthwiseConv2dNative' || op === 'MatMul') node.attrs.activation = 'none';
  if (op === 'BatchMatMulV2') {
    node.attrs.adj_x = attrs.adj_x ?? false;
    node.attrs.adj_y = attrs.adj_y ?? false;
  }
  if (op === 'FusedBatchNormV3' && data.length !== 5)
    throw new ModelFormatError(`${r.op} needs 5 inputs, has ${data.length}`, { file, node: r.name });
  return node;
}

/** A prelu-without-bias node got a placeholder zero bias: size it from the filter. */
function fixBias(g: Graph, n: Node): Node {
  const b = n.inputs[2] !== undefined ? g.constants.get(n.inputs[2]) : undefined;
  if (!b || b.shape[0] !== 0 || (!b.name.endsWith('/zero_bias') && !/\/zero_bias_\d+$/.test(b.name))) return n;
  const f = g.constants.get(n.inputs[1]!);
  let ch: number | undefined;
  if (f && f.shape.length === 4) ch = n.op === 'Conv2D' ? f.shape[3] : f.shape[2]! * f.shape[3]!;
  else if (f && f.shape.length === 2) ch = n.attrs.transpose_b ? f.shape[0] : f.shape[1];
  if (ch === undefined) throw new ModelFormatError('prelu without bias needs a constant filter', { node: n.name });
  b.shape = [ch];
  b.data = new Float32Array(ch);
  g.tensors.set(b.name, { dtype: 'float32', shape: [ch] });
  return n;
}
