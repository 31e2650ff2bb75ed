// The native ops binding re-checks everything: bad calls that bypass src/kernels/ops.ts get a
// JS error naming the problem, never a crash or an out-of-bounds access.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/binding.js';

const geom = {
  batch: 1,
  inHeight: 4,
  inWidth: 4,
  inChannels: 2,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  dilationHeight: 1,
  dilationWidth: 1,
  padTop: 1,
  padBottom: 1,
  padLeft: 1,
  padRight: 1,
  outHeight: 4,
  outWidth: 4,
};
const q = {
  multiplier: 1,
  xZeroPoint: 0,
  multipliers: new Float32Array(2).fill(0.1),
  yZeroPoint: 0,
  yMin: -128,
  yMax: 127,
};

describe('native ops binding validation', () => {
  it('rejects wrong types, lengths, ranges and overlaps with TypeError / RangeError', () => {
    const b = native();
    const x = new Int8Array(32),
      f = new Int8Array(18),
      y = new Int8Array(32);
    expect(() => b.opsDepthwiseConv2d(geom, x, f, y, { q })).not.toThrow();
    expect(() => b.opsDepthwiseConv2d(geom, new Int8Array(31), f, y, { q })).toThrow(/x has 31 elements, expected 32/);
    expect(() => b.opsDepthwiseConv2d(geom, x, new Int8Array(17), y, { q })).toThrow(RangeError);
    expect(() => b.opsDepthwiseConv2d(geom, x, f, new Uint8Array(32), { q })).toThrow(
      /y must have the same element type/,
    );
    expect(() =>
      b.opsDepthwiseConv2d(geom, x, f, y, { q: { ...q, multipliers: new Float32Array([0.1, NaN]) } }),
    ).toThrow(/multipliers\[1\]/);
    expect(() => b.opsDepthwiseConv2d(geom, x, f, y, { q: { ...q, yMin: 5, yMax: 4 } })).toThrow(
      /yMin must be <= yMax/,
    );
    expect(() => b.opsDepthwiseConv2d({ ...geom, strideHeight: 0 }, x, f, y, { q })).toThrow(/strideHeight/);
    expect(() => b.opsDepthwiseConv2d({ ...geom, padTop: -1 }, x, f, y, { q })).toThrow(/padTop/);
    expect(() => b.opsDepthwiseConv2d(geom, x, f, x, { q })).toThrow(/must not overlap/);
    expect(() => b.opsDepthwiseConv2d(null as never, x, f, y, { q })).toThrow(TypeError);
    expect(() => b.opsDepthwiseConv2d({ ...geom, inHeight: 2 ** 31 }, x, f, y, { q })).toThrow(/inHeight/);
    expect(() =>
      b.opsPool({ ...geom, padTop: 3 }, new Float32Array(32), new Float32Array(32), { kind: 'max' }),
    ).toThrow(/pads must be smaller/);
    expect(() =>
      b.opsBinary(new Int8Array(6), new Int8Array(4), new Int8Array(6), { op: 'add', aShape: [2, 3], bShape: [4] }),
    ).toThrow(/not broadcast-compatible/);
    expect(() =>
      b.opsBinary(new Int8Array(6), new Int8Array(3), new Int8Array(6), { op: 'add', aShape: [2, 3], bShape: [3] }),
    ).toThrow(/q must be an object/);
    expect(() =>
      b.opsBinary(new Float32Array(1), new Float32Array(1), new Float32Array(1), {
        op: 'add',
        aShape: [1, 1, 1, 1, 1, 1, 1],
        bShape: [1],
      }),
    ).toThrow(/rank 7/);
    expect(() => b.opsTranspose(new Float32Array(6), new Float32Array(6), { shape: [2, 3], perm: [0, 0] })).toThrow(
      /permutation/,
    );
    expect(() =>
      b.opsPad(new Float32Array(6), new Float32Array(6), { shape: [2, 3], before: [0], after: [0, 0], value: 0 }),
    ).toThrow(/before has 1 entries/);
    expect(() =>
      b.opsStridedSlice(new Float32Array(6), new Float32Array(1), {
        shape: [2, 3],
        begin: [0, 0, 0],
        end: [1, 1, 1],
        strides: [1, 1, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      }),
    ).toThrow(/out of range/);
    expect(() => b.opsConcat([new Float32Array(2)], new Float32Array(2), { shapes: [[2]], axis: 1 })).toThrow(/axis/);
    expect(() => b.opsApplyLut(new Uint8Array(256), new Int8Array(4), new Int8Array(3))).toThrow(/y has 3 elements/);
    expect(() => b.opsSoftmax(new Int8Array(4), new Int8Array(4), { rows: 2, cols: 2, beta: 1, xScale: 0 })).toThrow(
      /xScale/,
    );
    expect(() =>
      b.opsResize(new Float32Array(4), new Float32Array(4), {
        mode: 'bicubic' as never,
        shape: [1, 2, 2, 1],
        outHeight: 2,
        outWidth: 2,
        alignCorners: false,
        halfPixelCenters: false,
        q: null,
      }),
    ).toThrow(/mode/);
    expect(() => b.opsIm2col(geom, new Int8Array(32), new Int8Array(16 * 18), { padValue: 300, lda: 18 })).toThrow(
      /padValue/,
    );
    // clamp is an activation by name but needs bounds: the core refuses it, the binding maps that.
    expect(() =>
      b.opsActivation(new Float32Array(2), new Float32Array(2), { activation: 'clamp' as never, alpha: 0 }),
    ).toThrow(RangeError);
    expect(() =>
      b.opsBuildLut({
        activation: 'clamp' as never,
        alpha: 0,
        xType: 'int8',
        xScale: 1,
        xZeroPoint: 0,
        yType: 'int8',
        yScale: 1,
        yZeroPoint: 0,
        yMin: -128,
        yMax: 127,
      }),
    ).toThrow(/no formula without bounds/);
    expect(() => b.opsMean(new Int8Array(4), new Int8Array(1), { batch: 1, hw: 2 ** 24, channels: 1 })).toThrow(/hw/);
  });
  it('value checks the core makes reach JavaScript as RangeErrors naming the value', () => {
    const b = native();
    const range = (f: () => unknown, re: RegExp) => {
      expect(f).toThrow(RangeError);
      expect(f).toThrow(re);
    };
    range(() => b.calibAccumulate(new Float32Array(2), new Float64Array(4), { lo: 1, hi: 2 }), /lo <= 0 <= hi/);
    range(
      () => b.calibRebin(new Float64Array(4), new Float64Array(4), { lo: -1, hi: 1, newLo: -0.5, newHi: 1 }),
      /\[newLo, newHi\] must contain \[lo, hi\]/,
    );
    range(
      () => b.calibKlSearch(Float64Array.of(1, -1, 2), { lo: -1, hi: 1, levels: 255 }),
      /counts must be finite and >= 0 \(index 1\)/,
    );
    range(
      () => b.requantizeMultiplier({ inputScale: 0.5, weightScale: 0, outputScale: 1 }),
      /weightScale must be a finite float32 > 0/,
    );
    const q = { scales: Float32Array.of(1, 1), zeroPoints: Int32Array.of(0, 200), yScale: 1, yZeroPoint: 0 };
    range(
      () =>
        b.opsConcat([new Int8Array(2), new Int8Array(2)], new Int8Array(4), {
          shapes: [[2], [2]],
          axis: 0,
          q: { ...q, yMin: -128, yMax: 127 },
        }),
      /q\.zeroPoints\[1\] must be in \[-128, 127\], got 200/,
    );
    range(
      () =>
        b.opsConcat([new Int8Array(2), new Int8Array(2)], new Int8Array(4), {
          shapes: [[2], [2]],
          axis: 0,
          q: { ...q, zeroPoints: Int32Array.of(0, 0), yMin: 5, yMax: 4 },
        }),
      /q\.yMin must be <= yMax/,
    );
    range(
      () => b.opsBiasAdd(new Float32Array(2), new Float32Array(1), new Float32Array(2), { yMin: NaN, yMax: 1 }),
      /yMin must not be NaN/,
    );
    range(
      () => b.opsDepthToSpace(new Float32Array(6), new Float32Array(6), { shape: [1, 1, 1, 6], blockSize: 2 }),
      /channels \(6\) must be divisible by blockSize² \(4\)/,
    );
  });
});
