// Sub-byte weights (docs/quantization.md §12.5): 2/3/4-bit weights in int4
// containers with one (scale, zero point) per output channel and per group of `groupSize`
// consecutive values along K. Pure TypeScript (the scheme's formulas, float32 by Math.fround);
// the native int4 kernels (src/kernels/int4.ts) consume what this produces.
import type { IsaName } from '../../binding.js';
import type { AffineQuantization } from '../model/ir.js';
import { packInt4Weights, type Int4PackedWeights } from '../kernels/int4.js';
import { assertInt, assertTypedArray, shapeSize } from '../native/validate.js';
import {
  decodeScale,
  dequantizeWeightInt4,
  groupLayout,
  groupPosition,
  hasScaleCodes,
  int4GroupTableBytes,
} from '../model/int4-storage.js';
import { clamp, fl32, fromFloat16, quantizeValue, rangeOf, rne, toFloat16 } from '../kernels/scheme.js';

// The storage half of int4 (group geometry, nibbles, group tables, dequantization) lives in
// model/int4-storage.ts; re-exported so this stays the one int4 module of the public API.
export {
  INT4_GROUP_SIZES,
  checkGroupSize,
  groupLayout,
  groupPosition,
  decodeScale,
  dequantizeWeightInt4,
  unpackInt4Nibbles,
  int4GroupTableBytes,
  encodeInt4GroupTables,
  decodeInt4GroupTables,
  type GroupLayout,
  type Int4GroupTables,
} from '../model/int4-storage.js';

export type Int4Bits = 2 | 3 | 4;
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

/** [qmin, qmax] for b bits: symmetric narrow [−(2^(b−1)−1), 2^(b−1)−1], asymmetric [−2^(b−1), 2^(b−1)−1]. */
export function int4Range(bits: Int4Bits, symmetric: boolean): [number, number] {
  const h = 2 ** (bits - 1);
  return [symmetric ? -(h - 1) : -h, h - 1];
}

function checkBits(bits: unknown): asserts bits is Int4Bits {
  if (bits !== 2 && bits !== 3 && bits !== 4) throw new RangeError(`bits must be 2, 3 or 4, got ${String(bits)}`);
}

/** Smallest and largest positive float16 (2^−24 and 65504). */
const F16_MIN = 2 ** -24,
  F16_MAX = 65504;

/** A scale as stored in the file: rounded once to float16 (ties to even), kept in [2^−24, 65504]. */
export function float16Scale(s: number): number {
  const h = fromFloat16(toFloat16(s));
  return h < F16_MIN ? F16_MIN : h > F16_MAX ? F16_MAX : h;
}

