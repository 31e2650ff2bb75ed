// The canonical ops of the IR: how each runs in float with tfjs (mirroring exactly what
// tfjs-converter's executors and tfjs-layers call, so results are bit-identical to stock
// tfjs) and its shape inference. Ops not listed here are opaque (src/model/opaque.ts).
import { tf } from '../backend/float.js';
import type { DType } from '../io/weights.js';
import { ModelFormatError } from './errors.js';
import type { AttrValue, FusedActivation, Node, TensorInfo } from './ir.js';

type T = tf.Tensor;

export interface OpSpec {
  /** Number of outputs (default 1); a function of the node for Split/Unpack. */
  outputs?: number | ((n: Node) => number);
  /** Indices of inputs that must be compile-time int lists for shape inference / lowering. */
  execute(n: Node, x: T[]): T[];
  infer(n: Node, x: TensorInfo[], ints: (i: number) => number[] | undefined): TensorInfo[];
}

// ---- attribute helpers

export function attrNum(n: Node, k: string, def?: number): number {
  const v = n.attrs[k];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelFormatError(`attribute '${k}' must be a number, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrStr(n: Node, k: string, def?: string): string {
  const v = n.attrs[k];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (typeof v !== 'string')
    throw new ModelFormatError(`attribute '${k}' must be a string, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrBool(n: Node, k: string, def = false): boolean {
  const v = n.attrs[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean')
    throw new ModelFormatError(`attribute '${k}' must be a boolean, got ${JSON.stringify(v)}`, { node: n.name });
  return v;
}
export function attrInts(n: Node, k: string, def?: number[]): number[] {
  const v = n.attrs[k] as AttrValue | undefined;
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new ModelFormatError(`missing attribute '${k}'`, { node: n.name });
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isInteger(x))) {
    throw new ModelFormatError(`attribute '${k}' must be a list of integers, got ${JSON.stringify(v)}`, {
      node: n.name,
    });
  }
  return v as number[];
}

function ints(t: T): number[] {
  return Array.from(t.dataSync() as Int32Array | Float32Array);
}

function info(dtype: DType, shape: number[] | null): TensorInfo {
  return { dtype, shape };
}
const same = (_n: Node, x: TensorInfo[]): TensorInfo[] => [
  info(x[0]?.dtype ?? 'float32', x[0]?.shape ? [...x[0].shape] : null),
];

function broadcast(a: number[] | null, b: number[] | null): number[] | null {
  if (!a || !b) return null;
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : y === -1 ? x : x === y ? x : NaN);
    if (Number.isNaN(out[i])) return null;
  }
  return out;
}

// ---- convolution helpers

/** tfjs pad argument from the TF attrs (padding SAME | VALID | EXPLICIT + explicit_paddings). */
export function convPad(
  n: Node,
): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  const p = attrStr(n, 'padding').toUpperCase();
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  if (p === 'EXPLICIT') {
    const e = attrInts(n, 'explicit_paddings');
    if (e.length !== 8)
      throw new ModelFormatError(`explicit_paddings must have 8 values, got ${e.length}`, { node: n.name });
    return [
      [e[0]!, e[1]!],
      [e[2]!, e[3]!],
      [e[4]!, e[5]!],
      [e[6]!, e[7]!],
    ];
  }
  throw new ModelFormatError(`unsupported padding '${p}'`, { node: n.name });
}

function checkNhwc(n: Node): void {
  const f = attrStr(n, 'data_format', 'NHWC').toUpperCase();
  if (f !== 'NHWC') throw new ModelFormatError(`data_format ${f} is not supported (NHWC only)`, { node: n.name });
}

function hw(n: Node, k: string, def: number[]): [number, number] {
  const v = attrInts(n, k, def);
  if (v.length === 4) return [v[1]!, v[2]!];
  if (v.length === 2) return [v[0]!, v[1]!];
  if (v.length === 1) return [v[0]!, v[0]!];
  throw new ModelFormatError(`attribute '${k}' must have 4 (or 2) values, got ${v.length}`, { node: n.name });
}

