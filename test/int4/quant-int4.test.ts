// quantizeWeightInt4 (src/quant/int4.ts) against an independent float64 statement of the
// per-group scheme, written with plain nested loops over the weight's own dimensions.
import { describe, expect, it } from 'vitest';
import { fromFloat16, toFloat16 } from '../../src/quant/scheme.js';
import {
  chooseWeightBits,
  dequantizeWeightInt4,
  groupLayout,
  int4WeightStats,
  quantizeWeightInt4,
} from '../../src/quant/int4.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
function gaussian(n: number, seed: number, outliers = 0): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * 0.05;
  for (let i = 0; i < outliers; i++) out[Math.floor(r() * n)] = (r() - 0.5) * 2;
  return out;
}

// Dense kernel [K, N], channel axis 1: group g of column n holds rows g*G .. min(K, (g+1)*G).
function checkDense(
  x: Float32Array,
  K: number,
  N: number,
  G: number,
  bits: 2 | 3 | 4,
  symmetric: boolean,
  scaleBits: 8 | 16 = 16,
) {
  const q = quantizeWeightInt4(x, [K, N], 1, { bits, groupSize: G, symmetric, scaleBits });
  const groupLen = G === 0 ? K : G;
  const groups = Math.ceil(K / groupLen);
  expect(q.dtype).toBe('int4');
  expect(q.scales.length).toBe(groups * N);
  expect(q.groupSize).toBe(G === 0 ? undefined : G);
  const half = 2 ** (bits - 1);
  const qmin = symmetric ? -(half - 1) : -half,
    qmax = half - 1;
  const dq = scaleBits === 8 && G !== 0;
  expect(q.scaleCodes !== undefined && q.superScales !== undefined).toBe(dq);
  let exact = 0,
    total = 0;
  for (let n = 0; n < N; n++) {
    const ranges = Array.from({ length: groups }, (_, g) => {
      let lo = 0,
        hi = 0;
      for (let k = g * groupLen; k < Math.min(K, (g + 1) * groupLen); k++) {
        lo = Math.min(lo, x[k * N + n]!);
        hi = Math.max(hi, x[k * N + n]!);
      }
      return [lo, hi, symmetric ? Math.max(-lo, hi) / qmax : (hi - lo) / (qmax - qmin)] as const;
    });
    // Double quantization: d ≈ (largest group scale of the column) / 255 with 16 significant bits.
    const d = dq ? q.superScales![n]! : 0;
    if (dq) {
      const smax = Math.max(...ranges.map((r) => r[2]));
      // The smallest 16-significant-bit number ≥ smax / 255.
      expect(255 * d).toBeGreaterThanOrEqual(smax);
      expect((d - smax / 255) / (smax / 255), `super-scale n ${n}`).toBeLessThan(2 ** -15);
      const e = Math.floor(Math.log2(d));
      expect(Number.isInteger(d / 2 ** (e - 15))).toBe(true);
    }
    for (let g = 0; g < groups; g++) {
      const [lo, , want] = ranges[g]!;
      const s = q.scales[g * N + n]!,
        zp = q.zeroPoints[g * N + n]!;
      if (dq) {
        // The scale is the smallest code's ≥ the range's scale (code ≤ 255 × d ≤ 16 bits: the
        // float32 product is exact), so the range is covered as with float16 scales.
        const code = q.scaleCodes![g * N + n]!;
        expect(code).toBeGreaterThanOrEqual(1);
        expect(s).toBe(code * d);
        expect(Math.fround(code * d)).toBe(code * d);
        expect(s, `scale (g ${g}, n ${n})`).toBeGreaterThanOrEqual(Math.fround(want) * (1 - 2 ** -23));
        if (code > 1) expect(s - d, `scale (g ${g}, n ${n})`).toBeLessThan(Math.fround(want) * (1 + 2 ** -23));
      } else {
        // The scale is the range's, rounded once to float16 (relative error ≤ 2^−11), so the file holds it exactly.
        expect(Math.abs(s - want) / want, `scale (g ${g}, n ${n})`).toBeLessThanOrEqual(2 ** -11 * (1 + 1e-6));
        expect(fromFloat16(toFloat16(s))).toBe(s);
      }
      if (symmetric) expect(zp).toBe(0);
      else expect(Math.abs(zp - (qmin - lo / s))).toBeLessThanOrEqual(0.5 + 1e-6);
      for (let k = g * groupLen; k < Math.min(K, (g + 1) * groupLen); k++) {
        const v = q.values![k * N + n]!;
        expect(v).toBeGreaterThanOrEqual(qmin);
        expect(v).toBeLessThanOrEqual(qmax);
        const ideal = Math.min(Math.max(x[k * N + n]! / s + zp, qmin), qmax);
        expect(Math.abs(v - ideal)).toBeLessThanOrEqual(0.5 + 1e-5);
        if (v === Math.round(ideal)) exact++;
        total++;
      }
    }
  }
  expect(exact / total).toBeGreaterThan(0.999);
  return q;
}

