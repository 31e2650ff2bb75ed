// TF.js weight encodings: the binary layout of weight shards described by a weights
// manifest (tfjs-core io: encodeWeights / decodeWeights), including the converter's
// quantized storage {dtype: uint8|uint16|float16, min, scale}. Decoding reproduces exactly
// the values @tensorflow/tfjs produces (docs/quantization.md §10); every size is checked
// against the bytes actually present before anything is allocated.
import { ModelFormatError } from './errors.js';

export type DType = 'float32' | 'int32' | 'bool' | 'string';
export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool', 'string'];
/** Tensor contents: float32 → Float32Array, int32 → Int32Array, bool → Uint8Array (0/1), string → one Uint8Array per element. */
export type TensorData = Float32Array | Int32Array | Uint8Array | Uint8Array[];

export type TfjsStorageDType = 'uint8' | 'uint16' | 'float16';
/** tfjs-converter per-tensor quantized storage (value = q × scale + min; float16: IEEE half). */
export interface TfjsQuantization {
  dtype: TfjsStorageDType;
  min?: number;
  scale?: number;
  original_dtype?: string;
}

export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: TfjsQuantization;
  group?: string;
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
}

export interface DecodedWeight {
  name: string;
  dtype: DType;
  shape: number[];
  data: TensorData;
  /** The storage it was read from, when quantized. */
  quantization?: TfjsQuantization;
}

export interface DecodeOptions {
  /** File name used in error messages. */
  file?: string;
  /** Accept NaN / ±Inf in float weights (default: an error naming the weight). */
  allowNonFinite?: boolean;
}

const MAX_RANK = 8;
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function fail(reason: string, file: string | undefined, weight?: string): never {
  throw new ModelFormatError(reason, { file, weight });
}

/** Validates a shape from a manifest or topology: an array of at most 8 non-negative integers. */
export function checkShape(shape: unknown, what: string, file?: string, weight?: string): number[] {
  if (!Array.isArray(shape)) fail(`${what} must be an array of dimensions, got ${typeof shape}`, file, weight);
  if (shape.length > MAX_RANK) fail(`${what} has rank ${shape.length} (at most ${MAX_RANK} supported)`, file, weight);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(`${what} has an invalid dimension ${JSON.stringify(d)} (expected a non-negative integer)`, file, weight);
    }
  }
  return shape as number[];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Validates one manifest entry (kinds and values), returning it typed. */
export function checkManifestEntry(raw: unknown, file?: string): WeightsManifestEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('weights manifest entry must be an object', file);
  const e = raw as Record<string, unknown>;
  if (typeof e.name !== 'string' || e.name === '')
    fail(`weights manifest entry has no name (got ${JSON.stringify(e.name)})`, file);
  const name = e.name;
  const shape = checkShape(e.shape, 'shape', file, name);
  if (typeof e.dtype !== 'string') fail(`dtype must be a string, got ${JSON.stringify(e.dtype)}`, file, name);
  if (e.dtype === 'complex64') fail(`dtype complex64 is not supported`, file, name);
  if (!(DTYPES as readonly string[]).includes(e.dtype)) fail(`unknown dtype '${e.dtype}'`, file, name);
  const out: WeightsManifestEntry = { name, shape, dtype: e.dtype };
  if (e.group !== undefined) out.group = String(e.group);
  if (e.quantization !== undefined && e.quantization !== null) {
    const q = e.quantization as Record<string, unknown>;
    if (typeof q !== 'object' || Array.isArray(q)) fail('quantization must be an object', file, name);
    if (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16') {
      fail(`quantization dtype must be 'uint8', 'uint16' or 'float16', got ${JSON.stringify(q.dtype)}`, file, name);
    }
    const quant: TfjsQuantization = { dtype: q.dtype };
    if (q.dtype === 'float16') {
      if (e.dtype !== 'float32')
        fail(`float16 quantization applies to float32 weights only, not ${e.dtype}`, file, name);
    } else {
      if (e.dtype !== 'float32' && e.dtype !== 'int32')
        fail(`${q.dtype} quantization applies to float32/int32 weights, not ${e.dtype}`, file, name);
      if (typeof q.min !== 'number' || !Number.isFinite(q.min))
        fail(`quantization min must be a finite number, got ${JSON.stringify(q.min)}`, file, name);
      if (typeof q.scale !== 'number' || !Number.isFinite(q.scale))
        fail(`quantization scale must be a finite number, got ${JSON.stringify(q.scale)}`, file, name);
      quant.min = q.min;
      quant.scale = q.scale;
    }
    if (q.original_dtype !== undefined) quant.original_dtype = String(q.original_dtype);
    out.quantization = quant;
  }
  return out;
}

