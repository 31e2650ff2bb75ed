// An independent reference execution of int8 quantized graphs (docs/quantization.md §12),
// written from the document alone: direct convolution loops (no im2col, no packing), the §6
// accumulator, the §7 epilogue, §11.4–§11.7 pooling, elementwise, softmax and data movement,
// all in plain TypeScript on the §2/§3 primitives of src/quant/scheme.ts. It shares no code
// with the native kernels, src/kernels or src/quant/simulate.ts, so a bug shared by those
// (or by the runtime's planner) cannot cancel out in a comparison. Slow; for small graphs.
//
// Which node runs int8 is §12.2's rule, taken from planExecution (the rule, not an
// implementation of an op); float nodes run through tfjs (the float reference). Ops outside the
// set below are reported by `unsupportedInt8Ops` so a test can choose graphs up front.
import { tf } from '../../src/backend/float.js';
import { constantTensor } from '../../src/model/execute.js';
import type { Graph, Node } from '../../src/model/ir.js';
import { OPS } from '../../src/model/ops.js';
import { planExecution, quantizationInfo } from '../../src/quant/params.js';
import { clamp, fl32, quantizeValue, rne } from '../../src/quant/scheme.js';

/** An int8 tensor with its §1 parameters. */
export interface RefQ {
  data: Int8Array;
  shape: number[];
  scale: number;
  zeroPoint: number;
}
type Val = { kind: 'q'; v: RefQ } | { kind: 'f'; data: Float32Array; shape: number[] };

const REF_OPS = new Set([
  'Conv2D',
  'MatMul',
  'DepthwiseConv2dNative',
  'AvgPool',
  'MaxPool',
  'Mean',
  'AddV2',
  'Sub',
  'Mul',
  'Maximum',
  'Minimum',
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Elu',
  'Sigmoid',
  'Tanh',
  'Softmax',
  'ConcatV2',
  'Reshape',
  'Squeeze',
  'ExpandDims',
  'Identity',
  'Pad',
  'PadV2',
]);

/** The int8 nodes of g whose op this reference does not implement (empty: the graph is covered). */
export function unsupportedInt8Ops(g: Graph): string[] {
  const plan = planExecution(g);
  const out = new Set<string>();
  for (const n of g.nodes) {
    if (plan.get(n.name) !== 'int8') continue;
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    if (!REF_OPS.has(n.op) || !(act in TABLE_F || act === 'none')) out.add(`${n.op}${act !== 'none' ? `+${act}` : ''}`);
  }
  return [...out];
}

// ---- §2, §3, §7 written out

const quant = (x: number, p: { scale: number; zeroPoint: number }): number =>
  quantizeValue(x, p.scale, p.zeroPoint, -128, 127);
const dequant = (q: number, s: number, z: number): number => fl32(fl32(q - z) * fl32(s));
/** §7: the multiplier fl32(fl32(sa × sw) / so). */
const multiplier = (sa: number, sw: number, so: number): number => fl32(fl32(fl32(sa) * fl32(sw)) / fl32(so));
/** finish(v) of §11: rne(clamp(v, lo − zo, hi − zo)) + zo, NaN → zo. */
const finish = (v: number, zo: number, lo: number, hi: number): number =>
  Number.isNaN(v) ? zo : rne(clamp(v, lo - zo, hi - zo)) + zo;

/** §7 output bounds of int8 with a relu / relu6 fused activation. */
function bounds(zo: number, so: number, act: string): [number, number] {
  let lo = -128,
    hi = 127;
  if (act === 'relu' || act === 'relu6') lo = Math.max(lo, zo);
  if (act === 'relu6') hi = Math.min(hi, zo + rne(fl32(6 / fl32(so))));
  return [lo, hi];
}

/** §12.1: bias_q = rne(clamp(fl32(bias / fl32(sx · sw)), −2³¹, 2³¹ − 128)). */
function biasQ(bias: number, sx: number, sw: number): number {
  return rne(clamp(fl32(fl32(bias) / fl32(fl32(sx) * fl32(sw))), -(2 ** 31), 2 ** 31 - 128));
}

// ---- §11.1 geometry

