// Windowed operators: im2col, depthwise and transposed convolution, pooling.
import type { OpsConvGeom } from '../../../binding.js';
import { native } from '../../native/binding.js';
import { assertFinite, assertInt, assertLength, assertTypedArray, shapeSize } from '../../native/validate.js';
import { qRange, requantizeMultiplier } from '../scheme.js';
import {
  type ConvOptions,
  type FusedActivation,
  type Q8Array,
  type QParams,
  alloc,
  anyKind,
  assertObject,
  bounds,
  checkActivation,
  checkParams,
  checkX,
  convGeometry,
  f32Scales,
  floatBounds,
  pair,
  poolQ,
  q8Type,
  shape4,
} from './args.js';

/**
 * The Conv2D GEMM A matrix (rows N·OH·OW, columns KH·KW·C, row stride lda ≥ columns), padding
 * with `padValue` (the input zero point for 8-bit data; 0 for float). A 1×1 stride-1 VALID
 * convolution needs none: x is A.
 */
export function im2col<T extends Q8Array | Float32Array>(
  x: T,
  xShape: readonly number[],
  filterSize: readonly number[],
  opts: ConvOptions & { padValue?: number; lda?: number },
): { a: T; rows: number; cols: number; lda: number; geom: OpsConvGeom } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = convGeometry(xShape, filterSize, opts);
  checkX(x, xShape);
  const cols = g.filterHeight * g.filterWidth * g.inChannels;
  const lda = opts.lda ?? cols;
  assertInt(lda, 'lda', cols);
  const padValue = opts.padValue ?? 0;
  if (kind === 'float32') assertFinite(padValue, 'padValue');
  else {
    const [lo, hi] = qRange(kind);
    assertInt(padValue, 'padValue', lo, hi);
  }
  const rows = g.batch * g.outHeight * g.outWidth;
  const a = alloc(x, rows * lda);
  native().opsIm2col(g, x, a, { padValue, lda });
  return { a, rows, cols, lda, geom: g };
}

// ---------------------------------------------------------------- depthwise

export interface DepthwiseInt8Args<T extends Q8Array> {
  x: T;
  /** [batch, h, w, c] */
  xShape: readonly number[];
  xParams: QParams;
  /** int8 symmetric [kh, kw, c, multiplier] */
  filter: Int8Array;
  filterShape: readonly number[];
  /** one per output channel c·multiplier (or one number) */
  filterScales: number | Float32Array | readonly number[];
  bias?: Int32Array | null;
  yParams: QParams;
  activation?: FusedActivation;
}

/** DepthwiseConv2D int8/uint8 (§11.2). */
export function depthwiseConv2dInt8<T extends Q8Array>(
  args: DepthwiseInt8Args<T>,
  opts: ConvOptions,
): { y: T; shape: number[] } {
  assertObject(args, 'args');
  const type = q8Type(args.x, 'x');
  assertTypedArray(args.filter, Int8Array, 'filter');
  const fs = shape4(args.filterShape, 'filterShape');
  const g = convGeometry(args.xShape, [fs[0], fs[1]], opts);
  if (fs[2] !== g.inChannels)
    throw new RangeError(`filterShape[2] (${fs[2]}) must equal the input channels (${g.inChannels})`);
  if (fs[3] < 1) throw new RangeError('filterShape[3] (channel multiplier) must be >= 1');
  checkX(args.x, args.xShape);
  assertLength(args.filter, shapeSize(fs), 'filter', `shape [${fs.join(', ')}]`);
  const oc = fs[2] * fs[3];
  const xp = checkParams(args.xParams, type, 'xParams');
  const yp = checkParams(args.yParams, type, 'yParams');
  const ws = f32Scales(args.filterScales, oc, 'filterScales');
  const bias = args.bias ?? null;
  if (bias !== null) {
    assertTypedArray(bias, Int32Array, 'bias');
    assertLength(bias, oc, 'bias', 'one per output channel');
  }
  const multipliers = ws.map((s) => requantizeMultiplier(xp.scale, s, yp.scale));
  multipliers.forEach((m, i) => {
    if (!(m > 0) || !Number.isFinite(m))
      throw new RangeError(`requantization multiplier of channel ${i} is not a finite float32 > 0`);
  });
  const b = bounds(type, yp, checkActivation(args.activation));
  const shape = [g.batch, g.outHeight, g.outWidth, oc];
  const y = alloc(args.x, shapeSize(shape));
  native().opsDepthwiseConv2d(g, args.x, args.filter, y, {
    bias,
    q: { multiplier: fs[3], xZeroPoint: xp.zeroPoint, multipliers, yZeroPoint: yp.zeroPoint, ...b },
  });
  return { y, shape };
}

