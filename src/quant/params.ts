// Derived parameters of a quantized graph (docs/quantization.md §12): which nodes run int8,
// dynamic or float, the int32 bias and requantization multipliers of an int8 node, the fixed
// parameters of Softmax, the per-tensor parameters of a constant operand. Shared by the
// TypeScript simulation (src/quant/simulate.ts), the native runtime's planner and the
// quantizer so the three agree by construction. Pure functions over the IR.
import type { Constant, Graph, Node } from '../model/ir.js';
import { chooseAsymmetricI8, clamp, fl32, rangeOf, rne, type QParams } from './scheme.js';

export type QuantMode = 'int8' | 'dynamic' | 'float16';
/**
 * The model's input / output interface (§12.1): float32, or the int8 codes of the tensor's
 * activation parameters, or the same codes as uint8 (u = q + 128, zero point + 128: what image
 * bytes are) — inside, the graph runs int8 either way.
 */
export type IoType = 'float32' | 'int8' | 'uint8';

/** g.metadata.quantization (§12.1), as stored. */
export interface QuantizationInfo {
  mode: QuantMode;
  floatNodes: string[];
  /**
   * int8 mode: Conv2D / MatMul nodes that run dynamic (§12.4: int8 weights, activations
   * quantized per row as they come) because static int8 loses too much there — the accuracy
   * guard's first step back, before float.
   */
  dynamicNodes?: string[];
  inputType: IoType;
  outputType: IoType;
  dynamic?: { granularity: 'tensor' | 'row' };
  weightBits?: 4 | 8;
  groupSize?: number;
}

/** g.metadata.activations[tensor] (§12.1). */
export interface ActivationParams {
  min: number;
  max: number;
  scale: number;
  zeroPoint: number;
  dtype: 'int8';
}

/** The §12.1 annotation of g with defaults filled; undefined for a float (unannotated) graph. */
export function quantizationInfo(g: Graph): QuantizationInfo | undefined {
  const q = g.metadata.quantization as Partial<QuantizationInfo> | undefined;
  if (!q || typeof q !== 'object') return undefined;
  return {
    mode: q.mode ?? 'int8',
    floatNodes: Array.isArray(q.floatNodes) ? q.floatNodes : [],
    ...(Array.isArray(q.dynamicNodes) && q.dynamicNodes.length ? { dynamicNodes: q.dynamicNodes } : {}),
    inputType: q.inputType ?? 'float32',
    outputType: q.outputType ?? 'float32',
    dynamic: q.dynamic ?? { granularity: 'tensor' },
    ...(q.weightBits !== undefined ? { weightBits: q.weightBits } : {}),
    ...(q.groupSize !== undefined ? { groupSize: q.groupSize } : {}),
  };
}

export function activationTable(g: Graph): Record<string, ActivationParams> {
  return (g.metadata.activations as Record<string, ActivationParams> | undefined) ?? {};
}

/** §11.6: the fixed output parameters of an int8 Softmax. */
export const SOFTMAX_INT8_PARAMS: Readonly<QParams> = Object.freeze({ scale: 1 / 256, zeroPoint: -128 });

/** Ops with int8 weights (§12.1) and the input index of the weight. */
export const WEIGHT_INPUT: Readonly<Record<string, number>> = {
  Conv2D: 1,
  DepthwiseConv2dNative: 1,
  MatMul: 1,
  Conv2DBackpropInput: 1,
};

/** Ops whose output takes the input's parameters (§12.3: MaxPool and data movement). */
export const PASS_THROUGH_OPS: readonly string[] = [
  'MaxPool',
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Identity',
  'Pad',
  'PadV2',
  'Transpose',
  'StridedSlice',
  'Slice',
  'DepthToSpace',
  'ResizeNearestNeighbor',
];

export const BINARY_INT8_OPS: readonly string[] = ['AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum'];
export const LUT_INT8_OPS: readonly string[] = ['Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh'];

/** The §12.3 int8 op set. */
export const INT8_OPS: readonly string[] = [
  'Conv2D',
  'MatMul',
  'DepthwiseConv2dNative',
  'Conv2DBackpropInput',
  'AvgPool',
  'Mean',
  ...BINARY_INT8_OPS,
  ...LUT_INT8_OPS,
  'Prelu',
  'Softmax',
  'ConcatV2',
  'ResizeBilinear',
  ...PASS_THROUGH_OPS,
];

/** Fused activations handled by clamping the requantization (§7); others need `<output>/preact`. */
export function clampActivation(a: unknown): boolean {
  return a === undefined || a === 'none' || a === 'relu' || a === 'relu6';
}

/** The tensor holding the pre-activation of a node with a non-clamp fused activation (§12.2). */
export function preactName(output: string): string {
  return `${output}/preact`;
}

