// Emitters of the int8 steps (docs/quantization.md §12.2): one node → its native steps.
import type { Graph, Node } from '../model/ir.js';
import { attrBool, attrNum } from '../model/node-attrs.js';
import * as K from '../kernels/ops.js';
import { LUT_KIND } from '../kernels/ops/args.js';
import { quantize } from '../kernels/quantize.js';
import {
  constantOperandParams,
  int32Bias,
  preactName,
  requantMultipliers,
  SOFTMAX_INT8_PARAMS,
  weightOf,
} from '../quant/params.js';
import { activationBounds, type QParams } from '../quant/scheme.js';
import { biasConst, concatAxis, convWeightsKN, emitMove, geometry, im2colTemp } from './emit-common.js';
import { hw, poolGeomInts, windowGeometry } from './geometry.js';
import { fusedPair, POINTWISE_DEPTHWISE_OP } from './pointwise-depthwise.js';
import { floatConst } from './placement.js';
import type { Q8, SegmentBuilder } from './segment-builder.js';
import { BINARY, DT } from './step-codes.js';

export function emitInt8(b: SegmentBuilder, g: Graph, n: Node): void {
  const out = n.outputs[0]!;
  const yShape = b.shape(out);
  const op = n.op;
  const newQ8 = (p: QParams, shape = yShape): Q8 => ({ buf: b.buffer(DT.i8, shape), p });
  const yp = (t: string): QParams => b.params(t);
  const full = { qmin: -128, qmax: 127 };

  if (op === POINTWISE_DEPTHWISE_OP) {
    emitPointwiseDepthwise(b, g, n);
    return;
  }

  if (op === 'Conv2D' || op === 'MatMul' || op === 'DepthwiseConv2dNative') {
    const w = weightOf(g, n)!;
    const aff = w.quantization!.affine!;
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    const clampOnly = act === 'none' || act === 'relu' || act === 'relu6';
    const target = clampOnly ? yp(out) : yp(preactName(out));
    const x = b.getQ8(n.inputs[0]!);
    const { bias, multipliers, qmin, qmax } = requantization(b, g, n, x.p, target);
    const pre = newQ8(target);
    if (op === 'DepthwiseConv2dNative') {
      const [kh, kw, , m] = w.shape as [number, number, number, number];
      const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
      b.emit('dw_i8', {
        inputs: [x.buf],
        output: pre.buf,
        ints: { geom: geo, multiplier: m, x_zero_point: x.p.zeroPoint, y_zero_point: target.zeroPoint, qmin, qmax },
        weights: { w: b.weight(aff.values as Int8Array), bias, multipliers },
      });
    } else {
      const { w: kn, k } = convWeightsKN(g, n, aff.values as Int8Array);
      const weights = { w: b.weight(kn), bias, multipliers };
      const ints = { x_zero_point: x.p.zeroPoint, y_zero_point: target.zeroPoint, qmin, qmax };
      if (op === 'Conv2D') {
        const [kh, kw] = w.shape as [number, number];
        const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
        b.emit('conv_i8', {
          inputs: [x.buf],
          output: pre.buf,
          temps: im2colTemp(b, geo, yShape, k, DT.i8),
          ints: { geom: geo, ...ints },
          weights,
        });
      } else {
        b.emit('matmul_i8', { inputs: [x.buf], output: pre.buf, ints, weights });
      }
    }
    if (clampOnly) {
      b.setQ8(out, pre);
      return;
    }
    const y = newQ8(yp(out));
    if (act === 'prelu') {
      b.emit('prelu_i8', {
        inputs: [pre.buf],
        output: y.buf,
        ints: { x_zero_point: pre.p.zeroPoint, y_zero_point: y.p.zeroPoint, ...full },
        floats: { x_scale: pre.p.scale, y_scale: y.p.scale },
        weights: { alpha: b.weight(floatConst(g, n.inputs[3])!) },
      });
    } else {
      const table = K.buildLut(LUT_KIND[act]!, {
        x: { ...pre.p, type: 'int8' },
        y: { ...y.p, type: 'int8' },
        alpha: attrNum(n, 'leakyrelu_alpha', 0.2),
      });
      b.emit('lut', { inputs: [pre.buf], output: y.buf, weights: { table: b.weight(table) } });
    }
    b.setQ8(out, y);
    return;
  }

  if (op === 'Conv2DBackpropInput') {
    const w = weightOf(g, n)!;
    const aff = w.quantization!.affine!;
    const dy = b.getQ8(n.inputs[2]!);
    const target = yp(out);
    const biasData = biasConst(g, n.inputs[3], yShape.at(-1)!);
    const [kh, kw, ci] = w.shape as [number, number, number];
    const geo = geometry(n, yShape, [kh, kw], false);
    const [qmin, qmax] = activationBounds('int8', target.zeroPoint, target.scale, 'none');
    const y = newQ8(target);
    b.emit('deconv_i8', {
      inputs: [dy.buf],
      output: y.buf,
      ints: { geom: geo, dy_zero_point: dy.p.zeroPoint, y_zero_point: target.zeroPoint, qmin, qmax },
      weights: {
        w: b.weight(aff.values as Int8Array),
        bias: biasData ? b.weight(int32Bias(biasData, dy.p.scale, aff.scales)) : -1,
        multipliers: b.weight(requantMultipliers(dy.p.scale, aff.scales, target.scale, ci)),
      },
    });
    b.setQ8(out, y);
    return;
  }
  const x0 = (): Q8 => b.getQ8(n.inputs[0]!);
  switch (op) {
    case 'MaxPool':
    case 'AvgPool': {
      const x = x0();
      const window = poolGeomInts(windowGeometry(n, b.shape(n.inputs[0]!), hw(n, 'ksize'), true));
      if (op === 'MaxPool') {
        const y = newQ8(x.p);
        b.emit('maxpool_i8', { inputs: [x.buf], output: y.buf, ints: { window, ...full } });
        b.setQ8(out, y);
      } else {
        const y = newQ8(yp(out));
        b.emit('avgpool_i8', {
          inputs: [x.buf],
          output: y.buf,
          ints: { window, x_zero_point: x.p.zeroPoint, y_zero_point: y.p.zeroPoint, ...full },
          floats: { x_scale: x.p.scale, y_scale: y.p.scale },
        });
        b.setQ8(out, y);
      }
      return;
    }
    case 'Mean': {
      const x = x0();
      const y = newQ8(yp(out));
      b.emit('mean_i8', {
        inputs: [x.buf],
        output: y.buf,
        ints: { x_zero_point: x.p.zeroPoint, y_zero_point: y.p.zeroPoint, ...full },
        floats: { x_scale: x.p.scale, y_scale: y.p.scale },
      });
      b.setQ8(out, y);
      return;
    }
    case 'AddV2':
    case 'Sub':
    case 'Mul':
    case 'Maximum':
    case 'Minimum': {
      const side = (t: string): Q8 => {
        const c = g.constants.get(t);
        if (!c) return b.getQ8(t);
        const cp = constantOperandParams(c);
        return { buf: b.constBuffer(quantize(c.data as Float32Array, 'int8', cp), DT.i8, c.shape), p: cp };
      };
      const a = side(n.inputs[0]!),
        c = side(n.inputs[1]!);
      const y = newQ8(yp(out));
      b.emit('binary_i8', {
        inputs: [a.buf, c.buf],
        output: y.buf,
        ints: {
          op: BINARY[op]!,
          a_zero_point: a.p.zeroPoint,
          b_zero_point: c.p.zeroPoint,
          y_zero_point: y.p.zeroPoint,
          ...full,
        },
        floats: { a_scale: a.p.scale, b_scale: c.p.scale, y_scale: y.p.scale },
      });
      b.setQ8(out, y);
      return;
    }
    case 'Relu':
    case 'Relu6':
    case 'LeakyRelu':
    case 'Elu':
    case 'Sigmoid':
    case 'Tanh': {
      const x = x0();
      const y = newQ8(yp(out));
      const table = K.buildLut(LUT_KIND[op]!, {
        x: { ...x.p, type: 'int8' },
        y: { ...y.p, type: 'int8' },
        alpha: attrNum(n, 'alpha', 0.2),
      });
      b.emit('lut', { inputs: [x.buf], output: y.buf, weights: { table: b.weight(table) } });
      b.setQ8(out, y);
      return;
    }
    case 'Prelu': {
      const x = x0();
      const y = newQ8(yp(out));
      b.emit('prelu_i8', {
        inputs: [x.buf],
        output: y.buf,
        ints: { x_zero_point: x.p.zeroPoint, y_zero_point: y.p.zeroPoint, ...full },
        floats: { x_scale: x.p.scale, y_scale: y.p.scale },
        weights: { alpha: b.weight(floatConst(g, n.inputs[1])!) },
      });
      b.setQ8(out, y);
      return;
    }
    case 'Softmax': {
      const x = x0();
      const y = newQ8({ ...SOFTMAX_INT8_PARAMS });
      b.emit('softmax_i8', { inputs: [x.buf], output: y.buf, floats: { x_scale: x.p.scale, beta: 1 } });
      b.setQ8(out, y);
      return;
    }
    case 'ConcatV2': {
      const parts = n.inputs.slice(0, -1).map((t) => b.getQ8(t));
      const y = newQ8(yp(out));
      b.emit('concat_i8', {
        inputs: parts.map((p) => p.buf),
        output: y.buf,
        ints: {
          axis: concatAxis(g, n, yShape.length),
          y_zero_point: y.p.zeroPoint,
          ...full,
          x_zero_points: parts.map((p) => p.p.zeroPoint),
        },
        floats: { y_scale: y.p.scale, x_scales: parts.map((p) => p.p.scale) },
      });
      b.setQ8(out, y);
      return;
    }
    case 'ResizeBilinear': {
      const x = x0();
      const y = newQ8(yp(out));
      b.emit('resize_bilinear_i8', {
        inputs: [x.buf],
        output: y.buf,
        ints: {
          align_corners: +attrBool(n, 'align_corners'),
          half_pixel_centers: +attrBool(n, 'half_pixel_centers'),
          x_zero_point: x.p.zeroPoint,
          y_zero_point: y.p.zeroPoint,
          ...full,
        },
        floats: { x_scale: x.p.scale, y_scale: y.p.scale },
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

/**
 * The §5 requantization of a Conv2D, MatMul or depthwise node n from input parameters x to `target`: its
 * int32 bias (weight index, −1 without one), multipliers (weight index) and output bounds (the
 * node's ReLU / ReLU6 folded in; any other activation is applied after, on `target`).
 */
function requantization(
  b: SegmentBuilder,
  g: Graph,
  n: Node,
  x: QParams,
  target: QParams,
): { bias: number; multipliers: number; qmin: number; qmax: number } {
  const aff = weightOf(g, n)!.quantization!.affine!;
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const channels = b.shape(n.outputs[0]!).at(-1)!;
  const biasData = biasConst(g, n.inputs[2], channels);
  const [qmin, qmax] = activationBounds(
    'int8',
    target.zeroPoint,
    target.scale,
    act === 'relu' || act === 'relu6' ? act : 'none',
  );
  return {
    bias: biasData ? b.weight(int32Bias(biasData, x.scale, aff.scales)) : -1,
    multipliers: b.weight(requantMultipliers(x.scale, aff.scales, target.scale, channels)),
    qmin,
    qmax,
  };
}

/**
 * A fused 1 × 1 convolution → depthwise convolution (pointwise-depthwise.ts: both clamp-activated)
 * as one pw_dw_i8 step: the parameters of conv_i8 and dw_i8, the tensor between them quantized
 * with the pointwise output's parameters.
 */
function emitPointwiseDepthwise(b: SegmentBuilder, g: Graph, n: Node): void {
  const { pw, dw } = fusedPair(g, n);
  const x = b.getQ8(pw.inputs[0]!);
  const mid = b.params(pw.outputs[0]!);
  const out = dw.outputs[0]!;
  const y: Q8 = { buf: b.buffer(DT.i8, b.shape(out)), p: b.params(out) };
  const p = requantization(b, g, pw, x.p, mid);
  const d = requantization(b, g, dw, mid, y.p);
  const dwW = weightOf(g, dw)!;
  const [kh, kw] = dwW.shape as [number, number];
  b.emit('pw_dw_i8', {
    inputs: [x.buf],
    output: y.buf,
    ints: {
      geom: geometry(dw, b.shape(pw.outputs[0]!), [kh, kw], false),
      x_zero_point: x.p.zeroPoint,
      mid_zero_point: mid.zeroPoint,
      mid_qmin: p.qmin,
      mid_qmax: p.qmax,
      y_zero_point: y.p.zeroPoint,
      qmin: d.qmin,
      qmax: d.qmax,
    },
    weights: {
      pw_w: b.weight(convWeightsKN(g, pw, weightOf(g, pw)!.quantization!.affine!.values as Int8Array).w),
      pw_bias: p.bias,
      pw_multipliers: p.multipliers,
      dw_w: b.weight(dwW.quantization!.affine!.values as Int8Array),
      dw_bias: d.bias,
      dw_multipliers: d.multipliers,
    },
  });
  b.setQ8(out, y);
}
