// scheme.ts (the TypeScript statement of docs/quantization.md) against hand-computed values.
import { describe, expect, it } from 'vitest';
import {
  activationBounds,
  channelLayout,
  chooseAsymmetricI8,
  chooseAsymmetricU8,
  chooseSymmetricI8,
  dequantizeValue,
  dynamicQuantizeU8,
  fl32,
  qRange,
  quantizeValue,
  rangeOf,
  requantizeMultiplier,
  requantizeValue,
  rne,
  weightLayout,
} from '../src/quant/scheme.js';

describe('scheme.ts: rounding and the affine mapping', () => {
  it('rne rounds ties to even, unlike Math.round', () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-0.5, 0],
      [-1.5, -2],
      [-2.5, -2],
      [3.49999, 3],
      [3.5000001, 4],
      [-3.5000001, -4],
      [126.5, 126],
      [127.5, 128],
      [-128.5, -128],
      [1e9 + 0.5, 1e9],
      [0.49999997, 0],
    ];
    for (const [v, want] of cases) expect(rne(v), `rne(${v})`).toBe(want);
    expect(Math.round(2.5)).toBe(3); // the trap the doc warns about
  });

  it('quantizes per §2: divide in float32, clamp, round to even, add the zero point', () => {
    expect(quantizeValue(0.25, 0.5, 0, -128, 127)).toBe(0); // 0.5 → 0
    expect(quantizeValue(0.75, 0.5, 0, -128, 127)).toBe(2); // 1.5 → 2
    expect(quantizeValue(1.25, 0.5, 10, 0, 255)).toBe(12); // 2.5 → 2, + 10
    expect(quantizeValue(-1.25, 0.5, 10, 0, 255)).toBe(8); // −2.5 → −2
    expect(quantizeValue(1000, 1, 0, -127, 127)).toBe(127);
    expect(quantizeValue(-1000, 1, 0, -127, 127)).toBe(-127); // narrow range
    expect(quantizeValue(-1000, 1, 3, -128, 127)).toBe(-128);
    expect(quantizeValue(NaN, 0.1, 7, 0, 255)).toBe(7);
    expect(quantizeValue(Infinity, 0.1, 7, 0, 255)).toBe(255);
    expect(quantizeValue(-Infinity, 0.1, 7, 0, 255)).toBe(0);
    expect(quantizeValue(-0, 0.1, 7, 0, 255)).toBe(7);
    // The division is a float32 division: here x / s is 7.4999999… in float64 (→ 7) but exactly
    // 7.5 after rounding to float32, a tie that goes to the even 8.
    const x = 2.904989242553711,
      s = 0.38733190298080444;
    expect([fl32(x), fl32(s)]).toEqual([x, s]);
    expect(x / s).toBeLessThan(7.5);
    expect(quantizeValue(x, s, 0, -128, 127)).toBe(8);
  });

  it('dequantizes with one float32 rounding', () => {
    expect(dequantizeValue(-128, 0.5, 3)).toBe(-65.5);
    expect(dequantizeValue(200, fl32(0.1), 100)).toBe(fl32(100 * fl32(0.1)));
    // int32: q − zp beyond 2^24 is rounded to float32 first.
    expect(dequantizeValue(2 ** 24 + 1, 1, 0)).toBe(2 ** 24);
    expect(dequantizeValue(2 ** 31 - 1, 1, -(2 ** 31))).toBe(2 ** 32);
  });

  it('requantizes per §7', () => {
    expect(requantizeValue(5, 0.5, 0, -128, 127)).toBe(2); // 2.5 → 2
    expect(requantizeValue(7, 0.5, 0, -128, 127)).toBe(4); // 3.5 → 4
    expect(requantizeValue(7, 0.5, 10, -128, 127)).toBe(14);
    expect(requantizeValue(-1000, 0.5, 10, 10, 127)).toBe(10); // ReLU lower bound
    expect(requantizeValue(2 ** 24 + 1, 1, 0, -128, 127)).toBe(127);
    expect(requantizeValue(2 ** 24 + 1, 2 ** -24, 0, -128, 127)).toBe(1); // fl32(acc) = 2^24 exactly
    expect(requantizeMultiplier(0.5, 0.25, 2)).toBe(0.0625);
    expect(requantizeMultiplier(0.1, 0.2, 0.3)).toBe(fl32(fl32(fl32(0.1) * fl32(0.2)) / fl32(0.3)));
  });

  it('narrows output bounds for fused activations', () => {
    expect(activationBounds('int8', -5, 0.1)).toEqual([-128, 127]);
    expect(activationBounds('int8', -5, 0.1, 'relu')).toEqual([-5, 127]);
    expect(activationBounds('uint8', 0, 0.05, 'relu6')).toEqual([0, 120]); // 6 / 0.05 = 120
    expect(activationBounds('int8', -128, 0.25, 'relu6')).toEqual([-128, -104]); // −128 + 24
    expect(activationBounds('int8', 0, 0.5, { min: -1, max: 1 })).toEqual([-2, 2]);
    expect(qRange('int8', true)).toEqual([-127, 127]);
    expect(qRange('uint8')).toEqual([0, 255]);
  });
});

