// The fast quantize paths (AVX-512: fl32(x · fl32(1/scale) + zp) checked against the nearest
// half-integer, division only near one; rows of ≤ 64 values 16 rows at a time; the float32
// dequantize epilogue with masked column tails) against scheme.ts, bit for bit, on the inputs
// that would expose a wrong shortcut: values a few ulps around every tie, scales at the edges
// of the range where 1/scale is a normal number, row lengths around the vector and block
// sizes, and GEMM column counts around the 16-lane blocks. Every path this machine runs is
// checked (the ref path too: scheme.ts is the independent statement).
import { describe, expect, it } from 'vitest';
import { dynamicGemm, packWeights } from '../src/kernels/gemm.js';
import { dynamicQuantizeU8, quantize } from '../src/kernels/quantize.js';
import { supportedIsas } from '../src/native/cpu.js';
import * as S from '../src/quant/scheme.js';
import { forEachIsa } from './ops/helpers.js';
import { firstDiff, rng } from './support/kernel-paths.js';

const ISAS = supportedIsas();

const f32 = Math.fround;
/** The float32 `steps` ulps away from v (v a float32, steps small). */
function ulps(v: number, steps: number): number {
  const b = new Float32Array([v]);
  const u = new Int32Array(b.buffer);
  if (v === 0) return steps === 0 ? 0 : f32(Math.sign(steps) * 1e-45 * Math.abs(steps));
  u[0] = u[0]! + (v > 0 ? steps : -steps);
  return b[0]!;
}

/** Values within a few ulps of (j + 0.5)·scale and of j·scale, across and beyond [qmin, qmax]. */
function nearTies(n: number, scale: number, zp: number, qmin: number, qmax: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const j = Math.floor(qmin - zp - 4 + r() * (qmax - qmin + 8));
    const base = f32((j + (r() < 0.8 ? 0.5 : 0)) * scale);
    x[i] = r() < 0.02 ? [NaN, Infinity, -Infinity, -0][i % 4]! : ulps(base, Math.floor(r() * 9) - 4);
  }
  return x;
}

describe('quantize per tensor near ties and at the scale edges', () => {
  // 2^-126 and 2^126 bound the scales whose reciprocal is used; beyond them the division runs.
  const scales = [
    0.1,
    1 / 3,
    0.0078125,
    3.7e-5,
    2 ** -126,
    ulps(2 ** -126, -1),
    2 ** 126,
    ulps(2 ** 126, 1),
    1e-40,
    3e38,
  ];
  for (const type of ['uint8', 'int8'] as const) {
    it(`${type}: ${scales.length} scales × 4 zero points, 1000 values each`, () => {
      const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
      scales.forEach((scale0, si) => {
        const scale = f32(scale0);
        for (const zp of type === 'uint8' ? [0, 1, 128, 255] : [-128, -1, 0, 127]) {
          const x = nearTies(1000, scale, zp, qmin, qmax, si * 31 + zp);
          const want = S.quantizeArray(x, S.perTensorLayout(x.length), [scale], [zp], qmin, qmax);
          forEachIsa((isa) => {
            const got = quantize(x, type, { scale, zeroPoint: zp });
            expect(firstDiff(got, want), `${isa} scale ${scale} zp ${zp}`).toBe('');
          });
        }
      });
    });
  }
});