/** Validates a weightsManifest (array of {paths, weights}). */
export function checkManifest(raw: unknown, file?: string): WeightsManifestGroup[] {
  if (!Array.isArray(raw)) fail(`weightsManifest must be an array, got ${raw === null ? 'null' : typeof raw}`, file);
  return raw.map((g, i) => {
    if (g === null || typeof g !== 'object' || Array.isArray(g)) fail(`weightsManifest[${i}] must be an object`, file);
    const grp = g as Record<string, unknown>;
    if (!Array.isArray(grp.paths) || grp.paths.some((p) => typeof p !== 'string' || p === '')) {
      fail(`weightsManifest[${i}].paths must be an array of file names`, file);
    }
    if (!Array.isArray(grp.weights)) fail(`weightsManifest[${i}].weights must be an array`, file);
    return { paths: grp.paths as string[], weights: grp.weights.map((w) => checkManifestEntry(w, file)) };
  });
}

/** Bytes the entry occupies at `offset` in `bytes`, never reading or trusting past the end. */
function entryByteLength(spec: WeightsManifestEntry, bytes: Uint8Array, offset: number, file?: string): number {
  const size = sizeOf(spec.shape);
  const avail = bytes.byteLength - offset;
  if (spec.dtype === 'string' && !spec.quantization) {
    let len = 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < size; i++) {
      if (len + 4 > avail)
        fail(`string element ${i} runs past the end of the weight data (${avail} bytes left)`, file, spec.name);
      const n = view.getUint32(offset + len, true);
      len += 4;
      if (n > avail - len)
        fail(`string element ${i} has length ${n}, past the end of the weight data`, file, spec.name);
      len += n;
    }
    return len;
  }
  const bpv = BYTES[spec.quantization ? spec.quantization.dtype : spec.dtype]!;
  const need = size * bpv;
  if (need > avail) {
    fail(
      `needs ${need} bytes (shape [${spec.shape.join(', ')}], ${spec.quantization?.dtype ?? spec.dtype}) but only ${avail} remain in the weight data`,
      file,
      spec.name,
    );
  }
  return need;
}

/**
 * Decodes the weights of one manifest group from the concatenation of its shards. The
 * entries must fill the bytes exactly (a mismatch is an error naming the group's files).
 */
export function decodeWeights(
  entries: readonly WeightsManifestEntry[],
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): DecodedWeight[] {
  const out: DecodedWeight[] = [];
  let offset = 0;
  for (const spec of entries) {
    const len = entryByteLength(spec, bytes, offset, opts.file);
    out.push(decodeWeight(spec, bytes.subarray(offset, offset + len), opts));
    offset += len;
  }
  if (offset !== bytes.byteLength) {
    fail(`weight data has ${bytes.byteLength} bytes but the manifest describes ${offset}`, opts.file);
  }
  return out;
}

