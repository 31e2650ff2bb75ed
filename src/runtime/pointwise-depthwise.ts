// A 1 × 1 convolution whose only reader is a depthwise convolution (multiplier 1) runs as one
// step with it (native/runtime/steps/pointwise_depthwise.cc): both native float (pw_dw_f32),
// both native int8 (pw_dw_i8), or a dynamic convolution quantizing its input per row into a
// float depthwise one (pw_dw_dyn, the dynamic mode's inverted residual blocks). The widened
// tensor between them — an inverted residual block's expansion, 16–32 channels to 64–192 at
// 112² and more — then lives as a band of rows in cache instead of megabytes written to memory
// and read back, which made those layers memory-bound (a 112² 24 → 144 float expansion ran at
// 35 GMAC/s where the same layer at 28² ran at 60), and the pair is one parallel region
// instead of two. Per-tensor dynamic quantization is left alone: its range is the whole
// tensor's, which a band does not have.
//
// Done on the planning copy after placement, like the other fusions (fusion.ts): the fused node
// takes the depthwise node's name and placement and names both nodes in its attributes; the
// step runs their own kernels, so the output is theirs bit for bit.
import type { Graph, Node } from '../model/ir.js';
import type { PlanShapes } from '../model/shape-inference.js';
import { attrStr } from '../model/node-attrs.js';
import { weightOf } from '../quant/params.js';
import { chains, type Fusion } from './fusion.js';
import { isDirect, windowGeometry } from './geometry.js';
import type { PlannedNode } from './placement.js';

/**
 * The op of a fused node (emit-float.ts runs it as pw_dw_f32 or, with attribute `dynamic`,
 * pw_dw_dyn; emit-int8.ts as pw_dw_i8); attrs: pointwise, depthwise (node names), dynamic.
 */
export const POINTWISE_DEPTHWISE_OP = '_PointwiseDepthwise';

/** The pointwise and depthwise nodes a fused node (POINTWISE_DEPTHWISE_OP) names. */
export function fusedPair(g: Graph, n: Node): { pw: Node; dw: Node } {
  const node = (name: unknown): Node => {
    const m = g.nodes.find((k) => k.name === name);
    if (!m) throw new Error(`internal: fused node '${n.name}' names '${String(name)}', which is not in the graph`);
    return m;
  };
  return { pw: node(n.attrs.pointwise), dw: node(n.attrs.depthwise) };
}

/**
 * Activations the step applies: the pointwise one as the GEMM stores (float: a leaky ReLU too;
 * int8: the output bounds), the depthwise one as its clamp. Others take a pass (a lookup table
 * in int8) of their own.
 */
const CLAMP_ACTS = new Set(['none', 'relu', 'relu6']);
const POINTWISE_ACTS = {
  'native-float': new Set([...CLAMP_ACTS, 'leakyrelu']),
  'native-int8': CLAMP_ACTS,
  'native-dynamic': CLAMP_ACTS,
};
/** The placements whose pairs fuse. */
type Placement = keyof typeof POINTWISE_ACTS;

const activation = (n: Node): string => (n.attrs.activation as string | undefined) ?? 'none';

/** The shape of n's rank-4 weight as its placement runs it (float32 data; int8 values), or undefined. */
function weightShape(g: Graph, n: Node, placement: Placement): number[] | undefined {
  const int8 = placement !== 'native-float';
  const c = int8 ? weightOf(g, n) : g.constants.get(n.inputs[1]!);
  if (!c || c.shape.length !== 4) return undefined;
  return int8 || (c.dtype === 'float32' && c.data instanceof Float32Array) ? c.shape : undefined;
}

/** NHWC (the attribute absent or NHWC). */
const nhwc = (n: Node): boolean => n.attrs.data_format === undefined || attrStr(n, 'data_format') === 'NHWC';

/**
 * The pointwise → depthwise pairs of `order` (execution order; `decided` the placements, same
 * indices) that run as one step: both native float, both native int8, or native dynamic (per
 * row: `perRow`) into native float; NHWC; the convolution 1 × 1, stride 1, unpadded, with an
 * activation the step applies; the depthwise convolution its only reader (chains), multiplier 1,
 * linear / ReLU / ReLU6.
 */
export function pointwiseDepthwise(
  g: Graph,
  shapes: PlanShapes,
  order: readonly Node[],
  decided: readonly PlannedNode[],
  perRow: boolean,
): Fusion[] {
  const pairs: { pointwise: Placement; depthwise: Placement }[] = [
    { pointwise: 'native-float', depthwise: 'native-float' },
    { pointwise: 'native-int8', depthwise: 'native-int8' },
    ...(perRow ? [{ pointwise: 'native-dynamic', depthwise: 'native-float' } as const] : []),
  ];
  const kinds = pairs.map((k) => ({ ...k, ...chains(order, decided, g.outputs, k.pointwise, k.depthwise) }));
  const found: Fusion[] = [];
  for (const pw of order) {
    const kind = kinds.find((k) => k.members.has(pw.name));
    if (!kind || pw.op !== 'Conv2D' || pw.opaque || !nhwc(pw) || pw.inputs.length > 3) continue;
    if (!POINTWISE_ACTS[kind.pointwise].has(activation(pw))) continue;
    const pws = weightShape(g, pw, kind.pointwise);
    const xs = shapes.get(pw.inputs[0]!)?.shape;
    if (!pws || pws[0] !== 1 || pws[1] !== 1 || !xs || xs.length !== 4) continue;
    if (!isDirect(windowGeometry(pw, xs, [1, 1], false))) continue;
    const dw = kind.next(pw);
    if (!dw || dw.op !== 'DepthwiseConv2dNative' || dw.opaque || !nhwc(dw) || dw.inputs.length > 3) continue;
    if (dw.inputs[0] !== pw.outputs[0] || !CLAMP_ACTS.has(activation(dw))) continue;
    const dws = weightShape(g, dw, kind.depthwise);
    if (!dws || dws[2] !== pws[3] || dws[3] !== 1) continue;
    found.push({
      replaced: [pw, dw],
      fused: {
        name: dw.name,
        op: POINTWISE_DEPTHWISE_OP,
        inputs: [pw.inputs[0]!, ...pw.inputs.slice(1), ...dw.inputs.slice(1)],
        outputs: [...dw.outputs],
        attrs: { pointwise: pw.name, depthwise: dw.name, dynamic: kind.pointwise === 'native-dynamic' },
      },
    });
  }
  return found;
}
