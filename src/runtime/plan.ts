// Plan compilation (issue 5): from a Graph (float, or quantized per docs/quantization.md §12)
// to a list of segments in topological order: native segments (a flat step list run by one
// native Session call: buffers, steps, weights — layouts in native/runtime/steps.cc) and tfjs
// segments (nodes the runtime cannot run, executed by src/model/execute.ts).
//
// Per node: int8 (§12.2, decided by planExecution of src/quant/params.ts, shared with the
// simulation), dynamic (§12.4; with int4 weights §12.5, packed once natively) or float; then native when a kernel exists for it, tfjs
// otherwise. Conversions follow §12.2: an int8 consumer of a float tensor quantizes it with
// the tensor's parameters, a float consumer of an int8 tensor dequantizes it, once per tensor
// and segment; tensors crossing a segment boundary are float32.
import type { RuntimePlan, RuntimePlanBuffer, RuntimePlanStep } from '../../binding.js';
import { tf } from '../backend/float.js';
import { execute } from '../model/execute.js';
import { parseTensorName, type Graph, type Node } from '../model/ir.js';
import { attrBool, attrInts, attrNum, attrStr, convPad } from '../model/ops.js';
import { inferShapes } from '../model/shape-inference.js';
import * as K from '../kernels/ops.js';
import { quantize } from '../kernels/quantize.js';
import {
  activationTable, constantOperandParams, int32Bias, int4KernelGroupSize, int4WeightOf, planExecution, preactName, quantizationInfo, requantMultipliers,
  SOFTMAX_INT8_PARAMS, weightOf, type ActivationParams, type NodeExecution,
} from '../quant/params.js';
import { activationBounds, type QParams } from '../quant/scheme.js';
import { selectSparseSteps, type SparseMode } from '../sparse/select.js';

export type Placement = 'native-int8' | 'native-dynamic' | 'native-dynamic-int4' | 'native-float' | 'tfjs';

export interface PlannedNode {
  node: string;
  op: string;
  placement: Placement;
  /** Why a node runs in tfjs. */
  reason?: string;
  /** Set when the node's MatMul / 1×1 conv runs the sparse kernel (structure, sparsity, row limit). */
  sparse?: string;
}

export interface SegmentTensor {
  tensor: string;
  /** Shape with -1 for the free batch dimension. */
  shape: number[];
  /**
   * float32, or int8 with its activation parameters: graph inputs of inputType-int8 models,
   * and int8-produced graph outputs of outputType-int8 models (docs/quantization.md §12.1).
   */
  dtype: 'float32' | 'int8';
  quantization?: QParams;
}

export interface NativeSegment {
  kind: 'native';
  nodes: string[];
  plan: RuntimePlan;
  /** Tensors fed to the segment (float32, or int8 per SegmentTensor.dtype), in plan.inputs order. */
  inputs: SegmentTensor[];
  /** Tensors produced for later segments or graph outputs, in plan.outputs order. */
  outputs: SegmentTensor[];
}

export interface TfjsSegment {
  kind: 'tfjs';
  nodes: string[];
  inputs: string[];
  outputs: string[];
}

export type Segment = NativeSegment | TfjsSegment;

export interface CompiledPlan {
  mode: 'float' | 'int8' | 'dynamic' | 'float16';
  nodes: PlannedNode[];
  segments: Segment[];
}

type Typed = Float32Array | Int8Array | Uint8Array | Int32Array;

const DT = { f32: 0, i8: 1, u8: 2, i32: 3 } as const;
const ACT: Record<string, number> = { none: 0, linear: 0, relu: 1, relu6: 2, leakyrelu: 3, elu: 4, sigmoid: 5, tanh: 6 };
const UNARY_ACT: Record<string, number> = { Relu: 1, Relu6: 2, LeakyRelu: 3, Elu: 4, Sigmoid: 5, Tanh: 6 };
const LUT_KIND: Record<string, K.OpsActivation> = {
  Relu: 'relu', Relu6: 'relu6', LeakyRelu: 'leakyRelu', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh',
  leakyrelu: 'leakyRelu', elu: 'elu', sigmoid: 'sigmoid', tanh: 'tanh',
};
const BINARY: Record<string, number> = { AddV2: 0, BiasAdd: 0, Sub: 1, Mul: 2, Maximum: 3, Minimum: 4, RealDiv: 5, SquaredDifference: 6 };
const COPY_OPS = new Set(['Reshape', 'Squeeze', 'ExpandDims', 'Identity']);

const INT8_NATIVE = new Set([
  'Conv2D', 'MatMul', 'DepthwiseConv2dNative', 'AvgPool', 'MaxPool', 'Mean', 'AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum',
  'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Prelu', 'Softmax', 'ConcatV2', 'ResizeBilinear',
  'ResizeNearestNeighbor', 'Pad', 'PadV2', 'Transpose', ...COPY_OPS, 'StridedSlice', 'Slice', 'DepthToSpace', 'Conv2DBackpropInput',
]);
const FLOAT_NATIVE = new Set([
  'Conv2D', 'MatMul', 'DepthwiseConv2dNative', 'AvgPool', 'MaxPool', 'Mean', ...Object.keys(BINARY), ...Object.keys(UNARY_ACT),
  'Prelu', 'Softmax', 'ConcatV2', 'ResizeBilinear', 'ResizeNearestNeighbor', 'Pad', 'PadV2', 'Transpose', ...COPY_OPS,
  'Max', 'FusedBatchNormV3', 'StridedSlice', 'Slice', 'DepthToSpace', 'Conv2DBackpropInput', 'BatchMatMulV2', 'ClipByValue',
]);

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function hw(n: Node, k: string): [number, number] {
  const v = attrInts(n, k, [1, 1, 1, 1]);
  if (v.length === 4) return [v[1]!, v[2]!];
  if (v.length === 2) return [v[0]!, v[1]!];
  return [v[0]!, v[0]!];
}

