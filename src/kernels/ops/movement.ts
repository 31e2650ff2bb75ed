// Data movement: concat, pad, transpose, slices, depth-to-space, resize.
import type { OpsStridedSliceMasks } from '../../../binding.js';
import { native } from '../../native/binding.js';
import { assertFinite, assertInt, assertShape, describe, shapeSize } from '../../native/validate.js';
import { qRange } from '../scheme.js';
import {
  type AnyArray,
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
  poolQ,
  q8Type,
  shape4,
} from './args.js';

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
export function concat<T extends AnyArray>(
  inputs: readonly ConcatInput<T>[],
  axis: number,
  q?: { yParams: QParams; activation?: FusedActivation },
): { y: T; shape: number[] } {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new TypeError('inputs must be a non-empty array of { data, shape }');
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
    if (inp.data.constructor !== first.data.constructor)
      throw new TypeError(`inputs[${i}].data must be a ${first.data.constructor.name} like inputs[0]`);
    if (inp.shape.length !== rank) throw new RangeError(`inputs[${i}] has rank ${inp.shape.length}, expected ${rank}`);
    inp.shape.forEach((d: number, k: number) => {
      if (k !== ax && d !== first.shape[k])
        throw new RangeError(
          `inputs[${i}].shape [${inp.shape.join(', ')}] differs from [${first.shape.join(', ')}] outside axis ${ax}`,
        );
    });
    checkX(inp.data, inp.shape, `inputs[${i}].data`);
    shape[ax] += inp.shape[ax];
  });
  const y = alloc(first.data, shapeSize(shape));
  let qq = null;
  if (q !== undefined) {
    const kind = q8Type(first.data, 'inputs[0].data');
    assertObject(q, 'q');
    const yp = checkParams(q.yParams, kind, 'q.yParams');
    const scales = new Float32Array(inputs.length),
      zeroPoints = new Int32Array(inputs.length);
    inputs.forEach((inp, i) => {
      const p = checkParams(inp.params, kind, `inputs[${i}].params`);
      scales[i] = p.scale;
      zeroPoints[i] = p.zeroPoint;
    });
    qq = {
      scales,
      zeroPoints,
      yScale: yp.scale,
      yZeroPoint: yp.zeroPoint,
      ...bounds(kind, yp, checkActivation(q.activation)),
    };
  }
  native().opsConcat(
    inputs.map((i) => i.data),
    y,
    { shapes: inputs.map((i) => [...i.shape]), axis: ax, q: qq },
  );
  return { y, shape };
}

/** Pad with a constant (8-bit data: default the zero point you pass as value; float: 0). paddings: [[before, after], …]. */
export function pad<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  paddings: readonly (readonly number[])[],
  value = 0,
): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  if (!Array.isArray(paddings) || paddings.length !== shape.length)
    throw new RangeError(`paddings must have one [before, after] pair per dimension (${shape.length})`);
  const before: number[] = [],
    after: number[] = [];
  paddings.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2) throw new TypeError(`paddings[${i}] must be [before, after]`);
    assertInt(p[0], `paddings[${i}][0]`, 0, 2 ** 31 - 1);
    assertInt(p[1], `paddings[${i}][1]`, 0, 2 ** 31 - 1);
    before.push(p[0]);
    after.push(p[1]);
  });
  const kind = anyKind(x, 'x');
  if (kind === 'float32') assertFinite(value, 'value');
  else {
    const [lo, hi] = kind === 'int32' ? [-(2 ** 31), 2 ** 31 - 1] : qRange(kind);
    assertInt(value, 'value', lo, hi);
  }
  const out = shape.map((d, i) => d + before[i] + after[i]);
  const y = alloc(x, shapeSize(out));
  native().opsPad(x, y, { shape: [...shape], before, after, value });
  return { y, shape: out };
}

/** Transpose (rank ≤ 6): y.shape[d] = shape[perm[d]]. */
export function transpose<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  perm: readonly number[],
): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  if (!Array.isArray(perm) || perm.length !== shape.length)
    throw new RangeError(`perm must have ${shape.length} entries`);
  const seen = new Set<number>();
  perm.forEach((p, i) => {
    assertInt(p, `perm[${i}]`, 0, shape.length - 1);
    if (seen.has(p)) throw new RangeError('perm must be a permutation');
    seen.add(p);
  });
  const y = alloc(x, x.length);
  native().opsTranspose(x, y, { shape: [...shape], perm: [...perm] });
  return { y, shape: perm.map((p) => shape[p]) };
}

export interface StridedSliceOptions extends Partial<OpsStridedSliceMasks> {
  strides?: readonly number[];
}

