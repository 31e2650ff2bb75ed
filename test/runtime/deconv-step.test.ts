// The runtime's int8 transposed-convolution step (deconv_i8) runs on the packed GEMM plus a
// column scatter; the ops kernel conv2dTransposeInt8 is the scalar scatter loop. Both add in
// int32 with wrap-around, so on every ISA path they must agree bit for bit — on strides 1 and
// 2, kernels 2–4, SAME / VALID / explicit padding, dilation, channel counts that are not
// multiples of 16, batch 2, kernels equal to their strides, and a shape large enough that the step splits its work into
// several output bands and GEMM chunks.
import { describe, expect, it } from 'vitest';
import { conv2dTransposeInt8, convGeometry } from '../../src/kernels/ops.js';
import { native } from '../../src/native/binding.js';
import { getIsa, setIsa, supportedIsas } from '../../src/native/cpu.js';
import { makeStep } from '../../src/runtime/step-schema.js';
import { activationBounds, requantizeMultiplier } from '../../src/quant/scheme.js';
import { stepGeom } from './helpers.js';
import { expectEqualArrays, randInt, randQ, randW, rng } from '../ops/helpers.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number]];
interface Case {
  os: number[];
  co: number;
  k: [number, number];
  s: [number, number];
  d?: [number, number];
  pad: Pad;
  act?: 'relu';
}

const cases: Case[] = [
  { os: [2, 8, 8, 5], co: 7, k: [2, 2], s: [2, 2], pad: 'valid' },
  { os: [2, 9, 7, 19], co: 21, k: [3, 3], s: [2, 2], pad: 'same' },
  { os: [2, 10, 10, 24], co: 40, k: [4, 4], s: [2, 2], pad: 'same', act: 'relu' },
  { os: [2, 7, 9, 33], co: 12, k: [3, 3], s: [1, 1], pad: 'same' },
  { os: [2, 6, 8, 17], co: 3, k: [4, 2], s: [1, 2], pad: 'valid' },
  {
    os: [2, 11, 9, 9],
    co: 18,
    k: [3, 4],
    s: [2, 1],
    pad: [
      [2, 1],
      [0, 3],
    ],
  },
  { os: [2, 12, 11, 6], co: 10, k: [3, 3], s: [1, 1], d: [2, 2], pad: 'same' },
  { os: [2, 5, 5, 16], co: 16, k: [3, 3], s: [3, 3], pad: 'valid' },
  // Kernel = stride, output exactly stride × dy: each output from one column (the step's
  // requantizing-GEMM path); one output channel, as a segmentation head.
  { os: [2, 16, 12, 1], co: 16, k: [2, 2], s: [2, 2], pad: 'valid' },
  { os: [1, 9, 6, 3], co: 5, k: [3, 3], s: [3, 3], pad: 'valid' },
  // Rows of 1, 4 and 8 bytes moved into place (kw·CI: the step's fixed-size copies).
  { os: [1, 5, 7, 1], co: 24, k: [1, 1], s: [1, 1], pad: 'valid' },
  { os: [2, 12, 10, 2], co: 40, k: [2, 2], s: [2, 2], pad: 'valid' },
  { os: [2, 8, 8, 4], co: 32, k: [2, 2], s: [2, 2], pad: 'same' },
  // 64×128×160 accumulators (more than the step's 4 MiB scratch: two output bands) and
  // 3·3·160 columns per dy pixel (three GEMM chunks per band).
  { os: [1, 64, 128, 160], co: 24, k: [3, 3], s: [2, 2], pad: 'same' },
];

function plan(
  c: Case,
  ds: number[],
  filter: Int8Array,
  bias: Int32Array,
  mult: Float32Array,
  zdy: number,
  zo: number,
  lo: number,
  hi: number,
) {
  const g = convGeometry(c.os, c.k, { strides: c.s, dilations: c.d ?? [1, 1], padding: c.pad });
  const geom = stepGeom(g);
  return {
    buffers: [
      { dtype: 1 as const, shape: [-1, ...ds.slice(1)] },
      { dtype: 1 as const, shape: [-1, ...c.os.slice(1)] },
    ],
    weights: [filter, bias, mult],
    steps: [
      makeStep('deconv_i8', {
        inputs: [0],
        output: 1,
        ints: { geom, dy_zero_point: zdy, y_zero_point: zo, qmin: lo, qmax: hi },
        weights: { w: 0, bias: 1, multipliers: 2 },
      }),
    ],
    inputs: [0],
    outputs: [1],
  };
}

