// Native quantization kernels vs scheme.ts (the TypeScript statement of the scheme), bit for
// bit, on every kernel path this machine runs; plus round trips and argument errors.
import { describe, expect, it } from 'vitest';
import {
  channelMinMax,
  chooseChannelParams,
  chooseParams,
  chooseWeightParams,
  dequantize,
  dequantizeAsync,
  dynamicQuantizeU8,
  quantize,
  quantizeAsync,
  requantize,
  requantizeAsync,
  requantizeBounds,
  requantizeMultiplier,
  rescale,
} from '../src/kernels/quantize.js';
import * as S from '../src/quant/scheme.js';
import { forEachIsa } from './ops/helpers.js';
import { firstDiff, rng } from './support/kernel-paths.js';

const SPECIALS = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1e-45,
  -1e-45,
  1e-40,
  -1.17549435e-38,
  3.4028234e38,
  -3.4028234e38,
  1e30,
  -1e30,
];

/** Random float32 data around [lo, hi] with exact ties (x/scale = k + 0.5), specials and clamp edges. */
function makeData(n: number, seed: number, scale: number, zp: number, qmin: number, qmax: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    const k = Math.floor(qmin - zp - 3 + r() * (qmax - qmin + 6));
    if (u < 0.3)
      x[i] = (k + 0.5) * scale; // a tie (exact after the float32 division most of the time)
    else if (u < 0.35) x[i] = SPECIALS[Math.floor(r() * SPECIALS.length)];
    else if (u < 0.4)
      x[i] = k * scale; // exact integers, including the clamp edges
    else x[i] = (qmin - zp - 10 + r() * (qmax - qmin + 20)) * scale;
  }
  return x;
}

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

describe('quantize (§2): native equals scheme.ts on every path', () => {
  const cases: { type: 'int8' | 'uint8'; narrow: boolean; scale: number; zp: number }[] = [
    { type: 'int8', narrow: false, scale: 0.25, zp: 0 }, // power-of-two scale: every tie exact
    { type: 'int8', narrow: true, scale: S.fl32(0.0123), zp: 0 },
    { type: 'int8', narrow: false, scale: S.fl32(0.37), zp: -17 },
    { type: 'uint8', narrow: false, scale: S.fl32(2 / 255), zp: 127 },
    { type: 'uint8', narrow: false, scale: 3e-39, zp: 255 }, // subnormal scale
    { type: 'uint8', narrow: true, scale: 1024, zp: 1 },
  ];
  for (const n of [1, 31, 33, 1000, 100_003]) {
    it(`per tensor, n = ${n}`, () => {
      for (const [ci, c] of cases.entries()) {
        const [qmin, qmax] = S.qRange(c.type, c.narrow);
        const x = makeData(n, n * 7 + ci, c.scale, c.zp, qmin, qmax);
        const want = S.quantizeArray(x, S.perTensorLayout(n), [c.scale], [c.zp], qmin, qmax);
        forEachIsa((isa) => {
          const got = quantize(x, c.type, { scale: c.scale, zeroPoint: c.zp }, { narrowRange: c.narrow });
          expect(firstDiff(got, want), `${isa} ${JSON.stringify(c)}`).toBe('');
        });
      }
    });
  }

  it("per tensor: values a few ulps from ties get the division's result (the reciprocal fast path re-divides there)", () => {
    const r = rng(11);
    const f = new Float32Array(1),
      u = new Uint32Array(f.buffer);
    const nudge = (v: number, ulps: number) => {
      f[0] = v;
      u[0] += ulps;
      return f[0];
    }; // same sign: moves away from 0 for ulps > 0
    for (let t = 0; t < 60; t++) {
      const scale = S.fl32(2 ** (r() * 40 - 30) * (1 + r()));
      const zp = Math.floor(r() * 256) - 128;
      const n = 4099;
      const x = Float32Array.from({ length: n }, () => {
        const k = Math.floor(r() * 300) - 150;
        const tie = S.fl32((k + 0.5) * scale);
        return tie === 0 ? tie : nudge(tie, Math.floor(r() * 9) - 4);
      });
      const want = S.quantizeArray(x, S.perTensorLayout(n), [scale], [zp], -128, 127);
      forEachIsa((isa) => {
        expect(firstDiff(quantize(x, 'int8', { scale, zeroPoint: zp }), want), `${isa} scale ${scale}`).toBe('');
      });
    }
  });

  it('maps NaN to the zero point and ±Inf to the bounds', () => {
    const x = new Float32Array([NaN, Infinity, -Infinity, -0, 3e38, -3e38]);
    forEachIsa((isa) => {
      expect([...quantize(x, 'uint8', { scale: 0.1, zeroPoint: 9 })], isa).toEqual([9, 255, 0, 9, 255, 0]);
      expect([...quantize(x, 'int8', { scale: 0.1, zeroPoint: 0 }, { narrowRange: true })], isa).toEqual([
        0, 127, -127, 0, 127, -127,
      ]);
    });
  });

  it('round trip: |dequantize(quantize(x)) − x| ≤ scale/2 (+ float32 rounding) for in-range x', () => {
    const r = rng(5);
    for (const [type, scale, zp] of [
      ['int8', S.fl32(0.037), 3],
      ['uint8', S.fl32(1.7), 200],
    ] as const) {
      const [qmin, qmax] = S.qRange(type);
      const x = Float32Array.from({ length: 50_000 }, () => (qmin - zp + r() * (qmax - qmin)) * scale);
      forEachIsa(() => {
        const back = dequantize(quantize(x, type, { scale, zeroPoint: zp }), { scale, zeroPoint: zp });
        let worst = 0;
        for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(back[i] - x[i]) - scale / 2);
        // The two float32 roundings (x / scale, and (q − zp) × scale) may add a few ulps.
        expect(worst).toBeLessThanOrEqual(4 * 2 ** -23 * Math.max(...[qmin - zp, qmax - zp].map(Math.abs)) * scale);
      });
    }
  });
});

