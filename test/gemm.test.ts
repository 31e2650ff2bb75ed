// int8 GEMM (native/gemm): the reference path against an independent JS statement of
// docs/quantization.md §6–§8, every available kernel path against the reference bit for
// bit, async/concurrency, and argument errors.
import { describe, expect, it } from 'vitest';
import {
  dynamicGemm,
  dynamicGemmAsync,
  gemm,
  gemmAsync,
  measurePeak,
  packWeights,
  type GemmOptions,
  type PackedWeights,
} from '../src/kernels/gemm.js';
import { native } from '../src/native/binding.js';
import { supportedIsas } from '../src/native/cpu.js';
import type { IsaName } from '../binding.js';

// ---- deterministic data
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randInt = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
function fill<T extends Int8Array | Uint8Array>(arr: T, r: () => number, lo: number, hi: number): T {
  for (let i = 0; i < arr.length; i++) arr[i] = randInt(r, lo, hi);
  return arr;
}

// ---- independent JS reference (integer math + Math.fround, per the doc's formulas)
const f = Math.fround;
function rne(v: number): number {
  const fl = Math.floor(v),
    d = v - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}
const maxF = (y: number, lo: number) => (y > lo ? y : lo);
const minF = (y: number, hi: number) => (y < hi ? y : hi);

interface RefSpec {
  a: Uint8Array | Int8Array;
  m: number;
  k: number;
  lda: number;
  za: number[];
  b: Int8Array;
  n: number;
  layout: 'kn' | 'nk';
  zb: number[];
  bias?: Int32Array;
}
/** acc[m][n] = Σ (A − za)(B − zb) + bias, wrapped to int32. */
function refAcc(s: RefSpec): Int32Array {
  const acc = new Int32Array(s.m * s.n);
  for (let i = 0; i < s.m; i++) {
    const za = s.za.length === 1 ? s.za[0] : s.za[i];
    for (let j = 0; j < s.n; j++) {
      const zb = s.zb.length === 1 ? s.zb[0] : s.zb[j];
      let sum = 0; // exact: |sum| < 65536·255·255 < 2^53
      for (let kk = 0; kk < s.k; kk++) {
        const bv = s.layout === 'kn' ? s.b[kk * s.n + j] : s.b[j * s.k + kk];
        sum += (s.a[i * s.lda + kk] - za) * (bv - zb);
      }
      acc[i * s.n + j] = (sum + (s.bias ? s.bias[j] : 0)) | 0;
    }
  }
  return acc;
}
function refRequant(acc: Int32Array, n: number, mult: number[], zo: number, lo: number, hi: number): number[] {
  return Array.from(acc, (v, idx) => {
    let y = f(f(v) * f(mult.length === 1 ? mult[0] : mult[idx % n]));
    y = minF(maxF(y, lo - zo), hi - zo);
    return rne(y) + zo;
  });
}
type Act = 'none' | 'relu' | 'relu6' | { min: number; max: number };
function refDequant(
  acc: Int32Array,
  n: number,
  sa: number[],
  sw: number[],
  biasF32: Float32Array | undefined,
  act: Act,
): Float32Array {
  return Float32Array.from(acc, (v, idx) => {
    const i = Math.floor(idx / n),
      j = idx % n;
    const s = f(f(sa.length === 1 ? sa[0] : sa[i]) * f(sw.length === 1 ? sw[0] : sw[j]));
    let y = f(f(v) * s);
    if (biasF32) y = f(y + biasF32[j]);
    if (act === 'relu') y = maxF(y, 0);
    if (act === 'relu6') y = minF(maxF(y, 0), 6);
    if (typeof act === 'object') y = minF(maxF(y, f(act.min)), f(act.max));
    return y;
  });
}
/** §8 + §4 + §2 in JS: uint8 per row (or per tensor) with the finite range widened to 0. */
function refDynamicQuant(
  x: Float32Array,
  m: number,
  k: number,
  perRow: boolean,
): { q: Uint8Array; scale: number[]; zp: number[] } {
  const params = (lo: number, hi: number) => {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
    let scale = f(f(hi - lo) / 255);
    if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
    const zp = Math.min(Math.max(rne(f(-lo / scale)), 0), 255);
    return { scale, zp };
  };
  const range = (b: number, e: number) => {
    let lo = 0,
      hi = 0;
    for (let i = b; i < e; i++)
      if (Number.isFinite(x[i])) {
        lo = Math.min(lo, x[i]);
        hi = Math.max(hi, x[i]);
      }
    return params(lo, hi);
  };
  const q = new Uint8Array(m * k),
    scale: number[] = [],
    zp: number[] = [];
  const whole = perRow ? undefined : range(0, m * k);
  for (let i = 0; i < m; i++) {
    const p = whole ?? range(i * k, (i + 1) * k);
    if (perRow || i === 0) {
      scale.push(p.scale);
      zp.push(p.zp);
    }
    for (let kk = 0; kk < k; kk++) {
      let v = f(x[i * k + kk] / p.scale);
      if (Number.isNaN(v)) {
        q[i * k + kk] = p.zp;
        continue;
      }
      v = Math.min(Math.max(v, -p.zp), 255 - p.zp);
      q[i * k + kk] = rne(v) + p.zp;
    }
  }
  return { q, scale, zp };
}