export function activationOf(n: Node): FusedActivation {
  return (n.attrs.activation as FusedActivation | undefined) ?? 'none';
}

/** The tfjs fused-kernel activation name, or undefined when the activation must run after. */
function tfjsActivation(a: FusedActivation): tf.fused.Activation | undefined {
  switch (a) {
    case 'none':
      return 'linear';
    case 'relu':
    case 'relu6':
    case 'elu':
    case 'leakyrelu':
    case 'prelu':
    case 'sigmoid':
      return a;
    default:
      return undefined;
  }
}

function postActivation(a: FusedActivation, y: T): T {
  if (a === 'tanh') return tf.tanh(y);
  return y;
}

function convOut(
  size: number,
  k: number,
  s: number,
  d: number,
  pad: ReturnType<typeof convPad>,
  lo: number,
  hi: number,
): number {
  if (size < 0) return -1;
  const ek = (k - 1) * d + 1;
  if (pad === 'same') return Math.ceil(size / s);
  if (pad === 'valid') return Math.max(0, Math.ceil((size - ek + 1) / s));
  return Math.max(0, Math.floor((size + lo + hi - ek) / s) + 1);
}

function convInfer(depthwise: boolean) {
  return (n: Node, x: TensorInfo[]): TensorInfo[] => {
    const xs = x[0]?.shape;
    const fs = x[1]?.shape;
    if (!xs || !fs || xs.length !== 4 || fs.length !== 4)
      return [info('float32', xs && xs.length === 4 ? [xs[0]!, -1, -1, -1] : null)];
    const [sh, sw] = hw(n, 'strides', [1, 1, 1, 1]);
    const [dh, dw] = hw(n, 'dilations', [1, 1, 1, 1]);
    const pad = convPad(n);
    const p = Array.isArray(pad)
      ? pad
      : [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ];
    const c = depthwise ? (xs[3]! < 0 || fs[3]! < 0 ? -1 : xs[3]! * fs[3]!) : fs[3]!;
    return [
      info('float32', [
        xs[0]!,
        convOut(xs[1]!, fs[0]!, sh, dh, pad, p[1]![0]!, p[1]![1]!),
        convOut(xs[2]!, fs[1]!, sw, dw, pad, p[2]![0]!, p[2]![1]!),
        c,
      ]),
    ];
  };
}

function fusedArgs(n: Node, x: T[]) {
  const act = activationOf(n);
  const bias = x[2];
  const alpha = act === 'prelu' ? x[3] : undefined;
  if (act === 'prelu' && !alpha)
    throw new ModelFormatError('prelu activation needs an alpha input (4th input)', { node: n.name });
  return { act, bias, alpha, leaky: attrNum(n, 'leakyrelu_alpha', 0.2) };
}

function conv2d(n: Node, x: T[]): T[] {
  checkNhwc(n);
  const { act, bias, alpha, leaky } = fusedArgs(n, x);
  const strides = hw(n, 'strides', [1, 1, 1, 1]);
  const dilations = hw(n, 'dilations', [1, 1, 1, 1]);
  const pad = convPad(n);
  if (!bias && act === 'none')
    return [tf.conv2d(x[0] as tf.Tensor4D, x[1] as tf.Tensor4D, strides, pad, 'NHWC', dilations)];
  const y = tf.fused.conv2d({
    x: x[0] as tf.Tensor4D,
    filter: x[1] as tf.Tensor4D,
    strides,
    pad,
    dataFormat: 'NHWC',
    dilations,
    bias,
    activation: tfjsActivation(act),
    preluActivationWeights: alpha,
    leakyreluAlpha: leaky,
  });
  return [postActivation(act, y)];
}

