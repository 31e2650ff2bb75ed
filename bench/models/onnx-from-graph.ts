// A model converted by `tfjs-quant convert --mode int8` written as an ONNX QLinear model with the
// same integers, so that ONNX Runtime can be timed on a published model against our runtime:
// the converter's per-channel int8 weights and the calibrated activation parameters, nothing
// re-quantized. Activations become uint8 (our int8 code + 128, zero point + 128: the same real
// values), the form ORT's quantizer writes and MLAS's fastest U8S8 kernels read.
//
// Written directly as QLinearConv / QLinearAdd / QLinearGlobalAveragePool — what ORT's graph
// optimizer makes of a QDQ model (DequantizeLinear → Conv → QuantizeLinear) when it fuses it —
// so the timing does not depend on whether a fusion fires. A fused ReLU / ReLU6 is the output
// range itself, as in ORT's and TFLite's quantizers (the calibrated range of such an output
// starts at 0; a ReLU6 output ends at 6).
//
// Covers the ops of MobileNet-class classifiers (Conv2D, DepthwiseConv2dNative, AddV2, AvgPool
// over the whole picture, Mean over H and W, Reshape to [N, C], MatMul, Softmax); anything else
// is refused by name. Input: float32 NCHW [N, C, H, W] named 'input'; outputs float32.

import type { Constant, Graph, Node } from '../../src/model/ir.js';
import { activationOf, convPad } from '../../src/model/node-attrs.js';
import { activationTable, quantizationInfo, type ActivationParams } from '../../src/quant/params.js';
import { GraphWriter, valueInfo } from './onnx.js';

interface QTensor {
  /** ONNX tensor name. */
  t: string;
  /** Scale and uint8 zero point initializers. */
  s: string;
  z: string;
  scale: number;
  /** [C, H, W] for 4-D tensors, [C] for 2-D ones. */
  shape: number[];
}

function refuse(n: Node, why: string): never {
  throw new Error(`onnx-from-graph: node '${n.name}' (${n.op}): ${why}`);
}

/** Output padding per spatial side for SAME / VALID / EXPLICIT: [top, left, bottom, right]. */
function pads(n: Node, h: number, w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number) {
  const p = convPad(n);
  if (p === 'valid') return [0, 0, 0, 0];
  if (p !== 'same') return [p[1][0], p[2][0], p[1][1], p[2][1]];
  const total = (size: number, k: number, s: number, d: number) =>
    Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  const th = total(h, kh, sh, dh),
    tw = total(w, kw, sw, dw);
  return [th >> 1, tw >> 1, th - (th >> 1), tw - (tw >> 1)];
}

const outSize = (size: number, k: number, s: number, d: number, p0: number, p1: number) =>
  Math.floor((size + p0 + p1 - (k - 1) * d - 1) / s) + 1;

export interface OnnxExport {
  bytes: Uint8Array;
  /** NHWC shape of the graph input without the batch ([H, W, C]). */
  inputShape: number[];
  macs: number;
}

/** [H, W, C] of the graph's NHWC input, H and W from `inputHw` where the graph leaves them open. */
export function inputHwc(g: Graph, inputHw?: [number, number]): [number, number, number] {
  const ishape = g.inputs[0]?.shape ?? [];
  const [H, W, C] = [ishape[1]! > 0 ? ishape[1]! : inputHw?.[0], ishape[2]! > 0 ? ishape[2]! : inputHw?.[1], ishape[3]];
  if (ishape.length !== 4 || !H || !W || !C || C < 0) throw new Error('onnx-from-graph: the input must be NHWC');
  return [H, W, C];
}

/**
 * The ONNX QLinear form of an int8 graph (quantize mode 'int8', every node quantized) for
 * inputs of spatial size `inputHw` when the graph's input shape leaves it open.
 */
