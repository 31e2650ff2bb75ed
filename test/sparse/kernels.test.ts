// Sparse kernels (native/sparse) against independent references: float32 against a float64
// dense product (error ≤ 1e-5 · Σ|x·w| per output), int8 against the dense int8 GEMM with the
// same epilogue, bit for bit. Every format (CSC, 2:4, blocks), both paths (ref, avx2 when
// available), M = 1 and more, odd K, N off the tile width, empty rows/columns, 0% and 100%.
import { describe, expect, it } from 'vitest';
import { gemm, packWeights } from '../../src/kernels/gemm.js';
import { rng } from '../support/model-fixtures.js';
import { supportedIsas } from '../../src/native/cpu.js';
import {
  analyzeSparsity,
  packSparse,
  sparseMatmul,
  sparseMatmulInt8,
  type PackSparseOptions,
} from '../../src/sparse/index.js';

const ISAS = supportedIsas().includes('avx2') ? (['ref', 'avx2'] as const) : (['ref'] as const);

type Pattern = 'random' | 'nm24' | [number, number];

/** A K×N keep-mask (row-major [k][n]) with the given structure and about `sparsity` zeros. */
function mask(k: number, n: number, pattern: Pattern, sparsity: number, r: () => number): Uint8Array {
  const m = new Uint8Array(k * n);
  if (pattern === 'random') {
    for (let i = 0; i < m.length; i++) m[i] = r() >= sparsity ? 1 : 0;
  } else if (pattern === 'nm24') {
    for (let g = 0; g < k; g += 4) {
      for (let j = 0; j < n; j++) {
        const rows = [0, 1, 2, 3].filter((t) => g + t < k).sort(() => r() - 0.5);
        const keep = sparsity >= 1 ? 0 : sparsity > 0.5 ? 1 : 2;
        for (const t of rows.slice(0, keep)) m[(g + t) * n + j] = 1;
      }
    }
  } else {
    const [br, bc] = pattern;
    for (let k0 = 0; k0 < k; k0 += br) {
      for (let n0 = 0; n0 < n; n0 += bc) {
        if (r() < sparsity) continue;
        for (let kk = k0; kk < Math.min(k, k0 + br); kk++)
          for (let j = n0; j < Math.min(n, n0 + bc); j++) m[kk * n + j] = 1;
      }
    }
  }
  return m;
}

function floatWeights(k: number, n: number, keep: Uint8Array, r: () => number): Float32Array {
  return Float32Array.from({ length: k * n }, (_, i) => (keep[i] ? (r() - 0.5) * 2 || 0.25 : 0));
}
function int8Weights(k: number, n: number, keep: Uint8Array, r: () => number): Int8Array {
  return Int8Array.from({ length: k * n }, (_, i) => (keep[i] ? Math.floor(r() * 254) - 127 || 1 : 0));
}

function checkFloat(x: Float32Array, w: Float32Array, y: Float32Array, m: number, k: number, n: number): void {
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0,
        mag = 0;
      for (let kk = 0; kk < k; kk++) {
        const p = x[i * k + kk]! * w[kk * n + j]!;
        s += p;
        mag += Math.abs(p);
      }
      worst = Math.max(worst, Math.abs(y[i * n + j]! - s) / Math.max(mag, 1e-30));
    }
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
}

function denseInt8(
  x: Int8Array,
  w: Int8Array,
  m: number,
  k: number,
  n: number,
  o: { za: number; zo: number; bias: Int32Array; mult: Float32Array; qmin: number; qmax: number },
): Int8Array {
  const p = packWeights(w, { k, n });
  const perTensor = o.mult.length === 1 && n !== 1;
  const y = gemm(x, p, {
    m,
    aZeroPoint: o.za,
    output: 'int8',
    bias: o.bias,
    outZeroPoint: o.zo,
    clamp: [o.qmin, o.qmax],
    ...(perTensor ? { multiplier: o.mult[0]! } : { multipliers: o.mult }),
  });
  p.dispose();
  return y as Int8Array;
}

