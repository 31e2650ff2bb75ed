// Emitters of the float32 steps (float, dynamic int8 and int4 weights, docs/quantization.md
// §12.4–12.5): one node → its native steps.
import type { Graph, Node } from '../model/ir.js';
import { attrBool, attrNum } from '../model/node-attrs.js';
import { int4KernelGroupSize } from '../quant/params.js';
import { biasConst, concatAxis, convWeightsKN, emitMove, geometry, im2colTemp } from './emit-common.js';
import { emitIndexOp } from './emit-index-ops.js';
import { emitPieces } from './emit-pieces.js';
import { hw, poolGeomInts, windowGeometry } from './geometry.js';
import { PIECE_OPS } from './pieces.js';
import { floatConst } from './placement.js';
import type { SegmentBuilder } from './segment-builder.js';
import { ACT, BINARY, DT, HARD_SWISH, UNARY_ACT } from './step-codes.js';
import { HARD_SWISH_OP } from './hard-swish.js';
import { fusedPair, POINTWISE_DEPTHWISE_OP } from './pointwise-depthwise.js';

export function emitFloat(
  b: SegmentBuilder,
  g: Graph,
  n: Node,
  dynamic: false | 'int8' | 'int4',
  perRow: boolean,
): void {
  if (emitIndexOp(b, g, n)) return;
  if (PIECE_OPS.has(n.op)) {
    emitPieces(b, g, n);
    return;
  }
  const out = n.outputs[0]!;
  const yShape = b.shape(out);
  const op = n.op;
  const newF = (): number => b.buffer(DT.f32, yShape);
  const x0 = (): number => b.getF32(n.inputs[0]!);

  if (op === POINTWISE_DEPTHWISE_OP) {
    const y = newF();
    emitPointwiseDepthwise(b, g, n, x0(), y);
    b.setF32(out, y);
    return;
  }
  if (op === 'Conv2D' || op === 'MatMul' || op === 'DepthwiseConv2dNative') {
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    const code = act === 'prelu' ? 0 : ACT[act]!;
    const alpha = attrNum(n, 'leakyrelu_alpha', 0.2);
    const x = x0();
    const biasData = biasConst(g, n.inputs[2], yShape.at(-1)!);
    const bias = biasData ? b.weight(biasData) : -1;
    const c = g.constants.get(n.inputs[1]!)!;
    let y = newF();
    if (op === 'DepthwiseConv2dNative') {
      const [kh, kw, , m] = c.shape as [number, number, number, number];
      const geo = geometry(n, b.shape(n.inputs[0]!), [kh, kw], false);
      b.emit('dw_f32', {
        inputs: [x],
        output: y,
        ints: { geom: geo, multiplier: m, act: code },
        floats: { alpha },
        weights: { w: b.weight(c.data as Float32Array), bias },
      });
    } else if (dynamic === 'int4') {
      // §12.5: values K×N in [−8, 7], scales / zero points [groups][N] (already in N order for
      // a transposed MatMul weight), packed once by PackInt4 at session creation.
      const aff = c.quantization!.affine!;
      const { w, k } = convWeightsKN(g, n, aff.values as Int8Array);
      const gs = int4KernelGroupSize(aff.groupSize, k);
      const zp = aff.zeroPoints.some((z) => z !== 0) ? b.weight(aff.zeroPoints) : -1;
      const weights = { w: b.weight(w), w_scales: b.weight(aff.scales), w_zero_points: zp, bias };
      const ints = { per_row: +perRow, act: code, group_size: gs };
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.emit('conv_dyn4', {
          inputs: [x],
          output: y,
          temps: im2colTemp(b, geo, yShape, k, DT.f32),
          ints: { geom: geo, ...ints },
          floats: { alpha },
          weights,
        });
      } else {
        b.emit('matmul_dyn4', { inputs: [x], output: y, ints, floats: { alpha }, weights });
      }
    } else if (dynamic) {
      const aff = c.quantization!.affine!;
      const { w, k } = convWeightsKN(g, n, aff.values as Int8Array);
      const weights = { w: b.weight(w), w_scales: b.weight(aff.scales), bias };
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.emit('conv_dyn', {
          inputs: [x],
          output: y,
          temps: im2colTemp(b, geo, yShape, k, DT.f32),
          ints: { geom: geo, per_row: +perRow, act: code },
          floats: { alpha },
          weights,
        });
      } else {
        b.emit('matmul_dyn', {
          inputs: [x],
          output: y,
          ints: { per_row: +perRow, act: code },
          floats: { alpha },
          weights,
        });
      }
    } else {
      const { w } = convWeightsKN(g, n, c.data as Float32Array);
      if (op === 'Conv2D') {
        const geo = geometry(n, b.shape(n.inputs[0]!), [c.shape[0]!, c.shape[1]!], false);
        b.emit('conv_f32', {
          inputs: [x],
          output: y,
          ints: { geom: geo, act: code },
          floats: { alpha },
          weights: { w: b.weight(w), bias },
        });
      } else {
        b.emit('matmul_f32', {
          inputs: [x],
          output: y,
          ints: { act: code },
          floats: { alpha },
          weights: { w: b.weight(w), bias },
        });
      }
    }
    if (act === 'prelu') {
      const z = newF();
      b.emit('prelu_f32', { inputs: [y], output: z, weights: { alpha: b.weight(floatConst(g, n.inputs[3])!) } });
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
      b.emit('binary_f32', {
        inputs: [x0(), b.getF32(n.inputs[1]!)],
        output: mid,
        ints: { op: BINARY.Maximum!, act: 0 },
      });
      b.emit('binary_f32', { inputs: [mid, b.getF32(n.inputs[2]!)], output: y, ints: { op: BINARY.Minimum!, act: 0 } });
      break;
    }
    case 'BatchMatMulV2':
      b.emit('batch_matmul_f32', {
        inputs: [b.getF32(n.inputs[0]!), b.getF32(n.inputs[1]!)],
        output: y,
        ints: { transpose_a: +attrBool(n, 'adj_x'), transpose_b: +attrBool(n, 'adj_y') },
      });
      break;
    case 'Conv2DBackpropInput': {
      const c = g.constants.get(n.inputs[1]!)!;
      const geo = geometry(n, yShape, [c.shape[0]!, c.shape[1]!], false);
      const biasData = biasConst(g, n.inputs[3], yShape.at(-1)!);
      b.emit('deconv_f32', {
        inputs: [b.getF32(n.inputs[2]!)],
        output: y,
        ints: { geom: geo },
        weights: { w: b.weight(c.data as Float32Array), bias: biasData ? b.weight(biasData) : -1 },
      });
      break;
    }
    case 'MaxPool':
    case 'AvgPool': {
      const window = poolGeomInts(windowGeometry(n, b.shape(n.inputs[0]!), hw(n, 'ksize'), true));
      b.emit(op === 'MaxPool' ? 'maxpool_f32' : 'avgpool_f32', { inputs: [x0()], output: y, ints: { window } });
      break;
    }
    case 'Mean':
      b.emit('mean_f32', { inputs: [x0()], output: y });
      break;
    case 'Max': {
      // Global max pooling: a max pool over the whole H×W window, then the output's shape.
      const xs = b.shape(n.inputs[0]!);
      const pooled = b.buffer(DT.f32, [xs[0]!, 1, 1, xs[3]!]);
      b.emit('maxpool_f32', { inputs: [x0()], output: pooled, ints: { window: [xs[1]!, xs[2]!, 1, 1, 0, 0, 0, 0] } });
      b.emit('copy', { inputs: [pooled], output: y });
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
      b.emit('binary_f32', {
        inputs: [x0(), b.constBuffer(sc, DT.f32, [c])],
        output: mid,
        ints: { op: BINARY.Mul!, act: 0 },
      });
      b.emit('binary_f32', {
        inputs: [mid, b.constBuffer(sh, DT.f32, [c])],
        output: y,
        ints: { op: BINARY.AddV2!, act: 0 },
      });
      break;
    }
    case 'AddN': {
      // tfjs sums the inputs in order: ((x0 + x1) + x2) + ...
      if (n.inputs.length === 1) {
        b.emit('copy', { inputs: [x0()], output: y });
        break;
      }
      let acc = x0();
      for (let i = 1; i < n.inputs.length; i++) {
        const to = i === n.inputs.length - 1 ? y : newF();
        b.emit('binary_f32', {
          inputs: [acc, b.getF32(n.inputs[i]!)],
          output: to,
          ints: { op: BINARY.AddV2!, act: 0 },
        });
        acc = to;
      }
      break;
    }
    case 'Neg':
      b.emit('binary_f32', {
        inputs: [x0(), b.constBuffer(Float32Array.of(-1), DT.f32, [])],
        output: y,
        ints: { op: BINARY.Mul!, act: 0 },
      });
      break;
    case 'BroadcastTo':
      // x + 0 with the zeros in the target shape: the broadcast of the binary step.
      b.emit('binary_f32', {
        inputs: [x0(), b.constBuffer(new Float32Array(yShape.reduce((a, d) => a * d, 1)), DT.f32, yShape)],
        output: y,
        ints: { op: BINARY.AddV2!, act: 0 },
      });
      break;
    case 'Softmax':
      b.emit('softmax_f32', { inputs: [x0()], output: y, floats: { beta: 1 } });
      break;
    case HARD_SWISH_OP:
      b.emit('act_f32', {
        inputs: [x0()],
        output: y,
        ints: { act: HARD_SWISH[n.attrs.form as keyof typeof HARD_SWISH] },
        floats: { alpha: n.attrs.alpha as number },
      });
      break;
    case 'Prelu':
      b.emit('prelu_f32', { inputs: [x0()], output: y, weights: { alpha: b.weight(floatConst(g, n.inputs[1])!) } });
      break;
    case 'ConcatV2':
      b.emit('concat', {
        inputs: n.inputs.slice(0, -1).map((t) => b.getF32(t)),
        output: y,
        ints: { axis: concatAxis(g, n, yShape.length) },
      });
      break;
    case 'ResizeBilinear':
      b.emit('resize_bilinear_f32', {
        inputs: [x0()],
        output: y,
        ints: { align_corners: +attrBool(n, 'align_corners'), half_pixel_centers: +attrBool(n, 'half_pixel_centers') },
      });
      break;
    default:
      if (BINARY[op] !== undefined) {
        const act = (n.attrs.activation as string | undefined) ?? 'none';
        b.emit('binary_f32', {
          inputs: [b.getF32(n.inputs[0]!), b.getF32(n.inputs[1]!)],
          output: y,
          ints: { op: BINARY[op]!, act: act === 'relu' ? 1 : act === 'relu6' ? 2 : 0 },
        });
      } else if (UNARY_ACT[op] !== undefined) {
        b.emit('act_f32', {
          inputs: [x0()],
          output: y,
          ints: { act: UNARY_ACT[op]! },
          floats: { alpha: attrNum(n, 'alpha', 0.2) },
        });
      } else {
        emitMove(b, g, n, x0(), y, (v) => v);
      }
  }
  b.setF32(out, y);
}

