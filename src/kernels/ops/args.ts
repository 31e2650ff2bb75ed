// Argument checks, shared types and the convolution geometry of the operator wrappers.
import type { OpsActivation, OpsBinaryOp, OpsConvGeom, OpsStridedSliceMasks } from '../../../binding.js';
import { native } from '../../native/binding.js';
import {
  assertFinite,
  assertInt,
  assertLength,
  assertPositiveFinite,
  assertShape,
  describe,
  shapeSize,
} from '../../native/validate.js';
import { activationBounds, fl32, qRange, type Activation } from '../scheme.js';

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
  'linear',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'sigmoid',
  'tanh',
  'hardSwish',
  'swish',
  'hardSigmoid',
];
/**
 * TF activation op (Relu, Sigmoid…) or fused-activation name (as TF.js graph models spell it) →
 * the lookup-table kind the int8 path builds for it; one table so the simulator and the native
 * plan emitter cannot disagree.
 */
export const LUT_KIND: Readonly<Record<string, OpsActivation>> = {
  Relu: 'relu',
  Relu6: 'relu6',
  LeakyRelu: 'leakyRelu',
  Elu: 'elu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  leakyrelu: 'leakyRelu',
  elu: 'elu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};
export const BINARY_OPS: readonly OpsBinaryOp[] = [
  'add',
  'sub',
  'mul',
  'maximum',
  'minimum',
  'div',
  'squaredDifference',
];

// ---------------------------------------------------------------- argument helpers

export function q8Type(x: unknown, name: string): Q8Type {
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Uint8Array && !(x instanceof Uint8ClampedArray)) return 'uint8';
  throw new TypeError(`${name} must be an Int8Array or Uint8Array, got ${describe(x)}`);
}

export function anyKind(x: unknown, name: string): 'int8' | 'uint8' | 'int32' | 'float32' {
  if (x instanceof Int8Array) return 'int8';
  if (x instanceof Uint8Array && !(x instanceof Uint8ClampedArray)) return 'uint8';
  if (x instanceof Int32Array) return 'int32';
  if (x instanceof Float32Array) return 'float32';
  throw new TypeError(`${name} must be an Int8Array, Uint8Array, Int32Array or Float32Array, got ${describe(x)}`);
}

export function alloc<T extends AnyArray>(like: T, n: number): T {
  return new (like.constructor as new (n: number) => T)(n);
}

export function assertObject(v: unknown, name: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TypeError(`${name} must be an object, got ${describe(v)}`);
}

export function checkParams(p: unknown, type: Q8Type, name: string): QParams {
  assertObject(p, name);
  assertPositiveFinite(p.scale, `${name}.scale`);
  const s = fl32(p.scale as number);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`${name}.scale = ${p.scale} is not a finite float32 > 0`);
  const [lo, hi] = qRange(type);
  assertInt(p.zeroPoint, `${name}.zeroPoint`, lo, hi);
  return { scale: s, zeroPoint: p.zeroPoint as number };
}

export function checkActivation(a: unknown, name = 'activation'): FusedActivation {
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

export function bounds(type: Q8Type, y: QParams, act: FusedActivation): { yMin: number; yMax: number } {
  const [yMin, yMax] = activationBounds(type, y.zeroPoint, y.scale, act);
  if (yMin > yMax) throw new RangeError(`activation leaves no representable output value (bounds [${yMin}, ${yMax}])`);
  return { yMin, yMax };
}

export function floatBounds(act: unknown): [number, number] {
  if (act === undefined || act === 'none') return [-Infinity, Infinity];
  if (act === 'relu') return [0, Infinity];
  if (act === 'relu6') return [0, 6];
  const a = checkActivation(act);
  if (typeof a === 'object') return [a.min, a.max];
  return [-Infinity, Infinity];
}

export function shape4(shape: unknown, name: string): [number, number, number, number] {
  assertShape(shape, name);
  if (shape.length !== 4)
    throw new RangeError(`${name} must be [batch, height, width, channels], got rank ${shape.length}`);
  return shape as [number, number, number, number];
}

export function pair(v: unknown, name: string, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') {
    assertInt(v, name, 1, 2 ** 31 - 1);
    return [v, v];
  }
  if (!Array.isArray(v) || v.length !== 2)
    throw new TypeError(`${name} must be a number or [h, w], got ${describe(v)}`);
  assertInt(v[0], `${name}[0]`, 1, 2 ** 31 - 1);
  assertInt(v[1], `${name}[1]`, 1, 2 ** 31 - 1);
  return [v[0], v[1]];
}

