// int4 GEMM (src/kernels/int4.ts → native/gemm/gemm_int4*.cc): the reference path against an
// independent TypeScript statement of docs/quantization.md §12.5, and every compiled path
// against the reference bit for bit (M ∈ {1, 2, 5, 16, 33}, K not a multiple of the group,
// N not a multiple of the 8-column panel, symmetric and asymmetric weights, int8/uint8 A,
// per-row and per-tensor parameters, every activation, threads).
import { describe, expect, it } from 'vitest';
import {
  dynamicGemmInt4,
  dynamicGemmInt4Async,
  gemmInt4,
  gemmInt4Async,
  int4Groups,
  int4Isas,
  packInt4Weights,
  weightOnlyGemmInt4,
  weightOnlyGemmInt4Async,
  type Int4PackedWeights,
} from '../../src/kernels/int4.js';
import type { IsaName } from '../../binding.js';
import { native } from '../../src/native/binding.js';
import {
  decodeScale,
  float16Scale,
  packInt4Quantization,
  quantizeWeightInt4,
  superScaleFor,
} from '../../src/quant/int4.js';
import { dynamicQuantizeU8, fl32 } from '../../src/quant/scheme.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const ri = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

interface Case {
  k: number;
  n: number;
  g: number;
  w: Int8Array;
  scales: Float32Array;
  zp?: Int32Array;
}
type ScaleKind = 'f16' | 'f32' | 'code8';
function makeCase(
  k: number,
  n: number,
  g: number,
  seed: number,
  asym: boolean,
  kind: ScaleKind = seed % 2 === 0 ? 'f16' : 'f32',
): Case {
  const r = rng(seed);
  const groups = int4Groups(k, g);
  const w = Int8Array.from({ length: k * n }, () => ri(r, -8, 7));
  // 'f16': float16-exact scales (quantizeWeightInt4 with scaleBits 16: packed as float16);
  // 'f32': arbitrary float32 scales (packed as float32); 'code8': double-quantized, a code in
  // [1, 255] times a per-column super-scale (quantizeWeightInt4's default: packed as 1-byte codes).
  const scales = Float32Array.from({ length: groups * n }, () =>
    (kind === 'f16' ? float16Scale : fl32)(0.001 + r() * 0.05),
  );
  if (kind === 'code8') {
    for (let j = 0; j < n; j++) {
      const d = superScaleFor(0.001 + r() * 0.05);
      for (let gg = 0; gg < groups; gg++) scales[gg * n + j] = decodeScale(ri(r, 1, 255), d);
    }
  }
  return { k, n, g, w, scales, ...(asym ? { zp: Int32Array.from({ length: groups * n }, () => ri(r, -8, 7)) } : {}) };
}
const pack = (c: Case, isa: IsaName) =>
  packInt4Weights(c.w, {
    k: c.k,
    n: c.n,
    groupSize: c.g,
    scales: c.scales,
    ...(c.zp ? { zeroPoints: c.zp } : {}),
    isa,
  });

type Act = 'none' | 'relu' | 'relu6' | { min: number; max: number };
function finish(y: number, n: number, bias: Float32Array | undefined, act: Act): number {
  if (bias) y = fl32(y + bias[n]!);
  const [lo, hi] =
    act === 'relu'
      ? [0, Infinity]
      : act === 'relu6'
        ? [0, 6]
        : typeof act === 'object'
          ? [act.min, act.max]
          : [-Infinity, Infinity];
  if (lo !== -Infinity) y = y > lo ? y : fl32(lo);
  if (hi !== Infinity) y = y < hi ? y : fl32(hi);
  return y;
}