/** [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr] for a conv (dilated) or pooling window on x [N, H, W, C]. */
function geometry(n: Node, xShape: readonly number[], k: [number, number], pool: boolean): number[] {
  let padding: K.PaddingSpec;
  if (pool) {
    padding = attrStr(n, 'padding').toLowerCase() as 'same' | 'valid';
  } else {
    const p = convPad(n);
    padding = Array.isArray(p) ? [p[1][0], p[1][1], p[2][0], p[2][1]] : p;
  }
  const strides = hw(n, 'strides');
  const dilations: [number, number] = pool ? [1, 1] : hw(n, 'dilations');
  const g = K.convGeometry([1, xShape[1]!, xShape[2]!, xShape[3]!], k, { strides, dilations, padding });
  return [k[0], k[1], strides[0], strides[1], dilations[0], dilations[1], g.padTop, g.padBottom, g.padLeft, g.padRight];
}

function isConst(g: Graph, t: string | undefined): boolean {
  return t !== undefined && g.constants.has(t);
}

function floatConst(g: Graph, t: string | undefined): Float32Array | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'float32' ? (c.data as Float32Array) : undefined;
}

/** Transposes a row-major [r, c] matrix. */
function transpose2<T extends Float32Array | Int8Array>(x: T, r: number, c: number): T {
  const y = new (x.constructor as new (n: number) => T)(x.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[j * r + i] = x[i * c + j]!;
  return y;
}

/** Inputs of a node that carry activations (non-constant data inputs). */
function dataInputs(g: Graph, n: Node): string[] {
  switch (n.op) {
    case 'Conv2D': case 'DepthwiseConv2dNative': case 'MatMul': case 'Prelu':
    case 'Reshape': case 'ExpandDims': case 'Transpose': case 'Pad': case 'PadV2': case 'Mean':
    case 'ResizeBilinear': case 'ResizeNearestNeighbor': case 'Max': case 'FusedBatchNormV3':
    case 'StridedSlice': case 'Slice': case 'DepthToSpace': case 'ClipByValue':
      return [n.inputs[0]!];
    case 'Conv2DBackpropInput': return [n.inputs[2]!];
    case 'ConcatV2': return n.inputs.slice(0, -1);
    case 'BatchMatMulV2': return n.inputs.filter((t) => !g.constants.has(t));
    default: return n.inputs.filter((t) => !g.constants.has(t));
  }
}

/** Shape usable natively: known, only dimension 0 may be -1 (the batch). */
function nativeShape(g: Graph, t: string): number[] | undefined {
  const info = g.tensors.get(t);
  if (!info || info.dtype !== 'float32' || !info.shape) return undefined;
  if (info.shape.some((d, i) => d < (i === 0 ? -1 : 0))) return undefined;
  return info.shape;
}

/** Structural checks of the native kernels (beyond §12's int8 rules). Returns a reason when not runnable. */
function nativeObstacle(g: Graph, n: Node, exec: NodeExecution): string | undefined {
  if (n.opaque) return `op ${n.op} is not known to the runtime (opaque)`;
  if (n.outputs.length !== 1) return 'more than one output';
  const ins = dataInputs(g, n);
  if (ins.length === 0) return 'no activation input';
  const shapes = [...ins, n.outputs[0]!].map((t) => nativeShape(g, t));
  if (shapes.some((s) => !s)) return 'a tensor of unknown shape or of a dtype other than float32';
  const batched = shapes.map((s) => s![0] === -1);
  const op = n.op;
  if (COPY_OPS.has(op) && prod(shapes[0]!.slice(1)) !== prod(shapes[1]!.slice(1))) return 'reshape across the batch dimension';
  // The batch must flow through unchanged.
  if (op !== 'AddV2' && op !== 'Sub' && op !== 'Mul' && op !== 'Maximum' && op !== 'Minimum' && op !== 'RealDiv' && op !== 'SquaredDifference' && op !== 'BiasAdd') {
    if (batched.some((b) => b !== batched[0])) return 'the batch dimension does not flow through';
  }
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  if (act !== 'prelu' && ACT[act] === undefined) return `fused activation '${act}'`;
  if (act === 'prelu' && !floatConst(g, n.inputs[3])) return 'prelu alpha is not a constant';
  const xs = shapes[0]!;
  switch (op) {
    case 'Conv2D': case 'DepthwiseConv2dNative':
      if (String(n.attrs.data_format ?? 'NHWC').toUpperCase() !== 'NHWC') return 'NCHW';
      if (xs.length !== 4 || !isConst(g, n.inputs[1])) return 'filter is not a constant';
      if (n.inputs[2] !== undefined && !floatConst(g, n.inputs[2])) return 'bias is not a constant';
      return undefined;
    case 'Conv2DBackpropInput':
      if (String(n.attrs.data_format ?? 'NHWC').toUpperCase() !== 'NHWC') return 'NCHW';
      if (!isConst(g, n.inputs[0]) || !isConst(g, n.inputs[1]) || xs.length !== 4) return 'output shape and filter must be constants';
      if (n.inputs[3] !== undefined && !floatConst(g, n.inputs[3])) return 'bias is not a constant';
      return act === 'none' ? undefined : 'fused activation on a transposed convolution';
    case 'ClipByValue':
      return floatConst(g, n.inputs[1])?.length === 1 && floatConst(g, n.inputs[2])?.length === 1 ? undefined : 'clip bounds are not scalar constants';
    case 'BatchMatMulV2': {
      const bs = isConst(g, n.inputs[1]) ? g.constants.get(n.inputs[1]!)!.shape : nativeShape(g, n.inputs[1]!);
      if (!bs || bs.length < 2 || xs.length < 2) return 'operands of unknown shape';
      // Leading dimensions: equal, or one side has none/ones (train::BatchMatMul broadcasts a single matrix).
      const la = xs.slice(0, -2), lb = bs.slice(0, -2);
      const one = (l: number[]) => l.every((d) => d === 1);
      return (la.length === lb.length && la.every((d, i) => d === lb[i])) || one(la) || one(lb) ? undefined : 'BatchMatMul broadcasting other than a single matrix';
    }
    case 'StridedSlice':
      return [1, 2, 3].every((i) => isConst(g, n.inputs[i])) ? undefined : 'slice parameters are not constant';
    case 'Slice':
      return isConst(g, n.inputs[1]) && isConst(g, n.inputs[2]) ? undefined : 'slice parameters are not constant';
    case 'DepthToSpace':
      return xs.length === 4 && String(n.attrs.data_format ?? 'NHWC').toUpperCase() === 'NHWC' ? undefined : 'DepthToSpace layout';
    case 'MatMul':
      if (attrBool(n, 'transpose_a') || !isConst(g, n.inputs[1])) return 'MatMul needs a constant B and no transpose_a';
      if (n.inputs[2] !== undefined && !floatConst(g, n.inputs[2])) return 'bias is not a constant';
      return undefined;
    case 'MaxPool': case 'AvgPool': {
      const p = attrStr(n, 'padding').toLowerCase();
      return xs.length === 4 && (p === 'same' || p === 'valid') ? undefined : 'pooling layout';
    }
    case 'Mean': case 'Max': {
      const axes = g.constants.get(n.inputs[1]!);
      if (!axes || xs.length !== 4) return `${op} over other axes than H, W`;
      const a = Array.from(axes.data as Int32Array).map((v) => (v < 0 ? v + 4 : v)).sort();
      return a.length === 2 && a[0] === 1 && a[1] === 2 ? undefined : `${op} over other axes than H, W`;
    }
    case 'FusedBatchNormV3': {
      const c = xs[xs.length - 1]!;
      return [1, 2, 3, 4].every((i) => floatConst(g, n.inputs[i])?.length === c) ? undefined : 'BatchNorm parameters must be constants per channel';
    }
    case 'ConcatV2':
      return isConst(g, n.inputs[n.inputs.length - 1]) ? undefined : 'axis is not a constant';
    case 'Prelu': {
      const a = floatConst(g, n.inputs[1]);
      return a && a.length === xs[xs.length - 1] ? undefined : 'alpha must be a constant per last-dimension channel';
    }
    case 'Pad': case 'PadV2':
      return isConst(g, n.inputs[1]) && (op === 'Pad' || floatConst(g, n.inputs[2])) ? undefined : 'paddings are not constant';
    case 'Transpose': case 'ResizeBilinear': case 'ResizeNearestNeighbor':
      if (!isConst(g, n.inputs[1])) return 'parameters are not constant';
      return op === 'Transpose' || xs.length === 4 ? undefined : 'resize input must be NHWC';
    default:
      if (BINARY[op] !== undefined) {
        if (n.inputs.length !== 2) return 'binary op arity';
        if (n.inputs.some((t) => isConst(g, t) && !floatConst(g, t))) return 'constant operand is not float32';
        if (exec === 'int8' && op !== 'AddV2' && op !== 'Sub' && op !== 'Mul' && op !== 'Maximum' && op !== 'Minimum') return 'no int8 kernel';
      }
      return undefined;
  }
}

function decide(g: Graph, n: Node, exec: NodeExecution): PlannedNode {
  const base = { node: n.name, op: n.op };
  const why = nativeObstacle(g, n, exec);
  if (why) return { ...base, placement: 'tfjs', reason: why };
  if (exec === 'int8') {
    if (INT8_NATIVE.has(n.op)) return { ...base, placement: 'native-int8' };
    return { ...base, placement: 'tfjs', reason: `no native int8 kernel for ${n.op}` };
  }
  if (exec === 'dynamic') return { ...base, placement: int4WeightOf(g, n) ? 'native-dynamic-int4' : 'native-dynamic' };
  if (FLOAT_NATIVE.has(n.op)) return { ...base, placement: 'native-float' };
  return { ...base, placement: 'tfjs', reason: `no native kernel for ${n.op}` };
}

// ---------------------------------------------------------------- segment builder

interface Q8 {
  buf: number;
  p: QParams;
}

class SegmentBuilder {
  readonly buffers: RuntimePlanBuffer[] = [];
  readonly weights: Typed[] = [];
  readonly steps: RuntimePlanStep[] = [];
  readonly inputs: SegmentTensor[] = [];
  readonly inputBufs: number[] = [];
  private readonly f32 = new Map<string, number>();
  private readonly q8 = new Map<string, Q8>();
  /** Tensors whose value here is int8 as produced (by an int8 node, or fed in as int8). */
  private readonly producedQ8 = new Set<string>();

  /** int8In: tensors that arrive from outside the segment as int8 (with their parameters). */
  constructor(private readonly g: Graph, private readonly acts: Record<string, ActivationParams>, private readonly int8In: ReadonlyMap<string, QParams> = new Map()) {}

  buffer(dtype: number, shape: readonly number[], constIndex = -1): number {
    this.buffers.push({ dtype: dtype as RuntimePlanBuffer['dtype'], shape: [...shape], constIndex });
    return this.buffers.length - 1;
  }
  weight(a: Typed): number {
    this.weights.push(a);
    return this.weights.length - 1;
  }
  constBuffer(a: Typed, dtype: number, shape: readonly number[]): number {
    return this.buffer(dtype, shape, this.weight(a));
  }
  step(s: RuntimePlanStep): void {
    this.steps.push(s);
  }
  shape(t: string): number[] {
    return nativeShape(this.g, t)!;
  }
  params(t: string): QParams {
    const a = this.acts[t];
    if (!a) throw new Error(`tensor '${t}' has no activation parameters`);
    return { scale: a.scale, zeroPoint: a.zeroPoint };
  }

  /** The float32 buffer of a tensor: produced here, dequantized from its int8 form, a constant, or a segment input. */
  getF32(t: string): number {
    const have = this.f32.get(t);
    if (have !== undefined) return have;
    let id: number;
    const q = this.q8.get(t) ?? (this.int8In.has(t) ? this.getQ8(t) : undefined);
    const c = this.g.constants.get(t);
    if (q) {
      id = this.buffer(DT.f32, this.buffers[q.buf]!.shape);
      this.step({ op: 'dequantize', inputs: [q.buf], outputs: [id], ints: [q.p.zeroPoint], floats: [q.p.scale] });
    } else if (c) {
      id = this.constBuffer(c.data as Float32Array, DT.f32, c.shape);
    } else {
      id = this.buffer(DT.f32, this.shape(t));
      this.inputs.push({ tensor: t, shape: this.shape(t), dtype: 'float32' });
      this.inputBufs.push(id);
    }
    this.f32.set(t, id);
    return id;
  }

  /** The int8 buffer of a tensor (quantized once from float32 with its parameters when needed). */
  getQ8(t: string): Q8 {
    const have = this.q8.get(t);
    if (have) return have;
    const fed = this.int8In.get(t);
    if (fed) {
      // Fed as int8 (no quantize step): an input buffer of the segment.
      const buf = this.buffer(DT.i8, this.shape(t));
      this.inputs.push({ tensor: t, shape: this.shape(t), dtype: 'int8', quantization: { ...fed } });
      this.inputBufs.push(buf);
      const q = { buf, p: { ...fed } };
      this.setQ8(t, q);
      return q;
    }
    const p = this.params(t);
    const f = this.getF32(t);
    const buf = this.buffer(DT.i8, this.buffers[f]!.shape);
    this.step({ op: 'quantize', inputs: [f], outputs: [buf], ints: [p.zeroPoint], floats: [p.scale] });
    const q = { buf, p };
    this.q8.set(t, q);
    return q;
  }

  setF32(t: string, buf: number): void {
    this.f32.set(t, buf);
  }
  setQ8(t: string, q: Q8): void {
    this.q8.set(t, q);
    this.producedQ8.add(t);
  }
  /** The int8 form of t when t was produced (or fed) as int8 in this segment. */
  producedInt8(t: string): Q8 | undefined {
    return this.producedQ8.has(t) ? this.q8.get(t) : undefined;
  }
}

// ---------------------------------------------------------------- emitters

function convWeightsKN(g: Graph, n: Node, values: Float32Array | Int8Array): { w: Float32Array | Int8Array; k: number; nOut: number } {
  const c = g.constants.get(n.inputs[1]!)!;
  if (n.op === 'MatMul') {
    const tb = attrBool(n, 'transpose_b');
    const [r, cc] = c.shape as [number, number];
    return tb ? { w: transpose2(values, r, cc), k: cc, nOut: r } : { w: values, k: r, nOut: cc };
  }
  const [kh, kw, ci, co] = c.shape as [number, number, number, number];
  return { w: values, k: kh * kw * ci, nOut: co };
}

/** im2col temporary of a k×k conv, or none for a direct (1×1, stride 1, unpadded) one. */
function im2colTemp(b: SegmentBuilder, geo: number[], yShape: number[], k: number, dtype: number): number[] {
  const direct = geo[0] === 1 && geo[1] === 1 && geo[2] === 1 && geo[3] === 1 && geo.slice(6).every((v) => v === 0);
  if (direct) return [];
  return [b.buffer(dtype, [yShape[0]!, yShape[1]! * yShape[2]! * k])];
}

function emitInt8(b: SegmentBuilder, g: Graph, n: Node, acts: Record<string, ActivationParams>): void {
  const out = n.outputs[0]!;
  const yShape = b.shape(out);
  const op = n.op;
  const newQ8 = (p: QParams, shape = yShape): Q8 => ({ buf: b.buffer(DT.i8, shape), p });
  const yp = (t: string): QParams => b.params(t);
  const full = [-128, 127];

  if (op === 'Conv2D' || op === 'MatMul' || op === 'DepthwiseConv2dNative') {
    const w = weightOf(g, n)!;
    const aff = w.quantization!.affine!;
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    const clampOnly = act === 'none' || act === 'relu' || act === 'relu6';
    const target = clampOnly ? yp(out) : yp(preactName(out));
    const x = b.getQ8(n.inputs[0]!);
    const biasData = floatConst(g, n.inputs[2]);
    const bias = biasData ? b.weight(int32Bias(biasData, x.p.scale, aff.scales)) : -1;
    const [qmin, qmax] = activationBounds('int8', target.zeroPoint, target.scale, act === 'relu' || act === 'relu6' ? act : 'none');
    const pre = newQ8(target);
    if (op === 'DepthwiseConv2dNative') {
      const [kh, kw, , m] = w.shape as [number, number, number, number];
      const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
      const oc = yShape[3]!;
      b.step({
        op: 'dw_i8', inputs: [x.buf], outputs: [pre.buf], ints: [...geo, m, x.p.zeroPoint, target.zeroPoint, qmin, qmax],
        weights: [b.weight(aff.values as Int8Array), bias, b.weight(requantMultipliers(x.p.scale, aff.scales, target.scale, oc))],
      });
    } else {
      const { w: kn, k, nOut } = convWeightsKN(g, n, aff.values as Int8Array);
      const mult = b.weight(requantMultipliers(x.p.scale, aff.scales, target.scale, nOut));
      const ws = [b.weight(kn), bias, mult];
      const tail = [x.p.zeroPoint, target.zeroPoint, qmin, qmax];
      if (op === 'Conv2D') {
        const [kh, kw] = w.shape as [number, number];
        const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
        b.step({ op: 'conv_i8', inputs: [x.buf], outputs: [pre.buf], temps: im2colTemp(b, geo, yShape, k, DT.i8), ints: [...geo, ...tail], weights: ws });
      } else {
        b.step({ op: 'matmul_i8', inputs: [x.buf], outputs: [pre.buf], ints: tail, weights: ws });
      }
    }
    if (clampOnly) {
      b.setQ8(out, pre);
      return;
    }
    const y = newQ8(yp(out));
    if (act === 'prelu') {
      b.step({
        op: 'prelu_i8', inputs: [pre.buf], outputs: [y.buf], ints: [pre.p.zeroPoint, y.p.zeroPoint, ...full], floats: [pre.p.scale, y.p.scale],
        weights: [b.weight(floatConst(g, n.inputs[3])!)],
      });
    } else {
      const table = K.buildLut(LUT_KIND[act]!, { x: { ...pre.p, type: 'int8' }, y: { ...y.p, type: 'int8' }, alpha: attrNum(n, 'leakyrelu_alpha', 0.2) });
      b.step({ op: 'lut', inputs: [pre.buf], outputs: [y.buf], weights: [b.weight(table)] });
    }
    b.setQ8(out, y);
    return;
  }

  if (op === 'Conv2DBackpropInput') {
    const w = weightOf(g, n)!;
    const aff = w.quantization!.affine!;
    const dy = b.getQ8(n.inputs[2]!);
    const target = yp(out);
    const biasData = floatConst(g, n.inputs[3]);
    const [kh, kw, ci] = w.shape as [number, number, number];
    const geo = geometry(n, yShape, [kh, kw], false);
    const [qmin, qmax] = activationBounds('int8', target.zeroPoint, target.scale, 'none');
    const y = newQ8(target);
    b.step({
      op: 'deconv_i8', inputs: [dy.buf], outputs: [y.buf], ints: [...geo, dy.p.zeroPoint, target.zeroPoint, qmin, qmax],
      weights: [b.weight(aff.values as Int8Array), biasData ? b.weight(int32Bias(biasData, dy.p.scale, aff.scales)) : -1,
        b.weight(requantMultipliers(dy.p.scale, aff.scales, target.scale, ci))],
    });
    b.setQ8(out, y);
    return;
  }
  const x0 = (): Q8 => b.getQ8(n.inputs[0]!);
  switch (op) {
    case 'MaxPool': case 'AvgPool': {
      const x = x0();
      const geo = geometry(n, b.shape(n.inputs[0]!), hw(n, 'ksize'), true);
      const win = [geo[0]!, geo[1]!, geo[2]!, geo[3]!, ...geo.slice(6)];
      if (op === 'MaxPool') {
        const y = newQ8(x.p);
        b.step({ op: 'maxpool_i8', inputs: [x.buf], outputs: [y.buf], ints: [...win, ...full] });
        b.setQ8(out, y);
      } else {
        const y = newQ8(yp(out));
        b.step({ op: 'avgpool_i8', inputs: [x.buf], outputs: [y.buf], ints: [...win, x.p.zeroPoint, y.p.zeroPoint, ...full], floats: [x.p.scale, y.p.scale] });
        b.setQ8(out, y);
      }
      return;
    }
    case 'Mean': {
      const x = x0();
      const y = newQ8(yp(out));
      b.step({ op: 'mean_i8', inputs: [x.buf], outputs: [y.buf], ints: [x.p.zeroPoint, y.p.zeroPoint, ...full], floats: [x.p.scale, y.p.scale] });
      b.setQ8(out, y);
      return;
    }
    case 'AddV2': case 'Sub': case 'Mul': case 'Maximum': case 'Minimum': {
      const side = (t: string): Q8 => {
        const c = g.constants.get(t);
        if (!c) return b.getQ8(t);
        const cp = constantOperandParams(c);
        return { buf: b.constBuffer(quantize(c.data as Float32Array, 'int8', cp), DT.i8, c.shape), p: cp };
      };
      const a = side(n.inputs[0]!), c = side(n.inputs[1]!);
      const y = newQ8(yp(out));
      b.step({
        op: 'binary_i8', inputs: [a.buf, c.buf], outputs: [y.buf], ints: [BINARY[op]!, a.p.zeroPoint, c.p.zeroPoint, y.p.zeroPoint, ...full],
        floats: [a.p.scale, c.p.scale, y.p.scale],
      });
      b.setQ8(out, y);
      return;
    }
    case 'Relu': case 'Relu6': case 'LeakyRelu': case 'Elu': case 'Sigmoid': case 'Tanh': {
      const x = x0();
      const y = newQ8(yp(out));
      const table = K.buildLut(LUT_KIND[op]!, { x: { ...x.p, type: 'int8' }, y: { ...y.p, type: 'int8' }, alpha: attrNum(n, 'alpha', 0.2) });
      b.step({ op: 'lut', inputs: [x.buf], outputs: [y.buf], weights: [b.weight(table)] });
      b.setQ8(out, y);
      return;
    }
    case 'Prelu': {
      const x = x0();
      const y = newQ8(yp(out));
      b.step({
        op: 'prelu_i8', inputs: [x.buf], outputs: [y.buf], ints: [x.p.zeroPoint, y.p.zeroPoint, ...full], floats: [x.p.scale, y.p.scale],
        weights: [b.weight(floatConst(g, n.inputs[1])!)],
      });
      b.setQ8(out, y);
      return;
    }
    case 'Softmax': {
      const x = x0();
      const y = newQ8({ ...SOFTMAX_INT8_PARAMS });
      b.step({ op: 'softmax_i8', inputs: [x.buf], outputs: [y.buf], floats: [x.p.scale, 1] });
      b.setQ8(out, y);
      return;
    }
    case 'ConcatV2': {
      const parts = n.inputs.slice(0, -1).map((t) => b.getQ8(t));
      const y = newQ8(yp(out));
      b.step({
        op: 'concat_i8', inputs: parts.map((p) => p.buf), outputs: [y.buf], ints: [concatAxis(g, n, yShape.length), y.p.zeroPoint, ...full, ...parts.map((p) => p.p.zeroPoint)],
        floats: [y.p.scale, ...parts.map((p) => p.p.scale)],
      });
      b.setQ8(out, y);
      return;
    }
    case 'ResizeBilinear': {
      const x = x0();
      const y = newQ8(yp(out));
      b.step({
        op: 'resize_bilinear_i8', inputs: [x.buf], outputs: [y.buf],
        ints: [+attrBool(n, 'align_corners'), +attrBool(n, 'half_pixel_centers'), x.p.zeroPoint, y.p.zeroPoint, ...full], floats: [x.p.scale, y.p.scale],
      });
      b.setQ8(out, y);
      return;
    }
    default: {
      // Data movement: output parameters = input parameters.
      const x = x0();
      const y = newQ8(x.p);
      emitMove(b, g, n, x.buf, y.buf, (v) => (v === 0 ? x.p.zeroPoint : quantize(Float32Array.of(v), 'int8', x.p)[0]!));
      b.setQ8(out, y);
    }
  }
}

function ints(g: Graph, t: string): number[] {
  return Array.from(g.constants.get(t)!.data as Int32Array);
}

function concatAxis(g: Graph, n: Node, rank: number): number {
  const a = Array.from(g.constants.get(n.inputs[n.inputs.length - 1]!)!.data as Int32Array)[0]!;
  return a < 0 ? a + rank : a;
}

/** Copy / Pad / Transpose / ResizeNearest on any dtype; padValue maps the float pad value to the element type. */
function emitMove(b: SegmentBuilder, g: Graph, n: Node, x: number, y: number, padValue: (v: number) => number): void {
  switch (n.op) {
    case 'Pad': case 'PadV2': {
      const flat = Array.from(g.constants.get(n.inputs[1]!)!.data as Int32Array);
      const before = flat.filter((_, i) => i % 2 === 0), after = flat.filter((_, i) => i % 2 === 1);
      const v = n.op === 'PadV2' ? floatConst(g, n.inputs[2])![0]! : attrNum(n, 'constant_value', 0);
      b.step({ op: 'pad', inputs: [x], outputs: [y], ints: [...before, ...after], floats: [padValue(v)] });
      return;
    }
    case 'Transpose':
      b.step({ op: 'transpose', inputs: [x], outputs: [y], ints: Array.from(g.constants.get(n.inputs[1]!)!.data as Int32Array) });
      return;
    case 'ResizeNearestNeighbor':
      b.step({ op: 'resize_nearest', inputs: [x], outputs: [y], ints: [+attrBool(n, 'align_corners'), +attrBool(n, 'half_pixel_centers')] });
      return;
    case 'StridedSlice': {
      const [begin, end, strides] = [1, 2, 3].map((i) => ints(g, n.inputs[i]!));
      const masks = ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'].map((k) => attrNum(n, k, 0));
      b.step({ op: 'strided_slice', inputs: [x], outputs: [y], ints: [begin!.length, ...begin!, ...end!, ...strides!, ...masks] });
      return;
    }
    case 'Slice': {
      // Slice(begin, size) = StridedSlice with stride 1, end = begin + size (size −1: to the end, via end_mask).
      const begin = ints(g, n.inputs[1]!), size = ints(g, n.inputs[2]!);
      const endMask = size.reduce((m, v, i) => (v === -1 ? m | (1 << i) : m), 0);
      b.step({
        op: 'strided_slice', inputs: [x], outputs: [y],
        ints: [begin.length, ...begin, ...size.map((v, i) => (v === -1 ? 0 : begin[i]! + v)), ...begin.map(() => 1), 0, endMask, 0, 0, 0],
      });
      return;
    }
    case 'DepthToSpace':
      b.step({ op: 'depth_to_space', inputs: [x], outputs: [y], ints: [attrNum(n, 'block_size')] });
      return;
    default:
      b.step({ op: 'copy', inputs: [x], outputs: [y] });
  }
}

function emitFloat(b: SegmentBuilder, g: Graph, n: Node, dynamic: false | 'int8' | 'int4', perRow: boolean): void {
  const out = n.outputs[0]!;
  const yShape = b.shape(out);
  const op = n.op;
  const newF = (): number => b.buffer(DT.f32, yShape);
  const x0 = (): number => b.getF32(n.inputs[0]!);

  if (op === 'Conv2D' || op === 'MatMul' || op === 'DepthwiseConv2dNative') {
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    const code = act === 'prelu' ? 0 : ACT[act]!;
    const alpha = attrNum(n, 'leakyrelu_alpha', 0.2);
    const x = x0();
    const biasData = floatConst(g, n.inputs[2]);
    const bias = biasData ? b.weight(biasData) : -1;
    const c = g.constants.get(n.inputs[1]!)!;
    let y = newF();
    if (op === 'DepthwiseConv2dNative') {
      const [kh, kw, , m] = c.shape as [number, number, number, number];
      const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
      b.step({ op: 'dw_f32', inputs: [x], outputs: [y], ints: [...geo, m, code], floats: [alpha], weights: [b.weight(c.data as Float32Array), bias] });
    } else if (dynamic === 'int4') {
      // §12.5: values K×N in [−8, 7], scales / zero points [groups][N] (already in N order for
      // a transposed MatMul weight), packed once by PackInt4 at session creation.
      const aff = c.quantization!.affine!;
      const { w, k } = convWeightsKN(g, n, aff.values as Int8Array);
      const gs = int4KernelGroupSize(aff.groupSize, k);
      const zp = aff.zeroPoints.some((z) => z !== 0) ? b.weight(aff.zeroPoints) : -1;
      const ws = [b.weight(w), b.weight(aff.scales), zp, bias];
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.step({ op: 'conv_dyn4', inputs: [x], outputs: [y], temps: im2colTemp(b, geo, yShape, k, DT.f32), ints: [...geo, +perRow, code, gs], floats: [alpha], weights: ws });
      } else {
        b.step({ op: 'matmul_dyn4', inputs: [x], outputs: [y], ints: [+perRow, code, gs], floats: [alpha], weights: ws });
      }
    } else if (dynamic) {
      const aff = c.quantization!.affine!;
      const { w, k } = convWeightsKN(g, n, aff.values as Int8Array);
      const ws = [b.weight(w), b.weight(aff.scales), bias];
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.step({ op: 'conv_dyn', inputs: [x], outputs: [y], temps: im2colTemp(b, geo, yShape, k, DT.f32), ints: [...geo, +perRow, code], floats: [alpha], weights: ws });
      } else {
        b.step({ op: 'matmul_dyn', inputs: [x], outputs: [y], ints: [+perRow, code], floats: [alpha], weights: ws });
      }
    } else {
      const { w } = convWeightsKN(g, n, c.data as Float32Array);
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.step({ op: 'conv_f32', inputs: [x], outputs: [y], ints: [...geo, code], floats: [alpha], weights: [b.weight(w), bias] });
      } else {
        b.step({ op: 'matmul_f32', inputs: [x], outputs: [y], ints: [code], floats: [alpha], weights: [b.weight(w), bias] });
      }
    }
    if (act === 'prelu') {
      const z = newF();
      b.step({ op: 'prelu_f32', inputs: [y], outputs: [z], weights: [b.weight(floatConst(g, n.inputs[3])!)] });
      y = z;
    }
    b.setF32(out, y);
    return;
  }
  const y = newF();
  switch (op) {
    case 'ClipByValue': {
      // min(max(x, lo), hi) with scalar constants.
      const mid = b.buffer(DT.f32, yShape);
      b.step({ op: 'binary_f32', inputs: [x0(), b.getF32(n.inputs[1]!)], outputs: [mid], ints: [BINARY.Maximum!, 0] });
      b.step({ op: 'binary_f32', inputs: [mid, b.getF32(n.inputs[2]!)], outputs: [y], ints: [BINARY.Minimum!, 0] });
      break;
    }
    case 'BatchMatMulV2':
      b.step({ op: 'batch_matmul_f32', inputs: [b.getF32(n.inputs[0]!), b.getF32(n.inputs[1]!)], outputs: [y], ints: [+attrBool(n, 'adj_x'), +attrBool(n, 'adj_y')] });
      break;
    case 'Conv2DBackpropInput': {
      const c = g.constants.get(n.inputs[1]!)!;
      const geo = geometry(n, yShape, [c.shape[0]!, c.shape[1]!], false);
      const biasData = floatConst(g, n.inputs[3]);
      b.step({ op: 'deconv_f32', inputs: [b.getF32(n.inputs[2]!)], outputs: [y], ints: geo, weights: [b.weight(c.data as Float32Array), biasData ? b.weight(biasData) : -1] });
      break;
    }
    case 'MaxPool': case 'AvgPool': {
      const geo = geometry(n, b.shape(n.inputs[0]!), hw(n, 'ksize'), true);
      b.step({ op: op === 'MaxPool' ? 'maxpool_f32' : 'avgpool_f32', inputs: [x0()], outputs: [y], ints: [geo[0]!, geo[1]!, geo[2]!, geo[3]!, ...geo.slice(6)] });
      break;
    }
    case 'Mean': b.step({ op: 'mean_f32', inputs: [x0()], outputs: [y] }); break;
    case 'Max': {
      // Global max pooling: a max pool over the whole H×W window, then the output's shape.
      const xs = b.shape(n.inputs[0]!);
      const pooled = b.buffer(DT.f32, [xs[0]!, 1, 1, xs[3]!]);
      b.step({ op: 'maxpool_f32', inputs: [x0()], outputs: [pooled], ints: [xs[1]!, xs[2]!, 1, 1, 0, 0, 0, 0] });
      b.step({ op: 'copy', inputs: [pooled], outputs: [y] });
      break;
    }
    case 'FusedBatchNormV3': {
      // y = x·s + t with s = γ / sqrt(var + ε), t = β − mean·s (per channel, computed in float64).
      const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => floatConst(g, n.inputs[i])!);
      const eps = attrNum(n, 'epsilon', 0.001);
      const sc = gamma!.map((v, c) => v / Math.sqrt(variance![c]! + eps));
      const sh = beta!.map((v, c) => v - mean![c]! * sc[c]!);
      const c = sc.length;
      const mid = b.buffer(DT.f32, yShape);
      b.step({ op: 'binary_f32', inputs: [x0(), b.constBuffer(sc, DT.f32, [c])], outputs: [mid], ints: [BINARY.Mul!, 0] });
      b.step({ op: 'binary_f32', inputs: [mid, b.constBuffer(sh, DT.f32, [c])], outputs: [y], ints: [BINARY.AddV2!, 0] });
      break;
    }
    case 'Softmax': b.step({ op: 'softmax_f32', inputs: [x0()], outputs: [y], floats: [1] }); break;
    case 'Prelu': b.step({ op: 'prelu_f32', inputs: [x0()], outputs: [y], weights: [b.weight(floatConst(g, n.inputs[1])!)] }); break;
    case 'ConcatV2':
      b.step({ op: 'concat', inputs: n.inputs.slice(0, -1).map((t) => b.getF32(t)), outputs: [y], ints: [concatAxis(g, n, yShape.length)] });
      break;
    case 'ResizeBilinear':
      b.step({ op: 'resize_bilinear_f32', inputs: [x0()], outputs: [y], ints: [+attrBool(n, 'align_corners'), +attrBool(n, 'half_pixel_centers')] });
      break;
    default:
      if (BINARY[op] !== undefined) {
        const act = (n.attrs.activation as string | undefined) ?? 'none';
        b.step({ op: 'binary_f32', inputs: [b.getF32(n.inputs[0]!), b.getF32(n.inputs[1]!)], outputs: [y], ints: [BINARY[op]!, act === 'relu' ? 1 : act === 'relu6' ? 2 : 0] });
      } else if (UNARY_ACT[op] !== undefined) {
        b.step({ op: 'act_f32', inputs: [x0()], outputs: [y], ints: [UNARY_ACT[op]!], floats: [attrNum(n, 'alpha', 0.2)] });
      } else {
        emitMove(b, g, n, x0(), y, (v) => v);
      }
  }
  b.setF32(out, y);
}