/** Copies bytes into a fresh aligned buffer (shards may hold a weight at any offset). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export function decodeWeight(spec: WeightsManifestEntry, bytes: Uint8Array, opts: DecodeOptions = {}): DecodedWeight {
  const { name, shape } = spec;
  const dtype = spec.dtype as DType;
  const size = sizeOf(shape);
  let data: TensorData;
  const q = spec.quantization;
  if (q) {
    if (bytes.byteLength !== size * BYTES[q.dtype]!)
      fail(`quantized data has ${bytes.byteLength} bytes, expected ${size * BYTES[q.dtype]!}`, opts.file, name);
    const raw = q.dtype === 'uint8' ? new Uint8Array(aligned(bytes)) : new Uint16Array(aligned(bytes));
    if (q.dtype === 'float16') {
      data = float16ToFloat32(raw as Uint16Array);
    } else if (dtype === 'float32') {
      data = dequantizeAffine(raw, q.scale!, q.min!);
    } else {
      const v = new Int32Array(size);
      // tfjs: Math.round(q × scale + min) (float64), stored into an Int32Array.
      for (let i = 0; i < size; i++) v[i] = Math.round(raw[i]! * q.scale! + q.min!);
      data = v;
    }
  } else if (dtype === 'string') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const arr: Uint8Array[] = [];
    let off = 0;
    for (let i = 0; i < size; i++) {
      const n = view.getUint32(off, true);
      off += 4;
      arr.push(bytes.slice(off, off + n));
      off += n;
    }
    data = arr;
  } else {
    const bpv = BYTES[dtype]!;
    if (bytes.byteLength !== size * bpv)
      fail(`data has ${bytes.byteLength} bytes, expected ${size * bpv}`, opts.file, name);
    const buf = aligned(bytes);
    data = dtype === 'float32' ? new Float32Array(buf) : dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
  }
  if (dtype === 'float32' && !opts.allowNonFinite) {
    const f = data as Float32Array;
    for (let i = 0; i < f.length; i++) {
      if (!Number.isFinite(f[i]!)) {
        fail(
          `element ${i} is ${f[i]} (NaN/Inf weights are rejected; pass allowNonFinite to accept them)`,
          opts.file,
          name,
        );
      }
    }
  }
  const out: DecodedWeight = { name, dtype, shape: [...shape], data };
  if (q) out.quantization = { ...q };
  return out;
}

/** value = q × scale + min in float64, rounded once to float32 (what tfjs computes). */
export function dequantizeAffine(q: Uint8Array | Uint16Array, scale: number, min: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q[i]! * scale + min;
  return out;
}

// ---- float16 (docs/quantization.md §9)

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 → float32, exact (subnormals, ±Inf, NaN with payload and sign). */
export function float16ToFloat32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const sign = (x & 0x8000) << 16;
    const exp = (x >> 10) & 0x1f;
    let mant = x & 0x3ff;
    if (exp === 0x1f) {
      bits[i] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else if (exp === 0) {
      if (mant === 0) {
        bits[i] = sign >>> 0;
      } else {
        // Subnormal half: normalize.
        let e = 113; // 127 - 15 + 1
        while ((mant & 0x400) === 0) {
          mant <<= 1;
          e--;
        }
        mant &= 0x3ff;
        bits[i] = (sign | (e << 23) | (mant << 13)) >>> 0;
      }
    } else {
      bits[i] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  return out;
}

/** float32 → IEEE binary16, round to nearest even; overflow → ±Inf; NaN stays NaN (quiet). */
export function float32ToFloat16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = toHalf(x[i]!);
  return out;
}

function toHalf(v: number): number {
  f32[0] = v;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // rounds to ±0
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent (→ Inf): correct
  return sign | h;
}

// ---- tfjs-converter affine storage (uint8 / uint16)

export interface AffineStorage {
  q: Uint8Array | Uint16Array;
  min: number;
  scale: number;
}

/**
 * Quantizes like tfjs-converter's quantize_weights: range [min, max] of the data, nudged so
 * 0 is exact when covered; q = roundHalfEven((clip(x) − min) / scale) in float64.
 */
