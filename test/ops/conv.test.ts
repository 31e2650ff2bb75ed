// Convolution-family operator kernels: geometry, im2col, depthwise (int8 + float), transposed conv.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  conv2dTransposeInt8,
  convGeometry,
  depthwiseConv2d,
  depthwiseConv2dInt8,
  im2col,
} from '../../src/kernels/ops.js';
import { activationBounds, requantizeMultiplier, requantizeValue } from '../../src/quant/scheme.js';
import {
  clampToRange,
  deq,
  expectClose,
  expectEqualArrays,
  forEachIsa,
  fl32,
  paramsFor,
  randF,
  randInt,
  randQ,
  randW,
  rng,
  tfPad,
} from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

type Pad = 'same' | 'valid' | [[number, number], [number, number]];

function geomOf(xs: number[], k: [number, number], s: [number, number], d: [number, number], pad: Pad) {
  const [oh, pt] = tfPad(xs[1], k[0], s[0], d[0], pad === 'same' || pad === 'valid' ? pad : pad[0]);
  const [ow, pl] = tfPad(xs[2], k[1], s[1], d[1], pad === 'same' || pad === 'valid' ? pad : pad[1]);
  return { oh, ow, pt, pl };
}

/** Naive §11.2 depthwise. */
function depthwiseRef(
  x: ArrayLike<number>,
  xs: number[],
  zx: number,
  w: ArrayLike<number>,
  ks: number[],
  bias: Int32Array | null,
  mult: Float32Array,
  zy: number,
  lo: number,
  hi: number,
  s: [number, number],
  d: [number, number],
  pad: Pad,
): number[] {
  const [N, H, W, C] = xs,
    [KH, KW, , M] = ks,
    OC = C * M;
  const { oh, ow, pt, pl } = geomOf(xs, [KH, KW], s, d, pad);
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let c = 0; c < OC; c++) {
          let acc = bias ? bias[c] : 0;
          const i = Math.floor(c / M);
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy * s[0] + ky * d[0] - pt,
                ix = ox * s[1] + kx * d[1] - pl;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc = (acc + (x[((n * H + iy) * W + ix) * C + i] - zx) * w[(ky * KW + kx) * OC + c]) | 0;
            }
          out.push(requantizeValue(acc, mult[c], zy, lo, hi));
        }
  return out;
}

describe('convolution geometry (TF padding)', () => {
  it('matches the TF rules for SAME / VALID / explicit with strides and dilations', () => {
    const r = rng(1);
    for (let t = 0; t < 200; t++) {
      const h = randInt(r, 1, 40),
        w = randInt(r, 1, 40),
        kh = randInt(r, 1, 7),
        kw = randInt(r, 1, 7);
      const s: [number, number] = [randInt(r, 1, 4), randInt(r, 1, 4)],
        d: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)];
      const modes: Pad[] = [
        'same',
        'valid',
        [
          [randInt(r, 0, 3), randInt(r, 0, 3)],
          [randInt(r, 0, 3), randInt(r, 0, 3)],
        ],
      ];
      for (const pad of modes) {
        const ekh = (kh - 1) * d[0] + 1,
          ekw = (kw - 1) * d[1] + 1;
        const ph = pad === 'same' ? 0 : pad === 'valid' ? 0 : pad[0][0] + pad[0][1];
        const pw = pad === 'same' ? 0 : pad === 'valid' ? 0 : pad[1][0] + pad[1][1];
        const opts = { strides: s, dilations: d, padding: pad };
        if (pad !== 'same' && (h + ph < ekh || w + pw < ekw)) {
          expect(() => convGeometry([1, h, w, 3], [kh, kw], opts)).toThrow(RangeError);
          continue;
        }
        const g = convGeometry([2, h, w, 3], [kh, kw], opts);
        const want = geomOf([2, h, w, 3], [kh, kw], s, d, pad);
        expect([g.outHeight, g.outWidth, g.padTop, g.padLeft]).toEqual([want.oh, want.ow, want.pt, want.pl]);
      }
    }
  });

  it('rejects bad geometry with clear errors', () => {
    expect(() => convGeometry([1, 4, 4], [3, 3], { padding: 'same' })).toThrow(
      /xShape must be \[batch, height, width, channels\]/,
    );
    expect(() => convGeometry([1, 4, 4, 2], [3, 3], { padding: 'bogus' as never })).toThrow(TypeError);
    expect(() => convGeometry([1, 4, 4, 2], [0, 3], { padding: 'same' })).toThrow(/filterSize\[0\]/);
    expect(() => convGeometry([1, 4, 4, 2], [3, 3], { padding: 'same', strides: 0 })).toThrow(/strides/);
    expect(() => convGeometry([1, 2, 2, 2], [5, 5], { padding: 'valid' })).toThrow(/larger than the padded input/);
    expect(() => convGeometry([1, 4, 4, 2], [3, 3], { padding: [1, 2, 3] })).toThrow(/explicit padding/);
  });
});

