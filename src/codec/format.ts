// The Deep Compression tensor stream (docs/compression.md): encoder, a TypeScript reference
// decoder (for tests), CRC-32, and the cost model used to choose the relative-index width.
import { assertInt, assertShape, assertTypedArray, shapeSize } from '../native/validate.js';
import {
  BitReader,
  BitWriter,
  MAX_CODE_LENGTH,
  canonicalCodes,
  decodeSymbol,
  huffmanLengths,
  readTable,
  tableBits,
  writeTable,
} from './huffman.js';

export const MAGIC = [0x54, 0x51, 0x44, 0x43]; // 'TQDC'
export const VERSION = 1;
export const FLAG_CODEBOOK_F16 = 1;
export const MAX_RANK = 8;
export const MAX_INDEX_BITS = 16;

export interface TensorCode {
  shape: number[];
  /** Shared nonzero values (≤ 65535, finite). */
  codebook: Float32Array;
  /** Per element: 0 = zero, j ≥ 1 = codebook[j − 1]. */
  labels: Uint16Array;
}

export interface EncodeOptions {
  /** Relative-index width: 0 = dense (no index stream), 1–16, or 'auto' (default: the smallest stream over 0–16). */
  indexBits?: number | 'auto';
}

export interface StreamStats {
  elements: number;
  /** Elements that are not zero. */
  nonzeros: number;
  /** Entries stored: nonzeros + filler zeros (every element when dense). */
  entries: number;
  fillers: number;
  indexBits: number;
  codebookSize: number;
  /** Fixed-width label bits before Huffman: ceil(log2(codebookSize + 1)). */
  labelBits: number;
  /** Huffman-coded payload bits. */
  valueStreamBits: number;
  indexStreamBits: number;
  /** Both Huffman tables. */
  tableBits: number;
  codebookBytes: number;
  /** Header, lengths and CRC (everything that is neither payload, table nor codebook). */
  overheadBytes: number;
  /** Total stream length. */
  bytes: number;
}

export interface EncodedTensor {
  bytes: Uint8Array;
  stats: StreamStats;
}

