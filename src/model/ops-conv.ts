// The convolution family of the canonical ops (src/model/ops.ts): Conv2D, depthwise, transposed
// convolution, matrix products and pooling; how each runs in tfjs (fused bias and activation as
// tfjs-converter fuses them) and its shape rule.
import { tf } from '../backend/float.js';
import { activationOf, attrBool, attrInts, attrNum, attrStr, convPad } from './node-attrs.js';
import { ModelFormatError } from './errors.js';
import type { FusedActivation, Node, TensorInfo } from './ir.js';
import { broadcast, info, ints } from './op-spec.js';

type T = tf.Tensor;

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

export function convInfer(depthwise: boolean) {
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

/** Conv2D or DepthwiseConv2dNative: the plain kernel, or the fused one with a bias or an activation. */
function convolution(kind: 'conv2d' | 'depthwise') {
  return (n: Node, x: T[]): T[] => {
    checkNhwc(n);
    const { act, bias, alpha, leaky } = fusedArgs(n, x);
    const strides = hw(n, 'strides', [1, 1, 1, 1]);
    const dilations = hw(n, 'dilations', [1, 1, 1, 1]);
    const pad = convPad(n);
    const input = x[0] as tf.Tensor4D;
    const filter = x[1] as tf.Tensor4D;
    if (!bias && act === 'none') {
      return [
        kind === 'conv2d'
          ? tf.conv2d(input, filter, strides, pad, 'NHWC', dilations)
          : tf.depthwiseConv2d(input, filter, strides, pad, 'NHWC', dilations),
      ];
    }
    const args = {
      x: input,
      filter,
      strides,
      dataFormat: 'NHWC' as const,
      dilations,
      bias,
      activation: tfjsActivation(act),
      preluActivationWeights: alpha,
      leakyreluAlpha: leaky,
    };
    const y =
      kind === 'conv2d' ? tf.fused.conv2d({ ...args, pad }) : tf.fused.depthwiseConv2d({ ...args, pad: pad as 'same' });
    return [postActivation(act, y)];
  };
}
export const conv2d = convolution('conv2d');
export const depthwise = convolution('depthwise');

/**
 * int32 matrix product (index arithmetic, e.g. how TF writes tf.repeat): tfjs-backend-wasm has
 * no int32 kernel, so it is computed here as tfjs-backend-cpu computes it — float64 sums stored
 * into int32 — whatever the backend. The matrices are small index tables, not model weights.
 */
export function matmulInt32(a: T, b: T, ta: boolean, tb: boolean): T {
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

export function matmul(n: Node, x: T[]): T[] {
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

export function matmulInfer(n: Node, x: TensorInfo[]): TensorInfo[] {
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

export function pool(kind: 'max' | 'avg') {
  return (n: Node, x: T[]): T[] => {
    const k = hw(n, 'ksize', [1, 1, 1, 1]);
    const s = hw(n, 'strides', [1, 1, 1, 1]);
    const p = attrStr(n, 'padding').toLowerCase() as 'same' | 'valid';
    if (p !== 'same' && p !== 'valid')
      throw new ModelFormatError(`unsupported pooling padding '${p}'`, { node: n.name });
    return [kind === 'max' ? tf.maxPool(x[0] as tf.Tensor4D, k, s, p) : tf.avgPool(x[0] as tf.Tensor4D, k, s, p)];
  };
}
export function poolInfer(n: Node, x: TensorInfo[]): TensorInfo[] {
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

export function conv2dBackpropInput(n: Node, x: T[]): T[] {
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
