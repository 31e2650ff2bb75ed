// Validated wrappers over the native operator kernels (native/ops; formulas in
// docs/quantization.md §11). Every argument is checked here before it crosses into C++
// (which checks again); outputs are allocated here. 8-bit tensors are Int8Array or
// Uint8Array with per-tensor { scale, zeroPoint }; weights are int8 symmetric per channel.
import type {
  OpsActivation, OpsBinaryOp, OpsConvGeom, OpsStridedSliceMasks,
} from '../../binding.js';
import { native } from '../native/binding.js';
import {
  assertFinite, assertInt, assertLength, assertOneOf, assertPositiveFinite, assertShape, assertTypedArray, describe,
  shapeSize,
} from '../native/validate.js';
import { activationBounds, fl32, qRange, requantizeMultiplier, type Activation } from '../quant/scheme.js';

export type { OpsActivation, OpsBinaryOp, OpsConvGeom, OpsStridedSliceMasks };
export type Q8Array = Int8Array | Uint8Array;
export type AnyArray = Int8Array | Uint8Array | Int32Array | Float32Array;
export type Q8Type = 'int8' | 'uint8';

export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** Fused activation for 8-bit outputs (§7 clamp bounds). */
export type FusedActivation = Activation;

export const ACTIVATIONS: readonly OpsActivation[] = [
  'linear', 'relu', 'relu6', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'hardSwish', 'swish', 'hardSigmoid',
];
export const BINARY_OPS: readonly OpsBinaryOp[] = ['add', 'sub', 'mul', 'maximum', 'minimum', 'div', 'squaredDifference'];

// ---------------------------------------------------------------- argument helpers

function q8Type(x: unknown, name: string): Q8Type {
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Uint8Array && !(x instanceof Uint8ClampedArray)) return 'uint8';
  throw new TypeError(`${name} must be an Int8Array or Uint8Array, got ${describe(x)}`);
}

function anyKind(x: unknown, name: string): 'int8' | 'uint8' | 'int32' | 'float32' {
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Uint8Array && !(x instanceof Uint8ClampedArray)) return 'uint8';
  if (x instanceof Int32Array) return 'int32';
  if (x instanceof Float32Array) return 'float32';
  throw new TypeError(`${name} must be an Int8Array, Uint8Array, Int32Array or Float32Array, got ${describe(x)}`);
}

function alloc<T extends AnyArray>(like: T, n: number): T {
  return new (like.constructor as new (n: number) => T)(n);
}