function depthwise(n: Node, x: T[]): T[] {
  checkNhwc(n);
  const { act, bias, alpha, leaky } = fusedArgs(n, x);
  const strides = hw(n, 'strides', [1, 1, 1, 1]);
  const dilations = hw(n, 'dilations', [1, 1, 1, 1]);
  const pad = convPad(n);
  if (!bias && act === 'none')
    return [tf.depthwiseConv2d(x[0] as tf.Tensor4D, x[1] as tf.Tensor4D, strides, pad, 'NHWC', dilations)];
  const y = tf.fused.depthwiseConv2d({
    x: x[0] as tf.Tensor4D,
    filter: x[1] as tf.Tensor4D,
    strides,
    pad: pad as 'same',
    dataFormat: 'NHWC',
    dilations,
    bias,
    activation: tfjsActivation(act),
    preluActivationWeights: alpha,
    leakyreluAlpha: leaky,
  });
  return [postActivation(act, y)];
}

/**
 * int32 matrix product (index arithmetic, e.g. how TF writes tf.repeat): tfjs-backend-wasm has
 * no int32 kernel, so it is computed here as tfjs-backend-cpu computes it — float64 sums stored
 * into int32 — whatever the backend. The matrices are small index tables, not model weights.
 */
function matmulInt32(a: T, b: T, ta: boolean, tb: boolean): T {
  if (a.rank < 2 || b.rank < 2)
    throw new ModelFormatError(`int32 matrix product needs rank >= 2, got ${a.rank} and ${b.rank}`);
  const [M, K] = ta ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const [K2, N] = tb ? [b.shape[b.rank - 1]!, b.shape[b.rank - 2]!] : [b.shape[b.rank - 2]!, b.shape[b.rank - 1]!];
  if (K !== K2) throw new ModelFormatError(`int32 matrix product: inner dimensions ${K} and ${K2} differ`);
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcast(batchA, batchB);
  if (!batch)
    throw new ModelFormatError(`int32 matrix product: batch dimensions [${batchA}] and [${batchB}] do not broadcast`);
  const A = tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]).dataSync() as Int32Array;
  const B = tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]).dataSync() as Int32Array;
  const nb = batch.reduce((p, d) => p * d, 1);
  const out = new Int32Array(nb * M * N);
  const aAt = (o: number, i: number, k: number) => A[o + (ta ? k * M + i : i * K + k)]!;
  const bAt = (o: number, k: number, j: number) => B[o + (tb ? j * K + k : k * N + j)]!;
  for (let p = 0; p < nb; p++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) sum += aAt(p * M * K, i, k) * bAt(p * K * N, k, j);
        out[(p * M + i) * N + j] = sum;
      }
    }
  }
  return tf.tensor(out, [...batch, M, N], 'int32');
}

function matmul(n: Node, x: T[]): T[] {
  const { act, bias, alpha, leaky } = fusedArgs(n, x);
  const ta = attrBool(n, 'transpose_a');
  const tb = attrBool(n, 'transpose_b');
  if (x[0]!.dtype === 'int32' && !bias && act === 'none') return [matmulInt32(x[0]!, x[1]!, ta, tb)];
  if (!bias && act === 'none') return [tf.matMul(x[0]!, x[1]!, ta, tb)];
  const y = tf.fused.matMul({
    a: x[0]!,
    b: x[1]!,
    transposeA: ta,
    transposeB: tb,
    bias,
    activation: tfjsActivation(act),
    preluActivationWeights: alpha,
    leakyreluAlpha: leaky,
  });
  return [postActivation(act, y)];
}

function matmulInfer(n: Node, x: TensorInfo[]): TensorInfo[] {
  const a = x[0]?.shape;
  const b = x[1]?.shape;
  if (!a || !b || a.length < 2 || b.length < 2) return [info('float32', null)];
  const ta = attrBool(n, 'transpose_a') || attrBool(n, 'adj_x');
  const tb = attrBool(n, 'transpose_b') || attrBool(n, 'adj_y');
  const m = ta ? a[a.length - 1]! : a[a.length - 2]!;
  const k = tb ? b[b.length - 2]! : b[b.length - 1]!;
  const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
  return [info(x[0]?.dtype === 'int32' ? 'int32' : 'float32', batch ? [...batch, m, k] : null)];
}