const ISAS = supportedIsas();
const FAST = ISAS.filter((i) => i !== 'ref');

function randomCase(
  seed: number,
  m: number,
  k: number,
  n: number,
  opt: {
    signed?: boolean;
    layout?: 'kn' | 'nk';
    zbPerCol?: boolean;
    zaPerRow?: boolean;
    fullRangeB?: boolean;
    lda?: number;
  } = {},
) {
  const r = rng(seed);
  const lda = opt.lda ?? k;
  const a = opt.signed
    ? fill(new Int8Array(Math.max(0, (m - 1) * lda + k)), r, -128, 127)
    : fill(new Uint8Array(Math.max(0, (m - 1) * lda + k)), r, 0, 255);
  const b = fill(new Int8Array(k * n), r, opt.fullRangeB ? -128 : -127, 127);
  const [zlo, zhi] = opt.signed ? [-128, 127] : [0, 255];
  const za = opt.zaPerRow ? Array.from({ length: m }, () => randInt(r, zlo, zhi)) : [randInt(r, zlo, zhi)];
  const zb = opt.zbPerCol ? Array.from({ length: n }, () => randInt(r, -128, 127)) : [0];
  const bias = Int32Array.from({ length: n }, () => randInt(r, -100000, 100000));
  const mult = Array.from({ length: n }, () => f(2 ** -(6 + 8 * r())));
  const sw = Array.from({ length: n }, () => f(0.001 + 0.02 * r()));
  const sa = Array.from({ length: m }, () => f(0.01 + 0.05 * r()));
  const biasF32 = Float32Array.from({ length: n }, () => (r() - 0.5) * 50);
  return { a, b, m, k, n, lda, za, zb, bias, mult, sw, sa, biasF32, layout: opt.layout ?? ('kn' as const) };
}
type Case = ReturnType<typeof randomCase>;

function pack(c: Case, isa: IsaName): PackedWeights {
  return packWeights(c.b, { k: c.k, n: c.n, layout: c.layout, isa, zeroPoint: c.zb.length === 1 ? c.zb[0] : c.zb });
}
const zaOpt = (c: Case) => (c.za.length === 1 ? { aZeroPoint: c.za[0] } : { aZeroPoints: c.za });

/** Every epilogue on one packed weight set. */
function allEpilogues(c: Case, p: PackedWeights): ArrayLike<number>[] {
  const base = { m: c.m, lda: c.lda, ...zaOpt(c) };
  const outs: ArrayLike<number>[] = [];
  outs.push(gemm(c.a, p, { ...base }));
  outs.push(gemm(c.a, p, { ...base, bias: c.bias }));
  outs.push(gemm(c.a, p, { ...base, bias: c.bias, output: 'int8', multipliers: c.mult, outZeroPoint: -3 }));
  outs.push(gemm(c.a, p, { ...base, output: 'int8', multiplier: c.mult[0], outZeroPoint: 5, clamp: [-3, 90] }));
  outs.push(
    gemm(c.a, p, { ...base, bias: c.bias, output: 'uint8', multipliers: c.mult, outZeroPoint: 128, clamp: [128, 255] }),
  );
  outs.push(gemm(c.a, p, { ...base, output: 'float32', aScales: c.sa, wScales: c.sw }));
  outs.push(
    gemm(c.a, p, {
      ...base,
      output: 'float32',
      aScale: c.sa[0],
      wScales: c.sw[0],
      biasF32: c.biasF32,
      activation: 'relu',
    }),
  );
  outs.push(
    gemm(c.a, p, { ...base, output: 'float32', aScales: c.sa, wScales: c.sw, biasF32: c.biasF32, activation: 'relu6' }),
  );
  outs.push(
    gemm(c.a, p, {
      ...base,
      bias: c.bias,
      output: 'float32',
      aScales: c.sa,
      wScales: c.sw,
      activation: { min: -2.5, max: 3.25 },
    }),
  );
  return outs;
}

