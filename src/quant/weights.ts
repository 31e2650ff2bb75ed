// Annotating a graph for §12: int8 weights (per channel along §5's axis, or per tensor),
// float16 weights, and activation parameters from calibrated ranges (pass-through ops take
// their input's parameters, Softmax its fixed ones).
import { float16ToFloat32, float32ToFloat16 } from '../kernels/float16.js';
import { chooseChannelParams, dequantize, quantize, type LayoutOptions } from '../kernels/quantize.js';
import type { AffineQuantization, Constant, Graph, Node } from '../model/ir.js';
import { PASS_THROUGH_OPS, preactName, SOFTMAX_INT8_PARAMS, WEIGHT_INPUT, type ActivationParams } from './params.js';
import { chooseAsymmetricI8, weightLayout, type WeightKind } from '../kernels/scheme.js';

export type Granularity = 'channel' | 'tensor';

/** The §5 weight kind of a weighted node. */
export function weightKind(n: Node): WeightKind {
  switch (n.op) {
    case 'Conv2D':
      return 'conv2d';
    case 'DepthwiseConv2dNative':
      return 'depthwiseConv2d';
    case 'Conv2DBackpropInput':
      return 'conv2dTranspose';
    default:
      return 'dense';
  }
}

/** §5 channel axis as stored in `affine` (axis, axisCount) for a weight of a node. */
function affineAxis(n: Node, shape: readonly number[]): { axis: number; axisCount?: number; layout: LayoutOptions } {
  const kind = weightKind(n);
  if (kind === 'dense' && n.attrs.transpose_b === true) {
    return { axis: 0, layout: { shape: [1, shape[0]!, shape[1]!], axis: 1 } };
  }
  const l = weightLayout(kind, shape);
  const layout: LayoutOptions = { shape: [l.outer, l.channels, l.inner], axis: 1 };
  if (kind === 'depthwiseConv2d') return { axis: 2, axisCount: 2, layout };
  return { axis: kind === 'dense' ? 1 : kind === 'conv2d' ? 3 : 2, layout };
}

/**
 * §12.1: int8 symmetric narrow-range weights, per output channel (or per tensor); `data`
 * becomes the dequantized values so float execution is the weight-quantized model.
 * Returns false (unchanged) when the constant cannot be quantized (not float32, wrong rank).
 */
export function quantizeWeight(c: Constant, n: Node, granularity: Granularity): boolean {
  if (c.dtype !== 'float32' || !(c.data instanceof Float32Array) || c.quantization?.affine)
    return !!c.quantization?.affine;
  const rank = weightKind(n) === 'dense' ? 2 : 4;
  if (c.shape.length !== rank || c.data.length === 0) return false;
  const x = c.data;
  let scales: Float32Array,
    zeroPoints: Int32Array,
    values: Int8Array,
    axis = -1,
    axisCount: number | undefined;
  if (granularity === 'tensor') {
    const p = chooseChannelParams(x, 'symmetricI8');
    scales = p.scale;
    zeroPoints = p.zeroPoint;
    values = quantize(x, 'int8', { scale: scales[0]!, zeroPoint: 0 }, { narrowRange: true });
    c.data = dequantize(values, { scale: scales[0]!, zeroPoint: 0 });
  } else {
    const a = affineAxis(n, c.shape);
    const p = chooseChannelParams(x, 'symmetricI8', a.layout);
    scales = p.scale;
    zeroPoints = p.zeroPoint;
    values = quantize(x, 'int8', { scale: scales, zeroPoint: zeroPoints }, { ...a.layout, narrowRange: true });
    c.data = dequantize(values, { scale: scales, zeroPoint: zeroPoints }, a.layout);
    axis = a.axis;
    axisCount = a.axisCount;
  }
  const affine: AffineQuantization = {
    dtype: 'int8',
    axis,
    ...(axisCount ? { axisCount } : {}),
    scales,
    zeroPoints,
    values,
    narrowRange: true,
  };
  c.quantization = { ...(c.quantization ?? {}), affine };
  return true;
}

/** Largest int32 bias magnitude a channel may need: half the int32 range, as TFLite keeps it. */
const BIAS_FIT = 0.5 * (2 ** 31 - 1);

/**
 * §12.1: a weight channel whose float bias would not fit in int32 at scale sx · sw[c] (a
 * channel whose weights are all but zero — 1e-7 after batch-norm folding — under a bias of
 * −4: bias / (sx · sw) ≈ −2·10¹¹) gets the larger scale sw[c] = |bias[c]| / (BIAS_FIT · sx),
 * so its bias takes half the int32 range and the accumulation keeps the other half (a clamped
 * bias with negative products added overflows int32 and wraps to a large positive output).
 * Its weights are re-rounded to the new step (all but zero ones become 0, as they were). The
 * rule is TFLite's (AdjustWeightsForBiasScale). `inputScale` is the node's input activation
 * scale; returns the channels changed.
 */
