// The reference execution of a quantized graph (docs/quantization.md §12), node by node:
// int8 nodes through the bit-exact native kernels (src/kernels: im2col + packed GEMM with the
// requantize epilogue, depthwise, pooling, elementwise, tables, softmax, data movement), float
// nodes through tfjs (the same OPS table as execute()), conversions where a tensor is consumed
// (§12.2), `dynamic` Conv2D/MatMul through dynamicGemm (§12.4), or dynamicGemmInt4 when the
// weight is int4 (§12.5). The native runtime must equal
// this on every int8 tensor, bit for bit; reports compare it with float execution.
import { tf } from '../backend/float.js';
import { asModelError, ModelFormatError } from '../model/errors.js';
import { constantTensor, requiresAsync, type GraphInputs } from '../model/execute.js';
import { executionUnits, type ControlFlowRegion } from '../model/control-flow.js';
import { runRegion } from '../model/run-region.js';
import { parseTensorName, type Constant, type Graph, type Node } from '../model/ir.js';
import { executeOpaque } from '../model/opaque.js';
import { attrBool, attrInts, attrNum, attrStr, convPad, OPS } from '../model/ops.js';
import { dynamicGemm, gemm, packWeights, type PackedWeights } from '../kernels/gemm.js';
import { dynamicGemmInt4, packInt4Weights, type Int4PackedWeights } from '../kernels/int4.js';
import * as K from '../kernels/ops.js';
import { dequantize, quantize } from '../kernels/quantize.js';
import {
  activationTable, constantOperandParams, int32Bias, int4KernelGroupSize, int4WeightOf, planExecution, preactName, quantizationInfo,
  requantMultipliers, SOFTMAX_INT8_PARAMS, weightOf, type ActivationParams, type NodeExecution,
} from './params.js';
import { activationBounds, type QParams } from './scheme.js';

/** A tensor of the simulation: int8 with its parameters, or plain data. */
export type SimTensor =
  | { dtype: 'int8'; shape: number[]; data: Int8Array; scale: number; zeroPoint: number }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

export interface SimulateOptions {
  /** Keep every tensor (true) or these tensors (names) in `tensors`. */
  capture?: boolean | string[];
}

export interface SimulateResult {
  /** Graph outputs in order: float32 (dequantized, §12.2) unless outputType is int8. */
  outputs: SimTensor[];
  /** Captured tensors by name (node outputs and `<output>/preact`), as produced: int8 or float. */
  tensors: Map<string, SimTensor>;
  /** How each node ran. */
  plan: Map<string, NodeExecution>;
}

/** Simulation inputs: tf tensors (as execute()), or int8 SimTensors for inputType int8 graphs. */
export type SimulateInputs = GraphInputs | SimTensor | SimTensor[] | Record<string, SimTensor | tf.Tensor>;

type QVal = { kind: 'q'; data: Int8Array; shape: number[]; p: QParams };
type FVal = { kind: 'f'; t: tf.Tensor };
type Val = QVal | FVal;

const packCache = new WeakMap<Int8Array, Map<string, PackedWeights>>();

/** Packed GEMM weights of a constant (cached per values array and layout). */
function packedOf(values: Int8Array, k: number, n: number, layout: 'kn' | 'nk'): PackedWeights {
  let m = packCache.get(values);
  if (!m) packCache.set(values, (m = new Map()));
  const key = `${k}x${n}${layout}`;
  let p = m.get(key);
  if (!p || p.disposed) m.set(key, (p = packWeights(values, { k, n, layout })));
  return p;
}

const pack4Cache = new WeakMap<Int8Array, Map<string, Int4PackedWeights>>();

/** Packed int4 weights of a constant annotated per §12.5 (cached per values array and layout). */
function packedInt4Of(w: Constant, k: number, n: number, layout: 'kn' | 'nk'): Int4PackedWeights {
  const aff = w.quantization!.affine!;
  const values = aff.values as Int8Array;
  let m = pack4Cache.get(values);
  if (!m) pack4Cache.set(values, (m = new Map()));
  const groupSize = int4KernelGroupSize(aff.groupSize, k);
  const key = `${k}x${n}${layout}g${groupSize}`;
  let p = m.get(key);
  if (!p || p.disposed) {
    const zp = aff.zeroPoints.some((z) => z !== 0) ? { zeroPoints: aff.zeroPoints } : {};
    m.set(key, (p = packInt4Weights(values, { k, n, layout, groupSize, scales: aff.scales, ...zp })));
  }
  return p;
}