// ---- CRC-32 (zlib)
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
export function crc32(data: Uint8Array, end = data.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function varint(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function checkCode(t: TensorCode): number {
  if (typeof t !== 'object' || t === null) throw new TypeError('tensor must be {shape, codebook, labels}');
  assertShape(t.shape, 'shape');
  if (t.shape.length > MAX_RANK)
    throw new RangeError(`shape has rank ${t.shape.length}, at most ${MAX_RANK} is supported`);
  assertTypedArray(t.codebook, Float32Array, 'codebook');
  assertTypedArray(t.labels, Uint16Array, 'labels');
  const size = shapeSize(t.shape);
  if (size > 2 ** 31 - 1) throw new RangeError(`shape [${t.shape.join(', ')}] has more than 2^31-1 elements`);
  if (t.labels.length !== size)
    throw new RangeError(`labels has ${t.labels.length} elements, expected ${size} (shape [${t.shape.join(', ')}])`);
  if (t.codebook.length > 65535) throw new RangeError(`codebook has ${t.codebook.length} entries, at most 65535`);
  for (let i = 0; i < t.codebook.length; i++) {
    if (!Number.isFinite(t.codebook[i])) throw new RangeError(`codebook[${i}] is not finite (${t.codebook[i]})`);
  }
  const k = t.codebook.length;
  for (let i = 0; i < size; i++) {
    if (t.labels[i] > k) throw new RangeError(`labels[${i}] = ${t.labels[i]} exceeds the codebook size ${k}`);
  }
  return size;
}

/** The entry sequence for index width w: index symbols (gap − 1, or fillers) and value symbols. */
function entriesFor(labels: Uint16Array, w: number): { idx: Uint16Array | null; val: Uint16Array; fillers: number } {
  const size = labels.length;
  if (w === 0) return { idx: null, val: labels, fillers: 0 };
  const span = 2 ** w;
  const idx: number[] = [],
    val: number[] = [];
  let last = -1,
    fillers = 0;
  for (let p = 0; p < size; p++) {
    if (labels[p] === 0) continue;
    while (p - last - 1 > span - 1) {
      idx.push(span - 1);
      val.push(0);
      last += span;
      fillers++;
    }
    idx.push(p - last - 1);
    val.push(labels[p]);
    last = p;
  }
  while (size - 1 - last >= span) {
    idx.push(span - 1);
    val.push(0);
    last += span;
    fillers++;
  }
  return { idx: Uint16Array.from(idx), val: Uint16Array.from(val), fillers };
}

function freqs(symbols: Uint16Array, alphabet: number): Float64Array {
  const f = new Float64Array(alphabet);
  for (let i = 0; i < symbols.length; i++) f[symbols[i]]++;
  return f;
}

function payloadBits(f: Float64Array, lengths: Uint8Array): number {
  let b = 0;
  for (let s = 0; s < f.length; s++) b += f[s] * lengths[s];
  return b;
}

interface Plan {
  w: number;
  idx: Uint16Array | null;
  val: Uint16Array;
  fillers: number;
  vLen: Uint8Array;
  iLen: Uint8Array | null;
  vBits: number;
  iBits: number;
  tBits: number;
  bytes: number;
}

function plan(t: TensorCode, w: number): Plan {
  const k = t.codebook.length;
  const { idx, val, fillers } = entriesFor(t.labels, w);
  const vf = freqs(val, k + 1);
  const vLen = huffmanLengths(vf, MAX_CODE_LENGTH);
  const vBits = payloadBits(vf, vLen);
  let iLen: Uint8Array | null = null,
    iBits = 0;
  let tBits = tableBits(vLen);
  if (idx) {
    const ifr = freqs(idx, 2 ** w);
    iLen = huffmanLengths(ifr, MAX_CODE_LENGTH);
    iBits = payloadBits(ifr, iLen);
    tBits += tableBits(iLen);
  }
  const tBytes = Math.ceil(tBits / 8),
    vBytes = Math.ceil(vBits / 8),
    iBytes = Math.ceil(iBits / 8);
  let header = 8 + 4;
  for (const d of t.shape) header += varintSize(d);
  header += varintSize(val.length) + varintSize(k) + varintSize(tBytes) + varintSize(vBytes) + varintSize(iBytes);
  return { w, idx, val, fillers, vLen, iLen, vBits, iBits, tBits, bytes: header + 4 * k + tBytes + vBytes + iBytes };
}

/** Encodes one tensor; with indexBits 'auto' (default) tries widths 0–16 and keeps the smallest. */
export function encodeTensor(t: TensorCode, options: EncodeOptions = {}): EncodedTensor {
  const size = checkCode(t);
  const ib = options.indexBits ?? 'auto';
  let best: Plan;
  if (ib === 'auto') {
    best = plan(t, 0);
    for (let w = 1; w <= MAX_INDEX_BITS; w++) {
      const p = plan(t, w);
      if (p.bytes < best.bytes) best = p;
    }
  } else {
    assertInt(ib, 'indexBits', 0, MAX_INDEX_BITS);
    best = plan(t, ib);
  }
  const k = t.codebook.length;
  const tw = new BitWriter();
  writeTable(tw, best.vLen);
  if (best.iLen) writeTable(tw, best.iLen);
  const tables = tw.finish();
  const vw = new BitWriter();
  const vCodes = canonicalCodes(best.vLen);
  for (let i = 0; i < best.val.length; i++) vw.write(vCodes[best.val[i]], best.vLen[best.val[i]]);
  const values = vw.finish();
  let index: Uint8Array = new Uint8Array(0);
  if (best.idx && best.iLen) {
    const iw = new BitWriter();
    const iCodes = canonicalCodes(best.iLen);
    for (let i = 0; i < best.idx.length; i++) iw.write(iCodes[best.idx[i]], best.iLen[best.idx[i]]);
    index = iw.finish();
  }
  const head: number[] = [...MAGIC, VERSION, 0, t.shape.length, best.w];
  for (const d of t.shape) varint(head, d);
  varint(head, best.val.length);
  varint(head, k);
  const cbBytes = new Uint8Array(t.codebook.buffer.slice(t.codebook.byteOffset, t.codebook.byteOffset + 4 * k));
  const lens: number[] = [];
  varint(lens, tables.length);
  varint(lens, values.length);
  varint(lens, index.length);
  const total = head.length + cbBytes.length + lens.length + tables.length + values.length + index.length + 4;
  const out = new Uint8Array(total);
  let o = 0;
  for (const part of [Uint8Array.from(head), cbBytes, Uint8Array.from(lens), tables, values, index]) {
    out.set(part, o);
    o += part.length;
  }
  new DataView(out.buffer).setUint32(o, crc32(out, o), true);
  let nonzeros = 0;
  for (let i = 0; i < size; i++) if (t.labels[i] !== 0) nonzeros++;
  return {
    bytes: out,
    stats: {
      elements: size,
      nonzeros,
      entries: best.val.length,
      fillers: best.fillers,
      indexBits: best.w,
      codebookSize: k,
      labelBits: Math.max(1, Math.ceil(Math.log2(k + 1))),
      valueStreamBits: best.vBits,
      indexStreamBits: best.iBits,
      tableBits: best.tBits,
      codebookBytes: 4 * k,
      overheadBytes: total - 4 * k - tables.length - values.length - index.length,
      bytes: total,
    },
  };
}

export interface DecodedTensor {
  shape: number[];
  values: Float32Array;
  indexBits: number;
  entries: number;
  codebookSize: number;
}

/**
 * Reference decoder in TypeScript (slow; for tests). The native decoder (decodeTensor in
 * ./decode.ts) is the one to use.
 */
export function decodeTensorRef(bytes: Uint8Array): DecodedTensor {
  const fail = (m: string): never => {
    throw new RangeError(m);
  };
  if (bytes.length < 12) fail(`stream truncated: ${bytes.length} bytes is shorter than the smallest stream (12)`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== MAGIC[i]) fail('not a tfjs-quant compressed tensor (bad magic)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(bytes.length - 4, true) !== crc32(bytes, bytes.length - 4))
    fail('checksum mismatch: the stream is corrupted or truncated');
  const end = bytes.length - 4;
  let p = 4;
  const u8 = (what: string) => (p < end ? bytes[p++] : fail(`stream truncated while reading ${what}`));
  const vint = (what: string) => {
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = u8(what);
      v += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return v > 0xffffffff ? fail(`${what} does not fit in 32 bits`) : v;
    }
    return fail(`${what} is not a valid varint (more than 5 bytes)`);
  };
  const take = (n: number, what: string) => {
    if (n > end - p) fail(`stream truncated: ${what} needs ${n} bytes, ${end - p} left`);
    const s = bytes.subarray(p, p + n);
    p += n;
    return s;
  };
  if (u8('version') !== VERSION) fail('unsupported stream version');
  const flags = u8('flags');
  if (flags & ~FLAG_CODEBOOK_F16) fail(`unknown flags 0x${flags}`);
  if (flags & FLAG_CODEBOOK_F16) fail('float16 codebooks are not supported by the reference decoder');
  const rank = u8('rank');
  if (rank > MAX_RANK) fail(`rank ${rank} exceeds ${MAX_RANK}`);
  const w = u8('index width');
  if (w > MAX_INDEX_BITS) fail(`index width ${w} exceeds ${MAX_INDEX_BITS}`);
  const shape: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = vint('dimension');
    shape.push(d);
    size *= d;
    if (size > 2 ** 31 - 1) fail('tensor has more than 2^31-1 elements');
  }
  const entries = vint('entry count');
  const k = vint('codebook size');
  if (k > 65535) fail(`codebook size ${k} exceeds 65535`);
  const cb = take(4 * k, 'codebook');
  const codebook = new Float32Array(k + 1);
  for (let i = 0; i < k; i++) {
    const v = new DataView(cb.buffer, cb.byteOffset).getFloat32(4 * i, true);
    if (!Number.isFinite(v)) fail(`codebook entry ${i} is not finite`);
    codebook[i + 1] = v;
  }
  const tLen = vint('table section length'),
    vLen = vint('value section length'),
    iLen = vint('index section length');
  const tables = take(tLen, 'Huffman tables'),
    vals = take(vLen, 'value stream'),
    idxs = take(iLen, 'index stream');
  if (p !== end) fail(`stream has ${end - p} unexpected trailing bytes`);
  if (entries > size) fail(`entry count ${entries} exceeds the tensor size ${size}`);
  if (entries > vLen * 8) fail(`entry count ${entries} exceeds what the value stream can hold`);
  if (w === 0) {
    if (entries !== size) fail('dense stream must store every element');
    if (iLen !== 0) fail('dense stream has a non-empty index section');
  } else {
    if (entries > iLen * 8) fail(`entry count ${entries} exceeds what the index stream can hold`);
    if (size > (entries + 1) * 2 ** w)
      fail(`tensor size ${size} is not covered by ${entries} entries of index width ${w}`);
  }
  const tr = new BitReader(tables, 'Huffman table section');
  const vt = readTable(tr, k + 1, 'value Huffman table');
  const it = w > 0 ? readTable(tr, 2 ** w, 'index Huffman table') : null;
  const expectEnd = (r: BitReader, data: Uint8Array, what: string) => {
    if (data.length * 8 - r.pos >= 8) fail(`${what} has unused trailing bytes`);
    while (r.pos < data.length * 8) if (r.bit()) fail(`${what} has non-zero padding bits`);
  };
  expectEnd(tr, tables, 'Huffman table section');
  if (entries > 0 && vt.symbols.length === 0) fail('value Huffman table is empty but the stream has entries');
  if (entries > 0 && it && it.symbols.length === 0) fail('index Huffman table is empty but the stream has entries');
  const values = new Float32Array(size);
  const vr = new BitReader(vals, 'value stream'),
    ir = new BitReader(idxs, 'index stream');
  let last = -1;
  for (let e = 0; e < entries; e++) {
    const pos = it ? last + 1 + decodeSymbol(it, ir, 'index Huffman table') : e;
    if (pos >= size) fail(`index runs past the tensor: entry ${e} at position ${pos} of ${size}`);
    values[pos] = codebook[decodeSymbol(vt, vr, 'value Huffman table')];
    last = pos;
  }
  if (w > 0 && size - 1 - last >= 2 ** w)
    fail(`trailing gap of ${size - 1 - last} zeros exceeds the index width (filler entries missing)`);
  expectEnd(vr, vals, 'value stream');
  if (it) expectEnd(ir, idxs, 'index stream');
  return { shape, values, indexBits: w, entries, codebookSize: k };
}

/** A TensorCode from plain weights: the codebook is the distinct nonzero values (≤ 65535). */
export function tensorCodeFromValues(values: Float32Array, shape: number[]): TensorCode {
  assertTypedArray(values, Float32Array, 'values');
  assertShape(shape, 'shape');
  if (values.length !== shapeSize(shape))
    throw new RangeError(`values has ${values.length} elements, expected ${shapeSize(shape)}`);
  const distinct = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`values[${i}] is not finite (${v})`);
    if (v !== 0 && !distinct.has(v)) distinct.set(v, 0);
  }
  if (distinct.size > 65535)
    throw new RangeError(
      `values has ${distinct.size} distinct nonzero values; a codebook holds at most 65535 (cluster first)`,
    );
  const codebook = Float32Array.from([...distinct.keys()].sort((a, b) => a - b));
  codebook.forEach((v, i) => distinct.set(v, i + 1));
  const labels = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) labels[i] = distinct.get(values[i])!;
  return { shape: shape.slice(), codebook, labels };
}