function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    // Object.is: float outputs must match bit for bit (including -0 vs +0).
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

describe('gemm: the reference path equals the JS statement of §6–§7', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [4, 33, 17],
    [7, 64, 16],
    [2, 100, 3],
  ];
  for (const [m, k, n] of shapes) {
    for (const variant of [
      { signed: false, layout: 'kn' as const },
      { signed: true, layout: 'nk' as const, zaPerRow: true },
      { signed: false, layout: 'kn' as const, zbPerCol: true, zaPerRow: true, fullRangeB: true },
    ]) {
      it(`m=${m} k=${k} n=${n} ${JSON.stringify(variant)}`, () => {
        const c = randomCase(m * 1000 + k * 10 + n, m, k, n, variant);
        const p = pack(c, 'ref');
        const spec = { a: c.a, m, k, lda: c.lda, za: c.za, b: c.b, n, layout: c.layout, zb: c.zb };
        const acc = refAcc(spec),
          accB = refAcc({ ...spec, bias: c.bias });
        const outs = allEpilogues(c, p);
        expectSame(outs[0], acc, 'int32');
        expectSame(outs[1], accB, 'int32 + bias');
        expectSame(outs[2], refRequant(accB, n, c.mult, -3, -128, 127), 'int8 per-channel');
        expectSame(outs[3], refRequant(acc, n, [c.mult[0]], 5, -3, 90), 'int8 per-tensor clamp');
        expectSame(outs[4], refRequant(accB, n, c.mult, 128, 128, 255), 'uint8 relu');
        expectSame(outs[5], refDequant(acc, n, c.sa, c.sw, undefined, 'none'), 'float');
        expectSame(outs[6], refDequant(acc, n, [c.sa[0]], [c.sw[0]], c.biasF32, 'relu'), 'float bias relu');
        expectSame(outs[7], refDequant(acc, n, c.sa, c.sw, c.biasF32, 'relu6'), 'float relu6');
        expectSame(outs[8], refDequant(accB, n, c.sa, c.sw, undefined, { min: -2.5, max: 3.25 }), 'float clamp');
        p.dispose();
      });
    }
  }

  it('wraps modulo 2^32 exactly like the formula when the sum overflows int32', () => {
    // K = 65536, A = 255, za = 0, B = -128 per column with zb = 127: (255)(-255)·65536 overflows.
    const k = 65536,
      n = 3,
      m = 2;
    const a = new Uint8Array(m * k).fill(255);
    const b = new Int8Array(k * n).fill(-128);
    const p = packWeights(b, { k, n, zeroPoint: 127, isa: 'ref' });
    const out = gemm(a, p, { m, aZeroPoint: 0 });
    const expected = (255 * -255 * k) | 0;
    expect(expected).not.toBe(255 * -255 * k);
    expectSame(out, new Int32Array(m * n).fill(expected), 'wrapped');
  });
});