const FORMATS: { name: string; pattern: Pattern; pack: Omit<PackSparseOptions, 'k' | 'n'> }[] = [
  { name: 'csc', pattern: 'random', pack: { format: 'csc' } },
  { name: '2:4', pattern: 'nm24', pack: { format: '2:4' } },
  { name: 'block 4×4', pattern: [4, 4], pack: { format: 'block', block: [4, 4] } },
  { name: 'block 1×4', pattern: [1, 4], pack: { format: 'block', block: [1, 4] } },
  { name: 'block 4×1', pattern: [4, 1], pack: { format: 'block', block: [4, 1] } },
  { name: 'block 1×8', pattern: [1, 8], pack: { format: 'block', block: [1, 8] } },
  { name: 'block 8×1', pattern: [8, 1], pack: { format: 'block', block: [8, 1] } },
  { name: 'block 2×4', pattern: [2, 4], pack: { format: 'block', block: [2, 4] } },
  { name: 'block 2×1', pattern: [2, 1], pack: { format: 'block', block: [2, 1] } },
  { name: 'auto on random', pattern: 'random', pack: { format: 'auto' } },
];
// [m, k, n]: M = 1, odd K, N off every panel width, K below one group/block.
const SHAPES: [number, number, number][] = [
  [1, 37, 29],
  [5, 64, 13],
  [17, 131, 40],
  [3, 3, 9],
  [1, 8, 1],
  [6, 300, 100],
  [9, 50, 21],
];
const SPARSITIES = [0, 0.5, 0.9, 1];

describe.each(FORMATS)('$name', ({ pattern, pack }) => {
  it.each(ISAS)('float32 = float64 dense product (1e-5 of Σ|x·w|), %s', (isa) => {
    const r = rng(11);
    for (const [m, k, n] of SHAPES) {
      for (const s of SPARSITIES) {
        const w = floatWeights(k, n, mask(k, n, pattern, s, r), r);
        const x = Float32Array.from({ length: m * k }, () => r() * 4 - 2);
        const p = packSparse(w, { k, n, isa, ...pack });
        checkFloat(x, w, sparseMatmul(x, p, { m }), m, k, n);
        p.dispose();
      }
    }
  });

  it.each(ISAS)('int8 = dense int8 GEMM bit for bit, %s', (isa) => {
    const r = rng(23);
    for (const [m, k, n] of SHAPES) {
      for (const s of SPARSITIES) {
        const w = int8Weights(k, n, mask(k, n, pattern, s, r), r);
        const x = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
        const o = {
          za: Math.floor(r() * 256) - 128,
          zo: Math.floor(r() * 40) - 20,
          bias: Int32Array.from({ length: n }, () => Math.floor(r() * 20000) - 10000),
          mult: Float32Array.from({ length: n }, () => 0.0005 + r() * 0.004),
          qmin: r() < 0.5 ? -128 : -20,
          qmax: 127,
        };
        const want = denseInt8(x, w, m, k, n, o);
        const p = packSparse(w, { k, n, isa, ...pack });
        const got = sparseMatmulInt8(x, p, {
          m,
          aZeroPoint: o.za,
          bias: o.bias,
          multipliers: o.mult,
          outZeroPoint: o.zo,
          qmin: o.qmin,
          qmax: o.qmax,
        });
        expect(Array.from(got)).toEqual(Array.from(want));
        // Per-tensor multiplier, no bias.
        const want2 = denseInt8(x, w, m, k, n, { ...o, bias: new Int32Array(n), mult: Float32Array.of(o.mult[0]!) });
        expect(
          Array.from(
            sparseMatmulInt8(x, p, {
              m,
              aZeroPoint: o.za,
              multipliers: o.mult[0]!,
              outZeroPoint: o.zo,
              qmin: o.qmin,
              qmax: o.qmax,
            }),
          ),
        ).toEqual(Array.from(want2));
        p.dispose();
      }
    }
  });
});