function pool(kind: 'max' | 'avg') {
  return (n: Node, x: T[]): T[] => {
    const k = hw(n, 'ksize', [1, 1, 1, 1]);
    const s = hw(n, 'strides', [1, 1, 1, 1]);
    const p = attrStr(n, 'padding').toLowerCase() as 'same' | 'valid';
    if (p !== 'same' && p !== 'valid')
      throw new ModelFormatError(`unsupported pooling padding '${p}'`, { node: n.name });
    return [kind === 'max' ? tf.maxPool(x[0] as tf.Tensor4D, k, s, p) : tf.avgPool(x[0] as tf.Tensor4D, k, s, p)];
  };
}
function poolInfer(n: Node, x: TensorInfo[]): TensorInfo[] {
  const xs = x[0]?.shape;
  if (!xs || xs.length !== 4) return [info(x[0]?.dtype ?? 'float32', null)];
  const k = hw(n, 'ksize', [1, 1, 1, 1]);
  const s = hw(n, 'strides', [1, 1, 1, 1]);
  const p = attrStr(n, 'padding').toLowerCase() as 'same' | 'valid';
  return [
    info(x[0]!.dtype, [
      xs[0]!,
      convOut(xs[1]!, k[0], s[0], 1, p, 0, 0),
      convOut(xs[2]!, k[1], s[1], 1, p, 0, 0),
      xs[3]!,
    ]),
  ];
}

function reduce(fn: (x: T, axis: number[], keep: boolean) => T) {
  return (n: Node, x: T[]): T[] => [fn(x[0]!, ints(x[1]!), attrBool(n, 'keep_dims'))];
}
function reduceInfer(n: Node, x: TensorInfo[], c: (i: number) => number[] | undefined): TensorInfo[] {
  const xs = x[0]?.shape;
  const axes = c(1);
  if (!xs || !axes) return [info(x[0]?.dtype ?? 'float32', null)];
  const ax = new Set(axes.map((a) => (a < 0 ? a + xs.length : a)));
  const keep = attrBool(n, 'keep_dims');
  const out: number[] = [];
  xs.forEach((d, i) => {
    if (ax.has(i)) {
      if (keep) out.push(1);
    } else out.push(d);
  });
  return [info(x[0]!.dtype, out)];
}

function reshapeInfer(_n: Node, x: TensorInfo[], c: (i: number) => number[] | undefined): TensorInfo[] {
  const s = c(1);
  if (!s) return [info(x[0]?.dtype ?? 'float32', null)];
  const xs = x[0]?.shape;
  const out = [...s];
  const neg = out.indexOf(-1);
  if (neg >= 0 && xs && xs.every((d) => d >= 0)) {
    const total = xs.reduce((a, b) => a * b, 1);
    const rest = out.reduce((a, b, i) => (i === neg ? a : a * b), 1);
    if (rest > 0) out[neg] = total / rest;
  }
  return [info(x[0]?.dtype ?? 'float32', out)];
}

function unary(fn: (x: T) => T): OpSpec {
  return { execute: (_n, x) => [fn(x[0]!)], infer: same };
}
function binary(fn: (a: T, b: T) => T, outDtype?: DType): OpSpec {
  return {
    execute: (_n, x) => [fn(x[0]!, x[1]!)],
    infer: (_n, x) => [info(outDtype ?? x[0]?.dtype ?? 'float32', broadcast(x[0]?.shape ?? null, x[1]?.shape ?? null))],
  };
}

function concatInfer(n: Node, x: TensorInfo[], c: (i: number) => number[] | undefined): TensorInfo[] {
  const axisArr = c(x.length - 1);
  const parts = x.slice(0, -1);
  if (!axisArr || parts.some((p) => !p.shape)) return [info(parts[0]?.dtype ?? 'float32', null)];
  const r = parts[0]!.shape!.length;
  const axis = axisArr[0]! < 0 ? axisArr[0]! + r : axisArr[0]!;
  const out = [...parts[0]!.shape!];
  out[axis] = parts.reduce((a, p) => (a < 0 || p.shape![axis]! < 0 ? -1 : a + p.shape![axis]!), 0);
  void n;
  return [info(parts[0]!.dtype, out)];
}

