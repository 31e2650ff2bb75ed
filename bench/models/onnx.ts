// The MobileNetV2-style graph of models.ts written as ONNX models, so that ONNX Runtime (the
// peer the speed targets are stated against) can be timed on the same machine, in the same run:
//   - int8: QuantizeLinear → QLinearConv (uint8 activations, per-channel int8 weights; ReLU6
//     folded into the output range [0, 6] as TFLite and ORT's quantizer do) → QLinearAdd on
//     residuals → QLinearGlobalAveragePool → QLinearMatMul → DequantizeLinear → Softmax,
//     the "QLinearConv, per-channel weights" model of the issue;
//   - float32: Conv + Clip(0, 6), Add, GlobalAveragePool, Gemm, Softmax (batch norm folded).
// Same layer shapes, strides and channel counts as mobileNetV2(224, 1, 1000); the weights are
// random (seeded): timing does not depend on their values. A minimal protobuf writer (the
// ONNX field numbers of onnx.proto) keeps this free of dependencies.

import { MOBILENET_V2_BLOCKS } from './mobilenet-v2-blocks.js';

// ---------------------------------------------------------------- protobuf

class Pb {
  private parts: number[] = [];
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  int(field: number, v: number | bigint): this {
    this.varint((field << 3) | 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }
  bytes(field: number, v: Uint8Array | string | Pb): this {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Pb ? v.finish() : v;
    this.varint((field << 3) | 2);
    this.varint(b.length);
    for (let i = 0; i < b.length; i += 65536) this.parts.push(...b.subarray(i, i + 65536));
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const DT = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 } as const;
type DType = keyof typeof DT;

function tensor(name: string, dtype: DType, dims: number[], raw: ArrayBufferView): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, DT[dtype])
    .bytes(8, name)
    .bytes(9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
  return t;
}

type Attr = number | number[] | string;
function attribute(name: string, v: Attr): Pb {
  const a = new Pb().bytes(1, name);
  if (typeof v === 'string') return a.bytes(4, v).int(20, 3);
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    return a.int(20, 7);
  }
  return a.int(3, v).int(20, 2);
}

export function valueInfo(name: string, dtype: DType, dims: (number | string)[]): Pb {
  const shape = new Pb();
  for (const d of dims) shape.bytes(1, typeof d === 'string' ? new Pb().bytes(2, d) : new Pb().int(1, d));
  return new Pb().bytes(1, name).bytes(2, new Pb().bytes(1, new Pb().int(1, DT[dtype]).bytes(2, shape)));
}