function assertObject(v: unknown, name: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${name} must be an object, got ${describe(v)}`);
}

function checkParams(p: unknown, type: Q8Type, name: string): QParams {
  assertObject(p, name);
  assertPositiveFinite(p.scale, `${name}.scale`);
  const s = fl32(p.scale as number);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`${name}.scale = ${p.scale} is not a finite float32 > 0`);
  const [lo, hi] = qRange(type);
  assertInt(p.zeroPoint, `${name}.zeroPoint`, lo, hi);
  return { scale: s, zeroPoint: p.zeroPoint as number };
}

function checkActivation(a: unknown, name = 'activation'): FusedActivation {
  if (a === undefined) return 'none';
  if (a === 'none' || a === 'relu' || a === 'relu6') return a;
  if (typeof a === 'object' && a !== null) {
    const o = a as { min?: unknown; max?: unknown };
    assertFinite(o.min, `${name}.min`);
    assertFinite(o.max, `${name}.max`);
    if (o.min > o.max) throw new RangeError(`${name}.min must be <= ${name}.max`);
    return { min: o.min, max: o.max };
  }
  throw new RangeError(`${name} must be 'none', 'relu', 'relu6' or { min, max }, got ${describe(a)}`);
}

function bounds(type: Q8Type, y: QParams, act: FusedActivation): { yMin: number; yMax: number } {
  const [yMin, yMax] = activationBounds(type, y.zeroPoint, y.scale, act);
  if (yMin > yMax) throw new RangeError(`activation leaves no representable output value (bounds [${yMin}, ${yMax}])`);
  return { yMin, yMax };
}

function floatBounds(act: unknown): [number, number] {
  if (act === undefined || act === 'none') return [-Infinity, Infinity];
  if (act === 'relu') return [0, Infinity];
  if (act === 'relu6') return [0, 6];
  const a = checkActivation(act);
  if (typeof a === 'object') return [a.min, a.max];
  return [-Infinity, Infinity];
}

function shape4(shape: unknown, name: string): [number, number, number, number] {
  assertShape(shape, name);
  if (shape.length !== 4) throw new RangeError(`${name} must be [batch, height, width, channels], got rank ${shape.length}`);
  return shape as [number, number, number, number];
}

function pair(v: unknown, name: string, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') { assertInt(v, name, 1, 2 ** 31 - 1); return [v, v]; }
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError(`${name} must be a number or [h, w], got ${describe(v)}`);
  assertInt(v[0], `${name}[0]`, 1, 2 ** 31 - 1);
  assertInt(v[1], `${name}[1]`, 1, 2 ** 31 - 1);
  return [v[0], v[1]];
}

function f32Scales(v: unknown, n: number, name: string): Float32Array {
  if (typeof v === 'number') v = new Array(n).fill(v);
  if (!(v instanceof Float32Array) && !Array.isArray(v)) throw new TypeError(`${name} must be a number, an array or a Float32Array, got ${describe(v)}`);
  assertLength(v as ArrayLike<number>, n, name, 'one per output channel');
  const out = Float32Array.from(v as ArrayLike<number>);
  out.forEach((s, i) => { if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`${name}[${i}] must be a finite float32 > 0, got ${(v as ArrayLike<number>)[i]}`); });
  return out;
}

// ---------------------------------------------------------------- geometry

/** 'same' | 'valid' | explicit [top, bottom, left, right] | [[top, bottom], [left, right]] */
export type PaddingSpec = 'same' | 'valid' | readonly number[] | readonly (readonly number[])[];

export interface ConvOptions {
  strides?: number | [number, number];
  dilations?: number | [number, number];
  padding: PaddingSpec;
}

/**
 * NHWC geometry of a convolution / pooling window (TF padding rules, §11.1), resolved natively.
 * filterSize: [kh, kw]; xShape: [batch, h, w, c].
 */
export function convGeometry(xShape: readonly number[], filterSize: readonly number[], opts: ConvOptions): OpsConvGeom {
  const [batch, inHeight, inWidth, inChannels] = shape4(xShape, 'xShape');
  if (!Array.isArray(filterSize) || filterSize.length !== 2) throw new TypeError(`filterSize must be [height, width], got ${describe(filterSize)}`);
  assertInt(filterSize[0], 'filterSize[0]', 1, 2 ** 31 - 1);
  assertInt(filterSize[1], 'filterSize[1]', 1, 2 ** 31 - 1);
  assertObject(opts, 'options');
  const [strideHeight, strideWidth] = pair(opts.strides, 'strides', 1);
  const [dilationHeight, dilationWidth] = pair(opts.dilations, 'dilations', 1);
  for (const [v, n] of [[batch, 'batch'], [inHeight, 'height'], [inWidth, 'width'], [inChannels, 'channels']] as const) {
    if (v < 1) throw new RangeError(`xShape ${n} must be >= 1, got ${v}`);
  }
  const base = {
    batch, inHeight, inWidth, inChannels, filterHeight: filterSize[0], filterWidth: filterSize[1],
    strideHeight, strideWidth, dilationHeight, dilationWidth,
  };
  const p = opts.padding;
  if (p === 'same' || p === 'valid') return native().opsConvGeometry({ ...base, padding: p });
  if (!Array.isArray(p)) throw new TypeError(`padding must be 'same', 'valid' or explicit pads, got ${describe(p)}`);
  const flat = (p as unknown[]).flat() as unknown[];
  if (flat.length !== 4) throw new RangeError('explicit padding must be [top, bottom, left, right] or [[top, bottom], [left, right]]');
  flat.forEach((v, i) => assertInt(v, `padding[${i}]`, 0, 2 ** 31 - 1));
  const [padTop, padBottom, padLeft, padRight] = flat as number[];
  return native().opsConvGeometry({ ...base, padding: 'explicit', padTop, padBottom, padLeft, padRight });
}

function checkX(x: unknown, xShape: readonly number[], name = 'x'): void {
  assertLength(x as ArrayLike<number>, shapeSize(xShape), name, `shape [${xShape.join(', ')}]`);
}

// ---------------------------------------------------------------- im2col

/**
 * The Conv2D GEMM A matrix (rows N·OH·OW, columns KH·KW·C, row stride lda ≥ columns), padding
 * with `padValue` (the input zero point for 8-bit data; 0 for float). A 1×1 stride-1 VALID
 * convolution needs none: x is A.
 */
export function im2col<T extends Q8Array | Float32Array>(x: T, xShape: readonly number[], filterSize: readonly number[],
  opts: ConvOptions & { padValue?: number; lda?: number }): { a: T; rows: number; cols: number; lda: number; geom: OpsConvGeom } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = convGeometry(xShape, filterSize, opts);
  checkX(x, xShape);
  const cols = g.filterHeight * g.filterWidth * g.inChannels;
  const lda = opts.lda ?? cols;
  assertInt(lda, 'lda', cols);
  const padValue = opts.padValue ?? 0;
  if (kind === 'float32') assertFinite(padValue, 'padValue');
  else { const [lo, hi] = qRange(kind); assertInt(padValue, 'padValue', lo, hi); }
  const rows = g.batch * g.outHeight * g.outWidth;
  const a = alloc(x, rows * lda);
  native().opsIm2col(g, x, padValue, a, lda);
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
export function depthwiseConv2dInt8<T extends Q8Array>(args: DepthwiseInt8Args<T>, opts: ConvOptions): { y: T; shape: number[] } {
  assertObject(args, 'args');
  const type = q8Type(args.x, 'x');
  assertTypedArray(args.filter, Int8Array, 'filter');
  const fs = shape4(args.filterShape, 'filterShape');
  const g = convGeometry(args.xShape, [fs[0], fs[1]], opts);
  if (fs[2] !== g.inChannels) throw new RangeError(`filterShape[2] (${fs[2]}) must equal the input channels (${g.inChannels})`);
  if (fs[3] < 1) throw new RangeError('filterShape[3] (channel multiplier) must be >= 1');
  checkX(args.x, args.xShape);
  assertLength(args.filter, shapeSize(fs), 'filter', `shape [${fs.join(', ')}]`);
  const oc = fs[2] * fs[3];
  const xp = checkParams(args.xParams, type, 'xParams');
  const yp = checkParams(args.yParams, type, 'yParams');
  const ws = f32Scales(args.filterScales, oc, 'filterScales');
  const bias = args.bias ?? null;
  if (bias !== null) { assertTypedArray(bias, Int32Array, 'bias'); assertLength(bias, oc, 'bias', 'one per output channel'); }
  const multipliers = ws.map((s) => requantizeMultiplier(xp.scale, s, yp.scale));
  multipliers.forEach((m, i) => { if (!(m > 0) || !Number.isFinite(m)) throw new RangeError(`requantization multiplier of channel ${i} is not a finite float32 > 0`); });
  const b = bounds(type, yp, checkActivation(args.activation));
  const shape = [g.batch, g.outHeight, g.outWidth, oc];
  const y = alloc(args.x, shapeSize(shape));
  native().opsDepthwiseConv2d(g, args.x, args.filter, bias, {
    multiplier: fs[3], xZeroPoint: xp.zeroPoint, multipliers, yZeroPoint: yp.zeroPoint, ...b,
  }, y);
  return { y, shape };
}

/** DepthwiseConv2D float32 with optional bias and fused 'relu' / 'relu6' / { min, max }. */
export function depthwiseConv2d(x: Float32Array, xShape: readonly number[], filter: Float32Array, filterShape: readonly number[],
  opts: ConvOptions & { bias?: Float32Array | null; activation?: FusedActivation }): { y: Float32Array; shape: number[] } {
  assertTypedArray(x, Float32Array, 'x');
  assertTypedArray(filter, Float32Array, 'filter');
  const fs = shape4(filterShape, 'filterShape');
  const g = convGeometry(xShape, [fs[0], fs[1]], opts);
  if (fs[2] !== g.inChannels) throw new RangeError(`filterShape[2] (${fs[2]}) must equal the input channels (${g.inChannels})`);
  checkX(x, xShape);
  assertLength(filter, shapeSize(fs), 'filter');
  const oc = fs[2] * fs[3];
  const bias = opts.bias ?? null;
  if (bias !== null) { assertTypedArray(bias, Float32Array, 'bias'); assertLength(bias, oc, 'bias'); }
  const [lo, hi] = floatBounds(opts.activation);
  const shape = [g.batch, g.outHeight, g.outWidth, oc];
  const y = new Float32Array(shapeSize(shape));
  native().opsDepthwiseConv2dF32(g, fs[3], x, filter, bias, lo, hi, y);
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
export function conv2dTransposeInt8<T extends Q8Array>(args: Conv2dTransposeInt8Args<T>, opts: ConvOptions): { y: T; shape: number[] } {
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
    throw new RangeError(`dyShape [${ds.join(', ')}] does not match outputShape [${os.join(', ')}] with these strides/padding (expected spatial ${g.outHeight}x${g.outWidth})`);
  }
  checkX(args.dy, ds, 'dy');
  assertLength(args.filter, shapeSize(fs), 'filter');
  const dp = checkParams(args.dyParams, type, 'dyParams');
  const yp = checkParams(args.yParams, type, 'yParams');
  const ws = f32Scales(args.filterScales, os[3], 'filterScales');
  const bias = args.bias ?? null;
  if (bias !== null) { assertTypedArray(bias, Int32Array, 'bias'); assertLength(bias, os[3], 'bias'); }
  const multipliers = ws.map((s) => requantizeMultiplier(dp.scale, s, yp.scale));
  multipliers.forEach((m, i) => { if (!(m > 0) || !Number.isFinite(m)) throw new RangeError(`requantization multiplier of channel ${i} is not a finite float32 > 0`); });
  const b = bounds(type, yp, checkActivation(args.activation));
  const y = alloc(args.dy, shapeSize(os));
  native().opsConv2dTranspose(g, args.dy, args.filter, bias, {
    dyChannels: ds[3], dyZeroPoint: dp.zeroPoint, multipliers, yZeroPoint: yp.zeroPoint, ...b,
  }, y);
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
  const eh = (g.filterHeight - 1) * g.dilationHeight + 1, ew = (g.filterWidth - 1) * g.dilationWidth + 1;
  if (g.padTop >= eh || g.padBottom >= eh || g.padLeft >= ew || g.padRight >= ew) throw new RangeError('pooling pads must be smaller than the window');
  return g;
}

/** MaxPool: float32, or 8-bit (output keeps the input parameters; xParams needed only for a fused activation). */
export function maxPool<T extends Q8Array | Float32Array>(x: T, xShape: readonly number[], opts: PoolOptions & { xParams?: QParams; activation?: FusedActivation }): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = poolGeom(xShape, opts);
  checkX(x, xShape);
  const shape = [g.batch, g.outHeight, g.outWidth, g.inChannels];
  const y = alloc(x, shapeSize(shape));
  if (kind === 'float32') {
    native().opsPool('max', g, x, null, y);
  } else {
    const act = checkActivation(opts.activation);
    let b = { yMin: qRange(kind)[0], yMax: qRange(kind)[1] };
    if (act !== 'none') {
      if (opts.xParams === undefined) throw new TypeError('xParams is required with a fused activation');
      b = bounds(kind, checkParams(opts.xParams, kind, 'xParams'), act);
    }
    native().opsPool('max', g, x, b, y);
  }
  return { y, shape };
}

function poolQ(kind: Q8Type, xParams: unknown, yParams: unknown, act: unknown) {
  const xp = checkParams(xParams, kind, 'xParams');
  const yp = yParams === undefined ? xp : checkParams(yParams, kind, 'yParams');
  return { xScale: xp.scale, xZeroPoint: xp.zeroPoint, yScale: yp.scale, yZeroPoint: yp.zeroPoint, ...bounds(kind, yp, checkActivation(act)) };
}

/** AvgPool (padding not counted): float32, or 8-bit with xParams (and yParams, default = xParams). */
export function avgPool<T extends Q8Array | Float32Array>(x: T, xShape: readonly number[],
  opts: PoolOptions & { xParams?: QParams; yParams?: QParams; activation?: FusedActivation }): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const g = poolGeom(xShape, opts);
  checkX(x, xShape);
  const shape = [g.batch, g.outHeight, g.outWidth, g.inChannels];
  const y = alloc(x, shapeSize(shape));
  native().opsPool('avg', g, x, kind === 'float32' ? null : poolQ(kind, opts.xParams, opts.yParams, opts.activation), y);
  return { y, shape };
}

/** Mean over height and width of [batch, h, w, c] → [batch, c] (global average pooling). */
export function meanHW<T extends Q8Array | Float32Array>(x: T, xShape: readonly number[],
  q?: { xParams: QParams; yParams?: QParams; activation?: FusedActivation }): { y: T; shape: number[] } {
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
  native().opsMean(b, h * w, c, x, qq, y);
  return { y, shape: [b, c] };
}

// ---------------------------------------------------------------- elementwise

/** NumPy/TF broadcast shape; throws RangeError when incompatible. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  assertShape(a, 'aShape');
  assertShape(b, 'bShape');
  if (a.length > 6 || b.length > 6) throw new RangeError('rank must be <= 6');
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da !== db && da !== 1 && db !== 1) throw new RangeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcast-compatible`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

export interface BinaryInt8Params {
  a: QParams;
  b: QParams;
  y: QParams;
  activation?: FusedActivation;
}

/**
 * Broadcasting binary op. float32: every op, optional fused activation. 8-bit: add, sub,
 * mul, maximum, minimum with rescaling between three parameter sets (§11.4).
 */
export function binary<T extends Q8Array | Float32Array>(op: OpsBinaryOp, a: T, aShape: readonly number[], b: T, bShape: readonly number[],
  q?: BinaryInt8Params | { activation?: FusedActivation }): { y: T; shape: number[] } {
  assertOneOf(op, BINARY_OPS, 'op');
  const kind = anyKind(a, 'a');
  if (kind === 'int32') throw new TypeError('a must be an Int8Array, Uint8Array or Float32Array');
  if (anyKind(b, 'b') !== kind) throw new TypeError(`b must have the same element type as a (${a.constructor.name})`);
  const shape = broadcastShape(aShape, bShape);
  checkX(a, aShape, 'a');
  checkX(b, bShape, 'b');
  const y = alloc(a, shapeSize(shape));
  if (kind === 'float32') {
    const [yMin, yMax] = floatBounds(q?.activation);
    native().opsBinary(op, [...aShape], a, [...bShape], b, { yMin, yMax }, y);
    return { y, shape };
  }
  if (!['add', 'sub', 'mul', 'maximum', 'minimum'].includes(op)) throw new RangeError(`op '${op}' is not supported for 8-bit data (add, sub, mul, maximum, minimum)`);
  assertObject(q, 'q');
  const p = q as BinaryInt8Params;
  const ap = checkParams(p.a, kind, 'q.a'), bp = checkParams(p.b, kind, 'q.b'), yp = checkParams(p.y, kind, 'q.y');
  native().opsBinary(op, [...aShape], a, [...bShape], b, {
    aScale: ap.scale, aZeroPoint: ap.zeroPoint, bScale: bp.scale, bZeroPoint: bp.zeroPoint,
    yScale: yp.scale, yZeroPoint: yp.zeroPoint, ...bounds(kind, yp, checkActivation(p.activation)),
  }, y);
  return { y, shape };
}

// ---------------------------------------------------------------- activations

/** float32 activation (alpha: LeakyReLU slope, default 0.2 as tf.leakyRelu). */
export function activation(kind: OpsActivation, x: Float32Array, alpha = 0.2): Float32Array {
  assertOneOf(kind, ACTIVATIONS, 'kind');
  assertTypedArray(x, Float32Array, 'x');
  assertFinite(alpha, 'alpha');
  const y = new Float32Array(x.length);
  native().opsActivation(kind, alpha, x, y);
  return y;
}

export interface LutParams {
  x: QParams & { type: Q8Type };
  y: QParams & { type: Q8Type };
  /** LeakyReLU slope (default 0.2) */
  alpha?: number;
  /** further clamp of the output (fused activation after the function) */
  activation?: FusedActivation;
}

/** The 256-entry table of an 8-bit activation (§11.5), built natively (the runtime uses the same function). */
export function buildLut(kind: OpsActivation, p: LutParams): Uint8Array {
  assertOneOf(kind, ACTIVATIONS, 'kind');
  assertObject(p, 'params');
  assertObject(p.x, 'params.x');
  assertObject(p.y, 'params.y');
  assertOneOf(p.x.type, ['int8', 'uint8'] as const, 'params.x.type');
  assertOneOf(p.y.type, ['int8', 'uint8'] as const, 'params.y.type');
  const xp = checkParams(p.x, p.x.type, 'params.x');
  const yp = checkParams(p.y, p.y.type, 'params.y');
  const alpha = p.alpha ?? 0.2;
  assertFinite(alpha, 'params.alpha');
  const b = bounds(p.y.type, yp, checkActivation(p.activation, 'params.activation'));
  return native().opsBuildLut(kind, alpha, p.x.type, xp.scale, xp.zeroPoint, p.y.type, yp.scale, yp.zeroPoint, b.yMin, b.yMax);
}

/** y[i] = table[x[i]] over raw bytes; yType chooses the output array type (default: x's). */
export function applyLut(table: Uint8Array, x: Q8Array, yType?: Q8Type): Q8Array {
  assertTypedArray(table, Uint8Array, 'table');
  assertLength(table, 256, 'table');
  const t = q8Type(x, 'x');
  const yt = yType ?? t;
  assertOneOf(yt, ['int8', 'uint8'] as const, 'yType');
  const y = yt === 'int8' ? new Int8Array(x.length) : new Uint8Array(x.length);
  native().opsApplyLut(table, x, y);
  return y;
}

/** PReLU with alpha per channel of the last dimension: float32, or 8-bit with q (§11.5). */
export function prelu<T extends Q8Array | Float32Array>(x: T, alpha: Float32Array | readonly number[],
  q?: { xParams: QParams; yParams: QParams; activation?: FusedActivation }): T {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  if (!(alpha instanceof Float32Array) && !Array.isArray(alpha)) throw new TypeError(`alpha must be a Float32Array or an array, got ${describe(alpha)}`);
  const al = Float32Array.from(alpha);
  if (al.length === 0) throw new RangeError('alpha must not be empty');
  al.forEach((v, i) => { if (!Number.isFinite(v)) throw new RangeError(`alpha[${i}] must be finite`); });
  if (x.length % al.length !== 0) throw new RangeError(`x has ${x.length} elements, not a multiple of the ${al.length} alpha channels`);
  const y = alloc(x, x.length);
  if (kind === 'float32') {
    native().opsPrelu(x, al, null, y);
    return y;
  }
  assertObject(q, 'q');
  const xp = checkParams(q.xParams, kind, 'q.xParams'), yp = checkParams(q.yParams, kind, 'q.yParams');
  native().opsPrelu(x, al, { xScale: xp.scale, xZeroPoint: xp.zeroPoint, yScale: yp.scale, yZeroPoint: yp.zeroPoint, ...bounds(kind, yp, checkActivation(q.activation)) }, y);
  return y;
}

/** float32 y = act(x + bias[c]) over the last dimension (act: none, relu, relu6, { min, max }). */
export function biasAdd(x: Float32Array, bias: Float32Array, activation?: FusedActivation): Float32Array {
  assertTypedArray(x, Float32Array, 'x');
  assertTypedArray(bias, Float32Array, 'bias');
  if (bias.length === 0) throw new RangeError('bias must not be empty');
  if (x.length % bias.length !== 0) throw new RangeError(`x has ${x.length} elements, not a multiple of the ${bias.length} bias channels`);
  const [lo, hi] = floatBounds(activation);
  const y = new Float32Array(x.length);
  native().opsBiasAdd(x, bias, lo, hi, y);
  return y;
}

// ---------------------------------------------------------------- softmax

/** The fixed-point exp table of the 8-bit softmax (§11.6). */
export function softmaxTable(beta: number, xScale: number): Uint32Array {
  assertPositiveFinite(beta, 'beta');
  assertPositiveFinite(xScale, 'xScale');
  return native().opsSoftmaxTable(beta, xScale);
}

/**
 * Softmax over the last dimension. float32 → float32; 8-bit → yType (default int8) with
 * scale 1/256 and zero point −128 (int8) or 0 (uint8). xScale is required for 8-bit input.
 */
export function softmax(x: Q8Array | Float32Array, shape: readonly number[], opts: { beta?: number; xScale?: number; yType?: Q8Type } = {}): Q8Array | Float32Array {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  assertShape(shape, 'shape');
  if (shape.length < 1) throw new RangeError('shape must have rank >= 1');
  checkX(x, shape);
  const cols = shape[shape.length - 1];
  if (cols < 1) throw new RangeError('the last dimension must be >= 1');
  const rows = x.length / cols;
  const beta = opts.beta ?? 1;
  assertPositiveFinite(beta, 'beta');
  if (kind === 'float32') {
    const y = new Float32Array(x.length);
    native().opsSoftmax(x, rows, cols, beta, 1, y);
    return y;
  }
  assertPositiveFinite(opts.xScale, 'xScale');
  const yt = opts.yType ?? 'int8';
  assertOneOf(yt, ['int8', 'uint8'] as const, 'yType');
  const y = yt === 'int8' ? new Int8Array(x.length) : new Uint8Array(x.length);
  native().opsSoftmax(x, rows, cols, beta, opts.xScale, y);
  return y;
}

// ---------------------------------------------------------------- data movement

export interface ConcatInput<T extends AnyArray> {
  data: T;
  shape: readonly number[];
  /** 8-bit inputs: their parameters (needed when yParams is given) */
  params?: QParams;
}

/**
 * Concat along `axis` (negative counts from the end). With yParams (8-bit data) each input is
 * requantized to the output parameters (copied when they match, §11.7).
 */
export function concat<T extends AnyArray>(inputs: readonly ConcatInput<T>[], axis: number,
  q?: { yParams: QParams; activation?: FusedActivation }): { y: T; shape: number[] } {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new TypeError('inputs must be a non-empty array of { data, shape }');
  inputs.forEach((inp, i) => {
    assertObject(inp, `inputs[${i}]`);
    anyKind(inp.data, `inputs[${i}].data`);
    assertShape(inp.shape, `inputs[${i}].shape`);
  });
  const first = inputs[0];
  const rank = first.shape.length;
  if (rank < 1 || rank > 6) throw new RangeError(`rank must be in [1, 6], got ${rank}`);
  assertInt(axis, 'axis', -rank, rank - 1);
  const ax = axis < 0 ? axis + rank : axis;
  const shape = [...first.shape];
  shape[ax] = 0;
  inputs.forEach((inp, i) => {
    if (inp.data.constructor !== first.data.constructor) throw new TypeError(`inputs[${i}].data must be a ${first.data.constructor.name} like inputs[0]`);
    if (inp.shape.length !== rank) throw new RangeError(`inputs[${i}] has rank ${inp.shape.length}, expected ${rank}`);
    inp.shape.forEach((d: number, k: number) => { if (k !== ax && d !== first.shape[k]) throw new RangeError(`inputs[${i}].shape [${inp.shape.join(', ')}] differs from [${first.shape.join(', ')}] outside axis ${ax}`); });
    checkX(inp.data, inp.shape, `inputs[${i}].data`);
    shape[ax] += inp.shape[ax];
  });
  const y = alloc(first.data, shapeSize(shape));
  let qq = null;
  if (q !== undefined) {
    const kind = q8Type(first.data, 'inputs[0].data');
    assertObject(q, 'q');
    const yp = checkParams(q.yParams, kind, 'q.yParams');
    const scales = new Float32Array(inputs.length), zeroPoints = new Int32Array(inputs.length);
    inputs.forEach((inp, i) => {
      const p = checkParams(inp.params, kind, `inputs[${i}].params`);
      scales[i] = p.scale;
      zeroPoints[i] = p.zeroPoint;
    });
    qq = { scales, zeroPoints, yScale: yp.scale, yZeroPoint: yp.zeroPoint, ...bounds(kind, yp, checkActivation(q.activation)) };
  }
  native().opsConcat(inputs.map((i) => i.data), inputs.map((i) => [...i.shape]), ax, qq, y);
  return { y, shape };
}

/** Pad with a constant (8-bit data: default the zero point you pass as value; float: 0). paddings: [[before, after], …]. */
export function pad<T extends AnyArray>(x: T, shape: readonly number[], paddings: readonly (readonly number[])[], value = 0): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  if (!Array.isArray(paddings) || paddings.length !== shape.length) throw new RangeError(`paddings must have one [before, after] pair per dimension (${shape.length})`);
  const before: number[] = [], after: number[] = [];
  paddings.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw new TypeError(`paddings[${i}] must be [before, after]`);
    assertInt(p[0], `paddings[${i}][0]`, 0, 2 ** 31 - 1);
    assertInt(p[1], `paddings[${i}][1]`, 0, 2 ** 31 - 1);
    before.push(p[0]);
    after.push(p[1]);
  });
  const kind = anyKind(x, 'x');
  if (kind === 'float32') assertFinite(value, 'value');
  else { const [lo, hi] = kind === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : qRange(kind); assertInt(value, 'value', lo, hi); }
  const out = shape.map((d, i) => d + before[i] + after[i]);
  const y = alloc(x, shapeSize(out));
  native().opsPad(x, [...shape], before, after, value, y);
  return { y, shape: out };
}

