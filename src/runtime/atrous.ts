// Atrous (dilated) convolutions as TensorFlow writes them into graphs — SpaceToBatchND, a
// VALID stride-1 Conv2D / DepthwiseConv2dNative on the d×d sub-images, BatchToSpaceND — and
// the zero Pad often in front, planned as the one dilated convolution with explicit padding
// they compute. The native kernels take dilation; the two reshuffles have no native kernel, so
// unfused each costs a tfjs segment and a copy of the tensor through JavaScript (about 15 ms a
// block on a video-matting model's MobileNetV3 encoder, more than its convolutions).
//
// Done on the planning copy of the graph, not by the converter: models converted before keep
// their files, and the quantization parameters of the tensors the fused node reads and writes
// (the Pad's input, the BatchToSpaceND's output) are the ones calibration recorded.
//
// Why it is exact: SpaceToBatchND pads x by p and splits it into the d×d phases
// x_p[n, y·d + i, x·d + j]; a VALID stride-1 convolution of each phase, put back by
// BatchToSpaceND and cropped by c, is out[n, Y, X] = Σ w[ky, kx] · x_p[n, Y + c_top + ky·d,
// X + c_left + kx·d]: a convolution of x with dilation d and padding p − c on each side.
import type { Graph, Node } from '../model/ir.js';
import { attrInts, attrStr } from '../model/node-attrs.js';
import { readersOf, spatialPad, type NodeFusion } from './node-fusions.js';

/**
 * An atrous convolution: `replaced` holds the Pad when folded, SpaceToBatchND, the convolution
 * and BatchToSpaceND; `fused` is the dilated convolution (the convolution's name and weights).
 */
export type AtrousConvolution = NodeFusion;

const ints = (g: Graph, t: string | undefined): number[] | undefined => {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'int32' ? Array.from(c.data as Int32Array) : undefined;
};

/**
 * The atrous convolutions of g (the planning graph: shape computations already folded to
 * constants), outside `skip` (control-flow region nodes, run raw). `usable(input, output)`
 * says whether the fused node may read and write those tensors (int8: both have parameters).
 * Activations other than none / relu / relu6 are left alone: the int8 path names the
 * pre-activation tensor after the convolution's own output.
 */
export function atrousConvolutions(
  g: Graph,
  skip: ReadonlySet<string>,
  usable: (conv: Node, input: string, output: string) => boolean,
): AtrousConvolution[] {
  const readers = readersOf(g);
  const outputs = new Set(g.outputs);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  // The only reader of a node's only output, when that output is no graph output.
  const soleReader = (n: Node): Node | undefined => {
    if (n.outputs.length !== 1 || outputs.has(n.outputs[0]!)) return undefined;
    const r = readers.get(n.outputs[0]!) ?? [];
    return r.length === 1 && !skip.has(r[0]!.name) ? r[0] : undefined;
  };
  const found: AtrousConvolution[] = [];
  for (const stb of g.nodes) {
    if (stb.op !== 'SpaceToBatchND' || skip.has(stb.name)) continue;
    const block = ints(g, stb.inputs[1]);
    const pads = ints(g, stb.inputs[2]);
    if (!block || block.length !== 2 || block.some((d) => d < 1) || !pads || pads.length !== 4) continue;
    if (pads.some((p) => p < 0)) continue;
    const conv = soleReader(stb);
    if (!conv || conv.opaque || (conv.op !== 'Conv2D' && conv.op !== 'DepthwiseConv2dNative')) continue;
    if (conv.inputs[0] !== stb.outputs[0] || conv.inputs.slice(1).includes(stb.outputs[0]!)) continue;
    if (attrStr(conv, 'data_format', 'NHWC').toUpperCase() !== 'NHWC') continue;
    if (attrStr(conv, 'padding').toUpperCase() !== 'VALID') continue;
    if (attrInts(conv, 'strides', [1, 1, 1, 1]).some((s) => s !== 1)) continue;
    if (attrInts(conv, 'dilations', [1, 1, 1, 1]).some((s) => s !== 1)) continue;
    if (!['none', 'relu', 'relu6'].includes((conv.attrs.activation as string | undefined) ?? 'none')) continue;
    const bts = soleReader(conv);
    if (!bts || bts.op !== 'BatchToSpaceND' || bts.inputs[0] !== conv.outputs[0]) continue;
    const block2 = ints(g, bts.inputs[1]);
    const crops = ints(g, bts.inputs[2]);
    if (!block2 || block2.join() !== block.join() || !crops || crops.length !== 4) continue;
    // Explicit padding of the dilated convolution: the phases' padding less the crop.
    const explicit = pads.map((p, i) => p - crops[i]!);
    if (crops.some((c) => c < 0) || explicit.some((p) => p < 0)) continue;
    // A zero Pad of the spatial dimensions read only by the SpaceToBatchND joins the padding.
    let input = stb.inputs[0]!;
    const replaced = [stb, conv, bts];
    const pad = producer.get(input);
    // Only a pad by zeros adds to a convolution's padding.
    const spatial = pad ? spatialPad(g, pad) : undefined;
    const padBy = spatial?.value === 0 ? spatial.pads : undefined;
    if (pad && padBy && soleReader(pad) === stb && usable(conv, pad.inputs[0]!, bts.outputs[0]!)) {
      padBy.forEach((p, i) => (explicit[i] = explicit[i]! + p));
      input = pad.inputs[0]!;
      replaced.unshift(pad);
    }
    if (!usable(conv, input, bts.outputs[0]!)) continue;
    const [pt, pb, pl, pr] = explicit as [number, number, number, number];
    const fused: Node = {
      ...conv,
      inputs: [input, ...conv.inputs.slice(1)],
      outputs: [bts.outputs[0]!],
      attrs: {
        ...conv.attrs,
        padding: 'EXPLICIT',
        explicit_paddings: [0, 0, pt, pb, pl, pr, 0, 0],
        dilations: [1, block[0]!, block[1]!, 1],
      },
    };
    found.push({ replaced, fused });
  }
  return found;
}