/** The int8 weight annotation of a weighted node, if its weight constant carries one. */
export function weightOf(g: Graph, n: Node): Constant | undefined {
  const i = WEIGHT_INPUT[n.op];
  if (i === undefined) return undefined;
  const c = g.constants.get(n.inputs[i]!);
  return c?.quantization?.affine?.dtype === 'int8' && c.quantization.affine.values instanceof Int8Array ? c : undefined;
}

/** The weight's K (values per output channel) and N of a Conv2D / MatMul weight constant, as the GEMM sees it. */
function gemmDims(n: Node, shape: readonly number[]): { k: number; n: number; axis: number } | undefined {
  if (n.op === 'MatMul' && shape.length === 2) {
    return n.attrs.transpose_b === true
      ? { k: shape[1]!, n: shape[0]!, axis: 0 }
      : { k: shape[0]!, n: shape[1]!, axis: 1 };
  }
  if (n.op === 'Conv2D' && shape.length === 4) return { k: shape[0]! * shape[1]! * shape[2]!, n: shape[3]!, axis: 3 };
  return undefined;
}

/** Values per group of an int4 weight as the kernels take it (0: one group per output channel). */
export function int4KernelGroupSize(groupSize: number | undefined, k: number): number {
  return groupSize === undefined || groupSize === 0 || groupSize >= k ? 0 : groupSize;
}

/**
 * The int4 weight (§12.5) of a dynamic Conv2D / MatMul when the int4 kernel takes it as it is
 * annotated: `affine.dtype` 'int4', Int8Array values in [−8, 7] (one per element), output
 * channel on the GEMM's N axis (axisCount 1), group size 0 or a multiple of 8, scales (finite,
 * > 0) and zero points ([−8, 7]) with groups × N entries, 1 ≤ K ≤ 65536. Anything else:
 * undefined (the node then runs float on the dequantized weight, as before).
 */
export function int4WeightOf(g: Graph, n: Node): Constant | undefined {
  if (n.op !== 'Conv2D' && n.op !== 'MatMul') return undefined;
  const c = g.constants.get(n.inputs[1]!);
  const a = c?.quantization?.affine;
  if (!c || a?.dtype !== 'int4' || !(a.values instanceof Int8Array) || a.values.length !== c.data.length)
    return undefined;
  const d = gemmDims(n, c.shape);
  if (!d || a.axis !== d.axis || (a.axisCount ?? 1) !== 1 || d.k < 1 || d.k > 65536 || d.n < 1) return undefined;
  const gs = int4KernelGroupSize(a.groupSize, d.k);
  if (!Number.isInteger(gs) || gs < 0 || gs % 8 !== 0) return undefined;
  const groups = gs === 0 ? 1 : Math.ceil(d.k / gs);
  if (!(a.scales instanceof Float32Array) || a.scales.length !== groups * d.n) return undefined;
  if (a.zeroPoints.length !== groups * d.n) return undefined;
  for (const s of a.scales) if (!(s > 0) || !Number.isFinite(s)) return undefined;
  for (const z of a.zeroPoints) if (!(z >= -8 && z <= 7)) return undefined;
  if (!int4Values(a.values)) return undefined;
  return c;
}

const int4Checked = new WeakMap<Int8Array, boolean>();

/** Every value in [−8, 7] (scanned once per values array: planExecution runs often on big weights). */
function int4Values(v: Int8Array): boolean {
  let ok = int4Checked.get(v);
  if (ok === undefined) {
    ok = true;
    for (let i = 0; i < v.length; i++)
      if (v[i]! < -8 || v[i]! > 7) {
        ok = false;
        break;
      }
    int4Checked.set(v, ok);
  }
  return ok;
}

/** The non-constant inputs of a node that carry activations (for Conv2DBackpropInput: dy). */
export function activationInputs(g: Graph, n: Node): string[] {
  if (n.op === 'Conv2DBackpropInput') return [n.inputs[2]!];
  if (WEIGHT_INPUT[n.op] !== undefined) return [n.inputs[0]!];
  if (n.op === 'Prelu') return [n.inputs[0]!];
  if (n.op === 'ConcatV2') return n.inputs.slice(0, -1);
  return n.inputs.filter((t) => !g.constants.has(t));
}

function isConst(g: Graph, t: string | undefined): boolean {
  return t !== undefined && g.constants.has(t);
}

