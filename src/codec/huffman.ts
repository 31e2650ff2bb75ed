// Canonical Huffman coding (docs/compression.md §4): code lengths from frequencies (limited to
// MAX_CODE_LENGTH), canonical codes, MSB-first bit I/O and the compact table encoding.
export const MAX_CODE_LENGTH = 24;

/** MSB-first bit writer. */
export class BitWriter {
  private bytes: number[] = [];
  private cur = 0;
  private nbits = 0;
  bitLength = 0;
  write(value: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.cur = (this.cur << 1) | ((value >>> i) & 1);
      if (++this.nbits === 8) {
        this.bytes.push(this.cur);
        this.cur = 0;
        this.nbits = 0;
      }
    }
    this.bitLength += bits;
  }
  /** Pads with zero bits to a byte boundary. */
  finish(): Uint8Array {
    if (this.nbits) {
      this.bytes.push(this.cur << (8 - this.nbits));
      this.cur = 0;
      this.nbits = 0;
    }
    return Uint8Array.from(this.bytes);
  }
}

/** MSB-first bit reader (reference decoder). */
export class BitReader {
  pos = 0;
  constructor(
    private data: Uint8Array,
    private what: string,
  ) {}
  bit(): number {
    if (this.pos >= this.data.length * 8) throw new RangeError(`${this.what} truncated (ran out of bits)`);
    const b = (this.data[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
}

/**
 * Huffman code lengths for `freqs` (0 for unused symbols), at most maxLen bits. One used
 * symbol gets length 1. Ties are broken by symbol order, so the result is deterministic.
 */
export function huffmanLengths(freqs: ArrayLike<number>, maxLen = MAX_CODE_LENGTH): Uint8Array {
  const n = freqs.length;
  const lengths = new Uint8Array(n);
  const used: number[] = [];
  for (let i = 0; i < n; i++) if (freqs[i] > 0) used.push(i);
  if (used.length === 0) return lengths;
  if (used.length === 1) {
    lengths[used[0]] = 1;
    return lengths;
  }
  // Two-queue Huffman on symbols sorted by (freq, symbol): O(m log m).
  used.sort((a, b) => freqs[a] - freqs[b] || a - b);
  const m = used.length;
  const weight: number[] = used.map((s) => freqs[s]);
  const parent = new Int32Array(2 * m - 1).fill(-1);
  let leaf = 0,
    inner = m,
    innerEnd = m;
  const pick = (): number => {
    if (leaf < m && (inner >= innerEnd || weight[leaf] <= weight[inner])) return leaf++;
    return inner++;
  };
  for (let k = 0; k < m - 1; k++) {
    const a = pick(),
      b = pick();
    weight.push(weight[a] + weight[b]);
    parent[a] = innerEnd;
    parent[b] = innerEnd;
    innerEnd++;
  }
  const depth = new Int32Array(2 * m - 1);
  for (let i = 2 * m - 3; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
  let maxSeen = 0;
  for (let i = 0; i < m; i++) {
    lengths[used[i]] = depth[i];
    maxSeen = Math.max(maxSeen, depth[i]);
  }
  if (maxSeen > maxLen) limitLengths(lengths, used, freqs, maxLen);
  return lengths;
}

// Clamp to maxLen, then lengthen the least frequent symbols that are still shorter than
// maxLen until the Kraft sum is ≤ 1 again.
function limitLengths(lengths: Uint8Array, used: number[], freqs: ArrayLike<number>, maxLen: number): void {
  let kraft = 0; // in units of 2^-maxLen
  for (const s of used) {
    if (lengths[s] > maxLen) lengths[s] = maxLen;
    kraft += 2 ** (maxLen - lengths[s]);
  }
  const byFreq = used.slice().sort((a, b) => freqs[a] - freqs[b] || b - a);
  while (kraft > 2 ** maxLen) {
    for (const s of byFreq) {
      if (lengths[s] < maxLen) {
        kraft -= 2 ** (maxLen - lengths[s] - 1);
        lengths[s]++;
        if (kraft <= 2 ** maxLen) break;
      }
    }
  }
}

/** Canonical codes: symbols ordered by (length, symbol) get consecutive codes. */
export function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const codes = new Uint32Array(lengths.length);
  const order = Array.from(lengths.keys())
    .filter((s) => lengths[s] > 0)
    .sort((a, b) => lengths[a] - lengths[b] || a - b);
  let code = 0,
    prevLen = 0;
  for (const s of order) {
    code <<= lengths[s] - prevLen;
    codes[s] = code;
    code++;
    prevLen = lengths[s];
  }
  return codes;
}

function bitLength(v: number): number {
  let b = 0;
  while (2 ** b <= v) b++;
  return b;
}

/** Writes a table: n − 1 (16 bits), max length (5 bits), delta-coded lengths. */
export function writeTable(w: BitWriter, lengths: Uint8Array): void {
  let n = lengths.length;
  while (n > 0 && lengths[n - 1] === 0) n--;
  let maxLen = 0;
  for (let i = 0; i < n; i++) maxLen = Math.max(maxLen, lengths[i]);
  if (n === 0) {
    w.write(0, 16);
    w.write(0, 5);
    return;
  }
  if (n > 65536) throw new RangeError(`Huffman alphabet of ${n} symbols exceeds 65536`);
  w.write(n - 1, 16);
  w.write(maxLen, 5);
  const lb = bitLength(maxLen);
  let prev = 0;
  for (let s = 0; s < n; s++) {
    const l = lengths[s];
    if (l === prev) w.write(0, 1);
    else if (l === prev + 1) w.write(0b10, 2);
    else if (l === prev - 1) w.write(0b110, 3);
    else {
      w.write(0b111, 3);
      w.write(l, lb);
    }
    prev = l;
  }
}

/** Bits writeTable would use. */
export function tableBits(lengths: Uint8Array): number {
  let n = lengths.length;
  while (n > 0 && lengths[n - 1] === 0) n--;
  if (n === 0) return 21;
  let maxLen = 0;
  for (let i = 0; i < n; i++) maxLen = Math.max(maxLen, lengths[i]);
  const lb = bitLength(maxLen);
  let bits = 21,
    prev = 0;
  for (let s = 0; s < n; s++) {
    const l = lengths[s];
    bits += l === prev ? 1 : l === prev + 1 ? 2 : l === prev - 1 ? 3 : 3 + lb;
    prev = l;
  }
  return bits;
}

export interface DecodeTable {
  maxLen: number;
  count: number[];
  symbols: number[];
}

/** Reads a table (reference decoder; mirrors native/codec/decode.cc). */
export function readTable(r: BitReader, alphabetLimit: number, name: string): DecodeTable {
  const n = r.bits(16) + 1;
  const maxLen = r.bits(5);
  if (maxLen > MAX_CODE_LENGTH) throw new RangeError(`${name}: code length limit ${maxLen} exceeds ${MAX_CODE_LENGTH}`);
  const count = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
  if (maxLen === 0) return { maxLen, count, symbols: [] };
  if (n > alphabetLimit) throw new RangeError(`${name}: ${n} symbols, but the alphabet has only ${alphabetLimit}`);
  const lb = bitLength(maxLen);
  const lengths = new Uint8Array(n);
  let prev = 0;
  for (let s = 0; s < n; s++) {
    let l: number;
    // Each r.bit() reads the next bit of the stream: the three tests look alike but read three bits.
    if (!r.bit()) l = prev;
    // eslint-disable-next-line no-dupe-else-if
    else if (!r.bit()) l = prev + 1;
    // eslint-disable-next-line no-dupe-else-if
    else if (!r.bit()) l = prev - 1;
    else l = r.bits(lb);
    if (l < 0 || l > maxLen) throw new RangeError(`${name}: code length ${l} of symbol ${s} is outside [0, ${maxLen}]`);
    lengths[s] = l;
    prev = l;
    if (l) count[l]++;
  }
  let left = 1;
  for (let l = 1; l <= maxLen; l++) {
    left = left * 2 - count[l];
    if (left < 0) throw new RangeError(`${name} is over-subscribed (its code lengths violate the Kraft inequality)`);
  }
  const symbols = Array.from(lengths.keys())
    .filter((s) => lengths[s] > 0)
    .sort((a, b) => lengths[a] - lengths[b] || a - b);
  return { maxLen, count, symbols };
}

export function decodeSymbol(t: DecodeTable, r: BitReader, name: string): number {
  let code = 0,
    first = 0,
    index = 0;
  for (let len = 1; len <= t.maxLen; len++) {
    code |= r.bit();
    const c = t.count[len];
    if (code - c < first) return t.symbols[index + (code - first)];
    index += c;
    first += c;
    first *= 2;
    code *= 2;
  }
  throw new RangeError(`${name}: bit pattern is not a code of the Huffman table`);
}