export function f32Scales(v: unknown, n: number, name: string): Float32Array {
  if (typeof v === 'number') v = new Array(n).fill(v);
  if (!(v instanceof Float32Array) && !Array.isArray(v))
    throw new TypeError(`${name} must be a number, an array or a Float32Array, got ${describe(v)}`);
  assertLength(v as ArrayLike<number>, n, name, 'one per output channel');
  const out = Float32Array.from(v as ArrayLike<number>);
  out.forEach((s, i) => {
    if (!(s > 0) || !Number.isFinite(s))
      throw new RangeError(`${name}[${i}] must be a finite float32 > 0, got ${(v as ArrayLike<number>)[i]}`);
  });
  return out;
}

/** The 8-bit parameters of a pooling-like op (yParams defaults to xParams) with its clamp bounds. */
export function poolQ(kind: Q8Type, xParams: unknown, yParams: unknown, act: unknown) {
  const xp = checkParams(xParams, kind, 'xParams');
  const yp = yParams === undefined ? xp : checkParams(yParams, kind, 'yParams');
  return {
    xScale: xp.scale,
    xZeroPoint: xp.zeroPoint,
    yScale: yp.scale,
    yZeroPoint: yp.zeroPoint,
    ...bounds(kind, yp, checkActivation(act)),
  };
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
  if (!Array.isArray(filterSize) || filterSize.length !== 2)
    throw new TypeError(`filterSize must be [height, width], got ${describe(filterSize)}`);
  assertInt(filterSize[0], 'filterSize[0]', 1, 2 ** 31 - 1);
  assertInt(filterSize[1], 'filterSize[1]', 1, 2 ** 31 - 1);
  assertObject(opts, 'options');
  const [strideHeight, strideWidth] = pair(opts.strides, 'strides', 1);
  const [dilationHeight, dilationWidth] = pair(opts.dilations, 'dilations', 1);
  for (const [v, n] of [
    [batch, 'batch'],
    [inHeight, 'height'],
    [inWidth, 'width'],
    [inChannels, 'channels'],
  ] as const) {
    if (v < 1) throw new RangeError(`xShape ${n} must be >= 1, got ${v}`);
  }
  const base = {
    batch,
    inHeight,
    inWidth,
    inChannels,
    filterHeight: filterSize[0],
    filterWidth: filterSize[1],
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
  };
  const p = opts.padding;
  if (p === 'same' || p === 'valid') return native().opsConvGeometry({ ...base, padding: p });
  if (!Array.isArray(p)) throw new TypeError(`padding must be 'same', 'valid' or explicit pads, got ${describe(p)}`);
  const flat = (p as unknown[]).flat() as unknown[];
  if (flat.length !== 4)
    throw new RangeError('explicit padding must be [top, bottom, left, right] or [[top, bottom], [left, right]]');
  flat.forEach((v, i) => assertInt(v, `padding[${i}]`, 0, 2 ** 31 - 1));
  const [padTop, padBottom, padLeft, padRight] = flat as number[];
  return native().opsConvGeometry({ ...base, padding: 'explicit', padTop, padBottom, padLeft, padRight });
}

export function checkX(x: unknown, xShape: readonly number[], name = 'x'): void {
  assertLength(x as ArrayLike<number>, shapeSize(xShape), name, `shape [${xShape.join(', ')}]`);
}
