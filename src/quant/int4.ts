// Sub-byte weights (issue 10, docs/quantization.md §12.5): 2/3/4-bit weights in int4
// containers with one (scale, zero point) per output channel and per group of `groupSize`
// consecutive values along K. Pure TypeScript (the scheme's formulas, float32 by Math.fround);
// the native int4 kernels (src/kernels/int4.ts) consume what this produces.
import type { AffineQuantization } from '../model/ir.js';
import { assertInt, assertShape, assertTypedArray, shapeSize } from '../native/validate.js';
import { clamp, fl32, fromFloat16, quantizeValue, rangeOf, rne, toFloat16 } from './scheme.js';

export type Int4Bits = 2 | 3 | 4;
/** Group sizes along K; 0 = one group per output channel (all of K). */
export const INT4_GROUP_SIZES: readonly number[] = [0, 32, 64, 128];
export const INT4_DEFAULT_GROUP_SIZE = 64;

export interface Int4Options {
  /** Bits per weight (default 4); 2 and 3 are stored in int4 containers. */
  bits?: Int4Bits;
  /** Values per group along K: 32, 64 (default) or 128; 0 = per output channel. */
  groupSize?: number;
  /** Zero point 0 and the narrow range [−(2^(b−1)−1), 2^(b−1)−1] (default true); else asymmetric [−2^(b−1), 2^(b−1)−1]. */
  symmetric?: boolean;
  /** 'rtn' (default): range from min/max; 'mse': per group, the shrunk range minimizing the squared error. */
  search?: 'rtn' | 'mse';
  /** Consecutive axes forming the output channel (default 1). */
  axisCount?: number;
}

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

/** [qmin, qmax] for b bits: symmetric narrow [−(2^(b−1)−1), 2^(b−1)−1], asymmetric [−2^(b−1), 2^(b−1)−1]. */
export function int4Range(bits: Int4Bits, symmetric: boolean): [number, number] {
  const h = 2 ** (bits - 1);
  return [symmetric ? -(h - 1) : -h, h - 1];
}