/** DepthwiseConv2D float32 with optional bias and fused 'relu' / 'relu6' / { min, max }. */
export function depthwiseConv2d(
  x: Float32Array,
  xShape: readonly number[],
  filter: Float32Array,
  filterShape: readonly number[],
  opts: ConvOptions & { bias?: Float32Array | null; activation?: FusedActivation },
): { y: Float32Array; shape: number[] } {
  assertTypedArray(x, Float32Array, 'x');
  assertTypedArray(filter, Float32Array, 'filter');
  const fs = shape4(filterShape, 'filterShape');
  const g = convGeometry(xShape, [fs[0], fs[1]], opts);
  if (fs[2] !== g.inChannels)
    throw new RangeError(`filterShape[2] (${fs[2]}) must equal the input channels (${g.inChannels})`);
  checkX(x, xShape);
  assertLength(filter, shapeSize(fs), 'filter');
  const oc = fs[2] * fs[3];
  const bias = opts.bias ?? null;
  if (bias !== null) {
    assertTypedArray(bias, Float32Array, 'bias');
    assertLength(bias, oc, 'bias');
  }
  const [lo, hi] = floatBounds(opts.activation);
  const shape = [g.batch, g.outHeight, g.outWidth, oc];
  const y = new Float32Array(shapeSize(shape));
  native().opsDepthwiseConv2dF32(g, x, filter, y, { bias, multiplier: fs[3], yMin: lo, yMax: hi });
  return { y, shape };
}

// ---------------------------------------------------------------- transposed convolution

export interface Conv2dTransposeInt8Args<T extends Q8Array> {
  dy: T;
  /** [batch, h, w, inDepth] */
  dyShape: readonly number[];
  dyParams: QParams;
  /** int8 [kh, kw, outDepth, inDepth] (TF.js conv2dTranspose layout) */
  filter: Int8Array;
  filterShape: readonly number[];
  /** one per output channel (axis 2) */
  filterScales: number | Float32Array | readonly number[];
  bias?: Int32Array | null;
  yParams: QParams;
  /** [batch, height, width, outDepth] */
  outputShape: readonly number[];
  activation?: FusedActivation;
}

/** Conv2DTranspose (Conv2DBackpropInput) int8/uint8 (§11.3). */
export function conv2dTransposeInt8<T extends Q8Array>(
  args: Conv2dTransposeInt8Args<T>,
  opts: ConvOptions,
): { y: T; shape: number[] } {
  assertObject(args, 'args');
  const type = q8Type(args.dy, 'dy');
  assertTypedArray(args.filter, Int8Array, 'filter');
  const fs = shape4(args.filterShape, 'filterShape');
  const os = shape4(args.outputShape, 'outputShape');
  const ds = shape4(args.dyShape, 'dyShape');
  if (ds[0] !== os[0]) throw new RangeError(`dyShape batch (${ds[0]}) must equal outputShape batch (${os[0]})`);
  if (fs[2] !== os[3]) throw new RangeError(`filterShape[2] (${fs[2]}) must equal outputShape channels (${os[3]})`);
  if (fs[3] !== ds[3]) throw new RangeError(`filterShape[3] (${fs[3]}) must equal dy channels (${ds[3]})`);
  const g = convGeometry(os, [fs[0], fs[1]], opts);
  if (g.outHeight !== ds[1] || g.outWidth !== ds[2]) {
    throw new RangeError(
      `dyShape [${ds.join(', ')}] does not match outputShape [${os.join(', ')}] with these strides/padding (expected spatial ${g.outHeight}x${g.outWidth})`,
    );
  }
  checkX(args.dy, ds, 'dy');
  assertLength(args.filter, shapeSize(fs), 'filter');
  const dp = checkParams(args.dyParams, type, 'dyParams');
  const yp = checkParams(args.yParams, type, 'yParams');
  const ws = f32Scales(args.filterScales, os[3], 'filterScales');
  const bias = args.bias ?? null;
  if (bias !== null) {
    assertTypedArray(bias, Int32Array, 'bias');
    assertLength(bias, os[3], 'bias');
  }
  const multipliers = ws.map((s) => requantizeMultiplier(dp.scale, s, yp.scale));
  multipliers.forEach((m, i) => {
    if (!(m > 0) || !Number.isFinite(m))
      throw new RangeError(`requantization multiplier of channel ${i} is not a finite float32 > 0`);
  });
  const b = bounds(type, yp, checkActivation(args.activation));
  const y = alloc(args.dy, shapeSize(os));
  native().opsConv2dTranspose(g, args.dy, args.filter, y, {
    bias,
    q: { dyChannels: ds[3], dyZeroPoint: dp.zeroPoint, multipliers, yZeroPoint: yp.zeroPoint, ...b },
  });
  return { y, shape: [...os] };
}

