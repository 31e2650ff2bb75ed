// Data-movement kernels: Concat, Pad, Transpose, StridedSlice, DepthToSpace, Resize.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  concat,
  depthToSpace,
  pad,
  resizeBilinear,
  resizeNearest,
  slice,
  stridedSlice,
  transpose,
} from '../../src/kernels/ops.js';
import { activationBounds, requantizeValue } from '../../src/quant/scheme.js';
import {
  clampToRange,
  deq,
  expectClose,
  expectEqualArrays,
  finish,
  fl32,
  forEachIsa,
  randF,
  randInt,
  randQ,
  rng,
} from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Exact int32 values through tfjs (int32 tensors are carried exactly by every backend). */
const asI32 = (x: ArrayLike<number>, s: number[]) => tf.tensor(Int32Array.from(x), s, 'int32');

describe('Concat', () => {
  it('copies raw data along any axis (float32, int32, int8) as tf.concat does', () => {
    const r = rng(30);
    for (const [shapes, axis] of [
      [
        [
          [2, 3, 4],
          [2, 5, 4],
          [2, 1, 4],
        ],
        1,
      ],
      [
        [
          [2, 3],
          [2, 3],
        ],
        -1,
      ],
      [
        [
          [1, 2, 2, 3],
          [4, 2, 2, 3],
        ],
        0,
      ],
      [
        [
          [2, 2, 2, 2, 2, 1],
          [2, 2, 2, 2, 2, 3],
        ],
        5,
      ],
    ] as [number[][], number][]) {
      const fl = shapes.map((s) => randF(r, size(s)));
      const res = concat(
        fl.map((data, i) => ({ data, shape: shapes[i] })),
        axis,
      );
      expectEqualArrays(
        res.y,
        tf
          .concat(
            fl.map((d, i) => tf.tensor(d, shapes[i])),
            axis,
          )
          .dataSync(),
        `concat f32 axis ${axis}`,
      );
      expect(res.shape).toEqual(
        tf.concat(
          fl.map((d, i) => tf.tensor(d, shapes[i])),
          axis,
        ).shape,
      );
      const q = shapes.map((s) => randQ(r, 'int8', size(s)) as Int8Array);
      expectEqualArrays(
        concat(
          q.map((data, i) => ({ data, shape: shapes[i] })),
          axis,
        ).y,
        tf
          .concat(
            q.map((d, i) => asI32(d, shapes[i])),
            axis,
          )
          .dataSync(),
        `concat int8 axis ${axis}`,
      );
    }
  });

  it('requantizes each 8-bit input to the output parameters (copy when they match), bit for bit', () => {
    const r = rng(31);
    const shapes = [
      [2, 4, 3, 5],
      [2, 4, 3, 7],
      [2, 4, 3, 2],
    ];
    for (const type of ['int8', 'uint8'] as const) {
      const data = shapes.map((s) => randQ(r, type, size(s)));
      const z = type === 'int8' ? 0 : 128;
      const params = [
        { scale: 0.05, zeroPoint: z + 3 },
        { scale: 0.1, zeroPoint: z - 7 },
        { scale: 0.05, zeroPoint: z + 3 },
      ];
      const yp = { scale: 0.05, zeroPoint: z + 3 };
      for (const act of ['none', 'relu'] as const) {
        const [lo, hi] = activationBounds(type, yp.zeroPoint, fl32(yp.scale), act);
        const parts = data.map((d, i) =>
          Array.from(d, (q) =>
            requantizeValue(
              q - params[i].zeroPoint,
              fl32(fl32(params[i].scale) / fl32(yp.scale)),
              yp.zeroPoint,
              lo,
              hi,
            ),
          ),
        );
        const want: number[] = [];
        for (let row = 0; row < 2 * 4 * 3; row++)
          parts.forEach((p, i) => want.push(...p.slice(row * shapes[i][3], (row + 1) * shapes[i][3])));
        forEachIsa((isa) => {
          const res = concat(
            data.map((d, i) => ({ data: d, shape: shapes[i], params: params[i] })),
            3,
            { yParams: yp, activation: act },
          );
          expect(res.shape).toEqual([2, 4, 3, 14]);
          expectEqualArrays(res.y, want, `concatQ ${type} ${act} ${isa}`);
        });
      }
    }
  });

  it('rejects mismatched inputs', () => {
    expect(() =>
      concat(
        [
          { data: new Float32Array(6), shape: [2, 3] },
          { data: new Float32Array(6), shape: [3, 2] },
        ],
        1,
      ),
    ).toThrow(/differs from/);
    expect(() =>
      concat(
        [
          { data: new Float32Array(6), shape: [2, 3] },
          { data: new Int8Array(6) as never, shape: [2, 3] },
        ],
        1,
      ),
    ).toThrow(/must be a Float32Array/);
    expect(() => concat([{ data: new Float32Array(6), shape: [2, 3] }], 2)).toThrow(/axis must be in/);
    expect(() =>
      concat([{ data: new Int8Array(6), shape: [2, 3] }], 1, { yParams: { scale: 1, zeroPoint: 0 } }),
    ).toThrow(/inputs\[0\].params/);
  });
});