function hw(n: Node, k: string): [number, number] {
  const v = (n.attrs[k] as number[] | undefined) ?? [1, 1, 1, 1];
  return v.length === 4 ? [v[1]!, v[2]!] : v.length === 2 ? [v[0]!, v[1]!] : [v[0]!, v[0]!];
}

/** Output size and pad-before of one spatial axis (§11.1). */
function axisGeom(
  n: Node,
  axis: 0 | 1,
  inSize: number,
  k: number,
  stride: number,
  dil: number,
): { out: number; before: number } {
  const eff = (k - 1) * dil + 1;
  const pad = String(n.attrs.padding).toUpperCase();
  if (pad === 'VALID') return { out: Math.ceil((inSize - eff + 1) / stride), before: 0 };
  if (pad === 'SAME') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + eff - inSize, 0);
    return { out, before: Math.floor(total / 2) };
  }
  const e = n.attrs.explicit_paddings as number[];
  const [b, a] = axis === 0 ? [e[2]!, e[3]!] : [e[4]!, e[5]!];
  return { out: Math.floor((inSize + b + a - eff) / stride) + 1, before: b };
}

// ---- int8 ops

function conv(g: Graph, n: Node, x: RefQ, yp: { scale: number; zeroPoint: number }): RefQ {
  const w = g.constants.get(n.inputs[1]!)!;
  const aff = w.quantization!.affine!;
  const wq = aff.values as Int8Array;
  const bias = n.inputs[2] !== undefined ? (g.constants.get(n.inputs[2])!.data as Float32Array) : undefined;
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const [lo, hi] = bounds(yp.zeroPoint, yp.scale, act);
  const sw = (c: number) => (aff.scales.length === 1 ? aff.scales[0]! : aff.scales[c]!);
  const depthwise = n.op === 'DepthwiseConv2dNative';
  const [kh, kw, cin, m] = w.shape as [number, number, number, number];
  const oc = depthwise ? cin * m : m;
  const [N, H, W, C] = x.shape as [number, number, number, number];
  if (C !== cin) throw new Error(`reference: ${n.name} has ${C} input channels, the filter ${cin}`);
  const [sh, swd] = hw(n, 'strides');
  const [dh, dw] = hw(n, 'dilations');
  const gy = axisGeom(n, 0, H, kh, sh, dh),
    gx = axisGeom(n, 1, W, kw, swd, dw);
  const y = new Int8Array(N * gy.out * gx.out * oc);
  for (let b = 0; b < N; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++) {
        for (let co = 0; co < oc; co++) {
          let acc = bias ? biasQ(bias[co]!, x.scale, sw(co)) : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky * dh - gy.before;
            if (iy < 0 || iy >= H) continue; // padding reads the zero point: contributes 0
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * swd + kx * dw - gx.before;
              if (ix < 0 || ix >= W) continue;
              const base = ((b * H + iy) * W + ix) * C;
              if (depthwise) {
                const ci = Math.floor(co / m);
                acc += (x.data[base + ci]! - x.zeroPoint) * wq[((ky * kw + kx) * cin + ci) * m + (co % m)]!;
              } else {
                for (let ci = 0; ci < C; ci++)
                  acc += (x.data[base + ci]! - x.zeroPoint) * wq[((ky * kw + kx) * cin + ci) * oc + co]!;
              }
            }
          }
          acc |= 0; // §6: two's-complement int32
          y[((b * gy.out + oy) * gx.out + ox) * oc + co] = finish(
            fl32(fl32(acc) * multiplier(x.scale, sw(co), yp.scale)),
            yp.zeroPoint,
            lo,
            hi,
          );
        }
      }
  return { data: y, shape: [N, gy.out, gx.out, oc], ...yp };
}