// §12.5: y = Σ over groups in order of term(i, j, g, k0, k1, zw), each added in float32, then finish.
type GroupTerm = (i: number, j: number, g: number, k0: number, k1: number, zw: number) => number;
function oracle(c: Case, m: number, term: GroupTerm, bias: Float32Array | undefined, act: Act): Float32Array {
  const groups = int4Groups(c.k, c.g),
    G = groups === 1 ? c.k : c.g;
  const out = new Float32Array(m * c.n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < c.n; j++) {
      let y = 0;
      for (let g = 0; g < groups; g++)
        y = fl32(y + term(i, j, g, g * G, Math.min(c.k, (g + 1) * G), c.zp ? c.zp[g * c.n + j]! : 0));
      out[i * c.n + j] = finish(y, j, bias, act);
    }
  }
  return out;
}

// Quantized activations: an exact integer sum per group, then fl32(fl32(acc) × fl32(sa × sw)).
function oracleQuant(
  c: Case,
  a: ArrayLike<number>,
  m: number,
  za: number[],
  sa: number[],
  bias: Float32Array | undefined,
  act: Act,
): Float32Array {
  return oracle(
    c,
    m,
    (i, j, g, k0, k1, zw) => {
      let acc = 0;
      for (let k = k0; k < k1; k++) acc += (a[i * c.k + k]! - za[i]!) * (c.w[k * c.n + j]! - zw);
      return fl32(fl32(acc) * fl32(sa[i]! * c.scales[g * c.n + j]!));
    },
    bias,
    act,
  );
}

// Weight-only: p = fl32(p + fl32(x × (w − zw))) along the group, then fl32(p × sw).
function oracleWeightOnly(c: Case, x: Float32Array, m: number, bias: Float32Array | undefined, act: Act): Float32Array {
  return oracle(
    c,
    m,
    (i, j, g, k0, k1, zw) => {
      let p = 0;
      for (let k = k0; k < k1; k++) p = fl32(p + fl32(x[i * c.k + k]! * (c.w[k * c.n + j]! - zw)));
      return fl32(p * c.scales[g * c.n + j]!);
    },
    bias,
    act,
  );
}

function sameBits(got: Float32Array, want: Float32Array, what: string) {
  expect(got.length, what).toBe(want.length);
  const gb = new Uint32Array(got.buffer, got.byteOffset, got.length),
    wb = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < gb.length; i++)
    if (gb[i] !== wb[i]) expect(`${what}: [${i}] = ${got[i]}`).toBe(`${what}: [${i}] = ${want[i]}`);
}

const fast = int4Isas().filter((i) => i !== 'ref') as ('avx2' | 'neon')[];
/** Appended to the titles of the fast-path tests: why they are skipped, on a CPU with neither path. */
const noFast = fast.length ? '' : ' (skipped: this CPU has neither the AVX2 nor the NEON int4 path)';
const ACTS: Act[] = ['none', 'relu', 'relu6', { min: -0.5, max: 0.75 }];