export function fitBiasScale(w: Constant, n: Node, bias: ArrayLike<number>, inputScale: number): number {
  const a = w.quantization?.affine;
  if (!a || a.dtype !== 'int8' || !(a.values instanceof Int8Array) || !(inputScale > 0)) return 0;
  const scales = Float32Array.from(a.scales);
  if (scales.length !== bias.length && scales.length !== 1) return 0;
  let changed = 0;
  for (let c = 0; c < bias.length; c++) {
    const i = scales.length === 1 ? 0 : c;
    const need = Math.abs(bias[c]!) / (BIAS_FIT * inputScale);
    if (Number.isFinite(need) && need > scales[i]!) {
      scales[i] = need;
      changed++;
    }
  }
  if (!changed) return 0;
  const layout = a.axis < 0 ? {} : affineAxis(n, w.shape).layout;
  const zeroPoints = new Int32Array(scales.length);
  const values = quantize(
    w.data as Float32Array,
    'int8',
    { scale: scales, zeroPoint: zeroPoints },
    {
      ...layout,
      narrowRange: true,
    },
  );
  w.data = dequantize(values, { scale: scales, zeroPoint: zeroPoints }, layout);
  w.quantization = { ...w.quantization, affine: { ...a, scales, zeroPoints, values } };
  return changed;
}

/** float16 storage: data rounded through binary16 (§9); saved as float16 by the tfjs format. */
export function float16Weight(c: Constant): boolean {
  if (c.dtype !== 'float32' || !(c.data instanceof Float32Array) || c.data.length === 0) return false;
  c.data = float16ToFloat32(float32ToFloat16(c.data));
  c.quantization = { ...(c.quantization ?? {}), tfjs: { dtype: 'float16' } };
  return true;
}

/** The weight constants of the weighted nodes (Conv2D, DepthwiseConv2dNative, MatMul, Conv2DBackpropInput). */
export function weightedNodes(g: Graph): { node: Node; weight: Constant }[] {
  const out: { node: Node; weight: Constant }[] = [];
  for (const n of g.nodes) {
    const i = WEIGHT_INPUT[n.op];
    if (i === undefined || n.opaque) continue;
    const c = g.constants.get(n.inputs[i]!);
    if (c) out.push({ node: n, weight: c });
  }
  return out;
}

/** §4 asymmetric int8 parameters of a range, as stored in g.metadata.activations. */
export function activationParams(min: number, max: number): ActivationParams {
  const p = chooseAsymmetricI8(min, max);
  return { min, max, scale: p.scale, zeroPoint: p.zeroPoint, dtype: 'int8' };
}

/** Codomains of bounded activations (op names and fused `activation` attrs). */
const BOUNDED: Record<string, [number, number]> = { Sigmoid: [0, 1], sigmoid: [0, 1], Tanh: [-1, 1], tanh: [-1, 1] };

/**
 * g.metadata.activations from calibrated ranges (tensor → [min, max]): every float32 tensor
 * with a range gets §4 parameters, then pass-through ops get their input's parameters and
 * Softmax its fixed ones (§12.3), in graph order so chains of pass-through ops agree.
 */
export function setActivationRanges(g: Graph, ranges: Map<string, [number, number]>): Record<string, ActivationParams> {
  const acts: Record<string, ActivationParams> = {};
  for (const [t, [lo, hi]] of ranges) {
    const info = g.tensors.get(t);
    if (info && info.dtype !== 'float32') continue;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
    acts[t] = activationParams(lo, hi);
  }
  for (const n of g.nodes) {
    const out = n.outputs[0];
    if (out === undefined || !acts[out]) continue;
    // A bounded activation takes its whole codomain: inputs beyond the calibration set would
    // otherwise be clipped at the largest value calibration saw (a sigmoid score seen up to
    // 0.78 cannot say 0.9), and the step 1/255 of [0, 1] costs at most 0.002.
    const bound = BOUNDED[n.op] ?? BOUNDED[String(n.attrs.activation ?? '')];
    if (bound) acts[out] = activationParams(Math.min(bound[0], acts[out]!.min), Math.max(bound[1], acts[out]!.max));
    if (PASS_THROUGH_OPS.includes(n.op) && acts[n.inputs[0]!]) acts[out] = { ...acts[n.inputs[0]!]! };
    if (n.op === 'Softmax') {
      acts[out] = {
        min: 0,
        max: 255 / 256,
        scale: SOFTMAX_INT8_PARAMS.scale,
        zeroPoint: SOFTMAX_INT8_PARAMS.zeroPoint,
        dtype: 'int8',
      };
    }
  }
  g.metadata.activations = acts;
  return acts;
}

export { preactName };