describe('per-channel quantize / dequantize / ranges (§5) along every axis', () => {
  const shapes = [[37], [5, 9], [3, 40], [2, 3, 64], [4, 1, 33], [3, 5, 7, 2], [2, 3, 4, 40], [300, 7, 50]];
  for (const shape of shapes) {
    it(`shape [${shape}]`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const r = rng(n);
      const x = Float32Array.from({ length: n }, () =>
        r() < 0.02 ? SPECIALS[Math.floor(r() * SPECIALS.length)] : (r() - 0.3) * 8,
      );
      for (let axis = 0; axis < shape.length; axis++) {
        const l = S.channelLayout(shape, axis);
        const C = l.channels;
        // Parameters per channel: random scales (ties at power-of-two ones), random zero points.
        const scales = Float32Array.from({ length: C }, (_, c) =>
          c % 3 === 0 ? 2 ** -(c % 5) : S.fl32(0.01 + r() * 0.1),
        );
        const zp8 = Int32Array.from({ length: C }, () => Math.floor(r() * 40) - 20);
        const zpu = Int32Array.from({ length: C }, () => Math.floor(r() * 256));
        const want8 = S.quantizeArray(x, l, scales, zp8, -128, 127);
        const wantU = S.quantizeArray(x, l, scales, zpu, 0, 255);
        const ranges = S.channelRanges(x, l);
        forEachIsa((isa) => {
          const tag = `${isa} axis ${axis}`;
          const q8 = quantize(x, 'int8', { scale: scales, zeroPoint: zp8 }, { shape, axis });
          expect(firstDiff(q8, want8), tag).toBe('');
          const qu = quantize(x, 'uint8', { scale: scales, zeroPoint: zpu }, { shape, axis });
          expect(firstDiff(qu, wantU), tag).toBe('');
          const d = dequantize(qu, { scale: scales, zeroPoint: zpu }, { shape, axis });
          expect(firstDiff(d, S.dequantizeArray(qu, l, scales, zpu)), tag).toBe('');
          const mm = channelMinMax(x, { shape, axis });
          expect(firstDiff(mm.lo, ranges.lo), tag).toBe('');
          expect(firstDiff(mm.hi, ranges.hi), tag).toBe('');
          for (const scheme of S.PARAM_SCHEMES) {
            const p = chooseChannelParams(x, scheme, { shape, axis });
            const w = S.chooseChannelParams(x, l, scheme);
            expect(
              firstDiff(
                p.scale,
                w.map((q) => q.scale),
              ),
              `${tag} ${scheme}`,
            ).toBe('');
            expect(
              firstDiff(
                p.zeroPoint,
                w.map((q) => q.zeroPoint),
              ),
              `${tag} ${scheme}`,
            ).toBe('');
          }
        });
      }
    });
  }

  it('per-channel weights follow the TF.js layouts, depthwise channel = i × multiplier + m', () => {
    const shape = [3, 3, 4, 2];
    const x = new Float32Array(72);
    // Channel (i, m) holds values of magnitude up to (i × 2 + m + 1).
    for (let j = 0; j < 72; j++) x[j] = ((j % 8) + 1) * (j % 3 === 0 ? -1 : 0.5);
    const p = chooseWeightParams(x, 'depthwiseConv2d', shape);
    expect([...p.scale]).toEqual(Array.from({ length: 8 }, (_, c) => S.fl32((c + 1) / 127)));
    expect([...p.zeroPoint]).toEqual(new Array(8).fill(0));
    const q = quantize(x, 'int8', p, { ...p.layout, narrowRange: true });
    for (let j = 0; j < 72; j++) expect(q[j]).toBe(x[j] < 0 ? -127 : S.rne(S.fl32(S.fl32(x[j]) / p.scale[j % 8])));
    const dense = chooseWeightParams(new Float32Array([1, -2, 3, -4, 5, -6]), 'dense', [3, 2]);
    expect([...dense.scale]).toEqual([S.fl32(5 / 127), S.fl32(6 / 127)]);
    expect(() => chooseWeightParams(new Float32Array(6), 'conv2d', [3, 2])).toThrow(/rank 4/);
  });
});