function checkBits(bits: unknown): asserts bits is Int4Bits {
  if (bits !== 2 && bits !== 3 && bits !== 4) throw new RangeError(`bits must be 2, 3 or 4, got ${String(bits)}`);
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

/** Smallest and largest positive float16 (2^−24 and 65504). */
const F16_MIN = 2 ** -24, F16_MAX = 65504;

/** A scale as stored in the file: rounded once to float16 (ties to even), kept in [2^−24, 65504]. */
export function float16Scale(s: number): number {
  const h = fromFloat16(toFloat16(s));
  return h < F16_MIN ? F16_MIN : h > F16_MAX ? F16_MAX : h;
}

/**
 * Parameters of one group from its range: §4 with the b-bit ranges, the scale then rounded to
 * float16 (float16Scale) before the zero point is chosen, so the file holds it exactly; a
 * scale of 0 or not finite becomes 1.
 */
export function chooseGroupParams(lo: number, hi: number, bits: Int4Bits, symmetric: boolean): { scale: number; zeroPoint: number } {
  const l = fl32(Math.min(lo, 0)), h = fl32(Math.max(hi, 0));
  const [qmin, qmax] = int4Range(bits, symmetric);
  let s = symmetric ? fl32(Math.max(-l, h) / qmax) : fl32(fl32(h - l) / (qmax - qmin));
  s = s > 0 && Number.isFinite(s) ? float16Scale(s) : 1;
  return { scale: s, zeroPoint: symmetric ? 0 : rne(clamp(fl32(-l / s), 0, qmax - qmin)) + qmin };
}

/** Candidate range shrink factors of the 'mse' search (1 first: ties keep round-to-nearest). */
const MSE_SHRINK = Array.from({ length: 20 }, (_, i) => 1 - i * 0.025);

/**
 * Quantizes a weight to 2/3/4 bits with per-(group, channel) scales. Returns an
 * AffineQuantization with dtype 'int4', `values` one Int8Array entry per element (the
 * constant's layout), `scales`/`zeroPoints` laid out [groups][channels] (groups along K, K =
 * every non-channel index in order), `groupSize` set unless per channel (then scales has one
 * entry per channel, as an int8 per-channel constant).
 */
export function quantizeWeightInt4(values: Float32Array, shape: number[], axis: number, opts: Int4Options = {}): AffineQuantization {
  assertTypedArray(values, Float32Array, 'values');
  if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
  const bits = opts.bits ?? 4;
  checkBits(bits);
  const symmetric = opts.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError('symmetric must be a boolean');
  const search = opts.search ?? 'rtn';
  if (search !== 'rtn' && search !== 'mse') throw new RangeError(`search must be 'rtn' or 'mse', got ${String(search)}`);
  const requested = opts.groupSize ?? INT4_DEFAULT_GROUP_SIZE;
  const l = groupLayout(shape, axis, requested, opts.axisCount ?? 1);
  if (values.length !== shapeSize(shape)) throw new RangeError(`values has ${values.length} elements, shape [${shape.join(', ')}] needs ${shapeSize(shape)}`);
  const [qmin, qmax] = int4Range(bits, symmetric);
  const C = l.channels, G = l.groupSize;
  // Gather each channel's K values contiguously (k order) to find ranges and errors per group.
  const byChannel = new Float32Array(values.length);
  const index = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const p = groupPosition(i, l);
    byChannel[p.c * l.k + p.k] = values[i]!;
    index[p.c * l.k + p.k] = i;
  }
  const scales = new Float32Array(l.groups * C);
  const zeroPoints = new Int32Array(l.groups * C);
  const q = new Int8Array(values.length);
  for (let c = 0; c < C; c++) {
    for (let g = 0; g < l.groups; g++) {
      const b = c * l.k + g * G, e = Math.min(b + G, (c + 1) * l.k);
      const [lo, hi] = rangeOf(byChannel, b, e);
      let best = chooseGroupParams(lo, hi, bits, symmetric);
      if (search === 'mse') {
        let bestErr = Infinity;
        for (const f of MSE_SHRINK) {
          const p = chooseGroupParams(fl32(lo * f), fl32(hi * f), bits, symmetric);
          let err = 0;
          for (let j = b; j < e; j++) {
            const x = byChannel[j]!;
            if (!Number.isFinite(x)) continue;
            const d = x - fl32(fl32(quantizeValue(x, p.scale, p.zeroPoint, qmin, qmax) - p.zeroPoint) * p.scale);
            err += d * d;
          }
          if (err < bestErr) { bestErr = err; best = p; }
        }
      }
      scales[g * C + c] = best.scale;
      zeroPoints[g * C + c] = best.zeroPoint;
      for (let j = b; j < e; j++) q[index[j]!] = quantizeValue(byChannel[j]!, best.scale, best.zeroPoint, qmin, qmax);
    }
  }
  const count = opts.axisCount ?? 1;
  return {
    dtype: 'int4', axis, ...(count !== 1 ? { axisCount: count } : {}), scales, zeroPoints, values: q,
    ...(requested !== 0 ? { groupSize: G } : {}), ...(symmetric ? { narrowRange: true } : {}),
  };
}

/** §3 per group: x[i] = fl32((q[i] − zp[g][c]) × scale[g][c]) for an int4 AffineQuantization of `shape`. */
export function dequantizeWeightInt4(q: AffineQuantization, shape: number[]): Float32Array {
  if (q.dtype !== 'int4' || !q.values) throw new RangeError('dequantizeWeightInt4 needs an int4 AffineQuantization with values');
  const l = groupLayout(shape, q.axis, q.groupSize ?? 0, q.axisCount ?? 1);
  if (q.values.length !== shapeSize(shape)) throw new RangeError(`values has ${q.values.length} elements, shape needs ${shapeSize(shape)}`);
  if (q.scales.length !== l.groups * l.channels || q.zeroPoints.length !== l.groups * l.channels) {
    throw new RangeError(`scales and zeroPoints need ${l.groups * l.channels} entries ([groups ${l.groups}][channels ${l.channels}])`);
  }
  const out = new Float32Array(q.values.length);
  for (let i = 0; i < out.length; i++) {
    const p = groupPosition(i, l);
    const j = Math.floor(p.k / l.groupSize) * l.channels + p.c;
    out[i] = fl32(fl32(q.values[i]! - q.zeroPoints[j]!) * q.scales[j]!);
  }
  return out;
}