describe('Pad, Transpose, DepthToSpace', () => {
  it('pad matches tf.pad with the constant (zero point for 8-bit data)', () => {
    const r = rng(32);
    for (const [s, p] of [
      [
        [2, 3, 4, 5],
        [
          [0, 0],
          [1, 2],
          [3, 0],
          [0, 0],
        ],
      ],
      [[7], [[2, 5]]],
      // The last dimension alone (rows of 3, 9, 24 and 42 values: every short-copy width, in
      // bytes for uint8 and four times that for float32), and a short innermost run under a
      // padded outer dimension (rows found by counting, not by division).
      [
        [2, 3, 4, 24],
        [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 4],
        ],
      ],
      [
        [3, 5, 9],
        [
          [0, 0],
          [0, 0],
          [1, 2],
        ],
      ],
      [
        [4, 3],
        [
          [0, 0],
          [2, 0],
        ],
      ],
      [
        [5, 36],
        [
          [0, 0],
          [2, 4],
        ],
      ],
      [
        [2, 3, 5, 12],
        [
          [0, 0],
          [1, 0],
          [0, 2],
          [0, 0],
        ],
      ],
      [
        [2, 1, 3, 1, 2, 2],
        [
          [1, 0],
          [0, 1],
          [2, 2],
          [0, 0],
          [1, 1],
          [0, 3],
        ],
      ],
    ] as [number[], [number, number][]][]) {
      const x = randF(r, size(s));
      expectEqualArrays(pad(x, s, p, 1.5).y, tf.pad(tf.tensor(x, s), p, 1.5).dataSync(), 'pad f32');
      const q = randQ(r, 'uint8', size(s));
      const res = pad(q, s, p, 131);
      expectEqualArrays(res.y, tf.pad(asI32(q, s), p, 131).dataSync(), 'pad u8');
      expect(res.shape).toEqual(tf.pad(asI32(q, s), p).shape);
    }
    expect(() => pad(new Int8Array(4), [4], [[1, 1]], 300)).toThrow(/value must be in/);
    expect(() => pad(new Int8Array(4), [4], [[1, -1]])).toThrow(/paddings\[0\]\[1\]/);
  });

  it('transpose matches tf.transpose for every permutation up to 6-D', () => {
    const r = rng(33);
    const perms = (n: number): number[][] =>
      n === 1
        ? [[0]]
        : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    for (const s of [
      [3, 5],
      [2, 3, 4],
      [2, 1, 3, 4],
      [2, 3, 1, 2, 3],
      [2, 1, 2, 3, 2, 2],
    ]) {
      const x = randQ(r, 'int8', size(s));
      const xi = asI32(x, s);
      const all = perms(s.length);
      for (let k = 0; k < all.length; k += Math.max(1, Math.floor(all.length / 40))) {
        const res = transpose(x, s, all[k]);
        expectEqualArrays(res.y, tf.transpose(xi, all[k]).dataSync(), `transpose ${s} ${all[k]}`);
      }
    }
    const xf = randF(r, 60);
    expectEqualArrays(
      transpose(xf, [3, 4, 5], [2, 0, 1]).y,
      tf.transpose(tf.tensor(xf, [3, 4, 5]), [2, 0, 1]).dataSync(),
      'transpose f32',
    );
    expect(() => transpose(xf, [3, 4, 5], [0, 0, 1])).toThrow(/permutation/);
    // Layouts swapped on image-sized tensors (NHWC ↔ NCHW, and a channel shuffle): the tiled
    // copy, with sizes that leave partial tiles, for 1- and 4-byte elements.
    for (const [s, p] of [
      [
        [2, 9, 13, 37],
        [0, 3, 1, 2],
      ],
      [
        [2, 37, 9, 13],
        [0, 2, 3, 1],
      ],
      [
        [1, 5, 7, 2, 40],
        [0, 1, 2, 4, 3],
      ],
      [
        [3, 70, 33],
        [2, 1, 0],
      ],
    ] as const) {
      const x8 = randQ(r, 'int8', size([...s]));
      expectEqualArrays(
        transpose(x8, [...s], [...p]).y,
        tf.transpose(asI32(x8, [...s]), [...p]).dataSync(),
        `transpose int8 ${s} ${p}`,
      );
      const x32 = randF(r, size([...s]));
      expectEqualArrays(
        transpose(x32, [...s], [...p]).y,
        tf.transpose(tf.tensor(x32, [...s]), [...p]).dataSync(),
        `transpose f32 ${s} ${p}`,
      );
    }
  });

  it('depthToSpace matches tf.depthToSpace (DCR)', () => {
    const r = rng(34);
    for (const [s, b] of [
      [[2, 3, 4, 8], 2],
      [[1, 2, 2, 27], 3],
      [[1, 5, 3, 16], 4],
    ] as [number[], number][]) {
      const x = randF(r, size(s));
      const res = depthToSpace(x, s, b);
      const t = tf.depthToSpace(tf.tensor4d(x, s as never), b);
      expectEqualArrays(res.y, t.dataSync(), `d2s ${s}`);
      expect(res.shape).toEqual(t.shape);
    }
    expect(() => depthToSpace(new Float32Array(10), [1, 1, 1, 10], 2)).toThrow(/divisible/);
  });
});

