// Sub-byte weights (docs/quantization.md §12.5): 2/3/4-bit weights in int4
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
  /**
   * Storage of the group scales (with groups only): 8 (default) = double quantization, an
   * unsigned 8-bit code per group times a float32 super-scale per output channel (≈ 0.125 bit
   * per weight at G = 64); 16 = one float16 scale per group (0.25 bit per weight at G = 64).
   */
  scaleBits?: Int4ScaleBits;
}

export type Int4ScaleBits = 8 | 16;
export const INT4_DEFAULT_SCALE_BITS: Int4ScaleBits = 8;

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

/** The unrounded scale of a range (§4 widened to include 0, b-bit ranges): may be 0 or not finite. */
export function rawGroupScale(lo: number, hi: number, bits: Int4Bits, symmetric: boolean): number {
  const l = fl32(Math.min(lo, 0)), h = fl32(Math.max(hi, 0));
  const [qmin, qmax] = int4Range(bits, symmetric);
  return symmetric ? fl32(Math.max(-l, h) / qmax) : fl32(fl32(h - l) / (qmax - qmin));
}

/** The zero point of a range for an already chosen scale s (0 when symmetric). */
function zeroPointFor(lo: number, s: number, bits: Int4Bits, symmetric: boolean): number {
  if (symmetric) return 0;
  const [qmin, qmax] = int4Range(bits, symmetric);
  return rne(clamp(fl32(-fl32(Math.min(lo, 0)) / s), 0, qmax - qmin)) + qmin;
}

/**
 * Parameters of one group from its range: §4 with the b-bit ranges, the scale then rounded to
 * float16 (float16Scale) before the zero point is chosen, so the file holds it exactly; a
 * scale of 0 or not finite becomes 1.
 */
export function chooseGroupParams(lo: number, hi: number, bits: Int4Bits, symmetric: boolean): { scale: number; zeroPoint: number } {
  const r = rawGroupScale(lo, hi, bits, symmetric);
  const s = r > 0 && Number.isFinite(r) ? float16Scale(r) : 1;
  return { scale: s, zeroPoint: zeroPointFor(lo, s, bits, symmetric) };
}

/** Largest group scale code (codes are 1..255). */
export const INT4_MAX_SCALE_CODE = 255;
const SUPER_MIN = 2 ** -126, SUPER_MAX = 2 ** 120;

/**
 * The super-scale of a channel whose largest group scale is `smax` (§12.5 double quantization):
 * the smallest number with 16 significant bits that is ≥ smax / 255 (the exact quotient), kept
 * in [2^−126, 2^120]; so 255 × d ≥ smax (the largest group is not clipped) and code × d (code ≤
 * 255: 8 bits) is exact in float32. 2^−8 when smax is 0 or not finite (an all-zero channel:
 * any scale quantizes it exactly).
 */
export function superScaleFor(smax: number): number {
  if (!(smax > 0) || !Number.isFinite(smax)) return 2 ** -8;
  // smax / 255 in float64 never lands on a 16-bit grid point unless it is one exactly (smax has
  // 24 significant bits), so the ceiling below is the ceiling of the exact quotient.
  const x = smax / INT4_MAX_SCALE_CODE;
  if (!(x > SUPER_MIN)) return SUPER_MIN;
  if (x >= SUPER_MAX) return SUPER_MAX;
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) e--;
  if (2 ** (e + 1) <= x) e++;
  const ulp = 2 ** (e - 15);  // 16 significant bits: x / ulp ∈ [2^15, 2^16)
  return Math.ceil(x / ulp) * ulp;
}

/**
 * The code of a scale s under super-scale d: the smallest code whose scale is ≥ s (the range
 * stays covered), min(255, max(1, ⌈s / d⌉)) with the exact quotient (float64 division of two
 * float32 values rounds to an integer only when the quotient is one); 1 when s is 0 or not finite.
 */
export function scaleCodeFor(s: number, d: number): number {
  if (!(s > 0) || !Number.isFinite(s)) return 1;
  return clamp(Math.ceil(s / d), 1, INT4_MAX_SCALE_CODE);
}

