// Elementwise operators: broadcasting binary ops, activations and their tables, bias, softmax.
import type { OpsActivation, OpsBinaryOp } from '../../../binding.js';
import { native } from '../../native/binding.js';
import {
  assertFinite,
  assertLength,
  assertOneOf,
  assertPositiveFinite,
  assertShape,
  assertTypedArray,
  describe,
  shapeSize,
} from '../../native/validate.js';
import {
  ACTIVATIONS,
  BINARY_OPS,
  type FusedActivation,
  type Q8Array,
  type Q8Type,
  type QParams,
  alloc,
  anyKind,
  assertObject,
  bounds,
  checkActivation,
  checkParams,
  checkX,
  floatBounds,
  q8Type,
} from './args.js';

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
    if (da !== db && da !== 1 && db !== 1)
      throw new RangeError(`shapes [${a.join(', ')}] and [${b.join(', ')}] are not broadcast-compatible`);
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
export function binary<T extends Q8Array | Float32Array>(
  op: OpsBinaryOp,
  a: T,
  aShape: readonly number[],
  b: T,
  bShape: readonly number[],
  q?: BinaryInt8Params | { activation?: FusedActivation },
): { y: T; shape: number[] } {
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
    native().opsBinary(a, b, y, { op, aShape: [...aShape], bShape: [...bShape], q: { yMin, yMax } });
    return { y, shape };
  }
  if (!['add', 'sub', 'mul', 'maximum', 'minimum'].includes(op))
    throw new RangeError(`op '${op}' is not supported for 8-bit data (add, sub, mul, maximum, minimum)`);
  assertObject(q, 'q');
  const p = q as BinaryInt8Params;
  const ap = checkParams(p.a, kind, 'q.a'),
    bp = checkParams(p.b, kind, 'q.b'),
    yp = checkParams(p.y, kind, 'q.y');
  native().opsBinary(a, b, y, {
    op,
    aShape: [...aShape],
    bShape: [...bShape],
    q: {
      aScale: ap.scale,
      aZeroPoint: ap.zeroPoint,
      bScale: bp.scale,
      bZeroPoint: bp.zeroPoint,
      yScale: yp.scale,
      yZeroPoint: yp.zeroPoint,
      ...bounds(kind, yp, checkActivation(p.activation)),
    },
  });
  return { y, shape };
}

// ---------------------------------------------------------------- activations

/** float32 activation (alpha: LeakyReLU slope, default 0.2 as tf.leakyRelu). */
export function activation(kind: OpsActivation, x: Float32Array, alpha = 0.2): Float32Array {
  assertOneOf(kind, ACTIVATIONS, 'kind');
  assertTypedArray(x, Float32Array, 'x');
  assertFinite(alpha, 'alpha');
  const y = new Float32Array(x.length);
  native().opsActivation(x, y, { activation: kind, alpha });
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
  return native().opsBuildLut({
    activation: kind,
    alpha,
    xType: p.x.type,
    xScale: xp.scale,
    xZeroPoint: xp.zeroPoint,
    yType: p.y.type,
    yScale: yp.scale,
    yZeroPoint: yp.zeroPoint,
    yMin: b.yMin,
    yMax: b.yMax,
  });
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
export function prelu<T extends Q8Array | Float32Array>(
  x: T,
  alpha: Float32Array | readonly number[],
  q?: { xParams: QParams; yParams: QParams; activation?: FusedActivation },
): T {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  if (!(alpha instanceof Float32Array) && !Array.isArray(alpha))
    throw new TypeError(`alpha must be a Float32Array or an array, got ${describe(alpha)}`);
  const al = Float32Array.from(alpha);
  if (al.length === 0) throw new RangeError('alpha must not be empty');
  al.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new RangeError(`alpha[${i}] must be finite`);
  });
  if (x.length % al.length !== 0)
    throw new RangeError(`x has ${x.length} elements, not a multiple of the ${al.length} alpha channels`);
  const y = alloc(x, x.length);
  if (kind === 'float32') {
    native().opsPrelu(x, al, y, {});
    return y;
  }
  assertObject(q, 'q');
  const xp = checkParams(q.xParams, kind, 'q.xParams'),
    yp = checkParams(q.yParams, kind, 'q.yParams');
  native().opsPrelu(x, al, y, {
    q: {
      xScale: xp.scale,
      xZeroPoint: xp.zeroPoint,
      yScale: yp.scale,
      yZeroPoint: yp.zeroPoint,
      ...bounds(kind, yp, checkActivation(q.activation)),
    },
  });
  return y;
}

/** float32 y = act(x + bias[c]) over the last dimension (act: none, relu, relu6, { min, max }). */
export function biasAdd(x: Float32Array, bias: Float32Array, activation?: FusedActivation): Float32Array {
  assertTypedArray(x, Float32Array, 'x');
  assertTypedArray(bias, Float32Array, 'bias');
  if (bias.length === 0) throw new RangeError('bias must not be empty');
  if (x.length % bias.length !== 0)
    throw new RangeError(`x has ${x.length} elements, not a multiple of the ${bias.length} bias channels`);
  const [lo, hi] = floatBounds(activation);
  const y = new Float32Array(x.length);
  native().opsBiasAdd(x, bias, y, { yMin: lo, yMax: hi });
  return y;
}

// ---------------------------------------------------------------- softmax

/** The fixed-point exp table of the 8-bit softmax (§11.6). */
export function softmaxTable(beta: number, xScale: number): Uint32Array {
  assertPositiveFinite(beta, 'beta');
  assertPositiveFinite(xScale, 'xScale');
  return native().opsSoftmaxTable({ beta, xScale });
}

/**
 * Softmax over the last dimension. float32 → float32; 8-bit → yType (default int8) with
 * scale 1/256 and zero point −128 (int8) or 0 (uint8). xScale is required for 8-bit input.
 */
export function softmax(
  x: Q8Array | Float32Array,
  shape: readonly number[],
  opts: { beta?: number; xScale?: number; yType?: Q8Type } = {},
): Q8Array | Float32Array {
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
    native().opsSoftmax(x, y, { rows, cols, beta, xScale: 1 });
    return y;
  }
  assertPositiveFinite(opts.xScale, 'xScale');
  const yt = opts.yType ?? 'int8';
  assertOneOf(yt, ['int8', 'uint8'] as const, 'yType');
  const y = yt === 'int8' ? new Int8Array(x.length) : new Uint8Array(x.length);
  native().opsSoftmax(x, y, { rows, cols, beta, xScale: opts.xScale });
  return y;
}
