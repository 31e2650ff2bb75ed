// Validated wrappers over the native quantization kernels (docs/quantization.md §2–§8).
// Every argument is checked here before it crosses into C++ (which checks again); outputs
// are allocated here (or passed in as `out`) and filled natively. Per-channel tensors take
// `{ shape, axis }` (or a §5 weight kind via scheme.weightLayout) and one parameter per
// channel; without `axis` the parameters are per tensor.
import type { QuantParamScheme } from '../../binding.js';
import { native } from '../native/binding.js';
import {
  assertFinite,
  assertInt,
  assertLength,
  assertNoOverlap,
  assertOneOf,
  assertPositiveFinite,
  assertShape,
  assertTypedArray,
  describe,
  shapeSize,
} from '../native/validate.js';
import {
  activationBounds,
  channelLayout,
  fl32,
  PARAM_SCHEMES,
  perTensorLayout,
  qRange,
  weightLayout,
  type Activation,
  type ChannelLayout,
  type ParamScheme,
  type QParams,
  type WeightKind,
} from './scheme.js';

export type { Activation, ChannelLayout, ParamScheme, QParams, WeightKind };
export type Int8Type = 'int8' | 'uint8';
type Int8Out<T extends Int8Type> = T extends 'int8' ? Int8Array : Uint8Array;

/** Per-tensor (numbers) or per-channel (one entry per channel) affine parameters. */
export interface AffineParams {
  scale: number | Float32Array | readonly number[];
  zeroPoint: number | Int32Array | readonly number[];
}

export interface LayoutOptions {
  /** The tensor's shape; required with `axis`, checked against the data length. */
  shape?: readonly number[];
  /** Channel axis for per-channel parameters (negative counts from the end). */
  axis?: number;
}

// ---- argument checks

function resolveLayout(n: number, opts: LayoutOptions | undefined, what: string): ChannelLayout {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
    throw new TypeError(`options must be an object, got ${describe(opts)}`);
  }
  const { shape, axis } = opts ?? {};
  if (shape !== undefined) {
    assertShape(shape, 'shape');
    if (shapeSize(shape) !== n)
      throw new RangeError(`shape [${shape.join(', ')}] has ${shapeSize(shape)} elements but ${what} has ${n}`);
  }
  if (axis === undefined) return perTensorLayout(n);
  if (shape === undefined) throw new TypeError('shape is required when axis is given');
  assertInt(axis, 'axis', -shape.length, shape.length - 1);
  const l = channelLayout(shape, axis);
  if (l.channels < 1) throw new RangeError(`axis ${axis} has length 0`);
  return l;
}

function toF32(v: number | Float32Array | readonly number[], n: number, name: string): Float32Array {
  if (typeof v === 'number') {
    if (n !== 1) throw new RangeError(`${name} must have ${n} entries (one per channel), got a single number`);
    v = [v];
  }
  if (!(v instanceof Float32Array) && !Array.isArray(v))
    throw new TypeError(`${name} must be a number, an array or a Float32Array, got ${describe(v)}`);
  assertLength(v, n, name, 'one per channel');
  const out = Float32Array.from(v);
  out.forEach((s, i) => {
    assertPositiveFinite(v[i], `${name}[${i}]`);
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`${name}[${i}] = ${v[i]} is not a finite float32 > 0`);
  });
  return out;
}

function toI32(
  v: number | Int32Array | readonly number[],
  n: number,
  name: string,
  lo: number,
  hi: number,
): Int32Array {
  if (typeof v === 'number') {
    if (n !== 1) throw new RangeError(`${name} must have ${n} entries (one per channel), got a single number`);
    v = [v];
  }
  if (!(v instanceof Int32Array) && !Array.isArray(v))
    throw new TypeError(`${name} must be a number, an array or an Int32Array, got ${describe(v)}`);
  assertLength(v, n, name, 'one per channel');
  for (let i = 0; i < n; i++) assertInt(v[i], `${name}[${i}]`, lo, hi);
  return Int32Array.from(v);
}

function assertType(type: unknown, name = 'type'): asserts type is Int8Type {
  assertOneOf(type, ['int8', 'uint8'] as const, name);
}

function allocInt8<T extends Int8Type>(type: T, n: number, out: unknown, name = 'out'): Int8Out<T> {
  const ctor = type === 'int8' ? Int8Array : Uint8Array;
  if (out === undefined) return new ctor(n) as Int8Out<T>;
  assertTypedArray(out, ctor, name);
  assertLength(out, n, name);
  return out as Int8Out<T>;
}

function allocF32(n: number, out: unknown): Float32Array {
  if (out === undefined) return new Float32Array(n);
  assertTypedArray(out, Float32Array, 'out');
  assertLength(out, n, 'out');
  return out;
}