export function quantizeAffine(values: Float32Array | Int32Array, dtype: 'uint8' | 'uint16'): AffineStorage {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (values.length === 0) return { q, min: 0, scale: 1 };
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError('cannot quantize a tensor holding NaN or Inf');
  if (lo === hi) return { q, min: lo, scale: 1 };
  const scale = (hi - lo) / qmax;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    const zp = roundHalfEven((0 - lo) / scale);
    min = -zp * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < values.length; i++) {
    const c = Math.min(Math.max(values[i]!, min), max);
    q[i] = Math.min(qmax, Math.max(0, roundHalfEven((c - min) / scale)));
  }
  return { q, min: min === 0 ? 0 : min, scale };
}

export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---- encoding (tfjs encodeWeights layout)

export interface EncodableWeight {
  name: string;
  dtype: DType;
  shape: number[];
  data: TensorData;
  /** Store with tfjs quantized storage (float32/int32 only; float16 for float32 only). */
  storage?: TfjsStorageDType;
}

/** Encodes weights in order into one byte array and their manifest entries. */
export function encodeWeights(weights: readonly EncodableWeight[]): {
  entries: WeightsManifestEntry[];
  bytes: Uint8Array;
} {
  const parts: Uint8Array[] = [];
  const entries: WeightsManifestEntry[] = [];
  for (const w of weights) {
    const entry: WeightsManifestEntry = { name: w.name, shape: [...w.shape], dtype: w.dtype };
    const size = sizeOf(w.shape);
    if (w.dtype === 'string') {
      if (w.storage) throw new RangeError(`weight '${w.name}': string weights cannot use ${w.storage} storage`);
      const arr = w.data as Uint8Array[];
      if (!Array.isArray(arr) || arr.length !== size)
        throw new RangeError(`weight '${w.name}': expected ${size} strings`);
      parts.push(encodeStrings(arr));
    } else {
      const data = w.data as Float32Array | Int32Array | Uint8Array;
      if (data.length !== size)
        throw new RangeError(`weight '${w.name}': data has ${data.length} elements, shape needs ${size}`);
      if (w.storage === 'float16') {
        if (w.dtype !== 'float32')
          throw new RangeError(`weight '${w.name}': float16 storage needs float32, got ${w.dtype}`);
        const h = float32ToFloat16(data as Float32Array);
        parts.push(new Uint8Array(h.buffer));
        entry.quantization = { dtype: 'float16', original_dtype: 'float32' };
      } else if (w.storage === 'uint8' || w.storage === 'uint16') {
        if (w.dtype !== 'float32' && w.dtype !== 'int32')
          throw new RangeError(`weight '${w.name}': ${w.storage} storage needs float32/int32, got ${w.dtype}`);
        const s = quantizeAffine(data as Float32Array | Int32Array, w.storage);
        parts.push(new Uint8Array(s.q.buffer, s.q.byteOffset, s.q.byteLength));
        entry.quantization = { dtype: w.storage, min: s.min, scale: s.scale, original_dtype: w.dtype };
      } else {
        parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    }
    entries.push(entry);
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.byteLength;
  }
  return { entries, bytes };
}

/** Splits bytes into shards of at most shardBytes (tfjs default 4 MiB). */
export function shard(bytes: Uint8Array, shardBytes = 4 * 1024 * 1024): Uint8Array[] {
  if (bytes.byteLength === 0) return [];
  const out: Uint8Array[] = [];
  for (let off = 0; off < bytes.byteLength; off += shardBytes)
    out.push(bytes.subarray(off, Math.min(bytes.byteLength, off + shardBytes)));
  return out;
}

/** tfjs shard naming: group{g}-shard{i}of{n}.bin (1-based). */
export function shardName(group: number, index: number, count: number): string {
  return `group${group}-shard${index}of${count}.bin`;
}

/** TF.js string weight bytes: each string as its uint32 little-endian byte length, then its bytes. */
export function encodeStrings(arr: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arr.reduce((a, s) => a + 4 + s.byteLength, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const s of arr) {
    view.setUint32(off, s.byteLength, true);
    out.set(s, off + 4);
    off += 4 + s.byteLength;
  }
  return out;
}