describe('scheme.ts: choosing parameters (§4)', () => {
  it('asymmetric uint8/int8 and symmetric int8 for hand-computed ranges', () => {
    // [−1, 1]: scale = fl32(2 / 255); −lo / scale = 127.49999… → 127.
    expect(chooseAsymmetricU8(-1, 1)).toEqual({ scale: fl32(2 / 255), zeroPoint: 127 });
    expect(chooseAsymmetricI8(-1, 1)).toEqual({ scale: fl32(2 / 255), zeroPoint: -1 });
    // [0, 2.55]: zero point 0; [−2.55, 0]: zero point 255.
    expect(chooseAsymmetricU8(0, 2.55)).toEqual({ scale: fl32(fl32(2.55) / 255), zeroPoint: 0 });
    expect(chooseAsymmetricU8(-2.55, 0).zeroPoint).toBe(255);
    // The range is widened to include 0.
    expect(chooseAsymmetricU8(1, 2)).toEqual(chooseAsymmetricU8(0, 2));
    expect(chooseAsymmetricU8(-2, -1)).toEqual(chooseAsymmetricU8(-2, 0));
    expect(chooseSymmetricI8(-3, 1.5)).toEqual({ scale: fl32(3 / 127), zeroPoint: 0 });
    expect(chooseSymmetricI8(-0.5, 12.7)).toEqual({ scale: fl32(fl32(12.7) / 127), zeroPoint: 0 });
  });

  it('falls back to scale 1 for an all-zero or overflowing range', () => {
    expect(chooseAsymmetricU8(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
    expect(chooseAsymmetricI8(0, 0)).toEqual({ scale: 1, zeroPoint: -128 });
    expect(chooseSymmetricI8(0, 0)).toEqual({ scale: 1, zeroPoint: 0 });
    expect(chooseAsymmetricU8(1e-45, 1e-45)).toEqual({ scale: 1, zeroPoint: 0 }); // 1.4e-45 / 255 underflows to 0
    expect(chooseAsymmetricU8(-3e38, 3e38)).toEqual({ scale: 1, zeroPoint: 255 }); // hi − lo = +Inf
  });

  it('ranges from data ignore NaN and ±Inf and include 0', () => {
    expect(rangeOf([3, NaN, -Infinity, 2, Infinity])).toEqual([0, 3]);
    expect(rangeOf([-3, NaN, -1])).toEqual([-3, 0]);
    expect(rangeOf([])).toEqual([0, 0]);
    const d = dynamicQuantizeU8([1, -1, NaN, Infinity], 2, 2, true);
    expect(d.params[0]).toEqual(chooseAsymmetricU8(-1, 1));
    expect(d.params[1]).toEqual({ scale: 1, zeroPoint: 0 });
    // 1 / fl32(2 / 255) = 127.4999924 in float32 → 127, + zero point 127.
    expect(d.q).toEqual([254, 0, 0, 255]);
  });
});

describe('scheme.ts: per-channel layouts (§5)', () => {
  it('sees a shape as [outer, channels, inner] along an axis', () => {
    expect(channelLayout([2, 3, 4, 5], 0)).toEqual({ outer: 1, channels: 2, inner: 60 });
    expect(channelLayout([2, 3, 4, 5], 2)).toEqual({ outer: 6, channels: 4, inner: 5 });
    expect(channelLayout([2, 3, 4, 5], -1)).toEqual({ outer: 24, channels: 5, inner: 1 });
  });
  it('follows the TF.js weight layouts', () => {
    expect(weightLayout('dense', [784, 10])).toEqual({ outer: 784, channels: 10, inner: 1 });
    expect(weightLayout('conv2d', [3, 3, 16, 32])).toEqual({ outer: 144, channels: 32, inner: 1 });
    expect(weightLayout('conv2dTranspose', [3, 3, 8, 16])).toEqual({ outer: 9, channels: 8, inner: 16 });
    // depthwise [kh, kw, in, mult]: channel c = i × mult + m, i.e. the flattened last two axes.
    expect(weightLayout('depthwiseConv2d', [3, 3, 4, 2])).toEqual({ outer: 9, channels: 8, inner: 1 });
  });
});