describe('int4 packing', () => {
  it('round-trips every pair of nibble values in every byte position, on every path', () => {
    // Column j carries the nibble pair (j mod 16, ⌊j/16⌋) − 8 at K rows t and t + 4 of each block.
    const k = 24,
      n = 256;
    const w = new Int8Array(k * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) w[kk * n + j] = (kk % 8 < 4 ? j % 16 : j >> 4) - 8 + 0;
    // Shift the pattern per K row so every (t, j) byte sees both halves of each pair.
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) w[kk * n + j] = ((w[kk * n + j]! + 8 + kk) % 16) - 8;
    for (const isa of int4Isas()) {
      for (const g of [0, 8]) {
        const p = packInt4Weights(w, {
          k,
          n,
          groupSize: g,
          scales: new Float32Array(int4Groups(k, g) * n).fill(1),
          isa,
        });
        expect(p.unpack(), `${isa} g ${g}`).toEqual(w);
        expect(p.groups).toBe(int4Groups(k, g));
        p.dispose();
        expect(p.disposed).toBe(true);
      }
    }
    // The 'nk' layout is the transpose.
    const t = new Int8Array(k * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) t[j * k + kk] = w[kk * n + j]!;
    expect(
      packInt4Weights(t, {
        k,
        n,
        layout: 'nk',
        groupSize: 0,
        scales: new Float32Array(n).fill(1),
        isa: 'ref',
      }).unpack(),
    ).toEqual(w);
  });

  it('is half a byte per weight plus compact per-group tables', () => {
    const isa = int4Isas().at(-1)!;
    const nibbles = (4096 * 256) / 2,
      entries = 64 * 256;
    // float16-exact scales, symmetric: float16 scale + int16 sum per (group, column).
    const sym = pack(makeCase(4096, 256, 64, 2, false), isa);
    expect(sym.byteLength).toBe(nibbles + 4 * entries);
    // float32 scales, zero points: + 2 bytes of scale + 1 byte of zero point.
    const asym = pack(makeCase(4096, 256, 64, 1, true), isa);
    expect(asym.byteLength).toBe(nibbles + 7 * entries);
    // One group of K = 4096 per column: int32 sums (15 · 4096 does not fit int16).
    expect(pack(makeCase(4096, 256, 0, 2, false), isa).byteLength).toBe(nibbles + 6 * 256);
    // Double-quantized scales: a 1-byte code per (group, column) + a float32 super-scale per column.
    const dq = pack(makeCase(4096, 256, 64, 2, false, 'code8'), isa);
    expect(dq.byteLength).toBe(nibbles + 3 * entries + 4 * 256);
    // Scales that are not code × super-scale with codes ≤ 255 (a ratio of 300 within a column) fall back to float16.
    const wide = makeCase(64, 8, 32, 4, false);
    for (let j = 0; j < 8; j++) {
      wide.scales[j] = 0.5;
      wide.scales[8 + j] = float16Scale(0.5 / 300);
    }
    expect(pack(wide, isa).byteLength).toBe((64 * 8) / 2 + 4 * 16);
  });
});