describe('gemm: every kernel path equals the reference bit for bit', () => {
  it('has the paths the CPU supports', () => {
    expect(ISAS[0]).toBe('ref');
    if (FAST.length === 0) console.warn('gemm: only the ref path is available here; SIMD paths are not exercised');
  });
  const shapes: [number, number, number][] = [
    [1, 768, 77],
    [1, 1, 1],
    [1, 4099, 33],
    [2, 3, 5],
    [5, 17, 15],
    [6, 64, 16],
    [7, 129, 65],
    [13, 1001, 70],
    [16, 768, 130],
    [25, 2500, 40],
    [64, 27, 32],
    [49, 300, 129],
    [3, 7, 200],
    // Large enough (≥ 4 M multiply-adds) for 2 threads to split the work: M, N and GEMV tasks.
    [100, 700, 200],
    [1, 4096, 1100],
    [37, 3000, 50],
  ];
  for (const isa of FAST) {
    describe(isa, () => {
      shapes.forEach(([m, k, n], idx) => {
        it(`m=${m} k=${k} n=${n}`, () => {
          const variant = [
            { signed: false, layout: 'kn' as const },
            { signed: true, layout: 'nk' as const, zaPerRow: true },
            { signed: false, layout: 'nk' as const, zbPerCol: true, fullRangeB: true, lda: k + 3 },
          ][idx % 3];
          const c = randomCase(idx * 7919 + m, m, k, n, variant);
          const pr = pack(c, 'ref'),
            pi = pack(c, isa);
          expect(pi.isa).toBe(isa);
          const want = allEpilogues(c, pr),
            got = allEpilogues(c, pi);
          want.forEach((w, i) => expectSame(got[i], w, `${isa} epilogue ${i}`));
          for (const threads of [1, 2]) {
            const o = { m, lda: c.lda, ...zaOpt(c), bias: c.bias, threads };
            expectSame(gemm(c.a, pi, o), want[1], `${isa} threads=${threads}`);
          }
          pr.dispose();
          pi.dispose();
        });
      });

      // One K block, one activation zero point, no weight zero points: full tiles take the fused
      // kernel + requantize path (AVX2: 6 × 16; AVX-512 VNNI: 6 × 64 and the 6 × 32 half panel),
      // the rest the kernel + epilogue path. N = 96 / 128 / 64 give AVX-512 VNNI full and half
      // fused tiles with K not a multiple of 4 (27, 5) and 1–5-row edges.
      it('requantized outputs with one K block (fused tiles and edges), int8 and uint8 input, 1 and 2 threads', () => {
        const shapes: [number, number, number][] = [
          [12, 16, 32],
          [50, 27, 48],
          [300, 96, 24],
          [97, 144, 40],
          [6, 1024, 16],
          [30, 27, 96],
          [13, 200, 128],
          [8, 5, 64],
        ];
        shapes.forEach(([m, k, n], idx) => {
          for (const signed of [false, true]) {
            const c = randomCase(idx * 31 + (signed ? 1 : 0), m, k, n, { signed, layout: 'kn' });
            const pr = pack(c, 'ref'),
              pi = pack(c, isa);
            const spread = Array.from({ length: n }, (_, j) => 0.5 * 2 ** (-j / 4));
            for (const threads of [1, 2]) {
              const base = { m, lda: c.lda, ...zaOpt(c), bias: c.bias, threads };
              for (const o of [
                { ...base, output: 'int8' as const, multipliers: c.mult, outZeroPoint: -3 },
                {
                  ...base,
                  output: 'uint8' as const,
                  multiplier: c.mult[0]!,
                  outZeroPoint: 128,
                  clamp: [128, 255] as [number, number],
                },
                // Large multipliers (≤ 0.5 takes the integer-clamp tiles, 0.75 the float-clamp
                // ones): products far beyond int16, zero points that push sums past ±32767.
                { ...base, output: 'int8' as const, multipliers: spread, outZeroPoint: 100 },
                {
                  ...base,
                  output: 'int8' as const,
                  multipliers: spread,
                  outZeroPoint: -120,
                  clamp: [-100, 90] as [number, number],
                },
                { ...base, output: 'uint8' as const, multipliers: spread, outZeroPoint: 250 },
                { ...base, output: 'int8' as const, multiplier: 0.75, outZeroPoint: 7 },
                // Float-clamp tiles with bounds inside the type's range (the clamp, not the
                // narrowing's saturation, decides there).
                {
                  ...base,
                  output: 'int8' as const,
                  multiplier: 0.75,
                  outZeroPoint: -20,
                  clamp: [-100, 90] as [number, number],
                },
                {
                  ...base,
                  output: 'uint8' as const,
                  multiplier: 0.75,
                  outZeroPoint: 30,
                  clamp: [10, 200] as [number, number],
                },
              ]) {
                expectSame(
                  gemm(c.a, pi, o),
                  gemm(c.a, pr, o),
                  `${isa} ${m}x${k}x${n} signed=${signed} ${o.output} threads=${threads}`,
                );
              }
            }
            pr.dispose();
            pi.dispose();
          }
        });
      });

      // Every K from 1 to 70 (one K group of 4 up to past 64, where a row of A stops fitting one
      // vector) against last panels of many widths: full, half and quarter register tiles of the
      // AVX-512 VNNI path and their masked partial forms (N % 64 from 1 to 63), with 6-row
      // tiles and 1–5-row edges (M = 6, 13, 23).
      it('requantized outputs for K = 1..70 and every last-panel width, int8 and uint8 input', () => {
        const widths = [
          1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 40, 47, 48, 63, 64, 65, 80, 96, 112, 127, 144,
        ];
        for (let k = 1; k <= 70; k++) {
          const m = [6, 13, 23][k % 3]!,
            n = widths[(k * 7) % widths.length]!,
            signed = k % 2 === 0;
          const c = randomCase(1000 + k, m, k, n, { signed, layout: 'kn' });
          const pr = pack(c, 'ref'),
            pi = pack(c, isa);
          const base = { m, lda: c.lda, ...zaOpt(c), bias: c.bias, threads: 1 };
          for (const o of [
            // Multipliers ≤ 0.5: the register tiles.
            {
              ...base,
              output: 'int8' as const,
              multipliers: c.mult,
              outZeroPoint: -3,
              clamp: [-100, 120] as [number, number],
            },
            { ...base, output: 'uint8' as const, multipliers: c.mult, outZeroPoint: 128 },
            // A multiplier above 0.5: the tiles' float-clamp fallbacks.
            { ...base, output: 'int8' as const, multiplier: 0.75, outZeroPoint: 7 },
          ]) {
            expectSame(gemm(c.a, pi, o), gemm(c.a, pr, o), `${isa} ${m}x${k}x${n} signed=${signed} ${o.output}`);
          }
          pr.dispose();
          pi.dispose();
        }
      });

      it('extremes: A in {0, 255}, B in {-128, -127, 127}, zero points at the ends of their ranges', () => {
        const r = rng(42);
        for (const [m, k, n] of [
          [1, 4096, 40],
          [9, 3001, 33],
          [20, 65536, 5],
        ] as const) {
          const a = Uint8Array.from({ length: m * k }, () => (r() < 0.5 ? 0 : 255));
          const b = Int8Array.from({ length: k * n }, () => [-128, -127, 127][randInt(r, 0, 2)]);
          for (const [za, zb] of [
            [0, 0],
            [255, 0],
            [0, -128],
            [255, 127],
            [128, -1],
          ]) {
            const pr = packWeights(b, { k, n, zeroPoint: zb, isa: 'ref' });
            const pi = packWeights(b, { k, n, zeroPoint: zb, isa });
            expectSame(
              gemm(a, pi, { m, aZeroPoint: za }),
              gemm(a, pr, { m, aZeroPoint: za }),
              `${isa} za=${za} zb=${zb} k=${k}`,
            );
            pr.dispose();
            pi.dispose();
          }
        }
      });

      it('dynamic-quantization GEMM equals the reference path', () => {
        const r = rng(7);
        // Per row, rows are quantized block by block inside the GEMM's tasks: several row
        // blocks, two K blocks (K > 1024), short rows, rows of one sign, 1 and 2 threads.
        for (const [m, k, n] of [
          [1, 300, 50],
          [11, 77, 33],
          [64, 512, 96],
          [101, 1100, 40],
          [300, 27, 32],
        ] as const) {
          const x = Float32Array.from({ length: m * k }, () => (r() - 0.3) * 8);
          x[3] = NaN;
          x[5] = Infinity;
          x[k - 1] = -Infinity;
          if (m > 2)
            for (let j = 0; j < k; j++) {
              x[2 * k + j] = Math.abs(x[2 * k + j]!) || 1;
              x[k + j] = 0;
            }
          const b = fill(new Int8Array(k * n), r, -127, 127);
          const sw = Float32Array.from({ length: n }, () => 0.001 + 0.01 * r());
          const bias = Float32Array.from({ length: n }, () => r() - 0.5);
          const pr = packWeights(b, { k, n, isa: 'ref' }),
            pi = packWeights(b, { k, n, isa });
          for (const perRow of [true, false]) {
            for (const threads of [1, 2]) {
              const o = { m, perRow, wScales: sw, biasF32: bias, activation: 'relu6' as const, threads };
              expectSame(
                dynamicGemm(x, pi, o),
                dynamicGemm(x, pr, o),
                `${isa} ${m}x${k}x${n} dynamic perRow=${perRow} threads=${threads}`,
              );
            }
          }
          pr.dispose();
          pi.dispose();
        }
      });
    });
  }
});

