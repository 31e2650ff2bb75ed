// Shared test helpers for the operator kernels: seeded data, every ISA path, the TF padding
// rules and naive reference pieces written from docs/quantization.md (independent of native code).
import { expect } from 'vitest';
import { getIsa, setIsa, supportedIsas } from '../../src/native/cpu.js';
import type { IsaName } from '../../src/native/cpu.js';
import { fl32, qRange, rne, clamp } from '../../src/quant/scheme.js';

export { fl32, rne, clamp };

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const randInt = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export function randQ(r: () => number, type: 'int8' | 'uint8', n: number): Int8Array | Uint8Array {
  const [lo, hi] = qRange(type);
  const a = type === 'int8' ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = randInt(r, lo, hi);
  return a;
}

export function randF(r: () => number, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** Weights in [-127, 127] (narrow range), occasionally the extremes. */
export function randW(r: () => number, n: number): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = r() < 0.05 ? (r() < 0.5 ? -127 : 127) : randInt(r, -127, 127);
  return a;
}

/** Runs fn once per ISA path available here, restoring the active path. */
export function forEachIsa(fn: (isa: IsaName) => void): void {
  const prev = getIsa();
  try {
    for (const isa of supportedIsas()) {
      setIsa(isa);
      fn(isa);
    }
  } finally {
    setIsa(prev);
  }
}

/** TF padding along one axis: [out, padBefore]. */
export function tfPad(
  inSize: number,
  k: number,
  stride: number,
  dil: number,
  padding: 'same' | 'valid' | [number, number],
): [number, number] {
  const ek = (k - 1) * dil + 1;
  if (padding === 'valid') return [Math.ceil((inSize - ek + 1) / stride), 0];
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + ek - inSize, 0);
    return [out, Math.floor(total / 2)];
  }
  return [Math.floor((inSize + padding[0] + padding[1] - ek) / stride) + 1, padding[0]];
}

export function expectEqualArrays(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      expect.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  }
}

/** |got − want| ≤ atol + rtol·|want| elementwise. */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      expect.fail(`${what}: element ${i} is ${g}, expected ${w} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** §3 dequantize an 8-bit array. */
export function deq(q: ArrayLike<number>, scale: number, zp: number): Float32Array {
  return Float32Array.from(q, (v) => fl32(fl32(v - zp) * fl32(scale)));
}

/** Final §7 stage on a float already in output units. */
export function finish(v: number, zo: number, lo: number, hi: number): number {
  if (Number.isNaN(v)) return zo;
  return rne(clamp(v, lo - zo, hi - zo)) + zo;
}

/** Clamp a float reference to what the output parameters can represent. */
export function clampToRange(v: Float32Array, scale: number, zp: number, lo: number, hi: number): Float32Array {
  return v.map((x) => Math.min(Math.max(x, (lo - zp) * scale), (hi - zp) * scale));
}

/** Parameters covering [lo, hi] for an 8-bit type (§4 style, plain JS). */
export function paramsFor(type: 'int8' | 'uint8', lo: number, hi: number): { scale: number; zeroPoint: number } {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  const scale = fl32((hi - lo) / 255) || 1;
  const zu = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint: type === 'int8' ? zu - 128 : zu };
}