describe('deconv_i8 step (GEMM + scatter) equals the scalar scatter loop', () => {
  it('bit for bit on every ISA path, over strides, kernels, paddings, channel counts and batch 2', async () => {
    const r = rng(31);
    const prev = getIsa();
    try {
      for (const c of cases) {
        const CI = c.os[3]!,
          ks = [c.k[0], c.k[1], CI, c.co];
        const g = convGeometry(c.os, c.k, { strides: c.s, dilations: c.d ?? [1, 1], padding: c.pad });
        const ds = [c.os[0]!, g.outHeight, g.outWidth, c.co];
        const dy = randQ(
          r,
          'int8',
          ds.reduce((a, b) => a * b),
        ) as Int8Array;
        const filter = randW(
          r,
          ks.reduce((a, b) => a * b),
        );
        const bias = Int32Array.from({ length: CI }, () => randInt(r, -3000, 3000));
        const dp = { scale: 0.05, zeroPoint: randInt(r, -20, 20) };
        const yp = { scale: 0.2 + r() * 2, zeroPoint: randInt(r, -10, 10) };
        const ws = Float32Array.from({ length: CI }, () => 0.002 + r() * 0.01);
        const mult = Float32Array.from(ws, (s) => requantizeMultiplier(dp.scale, s, yp.scale));
        const [lo, hi] = activationBounds('int8', yp.zeroPoint, yp.scale, c.act ?? 'none');
        const { y: want } = conv2dTransposeInt8(
          {
            dy,
            dyShape: ds,
            dyParams: dp,
            filter,
            filterShape: ks,
            filterScales: ws,
            bias,
            yParams: yp,
            outputShape: c.os,
            activation: c.act,
          },
          { strides: c.s, dilations: c.d ?? [1, 1], padding: c.pad },
        );
        // Not all saturated: the comparison sees the arithmetic, not just the clamp.
        expect(new Set(want).size, `${c.os} output values`).toBeGreaterThan(20);
        for (const isa of supportedIsas()) {
          setIsa(isa);
          const s = new (native().RuntimeSession)(plan(c, ds, filter, bias, mult, dp.zeroPoint, yp.zeroPoint, lo, hi), {
            threads: 1,
          });
          const [got] = await s.run([dy], { batch: c.os[0]! });
          s.dispose();
          expectEqualArrays(got!, want, `deconv ${c.os} k${c.k} s${c.s} ${JSON.stringify(c.pad)} ${isa}`);
        }
      }
    } finally {
      setIsa(prev);
    }
  });

  it('rejects inconsistent plans with clear errors', () => {
    const c = cases[0]!,
      ds = [2, 4, 4, 7];
    const ok = () =>
      plan(c, ds, new Int8Array(2 * 2 * 5 * 7), new Int32Array(5), new Float32Array(5).fill(0.01), 0, 0, -128, 127);
    const Ctor = native().RuntimeSession;
    new Ctor(ok(), { threads: 1 }).dispose();
    const short = ok();
    short.weights[0] = new Int8Array(2 * 2 * 5 * 7 - 1);
    expect(() => new Ctor(short, { threads: 1 })).toThrow(/weights has 139 elements, expected 140/);
    const nan = ok();
    (nan.weights[2] as Float32Array)[3] = NaN;
    expect(() => new Ctor(nan, { threads: 1 })).toThrow(/multipliers must be finite/);
    const wrongDy = ok();
    wrongDy.buffers[0]!.shape = [-1, 5, 4, 7];
    expect(() => new Ctor(wrongDy, { threads: 1 })).toThrow(/does not match the geometry/);
  });
});

describe('deconv_f32 step (packed float GEMM + scatter) equals the training kernel', () => {
  it('bit for bit (then + bias) on every ISA path, over strides, kernels, paddings and several pixel chunks, 1 and 2 threads', async () => {
    const r = rng(32);
    const fcases: Case[] = [
      ...cases.slice(0, 6),
      // 4096 dy pixels × 3·3·24 columns: four chunks of the step's 1 MiB column buffer.
      { os: [1, 128, 128, 24], co: 16, k: [3, 3], s: [2, 2], pad: 'same' },
    ];
    for (const c of fcases) {
      const CI = c.os[3]!;
      const g = convGeometry(c.os, c.k, { strides: c.s, dilations: c.d ?? [1, 1], padding: c.pad });
      const ds = [c.os[0]!, g.outHeight, g.outWidth, c.co];
      const dy = Float32Array.from({ length: ds.reduce((a, b) => a * b) }, () => r() * 2 - 1);
      const filter = Float32Array.from({ length: c.k[0] * c.k[1] * CI * c.co }, () => r() * 2 - 1);
      const bias = Float32Array.from({ length: CI }, () => r() - 0.5);
      // The reference: the training kernel (col2im over the training GEMM, on the same ISA path),
      // then the bias.
      const reference = (): Float32Array => {
        const want = new Float32Array(c.os.reduce((a, b) => a * b));
        native().trainConv2DBackpropInput(
          {
            batch: c.os[0]!,
            inHeight: c.os[1]!,
            inWidth: c.os[2]!,
            inChannels: CI,
            outHeight: g.outHeight,
            outWidth: g.outWidth,
            outChannels: c.co,
            filterHeight: c.k[0],
            filterWidth: c.k[1],
            strideHeight: c.s[0],
            strideWidth: c.s[1],
            dilationHeight: (c.d ?? [1, 1])[0],
            dilationWidth: (c.d ?? [1, 1])[1],
            padTop: g.padTop,
            padLeft: g.padLeft,
          },
          dy,
          filter,
          want,
        );
        for (let i = 0; i < want.length; i++) want[i] = Math.fround(want[i]! + bias[i % CI]!);
        return want;
      };
      const geom = stepGeom(g);
      const plan = {
        buffers: [
          { dtype: 0 as const, shape: [-1, ...ds.slice(1)] },
          { dtype: 0 as const, shape: [-1, ...c.os.slice(1)] },
        ],
        weights: [filter, bias],
        steps: [makeStep('deconv_f32', { inputs: [0], output: 1, ints: { geom }, weights: { w: 0, bias: 1 } })],
        inputs: [0],
        outputs: [1],
      };
      const prev = getIsa();
      try {
        for (const isa of supportedIsas()) {
          setIsa(isa);
          const want = reference();
          for (const threads of [1, 2]) {
            const s = new (native().RuntimeSession)(plan, { threads: threads });
            const [got] = await s.run([dy], { batch: c.os[0]! });
            s.dispose();
            expectEqualArrays(
              got!,
              want,
              `deconv_f32 ${c.os} k${c.k} s${c.s} ${JSON.stringify(c.pad)} ${isa} threads ${threads}`,
            );
          }
        }
      } finally {
        setIsa(prev);
      }
    }
  });
});
