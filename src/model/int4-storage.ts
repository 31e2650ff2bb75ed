// The int4 weight storage of the native format (docs/format.md, docs/quantization.md §12.5): the
// group geometry, nibble unpacking, the group tables written after the nibbles, and dequantization.
// Part of the model layer because the native reader and writer (save-native.ts) need it;
// quant/int4.ts (the quantizer) builds on it and re-exports its public part.
import type { AffineQuantization } from './ir.js';
import { assertInt, assertShape, shapeSize } from '../native/validate.js';
import { fl32, fromFloat16, toFloat16 } from '../kernels/scheme.js';

/** Group sizes along K; 0 = one group per output channel (all of K). */
export const INT4_GROUP_SIZES: readonly number[] = [0, 32, 64, 128];

/** The geometry of a grouped weight: element i is channel c, position k along K. */
export interface GroupLayout {
  /** Channels (product of the axisCount dims from axis). */
  channels: number;
  /** Values per channel (all other dims, in order). */
  k: number;
  /** Elements after the channel dims. */
  inner: number;
  /** Group size along K actually used (k when per channel). */
  groupSize: number;
  groups: number;
}

export function checkGroupSize(groupSize: unknown): asserts groupSize is number {
  if (typeof groupSize !== 'number' || !INT4_GROUP_SIZES.includes(groupSize)) {
    throw new RangeError(`groupSize must be 32, 64, 128 or 0 (per output channel), got ${String(groupSize)}`);
  }
}

/** Group geometry of a weight of `shape` with output channel at `axis` (axisCount dims). */
export function groupLayout(shape: readonly number[], axis: number, groupSize: number, axisCount = 1): GroupLayout {
  assertShape(shape, 'shape');
  assertInt(axis, 'axis', 0, shape.length - 1);
  assertInt(axisCount, 'axisCount', 1, shape.length - axis);
  checkGroupSize(groupSize);
  const channels = shapeSize(shape.slice(axis, axis + axisCount));
  const inner = shapeSize(shape.slice(axis + axisCount));
  const size = shapeSize(shape);
  const k = channels === 0 ? 0 : size / channels;
  const g = groupSize === 0 ? Math.max(k, 1) : groupSize;
  return { channels, k, inner, groupSize: g, groups: Math.ceil(k / g) };
}

/** Channel and K position of element i. */
export function groupPosition(i: number, l: GroupLayout): { c: number; k: number } {
  const outer = Math.floor(i / (l.channels * l.inner));
  const rest = i - outer * l.channels * l.inner;
  const c = Math.floor(rest / l.inner);
  return { c, k: outer * l.inner + (rest - c * l.inner) };
}

/** A group scale from its code and the channel's super-scale: fl32(code × d) (exact when d has ≤ 16 significant bits). */
export function decodeScale(code: number, d: number): number {
  return fl32(code * d);
}

/** §3 per group: x[i] = fl32((q[i] − zp[g][c]) × scale[g][c]) for an int4 AffineQuantization of `shape`. */
export function dequantizeWeightInt4(q: AffineQuantization, shape: number[]): Float32Array {
  if (q.dtype !== 'int4' || !q.values)
    throw new RangeError('dequantizeWeightInt4 needs an int4 AffineQuantization with values');
  const l = groupLayout(shape, q.axis, q.groupSize ?? 0, q.axisCount ?? 1);
  if (q.values.length !== shapeSize(shape))
    throw new RangeError(`values has ${q.values.length} elements, shape needs ${shapeSize(shape)}`);
  if (q.scales.length !== l.groups * l.channels || q.zeroPoints.length !== l.groups * l.channels) {
    throw new RangeError(
      `scales and zeroPoints need ${l.groups * l.channels} entries ([groups ${l.groups}][channels ${l.channels}])`,
    );
  }
  const out = new Float32Array(q.values.length);
  for (let i = 0; i < out.length; i++) {
    const p = groupPosition(i, l);
    const j = Math.floor(p.k / l.groupSize) * l.channels + p.c;
    out[i] = fl32(fl32(q.values[i]! - q.zeroPoints[j]!) * q.scales[j]!);
  }
  return out;
}