describe('im2col', () => {
  // extra: columns of A past the filter's (left as they were); dilateW: dilation along x
  // allowed (the copy per tap) besides 1 (the copy per filter row, and with extra = 0 the
  // 16-byte moves of short runs).
  it.each([
    { seed: 2, extra: 3, dilateW: false },
    { seed: 4, extra: 0, dilateW: false },
    { seed: 5, extra: 0, dilateW: true },
  ])(
    'builds the GEMM A matrix with the zero point as padding (seed $seed, $extra extra columns, dilateW $dilateW)',
    ({ seed, extra, dilateW }) => {
      const r = rng(seed);
      let checked = 0,
        refused = 0;
      for (const type of ['int8', 'uint8'] as const) {
        for (let t = 0; t < 12; t++) {
          const xs = [randInt(r, 1, 2), randInt(r, 1, 9), randInt(r, 1, 9), randInt(r, 1, 5)];
          const k: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)];
          const s: [number, number] = [randInt(r, 1, 3), randInt(r, 1, 3)],
            d: [number, number] = [randInt(r, 1, 2), dilateW ? randInt(r, 1, 2) : 1];
          const pad: Pad =
            t % 2
              ? 'same'
              : [
                  [1, 0],
                  [0, 2],
                ];
          const x = randQ(
            r,
            type,
            xs.reduce((a, b) => a * b),
          );
          const zp = type === 'int8' ? -7 : 131;
          const cols = k[0] * k[1] * xs[3];
          const { oh, ow, pt, pl } = geomOf(xs, k, s, d, pad);
          const opts = { strides: s, dilations: d, padding: pad, padValue: zp, lda: cols + extra };
          // Decided from the geometry up front: a window larger than the padded input has no output.
          if (oh < 1 || ow < 1) {
            expect(() => im2col(x, xs, k, opts)).toThrow(/the filter\/window .* with dilation/);
            refused++;
            continue;
          }
          const res = im2col(x, xs, k, opts);
          checked++;
          expect(res.rows).toBe(xs[0] * oh * ow);
          const [N, H, W, C] = xs;
          for (let n = 0; n < N; n++)
            for (let oy = 0; oy < oh; oy++)
              for (let ox = 0; ox < ow; ox++) {
                const row = (n * oh + oy) * ow + ox;
                for (let ky = 0; ky < k[0]; ky++)
                  for (let kx = 0; kx < k[1]; kx++)
                    for (let c = 0; c < C; c++) {
                      const iy = oy * s[0] + ky * d[0] - pt,
                        ix = ox * s[1] + kx * d[1] - pl;
                      const want = iy < 0 || iy >= H || ix < 0 || ix >= W ? zp : x[((n * H + iy) * W + ix) * C + c];
                      expect(res.a[row * (cols + extra) + (ky * k[1] + kx) * C + c]).toBe(want);
                    }
                for (let j = cols; j < cols + extra; j++) expect(res.a[row * (cols + extra) + j]).toBe(0);
              }
        }
      }
      expect(checked + refused).toBe(24);
      expect(checked).toBeGreaterThan(10);
    },
  );

  it('float im2col times the reshaped filter equals tfjs conv2d', () => {
    const r = rng(3);
    const xs = [2, 7, 6, 3],
      k: [number, number] = [3, 2];
    const x = randF(r, 2 * 7 * 6 * 3),
      w = randF(r, 3 * 2 * 3 * 4);
    const { a, rows, cols } = im2col(x, xs, k, { strides: [2, 1], padding: 'same' });
    const got = tf.matMul(tf.tensor2d(a, [rows, cols]), tf.tensor2d(w, [cols, 4])).dataSync();
    const want = tf
      .conv2d(tf.tensor4d(x, xs as [number, number, number, number]), tf.tensor4d(w, [3, 2, 3, 4]), [2, 1], 'same')
      .dataSync();
    expectClose(got, want, 1e-5, 1e-5, 'im2col·W vs conv2d');
  });
});