// ---------------------------------------------------------------- compile

const shapeKnown = (s: number[] | null | undefined): boolean => !!s && s.every((d, i) => d >= 0 || (i === 0 && d === -1));

/**
 * Shapes static inference cannot give (outputs of opaque nodes and what follows them): one
 * tfjs run on zeros with batch 2 (dimension 0 of 2 is then the batch). Best effort: when
 * it fails, those nodes stay in tfjs.
 */
function probeShapes(g: Graph, nodes: Node[]): void {
  if (nodes.every((n) => n.outputs.every((o) => shapeKnown(g.tensors.get(o)?.shape)))) return;
  if (g.inputs.some((i) => !i.shape || i.shape.slice(1).some((d) => d < 0))) return;
  const free = g.inputs.some((i) => i.shape![0]! < 0);
  const feeds: Record<string, tf.Tensor> = {};
  for (const i of g.inputs) feeds[i.name] = tf.zeros(i.shape!.map((d, k) => (k === 0 && d < 0 ? 2 : d)), i.dtype as 'float32');
  try {
    execute(g, feeds, {
      observer: (n, outs) => n.outputs.forEach((o, k) => {
        const t = outs[k];
        if (!t || shapeKnown(g.tensors.get(o)?.shape)) return;
        const shape = [...t.shape];
        if (free && shape[0] === 2) shape[0] = -1;
        g.tensors.set(o, { dtype: t.dtype as 'float32', shape });
      }),
    }).forEach((t) => t.dispose());
  } catch {
    // Shapes stay unknown; the nodes concerned run in tfjs.
  } finally {
    for (const t of Object.values(feeds)) t.dispose();
  }
}