describe('gemm: dynamic quantization path equals §8 then §6–§7 in JS', () => {
  for (const perRow of [true, false]) {
    it(`perRow=${perRow}, with NaN/±Inf inputs`, () => {
      const r = rng(perRow ? 1 : 2);
      const m = 5,
        k = 37,
        n = 9;
      const x = Float32Array.from({ length: m * k }, () => (r() - 0.4) * 20);
      x[0] = NaN;
      x[10] = Infinity;
      x[50] = -Infinity;
      const b = fill(new Int8Array(k * n), r, -127, 127);
      const sw = Array.from({ length: n }, () => f(0.002 + 0.01 * r()));
      const bias = Float32Array.from({ length: n }, () => r() - 0.5);
      const p = packWeights(b, { k, n, isa: 'ref' });
      const got = dynamicGemm(x, p, { m, perRow, wScales: sw, biasF32: bias, activation: 'relu' });
      const dq = refDynamicQuant(x, m, k, perRow);
      const acc = refAcc({ a: dq.q, m, k, lda: k, za: dq.zp, b, n, layout: 'kn', zb: [0] });
      expectSame(got, refDequant(acc, n, dq.scale, sw, bias, 'relu'), 'dynamic');
      for (const isa of FAST) {
        const pi = packWeights(b, { k, n, isa });
        expectSame(
          dynamicGemm(x, pi, { m, perRow, wScales: sw, biasF32: bias, activation: 'relu' }),
          got,
          `dynamic ${isa}`,
        );
        pi.dispose();
      }
    });
  }
});