describe('int4 GEMM', () => {
  it('the reference path equals the TypeScript statement of §12.5 (quantized, dynamic, weight-only)', () => {
    const r = rng(7);
    for (const [m, k, n, g, asym] of [
      [1, 7, 5, 0, false],
      [2, 100, 9, 32, true],
      [5, 130, 3, 64, false],
      [3, 64, 17, 64, true],
      [1, 300, 8, 128, true],
    ] as const) {
      const c = makeCase(k, n, g, m * 1000 + k + n, asym);
      const p = pack(c, 'ref');
      const a = Uint8Array.from({ length: m * k }, () => ri(r, 0, 255));
      const za = Array.from({ length: m }, () => ri(r, 0, 255)),
        sa = Array.from({ length: m }, () => fl32(0.001 + r() * 0.1));
      const bias = Float32Array.from({ length: n }, () => fl32(r() - 0.5));
      for (const act of ACTS) {
        sameBits(
          gemmInt4(a, p, {
            m,
            aZeroPoints: Int32Array.from(za),
            aScales: Float32Array.from(sa),
            bias,
            activation: act,
          }),
          oracleQuant(c, a, m, za, sa, bias, act),
          `gemm ${m}×${k}×${n} g${g} ${JSON.stringify(act)}`,
        );
      }
      const s8 = Int8Array.from(a, (v) => v - 128);
      sameBits(
        gemmInt4(s8, p, { m, aZeroPoint: -3, aScale: 0.02 }),
        oracleQuant(c, a, m, Array(m).fill(125), Array(m).fill(fl32(0.02)), undefined, 'none'),
        'int8 A',
      );
      const x = Float32Array.from({ length: m * k }, () => fl32((r() - 0.5) * 4));
      for (const perRow of [true, false]) {
        const dq = dynamicQuantizeU8(x, m, k, perRow);
        const zs = Array.from({ length: m }, (_, i) => dq.params[perRow ? i : 0]!.zeroPoint),
          ss = Array.from({ length: m }, (_, i) => dq.params[perRow ? i : 0]!.scale);
        sameBits(
          dynamicGemmInt4(x, p, { m, perRow, bias, activation: 'relu' }),
          oracleQuant(c, dq.q, m, zs, ss, bias, 'relu'),
          `dynamic perRow ${perRow}`,
        );
      }
      sameBits(
        weightOnlyGemmInt4(x, p, { m, bias, activation: 'relu6' }),
        oracleWeightOnly(c, x, m, bias, 'relu6'),
        'weight-only',
      );
    }
  });

  it.skipIf(fast.length === 0)(
    `every compiled path equals the reference bit for bit on random shapes${noFast}`,
    async () => {
      const r = rng(11);
      let cases = 0;
      for (const m of [1, 2, 5, 16, 33]) {
        for (let rep = 0; rep < 6; rep++) {
          const g = [0, 32, 64, 128][rep % 4]!;
          const k = rep === 5 ? 513 : ri(r, 1, 300),
            n = [1, 7, 8, 13, 33, 70][ri(r, 0, 5)]!;
          const kind = (['f16', 'f32', 'code8'] as const)[rep % 3]!;
          const c = makeCase(k, n, g, m * 100 + rep, rep % 2 === 1, kind);
          const ref = pack(c, 'ref');
          const a = Uint8Array.from({ length: m * k }, () => (r() < 0.1 ? 255 : ri(r, 0, 255)));
          const za = Int32Array.from({ length: m }, () => ri(r, 0, 255)),
            sa = Float32Array.from({ length: m }, () => fl32(0.001 + r() * 0.1));
          const x = Float32Array.from({ length: m * k }, () => fl32((r() - 0.5) * 8));
          const bias = rep % 3 === 0 ? undefined : Float32Array.from({ length: n }, () => fl32(r() - 0.5));
          const act = ACTS[rep % 4]!;
          const want = gemmInt4(a, ref, { m, aZeroPoints: za, aScales: sa, bias, activation: act });
          const wantDyn = dynamicGemmInt4(x, ref, { m, bias, activation: act });
          const wantWo = weightOnlyGemmInt4(x, ref, { m, bias, activation: act });
          for (const isa of fast) {
            const p = pack(c, isa);
            const what = `${isa} m ${m} k ${k} n ${n} g ${g} ${c.zp ? 'asym' : 'sym'} ${kind}`;
            sameBits(gemmInt4(a, p, { m, aZeroPoints: za, aScales: sa, bias, activation: act }), want, what);
            sameBits(
              await gemmInt4Async(a, p, { m, aZeroPoints: za, aScales: sa, bias, activation: act, threads: 1 }),
              want,
              what + ' async',
            );
            sameBits(dynamicGemmInt4(x, p, { m, bias, activation: act }), wantDyn, what + ' dynamic');
            sameBits(weightOnlyGemmInt4(x, p, { m, bias, activation: act }), wantWo, what + ' weight-only');
            cases++;
          }
        }
      }
      expect(cases).toBe(30 * fast.length);
    },
  );

  it.skipIf(fast.length === 0)(
    `large shapes split across threads stay bit-identical (extremes: A ∈ {0, 255}, w ∈ {−8, 7})${noFast}`,
    async () => {
      const r = rng(5);
      for (const [m, k, n, g, kind] of [
        [1, 4096, 517, 64, 'code8'],
        [16, 1000, 260, 128, 'code8'],
        [16, 1000, 260, 128, 'f16'],
        [33, 2048, 96, 32, 'f32'],
        [2, 65536, 9, 0, 'f16'],
      ] as const) {
        const c = makeCase(k, n, g, k + n, g === 32, kind);
        if (g === 0) c.w.fill(7);
        const ref = pack(c, 'ref');
        const a = Uint8Array.from({ length: m * k }, () => (r() < 0.5 ? 255 : 0));
        const want = gemmInt4(a, ref, { m, aZeroPoint: 0, aScale: 0.5 });
        const x = Float32Array.from({ length: m * k }, () => fl32(r() - 0.5));
        const wantDyn = dynamicGemmInt4(x, ref, { m, perRow: false });
        const wantWo = m * k * n < 2e7 ? weightOnlyGemmInt4(x, ref, { m }) : undefined;
        for (const isa of fast) {
          const p = pack(c, isa);
          for (const threads of [1, 2]) {
            sameBits(
              gemmInt4(a, p, { m, aZeroPoint: 0, aScale: 0.5, threads }),
              want,
              `${isa} ${m}×${k}×${n} ${kind} t${threads}`,
            );
            sameBits(
              await dynamicGemmInt4Async(x, p, { m, perRow: false, threads }),
              wantDyn,
              `${isa} dynamic ${m}×${k}×${n}`,
            );
            if (wantWo)
              sameBits(
                await weightOnlyGemmInt4Async(x, p, { m, threads }),
                wantWo,
                `${isa} weight-only ${m}×${k}×${n}`,
              );
          }
        }
      }
    },
  );

  it('is close to the float product of the dequantized weights (end to end from quantizeWeightInt4, 2/3/4 bits)', () => {
    const r = rng(3),
      K = 256,
      N = 40,
      M = 4;
    const wf = Float32Array.from({ length: K * N }, () => fl32((r() - 0.5) * 0.2));
    const x = Float32Array.from({ length: M * K }, () => fl32(r() * 2 - 1));
    for (const bits of [4, 3, 2] as const) {
      for (const symmetric of [true, false]) {
        const q = quantizeWeightInt4(wf, [K, N], 1, { groupSize: 64, bits, symmetric });
        const p: Int4PackedWeights = packInt4Quantization(q, [K, N]);
        const y = dynamicGemmInt4(x, p, { m: M }),
          yw = weightOnlyGemmInt4(x, p, { m: M });
        for (let i = 0; i < M; i++) {
          // §8: the row is quantized with scale (max − min) / 255, each value off by at most half of it.
          let lo = 0,
            hi = 0;
          for (let k = 0; k < K; k++) {
            lo = Math.min(lo, x[i * K + k]!);
            hi = Math.max(hi, x[i * K + k]!);
          }
          const halfStep = (hi - lo) / 255 / 2;
          for (let j = 0; j < N; j++) {
            let f = 0,
              absW = 0;
            for (let k = 0; k < K; k++) {
              const g = Math.floor(k / 64) * N + j;
              const wq = (q.values![k * N + j]! - q.zeroPoints[g]!) * q.scales[g]!;
              f += x[i * K + k]! * wq;
              absW += Math.abs(wq);
            }
            expect(Math.abs(yw[i * N + j]! - f), `weight-only ${bits} bits`).toBeLessThan(1e-4);
            expect(Math.abs(y[i * N + j]! - f), `dynamic ${bits} bits`).toBeLessThanOrEqual(
              halfStep * absW * 1.01 + 1e-4,
            );
          }
        }
      }
    }
  });

  it('rejects bad input with clear errors', () => {
    const c = makeCase(64, 8, 32, 1, false);
    expect(() => packInt4Weights(c.w, { k: 64, n: 8, groupSize: 12, scales: c.scales })).toThrow(
      /groupSize must be 0 \(per column\) or a multiple of 8/,
    );
    expect(() => packInt4Weights(c.w, { k: 64, n: 8, groupSize: 32, scales: c.scales.subarray(1) })).toThrow(
      /scales has 15 elements, expected groups × n = 2 × 8/,
    );
    expect(() =>
      packInt4Weights(
        Int8Array.from(c.w, (v, i) => (i === 3 ? 8 : v)),
        { k: 64, n: 8, groupSize: 32, scales: c.scales },
      ),
    ).toThrow(/w\[3\] = 8 is outside/);
    expect(() =>
      packInt4Weights(c.w, { k: 64, n: 8, groupSize: 32, scales: Float32Array.from(c.scales, (s, i) => (i ? s : 0)) }),
    ).toThrow(/scales\[0\] must be finite and > 0/);
    expect(() =>
      packInt4Weights(c.w, { k: 64, n: 8, groupSize: 32, scales: c.scales, zeroPoints: new Int32Array(16).fill(9) }),
    ).toThrow(/zeroPoints\[0\] = 9/);
    expect(() => packInt4Weights(c.w, { k: 64, n: 8, groupSize: 32, scales: c.scales, isa: 'avx512vnni' })).toThrow(
      /no int4 path/,
    );
    expect(() => packInt4Weights(c.w, { k: 65537, n: 8, scales: c.scales })).toThrow(RangeError);
    const p = pack(c, 'ref');
    expect(() => gemmInt4(new Uint8Array(10), p, { m: 1 })).toThrow(/input has 10 elements, expected m × k = 64/);
    expect(() => gemmInt4(new Uint8ClampedArray(64) as never, p, { m: 1 })).toThrow(TypeError);
    expect(() => gemmInt4(new Uint8Array(64), p, { m: 1, aZeroPoint: 256 })).toThrow(/aZeroPoint/);
    expect(() => gemmInt4(new Int8Array(64), p, { m: 1, aZeroPoint: 128 })).toThrow(/aZeroPoint/);
    expect(() => gemmInt4(new Uint8Array(64), p, { m: 1, aScale: 0 })).toThrow(/aScale must be > 0/);
    expect(() => dynamicGemmInt4(new Float32Array(64), p, { m: 1, bias: new Float32Array(3) })).toThrow(
      /bias has 3 elements/,
    );
    expect(() => dynamicGemmInt4(new Float32Array(64), p, { m: 1, activation: 'gelu' as never })).toThrow(/activation/);
    expect(() => weightOnlyGemmInt4(new Float32Array(64), p, { m: 1, activation: { min: 1, max: 0 } })).toThrow(
      /min must be <= /,
    );
    const buf = new Float32Array(72);
    expect(() => weightOnlyGemmInt4(buf.subarray(0, 64), p, { m: 1, out: buf.subarray(60, 68) })).toThrow(/overlap/);
    expect(() => dynamicGemmInt4(new Float32Array(64), {} as never, { m: 1 })).toThrow(/Int4PackedWeights/);
    p.dispose();
    expect(() => dynamicGemmInt4(new Float32Array(64), p, { m: 1 })).toThrow(/disposed/);
    // The native layer checks on its own too.
    const Native = native().Int4PackedWeights;
    const opts = { k: 64, n: 8, layout: 'kn', groupSize: 32, scales: c.scales, zeroPoints: null, isa: 'ref' } as const;
    expect(() => new Native(c.w, { ...opts, groupSize: 12 })).toThrow(
      /group_size must be 0 \(per column\) or a multiple of 8/,
    );
    expect(() => new Native(c.w, { ...opts, scales: c.scales.subarray(2) })).toThrow(/scales has 14 elements/);
    expect(() =>
      native().int4DynamicGemm(new Float32Array(64), p.handle, new Float32Array(8), {
        m: 1,
        perRow: true,
        bias: null,
        activation: 'linear',
        clampMin: 0,
        clampMax: 0,
        threads: 0,
      }),
    ).toThrow(/disposed/);
  });

  it('m = 0 is a no-op', () => {
    const c = makeCase(16, 8, 0, 2, false);
    for (const isa of int4Isas()) {
      const p = pack(c, isa);
      expect(dynamicGemmInt4(new Float32Array(0), p, { m: 0 }).length).toBe(0);
      expect(weightOnlyGemmInt4(new Float32Array(0), p, { m: 0 }).length).toBe(0);
      expect(
        gemmInt4(new Uint8Array(0), p, { m: 0, aZeroPoints: new Int32Array(0), aScales: new Float32Array(0) }).length,
      ).toBe(0);
    }
  });
});