function batchNorm(_n: Node, x: T[]): T[] {
  // tfjs-converter: batchNorm(x, mean, variance, offset, scale, epsilon).
  return [tf.batchNorm(x[0]!, x[3]!, x[4]!, x[2], x[1], attrNum(_n, 'epsilon', 0.001))];
}

function resize(kind: 'bilinear' | 'nearest') {
  return (n: Node, x: T[]): T[] => {
    const size = ints(x[1]!) as [number, number];
    const ac = attrBool(n, 'align_corners');
    const hp = attrBool(n, 'half_pixel_centers');
    return [
      kind === 'bilinear'
        ? tf.image.resizeBilinear(x[0] as tf.Tensor4D, size, ac, hp)
        : tf.image.resizeNearestNeighbor(x[0] as tf.Tensor4D, size, ac, hp),
    ];
  };
}
function resizeInfer(_n: Node, x: TensorInfo[], c: (i: number) => number[] | undefined): TensorInfo[] {
  const xs = x[0]?.shape;
  const s = c(1);
  return [info(x[0]?.dtype ?? 'float32', xs && xs.length === 4 ? [xs[0]!, s?.[0] ?? -1, s?.[1] ?? -1, xs[3]!] : null)];
}

function padInfer(_n: Node, x: TensorInfo[], c: (i: number) => number[] | undefined): TensorInfo[] {
  const xs = x[0]?.shape;
  const p = c(1);
  if (!xs || !p || p.length !== xs.length * 2) return [info(x[0]?.dtype ?? 'float32', null)];
  return [
    info(
      x[0]!.dtype,
      xs.map((d, i) => (d < 0 ? -1 : d + p[2 * i]! + p[2 * i + 1]!)),
    ),
  ];
}
function pairs(p: number[], x?: T): [number, number][] {
  if (x && p.length !== 2 * x.rank)
    throw new ModelFormatError(`paddings has ${p.length} values, the input of rank ${x.rank} needs ${2 * x.rank}`);
  if (p.some((v) => v < 0 || !Number.isInteger(v)))
    throw new ModelFormatError(`paddings must be non-negative integers, got [${p.join(', ')}]`);
  const out: [number, number][] = [];
  for (let i = 0; i < p.length; i += 2) out.push([p[i]!, p[i + 1]!]);
  return out;
}

function castDtype(n: Node): DType {
  const d = attrStr(n, 'DstT');
  if (d !== 'float32' && d !== 'int32' && d !== 'bool')
    throw new ModelFormatError(`Cast to ${d} is not supported`, { node: n.name });
  return d;
}

function conv2dBackpropInput(n: Node, x: T[]): T[] {
  checkNhwc(n);
  const shape = ints(x[0]!);
  const xin = x[2] as tf.Tensor4D;
  if (shape[0] === -1) shape[0] = xin.shape[0];
  const pad = convPad(n);
  const strides = hw(n, 'strides', [1, 1, 1, 1]);
  let y = tf.conv2dTranspose(
    xin,
    x[1] as tf.Tensor4D,
    shape as [number, number, number, number],
    strides,
    pad as 'same' | 'valid',
  );
  if (x[3]) y = tf.add(y, x[3]);
  return [y];
}