describe('gemm: async and concurrency', () => {
  const isa = ISAS[ISAS.length - 1];
  it(`async equals sync (${isa}); 20 concurrent calls are all correct`, async () => {
    const cases = Array.from({ length: 20 }, (_, i) =>
      randomCase(500 + i, 8 + i * 3, 200 + 13 * i, 40 + i, { zaPerRow: i % 2 === 0 }),
    );
    const packs = cases.map((c) => pack(c, isa));
    const opts = (c: Case): GemmOptions<'int8'> => ({
      m: c.m,
      ...zaOpt(c),
      bias: c.bias,
      output: 'int8',
      multipliers: c.mult,
      outZeroPoint: 1,
    });
    const sync = cases.map((c, i) => gemm(c.a, packs[i], opts(c)));
    const asyncOut = await Promise.all(
      cases.map((c, i) => gemmAsync(c.a, packs[i], { ...opts(c), threads: 1 + (i % 2) })),
    );
    asyncOut.forEach((o, i) => expectSame(o, sync[i], `async call ${i}`));
    const x = Float32Array.from({ length: 30 * 200 }, (_, i) => Math.sin(i));
    const dsync = dynamicGemm(x, packs[0], { m: 30, wScales: 0.01 });
    const dasync = await Promise.all(
      Array.from({ length: 5 }, () => dynamicGemmAsync(x, packs[0], { m: 30, wScales: 0.01 })),
    );
    dasync.forEach((o) => expectSame(o, dsync, 'dynamic async'));
    packs.forEach((p) => p.dispose());
  });

  it('an async call keeps its weights alive when they are disposed meanwhile', async () => {
    const c = randomCase(9, 64, 1000, 200);
    const p = pack(c, isa);
    const want = gemm(c.a, p, { m: c.m, ...zaOpt(c) });
    const pending = gemmAsync(c.a, p, { m: c.m, ...zaOpt(c) });
    p.dispose();
    expectSame(await pending, want, 'after dispose');
    expect(p.disposed).toBe(true);
    expect(p.byteLength).toBe(0);
  });

  it('writes into a strided slice of a caller buffer (lda, ldc)', () => {
    const c = randomCase(11, 10, 50, 20, { lda: 64 });
    const p = pack(c, isa);
    const out = new Int32Array(9 * 32 + 20).fill(-7);
    gemm(c.a, p, { m: c.m, lda: 64, ...zaOpt(c), out, ldc: 32 });
    const want = gemm(c.a, pack(c, 'ref'), { m: c.m, lda: 64, ...zaOpt(c) });
    for (let i = 0; i < c.m; i++) {
      expectSame(out.subarray(i * 32, i * 32 + 20), want.subarray(i * 20, i * 20 + 20), `row ${i}`);
      if (i < c.m - 1) expect(Array.from(out.subarray(i * 32 + 20, i * 32 + 32))).toEqual(new Array(12).fill(-7));
    }
  });
});