export interface WeightBitsChoice {
  bits: 4 | 8;
  reason: string;
}

/**
 * Whether a weight is worth 4 bits: layers with fewer than `minElements` weights (default
 * 16384) or fewer K values than one group stay at 8 bits (the saving is small next to the
 * per-group scales and the accuracy cost is not), with the reason to report.
 */
export function chooseWeightBits(shape: number[], axis: number, opts: { groupSize?: number; minElements?: number; axisCount?: number } = {}): WeightBitsChoice {
  const groupSize = opts.groupSize ?? INT4_DEFAULT_GROUP_SIZE;
  const minElements = opts.minElements ?? 16384;
  assertInt(minElements, 'minElements', 0);
  const l = groupLayout(shape, axis, groupSize, opts.axisCount ?? 1);
  const size = shapeSize(shape);
  if (size < minElements) return { bits: 8, reason: `${size} weights < ${minElements}: left at 8 bits` };
  if (groupSize !== 0 && l.k < groupSize) return { bits: 8, reason: `K = ${l.k} < group size ${groupSize}: left at 8 bits` };
  return { bits: 4, reason: `${size} weights, K = ${l.k}, ${l.groups} group(s) of ${l.groupSize}` };
}

// ---- file form (docs/format.md, affine int4 with groupSize): after the nibbles (padded to an
// even byte count), the [groups][channels] scales as float16 little-endian, then — when any
// zero point is not 0 — the zero points as int8.

/** Two's-complement nibbles, two per byte, low nibble first → one Int8Array value each. */
export function unpackInt4Nibbles(bytes: Uint8Array, size: number): Int8Array {
  const q = new Int8Array(size);
  for (let i = 0; i < size; i++) {
    const nib = (bytes[i >> 1]! >> (i & 1 ? 4 : 0)) & 0x0f;
    q[i] = nib >= 8 ? nib - 16 : nib;
  }
  return q;
}

/** The bytes that follow the nibbles of a grouped int4 constant, and its params keys. */
export function encodeInt4GroupTables(q: AffineQuantization, nibbleBytes: number): { tail: Uint8Array; params: Record<string, unknown> } {
  const count = q.scales.length;
  const zp = q.zeroPoints.some((z) => z !== 0);
  const pad = nibbleBytes % 2;
  const tail = new Uint8Array(pad + 2 * count + (zp ? count : 0));
  const view = new DataView(tail.buffer);
  for (let i = 0; i < count; i++) {
    const h = toFloat16(q.scales[i]!);
    if (fromFloat16(h) !== q.scales[i]) throw new RangeError(`int4 group scale ${i} (${q.scales[i]}) is not a float16 value (quantize with quantizeWeightInt4)`);
    view.setUint16(pad + 2 * i, h, true);
  }
  if (zp) for (let i = 0; i < count; i++) tail[pad + 2 * count + i] = q.zeroPoints[i]! & 0xff;
  return { tail, params: { groupSize: q.groupSize, groupScales: 'float16', groupZeroPoints: zp ? 'int8' : 'none' } };
}

