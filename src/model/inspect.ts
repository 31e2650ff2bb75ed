// Model inspection: format, inputs/outputs, op histogram, parameters and bytes by dtype, and
// which nodes the native int8 runtime can run.
import { controlFlowRegions } from './control-flow.js';
import { isFiniteConstant, signatureOf, type Graph, type Node } from './ir.js';

/**
 * Ops the native int8 runtime runs (the runtime owns this list; it is the planned kernel
 * set). Conv2D / DepthwiseConv2dNative / MatMul include their fused bias and activations
 * (relu, relu6, leakyrelu, prelu, sigmoid, tanh, elu).
 */
export const NATIVE_INT8_OPS: readonly string[] = [
  'Conv2D',
  'DepthwiseConv2dNative',
  'MatMul',
  'BatchMatMulV2',
  'Conv2DBackpropInput',
  'BiasAdd',
  'AddV2',
  'Sub',
  'Mul',
  'Maximum',
  'Minimum',
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Prelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'ClipByValue',
  'ConcatV2',
  'MaxPool',
  'AvgPool',
  'Mean',
  'Pad',
  'PadV2',
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Transpose',
  'StridedSlice',
  'Slice',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
  'DepthToSpace',
  'Softmax',
  'Cast',
  'Quantize',
  'Dequantize',
  'Identity',
];

export function nativeInt8Supported(n: Node): boolean {
  return !n.opaque && NATIVE_INT8_OPS.includes(n.op);
}

export interface InspectReport {
  format: string;
  name: string;
  file?: string;
  sha256?: string;
  transformed: boolean;
  inputs: { name: string; dtype: string; shape: number[] | null }[];
  outputs: { name: string; dtype: string; shape: number[] | null }[];
  nodes: number;
  ops: { op: string; count: number; int8: boolean }[];
  opaque: string[];
  parameters: { dtype: string; tensors: number; elements: number; bytes: number }[];
  totalParameters: number;
  totalBytes: number;
  int8Nodes: number;
  unsupported: { node: string; op: string }[];
  /** Control-flow regions (run whole in tfjs): their count and node counts. */
  controlFlowRegions: number[];
  /** Constants holding NaN / ±Inf (legal data kept in float). */
  nonFiniteConstants: string[];
  /** Signature keys of the inputs and outputs (as tfjs names them), in order. */
  signature: { inputs: string[]; outputs: string[] };
}

function bytesOf(c: { dtype: string; data: unknown; shape: number[] }): number {
  if (c.dtype === 'string') return (c.data as Uint8Array[]).reduce((a, s) => a + 4 + s.byteLength, 0);
  return (c.data as ArrayBufferView).byteLength;
}

export function inspectGraph(g: Graph): InspectReport {
  const hist = new Map<string, number>();
  for (const n of g.nodes) hist.set(n.op, (hist.get(n.op) ?? 0) + 1);
  const ops = [...hist]
    .map(([op, count]) => ({ op, count, int8: NATIVE_INT8_OPS.includes(op) }))
    .sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
  const byType = new Map<string, { tensors: number; elements: number; bytes: number }>();
  for (const c of g.constants.values()) {
    const key = c.quantization?.encoded
      ? `${c.dtype} (${c.quantization.encoded.encoding})`
      : c.quantization?.affine
        ? `${c.quantization.affine.dtype} (affine)`
        : c.quantization?.tfjs
          ? `${c.dtype} (stored ${c.quantization.tfjs.dtype})`
          : c.dtype;
    const e = byType.get(key) ?? { tensors: 0, elements: 0, bytes: 0 };
    e.tensors++;
    const n = c.shape.reduce((a, b) => a * b, 1);
    e.elements += n;
    const q = c.quantization;
    e.bytes += q?.encoded
      ? q.encoded.bytes.byteLength
      : q?.affine?.values
        ? q.affine.dtype === 'int4'
          ? Math.ceil(n / 2)
          : q.affine.values.byteLength
        : q?.tfjs
          ? n * (q.tfjs.dtype === 'uint8' ? 1 : 2)
          : bytesOf(c);
    byType.set(key, e);
  }
  const parameters = [...byType].map(([dtype, v]) => ({ dtype, ...v })).sort((a, b) => a.dtype.localeCompare(b.dtype));
  const unsupported = g.nodes.filter((n) => !nativeInt8Supported(n)).map((n) => ({ node: n.name, op: n.op }));
  const regions = controlFlowRegions(g);
  const inRegion = new Set(regions.flatMap((r) => r.nodes));
  const sig = signatureOf(g);
  const info = (t: string) => ({
    name: t,
    dtype: g.tensors.get(t)?.dtype ?? 'float32',
    shape: g.tensors.get(t)?.shape ?? null,
  });
  return {
    format: g.source?.format ?? 'in-memory',
    name: g.name,
    file: g.source?.file,
    sha256: g.source?.sha256,
    transformed: !!g.transformed,
    inputs: g.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape })),
    outputs: g.outputs.map(info),
    nodes: g.nodes.length,
    ops,
    opaque: g.nodes.filter((n) => n.opaque && !inRegion.has(n.name)).map((n) => `${n.name} (${n.op})`),
    parameters,
    totalParameters: parameters.reduce((a, p) => a + p.elements, 0),
    totalBytes: parameters.reduce((a, p) => a + p.bytes, 0),
    int8Nodes: g.nodes.length - unsupported.length,
    unsupported,
    controlFlowRegions: regions.map((r) => r.nodes.length),
    nonFiniteConstants: [...g.constants.values()].filter((c) => !isFiniteConstant(c)).map((c) => c.name),
    signature: { inputs: sig.inputs.map((e) => e.key), outputs: sig.outputs.map((e) => e.key) },
  };
}