// ---- file form (docs/format.md, affine int4 with groupSize): after the nibbles, either
//   groupScales 'uint8' (double quantization): pad to 4, float32 super-scales [C], uint8 codes [groups][C];
//   groupScales 'float16': pad to 2, float16 scales [groups][C];
// then, when any zero point is not 0, the [groups][C] zero points as int4 nibbles (low nibble
// first; files written before nibble zero points have 'int8', one byte each — still read).

/** Two's-complement nibbles, two per byte, low nibble first → one Int8Array value each. */
export function unpackInt4Nibbles(bytes: Uint8Array, size: number): Int8Array {
  const q = new Int8Array(size);
  for (let i = 0; i < size; i++) {
    const nib = (bytes[i >> 1]! >> (i & 1 ? 4 : 0)) & 0x0f;
    q[i] = nib >= 8 ? nib - 16 : nib;
  }
  return q;
}

/** Whether q carries double-quantized scales that reproduce q.scales exactly. */
export function hasScaleCodes(q: AffineQuantization, channels: number): boolean {
  const codes = q.scaleCodes,
    supers = q.superScales;
  if (!(codes instanceof Uint8Array) || !(supers instanceof Float32Array)) return false;
  if (codes.length !== q.scales.length || supers.length !== channels || channels === 0) return false;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === 0 || decodeScale(codes[i]!, supers[i % channels]!) !== q.scales[i]) return false;
  }
  return true;
}

/** Bytes of the group tables after `nibbleBytes` bytes of nibbles (for the size report). */
export function int4GroupTableBytes(
  nibbleBytes: number,
  count: number,
  channels: number,
  scaleCodes: boolean,
  zeroPoints: boolean,
): number {
  const zp = zeroPoints ? Math.ceil(count / 2) : 0;
  if (scaleCodes) return ((4 - (nibbleBytes % 4)) % 4) + 4 * channels + count + zp;
  return (nibbleBytes % 2) + 2 * count + zp;
}

/**
 * The bytes that follow the nibbles of a grouped int4 constant, and its params keys. Scales
 * are written as codes + super-scales when q carries them (quantizeWeightInt4 with scaleBits
 * 8) and they reproduce q.scales exactly, else as float16 (every scale must be a float16 value).
 */
export function encodeInt4GroupTables(
  q: AffineQuantization,
  nibbleBytes: number,
  shape?: number[],
): { tail: Uint8Array; params: Record<string, unknown> } {
  const count = q.scales.length;
  // Channels C of the [groups][C] tables: from the shape when given, else the super-scales' length.
  const channels = shape ? shapeSize(shape.slice(q.axis, q.axis + (q.axisCount ?? 1))) : (q.superScales?.length ?? 0);
  const codes = hasScaleCodes(q, channels) && count % channels === 0;
  const zp = q.zeroPoints.some((z) => z !== 0);
  const tail = new Uint8Array(int4GroupTableBytes(nibbleBytes, count, channels, codes, zp));
  const view = new DataView(tail.buffer);
  let off: number;
  if (codes) {
    off = (4 - (nibbleBytes % 4)) % 4;
    for (let c = 0; c < channels; c++) view.setFloat32(off + 4 * c, q.superScales![c]!, true);
    off += 4 * channels;
    tail.set(q.scaleCodes!, off);
    off += count;
  } else {
    off = nibbleBytes % 2;
    for (let i = 0; i < count; i++) {
      const h = toFloat16(q.scales[i]!);
      if (fromFloat16(h) !== q.scales[i]) {
        throw new RangeError(
          `int4 group scale ${i} (${q.scales[i]}) is neither a float16 value nor given by scaleCodes × superScales (quantize with quantizeWeightInt4)`,
        );
      }
      view.setUint16(off + 2 * i, h, true);
    }
    off += 2 * count;
  }
  if (zp) for (let i = 0; i < count; i++) tail[off + (i >> 1)]! |= (q.zeroPoints[i]! & 0x0f) << (i & 1 ? 4 : 0);
  return {
    tail,
    params: {
      groupSize: q.groupSize,
      groupScales: codes ? 'uint8' : 'float16',
      ...(codes ? { superScales: 'float32' } : {}),
      groupZeroPoints: zp ? 'int4' : 'none',
    },
  };
}

