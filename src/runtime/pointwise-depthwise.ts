// A float 1 × 1 convolution whose only reader is a float depthwise convolution (multiplier 1),
// both native, runs as one step (pw_dw_f32, native/runtime/steps/pointwise_depthwise.cc): the
// widened tensor between them — an inverted residual block's expansion, 16–32 channels to
// 64–192 at 112² and more — then lives as a band of rows in cache instead of megabytes written
// to memory and read back, which made those layers memory-bound (a 112² 24 → 144 expansion ran
// at 35 GMAC/s where the same layer at 28² ran at 60).
//
// Done on the planning copy after placement, like the other fusions (fusion.ts): the fused node
// takes the depthwise node's name and placement and names both nodes in its attributes; the
// step runs their own kernels, so the output is theirs bit for bit.
import type { Graph, Node } from '../model/ir.js';
import type { PlanShapes } from '../model/shape-inference.js';
import { attrStr } from '../model/node-attrs.js';
import { floatChains, type Fusion } from './fusion.js';
import { isDirect, windowGeometry } from './geometry.js';
import type { PlannedNode } from './placement.js';

/** The op of a fused node (emit-float.ts runs it as pw_dw_f32); attrs: pointwise, depthwise (node names). */
export const POINTWISE_DEPTHWISE_OP = '_PointwiseDepthwise';

/** Activations the step applies: the pointwise one as the GEMM stores, the depthwise one as its clamp. */
const POINTWISE_ACTS = new Set(['none', 'relu', 'relu6', 'leakyrelu']);
const DEPTHWISE_ACTS = new Set(['none', 'relu', 'relu6']);

const activation = (n: Node): string => (n.attrs.activation as string | undefined) ?? 'none';

/** A float constant of the given rank, or undefined. */
function floatWeight(g: Graph, t: string | undefined, rank: number): number[] | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'float32' && c.data instanceof Float32Array && c.shape.length === rank ? c.shape : undefined;
}

/** NHWC (the attribute absent or NHWC). */
const nhwc = (n: Node): boolean => n.attrs.data_format === undefined || attrStr(n, 'data_format') === 'NHWC';

/**
 * The pointwise → depthwise pairs of `order` (execution order; `decided` the placements, same
 * indices) that run as one step: both native float and NHWC; the convolution 1 × 1, stride 1,
 * unpadded, on float weights, with an activation the GEMM applies; the depthwise convolution
 * its only reader (floatChains), multiplier 1, on float weights, linear / ReLU / ReLU6.
 */
export function pointwiseDepthwise(
  g: Graph,
  shapes: PlanShapes,
  order: readonly Node[],
  decided: readonly PlannedNode[],
): Fusion[] {
  const { floatNative, next } = floatChains(order, decided, g.outputs);
  const found: Fusion[] = [];
  for (const pw of order) {
    if (pw.op !== 'Conv2D' || pw.opaque || !floatNative.has(pw.name) || !nhwc(pw) || pw.inputs.length > 3) continue;
    if (!POINTWISE_ACTS.has(activation(pw))) continue;
    const pws = floatWeight(g, pw.inputs[1], 4);
    const xs = shapes.get(pw.inputs[0]!)?.shape;
    if (!pws || pws[0] !== 1 || pws[1] !== 1 || !xs || xs.length !== 4) continue;
    if (!isDirect(windowGeometry(pw, xs, [1, 1], false))) continue;
    const dw = next(pw);
    if (!dw || dw.op !== 'DepthwiseConv2dNative' || dw.opaque || !nhwc(dw) || dw.inputs.length > 3) continue;
    if (dw.inputs[0] !== pw.outputs[0] || !DEPTHWISE_ACTS.has(activation(dw))) continue;
    const dws = floatWeight(g, dw.inputs[1], 4);
    if (!dws || dws[2] !== pws[3] || dws[3] !== 1) continue;
    found.push({
      replaced: [pw, dw],
      fused: {
        name: dw.name,
        op: POINTWISE_DEPTHWISE_OP,
        inputs: [pw.inputs[0]!, ...pw.inputs.slice(1), ...dw.inputs.slice(1)],
        outputs: [...dw.outputs],
        attrs: { pointwise: pw.name, depthwise: dw.name },
      },
    });
  }
  return found;
}
