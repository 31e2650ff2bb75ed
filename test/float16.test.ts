// float16 (§9): native kernels (every path) and scheme.ts against an independent reference
// written here by arithmetic on values (not bit manipulation), and against tfjs's decoder.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { getIsa, setIsa, supportedIsas } from '../src/native/cpu.js';
import {
  float16ToFloat32,
  float16ToFloat32Async,
  float32ToFloat16,
  float32ToFloat16Async,
} from '../src/kernels/float16.js';
import { float16ToFloat32Bits, float32BitsToFloat16, fromFloat16, toFloat16 } from '../src/quant/scheme.js';

const ISAS = supportedIsas();
const initialIsa = getIsa();
afterAll(() => setIsa(initialIsa));

// ---- the independent reference: IEEE binary16 by value arithmetic in float64 (exact here).
function rneInt(v: number): number {
  const f = Math.floor(v),
    d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}
/** Value of half bit pattern h (NaN for NaN patterns). */
function refDecode(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 31,
    m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}
/** Half bit pattern for a non-NaN float32 value x, round to nearest even. */
function refEncode(x: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // halfway between 65504 and 2^16 rounds to even = up
  if (a < 2 ** -14) return sign | rneInt(a / 2 ** -24); // subnormal (1024 = the smallest normal: same encoding)
  let e = 0;
  while (2 ** (e + 1) <= a) e++;
  while (2 ** e > a) e--;
  let m = rneInt((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  return sign | ((e + 15) << 10) | m;
}

function f32Bits(x: Float32Array): Uint32Array {
  return new Uint32Array(x.buffer, x.byteOffset, x.length);
}
function isNaNHalf(h: number): boolean {
  return (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
}

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

describe('float16 → float32', () => {
  it('decodes all 65536 half patterns exactly on every path (NaN stays NaN, sign and payload kept, quiet)', () => {
    for (const isa of ISAS) {
      setIsa(isa);
      const out = float16ToFloat32(ALL_HALVES);
      const bits = f32Bits(out);
      for (let h = 0; h < 65536; h++) {
        const want = refDecode(h);
        const tag = `${isa}: half 0x${h.toString(16)}`;
        if (isNaNHalf(h)) {
          // sign, quiet bit set, the 10 payload bits at the top of the float32 payload
          const wantBits = (((h & 0x8000) << 16) | 0x7fc00000 | ((h & 0x3ff) << 13)) >>> 0;
          if (bits[h] !== wantBits)
            expect.fail(`${tag} decoded to bits 0x${bits[h].toString(16)}, want 0x${wantBits.toString(16)}`);
        } else if (!Object.is(out[h], want)) {
          expect.fail(`${tag} decoded to ${out[h]}, want ${want}`);
        }
        if (float16ToFloat32Bits(h) !== bits[h]) expect.fail(`scheme.ts differs at ${tag}`);
      }
    }
  });

  it('matches tfjs’s float16 weight decoder', async () => {
    await tf.setBackend('cpu');
    const specs = [
      { name: 'w', shape: [65536], dtype: 'float32' as const, quantization: { dtype: 'float16' as const } },
    ];
    const t = tf.io.decodeWeights(ALL_HALVES.buffer, specs).w;
    const theirs = t.dataSync() as Float32Array;
    t.dispose();
    const ours = float16ToFloat32(ALL_HALVES);
    for (let h = 0; h < 65536; h++) {
      if (isNaNHalf(h)) expect(Number.isNaN(theirs[h])).toBe(true);
      else if (!Object.is(theirs[h], ours[h]))
        expect.fail(`half 0x${h.toString(16)}: tfjs ${theirs[h]}, ours ${ours[h]}`);
    }
  });
});

describe('float32 → float16', () => {
  it('re-encodes every decoded half to itself (signaling NaNs come back quiet)', () => {
    const floats = float16ToFloat32(ALL_HALVES);
    for (const isa of ISAS) {
      setIsa(isa);
      const back = float32ToFloat16(floats);
      for (let h = 0; h < 65536; h++) {
        const want = isNaNHalf(h) ? h | 0x200 : h;
        if (back[h] !== want) expect.fail(`${isa}: half 0x${h.toString(16)} came back as 0x${back[h].toString(16)}`);
      }
    }
  });

  it('rounds to nearest even at every half boundary and tie, overflows to Inf, underflows through subnormals', () => {
    // Midpoints between consecutive finite halves (exact ties in float32 above the subnormal range
    // where the midpoint fits in 24 bits) and their float32 neighbours, plus edge values.
    const xs: number[] = [
      0,
      -0,
      65504,
      65519.996,
      65520,
      -65520,
      1e5,
      Infinity,
      -Infinity,
      2 ** -24,
      2 ** -25,
      2 ** -25 * 1.0000001,
      -(2 ** -25),
      3 * 2 ** -26,
      2 ** -14,
      2 ** -14 - 2 ** -25,
      1e-45,
      -1e-45,
      1.17549435e-38,
      3.4028234e38,
    ];
    for (let h = 0; h < 0x7bff; h += 7) {
      const a = refDecode(h),
        b = refDecode(h + 1);
      const mid = (a + b) / 2;
      for (const v of [mid, -mid]) {
        const f = Math.fround(v);
        xs.push(f, nextUp(f), nextDown(f));
      }
    }
    const x = Float32Array.from(xs);
    const want = Array.from(x, refEncode);
    for (const isa of ISAS) {
      setIsa(isa);
      const got = float32ToFloat16(x);
      for (let i = 0; i < x.length; i++) {
        if (got[i] !== want[i])
          expect.fail(`${isa}: ${x[i]} → 0x${got[i].toString(16)}, want 0x${want[i].toString(16)}`);
      }
    }
    for (let i = 0; i < x.length; i++) expect(toFloat16(x[i])).toBe(want[i]);
  });

  it('random float32 bit patterns (NaN payloads included) agree on every path with scheme.ts and the reference', () => {
    let seed = 1;
    const u = Uint32Array.from({ length: 200_003 }, () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0));
    for (let i = 0; i < 2000; i++) u[i * 97] = (u[i * 97] & 0x807fffff) | 0x7f800000; // Inf/NaN with random payloads
    const x = new Float32Array(u.buffer);
    const want = Array.from(u, (b) => float32BitsToFloat16(b));
    for (let i = 0; i < u.length; i++) {
      const nan = (u[i] & 0x7fffffff) > 0x7f800000;
      if (nan) expect(want[i]).toBe(((u[i] >>> 16) & 0x8000) | 0x7e00 | ((u[i] >>> 13) & 0x3ff));
      else if (want[i] !== refEncode(x[i])) expect.fail(`scheme: bits 0x${u[i].toString(16)}`);
    }
    for (const isa of ISAS) {
      setIsa(isa);
      const got = float32ToFloat16(x);
      for (let i = 0; i < u.length; i++)
        if (got[i] !== want[i])
          expect.fail(`${isa}: bits 0x${u[i].toString(16)} → 0x${got[i].toString(16)}, want 0x${want[i].toString(16)}`);
    }
    expect(fromFloat16(toFloat16(1.5))).toBe(1.5);
  });

  it('async variants give the same bits', async () => {
    const x = Float32Array.from({ length: 100_001 }, (_, i) => Math.sin(i) * 70000);
    const h = float32ToFloat16(x);
    expect(Buffer.from((await float32ToFloat16Async(x)).buffer).equals(Buffer.from(h.buffer))).toBe(true);
    const f = float16ToFloat32(h);
    expect(Buffer.from((await float16ToFloat32Async(h)).buffer).equals(Buffer.from(f.buffer))).toBe(true);
  });

  it('rejects bad arguments with clear errors', async () => {
    expect(() => float32ToFloat16(new Float64Array(2) as never)).toThrow(/x must be a Float32Array, got Float64Array/);
    expect(() => float16ToFloat32(new Int16Array(2) as never)).toThrow(/h must be a Uint16Array/);
    expect(() => float32ToFloat16(new Float32Array(3), new Uint16Array(2))).toThrow(/out has 2 elements, expected 3/);
    const buf = new ArrayBuffer(16);
    expect(() => float16ToFloat32(new Uint16Array(buf, 0, 4), new Float32Array(buf))).toThrow(/must not overlap/);
    await expect(float32ToFloat16Async('x' as never)).rejects.toThrow(TypeError);
  });
});

function nextUp(f: number): number {
  const a = new Float32Array([f]),
    b = new Int32Array(a.buffer);
  b[0] += f >= 0 ? 1 : -1;
  if (Object.is(f, -0)) return 1e-45;
  return a[0];
}
function nextDown(f: number): number {
  const a = new Float32Array([f]),
    b = new Int32Array(a.buffer);
  if (f === 0) return -1e-45;
  b[0] += f > 0 ? -1 : 1;
  return a[0];
}