export class GraphWriter {
  private nodes: Pb[] = [];
  private inits: Pb[] = [];
  private n = 0;
  private rnd: () => number;
  constructor(seed: number) {
    let s = seed >>> 0;
    this.rnd = () => {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  name(p: string): string {
    return `${p}_${this.n++}`;
  }
  init(p: string, dtype: DType, dims: number[], raw: ArrayBufferView): string {
    const name = this.name(p);
    this.inits.push(tensor(name, dtype, dims, raw));
    return name;
  }
  scalarF(v: number): string {
    return this.init('s', 'float', [], Float32Array.of(v));
  }
  scalarU8(v: number): string {
    return this.init('zp', 'uint8', [], Uint8Array.of(v));
  }
  randI8(n: number): Int8Array {
    return Int8Array.from({ length: n }, () => Math.round((this.rnd() * 2 - 1) * 127));
  }
  randF(n: number, scale: number): Float32Array {
    return Float32Array.from({ length: n }, () => (this.rnd() * 2 - 1) * scale);
  }
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, domain = ''): string {
    const out = this.name(op);
    const nd = new Pb();
    for (const i of inputs) nd.bytes(1, i);
    nd.bytes(2, out).bytes(3, out).bytes(4, op);
    for (const [k, v] of Object.entries(attrs)) nd.bytes(5, attribute(k, v));
    if (domain) nd.bytes(7, domain);
    this.nodes.push(nd);
    return out;
  }
  model(input: Pb, output: Pb, name = 'mobilenetv2'): Uint8Array {
    const g = new Pb();
    for (const nd of this.nodes) g.bytes(1, nd);
    g.bytes(2, name);
    for (const t of this.inits) g.bytes(5, t);
    g.bytes(11, input).bytes(12, output);
    return new Pb()
      .int(1, 8) // ir_version
      .bytes(2, 'tfjs-quant bench')
      .bytes(8, new Pb().bytes(1, '').int(2, 17)) // opset ai.onnx 17
      .bytes(8, new Pb().bytes(1, 'com.microsoft').int(2, 1))
      .bytes(7, g)
      .finish();
  }
}

interface Layer {
  kind: 'conv' | 'dw';
  cin: number;
  cout: number;
  k: number;
  stride: number;
  relu6: boolean;
  residualFrom?: number;
}

/** The layer list of mobileNetV2(224, 1, 1000) in models.ts (width 1). */
function layers(): { list: Layer[]; head: number; classes: number } {
  const list: Layer[] = [{ kind: 'conv', cin: 3, cout: 32, k: 3, stride: 2, relu6: true }];
  let inC = 32;
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const blockInput = list.length - 1; // index of the layer producing the block input
      if (t !== 1) list.push({ kind: 'conv', cin: inC, cout: inC * t, k: 1, stride: 1, relu6: true });
      list.push({ kind: 'dw', cin: inC * t, cout: inC * t, k: 3, stride, relu6: true });
      list.push({
        kind: 'conv',
        cin: inC * t,
        cout: c,
        k: 1,
        stride: 1,
        relu6: false,
        residualFrom: stride === 1 && inC === c ? blockInput : undefined,
      });
      inC = c;
    }
  }
  list.push({ kind: 'conv', cin: 320, cout: 1280, k: 1, stride: 1, relu6: true });
  return { list, head: 1280, classes: 1000 };
}

/** Multiply-accumulates per image of the layer list (for a sanity check against models.ts). */
export function onnxMobileNetV2Macs(): number {
  const { list, head, classes } = layers();
  let hw = 224,
    macs = 0;
  for (const l of list) {
    hw = Math.ceil(hw / l.stride);
    macs += hw * hw * l.cout * (l.kind === 'dw' ? l.k * l.k : l.k * l.k * l.cin);
  }
  return macs + head * classes;
}

const pads = (k: number) => [k >> 1, k >> 1, k >> 1, k >> 1];

/**
 * int8 QLinear model: input float32 [N, 3, 224, 224] (NCHW), output float32 [N, 1000].
 * weights 'int8': symmetric int8 weights (ORT's U8S8 kernels); 'uint8': the same values + 128
 * as uint8 with zero point 128 (ORT's U8U8 kernels, which widen to 16 bits on AVX2 and are
 * exact, like ours).
 */