describe('gemm: argument errors', () => {
  const b = new Int8Array(6 * 4);
  const p = packWeights(b, { k: 6, n: 4 });
  const a = new Uint8Array(2 * 6);
  // The binding's options for m = 2 rows of a (k = 6) and int32 output; tests override fields.
  const nativeOptions = {
    m: 2,
    lda: 6,
    ldc: 4,
    threads: 0,
    aZeroPoints: new Int32Array([0]),
    output: 'int32',
    bias: null,
    multipliers: null,
    outZeroPoint: 0,
    qmin: -128,
    qmax: 127,
    aScales: null,
    wScales: null,
    biasF32: null,
    activation: 'linear',
    clampMin: 0,
    clampMax: 0,
  } as const;
  it('packWeights', () => {
    expect(() => packWeights(new Uint8Array(24) as never, { k: 6, n: 4 })).toThrow(/b must be a Int8Array/);
    expect(() => packWeights(b, { k: 5, n: 4 })).toThrow(RangeError);
    expect(() => packWeights(b, { k: 6, n: 4.5 })).toThrow(/n must be an integer/);
    expect(() => packWeights(new Int8Array(65537), { k: 65537, n: 1 })).toThrow(/k must be in \[1, 65536\]/);
    expect(() => packWeights(b, { k: 6, n: 4, layout: 'kk' as never })).toThrow(/layout must be one of/);
    expect(() => packWeights(b, { k: 6, n: 4, zeroPoint: 128 })).toThrow(/zeroPoint must be in \[-128, 127\]/);
    expect(() => packWeights(b, { k: 6, n: 4, zeroPoint: [1, 2] })).toThrow(/zeroPoint has 2 entries/);
    const missing = (['avx512vnni', 'avxvnni', 'neon', 'neondot', 'neoni8mm'] as const).find((i) => !ISAS.includes(i));
    if (missing) expect(() => packWeights(b, { k: 6, n: 4, isa: missing })).toThrow(/not available/);
  });
  it('gemm', () => {
    expect(() => gemm(new Float32Array(12) as never, p, { m: 2 })).toThrow(/a must be a Uint8Array or an Int8Array/);
    expect(() => gemm(new Uint8ClampedArray(12) as never, p, { m: 2 })).toThrow(TypeError);
    expect(() => gemm(a, p, { m: 3 })).toThrow(/a has 12 elements, needs at least 18/);
    expect(() => gemm(a, p, { m: 2, lda: 5 })).toThrow(/lda must be in/);
    expect(() => gemm(a, {} as never, { m: 2 })).toThrow(/packed must be a PackedWeights/);
    expect(() => gemm(a, p, { m: 2, aZeroPoint: 256 })).toThrow(/aZeroPoint must be in \[0, 255\]/);
    expect(() => gemm(new Int8Array(12), p, { m: 2, aZeroPoint: 200 })).toThrow(/aZeroPoint must be in \[-128, 127\]/);
    expect(() => gemm(a, p, { m: 2, aZeroPoints: [1] })).toThrow(/aZeroPoints has 1 entries, expected 2/);
    expect(() => gemm(a, p, { m: 2, output: 'int16' as never })).toThrow(/output must be one of/);
    expect(() => gemm(a, p, { m: 2, output: 'int8' })).toThrow(/needs exactly one of multiplier/);
    expect(() => gemm(a, p, { m: 2, output: 'int8', multiplier: 0 })).toThrow(
      /multiplier must be a finite float32 > 0/,
    );
    expect(() => gemm(a, p, { m: 2, output: 'int8', multiplier: NaN })).toThrow(/multiplier must be finite/);
    expect(() => gemm(a, p, { m: 2, output: 'uint8', multiplier: 1, clamp: [10, 5] })).toThrow(/clamp\[1\]/);
    expect(() => gemm(a, p, { m: 2, output: 'uint8', multiplier: 1, outZeroPoint: -1 })).toThrow(/outZeroPoint/);
    expect(() => gemm(a, p, { m: 2, output: 'int8', multipliers: [1, 2, 3] })).toThrow(
      /multipliers has 3 entries, expected 4/,
    );
    expect(() => gemm(a, p, { m: 2, output: 'float32', wScales: 1 })).toThrow(/aScale/);
    expect(() => gemm(a, p, { m: 2, output: 'float32', aScale: 1 })).toThrow(/wScales/);
    expect(() => gemm(a, p, { m: 2, output: 'float32', aScale: 1, wScales: [1, 1] })).toThrow(/wScales has 2 entries/);
    expect(() => gemm(a, p, { m: 2, output: 'float32', aScale: 1, wScales: 1, activation: 'gelu' as never })).toThrow(
      /activation must be/,
    );
    expect(() =>
      gemm(a, p, { m: 2, output: 'float32', aScale: 1, wScales: 1, activation: { min: 2, max: 1 } }),
    ).toThrow(/activation.min/);
    expect(() => gemm(a, p, { m: 2, bias: new Int32Array(3) })).toThrow(/bias has 3 elements, expected n = 4/);
    expect(() => gemm(a, p, { m: 2, bias: new Float32Array(4) as never })).toThrow(/bias must be a Int32Array/);
    expect(() => gemm(a, p, { m: 2, multiplier: 1 })).toThrow(/does not apply to int32 output/);
    expect(() => gemm(a, p, { m: 2, out: new Int32Array(7) })).toThrow(/out has 7 elements, needs at least 8/);
    expect(() => gemm(a, p, { m: 2, out: new Float32Array(8) as never })).toThrow(/out must be a Int32Array/);
    expect(() => gemm(a, p, { m: 2, threads: 0 })).toThrow(/threads must be in \[1, 256\]/);
    const shared = new Uint8Array(64);
    expect(() =>
      gemm(shared.subarray(0, 12), p, { m: 2, output: 'uint8', multiplier: 1, out: shared.subarray(4, 12) }),
    ).toThrow(/overlap/);
  });
  it('the native layer checks again and never crashes', () => {
    // Calls that bypass the TypeScript checks: the binding checks types, lengths and overlap,
    // the core (native/gemm) the values.
    const nat = p.handle;
    const opts = (over: Record<string, unknown> = {}) => ({ ...nativeOptions, ...over });
    const call =
      (x: unknown, o: unknown, out: unknown = new Int32Array(8)) =>
      () =>
        nativeGemm(x, nat, out, o);
    const i8 = { output: 'int8', multipliers: new Float32Array([1]) };
    const f32 = { output: 'float32', aScales: new Float32Array([1]), wScales: new Float32Array([1]) };
    expect(call(a, opts())).not.toThrow();
    expect(call(a, opts({ m: 3 }))).toThrow(/a has 12 elements/);
    expect(call(a, opts({ lda: 2 }))).toThrow(/lda must be in/);
    expect(call(a, opts({ m: 1.5 }))).toThrow(/m must be an integer/);
    expect(call(a, opts({ output: 'int4' }))).toThrow(/output must be 'int32', 'int8', 'uint8' or 'float32'/);
    expect(call(a, [2, 6, 4])).toThrow(/options must be an object/);
    expect(call(a, opts({ aZeroPoints: new Int32Array([300]) }))).toThrow(/a_zero_points\[0\] = 300 is outside/);
    expect(call(a, opts({ output: 'int8' }), new Int8Array(8))).toThrow(/multipliers is required/);
    expect(call(a, opts({ ...i8, multipliers: new Float32Array([-1]) }), new Int8Array(8))).toThrow(
      /multipliers\[0\] must be a finite number > 0/,
    );
    expect(call(a, opts(i8), new Int8Array(8))).not.toThrow();
    expect(call(a, opts({ ...i8, qmin: 10, qmax: 5 }), new Int8Array(8))).toThrow(/clamp bounds \[10, 5\]/);
    expect(call(a, opts({ ...i8, qmin: 2 ** 40 }), new Int8Array(8))).toThrow(/qmin must be in/);
    expect(call(a, opts({ ...f32, activation: 'clamp', clampMin: 2, clampMax: 1 }), new Float32Array(8))).toThrow(
      /clamp_min <= clamp_max/,
    );
    expect(call(a, opts({ ...f32, activation: 'clamp', clampMin: NaN, clampMax: 1 }), new Float32Array(8))).toThrow(
      /clampMin must be finite/,
    );
    expect(call(a, opts({ ...f32, activation: 'tanh' }), new Float32Array(8))).toThrow(
      /activation must be linear, relu, relu6 or clamp, got tanh/,
    );
    expect(call(a, opts({ ...f32, activation: 'gelu' }), new Float32Array(8))).toThrow(/activation must be one of/);
    expect(call(a, opts(), new Float32Array(8))).toThrow(/out must be a Int32Array/);
    expect(call(new Float64Array(12), opts())).toThrow(/a must be a Uint8Array or Int8Array/);
    expect(() => nativeGemm(a, {}, new Int32Array(8), opts())).toThrow(/PackedWeights/);
    expect(() => dynamicGemm(new Float32Array(12), p, { m: 2 } as never)).toThrow(/wScales is required/);
    expect(() => dynamicGemm(new Float32Array(12), p, { m: 2, wScales: -1 })).toThrow(
      /wScales must be a finite float32 > 0/,
    );
    expect(() => dynamicGemm(new Float32Array(12), p, { m: 2, wScales: 1, perRow: 1 as never })).toThrow(
      /perRow must be a boolean/,
    );
  });
  it('an async call that the core rejects rejects with the RangeError the sync call throws', async () => {
    const o = { ...nativeOptions, output: 'int8', multipliers: new Float32Array([Infinity]) } as const;
    const message = /multipliers\[0\] must be a finite number > 0/;
    expect(() => native().gemm(a, p.handle, new Int8Array(8), o)).toThrow(RangeError);
    expect(() => native().gemm(a, p.handle, new Int8Array(8), o)).toThrow(message);
    const rejected = await native()
      .gemmAsync(a, p.handle, new Int8Array(8), o)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(rejected).toBeInstanceOf(RangeError);
    expect((rejected as Error).message).toMatch(message);
  });
  it('measurePeak', () => {
    expect(() => measurePeak('sse9' as never)).toThrow(/isa must be one of/);
    expect(() => measurePeak('ref', 0)).toThrow(/seconds/);
    for (const isa of ISAS) expect(measurePeak(isa, 0.02)).toBeGreaterThan(0);
  });
});

function nativeGemm(...args: unknown[]): void {
  (native().gemm as (...a: unknown[]) => void)(...args);
}