/**
 * A fused 1 × 1 convolution → depthwise convolution (pointwise-depthwise.ts) as one pw_dw_f32
 * step, or pw_dw_dyn when the convolution runs dynamic (its int8 weights and scales, as conv_dyn).
 */
function emitPointwiseDepthwise(b: SegmentBuilder, g: Graph, n: Node, x: number, y: number): void {
  const { pw, dw } = fusedPair(g, n);
  const dwW = g.constants.get(dw.inputs[1]!)!;
  const [kh, kw, channels] = dwW.shape as [number, number, number, number];
  const pwBias = biasConst(g, pw.inputs[2], channels),
    dwBias = biasConst(g, dw.inputs[2], channels);
  const pwW = g.constants.get(pw.inputs[1]!)!;
  const ints = {
    geom: geometry(dw, b.shape(pw.outputs[0]!), [kh, kw], false),
    pw_act: ACT[(pw.attrs.activation as string | undefined) ?? 'none']!,
    dw_act: ACT[(dw.attrs.activation as string | undefined) ?? 'none']!,
  };
  const depthwise = { dw_w: b.weight(dwW.data as Float32Array), dw_bias: dwBias ? b.weight(dwBias) : -1 };
  if (n.attrs.dynamic === true) {
    const aff = pwW.quantization!.affine!;
    b.emit('pw_dw_dyn', {
      inputs: [x],
      output: y,
      ints,
      weights: {
        pw_w: b.weight(convWeightsKN(g, pw, aff.values as Int8Array).w),
        pw_w_scales: b.weight(aff.scales),
        pw_bias: pwBias ? b.weight(pwBias) : -1,
        ...depthwise,
      },
    });
    return;
  }
  b.emit('pw_dw_f32', {
    inputs: [x],
    output: y,
    ints,
    floats: { pw_alpha: attrNum(pw, 'leakyrelu_alpha', 0.2) },
    weights: {
      pw_w: b.weight(convWeightsKN(g, pw, pwW.data as Float32Array).w),
      pw_bias: pwBias ? b.weight(pwBias) : -1,
      ...depthwise,
    },
  });
}
