// Pooling kernels: MaxPool, AvgPool (padding not counted), Mean over H and W.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { avgPool, maxPool, meanHW } from '../../src/kernels/ops.js';
import { activationBounds } from '../../src/quant/scheme.js';
import {
  clampToRange,
  deq,
  expectClose,
  expectEqualArrays,
  finish,
  fl32,
  forEachIsa,
  paramsFor,
  randF,
  randInt,
  randQ,
  rng,
  tfPad,
} from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

type Pad = 'same' | 'valid' | [[number, number], [number, number]];
interface Case {
  xs: number[];
  k: [number, number];
  s: [number, number];
  d: [number, number];
  pad: Pad;
}

/** Visits the in-bounds window of every output: f(outIndexBase, list of input pixel offsets). */
function windows(xs: number[], c: Case, f: (outBase: number, pix: number[]) => void): number[] {
  const [N, H, W, C] = xs;
  const [oh, pt] = tfPad(H, c.k[0], c.s[0], c.d[0], c.pad === 'same' || c.pad === 'valid' ? c.pad : c.pad[0]);
  const [ow, pl] = tfPad(W, c.k[1], c.s[1], c.d[1], c.pad === 'same' || c.pad === 'valid' ? c.pad : c.pad[1]);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const pix: number[] = [];
        for (let ky = 0; ky < c.k[0]; ky++)
          for (let kx = 0; kx < c.k[1]; kx++) {
            const iy = oy * c.s[0] + ky * c.d[0] - pt,
              ix = ox * c.s[1] + kx * c.d[1] - pl;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) pix.push(((n * H + iy) * W + ix) * C);
          }
        f(((n * oh + oy) * ow + ox) * C, pix);
      }
  return [N, oh, ow, C];
}

const cases: Case[] = [
  { xs: [2, 9, 9, 19], k: [3, 3], s: [2, 2], d: [1, 1], pad: 'same' },
  // 70 channels: a full vector and a masked tail of the AVX-512 max kernels (16 floats, 64
  // bytes a vector); a 9×9 window has more taps (81) than they take, so the portable loops run.
  { xs: [1, 6, 7, 70], k: [2, 2], s: [2, 2], d: [1, 1], pad: 'same' },
  { xs: [1, 10, 10, 70], k: [9, 9], s: [1, 1], d: [1, 1], pad: 'valid' },
  { xs: [1, 7, 7, 64], k: [7, 7], s: [1, 1], d: [1, 1], pad: 'valid' },
  { xs: [1, 10, 8, 5], k: [2, 3], s: [3, 1], d: [1, 1], pad: 'same' },
  { xs: [3, 11, 12, 3], k: [4, 4], s: [4, 4], d: [1, 1], pad: 'same' },
  {
    xs: [1, 9, 9, 7],
    k: [3, 2],
    s: [1, 2],
    d: [2, 3],
    pad: [
      [1, 2],
      [0, 1],
    ],
  },
];