describe('StridedSlice (TF semantics)', () => {
  it('matches tf.stridedSlice for random begin/end/strides (negative too) and begin/end/shrink masks', () => {
    const r = rng(35);
    for (let t = 0; t < 300; t++) {
      const rank = randInt(r, 1, 5);
      const s = Array.from({ length: rank }, () => randInt(r, 1, 6));
      const n = randInt(r, 1, rank);
      const begin = Array.from({ length: n }, () => randInt(r, -8, 8));
      const end = Array.from({ length: n }, () => randInt(r, -8, 8));
      const strides = Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * randInt(r, 1, 3));
      const beginMask = randInt(r, 0, (1 << n) - 1),
        endMask = randInt(r, 0, (1 << n) - 1);
      let shrinkAxisMask = 0;
      for (let i = 0; i < n; i++) {
        if (r() < 0.2) {
          shrinkAxisMask |= 1 << i;
          begin[i] = randInt(r, -s[i], s[i] - 1);
          strides[i] = 1;
        }
      }
      const x = randF(r, size(s));
      // tfjs mishandles shrinkAxisMask combined with masks on other axes (wrong values, or a
      // crash on the cpu backend), so the reference slices those axes as [b, b + 1) with
      // TF's definition of shrinking and drops them from the shape.
      const b2 = [...begin],
        e2 = [...end];
      let bm2 = beginMask,
        em2 = endMask;
      const keep: number[] = [];
      for (let i = 0; i < rank; i++) {
        if ((shrinkAxisMask >> i) & 1) {
          b2[i] = begin[i] < 0 ? begin[i] + s[i] : begin[i];
          e2[i] = b2[i] + 1;
          bm2 &= ~(1 << i);
          em2 &= ~(1 << i);
        } else keep.push(i);
      }
      const full = tf.stridedSlice(tf.tensor(x, s), b2, e2, strides, bm2, em2, 0, 0, 0);
      const want = { shape: keep.map((i) => full.shape[i]), dataSync: () => full.dataSync() };
      const got = stridedSlice(x, s, begin, end, { strides, beginMask, endMask, shrinkAxisMask });
      expect(
        got.shape,
        `case ${t}: ${JSON.stringify({ s, begin, end, strides, beginMask, endMask, shrinkAxisMask })}`,
      ).toEqual(want.shape);
      expectEqualArrays(
        got.y,
        want.dataSync(),
        `case ${t}: ${JSON.stringify({ s, begin, end, strides, beginMask, endMask, shrinkAxisMask })}`,
      );
    }
  });

  it('supports ellipsis and new-axis masks', () => {
    const s = [2, 3, 4, 5];
    const x = randF(rng(36), size(s));
    const xt = tf.tensor(x, s);
    const specs: [number[], number[], number[], number, number, number, number, number][] = [
      [[0, 1], [0, 3], [1, 2], 0, 0, 1, 0, 0], // [..., 1:3:2]
      [[1, 0, 0], [2, 0, 0], [1, 1, 1], 0, 0, 2, 4, 1], // [1, ..., newaxis]
      [[0, 0, 2], [0, 0, 4], [1, 1, 1], 0, 0, 0, 3, 0], // [newaxis, newaxis, 2:4]
      [[0, -1], [0, 0], [1, 1], 1, 0, 0, 0, 2], // [:, -1]
    ];
    for (const [b, e, st, bm, em, el, na, sh] of specs) {
      const want = tf.stridedSlice(xt, b, e, st, bm, em, el, na, sh);
      const got = stridedSlice(x, s, b, e, {
        strides: st,
        beginMask: bm,
        endMask: em,
        ellipsisMask: el,
        newAxisMask: na,
        shrinkAxisMask: sh,
      });
      expect(got.shape).toEqual(want.shape);
      expectEqualArrays(got.y, want.dataSync(), `ellipsis/newaxis ${JSON.stringify([b, e, st, bm, em, el, na, sh])}`);
    }
    const sl = slice(x, s, [1, 0, 2, 1], [1, -1, 2, 3]);
    expect(sl.shape).toEqual([1, 3, 2, 3]);
    expectEqualArrays(sl.y, tf.slice(xt, [1, 0, 2, 1], [1, -1, 2, 3]).dataSync(), 'slice');
    expect(() => slice(x, s, [0, 0, 3, 0], [1, 1, 2, 1])).toThrow(/size\[2\]/);
    expect(() => stridedSlice(x, s, [0], [1], { strides: [0] })).toThrow(/strides\[0\] must be non-zero/);
    expect(() => stridedSlice(x, s, [5], [6], { shrinkAxisMask: 1 })).toThrow(/out of bounds/);
    expect(() => stridedSlice(x, s, [0, 0], [1, 1], { ellipsisMask: 3 })).toThrow(/multiple ellipses/);
  });
});