function matmul(g: Graph, n: Node, x: RefQ, yp: { scale: number; zeroPoint: number }): RefQ {
  const w = g.constants.get(n.inputs[1]!)!;
  const aff = w.quantization!.affine!;
  const wq = aff.values as Int8Array;
  const tb = n.attrs.transpose_b === true;
  const [K, Nn] = tb ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
  const bias = n.inputs[2] !== undefined ? (g.constants.get(n.inputs[2])!.data as Float32Array) : undefined;
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const [lo, hi] = bounds(yp.zeroPoint, yp.scale, act);
  const sw = (c: number) => (aff.scales.length === 1 ? aff.scales[0]! : aff.scales[c]!);
  const M = x.shape[0]!;
  const y = new Int8Array(M * Nn);
  for (let r = 0; r < M; r++)
    for (let c = 0; c < Nn; c++) {
      let acc = bias ? biasQ(bias[c]!, x.scale, sw(c)) : 0;
      for (let k = 0; k < K; k++) acc += (x.data[r * K + k]! - x.zeroPoint) * wq[tb ? c * K + k : k * Nn + c]!;
      acc |= 0;
      y[r * Nn + c] = finish(fl32(fl32(acc) * multiplier(x.scale, sw(c), yp.scale)), yp.zeroPoint, lo, hi);
    }
  return { data: y, shape: [M, Nn], ...yp };
}

function pool(n: Node, x: RefQ, yp: { scale: number; zeroPoint: number }, max: boolean): RefQ {
  const [kh, kw] = hw(n, 'ksize');
  const [sh, sw] = hw(n, 'strides');
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const gy = axisGeom(n, 0, H, kh, sh, 1),
    gx = axisGeom(n, 1, W, kw, sw, 1);
  const y = new Int8Array(N * gy.out * gx.out * C);
  const m = fl32(fl32(x.scale) / fl32(yp.scale));
  for (let b = 0; b < N; b++)
    for (let oy = 0; oy < gy.out; oy++)
      for (let ox = 0; ox < gx.out; ox++)
        for (let c = 0; c < C; c++) {
          let best = -129,
            sum = 0,
            count = 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky - gy.before;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw + kx - gx.before;
              if (ix < 0 || ix >= W) continue;
              const q = x.data[((b * H + iy) * W + ix) * C + c]!;
              best = Math.max(best, q);
              sum += q - x.zeroPoint;
              count++;
            }
          }
          const o = ((b * gy.out + oy) * gx.out + ox) * C + c;
          y[o] = max ? best : finish(fl32(fl32(sum) * fl32(m / count)), yp.zeroPoint, -128, 127);
        }
  return { data: y, shape: [N, gy.out, gx.out, C], ...(max ? { scale: x.scale, zeroPoint: x.zeroPoint } : yp) };
}

function meanHW(n: Node, x: RefQ, yp: { scale: number; zeroPoint: number }): RefQ {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const m = fl32(fl32(x.scale) / fl32(yp.scale));
  const y = new Int8Array(N * C);
  for (let b = 0; b < N; b++)
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < H * W; i++) s += x.data[(b * H * W + i) * C + c]! - x.zeroPoint;
      y[b * C + c] = finish(fl32(fl32(s) * fl32(m / (H * W))), yp.zeroPoint, -128, 127);
    }
  return { data: y, shape: n.attrs.keep_dims === true ? [N, 1, 1, C] : [N, C], ...yp };
}

/** NumPy broadcasting of two shapes; index maps from an output index to each operand's index. */
function broadcastIndex(
  a: number[],
  b: number[],
): { shape: number[]; ia: (i: number) => number; ib: (i: number) => number } {
  const r = Math.max(a.length, b.length);
  const pa = [...Array(r - a.length).fill(1), ...a],
    pb = [...Array(r - b.length).fill(1), ...b];
  const shape = pa.map((d, i) => Math.max(d, pb[i]!));
  const index = (p: number[]) => (o: number) => {
    let rem = o,
      idx = 0,
      stride = 1;
    const strides: number[] = [];
    for (let d = r - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= p[d]!;
    }
    for (let d = 0; d < r; d++) {
      const outStride = shape.slice(d + 1).reduce((x, y) => x * y, 1);
      const coord = Math.floor(rem / outStride);
      rem -= coord * outStride;
      idx += (p[d] === 1 ? 0 : coord) * strides[d]!;
    }
    return idx;
  };
  return { shape, ia: index(pa), ib: index(pb) };
}