/** StridedSlice with TF semantics (begin/end/ellipsis/new-axis/shrink-axis masks, negative strides). */
export function stridedSlice<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  begin: readonly number[],
  end: readonly number[],
  opts: StridedSliceOptions = {},
): { y: T; shape: number[] } {
  anyKind(x, 'x');
  assertShape(shape, 'shape');
  if (shape.length > 6) throw new RangeError('rank must be <= 6');
  checkX(x, shape);
  const ints = (v: unknown, name: string): number[] => {
    if (!Array.isArray(v)) throw new TypeError(`${name} must be an array of integers, got ${describe(v)}`);
    v.forEach((e, i) => assertInt(e, `${name}[${i}]`));
    return [...v] as number[];
  };
  const b = ints(begin, 'begin'),
    e = ints(end, 'end');
  const s = opts.strides === undefined ? b.map(() => 1) : ints(opts.strides, 'strides');
  if (e.length !== b.length || s.length !== b.length)
    throw new RangeError('begin, end and strides must have the same length');
  s.forEach((v, i) => {
    if (v === 0) throw new RangeError(`strides[${i}] must be non-zero`);
  });
  const masks: OpsStridedSliceMasks = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 };
  for (const k of Object.keys(masks) as (keyof OpsStridedSliceMasks)[]) {
    const v = opts[k] ?? 0;
    assertInt(v, k, 0, 2 ** 31 - 1);
    masks[k] = v;
  }
  const spec = { shape: [...shape], begin: b, end: e, strides: s, ...masks };
  const outShape = native().opsStridedSliceShape(spec);
  const y = alloc(x, shapeSize(outShape));
  native().opsStridedSlice(x, y, spec);
  return { y, shape: outShape };
}

/** Slice (tf.slice): begin[d] ≥ 0, size[d] ≥ 0 or −1 (to the end); StridedSlice with stride 1. */
export function slice<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): { y: T; shape: number[] } {
  assertShape(shape, 'shape');
  if (!Array.isArray(begin) || begin.length !== shape.length)
    throw new RangeError(`begin must have ${shape.length} entries (the rank)`);
  if (!Array.isArray(size) || size.length !== shape.length)
    throw new RangeError(`size must have ${shape.length} entries (the rank)`);
  const end = shape.map((d, i) => {
    assertInt(begin[i], `begin[${i}]`, 0, d);
    assertInt(size[i], `size[${i}]`, -1, d - begin[i]);
    return size[i] === -1 ? d : begin[i] + size[i];
  });
  return stridedSlice(x, shape, begin, end);
}

/** DepthToSpace (DCR, NHWC) with blockSize ≥ 2. */
export function depthToSpace<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  blockSize: number,
): { y: T; shape: number[] } {
  anyKind(x, 'x');
  const [n, h, w, c] = shape4(shape, 'shape');
  checkX(x, shape);
  assertInt(blockSize, 'blockSize', 2, 65536);
  if (c % (blockSize * blockSize) !== 0)
    throw new RangeError(`channels (${c}) must be divisible by blockSize² (${blockSize * blockSize})`);
  const y = alloc(x, x.length);
  native().opsDepthToSpace(x, y, { shape: [...shape], blockSize });
  return { y, shape: [n, h * blockSize, w * blockSize, c / (blockSize * blockSize)] };
}

export interface ResizeOptions {
  alignCorners?: boolean;
  halfPixelCenters?: boolean;
}

function resizeArgs(shape: readonly number[], size: readonly number[], opts: ResizeOptions) {
  const s = shape4(shape, 'shape');
  if (s.some((d) => d < 1)) throw new RangeError('shape dimensions must be >= 1');
  if (!Array.isArray(size) || size.length !== 2)
    throw new TypeError(`size must be [height, width], got ${describe(size)}`);
  assertInt(size[0], 'size[0]', 1, 2 ** 31 - 1);
  assertInt(size[1], 'size[1]', 1, 2 ** 31 - 1);
  const ac = opts.alignCorners ?? false,
    hp = opts.halfPixelCenters ?? false;
  if (typeof ac !== 'boolean') throw new TypeError('alignCorners must be a boolean');
  if (typeof hp !== 'boolean') throw new TypeError('halfPixelCenters must be a boolean');
  if (ac && hp) throw new RangeError('alignCorners and halfPixelCenters cannot both be true');
  return { s, ac, hp, out: [s[0], size[0], size[1], s[3]] };
}

/** ResizeNearestNeighbor (TF.js semantics); any element type, values copied. */
export function resizeNearest<T extends AnyArray>(
  x: T,
  shape: readonly number[],
  size: readonly number[],
  opts: ResizeOptions = {},
): { y: T; shape: number[] } {
  anyKind(x, 'x');
  const { s, ac, hp, out } = resizeArgs(shape, size, opts);
  checkX(x, s);
  const y = alloc(x, shapeSize(out));
  native().opsResize(x, y, {
    mode: 'nearest',
    shape: s,
    outHeight: out[1],
    outWidth: out[2],
    alignCorners: ac,
    halfPixelCenters: hp,
    q: null,
  });
  return { y, shape: out };
}

/** ResizeBilinear (TF.js semantics): float32, or 8-bit with xParams (yParams default = xParams), §11.8. */
export function resizeBilinear<T extends Q8Array | Float32Array>(
  x: T,
  shape: readonly number[],
  size: readonly number[],
  opts: ResizeOptions & { xParams?: QParams; yParams?: QParams; activation?: FusedActivation } = {},
): { y: T; shape: number[] } {
  const kind = anyKind(x, 'x');
  if (kind === 'int32') throw new TypeError('x must be an Int8Array, Uint8Array or Float32Array');
  const { s, ac, hp, out } = resizeArgs(shape, size, opts);
  checkX(x, s);
  const y = alloc(x, shapeSize(out));
  native().opsResize(x, y, {
    mode: 'bilinear',
    shape: s,
    outHeight: out[1],
    outWidth: out[2],
    alignCorners: ac,
    halfPixelCenters: hp,
    q: kind === 'float32' ? null : poolQ(kind, opts.xParams, opts.yParams, opts.activation),
  });
  return { y, shape: out };
}
