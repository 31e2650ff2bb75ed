// Binary (safetensors) bodies read as the socket delivers them, in chunks: every split of a
// body (header cut anywhere, data cut anywhere, data at offsets not aligned to its element
// size) gives the tensors decodeBinary reads from the same bytes joined, and the same errors.
import { describe, expect, it } from 'vitest';
import { BodyBytes, decodeBinary, encodeBinary, parseBinary } from '../../src/serve/binary.js';
import { binaryTensor } from '../../src/serve/request.js';
import { sameValues } from './fixtures.js';

/** A safetensors body written by hand: `pad` spaces after the header (0: data unaligned). */
function handWritten(
  tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>,
  pad: number,
): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.byteLength] };
    off += t.bytes.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad));
  const len = Buffer.alloc(8);
  len.writeUInt32LE(json.byteLength, 0);
  return Buffer.concat([len, json, ...Object.values(tensors).map((t) => t.bytes)]);
}

/** `body` cut at the given offsets (each chunk its own ArrayBuffer, as socket reads are). */
function cut(body: Buffer, at: number[]): Uint8Array[] {
  const edges = [0, ...at.filter((x) => x > 0 && x < body.byteLength).sort((a, b) => a - b), body.byteLength];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < edges.length; i++)
    if (edges[i + 1]! > edges[i]!) out.push(Uint8Array.from(body.subarray(edges[i], edges[i + 1])));
  return out;
}

/** Deterministic pseudo-random cut points. */
function cuts(n: number, seed: number, count: number): number[] {
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  });
}

const ARRAYS = { float32: Float32Array, int8: Int8Array, int32: Int32Array, bool: Uint8Array } as const;

function expectSameTensors(chunks: Uint8Array[], joined: Buffer): void {
  const want = decodeBinary(joined);
  const got = parseBinary(new BodyBytes(chunks));
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, w] of want) {
    const t = got.get(name)!;
    expect(t.dtype).toBe(w.dtype);
    expect(t.shape).toEqual(w.shape);
    // Copied into the middle of a larger array, as into a batch: the values land at `at`.
    const Arr = ARRAYS[t.dtype as keyof typeof ARRAYS];
    const dst = new Arr(t.size + 5).fill(7);
    binaryTensor(t).copyTo(dst, 3);
    sameValues(dst.subarray(3, 3 + t.size), w.data, `${name}, ${chunks.length} chunks`);
    expect([...dst.subarray(0, 3), ...dst.subarray(3 + t.size)]).toEqual([7, 7, 7, 7, 7]);
  }
}

describe('serve: binary bodies in chunks', () => {
  const f = Float32Array.from({ length: 301 }, (_, i) => Math.sin(i) * 100);
  const q = Int8Array.from({ length: 37 }, (_, i) => ((i * 37) % 256) - 128);

  it('any split of a body (aligned or not) reads as the joined body does', () => {
    const bodies = [
      encodeBinary({
        x: { data: f, shape: [7, 43], dtype: 'float32' },
        q: { data: q, shape: [37], dtype: 'int8', quantization: { scale: 0.5, zeroPoint: 3 } },
      }),
      // The int8 tensor first: the float32 data then starts at an odd offset.
      handWritten(
        {
          q: { dtype: 'I8', shape: [37], bytes: new Uint8Array(q.buffer) },
          x: { dtype: 'F32', shape: [301], bytes: new Uint8Array(f.buffer) },
        },
        0,
      ),
      handWritten({ x: { dtype: 'F32', shape: [1, 301], bytes: new Uint8Array(f.buffer) } }, 1),
    ];
    for (const [b, body] of bodies.entries()) {
      expectSameTensors([Uint8Array.from(body)], body);
      // Every cut inside and around the 8-byte length and the header, one at a time.
      for (let at = 1; at < 120; at++) expectSameTensors(cut(body, [at]), body);
      // Many small chunks, and a few random splits.
      expectSameTensors(
        cut(
          body,
          Array.from({ length: body.byteLength / 3 }, (_, i) => 3 * i),
        ),
        body,
      );
      for (let seed = 1; seed <= 20; seed++)
        expectSameTensors(cut(body, cuts(body.byteLength, seed * 31 + b, 6)), body);
    }
  });

  it('a split body gets the errors the joined one gets', () => {
    const good = encodeBinary({ x: { data: f, shape: [301], dtype: 'float32' } });
    const bad: [Buffer, RegExp][] = [
      [good.subarray(0, 5), /binary body has 5 bytes/],
      [good.subarray(0, good.byteLength - 4), /data_offsets must be \[begin, end\] within the 1200 data bytes/],
      [handWritten({ x: { dtype: 'F16', shape: [2], bytes: new Uint8Array(4) } }, 0), /dtype "F16" is not one of/],
      [
        handWritten({ x: { dtype: 'F32', shape: [3], bytes: new Uint8Array(8) } }, 0),
        /needs 12 bytes, data_offsets span 8/,
      ],
    ];
    const huge = Buffer.from(good);
    huge.writeUInt32LE(1 << 30, 0);
    bad.push([huge, /header length 1073741824 exceeds/]);
    for (const [body, message] of bad) {
      expect(() => decodeBinary(body)).toThrow(message);
      for (const at of [1, 4, 9, 17])
        expect(() => parseBinary(new BodyBytes(cut(body, [at, at + 5])))).toThrow(message);
    }
  });
});