function binary(op: string, a: RefQ, b: RefQ, yp: { scale: number; zeroPoint: number }): RefQ {
  const { shape, ia, ib } = broadcastIndex(a.shape, b.shape);
  const size = shape.reduce((x, y) => x * y, 1);
  const ma = fl32(fl32(a.scale) / fl32(yp.scale)),
    mb = fl32(fl32(b.scale) / fl32(yp.scale));
  const mm = fl32(fl32(fl32(a.scale) * fl32(b.scale)) / fl32(yp.scale));
  const y = new Int8Array(size);
  for (let i = 0; i < size; i++) {
    const da = a.data[ia(i)]! - a.zeroPoint,
      db = b.data[ib(i)]! - b.zeroPoint;
    let v: number;
    switch (op) {
      case 'AddV2':
        v = fl32(fl32(da * ma) + fl32(db * mb));
        break;
      case 'Sub':
        v = fl32(fl32(da * ma) - fl32(db * mb));
        break;
      case 'Maximum':
        v = Math.max(fl32(da * ma), fl32(db * mb));
        break;
      case 'Minimum':
        v = Math.min(fl32(da * ma), fl32(db * mb));
        break;
      default:
        v = fl32(fl32(da * db) * mm);
        break;
    }
    y[i] = finish(v, yp.zeroPoint, -128, 127);
  }
  return { data: y, shape, ...yp };
}

/** §11.5's F, evaluated in float64 (JavaScript's Math.exp/expm1/tanh stand for libm's). */
const TABLE_F: Record<string, (x: number, alpha: number) => number> = {
  relu: (x) => Math.max(x, 0),
  relu6: (x) => Math.min(Math.max(x, 0), 6),
  leakyrelu: (x, a) => (x >= 0 ? x : a * x),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
};

/** §11.5 lookup-table activation: each int8 value mapped through F of its dequantized value. */
function table(kind: string, alpha: number, x: RefQ, yp: { scale: number; zeroPoint: number }): RefQ {
  const y = new Int8Array(x.data.length);
  for (let i = 0; i < y.length; i++)
    y[i] = quant(fl32(TABLE_F[kind]!(dequant(x.data[i]!, x.scale, x.zeroPoint), fl32(alpha))), yp);
  return { data: y, shape: [...x.shape], ...yp };
}

/** §11.6: integer softmax over the last dimension, output scale 1/256, zero point −128. */
function softmax(n: Node, x: RefQ): RefQ {
  const beta = typeof n.attrs.beta === 'number' ? n.attrs.beta : 1;
  const t = fl32(fl32(beta) * fl32(x.scale));
  const T = Array.from({ length: 256 }, (_, j) => BigInt(rne(2 ** 22 * Math.exp(-j * t))));
  const cols = x.shape[x.shape.length - 1]!;
  const y = new Int8Array(x.data.length);
  for (let r = 0; r < x.data.length / cols; r++) {
    let M = -128;
    for (let c = 0; c < cols; c++) M = Math.max(M, x.data[r * cols + c]!);
    const e = Array.from({ length: cols }, (_, c) => T[M - x.data[r * cols + c]!]!);
    const S = e.reduce((a, b) => a + b, 0n);
    for (let c = 0; c < cols; c++) {
      const num = 256n * e[c]!;
      let q = num / S;
      const rem2 = 2n * (num - q * S);
      if (rem2 > S || (rem2 === S && q % 2n === 1n)) q += 1n;
      y[r * cols + c] = Math.min(Number(q), 255) - 128;
    }
  }
  return { data: y, shape: [...x.shape], scale: 1 / 256, zeroPoint: -128 };
}

function concat(g: Graph, n: Node, parts: RefQ[], yp: { scale: number; zeroPoint: number }): RefQ {
  const rank = parts[0]!.shape.length;
  let axis = (g.constants.get(n.inputs[n.inputs.length - 1]!)!.data as Int32Array)[0]!;
  if (axis < 0) axis += rank;
  const outer = parts[0]!.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = parts[0]!.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const shape = [...parts[0]!.shape];
  shape[axis] = parts.reduce((s, p) => s + p.shape[axis]!, 0);
  const y = new Int8Array(shape.reduce((a, b) => a * b, 1));
  let o = 0;
  for (let i = 0; i < outer; i++) {
    for (const p of parts) {
      const len = p.shape[axis]! * inner;
      const same = p.scale === yp.scale && p.zeroPoint === yp.zeroPoint;
      const m = fl32(fl32(p.scale) / fl32(yp.scale));
      for (let j = 0; j < len; j++) {
        const q = p.data[i * len + j]!;
        y[o++] = same ? q : finish(fl32(fl32(q - p.zeroPoint) * m), yp.zeroPoint, -128, 127);
      }
    }
  }
  return { data: y, shape, ...yp };
}