/** A group scale from its code and the channel's super-scale: fl32(code × d) (exact when d has ≤ 16 significant bits). */
export function decodeScale(code: number, d: number): number {
  return fl32(code * d);
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
  const scaleBits = opts.scaleBits ?? INT4_DEFAULT_SCALE_BITS;
  if (scaleBits !== 8 && scaleBits !== 16) throw new RangeError(`scaleBits must be 8 or 16, got ${String(scaleBits)}`);
  // Double quantization only where there are group tables (per channel: one scale, kept float16).
  const dq = scaleBits === 8 && requested !== 0;
  const scales = new Float32Array(l.groups * C);
  const zeroPoints = new Int32Array(l.groups * C);
  const codes = dq ? new Uint8Array(l.groups * C) : undefined;
  const supers = dq ? new Float32Array(C) : undefined;
  const q = new Int8Array(values.length);
  const ranges = new Float64Array(2 * l.groups);
  for (let c = 0; c < C; c++) {
    let smax = 0;
    for (let g = 0; g < l.groups; g++) {
      const b = c * l.k + g * G, e = Math.min(b + G, (c + 1) * l.k);
      const [lo, hi] = rangeOf(byChannel, b, e);
      ranges[2 * g] = lo;
      ranges[2 * g + 1] = hi;
      const r = rawGroupScale(lo, hi, bits, symmetric);
      if (r > smax && Number.isFinite(r)) smax = r;
    }
    const d = dq ? superScaleFor(smax) : 0;
    if (supers) supers[c] = d;
    // The parameters a candidate range gives: float16-rounded scale, or the nearest code's scale.
    const params = (lo: number, hi: number): { scale: number; zeroPoint: number; code: number } => {
      if (!dq) return { ...chooseGroupParams(lo, hi, bits, symmetric), code: 0 };
      const code = scaleCodeFor(rawGroupScale(lo, hi, bits, symmetric), d);
      const scale = decodeScale(code, d);
      return { scale, zeroPoint: zeroPointFor(lo, scale, bits, symmetric), code };
    };
    for (let g = 0; g < l.groups; g++) {
      const b = c * l.k + g * G, e = Math.min(b + G, (c + 1) * l.k);
      const lo = ranges[2 * g]!, hi = ranges[2 * g + 1]!;
      let best = params(lo, hi);
      if (search === 'mse') {
        // Every candidate is a representable (stored) scale: what is kept is what was measured.
        let bestErr = Infinity;
        for (const f of MSE_SHRINK) {
          const p = params(fl32(lo * f), fl32(hi * f));
          let err = 0;
          for (let j = b; j < e; j++) {
            const x = byChannel[j]!;
            if (!Number.isFinite(x)) continue;
            const dx = x - fl32(fl32(quantizeValue(x, p.scale, p.zeroPoint, qmin, qmax) - p.zeroPoint) * p.scale);
            err += dx * dx;
          }
          if (err < bestErr) { bestErr = err; best = p; }
        }
      }
      scales[g * C + c] = best.scale;
      zeroPoints[g * C + c] = best.zeroPoint;
      if (codes) codes[g * C + c] = best.code;
      for (let j = b; j < e; j++) q[index[j]!] = quantizeValue(byChannel[j]!, best.scale, best.zeroPoint, qmin, qmax);
    }
  }
  const count = opts.axisCount ?? 1;
  return {
    dtype: 'int4', axis, ...(count !== 1 ? { axisCount: count } : {}), scales, zeroPoints, values: q,
    ...(requested !== 0 ? { groupSize: G } : {}), ...(symmetric ? { narrowRange: true } : {}),
    ...(codes && supers ? { scaleCodes: codes, superScales: supers } : {}),
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
function hasScaleCodes(q: AffineQuantization, channels: number): boolean {
  const codes = q.scaleCodes, supers = q.superScales;
  if (!(codes instanceof Uint8Array) || !(supers instanceof Float32Array)) return false;
  if (codes.length !== q.scales.length || supers.length !== channels || channels === 0) return false;
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] === 0 || decodeScale(codes[i]!, supers[i % channels]!) !== q.scales[i]) return false;
  }
  return true;
}

/** Bytes of the group tables after `nibbleBytes` bytes of nibbles (for the size report). */
export function int4GroupTableBytes(nibbleBytes: number, count: number, channels: number, scaleCodes: boolean, zeroPoints: boolean): number {
  const zp = zeroPoints ? Math.ceil(count / 2) : 0;
  if (scaleCodes) return (4 - (nibbleBytes % 4)) % 4 + 4 * channels + count + zp;
  return (nibbleBytes % 2) + 2 * count + zp;
}

/**
 * The bytes that follow the nibbles of a grouped int4 constant, and its params keys. Scales
 * are written as codes + super-scales when q carries them (quantizeWeightInt4 with scaleBits
 * 8) and they reproduce q.scales exactly, else as float16 (every scale must be a float16 value).
 */