// Non-max suppression, as tfjs-converter's dynamic executor runs it (its *Async forms share
// the synchronous kernels, so results are identical). The number of boxes kept depends on the
// data: the output length is unknown.
function scalarOf(t: T | undefined, n: Node, what: string): number {
  if (!t || t.size !== 1) throw new ModelFormatError(`${what} must be a scalar`, { node: n.name });
  return t.dataSync()[0]!;
}
function nmsArgs(n: Node, x: T[]) {
  return {
    boxes: x[0] as tf.Tensor2D,
    scores: x[1] as tf.Tensor1D,
    max: scalarOf(x[2], n, 'max_output_size'),
    iou: scalarOf(x[3], n, 'iou_threshold'),
    score: x[4] ? scalarOf(x[4], n, 'score_threshold') : Number.NEGATIVE_INFINITY,
  };
}
const NMS_V3: OpSpec = {
  execute: (n, x) => {
    const a = nmsArgs(n, x);
    return [tf.image.nonMaxSuppression(a.boxes, a.scores, a.max, a.iou, a.score)];
  },
  infer: () => [info('int32', [-1])],
};
const NMS_V4: OpSpec = {
  outputs: 2,
  execute: (n, x) => {
    const a = nmsArgs(n, x);
    const r = tf.image.nonMaxSuppressionPadded(
      a.boxes,
      a.scores,
      a.max,
      a.iou,
      a.score,
      attrBool(n, 'pad_to_max_output_size'),
    );
    return [r.selectedIndices, r.validOutputs];
  },
  infer: () => [info('int32', [-1]), info('int32', [])],
};
const NMS_V5: OpSpec = {
  outputs: 3,
  execute: (n, x) => {
    const a = nmsArgs(n, x);
    const r = tf.image.nonMaxSuppressionWithScore(
      a.boxes,
      a.scores,
      a.max,
      a.iou,
      a.score,
      scalarOf(x[5], n, 'soft_nms_sigma'),
    );
    // TF's third output (valid_outputs) is not produced by tfjs-converter either.
    return [r.selectedIndices, r.selectedScores];
  },
  infer: () => [info('int32', [-1]), info('float32', [-1]), info('int32', [])],
};

function squeezeAxes(n: Node): number[] {
  return attrInts(n, 'squeeze_dims', attrInts(n, 'axis', []));
}