describe('quantizeWeightInt4', () => {
  it('matches the float64 per-group statement (symmetric/asymmetric, 2/3/4 bits, 8/16-bit scales, K not a multiple of G)', () => {
    for (const [K, N, G] of [
      [200, 7, 64],
      [64, 3, 32],
      [100, 5, 128],
      [77, 4, 0],
      [256, 9, 64],
    ] as const) {
      for (const bits of [2, 3, 4] as const) {
        for (const symmetric of [true, false]) {
          for (const scaleBits of [8, 16] as const)
            checkDense(gaussian(K * N, K * 31 + N + bits, 3), K, N, G, bits, symmetric, scaleBits);
        }
      }
    }
  });

  it('dequantizes each element with its own group and channel scale', () => {
    const K = 130,
      N = 6,
      x = gaussian(K * N, 5);
    const q = quantizeWeightInt4(x, [K, N], 1, { groupSize: 64, symmetric: false });
    const d = dequantizeWeightInt4(q, [K, N]);
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const j = Math.floor(k / 64) * N + n;
        expect(d[k * N + n]).toBe(Math.fround((q.values![k * N + n]! - q.zeroPoints[j]!) * q.scales[j]!));
        expect(Math.abs(d[k * N + n]! - x[k * N + n]!)).toBeLessThanOrEqual((q.scales[j]! / 2) * (1 + 1e-6));
      }
    }
  });

  it('groups along every non-channel index for conv layouts (axis 3, and axis 2 with inner dims)', () => {
    // Conv2D [kh, kw, in, out]: K = kh·kw·in, element (a, b, c, o) is k = (a·kw + b)·in + c.
    const shape = [3, 3, 10, 4],
      x = gaussian(360, 9, 2);
    const q = quantizeWeightInt4(x, shape, 3, { groupSize: 32 });
    const l = groupLayout(shape, 3, 32);
    expect([l.k, l.groups, l.channels]).toEqual([90, 3, 4]);
    const asDense = checkDense(x, 90, 4, 32, 4, true, 8);
    expect(q.scales).toEqual(asDense.scales);
    expect(q.values).toEqual(asDense.values);
    // Conv2DTranspose [kh, kw, out, in] with the channel at axis 2: K index = (a·kw + b)·in + c.
    const t = [2, 2, 3, 40];
    const xt = gaussian(480, 11);
    const qt = quantizeWeightInt4(xt, t, 2, { groupSize: 64 });
    const dense = new Float32Array(480); // [K = 160][N = 3]
    for (let ab = 0; ab < 4; ab++)
      for (let o = 0; o < 3; o++)
        for (let c = 0; c < 40; c++) dense[(ab * 40 + c) * 3 + o] = xt[(ab * 3 + o) * 40 + c]!;
    const qd = quantizeWeightInt4(dense, [160, 3], 1, { groupSize: 64 });
    expect(qt.scales).toEqual(qd.scales);
    for (let ab = 0; ab < 4; ab++)
      for (let o = 0; o < 3; o++)
        for (let c = 0; c < 40; c++) expect(qt.values![(ab * 3 + o) * 40 + c]).toBe(qd.values![(ab * 40 + c) * 3 + o]);
  });

  it("'mse' search never does worse than round-to-nearest per group, and better with outliers", () => {
    const K = 512,
      N = 16,
      x = gaussian(K * N, 3, 40);
    const err = (q: ReturnType<typeof quantizeWeightInt4>) => {
      const d = dequantizeWeightInt4(q, [K, N]);
      const perGroup = new Float64Array(q.scales.length);
      for (let k = 0; k < K; k++)
        for (let n = 0; n < N; n++) perGroup[Math.floor(k / 64) * N + n] += (d[k * N + n]! - x[k * N + n]!) ** 2;
      return perGroup;
    };
    for (const symmetric of [true, false]) {
      for (const scaleBits of [8, 16] as const) {
        const qa = quantizeWeightInt4(x, [K, N], 1, { symmetric, scaleBits }),
          qb = quantizeWeightInt4(x, [K, N], 1, { symmetric, scaleBits, search: 'mse' });
        const a = err(qa),
          b = err(qb);
        let sa = 0,
          sb = 0;
        for (let i = 0; i < a.length; i++) {
          expect(b[i]!).toBeLessThanOrEqual(a[i]! * (1 + 1e-9));
          sa += a[i]!;
          sb += b[i]!;
        }
        expect(sb).toBeLessThan(sa * 0.95);
        // The search ran over representable scales: what is stored is what was measured.
        if (scaleBits === 8) {
          expect(qb.superScales).toEqual(qa.superScales);
          for (let i = 0; i < qb.scales.length; i++)
            expect(qb.scales[i]).toBe(Math.fround(qb.scaleCodes![i]! * qb.superScales![i % N]!));
        }
      }
    }
  });

  it('double-quantized scales lose almost nothing against float16 ones, and cost half the bits', () => {
    const K = 768,
      N = 64,
      x = gaussian(K * N, 17, 20);
    for (const search of ['rtn', 'mse'] as const) {
      const q8 = quantizeWeightInt4(x, [K, N], 1, { search }),
        q16 = quantizeWeightInt4(x, [K, N], 1, { search, scaleBits: 16 });
      const s8 = int4WeightStats(x, q8, [K, N]),
        s16 = int4WeightStats(x, q16, [K, N]);
      expect(s8.snrDb).toBeGreaterThan(s16.snrDb - 0.1);
      // 4 bits + 8/64 (codes) + 32/768 (super-scale) vs 4 + 16/64.
      expect(s8.bitsPerWeight).toBeCloseTo(4 + 8 / 64 + 32 / K, 12);
      expect(s16.bitsPerWeight).toBeCloseTo(4 + 16 / 64, 12);
      expect([s8.scaleStorage, s16.scaleStorage]).toEqual(['uint8', 'float16']);
    }
    // All-zero channels and groups get a valid code (the scale does not matter: zeros stay 0).
    const z = new Float32Array(128 * 3);
    for (let k = 64; k < 128; k++) z[k * 3 + 1] = 0.5;
    const qz = quantizeWeightInt4(z, [128, 3], 1);
    expect(Array.from(qz.scaleCodes!).every((c) => c >= 1)).toBe(true);
    expect(Array.from(qz.scales).every((sc) => sc > 0 && Number.isFinite(sc))).toBe(true);
    const dz = dequantizeWeightInt4(qz, [128, 3]);
    for (let i = 0; i < z.length; i++) if (z[i] === 0) expect(dz[i]).toBe(0);
  });

  it('rejects unsupported bits, group sizes and mismatched shapes clearly', () => {
    const x = new Float32Array(64);
    expect(() => quantizeWeightInt4(x, [16, 4], 1, { bits: 8 as never })).toThrow(/bits must be 2, 3 or 4/);
    expect(() => quantizeWeightInt4(x, [16, 4], 1, { groupSize: 48 })).toThrow(/groupSize must be 32, 64, 128 or 0/);
    expect(() => quantizeWeightInt4(x, [16, 5], 1)).toThrow(/values has 64 elements/);
    expect(() => quantizeWeightInt4(x, [16, 4], 2)).toThrow(/axis/);
    expect(() => quantizeWeightInt4(x, [16, 4], 1, { search: 'gptq' as never })).toThrow(/search/);
    expect(() => quantizeWeightInt4(x, [16, 4], 1, { scaleBits: 4 as never })).toThrow(/scaleBits must be 8 or 16/);
    expect(() => quantizeWeightInt4([1, 2] as never, [2], 0)).toThrow(TypeError);
  });

  it('int4WeightStats reports bits, groups, SNR and stored bytes (int4 grouped, int8 per channel)', () => {
    const K = 100,
      N = 6,
      x = gaussian(K * N, 21);
    const q = quantizeWeightInt4(x, [K, N], 1, { groupSize: 32, symmetric: false, scaleBits: 16 });
    const st = int4WeightStats(x, q, [K, N]);
    const d = dequantizeWeightInt4(q, [K, N]);
    let sig = 0,
      err = 0;
    for (let i = 0; i < x.length; i++) {
      sig += x[i]! ** 2;
      err += (x[i]! - d[i]!) ** 2;
    }
    expect(st).toMatchObject({ bits: 4, groupSize: 32, groups: 4, floatBytes: 2400 });
    expect(st.snrDb).toBeCloseTo(10 * Math.log10(sig / err), 9);
    expect(st.bytes).toBe(300 + 2 * 24 + 12); // nibbles + float16 scales + int4 zero points
    // Double-quantized: nibbles (300, 4-aligned) + 6 float32 super-scales + 24 codes + 12 bytes of zero points.
    expect(
      int4WeightStats(x, quantizeWeightInt4(x, [K, N], 1, { groupSize: 32, symmetric: false }), [K, N]).bytes,
    ).toBe(300 + 4 * 6 + 24 + 12);
    // int8 per channel: values, then a float32 scale table (zero points 0 stay out of the shard).
    const scales = Float32Array.from(
      { length: N },
      (_, c) => Math.max(...Array.from({ length: K }, (_, k) => Math.abs(x[k * N + c]!))) / 127,
    );
    const values = Int8Array.from(x, (v, i) => Math.round(v / scales[i % N]!));
    const s8 = int4WeightStats(x, { dtype: 'int8', axis: 1, scales, zeroPoints: new Int32Array(N), values }, [K, N]);
    let e8 = 0;
    for (let i = 0; i < x.length; i++) e8 += (x[i]! - Math.fround(values[i]! * scales[i % N]!)) ** 2;
    expect(s8).toMatchObject({ bits: 8, groups: 1, bytes: 600 + 4 * N });
    expect(s8.snrDb).toBeCloseTo(10 * Math.log10(sig / e8), 6);
    expect(s8.snrDb).toBeGreaterThan(st.snrDb + 15);
  });

  it('chooseWeightBits leaves small layers and K shorter than a group at 8 bits', () => {
    expect(chooseWeightBits([784, 300], 1).bits).toBe(4);
    expect(chooseWeightBits([100, 10], 1)).toMatchObject({
      bits: 8,
      reason: expect.stringMatching(/1000 weights < 16384/),
    });
    expect(chooseWeightBits([32, 4096], 1)).toMatchObject({
      bits: 8,
      reason: expect.stringMatching(/K = 32 < group size 64/),
    });
    expect(chooseWeightBits([32, 4096], 1, { groupSize: 32 }).bits).toBe(4);
  });
});