export function onnxFromInt8Graph(g: Graph, inputHw?: [number, number]): OnnxExport {
  const info = quantizationInfo(g);
  if (!info || info.mode !== 'int8') throw new Error('onnx-from-graph: the graph is not an int8 conversion');
  if (info.floatNodes.length) throw new Error(`onnx-from-graph: float nodes ${info.floatNodes.join(', ')}`);
  if (g.inputs.length !== 1 || g.outputs.length !== 1) throw new Error('onnx-from-graph: one input and one output');
  const acts = activationTable(g);
  const w = new GraphWriter(1);
  const params = new Map<string, { s: string; z: string }>();
  const act = (tensor: string, n?: Node): ActivationParams => {
    const a = acts[tensor];
    if (!a) throw new Error(`onnx-from-graph: tensor '${tensor}'${n ? ` of '${n.name}'` : ''} has no int8 parameters`);
    return a;
  };
  const q = (tensor: string, t: string, shape: number[], n?: Node): QTensor => {
    const a = act(tensor, n);
    const key = `${a.scale}/${a.zeroPoint}`;
    let p = params.get(key);
    if (!p) {
      p = { s: w.scalarF(a.scale), z: w.scalarU8(a.zeroPoint + 128) };
      params.set(key, p);
    }
    return { t, ...p, scale: a.scale, shape };
  };
  const constant = (name: string, n: Node): Constant => {
    const c = g.constants.get(name);
    if (!c) refuse(n, `input '${name}' is not a constant`);
    return c;
  };

  const input = g.inputs[0]!;
  const [H, W, C] = inputHwc(g, inputHw);
  const tensors = new Map<string, QTensor>();
  const inQ = q(input.name, '', [C, H, W]);
  tensors.set(input.name, { ...inQ, t: w.node('QuantizeLinear', ['input', inQ.s, inQ.z]) });
  let macs = 0;
  const get = (name: string, n: Node) => tensors.get(name) ?? refuse(n, `input '${name}' was not written`);

  for (const n of g.nodes) {
    const out = n.outputs[0]!;
    if (n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative' || n.op === 'MatMul') {
      const x = get(n.inputs[0]!, n);
      const filter = constant(n.inputs[1]!, n);
      const aff = filter.quantization?.affine;
      if (!aff || aff.dtype !== 'int8' || !aff.values) refuse(n, 'the weights are not int8');
      if (aff.zeroPoints.some((z) => z !== 0)) refuse(n, 'asymmetric weights');
      const a = activationOf(n);
      if (a !== 'none' && a !== 'relu' && a !== 'relu6') refuse(n, `fused activation ${a}`);
      if (n.inputs[3]) refuse(n, 'a PReLU alpha');
      const dw = n.op === 'DepthwiseConv2dNative',
        mm = n.op === 'MatMul';
      if (mm && (n.attrs.transpose_a || n.attrs.transpose_b)) refuse(n, 'transposed operands');
      // Filter as [cout, cin / group, kh, kw] from TF's [kh, kw, cin, cout] (depthwise: [kh, kw, cin, m]; MatMul: [cin, cout]).
      const fs = mm ? [1, 1, ...filter.shape] : filter.shape;
      const [kh, kw, cin, last] = fs as [number, number, number, number];
      const cout = dw ? cin * last : last;
      if (x.shape[0] !== cin) refuse(n, `input has ${x.shape[0]} channels, the filter ${cin}`);
      const per = dw ? kh * kw : kh * kw * cin;
      const wt = new Int8Array(cout * per);
      const v = aff.values as Int8Array;
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let c = 0; c < cin; c++)
            for (let o = 0; o < last; o++) {
              const src = ((i * kw + j) * cin + c) * last + o;
              wt[dw ? (c * last + o) * per + i * kw + j : ((o * cin + c) * kh + i) * kw + j] = v[src]!;
            }
      const scales = aff.scales.length === 1 ? new Float32Array(cout).fill(aff.scales[0]!) : aff.scales;
      if (scales.length !== cout) refuse(n, `${scales.length} weight scales for ${cout} channels`);
      const biasC = n.inputs[2] ? constant(n.inputs[2], n) : undefined;
      const bias = Int32Array.from({ length: cout }, (_, o) =>
        biasC ? Math.round((biasC.data as Float32Array)[o]! / (x.scale * scales[o]!)) : 0,
      );
      const sd = mm ? [1, 1, 1, 1] : ((n.attrs.strides as number[] | undefined) ?? [1, 1, 1, 1]);
      const dd = mm ? [1, 1, 1, 1] : ((n.attrs.dilations as number[] | undefined) ?? [1, 1, 1, 1]);
      const [h, wd] = mm ? [1, 1] : [x.shape[1]!, x.shape[2]!];
      const p = mm ? [0, 0, 0, 0] : pads(n, h, wd, kh, kw, sd[1]!, sd[2]!, dd[1]!, dd[2]!);
      const oh = outSize(h, kh, sd[1]!, dd[1]!, p[0]!, p[2]!),
        ow = outSize(wd, kw, sd[2]!, dd[2]!, p[1]!, p[3]!);
      macs += oh * ow * cout * per;
      // A [N, C] tensor goes through the convolution as [N, C, 1, 1].
      const xin = mm
        ? w.node('Reshape', [x.t, w.init('shape', 'int64', [4], BigInt64Array.of(-1n, BigInt(cin), 1n, 1n))])
        : x.t;
      const o = q(out, '', mm ? [cout] : [cout, oh, ow], n);
      let y = w.node(
        'QLinearConv',
        [
          xin,
          x.s,
          x.z,
          w.init('w', 'int8', [cout, dw ? 1 : cin, kh, kw], wt),
          w.init('ws', 'float', [cout], Float32Array.from(scales)),
          w.init('wz', 'int8', [cout], new Int8Array(cout)),
          o.s,
          o.z,
          w.init('b', 'int32', [cout], bias),
        ],
        {
          kernel_shape: [kh, kw],
          strides: [sd[1]!, sd[2]!],
          dilations: [dd[1]!, dd[2]!],
          pads: p,
          group: dw ? cin : 1,
        },
      );
      if (mm) y = w.node('Flatten', [y], { axis: 1 });
      tensors.set(out, { ...o, t: y });
    } else if (n.op === 'AddV2' || n.op === 'Add') {
      const a = get(n.inputs[0]!, n),
        b = get(n.inputs[1]!, n);
      if (a.shape.join() !== b.shape.join()) refuse(n, 'broadcasting');
      const o = q(out, '', a.shape, n);
      tensors.set(out, {
        ...o,
        t: w.node('QLinearAdd', [a.t, a.s, a.z, b.t, b.s, b.z, o.s, o.z], {}, 'com.microsoft'),
      });
    } else if (n.op === 'AvgPool' || n.op === 'Mean') {
      const x = get(n.inputs[0]!, n);
      const whole =
        n.op === 'Mean'
          ? (constant(n.inputs[1]!, n).data as Int32Array).join() === '1,2'
          : (n.attrs.ksize as number[]).join() === `1,${x.shape[1]},${x.shape[2]},1` && n.attrs.padding === 'VALID';
      if (!whole) refuse(n, 'only the average over the whole picture');
      const keep = n.op === 'AvgPool' || n.attrs.keep_dims === true;
      const o = q(out, '', keep ? [x.shape[0]!, 1, 1] : [x.shape[0]!], n);
      let y = w.node('QLinearGlobalAveragePool', [x.t, x.s, x.z, o.s, o.z], { channels_last: 0 }, 'com.microsoft');
      if (!keep) y = w.node('Flatten', [y], { axis: 1 });
      tensors.set(out, { ...o, t: y });
    } else if (n.op === 'Reshape') {
      const x = get(n.inputs[0]!, n);
      // Only [N, C, 1, 1] → [N, C]: then NHWC and NCHW orders agree.
      if (x.shape.length !== 3 || x.shape[1] !== 1 || x.shape[2] !== 1) refuse(n, 'only a flatten of a 1 × 1 picture');
      tensors.set(out, { ...x, t: w.node('Flatten', [x.t], { axis: 1 }), shape: [x.shape[0]!] });
    } else if (n.op === 'Softmax') {
      const x = get(n.inputs[0]!, n);
      const f = w.node('DequantizeLinear', [x.t, x.s, x.z]);
      tensors.set(out, { ...x, t: w.node('Softmax', [f], { axis: 1 }), s: '', z: '' });
    } else {
      refuse(n, 'op not covered');
    }
  }
  const last = tensors.get(g.outputs[0]!)!;
  const y = last.s ? w.node('DequantizeLinear', [last.t, last.s, last.z]) : last.t;
  return {
    bytes: w.model(valueInfo('input', 'float', ['N', C, H, W]), valueInfo(y, 'float', ['N', ...last.shape]), g.name),
    inputShape: [H, W, C],
    macs,
  };
}