function constInts(g: Graph, t: string): number[] {
  return Array.from(g.constants.get(t)!.data as Int32Array);
}

function pad(g: Graph, n: Node, x: RefQ): RefQ {
  const p = constInts(g, n.inputs[1]!);
  const value = n.op === 'PadV2' ? quant((g.constants.get(n.inputs[2]!)!.data as Float32Array)[0]!, x) : x.zeroPoint;
  const shape = x.shape.map((d, i) => d + p[2 * i]! + p[2 * i + 1]!);
  const y = new Int8Array(shape.reduce((a, b) => a * b, 1)).fill(value);
  const size = x.data.length;
  for (let i = 0; i < size; i++) {
    let rem = i,
      o = 0;
    for (let d = 0; d < x.shape.length; d++) {
      const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
      const c = Math.floor(rem / inner);
      rem -= c * inner;
      o = o * shape[d]! + c + p[2 * d]!;
    }
    y[o] = x.data[i]!;
  }
  return { data: y, shape, scale: x.scale, zeroPoint: x.zeroPoint };
}

function reshapeTo(x: RefQ, target: number[]): RefQ {
  const total = x.data.length;
  const out = [...target];
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = total / out.reduce((a, b, i) => (i === neg ? a : a * b), 1);
  return { ...x, shape: out };
}

// ---- the graph walk (§12.2 conversions)

/**
 * Runs an int8 graph (mode int8, float32 graph inputs and outputs) on float32 inputs; returns
 * every graph output as float32 (int8 outputs dequantized by §3), and every int8 tensor produced.
 */