/** Reads the tables written by encodeInt4GroupTables; throws a message naming what is wrong. */
export function decodeInt4GroupTables(bytes: Uint8Array, size: number, shape: number[], axis: number, axisCount: number,
  params: Record<string, unknown>): { scales: Float32Array; zeroPoints: Int32Array; groupSize: number } {
  const groupSize = params.groupSize;
  if (typeof groupSize !== 'number' || !INT4_GROUP_SIZES.includes(groupSize) || groupSize === 0) throw new RangeError(`groupSize ${JSON.stringify(groupSize)} is not 32, 64 or 128`);
  if (params.groupScales !== 'float16') throw new RangeError(`groupScales ${JSON.stringify(params.groupScales)} is not 'float16'`);
  const zpKind = params.groupZeroPoints;
  if (zpKind !== 'int8' && zpKind !== 'none') throw new RangeError(`groupZeroPoints ${JSON.stringify(zpKind)} is not 'int8' or 'none'`);
  const l = groupLayout(shape, axis, groupSize, axisCount);
  const count = l.groups * l.channels;
  const nib = Math.ceil(size / 2), pad = nib % 2;
  const need = nib + pad + 2 * count + (zpKind === 'int8' ? count : 0);
  if (bytes.byteLength !== need) throw new RangeError(`int4 data with group tables has ${bytes.byteLength} bytes, shape and groups need ${need}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scales = new Float32Array(count);
  const zeroPoints = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    scales[i] = fromFloat16(view.getUint16(nib + pad + 2 * i, true));
    if (!(scales[i]! > 0) || !Number.isFinite(scales[i]!)) throw new RangeError(`group scale ${i} is ${scales[i]} (must be finite and > 0)`);
    if (zpKind === 'int8') {
      const z = (bytes[nib + pad + 2 * count + i]! << 24) >> 24;
      if (z < -8 || z > 7) throw new RangeError(`group zero point ${i} is ${z}, outside [-8, 7]`);
      zeroPoints[i] = z;
    }
  }
  return { scales, zeroPoints, groupSize };
}

export interface Int4WeightStats {
  /** Bits per value of the storage (4 for int4, 8 for int8 / uint8). */
  bits: number;
  /** Values per group along K (K when per channel). */
  groupSize: number;
  groups: number;
  /** 10·log10(Σ x² / Σ (x − x̂)²) in dB (Infinity when exact). */
  snrDb: number;
  /** Bytes of the entry in the tfjs-quant weight shards (parameters kept in model.json not counted). */
  bytes: number;
  /** Bytes as float32. */
  floatBytes: number;
}

/**
 * Per-layer report figures for a quantized weight: storage bits, group size, SNR of the
 * dequantized values against the float ones, and the bytes its entry takes in the weight
 * shards of the tfjs-quant format (vs float32).
 */
export function int4WeightStats(values: Float32Array, q: AffineQuantization, shape: number[]): Int4WeightStats {
  assertTypedArray(values, Float32Array, 'values');
  if (!q?.values || values.length !== q.values.length) throw new RangeError('q.values must have one entry per element of values');
  const grouped = q.dtype === 'int4' && q.groupSize !== undefined;
  const deq = q.dtype === 'int4' ? dequantizeWeightInt4(q, shape) : undefined;
  const inner = q.axis === -1 ? values.length : shapeSize(shape.slice(q.axis + (q.axisCount ?? 1)));
  let sig = 0, err = 0;
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % q.scales.length;
    const x = deq ? deq[i]! : fl32(fl32(q.values[i]! - q.zeroPoints[c]!) * q.scales[c]!);
    sig += values[i]! ** 2;
    err += (values[i]! - x) ** 2;
  }
  const bits = q.dtype === 'int4' ? 4 : q.dtype === 'int32' ? 32 : 8;
  const valueBytes = Math.ceil((values.length * bits) / 8);
  const count = q.scales.length;
  // Shard bytes as saveNative writes them (parameters kept in model.json are not counted):
  // grouped int4 → nibbles, pad to even, float16 scales, int8 zero points when any is not 0;
  // per-channel int8/uint8 → values padded to 4, float32 scale table; otherwise the values.
  const tableBytes = grouped ? (valueBytes % 2) + 2 * count + (q.zeroPoints.some((z) => z !== 0) ? count : 0)
    : bits === 8 && count > 1 ? Math.ceil(valueBytes / 4) * 4 - valueBytes + 4 * count : 0;
  const l = q.dtype === 'int4' ? groupLayout(shape, q.axis, q.groupSize ?? 0, q.axisCount ?? 1) : undefined;
  return {
    bits, groupSize: l ? l.groupSize : 0, groups: l ? l.groups : 1,
    snrDb: err === 0 ? Infinity : 10 * Math.log10(sig / err), bytes: valueBytes + tableBytes, floatBytes: values.length * 4,
  };
}
