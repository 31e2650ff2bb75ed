import { describe, expect, it } from 'vitest';
import {
  CodecError,
  canonicalCodes,
  crc32,
  decodeTensor,
  decodeTensorRef,
  encodeTensor,
  huffmanLengths,
  tensorCodeFromValues,
} from '../../src/codec/index.js';
import { FLAG_CODEBOOK_F16 } from '../../src/codec/format.js';
import { BitWriter, writeTable } from '../../src/codec/huffman.js';
import { seededRandom } from '../../src/data/random.js';

describe('canonical Huffman', () => {
  it('matches the hand-computed CLRS example', () => {
    // a:45 b:13 c:12 d:16 e:9 f:5 → lengths a1 b3 c3 d3 e4 f4 (CLRS §16.3)
    const lengths = huffmanLengths([45, 13, 12, 16, 9, 5]);
    expect(Array.from(lengths)).toEqual([1, 3, 3, 3, 4, 4]);
    // canonical: a 0, b 100, c 101, d 110, e 1110, f 1111
    expect(Array.from(canonicalCodes(lengths))).toEqual([0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111]);
  });

  it('limits code lengths and keeps a prefix code (Kraft ≤ 1)', () => {
    const fib = [1, 1];
    while (fib.length < 40) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
    const l = huffmanLengths(fib, 24);
    expect(Math.max(...l)).toBe(24);
    expect(Array.from(l).reduce((s, x) => s + 2 ** -x, 0)).toBeLessThanOrEqual(1);
  });
});

describe('relative-index coding', () => {
  it('inserts filler zeros when a gap overflows the index width', () => {
    const v = new Float32Array(30);
    v[0] = 1.5;
    v[20] = -2;
    const e = encodeTensor(tensorCodeFromValues(v, [30]), { indexBits: 3 });
    // entries: 0, filler at 8, filler at 16, 20, trailing filler at 28 (gap 29 − 20 = 9 ≥ 8)
    expect(e.stats.entries).toBe(5);
    expect(e.stats.fillers).toBe(3);
    expect(e.stats.nonzeros).toBe(2);
    expect(Array.from(decodeTensorRef(e.bytes).values)).toEqual(Array.from(v));
    expect(Array.from(decodeTensor(e.bytes).values)).toEqual(Array.from(v));
    // wide enough index: no fillers
    expect(encodeTensor(tensorCodeFromValues(v, [30]), { indexBits: 5 }).stats.fillers).toBe(0);
  });

  it('round-trips bit-identically at every width, native and reference decoders agree', () => {
    const rng = seededRandom(5);
    for (const density of [0, 0.02, 0.3, 1]) {
      const v = Float32Array.from({ length: 3000 }, () => (rng() < density ? Math.fround((rng() - 0.5) * 4) : 0));
      const code = tensorCodeFromValues(v, [30, 100]);
      for (const w of ['auto', 0, 1, 4, 8, 16] as const) {
        const e = encodeTensor(code, { indexBits: w });
        const a = decodeTensor(e.bytes, { expectedShape: [30, 100] });
        expect(a.shape).toEqual([30, 100]);
        expect(Buffer.from(a.values.buffer).equals(Buffer.from(v.buffer))).toBe(true);
        expect(Array.from(decodeTensorRef(e.bytes).values)).toEqual(Array.from(a.values));
      }
      const auto = encodeTensor(code).stats.bytes;
      for (let w = 0; w <= 16; w++) expect(auto).toBeLessThanOrEqual(encodeTensor(code, { indexBits: w }).stats.bytes);
    }
  });
});

// ---- robustness

function fixCrc(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b, b.length - 4), true);
  return b;
}
function varint(v: number): number[] {
  const o: number[] = [];
  do {
    let x = v & 127;
    v >>>= 7;
    if (v) x |= 128;
    o.push(x);
  } while (v);
  return o;
}
/** A stream from hand-made parts (for defects the encoder never produces). */
function assemble(p: {
  dims: number[];
  w: number;
  entries: number;
  codebook: number[];
  tables: Uint8Array;
  values: Uint8Array;
  index?: Uint8Array;
}): Uint8Array {
  const idx = p.index ?? new Uint8Array(0);
  const head = [
    0x54,
    0x51,
    0x44,
    0x43,
    1,
    0,
    p.dims.length,
    p.w,
    ...p.dims.flatMap(varint),
    ...varint(p.entries),
    ...varint(p.codebook.length),
  ];
  const cb = new Uint8Array(Float32Array.from(p.codebook).buffer);
  const lens = [...varint(p.tables.length), ...varint(p.values.length), ...varint(idx.length)];
  const out = new Uint8Array(
    head.length + cb.length + lens.length + p.tables.length + p.values.length + idx.length + 4,
  );
  let o = 0;
  for (const part of [Uint8Array.from(head), cb, Uint8Array.from(lens), p.tables, p.values, idx]) {
    out.set(part, o);
    o += part.length;
  }
  return fixCrc(out);
}
function table(...lengthLists: number[][]): Uint8Array {
  const w = new BitWriter();
  for (const l of lengthLists) writeTable(w, Uint8Array.from(l));
  return w.finish();
}
function expectCodecError(b: Uint8Array, re: RegExp): void {
  expect(() => decodeTensor(b)).toThrow(CodecError);
  expect(() => decodeTensor(b)).toThrow(re);
  expect(() => decodeTensorRef(b)).toThrow(re);
}