/** Structural conditions of §12.3 beyond the op name (constant operands, supported attributes). */
function int8Shape(g: Graph, n: Node): boolean {
  const act = n.attrs.activation;
  switch (n.op) {
    case 'Conv2D':
    case 'DepthwiseConv2dNative':
    case 'MatMul': {
      if (!weightOf(g, n)) return false;
      if (n.inputs[2] !== undefined && !isConst(g, n.inputs[2])) return false;
      if (act === 'prelu' && !isConst(g, n.inputs[3])) return false;
      if (n.op === 'MatMul' && n.attrs.transpose_a === true) return false;
      if (n.op !== 'MatMul' && String(n.attrs.data_format ?? 'NHWC').toUpperCase() !== 'NHWC') return false;
      return true;
    }
    case 'Conv2DBackpropInput':
      return !!weightOf(g, n) && isConst(g, n.inputs[0]) && (n.inputs[3] === undefined || isConst(g, n.inputs[3]));
    case 'Mean': {
      const axes = g.constants.get(n.inputs[1]!);
      if (!axes) return false;
      const a = Array.from(axes.data as Int32Array)
        .map((v) => (v < 0 ? v + 4 : v))
        .sort();
      const shape = g.tensors.get(n.inputs[0]!)?.shape;
      return a.length === 2 && a[0] === 1 && a[1] === 2 && (!shape || shape.length === 4);
    }
    case 'AddV2':
    case 'Sub':
    case 'Mul':
    case 'Maximum':
    case 'Minimum':
      // Both activations, or one a float32 constant.
      return (
        n.inputs.length === 2 &&
        !(isConst(g, n.inputs[0]) && isConst(g, n.inputs[1])) &&
        n.inputs.every((t) => !isConst(g, t) || g.constants.get(t)!.dtype === 'float32')
      );
    case 'Prelu':
      return isConst(g, n.inputs[1]);
    case 'ConcatV2':
      return isConst(g, n.inputs[n.inputs.length - 1]) && n.inputs.slice(0, -1).every((t) => !isConst(g, t));
    case 'Reshape':
    case 'ExpandDims':
    case 'Transpose':
    case 'ResizeBilinear':
    case 'ResizeNearestNeighbor':
      return isConst(g, n.inputs[1]);
    case 'Pad':
    case 'PadV2':
      return isConst(g, n.inputs[1]) && (n.op === 'Pad' || isConst(g, n.inputs[2]));
    case 'StridedSlice':
      return isConst(g, n.inputs[1]) && isConst(g, n.inputs[2]) && isConst(g, n.inputs[3]);
    case 'Slice':
      return isConst(g, n.inputs[1]) && isConst(g, n.inputs[2]);
    default:
      return true;
  }
}

export type NodeExecution = 'int8' | 'dynamic' | 'float';

/** Why a node does not run int8 (undefined when it does): for reports. */
export function int8Obstacle(
  g: Graph,
  n: Node,
  info = quantizationInfo(g),
  acts = activationTable(g),
): string | undefined {
  if (!info || info.mode !== 'int8') return 'the graph is not in int8 mode';
  if (info.floatNodes.includes(n.name)) return 'kept in float (floatNodes)';
  if (n.opaque || !INT8_OPS.includes(n.op)) return `op ${n.op} has no int8 kernel`;
  if (!int8Shape(g, n)) return `${n.op} with these operands/attributes has no int8 kernel`;
  for (const t of activationInputs(g, n)) if (!acts[t]) return `input '${t}' has no activation parameters`;
  if (n.outputs.length !== 1) return 'more than one output';
  if (!acts[n.outputs[0]!]) return `output '${n.outputs[0]}' has no activation parameters`;
  if (!clampActivation(n.attrs.activation) && !acts[preactName(n.outputs[0]!)])
    return `'${preactName(n.outputs[0]!)}' has no activation parameters`;
  return undefined;
}

/**
 * The narrow-layer rule (§12.4): a Conv2D / MatMul with int8 weights and fewer than
 * DYNAMIC_MIN_K products per output (K) or fewer than DYNAMIC_MIN_N outputs per row (N, its
 * output channels) is not run dynamic but float on its int8 weights (dequantized: weight-only
 * int8, closer to float than dynamic): quantizing every row (K values) and dequantizing every
 * output cost more than its K·N int8 products save. bench/ops/dynamic-vs-float.ts (one
 * convolution alone, AVX-512 VNNI, 1 thread; bench/ops/RESULTS-dynamic-vs-float.md): dynamic /
 * float 1.1–3.6 for K = 8…48; 0.77–0.94 for K = 64…512 with N ≥ 48 (one run 1.27 at K = N = 64);
 * 1.22–1.50 for N = 16 and 24 at every K tried (75…1152); 0.88–1.14 at N = 32. Decided at
 * conversion (quantize's dynamicMinK, dynamicMinN) and written as float nodes; 4-bit weights
 * stay dynamic (their point is memory).
 */
export const DYNAMIC_MIN_K = 64;
/** See DYNAMIC_MIN_K. */
export const DYNAMIC_MIN_N = 32;