function int8Kind(q: unknown, name: string, allow32: boolean): 'int8' | 'uint8' | 'int32' {
  if (q instanceof Int8Array) return 'int8';
  if (q instanceof Uint8Array && !(q instanceof Uint8ClampedArray)) return 'uint8';
  if (allow32 && q instanceof Int32Array) return 'int32';
  throw new TypeError(`${name} must be an Int8Array, Uint8Array${allow32 ? ' or Int32Array' : ''}, got ${describe(q)}`);
}

// ---- quantize

export interface QuantizeOptions<T extends Int8Type> extends LayoutOptions {
  /** Narrow range: qmin = −127 for int8 (weights), 1 for uint8. */
  narrowRange?: boolean;
  out?: Int8Out<T>;
}

function prepQuantize<T extends Int8Type>(x: Float32Array, type: T, params: AffineParams, opts?: QuantizeOptions<T>) {
  assertTypedArray(x, Float32Array, 'x');
  assertType(type);
  if (typeof params !== 'object' || params === null)
    throw new TypeError(`params must be an object { scale, zeroPoint }, got ${describe(params)}`);
  const l = resolveLayout(x.length, opts, 'x');
  const narrow = opts?.narrowRange ?? false;
  if (typeof narrow !== 'boolean') throw new TypeError(`narrowRange must be a boolean, got ${describe(narrow)}`);
  const [qmin, qmax] = qRange(type, narrow);
  const scales = toF32(params.scale, l.channels, 'scale');
  const zps = toI32(params.zeroPoint, l.channels, 'zeroPoint', qmin, qmax);
  const out = allocInt8(type, x.length, opts?.out);
  assertNoOverlap(x, out, 'x', 'out');
  return { l, qmin, qmax, scales, zps, out };
}

/** §2: float32 → int8/uint8 with per-tensor or per-channel (`axis`) parameters. */
export function quantize<T extends Int8Type>(
  x: Float32Array,
  type: T,
  params: AffineParams,
  opts?: QuantizeOptions<T>,
): Int8Out<T> {
  const { l, qmin, qmax, scales, zps, out } = prepQuantize(x, type, params, opts);
  native().quantize(x, out, { ...l, scales, zeroPoints: zps, qmin, qmax });
  return out;
}

export async function quantizeAsync<T extends Int8Type>(
  x: Float32Array,
  type: T,
  params: AffineParams,
  opts?: QuantizeOptions<T>,
): Promise<Int8Out<T>> {
  const { l, qmin, qmax, scales, zps, out } = prepQuantize(x, type, params, opts);
  await native().quantizeAsync(x, out, { ...l, scales, zeroPoints: zps, qmin, qmax });
  return out;
}

// ---- dequantize

export interface DequantizeOptions extends LayoutOptions {
  out?: Float32Array;
}

function prepDequantize(q: Int8Array | Uint8Array | Int32Array, params: AffineParams, opts?: DequantizeOptions) {
  const kind = int8Kind(q, 'q', true);
  if (typeof params !== 'object' || params === null)
    throw new TypeError(`params must be an object { scale, zeroPoint }, got ${describe(params)}`);
  const l = resolveLayout(q.length, opts, 'q');
  const [lo, hi] = qRange(kind);
  const scales = toF32(params.scale, l.channels, 'scale');
  const zps = toI32(params.zeroPoint, l.channels, 'zeroPoint', lo, hi);
  const out = allocF32(q.length, opts?.out);
  assertNoOverlap(q, out, 'q', 'out');
  return { l, scales, zps, out };
}

/** §3: int8/uint8/int32 → float32. */
export function dequantize(
  q: Int8Array | Uint8Array | Int32Array,
  params: AffineParams,
  opts?: DequantizeOptions,
): Float32Array {
  const { l, scales, zps, out } = prepDequantize(q, params, opts);
  native().dequantize(q, out, { ...l, scales, zeroPoints: zps });
  return out;
}

export async function dequantizeAsync(
  q: Int8Array | Uint8Array | Int32Array,
  params: AffineParams,
  opts?: DequantizeOptions,
): Promise<Float32Array> {
  const { l, scales, zps, out } = prepDequantize(q, params, opts);
  await native().dequantizeAsync(q, out, { ...l, scales, zeroPoints: zps });
  return out;
}

// ---- requantize

export interface RequantizeParams {
  /** §7 multipliers fl32(fl32(sa × sw) / so): one, or one per channel. */
  multiplier: number | Float32Array | readonly number[];
  /** Required for 8-bit input (acc = q − inZeroPoint), absent for int32 accumulators. */
  inZeroPoint?: number | Int32Array | readonly number[];
  outZeroPoint: number;
  /** Output bounds (default: the whole type); see activationBounds for fused activations. */
  lo?: number;
  hi?: number;
}