describe('Resize', () => {
  const cfgs: [number[], [number, number], boolean, boolean][] = [
    [[2, 5, 7, 3], [11, 13], false, false],
    [[1, 6, 6, 4], [3, 4], false, false],
    [[1, 5, 7, 3], [11, 9], true, false],
    [[1, 5, 7, 3], [11, 9], false, true],
    [[1, 8, 8, 2], [3, 5], false, true],
    [[2, 4, 4, 17], [8, 8], false, true],
    [[1, 1, 1, 3], [4, 1], true, false],
    // Channels in whole 8-lane vectors and a tail (the vector row kernels), with enough outputs
    // that a contracted multiply-add would move some across a rounding boundary.
    [[1, 6, 9, 40], [13, 17], false, true],
    [[2, 5, 5, 24], [9, 12], true, false],
    [[1, 7, 6, 64], [14, 12], false, false],
  ];

  it('float32 bilinear / nearest match tfjs within 1e-5 relative (nearest exactly)', () => {
    const r = rng(37);
    for (const [s, size2, ac, hp] of cfgs) {
      const x = randF(r, size(s), 4);
      const xt = tf.tensor4d(x, s as never);
      const b = resizeBilinear(x, s, size2, { alignCorners: ac, halfPixelCenters: hp });
      expectClose(
        b.y,
        tf.image.resizeBilinear(xt, size2, ac, hp).dataSync(),
        1e-5,
        1e-5,
        `bilinear ${s} ${size2} ${ac} ${hp}`,
      );
      const n = resizeNearest(x, s, size2, { alignCorners: ac, halfPixelCenters: hp });
      expectEqualArrays(
        n.y,
        tf.image.resizeNearestNeighbor(xt, size2, ac, hp).dataSync(),
        `nearest ${s} ${size2} ${ac} ${hp}`,
      );
      expect(n.shape).toEqual([s[0], size2[0], size2[1], s[3]]);
    }
  });

  it('int8 bilinear equals the documented float order bit for bit and tfjs within a step', () => {
    const r = rng(38);
    for (const [s, [oh, ow], ac, hp] of cfgs) {
      for (const type of ['int8', 'uint8'] as const) {
        const x = randQ(r, type, size(s));
        const xp = { scale: 0.04, zeroPoint: type === 'int8' ? -5 : 120 };
        const yp = { scale: 0.05, zeroPoint: type === 'int8' ? 2 : 130 };
        const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
        const axis = (inS: number, outS: number) => {
          const ratio = ac && outS > 1 ? (inS - 1) / (outS - 1) : inS / outS;
          return Array.from({ length: outS }, (_, o) => {
            const src = hp ? ratio * (o + 0.5) - 0.5 : ratio * o;
            const f = Math.floor(src);
            return {
              lo: Math.min(inS - 1, Math.max(0, f)),
              hi: Math.min(inS - 1, Math.max(0, Math.ceil(src))),
              frac: fl32(src - f),
            };
          });
        };
        const ry = axis(s[1], oh),
          rx = axis(s[2], ow);
        const m = fl32(fl32(xp.scale) / fl32(yp.scale));
        const [N, H, W, C] = s;
        const at = (n: number, y: number, xx: number, c: number) => x[((n * H + y) * W + xx) * C + c] - xp.zeroPoint;
        const want: number[] = [];
        for (let n = 0; n < N; n++)
          for (let y = 0; y < oh; y++)
            for (let xx = 0; xx < ow; xx++)
              for (let c = 0; c < C; c++) {
                const iy = ry[y],
                  ix = rx[xx];
                const tl = at(n, iy.lo, ix.lo, c),
                  tr = at(n, iy.lo, ix.hi, c),
                  bl = at(n, iy.hi, ix.lo, c),
                  br = at(n, iy.hi, ix.hi, c);
                const top = fl32(tl + fl32(fl32(tr - tl) * ix.frac)),
                  bot = fl32(bl + fl32(fl32(br - bl) * ix.frac));
                const v = fl32(top + fl32(fl32(bot - top) * iy.frac));
                want.push(finish(fl32(v * m), yp.zeroPoint, lo, hi));
              }
        forEachIsa((isa) => {
          const { y } = resizeBilinear(x, s, [oh, ow], {
            alignCorners: ac,
            halfPixelCenters: hp,
            xParams: xp,
            yParams: yp,
          });
          expectEqualArrays(y, want, `bilinear int8 ${s} ${type} ${isa}`);
        });
        const ref = tf.image
          .resizeBilinear(tf.tensor4d(deq(x, xp.scale, xp.zeroPoint), s as never), [oh, ow], ac, hp)
          .dataSync() as Float32Array;
        const { y } = resizeBilinear(x, s, [oh, ow], {
          alignCorners: ac,
          halfPixelCenters: hp,
          xParams: xp,
          yParams: yp,
        });
        expectClose(
          deq(y, yp.scale, yp.zeroPoint),
          clampToRange(ref, yp.scale, yp.zeroPoint, lo, hi),
          0,
          yp.scale * 0.51 + 1e-5,
          'bilinear int8 vs tfjs',
        );
        const nq = resizeNearest(x, s, [oh, ow], { alignCorners: ac, halfPixelCenters: hp });
        expectEqualArrays(
          nq.y,
          tf.image.resizeNearestNeighbor(asI32(x, s) as tf.Tensor4D, [oh, ow], ac, hp).dataSync(),
          'nearest int8',
        );
      }
    }
    expect(() =>
      resizeBilinear(new Float32Array(4), [1, 2, 2, 1], [3, 3], { alignCorners: true, halfPixelCenters: true }),
    ).toThrow(/cannot both be true/);
    expect(() => resizeBilinear(new Int8Array(4), [1, 2, 2, 1], [3, 3])).toThrow(/xParams must be an object/);
    expect(() => resizeNearest(new Int8Array(4), [1, 2, 2, 1], [0, 3])).toThrow(/size\[0\]/);
  });
});