/** Transpose (rank ≤ 6): y.shape[d] = shape[perm[d]]. */
export function transpose<T extends AnyArray>(x: T, shape: readonly number[], perm: readonly number[]): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  if (!Array.isArray(perm) || perm.length !== shape.length) throw new RangeError(`perm must have ${shape.length} entries`);
  const seen = new Set<number>();
  perm.forEach((p, i) => {
    assertInt(p, `perm[${i}]`, 0, shape.length - 1);
    if (seen.has(p)) throw new RangeError('perm must be a permutation');
    seen.add(p);
  });
  const y = alloc(x, x.length);
  native().opsTranspose(x, [...shape], [...perm], y);
  return { y, shape: perm.map((p) => shape[p]) };
}

export interface StridedSliceOptions extends Partial<OpsStridedSliceMasks> {
  strides?: readonly number[];
}

/** StridedSlice with TF semantics (begin/end/ellipsis/new-axis/shrink-axis masks, negative strides). */
export function stridedSlice<T extends AnyArray>(x: T, shape: readonly number[], begin: readonly number[], end: readonly number[],
  opts: StridedSliceOptions = {}): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  const ints = (v: unknown, name: string): number[] => {
    if (!Array.isArray(v)) throw new TypeError(`${name} must be an array of integers, got ${describe(v)}`);
    v.forEach((e, i) => assertInt(e, `${name}[${i}]`));
    return [...v] as number[];
  };
  const b = ints(begin, 'begin'), e = ints(end, 'end');
  const s = opts.strides === undefined ? b.map(() => 1) : ints(opts.strides, 'strides');
  if (e.length !== b.length || s.length !== b.length) throw new RangeError('begin, end and strides must have the same length');
  s.forEach((v, i) => { if (v === 0) throw new RangeError(`strides[${i}] must be non-zero`); });
  const masks: OpsStridedSliceMasks = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };
  for (const k of Object.keys(masks) as (keyof OpsStridedSliceMasks)[]) {
    const v = opts[k] ?? 0;
    assertInt(v, k, 0, 2 ** 31 - 1);
    masks[k] = v;
  }
  const outShape = native().opsStridedSliceShape([...shape], b, e, s, masks);
  const y = alloc(x, shapeSize(outShape));
  native().opsStridedSlice(x, [...shape], b, e, s, masks, y);
  return { y, shape: outShape };
}