// ---------------------------------------------------------------- pooling

export interface PoolOptions extends ConvOptions {
  filterSize: number | [number, number];
}

function poolGeom(xShape: readonly number[], opts: PoolOptions): OpsConvGeom {
  assertObject(opts, 'options');
  const fs = pair(opts.filterSize, 'filterSize', 1);
  const g = convGeometry(xShape, fs, opts);
  const eh = (g.filterHeight - 1) * g.dilationHeight + 1,
    ew = (g.filterWidth - 1) * g.dilationWidth + 1;
  if (g.padTop >= eh || g.padBottom >= eh || g.padLeft >= ew || g.padRight >= ew)
    throw new RangeError('pooling pads must be smaller than the window');
  return g;
}

/** MaxPool: float32, or 8-bit (output keeps the input parameters; xParams needed only for a fused activation). */
export function maxPool<T extends Q8Array | Float32Array>(
  x: T,
  xShape: readonly number[],
  opts: PoolOptions & { xParams?: QParams; activation?: FusedActivation },
): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = poolGeom(xShape, opts);
  checkX(x, xShape);
  const shape = [g.batch, g.outHeight, g.outWidth, g.inChannels];
  const y = alloc(x, shapeSize(shape));
  if (kind === 'float32') {
    native().opsPool(g, x, y, { kind: 'max' });
  } else {
    const act = checkActivation(opts.activation);
    let b = { yMin: qRange(kind)[0], yMax: qRange(kind)[1] };
    if (act !== 'none') {
      if (opts.xParams === undefined) throw new TypeError('xParams is required with a fused activation');
      b = bounds(kind, checkParams(opts.xParams, kind, 'xParams'), act);
    }
    native().opsPool(g, x, y, { kind: 'max', q: b });
  }
  return { y, shape };
}

/** AvgPool (padding not counted): float32, or 8-bit with xParams (and yParams, default = xParams). */
export function avgPool<T extends Q8Array | Float32Array>(
  x: T,
  xShape: readonly number[],
  opts: PoolOptions & { xParams?: QParams; yParams?: QParams; activation?: FusedActivation },
): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = poolGeom(xShape, opts);
  checkX(x, xShape);
  const shape = [g.batch, g.outHeight, g.outWidth, g.inChannels];
  const y = alloc(x, shapeSize(shape));
  native().opsPool(g, x, y, {
    kind: 'avg',
    q: kind === 'float32' ? null : poolQ(kind, opts.xParams, opts.yParams, opts.activation),
  });
  return { y, shape };
}

/** Mean over height and width of [batch, h, w, c] → [batch, c] (global average pooling). */
export function meanHW<T extends Q8Array | Float32Array>(
  x: T,
  xShape: readonly number[],
  q?: { xParams: QParams; yParams?: QParams; activation?: FusedActivation },
): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const [b, h, w, c] = shape4(xShape, 'xShape');
  if (b < 1 || h < 1 || w < 1 || c < 1) throw new RangeError('xShape dimensions must be >= 1');
  if (h * w > 2 ** 23) throw new RangeError(`height × width must be <= 2^23, got ${h * w}`);
  checkX(x, xShape);
  const y = alloc(x, b * c);
  let qq = null;
  if (kind !== 'float32') {
    assertObject(q, 'q');
    qq = poolQ(kind, q.xParams, q.yParams, q.activation);
  }
  native().opsMean(x, y, { batch: b, hw: h * w, channels: c, q: qq });
  return { y, shape: [b, c] };
}