export interface RequantizeOptions<T extends Int8Type> extends LayoutOptions {
  out?: Int8Out<T>;
}

function prepRequantize<T extends Int8Type>(
  input: Int32Array | Int8Array | Uint8Array,
  type: T,
  params: RequantizeParams,
  opts?: RequantizeOptions<T>,
) {
  const kind = int8Kind(input, 'input', true);
  assertType(type);
  if (typeof params !== 'object' || params === null)
    throw new TypeError(`params must be an object, got ${describe(params)}`);
  const l = resolveLayout(input.length, opts, 'input');
  const mults = toF32(params.multiplier, l.channels, 'multiplier');
  let zi: Int32Array | null = null;
  if (kind === 'int32') {
    if (params.inZeroPoint !== undefined) throw new TypeError('inZeroPoint must be absent for Int32Array accumulators');
  } else {
    if (params.inZeroPoint === undefined) throw new TypeError(`inZeroPoint is required for ${kind} input`);
    const [a, b] = qRange(kind);
    zi = toI32(params.inZeroPoint, l.channels, 'inZeroPoint', a, b);
  }
  const [tmin, tmax] = qRange(type);
  assertInt(params.outZeroPoint, 'outZeroPoint', tmin, tmax);
  const lo = params.lo ?? tmin,
    hi = params.hi ?? tmax;
  assertInt(lo, 'lo', tmin, tmax);
  assertInt(hi, 'hi', lo, tmax);
  const out = allocInt8(type, input.length, opts?.out);
  assertNoOverlap(input, out, 'input', 'out');
  return {
    out,
    options: { ...l, multipliers: mults, inZeroPoints: zi, outZeroPoint: params.outZeroPoint, lo, hi },
  };
}

/** §7: int32 accumulators (or 8-bit values with an input zero point) → int8/uint8. */
export function requantize<T extends Int8Type>(
  input: Int32Array | Int8Array | Uint8Array,
  type: T,
  params: RequantizeParams,
  opts?: RequantizeOptions<T>,
): Int8Out<T> {
  const p = prepRequantize(input, type, params, opts);
  native().requantize(input, p.out, p.options);
  return p.out;
}

export async function requantizeAsync<T extends Int8Type>(
  input: Int32Array | Int8Array | Uint8Array,
  type: T,
  params: RequantizeParams,
  opts?: RequantizeOptions<T>,
): Promise<Int8Out<T>> {
  const p = prepRequantize(input, type, params, opts);
  await native().requantizeAsync(input, p.out, p.options);
  return p.out;
}

/**
 * Rescales 8-bit values from one affine parameter set to another (e.g. int8 ↔ uint8):
 * §7 with acc = q − from.zeroPoint[c] and multiplier fl32(from.scale[c] / to.scale).
 * With equal scales it is exact (q − zi + zo).
 */
export function rescale<T extends Int8Type>(
  q: Int8Array | Uint8Array,
  from: AffineParams,
  type: T,
  to: QParams,
  opts?: RequantizeOptions<T>,
): Int8Out<T> {
  int8Kind(q, 'q', false);
  if (typeof from !== 'object' || from === null)
    throw new TypeError(`from must be an object { scale, zeroPoint }, got ${describe(from)}`);
  if (typeof to !== 'object' || to === null)
    throw new TypeError(`to must be an object { scale, zeroPoint }, got ${describe(to)}`);
  assertPositiveFinite(to.scale, 'to.scale');
  const l = resolveLayout(q.length, opts, 'q');
  const sIn = toF32(from.scale, l.channels, 'from.scale');
  const so = fl32(to.scale);
  const multiplier = sIn.map((s) => fl32(s / so));
  multiplier.forEach((m, i) => {
    if (!(m > 0) || !Number.isFinite(m))
      throw new RangeError(`from.scale[${i}] / to.scale is not a finite float32 > 0`);
  });
  return requantize(q, type, { multiplier, inZeroPoint: from.zeroPoint, outZeroPoint: to.zeroPoint }, opts);
}

/** §7: fl32(fl32(sa × sw) / so), computed natively. */
export function requantizeMultiplier(inputScale: number, weightScale: number, outputScale: number): number {
  assertPositiveFinite(inputScale, 'inputScale');
  assertPositiveFinite(weightScale, 'weightScale');
  assertPositiveFinite(outputScale, 'outputScale');
  return native().requantizeMultiplier({ inputScale, weightScale, outputScale });
}