/** Slice (tf.slice): begin[d] ≥ 0, size[d] ≥ 0 or −1 (to the end); StridedSlice with stride 1. */
export function slice<T extends AnyArray>(x: T, shape: readonly number[], begin: readonly number[], size: readonly number[]): { y: T; shape: number[] } {
  assertShape(shape, 'shape');
  if (!Array.isArray(begin) || begin.length !== shape.length) throw new RangeError(`begin must have ${shape.length} entries (the rank)`);
  if (!Array.isArray(size) || size.length !== shape.length) throw new RangeError(`size must have ${shape.length} entries (the rank)`);
  const end = shape.map((d, i) => {
    assertInt(begin[i], `begin[${i}]`, 0, d);
    assertInt(size[i], `size[${i}]`, -1, d - begin[i]);
    return size[i] === -1 ? d : begin[i] + size[i];
  });
  return stridedSlice(x, shape, begin, end);
}

/** DepthToSpace (DCR, NHWC) with blockSize ≥ 2. */
export function depthToSpace<T extends AnyArray>(x: T, shape: readonly number[], blockSize: number): { y: T; shape: number[] } {
  anyKind(x, 'x');
  const [n, h, w, c] = shape4(shape, 'shape');
  checkX(x, shape);
  assertInt(blockSize, 'blockSize', 2, 65536);
  if (c % (blockSize * blockSize) !== 0) throw new RangeError(`channels (${c}) must be divisible by blockSize² (${blockSize * blockSize})`);
  const y = alloc(x, x.length);
  native().opsDepthToSpace(x, [...shape], blockSize, y);
  return { y, shape: [n, h * blockSize, w * blockSize, c / (blockSize * blockSize)] };
}