describe('MaxPool / AvgPool int8', () => {
  it('equal the naive formulas bit for bit on every ISA path', () => {
    const r = rng(10);
    cases.forEach((c, ci) => {
      for (const type of ['int8', 'uint8'] as const) {
        const x = randQ(
          r,
          type,
          c.xs.reduce((a, b) => a * b),
        );
        const xp = { scale: 0.02 + r() * 0.1, zeroPoint: type === 'int8' ? randInt(r, -50, 50) : randInt(r, 80, 170) };
        const yp = { scale: 0.02 + r() * 0.1, zeroPoint: type === 'int8' ? randInt(r, -50, 50) : randInt(r, 80, 170) };
        const act = (['none', 'relu', 'relu6'] as const)[ci % 3];
        const [lo, hi] = activationBounds(type, yp.zeroPoint, fl32(yp.scale), act);
        const [mlo, mhi] = activationBounds(type, xp.zeroPoint, fl32(xp.scale), act);
        const C = c.xs[3];
        const wantMax: number[] = [],
          wantAvg: number[] = [];
        const m = fl32(fl32(xp.scale) / fl32(yp.scale));
        windows(c.xs, c, (base, pix) => {
          for (let ch = 0; ch < C; ch++) {
            let mx = -Infinity,
              sum = 0;
            for (const p of pix) {
              mx = Math.max(mx, x[p + ch]);
              sum += x[p + ch] - xp.zeroPoint;
            }
            wantMax[base + ch] = Math.min(Math.max(mx, mlo), mhi);
            wantAvg[base + ch] = finish(fl32(fl32(sum) * fl32(m / pix.length)), yp.zeroPoint, lo, hi);
          }
        });
        const opts = { filterSize: c.k, strides: c.s, dilations: c.d, padding: c.pad };
        forEachIsa((isa) => {
          expectEqualArrays(
            maxPool(x, c.xs, { ...opts, xParams: xp, activation: act }).y,
            wantMax,
            `max ${ci} ${type} ${isa}`,
          );
          expectEqualArrays(
            avgPool(x, c.xs, { ...opts, xParams: xp, yParams: yp, activation: act }).y,
            wantAvg,
            `avg ${ci} ${type} ${isa}`,
          );
        });
      }
    });
  });

  it('match tfjs maxPool / avgPool (SAME excludes padding from the count) on dequantized values', () => {
    const r = rng(11);
    for (const c of cases.filter((k) => typeof k.pad === 'string' && k.d[0] === 1)) {
      const x = randQ(
        r,
        'int8',
        c.xs.reduce((a, b) => a * b),
      );
      const xp = { scale: 0.05, zeroPoint: -3 };
      const xf = tf.tensor4d(deq(x, xp.scale, xp.zeroPoint), c.xs as never);
      const pad = c.pad as 'same' | 'valid';
      const mx = maxPool(x, c.xs, { filterSize: c.k, strides: c.s, padding: pad }).y;
      expectClose(
        deq(mx, xp.scale, xp.zeroPoint),
        tf.maxPool(xf, c.k, c.s, pad).dataSync(),
        0,
        1e-6,
        'maxPool vs tfjs',
      );
      const ref = tf.avgPool(xf, c.k, c.s, pad).dataSync() as Float32Array;
      const yp = paramsFor('int8', Math.min(...ref), Math.max(...ref));
      const av = avgPool(x, c.xs, { filterSize: c.k, strides: c.s, padding: pad, xParams: xp, yParams: yp }).y;
      expectClose(
        deq(av, yp.scale, yp.zeroPoint),
        clampToRange(ref, yp.scale, yp.zeroPoint, -128, 127),
        0,
        yp.scale * 0.51 + 1e-6,
        'avgPool vs tfjs',
      );
    }
  });
});

describe('Mean over H, W', () => {
  it('equals the naive formula bit for bit and tfjs mean within a step', () => {
    const r = rng(12);
    for (const xs of [
      [1, 7, 7, 1024],
      [2, 5, 3, 70],
      [3, 1, 1, 9],
      [1, 13, 11, 64],
    ]) {
      for (const type of ['int8', 'uint8'] as const) {
        const x = randQ(
          r,
          type,
          xs.reduce((a, b) => a * b),
        );
        const xp = { scale: 0.04, zeroPoint: type === 'int8' ? 10 : 140 };
        const [N, H, W, C] = xs;
        const xf = tf.tensor4d(deq(x, xp.scale, xp.zeroPoint), xs as never);
        const ref = tf.mean(xf, [1, 2]).dataSync() as Float32Array;
        const yp = paramsFor(type, Math.min(...ref) * 1.5, Math.max(...ref) * 1.5);
        const f = fl32(fl32(fl32(xp.scale) / fl32(yp.scale)) / (H * W));
        const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
        const want: number[] = [];
        for (let n = 0; n < N; n++)
          for (let c = 0; c < C; c++) {
            let s = 0;
            for (let i = 0; i < H * W; i++) s += x[(n * H * W + i) * C + c] - xp.zeroPoint;
            want.push(finish(fl32(fl32(s) * f), yp.zeroPoint, lo, hi));
          }
        forEachIsa((isa) => {
          const { y, shape } = meanHW(x, xs, { xParams: xp, yParams: yp });
          expect(shape).toEqual([N, C]);
          expectEqualArrays(y, want, `mean ${xs} ${type} ${isa}`);
          expectClose(deq(y, yp.scale, yp.zeroPoint), ref, 0, yp.scale * 0.51 + 1e-6, 'mean vs tfjs');
        });
      }
    }
  });
});

