// The canonical ops of the IR: how each runs in float with tfjs (mirroring exactly what
// tfjs-converter's executors and tfjs-layers call, so results are bit-identical to stock
// tfjs) and its shape inference, one entry per op in OPS (the convolution family's functions
// are in ops-conv.ts). Ops not listed here are opaque (src/model/opaque.ts).
import { tf } from '../backend/float.js';
import type { DType } from '../io/weights.js';
import { attrBool, attrInts, attrNum, attrStr } from './node-attrs.js';
import { ModelFormatError } from './errors.js';
import type { Node, TensorInfo } from './ir.js';
import { type OpSpec, broadcast, info, ints, same } from './op-spec.js';
import {
  conv2d,
  conv2dBackpropInput,
  convInfer,
  depthwise,
  matmul,
  matmulInfer,
  matmulInt32,
  pool,
  poolInfer,
} from './ops-conv.js';

type T = tf.Tensor;

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