function constInts(g: Graph, t: string, n: Node): number[] {
  const c = g.constants.get(t);
  if (!c) throw new ModelFormatError(`input '${t}' must be a constant`, { node: n.name });
  return Array.from(c.data as Int32Array | Float32Array);
}

function hw(n: Node, k: string): [number, number] {
  const v = attrInts(n, k, [1, 1, 1, 1]);
  if (v.length === 4) return [v[1]!, v[2]!];
  if (v.length === 2) return [v[0]!, v[1]!];
  return [v[0]!, v[0]!];
}

/** ConvOptions of the kernels from the node's TF attributes. */
function convOptions(n: Node): K.ConvOptions {
  const p = convPad(n);
  return {
    strides: hw(n, 'strides'), dilations: hw(n, 'dilations'),
    padding: Array.isArray(p) ? [p[1][0], p[1][1], p[2][0], p[2][1]] : p,
  };
}

function poolOptions(n: Node): K.PoolOptions {
  const p = attrStr(n, 'padding').toLowerCase();
  if (p !== 'same' && p !== 'valid') throw new ModelFormatError(`unsupported pooling padding '${p}'`, { node: n.name });
  return { filterSize: hw(n, 'ksize'), strides: hw(n, 'strides'), padding: p };
}

const LUT_KIND: Record<string, K.OpsActivation> = {
  Relu: 'relu', Relu6: 'relu6', LeakyRelu: 'leakyRelu', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh',
  leakyrelu: 'leakyRelu', elu: 'elu', sigmoid: 'sigmoid', tanh: 'tanh',
};
const BINARY_KIND: Record<string, K.OpsBinaryOp> = { AddV2: 'add', Sub: 'sub', Mul: 'mul', Maximum: 'maximum', Minimum: 'minimum' };

function clampAct(a: unknown): 'none' | 'relu' | 'relu6' {
  return a === 'relu' || a === 'relu6' ? a : 'none';
}

function resolveReshape(shape: number[], target: number[]): number[] {
  const total = shape.reduce((a, b) => a * b, 1);
  const out = [...target];
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = total / out.reduce((a, b, i) => (i === neg ? a : a * b), 1);
  if (out.reduce((a, b) => a * b, 1) !== total) throw new RangeError(`cannot reshape [${shape.join(', ')}] to [${target.join(', ')}]`);
  return out;
}