describe('DepthwiseConv2D int8', () => {
  const cases: { xs: number[]; k: [number, number]; m: number; s: [number, number]; d: [number, number]; pad: Pad }[] =
    [
      { xs: [1, 9, 9, 32], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [2, 10, 11, 48], k: [3, 3], m: 1, s: [2, 2], d: [1, 1], pad: 'same' },
      { xs: [1, 8, 7, 19], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'valid' },
      { xs: [2, 11, 9, 37], k: [5, 5], m: 1, s: [3, 3], d: [1, 1], pad: 'same' },
      { xs: [1, 12, 12, 16], k: [3, 3], m: 1, s: [4, 4], d: [2, 2], pad: 'same' },
      {
        xs: [1, 7, 9, 5],
        k: [3, 2],
        m: 3,
        s: [1, 2],
        d: [1, 1],
        pad: [
          [1, 2],
          [0, 1],
        ],
      },
      { xs: [3, 6, 6, 17], k: [1, 1], m: 2, s: [1, 1], d: [1, 1], pad: 'valid' },
      { xs: [1, 5, 5, 33], k: [7, 7], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      {
        xs: [1, 6, 5, 64],
        k: [3, 3],
        m: 1,
        s: [2, 1],
        d: [1, 2],
        pad: [
          [0, 3],
          [2, 0],
        ],
      },
      // The AVX-512 VNNI kernel's blocks: 64 channels (zmm) with a last block of 64, 32 (ymm) or 16
      // (xmm) lanes, masked past C; windows of more than 4 rows (two VPDPBUSD row groups) and
      // other than 3 columns (the generic loop); padding on every side at once.
      { xs: [1, 6, 7, 96], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [2, 7, 6, 144], k: [3, 3], m: 1, s: [2, 2], d: [1, 1], pad: 'same' },
      { xs: [1, 5, 9, 200], k: [3, 3], m: 1, s: [1, 2], d: [2, 1], pad: 'same' },
      { xs: [1, 9, 8, 80], k: [5, 5], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [1, 4, 12, 130], k: [1, 4], m: 1, s: [1, 3], d: [1, 1], pad: 'same' },
      {
        xs: [1, 5, 6, 72],
        k: [3, 3],
        m: 1,
        s: [1, 1],
        d: [1, 1],
        pad: [
          [3, 2],
          [2, 3],
        ],
      },
      // Channel counts that are not whole 16-channel blocks (fewer than 16, between, above): the
      // AVX2 paths run the partial last block on zero-padded weights, their last input loads
      // staged near the end of x; sliding 3×3 (stride 1 along x), strided, 5×5 and batch 2.
      { xs: [2, 9, 11, 8], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [2, 10, 13, 24], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'valid' },
      { xs: [2, 11, 9, 40], k: [3, 3], m: 1, s: [2, 2], d: [1, 1], pad: 'same' },
      { xs: [2, 9, 10, 40], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [2, 7, 9, 8], k: [3, 3], m: 1, s: [2, 2], d: [1, 1], pad: 'valid' },
      { xs: [2, 8, 8, 24], k: [5, 5], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [2, 9, 8, 24], k: [3, 3], m: 1, s: [2, 1], d: [1, 1], pad: 'valid' },
      // 3×3 with stride 1 along x and whole 16-channel blocks: the AVX2 sliding-window path
      // (interior columns) next to the per-pixel paths (edges).
      { xs: [2, 13, 17, 48], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
      { xs: [1, 10, 12, 32], k: [3, 3], m: 1, s: [2, 1], d: [1, 1], pad: 'valid' },
      {
        xs: [1, 7, 20, 16],
        k: [3, 3],
        m: 1,
        s: [1, 1],
        d: [1, 1],
        pad: [
          [1, 0],
          [2, 1],
        ],
      },
    ];

  it('equals the naive formula bit for bit on every ISA path (int8 and uint8, biases, fused clamps)', () => {
    const r = rng(4);
    cases.forEach((cs, ci) => {
      for (const type of ['int8', 'uint8'] as const) {
        const C = cs.xs[3],
          OC = C * cs.m,
          ks = [cs.k[0], cs.k[1], C, cs.m];
        const x = randQ(
          r,
          type,
          cs.xs.reduce((a, b) => a * b),
        );
        if (ci === 0) x.fill(type === 'int8' ? -128 : 255); // extremes
        const w = randW(
          r,
          ks.reduce((a, b) => a * b),
        );
        if (ci === 0) w.fill(-128); // beyond narrow range: still exact
        const bias = Int32Array.from({ length: OC }, () => randInt(r, -30000, 30000));
        const xp = {
          scale: 0.02 + r() * 0.05,
          zeroPoint: type === 'int8' ? randInt(r, -20, 20) : randInt(r, 100, 150),
        };
        const yp = { scale: 0.05 + r() * 0.3, zeroPoint: type === 'int8' ? randInt(r, -10, 10) : randInt(r, 120, 136) };
        const ws = Float32Array.from({ length: OC }, () => 0.001 + r() * 0.02);
        const act = (['none', 'relu', 'relu6'] as const)[ci % 3];
        const [lo, hi] = activationBounds(type, yp.zeroPoint, fl32(yp.scale), act);
        const mult = ws.map((s) => requantizeMultiplier(xp.scale, s, yp.scale));
        const want = depthwiseRef(x, cs.xs, xp.zeroPoint, w, ks, bias, mult, yp.zeroPoint, lo, hi, cs.s, cs.d, cs.pad);
        forEachIsa((isa) => {
          const { y, shape } = depthwiseConv2dInt8(
            {
              x,
              xShape: cs.xs,
              xParams: xp,
              filter: w,
              filterShape: ks,
              filterScales: ws,
              bias,
              yParams: yp,
              activation: act,
            },
            { strides: cs.s, dilations: cs.d, padding: cs.pad },
          );
          expect(shape[3]).toBe(OC);
          expectEqualArrays(y, want, `case ${ci} ${type} ${isa}`);
        });
      }
    });
  });

  it('large multipliers (≤ 0.5: the integer-clamp finish; above: the float one) and zero points at the ends: bit for bit', () => {
    const r = rng(9);
    for (const cs of [cases[cases.length - 3]!, cases[0]!, cases.find((c) => c.xs[3] === 40 && c.s[1] === 1)!]) {
      for (const type of ['int8', 'uint8'] as const) {
        for (const [wsv, zo] of [
          [0.5, type === 'int8' ? 120 : 250],
          [0.37, type === 'int8' ? -120 : 3],
          [0.9, type === 'int8' ? 100 : 200],
        ] as const) {
          const C = cs.xs[3],
            OC = C * cs.m,
            ks = [cs.k[0], cs.k[1], C, cs.m];
          const x = randQ(
            r,
            type,
            cs.xs.reduce((a, b) => a * b),
          );
          const w = randW(
            r,
            ks.reduce((a, b) => a * b),
          );
          const bias = Int32Array.from({ length: OC }, () => randInt(r, -30000, 30000));
          const xp = { scale: 1, zeroPoint: type === 'int8' ? 0 : 128 };
          const yp = { scale: 1, zeroPoint: zo };
          const ws = Float32Array.from({ length: OC }, (_, i) => (i % 2 ? wsv : wsv / 3));
          const [lo, hi] = activationBounds(type, yp.zeroPoint, 1, 'none');
          const mult = ws.map((s) => requantizeMultiplier(xp.scale, s, yp.scale));
          const want = depthwiseRef(
            x,
            cs.xs,
            xp.zeroPoint,
            w,
            ks,
            bias,
            mult,
            yp.zeroPoint,
            lo,
            hi,
            cs.s,
            cs.d,
            cs.pad,
          );
          forEachIsa((isa) => {
            const { y } = depthwiseConv2dInt8(
              { x, xShape: cs.xs, xParams: xp, filter: w, filterShape: ks, filterScales: ws, bias, yParams: yp },
              { strides: cs.s, dilations: cs.d, padding: cs.pad },
            );
            expectEqualArrays(y, want, `${cs.xs} ${type} ws ${wsv} zo ${zo} ${isa}`);
          });
        }
      }
    }
  });

  it('is a depthwise convolution: dequantized result is within a step of tfjs on the dequantized inputs', () => {
    const r = rng(5);
    for (const cs of cases) {
      if (cs.pad !== 'same' && cs.pad !== 'valid') continue;
      const type = 'int8';
      const C = cs.xs[3],
        OC = C * cs.m,
        ks = [cs.k[0], cs.k[1], C, cs.m];
      const x = randQ(
        r,
        type,
        cs.xs.reduce((a, b) => a * b),
      );
      const w = randW(
        r,
        ks.reduce((a, b) => a * b),
      );
      const xp = { scale: 0.03, zeroPoint: 5 };
      const ws = Float32Array.from({ length: OC }, () => 0.002 + r() * 0.01);
      const bias = Int32Array.from({ length: OC }, () => randInt(r, -500, 500));
      const xf = deq(x, xp.scale, xp.zeroPoint);
      const wf = Float32Array.from(w, (v, i) => v * ws[i % OC]);
      const bf = Float32Array.from(bias, (b, c) => b * fl32(xp.scale) * ws[c]);
      const ref = tf.tidy(
        () =>
          tf
            .add(
              tf.depthwiseConv2d(
                tf.tensor4d(xf, cs.xs as never),
                tf.tensor4d(wf, ks as never),
                cs.s,
                cs.pad as 'same',
                'NHWC',
                cs.d,
              ),
              tf.tensor1d(bf),
            )
            .dataSync() as Float32Array,
      );
      let lo = 0,
        hi = 0;
      ref.forEach((v) => {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      });
      const yp = paramsFor(type, lo, hi);
      const { y } = depthwiseConv2dInt8(
        { x, xShape: cs.xs, xParams: xp, filter: w, filterShape: ks, filterScales: ws, bias, yParams: yp },
        { strides: cs.s, dilations: cs.d, padding: cs.pad },
      );
      expectClose(
        deq(y, yp.scale, yp.zeroPoint),
        clampToRange(ref, yp.scale, yp.zeroPoint, -128, 127),
        0,
        yp.scale * 0.51 + 1e-6,
        `depthwise ${cs.xs}`,
      );
    }
  });

  it('rejects bad arguments with clear errors', () => {
    const x = new Int8Array(2 * 4 * 4 * 3),
      w = new Int8Array(3 * 3 * 3);
    const base = {
      x,
      xShape: [2, 4, 4, 3],
      xParams: { scale: 0.1, zeroPoint: 0 },
      filter: w,
      filterShape: [3, 3, 3, 1],
      filterScales: 0.1,
      yParams: { scale: 0.1, zeroPoint: 0 },
    };
    const o = { padding: 'same' as const };
    expect(() => depthwiseConv2dInt8({ ...base, filterShape: [3, 3, 4, 1] }, o)).toThrow(/filterShape\[2\]/);
    expect(() => depthwiseConv2dInt8({ ...base, x: new Int8Array(5) }, o)).toThrow(/x has 5 elements/);
    expect(() => depthwiseConv2dInt8({ ...base, filter: new Float32Array(27) as never }, o)).toThrow(TypeError);
    expect(() => depthwiseConv2dInt8({ ...base, xParams: { scale: 0, zeroPoint: 0 } }, o)).toThrow(/xParams.scale/);
    expect(() => depthwiseConv2dInt8({ ...base, yParams: { scale: 1, zeroPoint: 300 } }, o)).toThrow(
      /yParams.zeroPoint/,
    );
    expect(() => depthwiseConv2dInt8({ ...base, bias: new Int32Array(2) }, o)).toThrow(/bias has 2 elements/);
    expect(() => depthwiseConv2dInt8({ ...base, filterScales: [0.1, 0.2] }, o)).toThrow(/filterScales/);
    expect(() =>
      depthwiseConv2dInt8({ ...base, x: new Uint8Array(96), xParams: { scale: 0.1, zeroPoint: -3 } }, o),
    ).toThrow(/xParams.zeroPoint/);
  });
});

describe('DepthwiseConv2D float32', () => {
  it('matches tfjs within 1e-5 relative (bias, relu6, multiplier, dilation, strides)', () => {
    const r = rng(6);
    for (const [xs, ks, s, d, pad] of [
      [[2, 9, 8, 13], [3, 3, 13, 1], [1, 1], [1, 1], 'same'],
      [[1, 10, 10, 8], [5, 3, 8, 2], [2, 3], [1, 1], 'valid'],
      [[1, 9, 9, 4], [3, 3, 4, 3], [1, 1], [2, 2], 'same'],
      [[2, 7, 6, 45], [3, 3, 45, 1], [2, 1], [1, 1], 'same'], // AVX2: 32 + 8 channels + a masked 5
      [[1, 12, 21, 8], [3, 3, 8, 1], [1, 1], [1, 1], 'same'], // AVX-512: 8 channels, two pixels a zmm
      [[1, 11, 23, 8], [3, 3, 8, 1], [1, 1], [2, 2], 'same'], // the same, dilated
      [[1, 13, 19, 24], [3, 3, 24, 1], [1, 1], [1, 1], 'same'], // AVX-512: 24 channels, 16 floats a vector across pixels
      [[1, 9, 17, 40], [5, 5, 40, 1], [1, 1], [1, 2], 'same'], // the same, 40 channels, dilated along x
    ] as [number[], number[], [number, number], [number, number], 'same' | 'valid'][]) {
      const x = randF(
          r,
          xs.reduce((a, b) => a * b),
        ),
        w = randF(
          r,
          ks.reduce((a, b) => a * b),
        );
      const bias = randF(r, ks[2] * ks[3]);
      const { y } = depthwiseConv2d(x, xs, w, ks, {
        strides: s,
        dilations: d,
        padding: pad,
        bias,
        activation: 'relu6',
      });
      const want = tf.tidy(() =>
        tf
          .clipByValue(
            tf.add(
              tf.depthwiseConv2d(tf.tensor4d(x, xs as never), tf.tensor4d(w, ks as never), s, pad, 'NHWC', d),
              tf.tensor1d(bias),
            ),
            0,
            6,
          )
          .dataSync(),
      );
      expectClose(y, want, 1e-5, 1e-6, `float depthwise ${xs}`);
      // Every vector path adds the same products in the same order per output, with FMA: the
      // same bits (the scalar oracle rounds each product apart).
      let first: Float32Array | undefined;
      forEachIsa((isa) => {
        if (isa === 'ref') return;
        const { y: yi } = depthwiseConv2d(x, xs, w, ks, {
          strides: s,
          dilations: d,
          padding: pad,
          bias,
          activation: 'relu6',
        });
        if (first) expectEqualArrays(yi, first, `float depthwise ${xs} on ${isa}`);
        else first = yi;
      });
    }
  });

  it('a pixel computes the same bits whether its row neighbours run with it (AVX2: interior pixels four at a time) or not', () => {
    const r = rng(17);
    for (const [xs, k, s, d] of [
      [
        [2, 7, 13, 24],
        [3, 3],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 6, 17, 13],
        [3, 3],
        [2, 2],
        [1, 1],
      ],
      [
        [1, 9, 14, 40],
        [5, 5],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 7, 16, 5],
        [3, 2],
        [1, 1],
        [2, 2],
      ],
      // 8 channels, stride 1 (AVX-512: interior pixels eight at a time, two per zmm).
      [
        [2, 5, 23, 8],
        [3, 3],
        [1, 1],
        [1, 1],
      ],
      [
        [1, 6, 26, 8],
        [3, 3],
        [1, 1],
        [1, 3],
      ],
    ] as [number[], [number, number], [number, number], [number, number]][]) {
      const [N, H, W, C] = xs as [number, number, number, number];
      const ks = [k[0], k[1], C, 1],
        ekw = (k[1] - 1) * d[1] + 1;
      const x = randF(r, N * H * W * C),
        w = randF(r, k[0] * k[1] * C),
        bias = randF(r, C);
      forEachIsa((isa) => {
        const { y, shape } = depthwiseConv2d(x, xs, w, ks, { strides: s, dilations: d, padding: 'valid', bias });
        const [, oh, ow] = shape as [number, number, number, number];
        expect(ow).toBeGreaterThanOrEqual(5);
        for (let ox = 0; ox < ow; ox++) {
          // The columns of this pixel's window alone: a one-pixel-wide output, no neighbours.
          const xc = new Float32Array(N * H * ekw * C);
          for (let n = 0; n < N; n++)
            for (let iy = 0; iy < H; iy++) {
              const from = ((n * H + iy) * W + ox * s[1]) * C;
              xc.set(x.subarray(from, from + ekw * C), (n * H + iy) * ekw * C);
            }
          const one = depthwiseConv2d(xc, [N, H, ekw, C], w, ks, {
            strides: s,
            dilations: d,
            padding: 'valid',
            bias,
          }).y;
          const col: number[] = [];
          for (let n = 0; n < N; n++)
            for (let oy = 0; oy < oh; oy++)
              col.push(...y.subarray(((n * oh + oy) * ow + ox) * C, ((n * oh + oy) * ow + ox + 1) * C));
          expectEqualArrays(one, col, `${xs} column ${ox} ${isa}`);
        }
      });
    }
  });

  it('every vector path computes the same bits, borders included (rows cut at the top and bottom, columns at the sides)', () => {
    // The AVX-512 kernel runs a row's inside columns one channel block at a time with the taps
    // of the window rows inside the input; the AVX2 kernel runs pixel by pixel. Same chain per
    // output (bias, then the in-bounds taps in row-major order), so the same bits.
    const r = rng(29);
    // The x86 FMA paths (the scalar reference adds products without fusing them).
    const vector: string[] = ['avx2', 'avxvnni', 'avx512vnni'];
    for (const [xs, k, s, d] of [
      [
        [1, 9, 21, 40],
        [3, 3],
        [1, 1],
        [1, 1],
      ], // two full 16-channel blocks and a masked 8
      [
        [2, 8, 19, 33],
        [5, 5],
        [1, 1],
        [1, 1],
      ], // two border rows at each end
      [
        [1, 11, 25, 20],
        [3, 3],
        [2, 2],
        [1, 1],
      ],
      [
        [1, 10, 22, 17],
        [3, 3],
        [1, 1],
        [2, 3],
      ], // dilated: rows cut in steps of 2
      [
        [1, 7, 30, 8],
        [3, 3],
        [1, 1],
        [1, 1],
      ], // 8 channels: pairs of pixels per zmm
      [
        [1, 3, 12, 16],
        [7, 7],
        [1, 1],
        [1, 1],
      ], // every row a border row
    ] as [number[], [number, number], [number, number], [number, number]][]) {
      const C = xs[3]!;
      const ks = [k[0], k[1], C, 1];
      const x = randF(
          r,
          xs.reduce((a, b) => a * b),
        ),
        w = randF(r, k[0] * k[1] * C),
        bias = randF(r, C);
      const outs = new Map<string, Float32Array>();
      forEachIsa((isa) => {
        if (!vector.includes(isa)) return;
        outs.set(isa, depthwiseConv2d(x, xs, w, ks, { strides: s, dilations: d, padding: 'same', bias }).y);
      });
      const [first, ...rest] = [...outs];
      for (const [isa, y] of rest) expectEqualArrays(y, first![1], `${xs} k${k} ${isa} vs ${first![0]}`);
      const want = tf.tidy(() =>
        tf
          .add(
            tf.depthwiseConv2d(tf.tensor4d(x, xs as never), tf.tensor4d(w, ks as never), s, 'same', 'NHWC', d),
            tf.tensor1d(bias),
          )
          .dataSync(),
      );
      for (const [isa, y] of outs) expectClose(y, want, 1e-5, 1e-6, `${xs} k${k} ${isa} vs tfjs`);
    }
  });

  it('no activation: NaN and ±Inf propagate as in tfjs', () => {
    const r = rng(16);
    const xs = [1, 5, 5, 41],
      ks = [3, 3, 41, 1];
    const x = randF(
        r,
        xs.reduce((a, b) => a * b),
      ),
      w = randF(
        r,
        ks.reduce((a, b) => a * b),
      );
    x[2 * 41 + 3] = NaN;
    x[12 * 41 + 35] = Infinity;
    x[20 * 41 + 40] = -Infinity;
    const { y } = depthwiseConv2d(x, xs, w, ks, { strides: [1, 1], dilations: [1, 1], padding: 'same' });
    const want = tf.tidy(() =>
      tf.depthwiseConv2d(tf.tensor4d(x, xs as never), tf.tensor4d(w, ks as never), 1, 'same').dataSync(),
    );
    let nan = 0;
    for (let i = 0; i < want.length; i++) {
      if (!Number.isFinite(want[i]!)) {
        if (Number.isNaN(want[i]!)) nan++;
        expect(
          Object.is(y[i], want[i]) || (Number.isNaN(y[i]!) && Number.isNaN(want[i]!)),
          `element ${i}: ${y[i]} vs ${want[i]}`,
        ).toBe(true);
      }
    }
    expect(nan).toBeGreaterThan(0);
    const finite = (a: ArrayLike<number>) => Float32Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
    expectClose(finite(y), finite(want), 1e-5, 1e-6, 'finite elements');
  });
});