export function referenceInt8(
  g: Graph,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
): { outputs: Float32Array[]; int8: Map<string, RefQ> } {
  const info = quantizationInfo(g);
  if (!info || info.mode !== 'int8' || info.inputType !== 'float32' || info.outputType !== 'float32') {
    throw new Error('reference: only int8 graphs with float32 inputs and outputs');
  }
  const missing = unsupportedInt8Ops(g);
  if (missing.length) throw new Error(`reference: no int8 reference for ${missing.join(', ')}`);
  const plan = planExecution(g);
  const acts = g.metadata.activations as Record<string, { scale: number; zeroPoint: number }>;
  const vals = new Map<string, Val>();
  for (const i of g.inputs) vals.set(i.name, { kind: 'f', ...inputs[i.name]! });
  const int8 = new Map<string, RefQ>();
  const asQ = (t: string): RefQ => {
    const v = vals.get(t);
    if (!v) throw new Error(`reference: tensor '${t}' has no value`);
    if (v.kind === 'q') return v.v;
    const p = acts[t]!; // §12.2: an int8 consumer quantizes a float tensor with its own parameters
    return { data: Int8Array.from(v.data, (x) => quant(x, p)), shape: v.shape, scale: p.scale, zeroPoint: p.zeroPoint };
  };
  const asF = (t: string): tf.Tensor => {
    const v = vals.get(t);
    if (v?.kind === 'q')
      return tf.tensor(
        Float32Array.from(v.v.data, (q) => dequant(q, v.v.scale, v.v.zeroPoint)),
        v.v.shape,
      );
    if (v) return tf.tensor(v.data, v.shape);
    const c = g.constants.get(t);
    if (c) return constantTensor(c).clone();
    throw new Error(`reference: tensor '${t}' has no value`);
  };
  for (const n of g.nodes) {
    const out = n.outputs[0]!;
    if (plan.get(n.name) !== 'int8') {
      const ins = n.inputs.map(asF);
      const ys = OPS[n.op]!.execute(n, ins);
      n.outputs.forEach((o, i) =>
        vals.set(o, {
          kind: 'f',
          data: Float32Array.from(ys[i]!.dataSync() as Float32Array),
          shape: [...ys[i]!.shape],
        }),
      );
      tf.dispose([...ins, ...ys]);
      continue;
    }
    const params = (t: string) => ({ scale: acts[t]!.scale, zeroPoint: acts[t]!.zeroPoint });
    const yp = () => params(out);
    const act = (n.attrs.activation as string | undefined) ?? 'none';
    // §12.3: a fused activation other than none/relu/relu6 requantizes to '<output>/preact', then the table.
    const tabled = act !== 'none' && act !== 'relu' && act !== 'relu6';
    const gemmOut = () => (tabled ? params(`${out}/preact`) : yp());
    const afterGemm = (pre: RefQ): RefQ => {
      if (!tabled) return pre;
      int8.set(`${out}/preact`, pre);
      return table(act, typeof n.attrs.leakyrelu_alpha === 'number' ? n.attrs.leakyrelu_alpha : 0.2, pre, yp());
    };
    const x0 = () => asQ(n.inputs[0]!);
    const operand = (t: string): RefQ => {
      const c = g.constants.get(t);
      if (!c) return asQ(t);
      // §12.3: a constant operand is quantized per tensor, asymmetric int8 from its own range.
      let lo = 0,
        hi = 0;
      for (const v of c.data as Float32Array) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale0 = fl32(fl32(fl32(hi) - fl32(lo)) / 255);
      const scale = scale0 > 0 && Number.isFinite(scale0) ? scale0 : 1;
      const p = { scale, zeroPoint: rne(clamp(fl32(-lo / scale), 0, 255)) - 128 };
      return { data: Int8Array.from(c.data as Float32Array, (v) => quant(v, p)), shape: [...c.shape], ...p };
    };
    let y: RefQ;
    switch (n.op) {
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
        y = afterGemm(conv(g, n, x0(), gemmOut()));
        break;
      case 'MatMul':
        y = afterGemm(matmul(g, n, x0(), gemmOut()));
        break;
      case 'AvgPool':
        y = pool(n, x0(), yp(), false);
        break;
      case 'MaxPool':
        y = pool(n, x0(), yp(), true);
        break;
      case 'Mean':
        y = meanHW(n, x0(), yp());
        break;
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'Maximum':
      case 'Minimum':
        y = binary(n.op, operand(n.inputs[0]!), operand(n.inputs[1]!), yp());
        break;
      case 'Relu':
      case 'Relu6':
      case 'LeakyRelu':
      case 'Elu':
      case 'Sigmoid':
      case 'Tanh':
        y = table(n.op.toLowerCase(), typeof n.attrs.alpha === 'number' ? n.attrs.alpha : 0.2, x0(), yp());
        break;
      case 'Softmax':
        y = softmax(n, x0());
        break;
      case 'ConcatV2':
        y = concat(g, n, n.inputs.slice(0, -1).map(asQ), yp());
        break;
      case 'Reshape':
        y = reshapeTo(x0(), constInts(g, n.inputs[1]!));
        break;
      case 'Squeeze': {
        const x = x0();
        const ax = ((n.attrs.squeeze_dims ?? n.attrs.axis ?? []) as number[]).map((a) =>
          a < 0 ? a + x.shape.length : a,
        );
        y = { ...x, shape: x.shape.filter((d, i) => (ax.length ? !ax.includes(i) : d !== 1)) };
        break;
      }
      case 'ExpandDims': {
        const x = x0();
        const a = constInts(g, n.inputs[1]!)[0]!;
        const s = [...x.shape];
        s.splice(a < 0 ? a + x.shape.length + 1 : a, 0, 1);
        y = { ...x, shape: s };
        break;
      }
      case 'Identity':
        y = x0();
        break;
      default:
        y = pad(g, n, x0());
        break; // Pad, PadV2
    }
    vals.set(out, { kind: 'q', v: y });
    int8.set(out, y);
  }
  const outputs = g.outputs.map((o) => {
    const v = vals.get(o);
    if (!v) throw new Error(`reference: output '${o}' was not computed`);
    return v.kind === 'q' ? Float32Array.from(v.v.data, (q) => dequant(q, v.v.scale, v.v.zeroPoint)) : v.data;
  });
  return { outputs, int8 };
}