export interface ResizeOptions {
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

function resizeArgs(shape: readonly number[], size: readonly number[], opts: ResizeOptions) {
  const s = shape4(shape, 'shape');
  if (s.some((d) => d < 1)) throw new RangeError('shape dimensions must be >= 1');
  if (!Array.isArray(size) || size.length !== 2) throw new TypeError(`size must be [height, width], got ${describe(size)}`);
  assertInt(size[0], 'size[0]', 1, 2 ** 31 - 1);
  assertInt(size[1], 'size[1]', 1, 2 ** 31 - 1);
  const ac = opts.alignCorners ?? false, hp = opts.halfPixelCenters ?? false;
  if (typeof ac !== 'boolean') throw new TypeError('alignCorners must be a boolean');
  if (typeof hp !== 'boolean') throw new TypeError('halfPixelCenters must be a boolean');
  if (ac && hp) throw new RangeError('alignCorners and halfPixelCenters cannot both be true');
  return { s, ac, hp, out: [s[0], size[0], size[1], s[3]] };
}

/** ResizeNearestNeighbor (TF.js semantics); any element type, values copied. */
export function resizeNearest<T extends AnyArray>(x: T, shape: readonly number[], size: readonly number[], opts: ResizeOptions = {}): { y: T; shape: number[] } {
  anyKind(x, 'x');
  const { s, ac, hp, out } = resizeArgs(shape, size, opts);
  checkX(x, s);
  const y = alloc(x, shapeSize(out));
  native().opsResize('nearest', x, s, out[1], out[2], ac, hp, null, y);
  return { y, shape: out };
}

/** ResizeBilinear (TF.js semantics): float32, or 8-bit with xParams (yParams default = xParams), §11.8. */
export function resizeBilinear<T extends Q8Array | Float32Array>(x: T, shape: readonly number[], size: readonly number[],
  opts: ResizeOptions & { xParams?: QParams; yParams?: QParams; activation?: FusedActivation } = {}): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const { s, ac, hp, out } = resizeArgs(shape, size, opts);
  checkX(x, s);
  const y = alloc(x, shapeSize(out));
  native().opsResize('bilinear', x, s, out[1], out[2], ac, hp,
    kind === 'float32' ? null : poolQ(kind, opts.xParams, opts.yParams, opts.activation), y);
  return { y, shape: out };
}