describe('sparse kernels', () => {
  it('empty rows and columns of W, and whole-W zero, with M rows spanning thread chunks', () => {
    const r = rng(5);
    const [m, k, n] = [70, 97, 53];
    const keep = mask(k, n, 'random', 0.6, r);
    for (let kk = 0; kk < k; kk += 3) for (let j = 0; j < n; j++) keep[kk * n + j] = 0; // empty rows
    for (let j = 0; j < n; j += 4) for (let kk = 0; kk < k; kk++) keep[kk * n + j] = 0; // empty columns
    const wf = floatWeights(k, n, keep, r);
    const wi = int8Weights(k, n, keep, r);
    const xf = Float32Array.from({ length: m * k }, () => r() - 0.5);
    const xi = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
    const o = {
      za: -7,
      zo: 3,
      bias: Int32Array.from({ length: n }, (_, j) => j * 37 - 900),
      mult: Float32Array.from({ length: n }, () => 0.003),
      qmin: -128,
      qmax: 127,
    };
    const want = denseInt8(xi, wi, m, k, n, o);
    for (const isa of ISAS) {
      for (const threads of [1, 2]) {
        const pf = packSparse(wf, { k, n, isa, format: 'csc' });
        checkFloat(xf, wf, sparseMatmul(xf, pf, { m, threads }), m, k, n);
        const pi = packSparse(wi, { k, n, isa, format: 'csc' });
        expect(
          Array.from(
            sparseMatmulInt8(xi, pi, {
              m,
              aZeroPoint: o.za,
              bias: o.bias,
              multipliers: o.mult,
              outZeroPoint: o.zo,
              threads,
            }),
          ),
        ).toEqual(Array.from(want));
      }
    }
  });

  it('two threads give exactly the one-thread results (products big enough to be split)', () => {
    const r = rng(17);
    const [k, n] = [300, 200];
    for (const { pattern, pack } of FORMATS) {
      for (const m of [1, 7, 130]) {
        const keep = mask(k, n, pattern, 0.6, r);
        const wf = floatWeights(k, n, keep, r),
          wi = int8Weights(k, n, keep, r);
        const xf = Float32Array.from({ length: m * k }, () => r() - 0.5);
        const xi = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
        const pf = packSparse(wf, { k, n, ...pack }),
          pi = packSparse(wi, { k, n, ...pack });
        expect(Array.from(sparseMatmul(xf, pf, { m, threads: 2 }))).toEqual(
          Array.from(sparseMatmul(xf, pf, { m, threads: 1 })),
        );
        const o = { m, aZeroPoint: 3, multipliers: 0.002, outZeroPoint: -1 };
        expect(Array.from(sparseMatmulInt8(xi, pi, { ...o, threads: 2 }))).toEqual(
          Array.from(sparseMatmulInt8(xi, pi, { ...o, threads: 1 })),
        );
        pf.dispose();
        pi.dispose();
      }
    }
  });

  it('ref and avx2 paths give the same int8 results, float within rounding', () => {
    if (ISAS.length < 2) return;
    const r = rng(9);
    const [m, k, n] = [9, 200, 77];
    const w = floatWeights(k, n, mask(k, n, [4, 4], 0.8, r), r);
    const x = Float32Array.from({ length: m * k }, () => r() - 0.5);
    const a = sparseMatmul(x, packSparse(w, { k, n, isa: 'ref' }), { m });
    const b = sparseMatmul(x, packSparse(w, { k, n, isa: 'avx2' }), { m });
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a[i]!)));
    for (const pattern of ['random', 'nm24', [4, 4], [1, 8], [4, 1]] as Pattern[]) {
      const wi = int8Weights(k, n, mask(k, n, pattern, pattern === 'nm24' ? 0.5 : 0.8, r), r);
      const xi = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
      const o = { m, aZeroPoint: -9, multipliers: 0.003, outZeroPoint: 4 };
      expect(Array.from(sparseMatmulInt8(xi, packSparse(wi, { k, n, isa: 'ref' }), o))).toEqual(
        Array.from(sparseMatmulInt8(xi, packSparse(wi, { k, n, isa: 'avx2' }), o)),
      );
    }
  });

  it('analyzeSparsity finds 2:4, block shapes and unstructured sparsity; packing follows it', () => {
    const r = rng(3);
    const [k, n] = [128, 64];
    const nm = analyzeSparsity(floatWeights(k, n, mask(k, n, 'nm24', 0.5, r), r), { k, n });
    expect(nm).toMatchObject({ nm24: true, format: '2:4' });
    expect(nm.sparsity).toBeCloseTo(0.5, 5);
    const b44 = floatWeights(k, n, mask(k, n, [4, 4], 0.75, r), r);
    expect(analyzeSparsity(b44, { k, n })).toMatchObject({ format: 'block', blockRows: 4, blockCols: 4 });
    expect(packSparse(b44, { k, n }).info).toMatchObject({
      format: 'block',
      blockRows: 4,
      blockCols: 4,
      dtype: 'float32',
    });
    const b41 = int8Weights(k, n, mask(k, n, [4, 1], 0.9, r), r);
    expect(analyzeSparsity(b41, { k, n })).toMatchObject({ format: 'block', blockRows: 4, blockCols: 1 });
    const rnd = analyzeSparsity(floatWeights(k, n, mask(k, n, 'random', 0.9, r), r), { k, n });
    expect(rnd).toMatchObject({ format: 'csc', nm24: false, blockRows: 1, blockCols: 1 });
    const zeros = analyzeSparsity(new Int8Array(k * n), { k, n });
    expect(zeros).toMatchObject({ nnz: 0, sparsity: 1 });
  });

  it('bad input: clear TypeError / RangeError before (or instead of) native work', () => {
    const w = new Float32Array(12);
    w[0] = 1;
    const p = packSparse(w, { k: 3, n: 4 });
    expect(() => packSparse([1, 2] as unknown as Float32Array, { k: 1, n: 2 })).toThrow(TypeError);
    expect(() => packSparse(w, { k: 4, n: 4 })).toThrow(RangeError);
    expect(() => packSparse(w, { k: 0, n: 12 })).toThrow(RangeError);
    expect(() => packSparse(w, { k: 3, n: 4, format: 'ell' as 'csc' })).toThrow(RangeError);
    expect(() => packSparse(w, { k: 3, n: 4, format: 'block', block: [3, 4] })).toThrow(RangeError);
    expect(() => packSparse(w, { k: 3, n: 4, format: 'block', block: [1, 1] })).toThrow(RangeError);
    expect(() =>
      packSparse(
        Float32Array.from({ length: 12 }, () => 1),
        { k: 3, n: 4, format: '2:4' },
      ),
    ).toThrow(/not 2:4/);
    expect(() => sparseMatmul(new Float32Array(5), p, { m: 2 })).toThrow(RangeError);
    expect(() => sparseMatmul(new Float64Array(6) as unknown as Float32Array, p, { m: 2 })).toThrow(TypeError);
    expect(() => sparseMatmul(new Float32Array(6), p, { m: -1 })).toThrow(RangeError);
    expect(() => sparseMatmulInt8(new Int8Array(6), p, { m: 2, multipliers: 1 })).toThrow(TypeError);
    const q = packSparse(new Int8Array(12), { k: 3, n: 4 });
    expect(() => sparseMatmulInt8(new Int8Array(6), q, { m: 2, multipliers: 0 })).toThrow(RangeError);
    expect(() => sparseMatmulInt8(new Int8Array(6), q, { m: 2, multipliers: new Float32Array(3) })).toThrow(RangeError);
    expect(() => sparseMatmulInt8(new Int8Array(6), q, { m: 2, multipliers: 1, aZeroPoint: 200 })).toThrow(RangeError);
    expect(() => sparseMatmulInt8(new Int8Array(6), q, { m: 2, multipliers: 1, bias: new Int32Array(3) })).toThrow(
      RangeError,
    );
    expect(() => sparseMatmul(new Float32Array(6), q as never, { m: 2 })).toThrow(TypeError);
    p.dispose();
    expect(() => sparseMatmul(new Float32Array(6), p, { m: 2 })).toThrow(/disposed/);
    expect(() => sparseMatmul(new Float32Array(6), {} as never, { m: 2 })).toThrow(TypeError);
    // NaN weights are stored nonzeros and propagate as in the dense product.
    const wn = new Float32Array(12);
    wn[1] = NaN;
    const y = sparseMatmul(Float32Array.of(1, 1, 1), packSparse(wn, { k: 3, n: 4 }), { m: 1 });
    expect(Number.isNaN(y[1])).toBe(true);
    expect(y[0]).toBe(0);
  });
});