/** §7 output bounds for a fused activation (validated; see scheme.activationBounds). */
export function requantizeBounds(
  type: Int8Type,
  outZeroPoint: number,
  outScale: number,
  activation: Activation = 'none',
): [number, number] {
  assertType(type);
  const [a, b] = qRange(type);
  assertInt(outZeroPoint, 'outZeroPoint', a, b);
  assertPositiveFinite(outScale, 'outScale');
  if (typeof activation === 'object' && activation !== null) {
    assertFinite(activation.min, 'activation.min');
    assertFinite(activation.max, 'activation.max');
    if (activation.min > activation.max)
      throw new RangeError(`activation.min ${activation.min} > activation.max ${activation.max}`);
  } else {
    assertOneOf(activation, ['none', 'relu', 'relu6'] as const, 'activation');
  }
  const [lo, hi] = activationBounds(type, outZeroPoint, outScale, activation);
  if (lo > hi) throw new RangeError(`activation leaves an empty output range [${lo}, ${hi}]`);
  return [lo, hi];
}

// ---- choosing parameters

/** §4 parameters for the range [lo, hi] (finite, lo ≤ hi; widened to include 0). */
export function chooseParams(scheme: ParamScheme, lo: number, hi: number): QParams {
  assertOneOf(scheme, PARAM_SCHEMES, 'scheme');
  assertFinite(lo, 'lo');
  assertFinite(hi, 'hi');
  if (lo > hi) throw new RangeError(`lo (${lo}) must be <= hi (${hi})`);
  return native().chooseParams({ scheme: scheme as QuantParamScheme, lo, hi });
}

/** Per-channel ranges of the finite values of x (widened to include 0), in one native pass. */
export function channelMinMax(x: Float32Array, opts?: LayoutOptions): { lo: Float32Array; hi: Float32Array } {
  assertTypedArray(x, Float32Array, 'x');
  const l = resolveLayout(x.length, opts, 'x');
  const lo = new Float32Array(l.channels),
    hi = new Float32Array(l.channels);
  native().channelMinMax(x, lo, hi, l);
  return { lo, hi };
}

/** Per-channel (or per-tensor) §4 parameters computed from the data in one pass. */
export function chooseChannelParams(
  x: Float32Array,
  scheme: ParamScheme,
  opts?: LayoutOptions,
): { scale: Float32Array; zeroPoint: Int32Array } {
  assertTypedArray(x, Float32Array, 'x');
  assertOneOf(scheme, PARAM_SCHEMES, 'scheme');
  const l = resolveLayout(x.length, opts, 'x');
  const scale = new Float32Array(l.channels),
    zeroPoint = new Int32Array(l.channels);
  native().chooseChannelParams(x, scale, zeroPoint, { ...l, scheme: scheme as QuantParamScheme });
  return { scale, zeroPoint };
}

/**
 * §5: per-channel parameters for a TF.js weight of the given kind, plus the layout options
 * to pass to quantize (depthwise kernels use channel i × multiplier + m).
 */
export function chooseWeightParams(
  x: Float32Array,
  kind: WeightKind,
  shape: readonly number[],
  scheme: ParamScheme = 'symmetricI8',
): { scale: Float32Array; zeroPoint: Int32Array; layout: LayoutOptions } {
  assertTypedArray(x, Float32Array, 'x');
  assertOneOf(kind, ['dense', 'conv2d', 'depthwiseConv2d', 'conv2dTranspose'] as const, 'kind');
  assertShape(shape, 'shape');
  const rank = kind === 'dense' ? 2 : 4;
  if (shape.length !== rank) throw new RangeError(`a ${kind} kernel has rank ${rank}, got shape [${shape.join(', ')}]`);
  if (shapeSize(shape) !== x.length)
    throw new RangeError(`shape [${shape.join(', ')}] has ${shapeSize(shape)} elements but x has ${x.length}`);
  const l = weightLayout(kind, shape);
  const layout: LayoutOptions = { shape: [l.outer, l.channels, l.inner], axis: 1 };
  return { ...chooseChannelParams(x, scheme, layout), layout };
}

/** §8: dynamic per-tensor or per-row uint8 quantization of an m × k float32 matrix. */
export function dynamicQuantizeU8(
  x: Float32Array,
  m: number,
  k: number,
  perRow = true,
): { q: Uint8Array; scale: Float32Array; zeroPoint: Int32Array } {
  assertTypedArray(x, Float32Array, 'x');
  assertInt(m, 'm', 0);
  assertInt(k, 'k', 0);
  if (typeof perRow !== 'boolean') throw new TypeError(`perRow must be a boolean, got ${describe(perRow)}`);
  if (m * k !== x.length) throw new RangeError(`x has ${x.length} elements, expected m × k = ${m * k}`);
  const np = perRow ? m : 1;
  const q = new Uint8Array(x.length),
    scale = new Float32Array(np),
    zeroPoint = new Int32Array(np);
  native().dynamicQuantizeU8(x, q, scale, zeroPoint, { m, k, perRow });
  return { q, scale, zeroPoint };
}