describe('float32 pooling', () => {
  it('matches tfjs maxPool / avgPool / mean within 1e-5 relative', () => {
    const r = rng(13);
    for (const c of cases.filter((k) => typeof k.pad === 'string' && k.d[0] === 1)) {
      const x = randF(
        r,
        c.xs.reduce((a, b) => a * b),
        3,
      );
      const xt = tf.tensor4d(x, c.xs as never);
      const pad = c.pad as 'same' | 'valid';
      expectClose(
        maxPool(x, c.xs, { filterSize: c.k, strides: c.s, padding: pad }).y,
        tf.maxPool(xt, c.k, c.s, pad).dataSync(),
        1e-5,
        0,
        'maxPool f32',
      );
      expectClose(
        avgPool(x, c.xs, { filterSize: c.k, strides: c.s, padding: pad }).y,
        tf.avgPool(xt, c.k, c.s, pad).dataSync(),
        1e-5,
        1e-6,
        'avgPool f32',
      );
      expectClose(meanHW(x, c.xs).y, tf.mean(xt, [1, 2]).dataSync(), 1e-5, 1e-6, 'mean f32');
      // The vector kernels add and compare as the portable loops do: the same bits on every path.
      const opts = { filterSize: c.k, strides: c.s, padding: pad };
      const want = { max: maxPool(x, c.xs, opts).y, avg: avgPool(x, c.xs, opts).y };
      forEachIsa((isa) => {
        expectEqualArrays(maxPool(x, c.xs, opts).y, want.max, `maxPool f32 ${c.xs} ${isa}`);
        expectEqualArrays(avgPool(x, c.xs, opts).y, want.avg, `avgPool f32 ${c.xs} ${isa}`);
      });
    }
  });

  it("maxPool: ±Inf as tfjs; a NaN in a window gives NaN on every ISA path (the scalar loop's rule)", () => {
    const r = rng(14);
    const xs = [1, 6, 7, 20];
    const x = randF(
      r,
      xs.reduce((a, b) => a * b),
      3,
    );
    x[(2 * 7 + 2) * 20 + 5] = Infinity;
    for (const [i, j] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ])
      x[(i * 7 + j) * 20 + 11] = -Infinity;
    const want = tf.tidy(() => tf.maxPool(tf.tensor4d(x, xs as never), 2, 2, 'same').dataSync());
    // NaNs in the first, a middle and the last tap of three windows (tfjs's backends disagree on
    // NaN; this runtime keeps it, as the scalar loop always did).
    const xn = Float32Array.from(x);
    const nans = [3, (1 * 7 + 3) * 20 + 17, (5 * 7 + 6) * 20 + 8];
    for (const i of nans) xn[i] = NaN;
    const out = (i: number) =>
      (Math.floor(Math.floor(i / 20) / 7 / 2) * 4 + Math.floor((Math.floor(i / 20) % 7) / 2)) * 20 + (i % 20);
    forEachIsa((isa) => {
      const { y } = maxPool(x, xs, { filterSize: [2, 2], strides: [2, 2], padding: 'same' });
      expectEqualArrays(y, want, `maxPool ±Inf ${isa}`);
      const yn = maxPool(xn, xs, { filterSize: [2, 2], strides: [2, 2], padding: 'same' }).y;
      for (let i = 0; i < yn.length; i++) {
        const isNanOut = nans.some((k) => out(k) === i);
        if (isNanOut) expect(Number.isNaN(yn[i]!), `${isa} output ${i} is NaN`).toBe(true);
        else expect(yn[i], `${isa} output ${i}`).toBe(want[i]);
      }
    });
  });

  it('rejects bad arguments', () => {
    const x = new Int8Array(16);
    expect(() => avgPool(x, [1, 4, 4, 1], { filterSize: 2, padding: 'valid' })).toThrow(/xParams must be an object/);
    expect(() => maxPool(x, [1, 4, 4, 2], { filterSize: 2, padding: 'valid' })).toThrow(/x has 16 elements/);
    expect(() =>
      maxPool(x, [1, 4, 4, 1], {
        filterSize: 2,
        padding: [
          [2, 0],
          [0, 0],
        ],
      }),
    ).toThrow(/pads must be smaller than the window/);
    expect(() => meanHW(new Int32Array(4) as never, [1, 2, 2, 1])).toThrow(TypeError);
    expect(() => maxPool(x, [1, 4, 4, 1], { filterSize: 2, padding: 'valid', activation: 'relu' })).toThrow(
      /xParams is required/,
    );
  });
});