describe('corrupted streams end in clear errors', () => {
  const rng = seededRandom(99);
  const v = Float32Array.from({ length: 4000 }, () =>
    rng() < 0.1 ? Math.fround(Math.round((rng() - 0.5) * 16) / 8) || 0.25 : 0,
  );
  const good = encodeTensor(tensorCodeFromValues(v, [40, 100])).bytes;

  it('detects truncation at every length and any unrepaired byte flip', () => {
    for (let n = 0; n < good.length; n++) {
      expect(() => decodeTensor(good.slice(0, n)), `length ${n}`).toThrow(CodecError);
    }
    for (let t = 0; t < 200; t++) {
      const b = good.slice();
      b[Math.floor(rng() * b.length)] ^= 1 + Math.floor(rng() * 255);
      expect(() => decodeTensor(b)).toThrow(/checksum mismatch|bad magic/);
    }
    expect(() => decodeTensor(Uint8Array.from([...good, 0]))).toThrow(CodecError);
  });

  it('fuzz (seeded, checksum repaired): structural checks never crash, native = reference, both name the same defect', () => {
    // The messages agree but for counts only one side prints ("has 3 unused trailing bytes").
    const defect = (e: Error) => e.message.replace(/\d+/g, '').replace(/\s+/g, ' ').trim();
    let errors = 0,
      f16 = 0;
    for (let t = 0; t < 1500; t++) {
      const b = good.slice();
      const flips = 1 + Math.floor(rng() * 4);
      for (let f = 0; f < flips; f++) b[4 + Math.floor(rng() * (b.length - 8))] ^= 1 << Math.floor(rng() * 8);
      fixCrc(b);
      let nat: Float32Array | Error, ref: Float32Array | Error;
      try {
        nat = decodeTensor(b).values;
      } catch (e) {
        nat = e as Error;
      }
      try {
        ref = decodeTensorRef(b).values;
      } catch (e) {
        ref = e as Error;
      }
      // A flip that sets the float16-codebook flag (byte 5, after an intact version byte) makes a
      // stream the reference decoder does not implement: known from the bytes, before decoding.
      if (b[4] === good[4] && b[5] === FLAG_CODEBOOK_F16) {
        f16++;
        expect(ref).toEqual(new RangeError('float16 codebooks are not supported by the reference decoder'));
        if (nat instanceof Error) expect(nat).toBeInstanceOf(CodecError);
        continue;
      }
      if (nat instanceof Error) {
        expect(nat).toBeInstanceOf(CodecError);
        expect(ref).toBeInstanceOf(RangeError);
        expect(defect(ref as Error)).toBe(defect(nat));
        errors++;
      } else {
        expect(ref).toBeInstanceOf(Float32Array);
        expect(Array.from(nat)).toEqual(Array.from(ref as Float32Array));
      }
    }
    expect(f16).toBeLessThan(20);
    expect(errors).toBeGreaterThan(500);
  });

  it('names specific defects', () => {
    const one = table([1, 1]); // value symbols 0 ('0') and 1 ('1')
    const ok = assemble({
      dims: [4],
      w: 0,
      entries: 4,
      codebook: [2],
      tables: one,
      values: Uint8Array.from([0b01010000]),
    });
    expect(Array.from(decodeTensor(ok).values)).toEqual([0, 2, 0, 2]);
    // over-subscribed table: three codes of length 1
    expectCodecError(
      assemble({
        dims: [4],
        w: 0,
        entries: 4,
        codebook: [2, 3],
        tables: table([1, 1, 1]),
        values: Uint8Array.from([0]),
      }),
      /over-subscribed/,
    );
    // incomplete table hit with a code it does not have: only symbol 1 = '0', stream has '1'
    expectCodecError(
      assemble({
        dims: [4],
        w: 0,
        entries: 4,
        codebook: [2],
        tables: table([0, 1]),
        values: Uint8Array.from([0b00010000]),
      }),
      /not a code of the Huffman table/,
    );
    // value symbol beyond the codebook
    expectCodecError(
      assemble({ dims: [4], w: 0, entries: 4, codebook: [], tables: one, values: Uint8Array.from([0b01010000]) }),
      /alphabet has only 1/,
    );
    // index past the tensor: gaps of 3 → positions 3, 7 in a tensor of 6
    expectCodecError(
      assemble({
        dims: [6],
        w: 2,
        entries: 2,
        codebook: [2],
        tables: table([0, 1], [0, 0, 0, 1]),
        values: Uint8Array.from([0]),
        index: Uint8Array.from([0]),
      }),
      /index runs past the tensor/,
    );
    // huge tensor claimed by a tiny stream
    expectCodecError(
      assemble({
        dims: [100000, 10000],
        w: 1,
        entries: 1,
        codebook: [2],
        tables: table([0, 1], [1]),
        values: Uint8Array.from([0x80]),
        index: Uint8Array.from([0]),
      }),
      /not covered/,
    );
    // stream too short for its entries
    expectCodecError(
      assemble({ dims: [64], w: 0, entries: 64, codebook: [2], tables: one, values: Uint8Array.from([0]) }),
      /exceeds what the value stream can hold/,
    );
    // trailing zero gap without filler entries
    expectCodecError(
      assemble({
        dims: [9],
        w: 2,
        entries: 1,
        codebook: [2],
        tables: table([0, 1], [1]),
        values: Uint8Array.from([0x80]),
        index: Uint8Array.from([0]),
      }),
      /not covered|filler/,
    );
    expect(() => decodeTensor(new Uint8Array(3))).toThrow(/truncated/);
    expect(() => decodeTensor([1, 2] as never)).toThrow(TypeError);
    expect(() => decodeTensor(good, { expectedShape: [4000] })).toThrow(/shape \[40, 100\], expected \[4000\]/);
  });
});