/** Products per output of a Conv2D / MatMul over a constant weight (undefined for other nodes). */
export function gemmK(g: Graph, n: Node): number | undefined {
  const s = g.constants.get(n.inputs[1] ?? '')?.shape;
  if (n.op === 'Conv2D' && s?.length === 4) return s[0]! * s[1]! * s[2]!;
  if (n.op === 'MatMul' && s?.length === 2) return n.attrs.transpose_b === true ? s[1]! : s[0]!;
  return undefined;
}

/** Outputs per row (output channels) of a Conv2D / MatMul over a constant weight (undefined for other nodes). */
export function gemmN(g: Graph, n: Node): number | undefined {
  const s = g.constants.get(n.inputs[1] ?? '')?.shape;
  if (n.op === 'Conv2D' && s?.length === 4) return s[3]!;
  if (n.op === 'MatMul' && s?.length === 2) return n.attrs.transpose_b === true ? s[0]! : s[1]!;
  return undefined;
}

/** The thresholds of the narrow-layer rule (DYNAMIC_MIN_K, DYNAMIC_MIN_N unless the caller says otherwise). */
export interface DynamicMinimum {
  k: number;
  n: number;
}
export const DYNAMIC_MINIMUM: DynamicMinimum = { k: DYNAMIC_MIN_K, n: DYNAMIC_MIN_N };

/** Why the narrow-layer rule runs n float rather than dynamic ("K = 27 < 64"), or undefined when it does not. */
export function tooNarrowForDynamic(g: Graph, n: Node, min: DynamicMinimum): string | undefined {
  const k = gemmK(g, n),
    cols = gemmN(g, n);
  if (k !== undefined && k < min.k) return `K = ${k} < ${min.k}`;
  if (cols !== undefined && cols < min.n) return `N = ${cols} < ${min.n}`;
  return undefined;
}

/** A Conv2D / MatMul whose weight is stored int8 (§12.4) or int4 (§12.5's dynamic int4 GEMM; int4WeightOf tells them apart). */
export function dynamicCapable(g: Graph, n: Node): boolean {
  return (
    !n.opaque &&
    (n.op === 'Conv2D' || (n.op === 'MatMul' && n.attrs.transpose_a !== true)) &&
    (g.constants.get(n.inputs[1]!)?.quantization?.affine?.dtype === 'int8' || int4WeightOf(g, n) !== undefined)
  );
}

/** §12.2 / §12.4: how each node runs. */
export function planExecution(g: Graph): Map<string, NodeExecution> {
  const info = quantizationInfo(g);
  const acts = activationTable(g);
  const plan = new Map<string, NodeExecution>();
  for (const n of g.nodes) {
    let e: NodeExecution = 'float';
    if (info?.mode === 'int8') {
      if (info.dynamicNodes?.includes(n.name) && !info.floatNodes.includes(n.name) && dynamicCapable(g, n))
        e = 'dynamic';
      else if (int8Obstacle(g, n, info, acts) === undefined) e = 'int8';
    } else if (info?.mode === 'dynamic' && !info.floatNodes.includes(n.name) && dynamicCapable(g, n)) {
      e = 'dynamic';
    }
    plan.set(n.name, e);
  }
  return plan;
}

/** §12.1: bias_q[c] = rne(clamp(fl32(bias[c] / fl32(sx · sw[c])), −2³¹, 2³¹ − 128)); sw has one entry (per tensor) or n. */
export function int32Bias(bias: ArrayLike<number>, inputScale: number, weightScales: ArrayLike<number>): Int32Array {
  const out = new Int32Array(bias.length);
  const sx = fl32(inputScale);
  for (let c = 0; c < bias.length; c++) {
    const sw = fl32(weightScales[weightScales.length === 1 ? 0 : c]!);
    const v = fl32(fl32(bias[c]!) / fl32(sx * sw));
    out[c] = Number.isNaN(v) ? 0 : rne(clamp(v, -(2 ** 31), 2 ** 31 - 128));
  }
  return out;
}

/** §7: per-channel multipliers fl32(fl32(sx × sw[c]) / so) for n channels (sw per tensor or per channel). */
export function requantMultipliers(
  inputScale: number,
  weightScales: ArrayLike<number>,
  outputScale: number,
  n: number,
): Float32Array {
  const out = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    out[c] = fl32(fl32(fl32(inputScale) * fl32(weightScales[weightScales.length === 1 ? 0 : c]!)) / fl32(outputScale));
  }
  return out;
}

/** §12.3: a constant operand of an int8 binary op, quantized per tensor asymmetric int8 from its own range. */
export function constantOperandParams(c: Constant): QParams {
  return chooseAsymmetricI8(...rangeOf(c.data as Float32Array));
}
