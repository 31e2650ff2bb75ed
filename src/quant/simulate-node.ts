// One node of the reference simulation (simulate.ts) through the bit-exact kernels: an int8 node
// on int8 inputs (docs/quantization.md §12.3), or a `dynamic` Conv2D/MatMul on float input (§12.4,
// int4 weights §12.5).
import { tf } from '../backend/float.js';
import { ModelFormatError } from '../model/errors.js';
import type { Constant, Graph, Node } from '../model/ir.js';
import { attrBool, attrInts, attrNum, attrStr, convPad } from '../model/node-attrs.js';
import { dynamicGemm, gemm, packWeights, type PackedWeights } from '../kernels/gemm.js';
import { dynamicGemmInt4, packInt4Weights, type Int4PackedWeights } from '../kernels/int4.js';
import * as K from '../kernels/ops.js';
import { LUT_KIND } from '../kernels/ops/args.js';
import { quantize } from '../kernels/quantize.js';
import {
  constantOperandParams,
  int32Bias,
  int4KernelGroupSize,
  int4WeightOf,
  preactName,
  requantMultipliers,
  SOFTMAX_INT8_PARAMS,
  weightOf,
  type ActivationParams,
} from './params.js';
import { activationBounds, type QParams } from '../kernels/scheme.js';

export type QVal = { kind: 'q'; data: Int8Array; shape: number[]; p: QParams };
export type FVal = { kind: 'f'; t: tf.Tensor };
export type Val = QVal | FVal;

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
    strides: hw(n, 'strides'),
    dilations: hw(n, 'dilations'),
    padding: Array.isArray(p) ? [p[1][0], p[1][1], p[2][0], p[2][1]] : p,
  };
}

function poolOptions(n: Node): K.PoolOptions {
  const p = attrStr(n, 'padding').toLowerCase();
  if (p !== 'same' && p !== 'valid') throw new ModelFormatError(`unsupported pooling padding '${p}'`, { node: n.name });
  return { filterSize: hw(n, 'ksize'), strides: hw(n, 'strides'), padding: p };
}

const BINARY_KIND: Record<string, K.OpsBinaryOp> = {
  AddV2: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Maximum: 'maximum',
  Minimum: 'minimum',
};

/**
 * The GEMM operands of a Conv2D (im2col of x padded with padValue, or x itself when pointwise)
 * or a MatMul (x, weights 'nk' when transpose_b): A, its rows and row stride, K, N and the
 * output shape.
 */
function gemmOperands<T extends Int8Array | Float32Array>(
  n: Node,
  w: Constant,
  x: T,
  xShape: number[],
  padValue: number,
): { a: T; rows: number; k: number; nOut: number; ld: number; shape: number[]; layout: 'kn' | 'nk' } {
  if (n.op === 'Conv2D') {
    const [kh, kw, c, oc] = w.shape as [number, number, number, number];
    const o = convOptions(n);
    const geom = K.convGeometry(xShape, [kh, kw], o);
    const shape = [geom.batch, geom.outHeight, geom.outWidth, oc];
    if (isPointwise(kh, kw, geom))
      return { a: x, rows: geom.batch * geom.outHeight * geom.outWidth, k: c, nOut: oc, ld: c, shape, layout: 'kn' };
    const r = K.im2col(x, xShape, [kh, kw], { ...o, padValue });
    return { a: r.a, rows: r.rows, k: kh * kw * c, nOut: oc, ld: r.lda, shape, layout: 'kn' };
  }
  if (xShape.length !== 2)
    throw new ModelFormatError(`MatMul input must have rank 2, got [${xShape.join(', ')}]`, { node: n.name });
  const tb = attrBool(n, 'transpose_b');
  const [k, nOut] = tb ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
  if (xShape[1] !== k)
    throw new ModelFormatError(`MatMul inner dimensions differ: [${xShape.join(', ')}] × K = ${k}`, { node: n.name });
  const rows = xShape[0]!;
  return { a: x, rows, k, nOut, ld: k, shape: [rows, nOut], layout: tb ? 'nk' : 'kn' };
}

/** A 1×1, stride-1, unpadded convolution: its im2col matrix is x itself, so none is built. */
function isPointwise(kh: number, kw: number, geom: K.OpsConvGeom): boolean {
  return (
    kh === 1 &&
    kw === 1 &&
    geom.strideHeight === 1 &&
    geom.strideWidth === 1 &&
    geom.padTop === 0 &&
    geom.padBottom === 0 &&
    geom.padLeft === 0 &&
    geom.padRight === 0
  );
}