describe('dequantize int32, requantize (§7), rescale: native equals scheme.ts', () => {
  it('dequantizes int32 with a zero point (q − zp formed exactly, one rounding to float32)', () => {
    const r = rng(11);
    const q = Int32Array.from({ length: 5003 }, (_, i) =>
      i < 4 ? [2 ** 31 - 1, -(2 ** 31), 2 ** 24 + 1, 0][i] : (r() * 2 ** 32) | 0,
    );
    for (const [s, z] of [
      [S.fl32(1e-3), 0],
      [S.fl32(0.7), -(2 ** 31)],
      [1, 2 ** 31 - 1],
      [3e-39, 12345],
    ]) {
      const want = S.dequantizeArray(q, S.perTensorLayout(q.length), [s], [z]);
      forEachIsa((isa) => expect(firstDiff(dequantize(q, { scale: s, zeroPoint: z }), want), isa).toBe(''));
    }
  });

  it('requantizes int32 accumulators per tensor and per channel, with fused-activation bounds', () => {
    const r = rng(12);
    const M = 67,
      N = 19;
    const acc = Int32Array.from({ length: M * N }, (_, i) =>
      i % 97 === 0
        ? [2 ** 31 - 1, -(2 ** 31), 2 ** 24 + 1, -(2 ** 24) - 3][i % 4]
        : Math.round((r() - 0.5) * 2 ** (8 + 20 * r())),
    );
    const mults = Float32Array.from({ length: N }, (_, c) =>
      c === 0 ? 0.5 : requantizeMultiplier(S.fl32(0.02 * r() + 1e-3), S.fl32(0.01 * r() + 1e-4), S.fl32(0.05)),
    );
    for (const [type, zo, act] of [
      ['int8', -3, 'none'],
      ['int8', -128, 'relu6'],
      ['uint8', 7, 'relu'],
      ['uint8', 128, { min: -1, max: 2 }],
    ] as const) {
      const [lo, hi] = requantizeBounds(type, zo, 0.05, act);
      expect([lo, hi]).toEqual(S.activationBounds(type, zo, 0.05, act));
      const wantC = S.requantizeArray(acc, S.channelLayout([M, N], 1), mults, null, zo, lo, hi);
      const wantT = S.requantizeArray(acc, S.perTensorLayout(M * N), [mults[1]], null, zo, lo, hi);
      forEachIsa((isa) => {
        const got = requantize(acc, type, { multiplier: mults, outZeroPoint: zo, lo, hi }, { shape: [M, N], axis: 1 });
        expect(firstDiff(got, wantC), `${isa} ${type} ${JSON.stringify(act)}`).toBe('');
        const gotT = requantize(acc, type, { multiplier: mults[1], outZeroPoint: zo, lo, hi });
        expect(firstDiff(gotT, wantT), `${isa} per tensor`).toBe('');
      });
    }
  });

  it('rescales int8 ↔ uint8; equal scales shift exactly by the zero points', () => {
    const r = rng(13);
    const q8 = Int8Array.from({ length: 1001 }, () => Math.floor(r() * 256) - 128);
    forEachIsa((isa) => {
      const u = rescale(q8, { scale: 0.5, zeroPoint: -128 }, 'uint8', { scale: 0.5, zeroPoint: 0 });
      expect(
        firstDiff(
          u,
          Array.from(q8, (v) => v + 128),
        ),
        isa,
      ).toBe('');
      const back = rescale(u, { scale: 0.5, zeroPoint: 0 }, 'int8', { scale: 0.5, zeroPoint: -128 });
      expect(firstDiff(back, q8), isa).toBe('');
      const so = S.fl32(0.3);
      const mult = S.fl32(S.fl32(0.5) / so);
      const want = S.requantizeArray(q8, S.perTensorLayout(q8.length), [mult], [-5], 10, 0, 255);
      expect(
        firstDiff(rescale(q8, { scale: 0.5, zeroPoint: -5 }, 'uint8', { scale: so, zeroPoint: 10 }), want),
        isa,
      ).toBe('');
    });
  });
});