export function onnxMobileNetV2Int8(seed = 21, weights: 'int8' | 'uint8' = 'int8'): Uint8Array {
  const w = new GraphWriter(seed);
  const { list, head, classes } = layers();
  const relu = { s: w.scalarF(6 / 255), z: w.scalarU8(0) }; // ReLU6 outputs: [0, 6]
  const lin = { s: w.scalarF(0.05), z: w.scalarU8(128) }; // linear (project) outputs
  const inQ = { s: w.scalarF(2 / 255), z: w.scalarU8(128) };
  let x = w.node('QuantizeLinear', ['input', inQ.s, inQ.z]);
  let q = inQ;
  const outs: { t: string; q: typeof q }[] = [];
  for (const l of list) {
    const kk = l.kind === 'dw' ? l.k * l.k : l.k * l.k * l.cin;
    const wdims = [l.cout, l.kind === 'dw' ? 1 : l.cin, l.k, l.k];
    const wt =
      weights === 'int8'
        ? w.init('w', 'int8', wdims, w.randI8(l.cout * kk))
        : w.init(
            'w',
            'uint8',
            wdims,
            Uint8Array.from(w.randI8(l.cout * kk), (v) => v + 128),
          );
    const ws = w.init(
      'ws',
      'float',
      [l.cout],
      Float32Array.from({ length: l.cout }, () => 0.02 / Math.sqrt(kk)),
    );
    const wz =
      weights === 'int8'
        ? w.init('wz', 'int8', [l.cout], new Int8Array(l.cout))
        : w.init('wz', 'uint8', [l.cout], new Uint8Array(l.cout).fill(128));
    const bias = w.init(
      'b',
      'int32',
      [l.cout],
      Int32Array.from({ length: l.cout }, (_, i) => (i % 7) * 100 - 300),
    );
    const oq = l.relu6 ? relu : lin;
    let y = w.node('QLinearConv', [x, q.s, q.z, wt, ws, wz, oq.s, oq.z, bias], {
      kernel_shape: [l.k, l.k],
      strides: [l.stride, l.stride],
      pads: pads(l.k),
      group: l.kind === 'dw' ? l.cin : 1,
    });
    if (l.residualFrom !== undefined) {
      const r = outs[l.residualFrom]!;
      y = w.node('QLinearAdd', [y, oq.s, oq.z, r.t, r.q.s, r.q.z, lin.s, lin.z], {}, 'com.microsoft');
    }
    outs.push({ t: y, q: oq });
    x = y;
    q = oq;
  }
  const gap = w.node('QLinearGlobalAveragePool', [x, q.s, q.z, relu.s, relu.z], { channels_last: 0 }, 'com.microsoft');
  const flat = w.node('Flatten', [gap], { axis: 1 });
  const fcw =
    weights === 'int8'
      ? w.init('fcw', 'int8', [head, classes], w.randI8(head * classes))
      : w.init(
          'fcw',
          'uint8',
          [head, classes],
          Uint8Array.from(w.randI8(head * classes), (v) => v + 128),
        );
  const logitQ = { s: w.scalarF(0.1), z: w.scalarU8(128) };
  const fc = w.node('QLinearMatMul', [
    flat,
    relu.s,
    relu.z,
    fcw,
    w.scalarF(0.002),
    weights === 'int8' ? w.init('fcz', 'int8', [], Int8Array.of(0)) : w.scalarU8(128),
    logitQ.s,
    logitQ.z,
  ]);
  const logits = w.node('DequantizeLinear', [fc, logitQ.s, logitQ.z]);
  const out = w.node('Softmax', [logits], { axis: 1 });
  return w.model(valueInfo('input', 'float', ['N', 3, 224, 224]), valueInfo(out, 'float', ['N', classes]));
}

/** float32 model: Conv (BN folded) + Clip(0, 6), Add, GlobalAveragePool, Gemm, Softmax. */
export function onnxMobileNetV2Float(seed = 22): Uint8Array {
  const w = new GraphWriter(seed);
  const { list, head, classes } = layers();
  const lo = w.scalarF(0),
    hi = w.scalarF(6);
  let x = 'input';
  const outs: string[] = [];
  for (const l of list) {
    const kk = l.kind === 'dw' ? l.k * l.k : l.k * l.k * l.cin;
    const wt = w.init(
      'w',
      'float',
      [l.cout, l.kind === 'dw' ? 1 : l.cin, l.k, l.k],
      w.randF(l.cout * kk, Math.sqrt(3 / kk)),
    );
    const bias = w.init('b', 'float', [l.cout], w.randF(l.cout, 0.1));
    let y = w.node('Conv', [x, wt, bias], {
      kernel_shape: [l.k, l.k],
      strides: [l.stride, l.stride],
      pads: pads(l.k),
      group: l.kind === 'dw' ? l.cin : 1,
    });
    if (l.relu6) y = w.node('Clip', [y, lo, hi]);
    if (l.residualFrom !== undefined) y = w.node('Add', [y, outs[l.residualFrom]!]);
    outs.push(y);
    x = y;
  }
  const gap = w.node('GlobalAveragePool', [x]);
  const flat = w.node('Flatten', [gap], { axis: 1 });
  const fc = w.node('Gemm', [
    flat,
    w.init('fcw', 'float', [head, classes], w.randF(head * classes, Math.sqrt(3 / head))),
    w.init('fcb', 'float', [classes], w.randF(classes, 0.1)),
  ]);
  const out = w.node('Softmax', [fc], { axis: 1 });
  return w.model(valueInfo('input', 'float', ['N', 3, 224, 224]), valueInfo(out, 'float', ['N', classes]));
}