export interface CompileOptions {
  /** Nodes to run in tfjs whatever their kernels (node → reason). */
  tfjs?: Map<string, string>;
  /** Sparse kernels for pruned MatMul / 1×1 conv weights (src/sparse/select.ts); default 'auto'. */
  sparse?: SparseMode;
}

/** Compiles a graph (shapes are inferred in place) into native and tfjs segments. */
export function compilePlan(g: Graph, options: CompileOptions = {}): CompiledPlan {
  inferShapes(g);
  const info = quantizationInfo(g);
  const acts = activationTable(g);
  const exec = planExecution(g);
  const perRow = info?.dynamic?.granularity === 'row';
  // Nodes needed for the outputs.
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const needed = new Set<Node>();
  const stack = [...g.outputs];
  while (stack.length) {
    const t = stack.pop()!;
    const p = producer.get(t) ?? producer.get(parseTensorName(t)[0]);
    if (!p || needed.has(p)) continue;
    needed.add(p);
    stack.push(...p.inputs, ...(p.controlInputs ?? []));
  }
  const order = g.nodes.filter((n) => needed.has(n));
  probeShapes(g, order);
  const planned = order.map((n) => {
    const forced = options.tfjs?.get(n.name);
    if (forced !== undefined) return { node: n.name, op: n.op, placement: 'tfjs' as const, reason: forced };
    try {
      return decide(g, n, exec.get(n.name) ?? 'float');
    } catch (e) {
      return { node: n.name, op: n.op, placement: 'tfjs' as const, reason: (e as Error).message };
    }
  });
  // Maximal runs of native / tfjs nodes in topological order.
  const runs: { native: boolean; nodes: Node[] }[] = [];
  order.forEach((n, i) => {
    const native = planned[i]!.placement !== 'tfjs';
    const last = runs[runs.length - 1];
    if (last && last.native === native) last.nodes.push(n);
    else runs.push({ native, nodes: [n] });
  });
  const placement = new Map(planned.map((p) => [p.node, p.placement]));
  const consumersAfter = (runIndex: number): Set<string> => {
    const s = new Set<string>(g.outputs);
    for (const r of runs.slice(runIndex + 1)) for (const n of r.nodes) for (const t of [...n.inputs, ...(n.controlInputs ?? [])]) s.add(t);
    return s;
  };
  // int8 graph IO (§12.1): inputs of an inputType-int8 model arrive as int8; graph outputs
  // produced by int8 nodes of an outputType-int8 model leave as int8 (as simulate() returns
  // them). Tensors crossing segments otherwise travel as float32.
  const int8Values = new Map<string, QParams>();
  if (info?.mode === 'int8' && info.inputType === 'int8') {
    for (const i of g.inputs) if (acts[i.name]) int8Values.set(i.name, { scale: acts[i.name]!.scale, zeroPoint: acts[i.name]!.zeroPoint });
  }
  const graphOutputs = new Set(g.outputs);
  const segments: Segment[] = runs.map((r, ri) => {
    const later = consumersAfter(ri);
    const produced = r.nodes.flatMap((n) => n.outputs);
    const exported = produced.filter((t) => later.has(t));
    if (!r.native) {
      const inside = new Set(produced);
      const inputs = [...new Set(r.nodes.flatMap((n) => n.inputs).filter((t) => !inside.has(t) && !g.constants.has(t)))];
      return { kind: 'tfjs', nodes: r.nodes.map((n) => n.name), inputs, outputs: exported };
    }
    const b = new SegmentBuilder(g, acts, int8Values);
    for (const n of r.nodes) {
      const p = placement.get(n.name)!;
      const from = b.steps.length;
      if (p === 'native-int8') emitInt8(b, g, n, acts);
      else emitFloat(b, g, n, p === 'native-dynamic' ? 'int8' : p === 'native-dynamic-int4' ? 'int4' : false, perRow);
      const sparse = selectSparseSteps(b.steps, from, b.buffers, b.weights, options.sparse ?? 'auto');
      if (sparse) planned.find((x) => x.node === n.name)!.sparse = sparse;
    }
    const outputs: SegmentTensor[] = [];
    const outBufs = exported.map((t) => {
      const q = info?.mode === 'int8' && info.outputType === 'int8' && graphOutputs.has(t) ? b.producedInt8(t) : undefined;
      if (q) {
        outputs.push({ tensor: t, shape: b.shape(t), dtype: 'int8', quantization: { ...q.p } });
        int8Values.set(t, { ...q.p });
        return q.buf;
      }
      outputs.push({ tensor: t, shape: b.shape(t), dtype: 'float32' });
      return b.getF32(t);
    });
    const plan: RuntimePlan = { buffers: b.buffers, weights: b.weights, steps: b.steps, inputs: b.inputBufs, outputs: outBufs };
    return { kind: 'native', nodes: r.nodes.map((n) => n.name), plan, inputs: b.inputs, outputs };
  });
  return { mode: info?.mode ?? 'float', nodes: planned, segments };
}

/** Elements per batch item of a segment tensor shape (-1 = batch). */
export function elementsFor(shape: readonly number[], batch: number): number {
  return prod(shape.map((d) => (d < 0 ? batch : d)));
}