/** The unrounded scale of a range (§4 widened to include 0, b-bit ranges): may be 0 or not finite. */
export function rawGroupScale(lo: number, hi: number, bits: Int4Bits, symmetric: boolean): number {
  const l = fl32(Math.min(lo, 0)),
    h = fl32(Math.max(hi, 0));
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
export function chooseGroupParams(
  lo: number,
  hi: number,
  bits: Int4Bits,
  symmetric: boolean,
): { scale: number; zeroPoint: number } {
  const r = rawGroupScale(lo, hi, bits, symmetric);
  const s = r > 0 && Number.isFinite(r) ? float16Scale(r) : 1;
  return { scale: s, zeroPoint: zeroPointFor(lo, s, bits, symmetric) };
}

/** Largest group scale code (codes are 1..255). */
export const INT4_MAX_SCALE_CODE = 255;
const SUPER_MIN = 2 ** -126,
  SUPER_MAX = 2 ** 120;

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
  const ulp = 2 ** (e - 15); // 16 significant bits: x / ulp ∈ [2^15, 2^16)
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

/** Candidate range shrink factors of the 'mse' search (1 first: ties keep round-to-nearest). */
const MSE_SHRINK = Array.from({ length: 20 }, (_, i) => 1 - i * 0.025);

/**
 * Quantizes a weight to 2/3/4 bits with per-(group, channel) scales. Returns an
 * AffineQuantization with dtype 'int4', `values` one Int8Array entry per element (the
 * constant's layout), `scales`/`zeroPoints` laid out [groups][channels] (groups along K, K =
 * every non-channel index in order), `groupSize` set unless per channel (then scales has one
 * entry per channel, as an int8 per-channel constant).
 */
export function quantizeWeightInt4(
  values: Float32Array,
  shape: number[],
  axis: number,
  opts: Int4Options = {},
): AffineQuantization {
  assertTypedArray(values, Float32Array, 'values');
  if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
  const bits = opts.bits ?? 4;
  checkBits(bits);
  const symmetric = opts.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError('symmetric must be a boolean');
  const search = opts.search ?? 'rtn';
  if (search !== 'rtn' && search !== 'mse')
    throw new RangeError(`search must be 'rtn' or 'mse', got ${String(search)}`);
  const requested = opts.groupSize ?? INT4_DEFAULT_GROUP_SIZE;
  const l = groupLayout(shape, axis, requested, opts.axisCount ?? 1);
  if (values.length !== shapeSize(shape))
    throw new RangeError(`values has ${values.length} elements, shape [${shape.join(', ')}] needs ${shapeSize(shape)}`);
  const [qmin, qmax] = int4Range(bits, symmetric);
  const C = l.channels,
    G = l.groupSize;
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
      const b = c * l.k + g * G,
        e = Math.min(b + G, (c + 1) * l.k);
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
      const b = c * l.k + g * G,
        e = Math.min(b + G, (c + 1) * l.k);
      const lo = ranges[2 * g]!,
        hi = ranges[2 * g + 1]!;
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
          if (err < bestErr) {
            bestErr = err;
            best = p;
          }
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
    dtype: 'int4',
    axis,
    ...(count !== 1 ? { axisCount: count } : {}),
    scales,
    zeroPoints,
    values: q,
    ...(requested !== 0 ? { groupSize: G } : {}),
    ...(symmetric ? { narrowRange: true } : {}),
    ...(codes && supers ? { scaleCodes: codes, superScales: supers } : {}),
  };
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
export function chooseWeightBits(
  shape: number[],
  axis: number,
  opts: { groupSize?: number; minElements?: number; axisCount?: number } = {},
): WeightBitsChoice {
  const groupSize = opts.groupSize ?? INT4_DEFAULT_GROUP_SIZE;
  const minElements = opts.minElements ?? 16384;
  assertInt(minElements, 'minElements', 0);
  const l = groupLayout(shape, axis, groupSize, opts.axisCount ?? 1);
  const size = shapeSize(shape);
  if (size < minElements) return { bits: 8, reason: `${size} weights < ${minElements}: left at 8 bits` };
  if (groupSize !== 0 && l.k < groupSize)
    return { bits: 8, reason: `K = ${l.k} < group size ${groupSize}: left at 8 bits` };
  return { bits: 4, reason: `${size} weights, K = ${l.k}, ${l.groups} group(s) of ${l.groupSize}` };
}

/**
 * Packs a Dense/MatMul kernel [K, N] quantized by quantizeWeightInt4 (axis 1): its values,
 * [groups][N] scales and zero points and group size.
 */
export function packInt4Quantization(
  q: AffineQuantization,
  shape: readonly number[],
  isa?: IsaName,
): Int4PackedWeights {
  if (q?.dtype !== 'int4' || !(q.values instanceof Int8Array))
    throw new TypeError('q must be an int4 AffineQuantization with Int8Array values');
  if (!Array.isArray(shape) || shape.length !== 2) throw new RangeError('shape must be [K, N]');
  if (q.axis !== 1 || (q.axisCount ?? 1) !== 1)
    throw new RangeError(`q.axis must be 1 (the N axis of a [K, N] kernel), got ${q.axis}`);
  const allZero = q.zeroPoints.every((z) => z === 0);
  return packInt4Weights(q.values, {
    k: shape[0]!,
    n: shape[1]!,
    groupSize: q.groupSize ?? 0,
    scales: q.scales,
    ...(allZero ? {} : { zeroPoints: q.zeroPoints }),
    ...(isa ? { isa } : {}),
  });
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
  if (!q?.values || values.length !== q.values.length)
    throw new RangeError('q.values must have one entry per element of values');
  const grouped = q.dtype === 'int4' && q.groupSize !== undefined;
  const deq = q.dtype === 'int4' ? dequantizeWeightInt4(q, shape) : undefined;
  const inner = q.axis === -1 ? values.length : shapeSize(shape.slice(q.axis + (q.axisCount ?? 1)));
  let sig = 0,
    err = 0;
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
  const tableBytes = grouped
    ? int4GroupTableBytes(
        valueBytes,
        count,
        l!.channels,
        codes,
        q.zeroPoints.some((z) => z !== 0),
      )
    : bits === 8 && count > 1
      ? Math.ceil(valueBytes / 4) * 4 - valueBytes + 4 * count
      : 0;
  const bytes = valueBytes + tableBytes;
  return {
    bits,
    groupSize: l ? l.groupSize : 0,
    groups: l ? l.groups : 1,
    snrDb: err === 0 ? Infinity : 10 * Math.log10(sig / err),
    bytes,
    floatBytes: values.length * 4,
    bitsPerWeight: values.length ? (8 * bytes) / values.length : 0,
    scaleStorage: codes ? 'uint8' : grouped ? 'float16' : 'float32',
  };
}