describe('Conv2DTranspose int8', () => {
  /** Naive scatter form of §11.3. */
  function convTransposeRef(
    dy: ArrayLike<number>,
    ds: number[],
    zdy: number,
    w: ArrayLike<number>,
    ks: number[],
    bias: Int32Array | null,
    mult: Float32Array,
    zy: number,
    lo: number,
    hi: number,
    os: number[],
    s: [number, number],
    pt: number,
    pl: number,
  ): number[] {
    const [N, OH, OW, CO] = ds,
      [KH, KW, CI] = ks,
      [, H, W] = os;
    const acc = new Int32Array(N * H * W * CI);
    for (let i = 0; i < acc.length; i++) acc[i] = bias ? bias[i % CI] : 0;
    for (let n = 0; n < N; n++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++)
          for (let co = 0; co < CO; co++) {
            const v = dy[((n * OH + oy) * OW + ox) * CO + co] - zdy;
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * s[0] + ky - pt,
                  ix = ox * s[1] + kx - pl;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                for (let ci = 0; ci < CI; ci++) {
                  const j = ((n * H + iy) * W + ix) * CI + ci;
                  acc[j] = (acc[j] + v * w[((ky * KW + kx) * CI + ci) * CO + co]) | 0;
                }
              }
          }
    return Array.from(acc, (a, j) => requantizeValue(a, mult[j % CI], zy, lo, hi));
  }

  it('equals the naive scatter formula bit for bit and tfjs conv2dTranspose within a step', () => {
    const r = rng(7);
    for (const [os, k, s, pad] of [
      [[2, 8, 8, 5], [3, 3], [2, 2], 'same'],
      [[1, 9, 7, 3], [4, 3], [3, 2], 'valid'],
      [[1, 6, 6, 4], [3, 3], [1, 1], 'same'],
    ] as [number[], [number, number], [number, number], 'same' | 'valid'][]) {
      const [oh, pt] = tfPad(os[1], k[0], s[0], 1, pad),
        [ow, pl] = tfPad(os[2], k[1], s[1], 1, pad);
      const CO = 6,
        ds = [os[0], oh, ow, CO],
        ks = [k[0], k[1], os[3], CO];
      for (const type of ['int8', 'uint8'] as const) {
        const dy = randQ(
            r,
            type,
            ds.reduce((a, b) => a * b),
          ),
          w = randW(
            r,
            ks.reduce((a, b) => a * b),
          );
        const dp = { scale: 0.05, zeroPoint: type === 'int8' ? 3 : 128 };
        const ws = Float32Array.from({ length: os[3] }, () => 0.002 + r() * 0.01);
        const bias = Int32Array.from({ length: os[3] }, () => randInt(r, -2000, 2000));
        const dyf = deq(dy, dp.scale, dp.zeroPoint),
          wf = Float32Array.from(w, (v, i) => v * ws[Math.floor(i / CO) % os[3]]);
        const bf = Float32Array.from(bias, (b, c) => b * fl32(dp.scale) * ws[c]);
        const ref = tf.tidy(
          () =>
            tf
              .add(
                tf.conv2dTranspose(tf.tensor4d(dyf, ds as never), tf.tensor4d(wf, ks as never), os as never, s, pad),
                tf.tensor1d(bf),
              )
              .dataSync() as Float32Array,
        );
        let lo = 0,
          hi = 0;
        ref.forEach((v) => {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        });
        const yp = paramsFor(type, lo, hi);
        const [qlo, qhi] = type === 'int8' ? [-128, 127] : [0, 255];
        const mult = ws.map((sw) => requantizeMultiplier(dp.scale, sw, yp.scale));
        const want = convTransposeRef(dy, ds, dp.zeroPoint, w, ks, bias, mult, yp.zeroPoint, qlo, qhi, os, s, pt, pl);
        forEachIsa((isa) => {
          const { y } = conv2dTransposeInt8(
            {
              dy,
              dyShape: ds,
              dyParams: dp,
              filter: w,
              filterShape: ks,
              filterScales: ws,
              bias,
              yParams: yp,
              outputShape: os,
            },
            { strides: s, padding: pad },
          );
          expectEqualArrays(y, want, `conv2dTranspose ${os} ${type} ${isa}`);
          expectClose(deq(y, yp.scale, yp.zeroPoint), ref, 0, yp.scale * 0.51 + 1e-6, 'vs tfjs');
        });
      }
    }
  });

  it('rejects a dy shape that does not match the output geometry', () => {
    const dy = new Int8Array(1 * 3 * 3 * 2);
    expect(() =>
      conv2dTransposeInt8(
        {
          dy,
          dyShape: [1, 3, 3, 2],
          dyParams: { scale: 1, zeroPoint: 0 },
          filter: new Int8Array(3 * 3 * 4 * 2),
          filterShape: [3, 3, 4, 2],
          filterScales: 1,
          yParams: { scale: 1, zeroPoint: 0 },
          outputShape: [1, 9, 9, 4],
        },
        { strides: 2, padding: 'same' },
      ),
    ).toThrow(/does not match outputShape/);
  });
});