export const OPS: Record<string, OpSpec> = {
  Conv2D: { execute: conv2d, infer: convInfer(false) },
  DepthwiseConv2dNative: { execute: depthwise, infer: convInfer(true) },
  MatMul: { execute: matmul, infer: matmulInfer },
  BatchMatMulV2: {
    execute: (n, x) => [
      x[0]!.dtype === 'int32'
        ? matmulInt32(x[0]!, x[1]!, attrBool(n, 'adj_x'), attrBool(n, 'adj_y'))
        : tf.matMul(x[0]!, x[1]!, attrBool(n, 'adj_x'), attrBool(n, 'adj_y')),
    ],
    infer: matmulInfer,
  },
  Conv2DBackpropInput: {
    execute: conv2dBackpropInput,
    infer: (_n, x, c) => [info('float32', c(0) ?? null)],
  },
  FusedBatchNormV3: { execute: batchNorm, infer: same },
  BiasAdd: binary((a, b) => tf.add(a, b)),
  AddV2: binary((a, b) => tf.add(a, b)),
  Sub: binary((a, b) => tf.sub(a, b)),
  Mul: binary((a, b) => tf.mul(a, b)),
  RealDiv: binary((a, b) => tf.div(a, b)),
  Maximum: binary((a, b) => tf.maximum(a, b)),
  Minimum: binary((a, b) => tf.minimum(a, b)),
  Pow: binary((a, b) => tf.pow(a, b)),
  SquaredDifference: binary((a, b) => tf.squaredDifference(a, b)),
  Relu: unary((x) => tf.relu(x)),
  Relu6: unary((x) => tf.relu6(x)),
  Elu: unary((x) => tf.elu(x)),
  Selu: unary((x) => tf.selu(x)),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Softplus: unary((x) => tf.softplus(x)),
  Exp: unary((x) => tf.exp(x)),
  Log: unary((x) => tf.log(x)),
  Sqrt: unary((x) => tf.sqrt(x)),
  Rsqrt: unary((x) => tf.rsqrt(x)),
  Square: unary((x) => tf.square(x)),
  Neg: unary((x) => tf.neg(x)),
  Abs: unary((x) => tf.abs(x)),
  Floor: unary((x) => tf.floor(x)),
  Softmax: unary((x) => tf.softmax(x)),
  LogSoftmax: unary((x) => tf.logSoftmax(x)),
  Identity: unary((x) => x),
  LeakyRelu: { execute: (n, x) => [tf.leakyRelu(x[0]!, attrNum(n, 'alpha', 0.2))], infer: same },
  Prelu: { execute: (_n, x) => [tf.prelu(x[0]!, x[1]!)], infer: same },
  ClipByValue: {
    execute: (_n, x) => [tf.clipByValue(x[0]!, x[1]!.dataSync()[0]!, x[2]!.dataSync()[0]!)],
    infer: same,
  },
  Reshape: { execute: (_n, x) => [tf.reshape(x[0]!, ints(x[1]!))], infer: reshapeInfer },
  Squeeze: {
    execute: (n, x) => [tf.squeeze(x[0]!, squeezeAxes(n).length ? squeezeAxes(n) : undefined)],
    infer: (n, x) => {
      const xs = x[0]?.shape;
      const ax = squeezeAxes(n);
      if (!xs || (ax.length === 0 && xs.includes(-1))) return [info(x[0]?.dtype ?? 'float32', null)];
      const set = new Set(ax.map((a) => (a < 0 ? a + xs.length : a)));
      return [
        info(
          x[0]!.dtype,
          xs.filter((d, i) => (set.size ? !set.has(i) : d !== 1)),
        ),
      ];
    },
  },
  ExpandDims: {
    execute: (_n, x) => [tf.expandDims(x[0]!, ints(x[1]!)[0])],
    infer: (_n, x, c) => {
      const xs = x[0]?.shape;
      const a = c(1)?.[0];
      if (!xs || a === undefined) return [info(x[0]?.dtype ?? 'float32', null)];
      const out = [...xs];
      out.splice(a < 0 ? a + xs.length + 1 : a, 0, 1);
      return [info(x[0]!.dtype, out)];
    },
  },
  ConcatV2: {
    execute: (_n, x) => [tf.concat(x.slice(0, -1), ints(x[x.length - 1]!)[0])],
    infer: concatInfer,
  },
  Pack: {
    execute: (n, x) => [tf.stack(x, attrNum(n, 'axis', 0))],
    infer: (n, x) => {
      const xs = x[0]?.shape;
      if (!xs) return [info(x[0]?.dtype ?? 'float32', null)];
      const out = [...xs];
      const a = attrNum(n, 'axis', 0);
      out.splice(a < 0 ? a + xs.length + 1 : a, 0, x.length);
      return [info(x[0]!.dtype, out)];
    },
  },
  Pad: {
    execute: (n, x) => [tf.pad(x[0]!, pairs(ints(x[1]!), x[0]), attrNum(n, 'constant_value', 0))],
    infer: padInfer,
  },
  PadV2: { execute: (_n, x) => [tf.pad(x[0]!, pairs(ints(x[1]!), x[0]), x[2]!.dataSync()[0]!)], infer: padInfer },
  MirrorPad: {
    execute: (n, x) => [
      tf.mirrorPad(x[0]!, pairs(ints(x[1]!), x[0]), attrStr(n, 'mode').toLowerCase() as 'reflect' | 'symmetric'),
    ],
    infer: padInfer,
  },
  MaxPool: { execute: pool('max'), infer: poolInfer },
  AvgPool: { execute: pool('avg'), infer: poolInfer },
  Mean: { execute: reduce((x, a, k) => tf.mean(x, a, k)), infer: reduceInfer },
  Sum: { execute: reduce((x, a, k) => tf.sum(x, a, k)), infer: reduceInfer },
  Max: { execute: reduce((x, a, k) => tf.max(x, a, k)), infer: reduceInfer },
  Min: { execute: reduce((x, a, k) => tf.min(x, a, k)), infer: reduceInfer },
  Prod: { execute: reduce((x, a, k) => tf.prod(x, a, k)), infer: reduceInfer },
  Transpose: {
    execute: (_n, x) => [tf.transpose(x[0]!, ints(x[1]!))],
    infer: (_n, x, c) => {
      const xs = x[0]?.shape;
      const p = c(1);
      return [info(x[0]?.dtype ?? 'float32', xs && p ? p.map((i) => xs[i]!) : null)];
    },
  },
  StridedSlice: {
    execute: (n, x) => [
      tf.stridedSlice(
        x[0]!,
        ints(x[1]!),
        ints(x[2]!),
        ints(x[3]!),
        attrNum(n, 'begin_mask', 0),
        attrNum(n, 'end_mask', 0),
        attrNum(n, 'ellipsis_mask', 0),
        attrNum(n, 'new_axis_mask', 0),
        attrNum(n, 'shrink_axis_mask', 0),
      ),
    ],
    infer: (_n, x) => [info(x[0]?.dtype ?? 'float32', null)],
  },
  Slice: {
    execute: (_n, x) => [tf.slice(x[0]!, ints(x[1]!), ints(x[2]!))],
    infer: (_n, x, c) => {
      const xs = x[0]?.shape;
      const b = c(1);
      const s = c(2);
      if (!xs || !b || !s) return [info(x[0]?.dtype ?? 'float32', null)];
      return [
        info(
          x[0]!.dtype,
          s.map((d, i) => (d === -1 ? (xs[i]! < 0 ? -1 : xs[i]! - b[i]!) : d)),
        ),
      ];
    },
  },
  ResizeBilinear: { execute: resize('bilinear'), infer: resizeInfer },
  ResizeNearestNeighbor: { execute: resize('nearest'), infer: resizeInfer },
  DepthToSpace: {
    execute: (n, x) => [tf.depthToSpace(x[0] as tf.Tensor4D, attrNum(n, 'block_size'), 'NHWC')],
    infer: (n, x) => {
      const xs = x[0]?.shape;
      const b = attrNum(n, 'block_size');
      return [
        info(
          x[0]?.dtype ?? 'float32',
          xs && xs.length === 4
            ? [xs[0]!, xs[1]! < 0 ? -1 : xs[1]! * b, xs[2]! < 0 ? -1 : xs[2]! * b, xs[3]! < 0 ? -1 : xs[3]! / (b * b)]
            : null,
        ),
      ];
    },
  },
  Cast: {
    execute: (n, x) => [tf.cast(x[0]!, castDtype(n))],
    infer: (n, x) => [info(castDtype(n), x[0]?.shape ?? null)],
  },
  Shape: {
    execute: (_n, x) => [tf.tensor1d(x[0]!.shape, 'int32')],
    infer: (_n, x) => [info('int32', x[0]?.shape ? [x[0].shape.length] : null)],
  },
  Tile: {
    execute: (_n, x) => [tf.tile(x[0]!, ints(x[1]!))],
    infer: (_n, x, c) => {
      const xs = x[0]?.shape;
      const r = c(1);
      return [info(x[0]?.dtype ?? 'float32', xs && r ? xs.map((d, i) => (d < 0 ? -1 : d * r[i]!)) : null)];
    },
  },
  NonMaxSuppressionV2: NMS_V3,
  NonMaxSuppressionV3: NMS_V3,
  NonMaxSuppressionV4: NMS_V4,
  NonMaxSuppressionV5: NMS_V5,
  GatherV2: {
    execute: (n, x) => [tf.gather(x[0]!, tf.cast(x[1]!, 'int32'), ints(x[2]!)[0], attrNum(n, 'batch_dims', 0))],
    infer: (n, x, c) => {
      // batch_dims 0: params.shape[:axis] + indices.shape + params.shape[axis+1:].
      const ps = x[0]?.shape,
        is = x[1]?.shape,
        axis = c(2);
      if (!ps || !is || axis?.length !== 1 || attrNum(n, 'batch_dims', 0) !== 0)
        return [info(x[0]?.dtype ?? 'float32', null)];
      const a = axis[0]! < 0 ? axis[0]! + ps.length : axis[0]!;
      return [info(x[0]!.dtype, [...ps.slice(0, a), ...is, ...ps.slice(a + 1)])];
    },
  },
};

/** Number of outputs of a node of a known op. */
export function numOutputs(n: Node): number {
  const s = OPS[n.op];
  if (!s || s.outputs === undefined) return 1;
  return typeof s.outputs === 'number' ? s.outputs : s.outputs(n);
}