describe('choosing parameters and dynamic quantization (§4, §8)', () => {
  it('chooseParams equals scheme.ts on random and edge ranges', () => {
    const r = rng(21);
    const ranges: [number, number][] = [
      [0, 0],
      [-1, 1],
      [1e-45, 1e-45],
      [-3e38, 3e38],
      [-1e-40, 0],
      [0, 2.55],
      [-2.55, 0],
      [5, 7],
      [-7, -5],
    ];
    for (let i = 0; i < 300; i++) {
      const a = (r() - 0.7) * 10 ** (r() * 8 - 4),
        b = a + r() * 10 ** (r() * 8 - 4);
      ranges.push([a, b]);
    }
    forEachIsa(() => {
      for (const [lo, hi] of ranges)
        for (const scheme of S.PARAM_SCHEMES) {
          expect(chooseParams(scheme, lo, hi), `${scheme} [${lo}, ${hi}]`).toEqual(S.chooseParams(scheme, lo, hi));
        }
    });
  });

  it('dynamicQuantizeU8 per row: rows of every kind (batched parameter choice, 8 rows at a time)', () => {
    const r = rng(77);
    const kinds: ((j: number) => number)[] = [
      () => 0, // all zero: scale 1, zp 0
      () => r() * 5, // non-negative: zp 0
      () => -r() * 5, // non-positive: zp 255
      (j) => (j % 2 ? NaN : Infinity), // nothing finite
      (j) => (j % 2 ? 3.4028234e38 : -3.4028234e38), // the range overflows: scale 1
      (j) => (j % 3) * 1e-44, // subnormal range: scale 0 → 1
      () => (r() - 0.3) * 2 ** (r() * 60 - 30), // ordinary, any magnitude
      (j) => (j === 0 ? -1e-30 : 7), // zero point rounds from a tiny ratio
      // NaN among finite values and no ±Inf: a range taken without testing each value for
      // NaN must still leave it out.
      (j) => (j % 7 === 3 ? NaN : (r() - 0.4) * 3),
      // One ±Inf among finite values: left out of the range like NaN.
      (j) => (j === 2 ? -Infinity : j === 4 ? Infinity : (r() - 0.6) * 3),
      // A range so small that its scale is subnormal: no reciprocal, the true division.
      (j) => (j % 2 ? 1e-37 : -1e-37 * r()),
    ];
    for (const k of [1, 5, 27, 64, 100, 576]) {
      const m = 37;
      const x = new Float32Array(m * k);
      for (let i = 0; i < m; i++) {
        const kind = kinds[(i * 3) % kinds.length];
        for (let j = 0; j < k; j++) x[i * k + j] = kind(j);
      }
      const want = S.dynamicQuantizeU8(x, m, k, true);
      forEachIsa((isa) => {
        const got = dynamicQuantizeU8(x, m, k, true);
        expect(firstDiff(got.q, want.q), `${isa} k=${k}`).toBe('');
        expect([...got.scale], `${isa} k=${k}`).toEqual(want.params.map((p) => p.scale));
        expect([...got.zeroPoint], `${isa} k=${k}`).toEqual(want.params.map((p) => p.zeroPoint));
      });
    }
  });

  it('dynamicQuantizeU8: NaN left out of every range when no value is infinite', () => {
    // Rows with ±Inf make the native ranges test each value; these have NaN and none.
    const r = rng(78);
    for (const k of [5, 27, 64, 100, 576]) {
      const m = 35;
      const x = Float32Array.from({ length: m * k }, () => (r() < 0.05 ? NaN : (r() - 0.3) * 4));
      for (const perRow of [true, false]) {
        const want = S.dynamicQuantizeU8(x, m, k, perRow);
        forEachIsa((isa) => {
          const got = dynamicQuantizeU8(x, m, k, perRow);
          expect(firstDiff(got.q, want.q), `${isa} k=${k} perRow=${perRow}`).toBe('');
          expect([...got.scale], `${isa} k=${k}`).toEqual(want.params.map((p) => p.scale));
          expect([...got.zeroPoint], `${isa} k=${k}`).toEqual(want.params.map((p) => p.zeroPoint));
        });
      }
    }
  });

  for (const [m, k] of [
    [1, 1],
    [3, 7],
    [17, 33],
    [64, 1000],
    [4, 40_000],
  ]) {
    it(`dynamicQuantizeU8 ${m}×${k}, per row and per tensor`, () => {
      const r = rng(m * k);
      const x = Float32Array.from({ length: m * k }, (_, i) =>
        r() < 0.01 ? SPECIALS[i % SPECIALS.length] : (r() - 0.2) * (1 + (i % 5)),
      );
      for (const perRow of [true, false]) {
        const want = S.dynamicQuantizeU8(x, m, k, perRow);
        forEachIsa((isa) => {
          const got = dynamicQuantizeU8(x, m, k, perRow);
          expect(firstDiff(got.q, want.q), `${isa} perRow=${perRow}`).toBe('');
          expect([...got.scale]).toEqual(want.params.map((p) => p.scale));
          expect([...got.zeroPoint]).toEqual(want.params.map((p) => p.zeroPoint));
        });
      }
    });
  }
});