describe('dynamicQuantizeU8 per row: row lengths around the vector and block sizes', () => {
  for (const k of [1, 15, 16, 17, 27, 48, 63, 64, 65, 127, 300, 512, 513, 600]) {
    it(`k=${k}`, () => {
      const r = rng(k);
      const m = 37; // two blocks of 16 rows and a partial one
      const x = new Float32Array(m * k);
      for (let i = 0; i < m; i++) {
        // Row ranges chosen so that many values sit on or next to a tie of the row's scale.
        const hi = f32(0.5 + r() * 8),
          lo = f32(-r() * 3);
        const p = S.chooseParams('asymmetricU8', lo, hi);
        const row = nearTies(k, p.scale, p.zeroPoint, 0, 255, i * k);
        for (let j = 0; j < k; j++) x[i * k + j] = Math.min(hi, Math.max(lo, row[j]!));
        if (k > 2) {
          x[i * k] = lo; // the range is exactly [lo, hi]
          x[i * k + 1] = hi;
        }
        if (i % 9 === 4) x[i * k + (i % k)] = [NaN, Infinity, -Infinity][i % 3]!;
      }
      const want = S.dynamicQuantizeU8(x, m, k, true);
      forEachIsa((isa) => {
        const got = dynamicQuantizeU8(x, m, k, true);
        expect(firstDiff(got.q, want.q), `${isa} q`).toBe('');
        expect([...got.scale], `${isa} scales`).toEqual(want.params.map((p) => p.scale));
        expect([...got.zeroPoint], `${isa} zero points`).toEqual(want.params.map((p) => p.zeroPoint));
      });
    });
  }
});

describe('dynamicQuantizeU8 per row: values spread over the row range', () => {
  // Rows whose 64-value blocks hold no value near a tie take the packed-store path of finite
  // ranges (AVX-512); rows at the ends of the range, of one sign, of zeros and of huge or
  // tiny magnitudes reach the bounds of its saturating packs.
  for (const k of [64, 128, 576, 600]) {
    it(`k=${k}`, () => {
      const r = rng(1000 + k);
      const rows: [number, number][] = [
        [-3, 5],
        [0, 7],
        [-2, 0],
        [0, 0],
        [-1e-30, 3e-30],
        [-0.1, 2000],
      ];
      const m = 40;
      const x = new Float32Array(m * k);
      for (let i = 0; i < m; i++) {
        // A range too wide for a finite scale (the fallback scale 1) and one whose scale is
        // subnormal, in the last group only: each sends its group of 16 rows down the
        // clamping path.
        const [lo, hi] = i === m - 3 ? [-3e38, 1e38] : i === m - 5 ? [-1e-38, 1e-38] : rows[i % rows.length]!;
        for (let j = 0; j < k; j++) x[i * k + j] = f32(lo + r() * (hi - lo));
        x[i * k + (i % k)] = f32(lo);
        x[i * k + ((i + 7) % k)] = f32(hi);
      }
      const want = S.dynamicQuantizeU8(x, m, k, true);
      forEachIsa((isa) => {
        const got = dynamicQuantizeU8(x, m, k, true);
        expect(firstDiff(got.q, want.q), `${isa} q`).toBe('');
        expect([...got.scale], `${isa} scales`).toEqual(want.params.map((p) => p.scale));
      });
    });
  }
});

describe('dynamicGemm float32 epilogue: column counts around the 16-lane blocks', () => {
  it('n = 1…20, 31–33, 47, 70; per row and per tensor; relu6 with bias and clamp without', () => {
    const r = rng(5);
    const m = 50,
      k = 40;
    const x = Float32Array.from({ length: m * k }, () => (r() - 0.3) * 6);
    for (const n of [...Array.from({ length: 20 }, (_, i) => i + 1), 31, 32, 33, 47, 70]) {
      const b = Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127);
      const sw = Float32Array.from({ length: n }, () => 0.001 + 0.02 * r());
      const bias = Float32Array.from({ length: n }, () => r() - 0.5);
      const ref = packWeights(b, { k, n, isa: 'ref' });
      for (const isa of ISAS.filter((i) => i !== 'ref')) {
        const p = packWeights(b, { k, n, isa });
        for (const perRow of [true, false]) {
          for (const o of [
            { activation: 'relu6' as const, biasF32: bias },
            { activation: { min: -0.25, max: 0.75 } as const },
          ]) {
            const opts = { m, perRow, wScales: sw, threads: 1, ...o };
            const want = dynamicGemm(x, ref, opts);
            expect(firstDiff(dynamicGemm(x, p, opts), want), `${isa} n=${n} perRow=${perRow}`).toBe('');
          }
        }
        p.dispose();
      }
      ref.dispose();
    }
  });
});