function clampAct(a: unknown): 'none' | 'relu' | 'relu6' {
  return a === 'relu' || a === 'relu6' ? a : 'none';
}

function resolveReshape(shape: number[], target: number[]): number[] {
  const total = shape.reduce((a, b) => a * b, 1);
  const out = [...target];
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = total / out.reduce((a, b, i) => (i === neg ? a : a * b), 1);
  if (out.reduce((a, b) => a * b, 1) !== total)
    throw new RangeError(`cannot reshape [${shape.join(', ')}] to [${target.join(', ')}]`);
  return out;
}

/** The int8 computation of one node (§12.3). Returns its output and, for non-clamp fused activations, the preact tensor. */
export function runInt8(
  g: Graph,
  n: Node,
  ins: (t: string) => QVal,
  acts: Record<string, ActivationParams>,
): { y: QVal; preact?: QVal } {
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
      const { a, rows, k, nOut, ld: lda, shape, layout } = gemmOperands(n, w, x.data, x.shape, x.p.zeroPoint);
      const y = gemm(a, packedOf(values, k, nOut, layout), {
        m: rows,
        aZeroPoint: x.p.zeroPoint,
        lda,
        ...(bias ? { bias } : {}),
        output: 'int8',
        multipliers: requantMultipliers(x.p.scale, aff.scales, target.scale, nOut),
        outZeroPoint: target.zeroPoint,
        clamp: activationBounds('int8', target.zeroPoint, target.scale, cact),
      });
      pre = q(y, shape, target);
    } else if (op === 'DepthwiseConv2dNative') {
      const r = K.depthwiseConv2dInt8(
        {
          x: x.data,
          xShape: x.shape,
          xParams: x.p,
          filter: values,
          filterShape: w.shape,
          filterScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales,
          bias,
          yParams: target,
          activation: cact,
        },
        convOptions(n),
      );
      pre = q(r.y, r.shape, target);
    } else {
      const os = constInts(g, n.inputs[0]!, n);
      if (os[0] === -1) os[0] = x.shape[0]!;
      const r = K.conv2dTransposeInt8(
        {
          dy: x.data,
          dyShape: x.shape,
          dyParams: x.p,
          filter: values,
          filterShape: w.shape,
          filterScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales,
          bias,
          yParams: target,
          outputShape: os,
        },
        convOptions(n),
      );
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
    const table = K.buildLut(kind, {
      x: { ...pre.p, type: 'int8' },
      y: { ...p, type: 'int8' },
      alpha: attrNum(n, 'leakyrelu_alpha', 0.2),
    });
    return { y: q(K.applyLut(table, pre.data) as Int8Array, pre.shape, p), preact: pre };
  }

  const x0 = () => ins(n.inputs[0]!);
  switch (op) {
    case 'AvgPool': {
      const x = x0(),
        p = yp(out);
      const r = K.avgPool(x.data, x.shape, { ...poolOptions(n), xParams: x.p, yParams: p });
      return { y: q(r.y, r.shape, p) };
    }
    case 'MaxPool': {
      const x = x0();
      const r = K.maxPool(x.data, x.shape, poolOptions(n));
      return { y: q(r.y, r.shape, x.p) };
    }
    case 'Mean': {
      const x = x0(),
        p = yp(out);
      const r = K.meanHW(x.data, x.shape, { xParams: x.p, yParams: p });
      return { y: q(r.y, attrBool(n, 'keep_dims') ? [r.shape[0]!, 1, 1, r.shape[1]!] : r.shape, p) };
    }
    case 'AddV2':
    case 'Sub':
    case 'Mul':
    case 'Maximum':
    case 'Minimum': {
      const side = (t: string): QVal => {
        const c = g.constants.get(t);
        if (!c) return ins(t);
        const cp = constantOperandParams(c);
        return q(quantize(c.data as Float32Array, 'int8', cp), [...c.shape], cp);
      };
      const a = side(n.inputs[0]!),
        b = side(n.inputs[1]!),
        p = yp(out);
      const r = K.binary(BINARY_KIND[op]!, a.data, a.shape, b.data, b.shape, { a: a.p, b: b.p, y: p });
      return { y: q(r.y, r.shape, p) };
    }
    case 'Relu':
    case 'Relu6':
    case 'LeakyRelu':
    case 'Elu':
    case 'Sigmoid':
    case 'Tanh': {
      const x = x0(),
        p = yp(out);
      const table = K.buildLut(LUT_KIND[op]!, {
        x: { ...x.p, type: 'int8' },
        y: { ...p, type: 'int8' },
        alpha: attrNum(n, 'alpha', 0.2),
      });
      return { y: q(K.applyLut(table, x.data) as Int8Array, x.shape, p) };
    }
    case 'Prelu': {
      const x = x0(),
        p = yp(out);
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
      const r = K.concat(
        parts.map((v) => ({ data: v.data, shape: v.shape, params: v.p })),
        axis,
        { yParams: p },
      );
      return { y: q(r.y, r.shape, p) };
    }
    case 'ResizeBilinear': {
      const x = x0(),
        p = yp(out);
      const r = K.resizeBilinear(x.data, x.shape, constInts(g, n.inputs[1]!, n), {
        alignCorners: attrBool(n, 'align_corners'),
        halfPixelCenters: attrBool(n, 'half_pixel_centers'),
        xParams: x.p,
        yParams: p,
      });
      return { y: q(r.y, r.shape, p) };
    }
    case 'ResizeNearestNeighbor': {
      const x = x0();
      const r = K.resizeNearest(x.data, x.shape, constInts(g, n.inputs[1]!, n), {
        alignCorners: attrBool(n, 'align_corners'),
        halfPixelCenters: attrBool(n, 'half_pixel_centers'),
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
      return {
        y: q(
          x.data,
          x.shape.filter((d, i) => (ax.length ? !ax.includes(i) : d !== 1)),
          x.p,
        ),
      };
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
    case 'Pad':
    case 'PadV2': {
      const x = x0();
      const flat = constInts(g, n.inputs[1]!, n);
      const pads: number[][] = [];
      for (let i = 0; i < flat.length; i += 2) pads.push([flat[i]!, flat[i + 1]!]);
      // §12.3: the pad value is the zero point (the quantized pad constant when it is not 0).
      const v =
        op === 'PadV2' ? (g.constants.get(n.inputs[2]!)!.data as Float32Array)[0]! : attrNum(n, 'constant_value', 0);
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
        strides: constInts(g, n.inputs[3]!, n),
        beginMask: attrNum(n, 'begin_mask', 0),
        endMask: attrNum(n, 'end_mask', 0),
        ellipsisMask: attrNum(n, 'ellipsis_mask', 0),
        newAxisMask: attrNum(n, 'new_axis_mask', 0),
        shrinkAxisMask: attrNum(n, 'shrink_axis_mask', 0),
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
export function runDynamic(
  g: Graph,
  n: Node,
  x: Float32Array,
  xShape: number[],
  perRow: boolean,
): { data: Float32Array; shape: number[] } {
  const w = g.constants.get(n.inputs[1]!)!;
  const aff = w.quantization!.affine!;
  const values = aff.values as Int8Array;
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const biasC = n.inputs[2] !== undefined ? g.constants.get(n.inputs[2]) : undefined;
  const { a, rows, k, nOut, ld: ldx, shape, layout } = gemmOperands(n, w, x, xShape, 0);
  let y: Float32Array;
  if (int4WeightOf(g, n)) {
    // dynamicGemmInt4 takes x as m × k exactly (im2col rows are k long unless asked otherwise).
    if (ldx !== k) throw new ModelFormatError(`im2col row stride ${ldx} != K ${k}`, { node: n.name });
    y = dynamicGemmInt4(a.subarray(0, rows * k), packedInt4Of(w, k, nOut, layout), {
      m: rows,
      perRow,
      ...(biasC ? { bias: biasC.data as Float32Array } : {}),
      activation: clampAct(act),
    });
  } else {
    y = dynamicGemm(a, packedOf(values, k, nOut, layout), {
      m: rows,
      perRow,
      ldx,
      wScales: aff.scales.length === 1 ? aff.scales[0]! : aff.scales,
      ...(biasC ? { biasF32: biasC.data as Float32Array } : {}),
      activation: clampAct(act),
    });
  }
  if (act === 'prelu') y = K.prelu(y, g.constants.get(n.inputs[3]!)!.data as Float32Array);
  else if (LUT_KIND[act]) y = K.activation(LUT_KIND[act]!, y, attrNum(n, 'leakyrelu_alpha', 0.2));
  return { data: y, shape };
}