function shapeStr(s: number[] | null): string {
  return s ? `[${s.map((d) => (d < 0 ? '?' : d)).join(', ')}]` : '[unknown rank]';
}

/** Plain-text rendering of an inspection report. */
export function formatInspect(r: InspectReport): string {
  const lines: string[] = [];
  lines.push(`model:       ${r.name}${r.file ? ` (${r.file})` : ''}`);
  lines.push(`format:      ${r.format}`);
  if (r.sha256) lines.push(`sha256:      ${r.sha256}`);
  lines.push('inputs:');
  const keyed = (key: string | undefined, name: string) =>
    key !== undefined && key !== name ? `${key} → ${name}` : name;
  r.inputs.forEach((i, k) => lines.push(`  ${keyed(r.signature.inputs[k], i.name)}  ${i.dtype} ${shapeStr(i.shape)}`));
  lines.push('outputs:');
  r.outputs.forEach((o, k) =>
    lines.push(`  ${keyed(r.signature.outputs[k], o.name)}  ${o.dtype} ${shapeStr(o.shape)}`),
  );
  lines.push(`ops (${r.nodes} nodes):`);
  const w = Math.max(2, ...r.ops.map((o) => o.op.length));
  for (const o of r.ops) lines.push(`  ${o.op.padEnd(w)}  ${String(o.count).padStart(5)}  ${o.int8 ? 'int8' : 'tfjs'}`);
  lines.push(
    `parameters:  ${r.totalParameters.toLocaleString('en-US')} (${r.totalBytes.toLocaleString('en-US')} bytes)`,
  );
  for (const p of r.parameters)
    lines.push(
      `  ${p.dtype.padEnd(24)} ${String(p.tensors).padStart(5)} tensors  ${p.elements.toLocaleString('en-US').padStart(12)} values  ${p.bytes.toLocaleString('en-US').padStart(12)} bytes`,
    );
  lines.push(`int8 runtime: ${r.int8Nodes}/${r.nodes} nodes supported`);
  if (r.unsupported.length) {
    const byOp = new Map<string, number>();
    for (const u of r.unsupported) byOp.set(u.op, (byOp.get(u.op) ?? 0) + 1);
    lines.push(`  run in tfjs: ${[...byOp].map(([op, n]) => `${op}×${n}`).join(', ')}`);
  }
  if (r.controlFlowRegions.length)
    lines.push(
      `control flow: ${r.controlFlowRegions.length} region(s) of ${r.controlFlowRegions.join(', ')} nodes, run whole in tfjs`,
    );
  if (r.nonFiniteConstants.length)
    lines.push(`non-finite constants (kept in float): ${r.nonFiniteConstants.join(', ')}`);
  if (r.opaque.length) lines.push(`opaque (unknown) nodes: ${r.opaque.join(', ')}`);
  return lines.join('\n') + '\n';
}