describe('async variants', () => {
  it('give the same bits as the sync calls on a large array', async () => {
    const x = makeData(300_001, 3, 0.05, 3, -128, 127);
    const s = { scale: 0.05, zeroPoint: 3 };
    const q = quantize(x, 'int8', s);
    expect(firstDiff(await quantizeAsync(x, 'int8', s), q)).toBe('');
    const d = dequantize(q, s);
    expect(firstDiff(bitsOf(await dequantizeAsync(q, s)), bitsOf(d))).toBe('');
    const acc = Int32Array.from(q, (v) => v * 1000);
    const p = { multiplier: 0.001, outZeroPoint: 0 };
    expect(firstDiff(await requantizeAsync(acc, 'int8', p), requantize(acc, 'int8', p))).toBe('');
  });
});

describe('bad arguments raise clear errors', () => {
  const x = new Float32Array(6);
  it('wrong kinds are TypeErrors naming the argument', () => {
    expect(() => quantize([1, 2] as never, 'int8', { scale: 1, zeroPoint: 0 })).toThrow(/x must be a Float32Array/);
    expect(() => quantize(x, 'int16' as never, { scale: 1, zeroPoint: 0 })).toThrow(/type must be one of/);
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0.5 })).toThrow(TypeError);
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0 }, { out: new Uint8Array(6) as never })).toThrow(
      /out must be a Int8Array/,
    );
    expect(() => dequantize(new Uint16Array(3) as never, { scale: 1, zeroPoint: 0 })).toThrow(/q must be an Int8Array/);
    expect(() => requantize(new Int32Array(3), 'int8', { multiplier: 1, inZeroPoint: 0, outZeroPoint: 0 })).toThrow(
      /inZeroPoint must be absent/,
    );
    expect(() => requantize(new Int8Array(3), 'int8', { multiplier: 1, outZeroPoint: 0 })).toThrow(
      /inZeroPoint is required/,
    );
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0 }, { axis: 0 })).toThrow(/shape is required/);
  });
  it('wrong sizes and values are RangeErrors naming the argument', () => {
    expect(() => quantize(x, 'int8', { scale: 0, zeroPoint: 0 })).toThrow(/scale\[0\] must be > 0/);
    expect(() => quantize(x, 'int8', { scale: NaN, zeroPoint: 0 })).toThrow(/scale\[0\] must be finite/);
    expect(() => quantize(x, 'int8', { scale: 1e-50, zeroPoint: 0 })).toThrow(/not a finite float32 > 0/);
    expect(() => quantize(x, 'uint8', { scale: 1, zeroPoint: 256 })).toThrow(/zeroPoint\[0\] must be in \[0, 255\]/);
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: -128 }, { narrowRange: true })).toThrow(
      /zeroPoint\[0\] must be in \[-127, 127\]/,
    );
    expect(() => quantize(x, 'int8', { scale: [1, 2], zeroPoint: [0, 0] }, { shape: [2, 3], axis: 1 })).toThrow(
      /scale has 2 elements, expected 3/,
    );
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0 }, { shape: [4, 2], axis: 1 })).toThrow(
      /shape \[4, 2\] has 8 elements/,
    );
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0 }, { shape: [2, 3], axis: 2 })).toThrow(
      /axis must be in/,
    );
    expect(() => quantize(x, 'int8', { scale: 1, zeroPoint: 0 }, { out: new Int8Array(5) })).toThrow(
      /out has 5 elements, expected 6/,
    );
    const buf = new ArrayBuffer(24);
    expect(() =>
      quantize(new Float32Array(buf), 'int8', { scale: 1, zeroPoint: 0 }, { out: new Int8Array(buf, 0, 6) }),
    ).toThrow(/must not overlap/);
    expect(() => requantize(new Int32Array(3), 'uint8', { multiplier: 1, outZeroPoint: 0, lo: 10, hi: 5 })).toThrow(
      /hi must be in \[10, 255\]/,
    );
    expect(() => requantizeBounds('uint8', 0, 1, { min: 2, max: 1 })).toThrow(/activation.min/);
    expect(() => chooseParams('asymmetricU8', 2, 1)).toThrow(/lo \(2\) must be <= hi \(1\)/);
    expect(() => chooseParams('asymmetricU8', -Infinity, 1)).toThrow(/lo must be finite/);
    expect(() => chooseParams('minmax' as never, 0, 1)).toThrow(/scheme must be one of/);
    expect(() => dynamicQuantizeU8(x, 4, 2)).toThrow(/expected m × k = 8/);
  });
  it('the native layer checks again and never crashes on bad input', async () => {
    const { native } = await import('../src/native/binding.js');
    const b = native();
    const s = new Float32Array([1]),
      z = new Int32Array([0]);
    const layout = { outer: 1, channels: 1, inner: 6 };
    const q = (over: Record<string, unknown> = {}) => ({
      ...layout,
      scales: s,
      zeroPoints: z,
      qmin: -128,
      qmax: 127,
      ...over,
    });
    expect(() => b.quantize(x, new Int8Array(6), q({ inner: 5 }))).toThrow(/does not match x length 6/);
    expect(() => b.quantize(x, new Int16Array(6) as never, q())).toThrow(/out must be an Int8Array or Uint8Array/);
    expect(() => b.quantize(x, new Int8Array(6), q({ scales: new Float32Array([-1]) }))).toThrow(
      /scales\[0\] must be a finite number > 0/,
    );
    expect(() => b.quantize(x, new Int8Array(6), q({ zeroPoints: new Int32Array([200]) }))).toThrow(
      /zeroPoints\[0\] = 200 is outside/,
    );
    expect(() => b.quantize(x, new Int8Array(6), q({ qmin: 5, qmax: 4 }))).toThrow(/qmax must be in/);
    expect(() => b.dequantize(new Int8Array(6), new Float32Array(5), q())).toThrow(/out has 5 elements/);
    expect(() =>
      b.requantize(new Int32Array(6), new Int8Array(6), {
        ...layout,
        multipliers: s,
        inZeroPoints: z,
        outZeroPoint: 0,
        lo: -128,
        hi: 127,
      }),
    ).toThrow(/inZeroPoints must be null/);
    expect(() => b.quantizeAsync(x, new Int8Array(6), q({ outer: 2 }))).toThrow(/= 12 does not match x length 6/);
    expect(() =>
      b.dynamicQuantizeU8(x, new Uint8Array(6), new Float32Array(1), new Int32Array(2), { m: 2, k: 3, perRow: true }),
    ).toThrow(/scales has 1 elements, expected 2/);
    expect(() => b.chooseParams({ scheme: 'x' as never, lo: 0, hi: 1 })).toThrow(/scheme must be/);
  });
});