export interface Int4GroupTables {
  scales: Float32Array;
  zeroPoints: Int32Array;
  groupSize: number;
  /** Present when the file stores double-quantized scales ('uint8'). */
  scaleCodes?: Uint8Array;
  superScales?: Float32Array;
}

/** Reads the tables written by encodeInt4GroupTables (and the older float16 / int8 forms); throws a message naming what is wrong. */
export function decodeInt4GroupTables(
  bytes: Uint8Array,
  size: number,
  shape: number[],
  axis: number,
  axisCount: number,
  params: Record<string, unknown>,
): Int4GroupTables {
  const groupSize = params.groupSize;
  if (typeof groupSize !== 'number' || !INT4_GROUP_SIZES.includes(groupSize) || groupSize === 0)
    throw new RangeError(`groupSize ${JSON.stringify(groupSize)} is not 32, 64 or 128`);
  const kind = params.groupScales;
  if (kind !== 'float16' && kind !== 'uint8')
    throw new RangeError(`groupScales ${JSON.stringify(kind)} is not 'float16' or 'uint8'`);
  if (kind === 'uint8' && params.superScales !== 'float32')
    throw new RangeError(
      `superScales ${JSON.stringify(params.superScales)} is not 'float32' (needed by groupScales 'uint8')`,
    );
  const zpKind = params.groupZeroPoints;
  if (zpKind !== 'int8' && zpKind !== 'int4' && zpKind !== 'none')
    throw new RangeError(`groupZeroPoints ${JSON.stringify(zpKind)} is not 'int4', 'int8' or 'none'`);
  const l = groupLayout(shape, axis, groupSize, axisCount);
  const count = l.groups * l.channels,
    C = l.channels;
  const nib = Math.ceil(size / 2);
  const zpBytes = zpKind === 'int8' ? count : zpKind === 'int4' ? Math.ceil(count / 2) : 0;
  const need = nib + int4GroupTableBytes(nib, count, C, kind === 'uint8', false) + zpBytes;
  if (bytes.byteLength !== need)
    throw new RangeError(`int4 data with group tables has ${bytes.byteLength} bytes, shape and groups need ${need}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scales = new Float32Array(count);
  const zeroPoints = new Int32Array(count);
  let off: number;
  let scaleCodes: Uint8Array | undefined, superScales: Float32Array | undefined;
  if (kind === 'uint8') {
    off = nib + ((4 - (nib % 4)) % 4);
    superScales = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const d = view.getFloat32(off + 4 * c, true);
      if (!(d > 0) || !Number.isFinite(d)) throw new RangeError(`super-scale ${c} is ${d} (must be finite and > 0)`);
      superScales[c] = d;
    }
    off += 4 * C;
    scaleCodes = bytes.slice(off, off + count);
    for (let i = 0; i < count; i++) {
      if (scaleCodes[i] === 0) throw new RangeError(`group scale code ${i} is 0 (codes are 1..255)`);
      scales[i] = decodeScale(scaleCodes[i]!, superScales[i % C]!);
      if (!Number.isFinite(scales[i]!))
        throw new RangeError(
          `group scale ${i} (code ${scaleCodes[i]} × super-scale ${superScales[i % C]}) is not finite`,
        );
    }
    off += count;
  } else {
    off = nib + (nib % 2);
    for (let i = 0; i < count; i++) {
      scales[i] = fromFloat16(view.getUint16(off + 2 * i, true));
      if (!(scales[i]! > 0) || !Number.isFinite(scales[i]!))
        throw new RangeError(`group scale ${i} is ${scales[i]} (must be finite and > 0)`);
    }
    off += 2 * count;
  }
  for (let i = 0; i < count && zpKind !== 'none'; i++) {
    const z =
      zpKind === 'int8'
        ? (bytes[off + i]! << 24) >> 24
        : (((bytes[off + (i >> 1)]! >> (i & 1 ? 4 : 0)) & 0x0f) << 28) >> 28;
    if (z < -8 || z > 7) throw new RangeError(`group zero point ${i} is ${z}, outside [-8, 7]`);
    zeroPoints[i] = z;
  }
  return { scales, zeroPoints, groupSize, ...(scaleCodes && superScales ? { scaleCodes, superScales } : {}) };
}