export function encodeInt4GroupTables(q: AffineQuantization, nibbleBytes: number, shape?: number[]): { tail: Uint8Array; params: Record<string, unknown> } {
  const count = q.scales.length;
  // Channels C of the [groups][C] tables: from the shape when given, else the super-scales' length.
  const channels = shape ? shapeSize(shape.slice(q.axis, q.axis + (q.axisCount ?? 1))) : q.superScales?.length ?? 0;
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
        throw new RangeError(`int4 group scale ${i} (${q.scales[i]}) is neither a float16 value nor given by scaleCodes × superScales (quantize with quantizeWeightInt4)`);
      }
      view.setUint16(off + 2 * i, h, true);
    }
    off += 2 * count;
  }
  if (zp) for (let i = 0; i < count; i++) tail[off + (i >> 1)]! |= (q.zeroPoints[i]! & 0x0f) << (i & 1 ? 4 : 0);
  return {
    tail,
    params: {
      groupSize: q.groupSize, groupScales: codes ? 'uint8' : 'float16', ...(codes ? { superScales: 'float32' } : {}),
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
export function decodeInt4GroupTables(bytes: Uint8Array, size: number, shape: number[], axis: number, axisCount: number,
  params: Record<string, unknown>): Int4GroupTables {
  const groupSize = params.groupSize;
  if (typeof groupSize !== 'number' || !INT4_GROUP_SIZES.includes(groupSize) || groupSize === 0) throw new RangeError(`groupSize ${JSON.stringify(groupSize)} is not 32, 64 or 128`);
  const kind = params.groupScales;
  if (kind !== 'float16' && kind !== 'uint8') throw new RangeError(`groupScales ${JSON.stringify(kind)} is not 'float16' or 'uint8'`);
  if (kind === 'uint8' && params.superScales !== 'float32') throw new RangeError(`superScales ${JSON.stringify(params.superScales)} is not 'float32' (needed by groupScales 'uint8')`);
  const zpKind = params.groupZeroPoints;
  if (zpKind !== 'int8' && zpKind !== 'int4' && zpKind !== 'none') throw new RangeError(`groupZeroPoints ${JSON.stringify(zpKind)} is not 'int4', 'int8' or 'none'`);
  const l = groupLayout(shape, axis, groupSize, axisCount);
  const count = l.groups * l.channels, C = l.channels;
  const nib = Math.ceil(size / 2);
  const zpBytes = zpKind === 'int8' ? count : zpKind === 'int4' ? Math.ceil(count / 2) : 0;
  const need = nib + int4GroupTableBytes(nib, count, C, kind === 'uint8', false) + zpBytes;
  if (bytes.byteLength !== need) throw new RangeError(`int4 data with group tables has ${bytes.byteLength} bytes, shape and groups need ${need}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scales = new Float32Array(count);
  const zeroPoints = new Int32Array(count);
  let off: number;
  let scaleCodes: Uint8Array | undefined, superScales: Float32Array | undefined;
  if (kind === 'uint8') {
    off = nib + (4 - (nib % 4)) % 4;
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
      if (!Number.isFinite(scales[i]!)) throw new RangeError(`group scale ${i} (code ${scaleCodes[i]} × super-scale ${superScales[i % C]}) is not finite`);
    }
    off += count;
  } else {
    off = nib + (nib % 2);
    for (let i = 0; i < count; i++) {
      scales[i] = fromFloat16(view.getUint16(off + 2 * i, true));
      if (!(scales[i]! > 0) || !Number.isFinite(scales[i]!)) throw new RangeError(`group scale ${i} is ${scales[i]} (must be finite and > 0)`);
    }
    off += 2 * count;
  }
  for (let i = 0; i < count && zpKind !== 'none'; i++) {
    const z = zpKind === 'int8' ? (bytes[off + i]! << 24) >> 24 : (((bytes[off + (i >> 1)]! >> (i & 1 ? 4 : 0)) & 0x0f) << 28) >> 28;
    if (z < -8 || z > 7) throw new RangeError(`group zero point ${i} is ${z}, outside [-8, 7]`);
    zeroPoints[i] = z;
  }
  return { scales, zeroPoints, groupSize, ...(scaleCodes && superScales ? { scaleCodes, superScales } : {}) };
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
  /** Stored bits per weight, scales and zero points included (8·bytes / elements). */
  bitsPerWeight: number;
  /** How the group scales are stored: 'uint8' (codes × per-channel float32 super-scale), 'float16', or 'float32' (per channel, 8-bit layers). */
  scaleStorage: 'uint8' | 'float16' | 'float32';
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
  // grouped int4 → nibbles, the scale tables (codes + super-scales or float16), int4 zero points when any is not 0;
  // per-channel int8/uint8 → values padded to 4, float32 scale table; otherwise the values.
  const l = q.dtype === 'int4' ? groupLayout(shape, q.axis, q.groupSize ?? 0, q.axisCount ?? 1) : undefined;
  const codes = grouped && hasScaleCodes(q, l!.channels);
  const tableBytes = grouped ? int4GroupTableBytes(valueBytes, count, l!.channels, codes, q.zeroPoints.some((z) => z !== 0))
    : bits === 8 && count > 1 ? Math.ceil(valueBytes / 4) * 4 - valueBytes + 4 * count : 0;
  const bytes = valueBytes + tableBytes;
  return {
    bits, groupSize: l ? l.groupSize : 0, groups: l ? l.groups : 1,
    snrDb: err === 0 ? Infinity : 10 * Math.log10(sig / err), bytes, floatBytes: values.length * 4,
    bitsPerWeight: values.length ? (8 * bytes) / values.length : 0,
    scaleStorage: codes ? 'uint8' : grouped ? 'float16' : 'float32',
  };
}