/** The int8 computation of one node (§12.3). Returns its output and, for non-clamp fused activations, the preact tensor. */
function runInt8(g: Graph, n: Node, ins: (t: string) => QVal, acts: Record<string, ActivationParams>): { y: QVal; preact?: QVal } {
  const out = n.outputs[0]!;
  const yp = (t: string): QParams => {
    const a = acts[t];
    if (!a) throw new ModelFormatError(`tensor '${t}' has no activation parameters`, { node: n.name });
    return { scale: a.scale, zeroPoint: a.zeroPoint };
  };
  const q = (data: Int8Array, shape: number[], p: QParams): QVal => ({ kind: 'q', data, shape, p });
  const op = n.op;

  if (op === 'Conv2D' || op === 'MatMul' || op === 'DepthwiseConv2dNative' || op === 'Conv2DBackpropInput') {
    const w = weightOf(g, n)!;
    const aff = w.quantization!.affine!;
    const values = aff.values as Int8Array;
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    const clampOnly = act === 'none' || act === 'relu' || act === 'relu6';
    const target = clampOnly ? yp(out) : yp(preactName(out));
    const x = ins(op === 'Conv2DBackpropInput' ? n.inputs[2]! : n.inputs[0]!);
    const biasName = op === 'Conv2DBackpropInput' ? n.inputs[3] : n.inputs[2];
    const biasC = biasName !== undefined ? g.constants.get(biasName) : undefined;
    const bias = biasC ? int32Bias(biasC.data as Float32Array, x.p.scale, aff.scales) : null;
    const cact = clampAct(act);
    let pre: QVal;
    if (op === 'Conv2D' || op === 'MatMul') {
      let a: Int8Array, rows: number, k: number, nOut: number, lda: number, shape: number[], layout: 'kn' | 'nk' = 'kn';
      if (op === 'Conv2D') {
        const [kh, kw, c, oc] = w.shape as [number, number, number, number];
        const o = convOptions(n);
        const geom = K.convGeometry(x.shape, [kh, kw], o);
        const direct = kh === 1 && kw === 1 && geom.strideHeight === 1 && geom.strideWidth === 1
          && geom.padTop === 0 && geom.padBottom === 0 && geom.padLeft === 0 && geom.padRight === 0;
        if (direct) {
          a = x.data; rows = geom.batch * geom.outHeight * geom.outWidth; lda = c;
        } else {
          const r = K.im2col(x.data, x.shape, [kh, kw], { ...o, padValue: x.p.zeroPoint });
          a = r.a; rows = r.rows; lda = r.lda;
        }
        k = kh * kw * c; nOut = oc;
        shape = [geom.batch, geom.outHeight, geom.outWidth, oc];
      } else {
        if (x.shape.length !== 2) throw new ModelFormatError(`MatMul input must have rank 2, got [${x.shape.join(', ')}]`, { node: n.name });
        const tb = attrBool(n, 'transpose_b');
        layout = tb ? 'nk' : 'kn';
        [k, nOut] = tb ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
        if (x.shape[1] !== k) throw new ModelFormatError(`MatMul inner dimensions differ: [${x.shape.join(', ')}] × K = ${k}`, { node: n.name });
        a = x.data; rows = x.shape[0]!; lda = k;
        shape = [rows, nOut];
      }
      const y = gemm(a, packedOf(values, k, nOut, layout), {
        m: rows, aZeroPoint: x.p.zeroPoint, lda, ...(bias ? { bias } : {}), output: 'int8',
        multipliers: requantMultipliers(x.p.scale, aff.scales, target.scale, nOut), outZeroPoint: target.zeroPoint,
        clamp: activationBounds('int8', target.zeroPoint, target.scale, cact),
      });
      pre = q(y, shape, target);
    } else if (op === 'DepthwiseConv2dNative') {
      const r = K.depthwiseConv2dInt8({
        x: x.data, xShape: x.shape, xParams: x.p, filter: values, filterShape: w.shape,
        filterScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales, bias, yParams: target, activation: cact,
      }, convOptions(n));
      pre = q(r.y, r.shape, target);
    } else {
      const os = constInts(g, n.inputs[0]!, n);
      if (os[0] === -1) os[0] = x.shape[0]!;
      const r = K.conv2dTransposeInt8({
        dy: x.data, dyShape: x.shape, dyParams: x.p, filter: values, filterShape: w.shape,
        filterScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales, bias, yParams: target, outputShape: os,
      }, convOptions(n));
      pre = q(r.y, r.shape, target);
    }
    if (clampOnly) return { y: pre };
    const p = yp(out);
    if (act === 'prelu') {
      const alpha = g.constants.get(n.inputs[3]!)!.data as Float32Array;
      return { y: q(K.prelu(pre.data, alpha, { xParams: pre.p, yParams: p }), pre.shape, p), preact: pre };
    }
    const kind = LUT_KIND[act];
    if (!kind) throw new ModelFormatError(`fused activation '${act}' has no int8 form`, { node: n.name });
    const table = K.buildLut(kind, { x: { ...pre.p, type: 'int8' }, y: { ...p, type: 'int8' }, alpha: attrNum(n, 'leakyrelu_alpha', 0.2) });
    return { y: q(K.applyLut(table, pre.data) as Int8Array, pre.shape, p), preact: pre };
  }

  const x0 = () => ins(n.inputs[0]!);
  switch (op) {
    case 'AvgPool': {
      const x = x0(), p = yp(out);
      const r = K.avgPool(x.data, x.shape, { ...poolOptions(n), xParams: x.p, yParams: p });
      return { y: q(r.y, r.shape, p) };
    }
    case 'MaxPool': {
      const x = x0();
      const r = K.maxPool(x.data, x.shape, poolOptions(n));
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'Mean': {
      const x = x0(), p = yp(out);
      const r = K.meanHW(x.data, x.shape, { xParams: x.p, yParams: p });
      return { y: q(r.y, attrBool(n, 'keep_dims') ? [r.shape[0]!, 1, 1, r.shape[1]!] : r.shape, p) };
    }
    case 'AddV2': case 'Sub': case 'Mul': case 'Maximum': case 'Minimum': {
      const side = (t: string): QVal => {
        const c = g.constants.get(t);
        if (!c) return ins(t);
        const cp = constantOperandParams(c);
        return q(quantize(c.data as Float32Array, 'int8', cp), [...c.shape], cp);
      };
      const a = side(n.inputs[0]!), b = side(n.inputs[1]!), p = yp(out);
      const r = K.binary(BINARY_KIND[op]!, a.data, a.shape, b.data, b.shape, { a: a.p, b: b.p, y: p });
      return { y: q(r.y, r.shape, p) };
    }
    case 'Relu': case 'Relu6': case 'LeakyRelu': case 'Elu': case 'Sigmoid': case 'Tanh': {
      const x = x0(), p = yp(out);
      const table = K.buildLut(LUT_KIND[op]!, { x: { ...x.p, type: 'int8' }, y: { ...p, type: 'int8' }, alpha: attrNum(n, 'alpha', 0.2) });
      return { y: q(K.applyLut(table, x.data) as Int8Array, x.shape, p) };
    }
    case 'Prelu': {
      const x = x0(), p = yp(out);
      const alpha = g.constants.get(n.inputs[1]!)!.data as Float32Array;
      return { y: q(K.prelu(x.data, alpha, { xParams: x.p, yParams: p }), x.shape, p) };
    }
    case 'Softmax': {
      const x = x0();
      const y = K.softmax(x.data, x.shape, { xScale: x.p.scale, yType: 'int8' }) as Int8Array;
      return { y: q(y, x.shape, { ...SOFTMAX_INT8_PARAMS }) };
    }
    case 'ConcatV2': {
      const p = yp(out);
      const parts = n.inputs.slice(0, -1).map((t) => ins(t));
      const axis = constInts(g, n.inputs[n.inputs.length - 1]!, n)[0]!;
      const r = K.concat(parts.map((v) => ({ data: v.data, shape: v.shape, params: v.p })), axis, { yParams: p });
      return { y: q(r.y, r.shape, p) };
    }
    case 'ResizeBilinear': {
      const x = x0(), p = yp(out);
      const r = K.resizeBilinear(x.data, x.shape, constInts(g, n.inputs[1]!, n), {
        alignCorners: attrBool(n, 'align_corners'), halfPixelCenters: attrBool(n, 'half_pixel_centers'), xParams: x.p, yParams: p,
      });
      return { y: q(r.y, r.shape, p) };
    }
    case 'ResizeNearestNeighbor': {
      const x = x0();
      const r = K.resizeNearest(x.data, x.shape, constInts(g, n.inputs[1]!, n), {
        alignCorners: attrBool(n, 'align_corners'), halfPixelCenters: attrBool(n, 'half_pixel_centers'),
      });
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'Reshape': {
      const x = x0();
      return { y: q(x.data, resolveReshape(x.shape, constInts(g, n.inputs[1]!, n)), x.p) };
    }
    case 'Squeeze': {
      const x = x0();
      const ax = attrInts(n, 'squeeze_dims', attrInts(n, 'axis', [])).map((a) => (a < 0 ? a + x.shape.length : a));
      return { y: q(x.data, x.shape.filter((d, i) => (ax.length ? !ax.includes(i) : d !== 1)), x.p) };
    }
    case 'ExpandDims': {
      const x = x0();
      const a = constInts(g, n.inputs[1]!, n)[0]!;
      const s = [...x.shape];
      s.splice(a < 0 ? a + x.shape.length + 1 : a, 0, 1);
      return { y: q(x.data, s, x.p) };
    }
    case 'Identity': {
      const x = x0();
      return { y: q(x.data, x.shape, x.p) };
    }
    case 'Pad': case 'PadV2': {
      const x = x0();
      const flat = constInts(g, n.inputs[1]!, n);
      const pads: number[][] = [];
      for (let i = 0; i < flat.length; i += 2) pads.push([flat[i]!, flat[i + 1]!]);
      // §12.3: the pad value is the zero point (the quantized pad constant when it is not 0).
      const v = op === 'PadV2' ? (g.constants.get(n.inputs[2]!)!.data as Float32Array)[0]! : attrNum(n, 'constant_value', 0);
      const value = v === 0 ? x.p.zeroPoint : quantize(Float32Array.of(v), 'int8', x.p)[0]!;
      const r = K.pad(x.data, x.shape, pads, value);
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'Transpose': {
      const x = x0();
      const r = K.transpose(x.data, x.shape, constInts(g, n.inputs[1]!, n));
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'StridedSlice': {
      const x = x0();
      const r = K.stridedSlice(x.data, x.shape, constInts(g, n.inputs[1]!, n), constInts(g, n.inputs[2]!, n), {
        strides: constInts(g, n.inputs[3]!, n), beginMask: attrNum(n, 'begin_mask', 0), endMask: attrNum(n, 'end_mask', 0),
        ellipsisMask: attrNum(n, 'ellipsis_mask', 0), newAxisMask: attrNum(n, 'new_axis_mask', 0), shrinkAxisMask: attrNum(n, 'shrink_axis_mask', 0),
      });
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'Slice': {
      const x = x0();
      const r = K.slice(x.data, x.shape, constInts(g, n.inputs[1]!, n), constInts(g, n.inputs[2]!, n));
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'DepthToSpace': {
      const x = x0();
      const r = K.depthToSpace(x.data, x.shape, attrNum(n, 'block_size'));
      return { y: q(r.y, r.shape, x.p) };
    }
    default:
      throw new ModelFormatError(`op ${op} has no int8 simulation`, { node: n.name });
  }
}

/**
 * §12.4: Conv2D / MatMul with int8 weights on float input, dequantized to float32 in the GEMM;
 * §12.5: the same with int4 weights through the dynamic int4 GEMM (float bias and relu/relu6
 * in its epilogue, other activations after it as for int8).
 */
function runDynamic(g: Graph, n: Node, x: Float32Array, xShape: number[], perRow: boolean): { data: Float32Array; shape: number[] } {
  const w = g.constants.get(n.inputs[1]!)!;
  const aff = w.quantization!.affine!;
  const values = aff.values as Int8Array;
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const biasC = n.inputs[2] !== undefined ? g.constants.get(n.inputs[2]) : undefined;
  let a: Float32Array, rows: number, k: number, nOut: number, ldx: number, shape: number[], layout: 'kn' | 'nk' = 'kn';
  if (n.op === 'Conv2D') {
    const [kh, kw, c, oc] = w.shape as [number, number, number, number];
    const o = convOptions(n);
    const geom = K.convGeometry(xShape, [kh, kw], o);
    const direct = kh === 1 && kw === 1 && geom.strideHeight === 1 && geom.strideWidth === 1
      && geom.padTop === 0 && geom.padBottom === 0 && geom.padLeft === 0 && geom.padRight === 0;
    if (direct) {
      a = x; rows = geom.batch * geom.outHeight * geom.outWidth; ldx = c;
    } else {
      const r = K.im2col(x, xShape, [kh, kw], { ...o, padValue: 0 });
      a = r.a; rows = r.rows; ldx = r.lda;
    }
    k = kh * kw * c; nOut = oc;
    shape = [geom.batch, geom.outHeight, geom.outWidth, oc];
  } else {
    if (xShape.length !== 2) throw new ModelFormatError(`MatMul input must have rank 2, got [${xShape.join(', ')}]`, { node: n.name });
    const tb = attrBool(n, 'transpose_b');
    layout = tb ? 'nk' : 'kn';
    [k, nOut] = tb ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
    a = x; rows = xShape[0]!; ldx = k;
    shape = [rows, nOut];
  }
  let y: Float32Array;
  if (int4WeightOf(g, n)) {
    // dynamicGemmInt4 takes x as m × k exactly (im2col rows are k long unless asked otherwise).
    if (ldx !== k) throw new ModelFormatError(`im2col row stride ${ldx} != K ${k}`, { node: n.name });
    y = dynamicGemmInt4(a.subarray(0, rows * k), packedInt4Of(w, k, nOut, layout), {
      m: rows, perRow, ...(biasC ? { bias: biasC.data as Float32Array } : {}), activation: clampAct(act),
    });
  } else {
    y = dynamicGemm(a, packedOf(values, k, nOut, layout), {
      m: rows, perRow, ldx, wScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales,
      ...(biasC ? { biasF32: biasC.data as Float32Array } : {}), activation: clampAct(act),
    });
  }
  if (act === 'prelu') y = K.prelu(y, g.constants.get(n.inputs[3]!)!.data as Float32Array);
  else if (LUT_KIND[act]) y = K.activation(LUT_KIND[act]!, y, attrNum(n, 'leakyrelu_alpha', 0.2));
  return { data: y, shape };
}

function toSim(v: Val): SimTensor {
  if (v.kind === 'q') return { dtype: 'int8', shape: [...v.shape], data: v.data, scale: v.p.scale, zeroPoint: v.p.zeroPoint };
  const t = v.t;
  const shape = [...t.shape];
  if (t.dtype === 'int32') return { dtype: 'int32', shape, data: Int32Array.from(t.dataSync() as Int32Array) };
  if (t.dtype === 'bool') return { dtype: 'bool', shape, data: Uint8Array.from(t.dataSync() as Uint8Array) };
  if (t.dtype !== 'float32') throw new TypeError(`tensor of dtype ${t.dtype} cannot be captured`);
  return { dtype: 'float32', shape, data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** §3 on a SimTensor (int8 → float32); other tensors are returned as they are. */
export function dequantizeSim(t: SimTensor): SimTensor {
  if (t.dtype !== 'int8') return t;
  return { dtype: 'float32', shape: t.shape, data: dequantize(t.data, { scale: t.scale, zeroPoint: t.zeroPoint }) };
}

function isSimTensor(v: unknown): v is SimTensor {
  return typeof v === 'object' && v !== null && !(v instanceof tf.Tensor) && 'data' in v && 'shape' in v && 'dtype' in v;
}

function bindSimInputs(g: Graph, inputs: SimulateInputs): Map<string, tf.Tensor | SimTensor> {
  const m = new Map<string, tf.Tensor | SimTensor>();
  const names = g.inputs.map((i) => i.name);
  if (inputs instanceof tf.Tensor || isSimTensor(inputs)) {
    if (names.length !== 1) throw new RangeError(`inputs: the model has ${names.length} inputs (${names.join(', ')}); pass an array or a name → tensor record`);
    m.set(names[0]!, inputs);
  } else if (Array.isArray(inputs)) {
    if (inputs.length !== names.length) throw new RangeError(`inputs has ${inputs.length} tensors, the model takes ${names.length}`);
    inputs.forEach((t, i) => m.set(names[i]!, t));
  } else if (inputs && typeof inputs === 'object') {
    for (const [k, v] of Object.entries(inputs)) {
      if (!names.includes(k)) throw new RangeError(`inputs: '${k}' is not an input of the model (inputs: ${names.join(', ')})`);
      m.set(k, v);
    }
  } else {
    throw new TypeError('inputs must be a tf.Tensor, a SimTensor, an array of them or a name → tensor record');
  }
  for (const spec of g.inputs) {
    const v = m.get(spec.name);
    if (v === undefined) throw new RangeError(`input '${spec.name}' was not given`);
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new TypeError(`inputs['${spec.name}'] is disposed`);
      if (v.dtype !== spec.dtype) throw new TypeError(`inputs['${spec.name}'] has dtype ${v.dtype}, the model expects ${spec.dtype}`);
    } else if (!isSimTensor(v)) {
      throw new TypeError(`inputs['${spec.name}'] must be a tf.Tensor or a SimTensor`);
    } else if (v.data.length !== v.shape.reduce((a, b) => a * b, 1)) {
      throw new RangeError(`inputs['${spec.name}'] has ${v.data.length} values for shape [${v.shape.join(', ')}]`);
    }
    const shape = v instanceof tf.Tensor ? v.shape : v.shape;
    if (spec.shape && !(shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]))) {
      throw new RangeError(`inputs['${spec.name}'] has shape [${shape.join(', ')}], the model expects [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
    }
  }
  return m;
}

/**
 * Executes a §12-annotated graph (or a float graph: then every node runs float) on one batch.
 * Conversions happen where tensors are consumed, once per tensor (§12.2). A graph with
 * control-flow regions needs simulateAsync (decided up front).
 */
export function simulate(g: Graph, inputs: SimulateInputs, opts: SimulateOptions = {}): SimulateResult {
  if (requiresAsync(g)) {
    throw new ModelFormatError('simulate: the graph has control-flow regions, which only tfjs-converter runs asynchronously: use simulateAsync');
  }
  const run = startSimulation(g, inputs, opts);
  try {
    for (const n of g.nodes) run.node(n);
    return run.result();
  } finally {
    run.dispose();
  }
}

/**
 * simulate() for any graph: control-flow regions (kept in float by the quantizer: their nodes
 * are raw TF ops) run whole through tfjs-converter on their float inputs; every other node as
 * simulate() runs it.
 */
export async function simulateAsync(g: Graph, inputs: SimulateInputs, opts: SimulateOptions = {}): Promise<SimulateResult> {
  const run = startSimulation(g, inputs, opts);
  try {
    for (const u of executionUnits(g)) {
      if (u.kind === 'node') run.node(u.node);
      else await run.region(u.region);
    }
    return run.result();
  } finally {
    run.dispose();
  }
}

interface Simulation {
  node(n: Node): void;
  region(r: ControlFlowRegion): Promise<void>;
  result(): SimulateResult;
  dispose(): void;
}

/** The state of one simulation run: values by tensor name, conversions made once per tensor. */
function startSimulation(g: Graph, inputs: SimulateInputs, opts: SimulateOptions): Simulation {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
  const cap = opts.capture ?? false;
  if (typeof cap !== 'boolean' && !(Array.isArray(cap) && cap.every((c) => typeof c === 'string'))) {
    throw new TypeError('options.capture must be a boolean or an array of tensor names');
  }
  const want = (t: string) => cap === true || (Array.isArray(cap) && cap.includes(t));
  const info = quantizationInfo(g);
  const acts = activationTable(g);
  const plan = planExecution(g);
  const bound = bindSimInputs(g, inputs);

  const values = new Map<string, Val>();
  const floatOf = new Map<string, tf.Tensor>();   // dequantized int8 tensors (§3), once per tensor
  const int8Of = new Map<string, QVal>();         // quantized float tensors (§2), once per tensor
  const owned = new Set<tf.Tensor>();
  const external = new Set<tf.Tensor>();
  const tensors = new Map<string, SimTensor>();

  for (const spec of g.inputs) {
    const v = bound.get(spec.name)!;
    if (v instanceof tf.Tensor) {
      external.add(v);
      if (info && info.inputType !== 'float32' && acts[spec.name]) {
        const a = acts[spec.name]!;
        const p = { scale: a.scale, zeroPoint: a.zeroPoint };
        values.set(spec.name, { kind: 'q', data: quantize(v.dataSync() as Float32Array, 'int8', p), shape: [...v.shape], p });
      } else values.set(spec.name, { kind: 'f', t: v });
    } else if (v.dtype === 'int8') {
      const a = acts[spec.name];
      if (!a) throw new RangeError(`input '${spec.name}' is int8 but has no activation parameters`);
      values.set(spec.name, { kind: 'q', data: v.data, shape: [...v.shape], p: { scale: a.scale, zeroPoint: a.zeroPoint } });
    } else {
      const t = tf.tensor(v.data as Float32Array, v.shape, v.dtype);
      owned.add(t);
      values.set(spec.name, { kind: 'f', t });
    }
  }

  const asFloat = (t: string, n: Node): tf.Tensor => {
    const c = g.constants.get(t);
    if (c) {
      const ct = constantTensor(c);
      external.add(ct);
      return ct;
    }
    const v = values.get(t);
    if (!v) throw new ModelFormatError(`input '${t}' has no value`, { node: n.name });
    if (v.kind === 'f') return v.t;
    let f = floatOf.get(t);
    if (!f) {
      f = tf.tensor(dequantize(v.data, v.p), v.shape, 'float32');
      owned.add(f);
      floatOf.set(t, f);
    }
    return f;
  };
  const asInt8 = (t: string, n: Node): QVal => {
    const v = values.get(t);
    if (!v) throw new ModelFormatError(`input '${t}' has no value`, { node: n.name });
    if (v.kind === 'q') return v;
    let q = int8Of.get(t);
    if (!q) {
      const a = acts[t];
      if (!a) throw new ModelFormatError(`tensor '${t}' has no activation parameters`, { node: n.name });
      if (v.t.dtype !== 'float32') throw new ModelFormatError(`tensor '${t}' has dtype ${v.t.dtype}: only float32 tensors are quantized`, { node: n.name });
      const p = { scale: a.scale, zeroPoint: a.zeroPoint };
      q = { kind: 'q', data: quantize(v.t.dataSync() as Float32Array, 'int8', p), shape: [...v.t.shape], p };
      int8Of.set(t, q);
    }
    return q;
  };

  const node = (n: Node): void => {
    const how = plan.get(n.name)!;
    try {
      if (how === 'int8') {
        const r = runInt8(g, n, (t) => asInt8(t, n), acts);
        values.set(n.outputs[0]!, r.y);
        if (r.preact && want(preactName(n.outputs[0]!))) tensors.set(preactName(n.outputs[0]!), toSim(r.preact));
      } else if (how === 'dynamic') {
        const xt = asFloat(n.inputs[0]!, n);
        // tfjs-backend-cpu keeps an int32 → float32 Cast's values in their Int32Array.
        const xd = xt.dataSync();
        const r = runDynamic(g, n, xd instanceof Float32Array ? xd : Float32Array.from(xd as ArrayLike<number>), [...xt.shape], info?.dynamic?.granularity === 'row');
        const t = tf.tensor(r.data, r.shape, 'float32');
        owned.add(t);
        values.set(n.outputs[0]!, { kind: 'f', t });
      } else {
        const ins = n.inputs.map((t) => asFloat(t, n));
        const spec = OPS[n.op];
        const outs = tf.tidy(() => (n.opaque || !spec ? executeOpaque(n, ins) : spec.execute(n, ins)));
        n.outputs.forEach((o, i) => {
          const t = outs[i];
          if (!t) return;
          if (!ins.includes(t)) owned.add(t);
          values.set(o, { kind: 'f', t });
        });
      }
    } catch (e) {
      throw asModelError(e, { node: n.name });
    }
    for (const o of n.outputs) if (want(o) && values.has(o)) tensors.set(o, toSim(values.get(o)!));
  };

  const region = async (r: ControlFlowRegion): Promise<void> => {
    const ins = r.inputs.map((t) => asFloat(t, g.nodes.find((n) => n.name === r.nodes[0])!));
    const outs = await runRegion(g, r, ins, r.outputs);
    r.outputs.forEach((o, i) => {
      const t = outs[i]!;
      owned.add(t);
      values.set(o, { kind: 'f', t });
      if (want(o)) tensors.set(o, toSim(values.get(o)!));
    });
  };

  const result = (): SimulateResult => {
    const outputs = g.outputs.map((o): SimTensor => {
      const v = values.get(o);
      if (!v) {
        const c = g.constants.get(o);
        if (c) return toSim({ kind: 'f', t: asFloat(o, g.nodes[0]!) });
        const [producer] = parseTensorName(o);
        throw new ModelFormatError(`output '${o}' was not computed`, { node: producer });
      }
      if (v.kind === 'q' && info && info.outputType !== 'float32') return toSim(v);
      return dequantizeSim(toSim(v));
    });
    return { outputs, tensors, plan };
  };

  const dispose = (): void => {
    for (const t of owned) if (!external.has(t) && !t.isDisposed) t.dispose();
  };
  return { node, region, result, dispose };
}
