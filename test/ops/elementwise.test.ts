// Elementwise kernels: broadcasting binary ops, activations (float + LUT), PReLU, bias add, softmax.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  activation,
  applyLut,
  biasAdd,
  binary,
  broadcastShape,
  buildLut,
  prelu,
  softmax,
  softmaxTable,
  type OpsActivation,
  type OpsBinaryOp,
} from '../../src/kernels/ops.js';
import { activationBounds, quantizeValue } from '../../src/quant/scheme.js';
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
  rne,
} from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

/** Index of the broadcast source element for output index i. */
function bcastIndex(out: number[], src: number[], i: number): number {
  let idx = 0,
    stride = 1;
  for (let d = out.length - 1, k = src.length - 1; d >= 0; d--, k--) {
    const o = i % out[d];
    i = Math.floor(i / out[d]);
    if (k >= 0) {
      if (src[k] !== 1) idx += o * stride;
      stride *= src[k];
    }
  }
  return idx;
}

const shapes: [number[], number[]][] = [
  [
    [56, 56, 24],
    [56, 56, 24],
  ],
  [[2, 5, 7, 13], [13]],
  [[2, 5, 7, 13], []],
  [[1], [3, 4, 37]],
  [
    [4, 1, 9],
    [1, 6, 1],
  ],
  [
    [2, 3, 1, 5, 1, 3],
    [3, 4, 1, 2, 1],
  ],
  [[33], [1]],
  [
    [3, 1],
    [3, 40],
  ],
  // A full operand and a short per-channel block (an image's mean or scale): the table path.
  [
    [1, 40, 40, 3],
    [1, 1, 1, 3],
  ],
  [[3], [2, 30, 30, 3]],
  [[1, 32, 32, 8], [8]],
  // A scalar against ≥ 1024 values: the whole op is one 256-entry lookup (the vector lookup kernels).
  [[4, 16, 20], []],
  [[1], [2, 30, 25]],
  // A per-channel vector on an image (its input normalization), not a whole number of blocks.
  [
    [1, 19, 23, 3],
    [1, 1, 1, 3],
  ],
];

describe('binary ops int8 with broadcasting', () => {
  it('equal the documented float-based formulas bit for bit on every ISA path', () => {
    const r = rng(20);
    const ops: OpsBinaryOp[] = ['add', 'sub', 'mul', 'maximum', 'minimum'];
    shapes.forEach(([as, bs], si) => {
      for (const type of ['int8', 'uint8'] as const) {
        const out = broadcastShape(as, bs);
        const a = randQ(
            r,
            type,
            as.reduce((p, q) => p * q, 1),
          ),
          b = randQ(
            r,
            type,
            bs.reduce((p, q) => p * q, 1),
          );
        const zr = () => (type === 'int8' ? randInt(r, -128, 127) : randInt(r, 0, 255));
        const ap = { scale: 0.01 + r() * 0.2, zeroPoint: zr() },
          bp = { scale: 0.01 + r() * 0.2, zeroPoint: zr() };
        const yp = { scale: 0.01 + r() * 0.3, zeroPoint: zr() };
        for (const op of ops) {
          const act = (['none', 'relu', 'relu6'] as const)[(si + ops.indexOf(op)) % 3];
          const [lo, hi] = activationBounds(type, yp.zeroPoint, fl32(yp.scale), act);
          const ma = fl32(fl32(ap.scale) / fl32(yp.scale)),
            mb = fl32(fl32(bp.scale) / fl32(yp.scale));
          const mm = fl32(fl32(fl32(ap.scale) * fl32(bp.scale)) / fl32(yp.scale));
          const n = out.reduce((p, q) => p * q, 1);
          const want: number[] = [];
          for (let i = 0; i < n; i++) {
            const da = a[bcastIndex(out, as, i)] - ap.zeroPoint,
              db = b[bcastIndex(out, bs, i)] - bp.zeroPoint;
            const va = fl32(da * ma),
              vb = fl32(db * mb);
            const v =
              op === 'mul'
                ? fl32(fl32(da * db) * mm)
                : op === 'add'
                  ? fl32(va + vb)
                  : op === 'sub'
                    ? fl32(va - vb)
                    : op === 'maximum'
                      ? Math.max(va, vb)
                      : Math.min(va, vb);
            want.push(finish(v, yp.zeroPoint, lo, hi));
          }
          forEachIsa((isa) => {
            const res = binary(op, a, as, b, bs, { a: ap, b: bp, y: yp, activation: act });
            expect(res.shape).toEqual(out);
            expectEqualArrays(res.y, want, `${op} ${as}|${bs} ${type} ${isa}`);
          });
        }
      }
    });
  });

  it('compute the right op: dequantized result within a step of tfjs on dequantized inputs', () => {
    const r = rng(21);
    for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
      const [as, bs] = shapes[4];
      const a = randQ(r, 'int8', 36),
        b = randQ(r, 'int8', 6);
      const ap = { scale: 0.03, zeroPoint: 4 },
        bp = { scale: 0.05, zeroPoint: -9 };
      const at = tf.tensor(deq(a, ap.scale, ap.zeroPoint), as),
        bt = tf.tensor(deq(b, bp.scale, bp.zeroPoint), bs);
      const ref = tf[op](at, bt).dataSync() as Float32Array;
      const yp = paramsFor('int8', Math.min(...ref), Math.max(...ref));
      const { y } = binary(op, a, as, b, bs, { a: ap, b: bp, y: yp });
      expectClose(
        deq(y, yp.scale, yp.zeroPoint),
        clampToRange(ref, yp.scale, yp.zeroPoint, -128, 127),
        0,
        yp.scale * 0.51 + 1e-6,
        `${op} vs tfjs`,
      );
    }
  });

  it('float32 binary ops match tfjs within 1e-5 relative for every broadcasting pattern', () => {
    const r = rng(22);
    for (const [as, bs] of shapes) {
      const a = randF(
          r,
          as.reduce((p, q) => p * q, 1),
          3,
        ),
        b = randF(
          r,
          bs.reduce((p, q) => p * q, 1),
          3,
        );
      for (const b2 of b.keys()) if (Math.abs(b[b2]) < 0.05) b[b2] = 0.5;
      const at = tf.tensor(a, as),
        bt = tf.tensor(b, bs);
      for (const op of ['add', 'sub', 'mul', 'maximum', 'minimum', 'div', 'squaredDifference'] as const) {
        expectClose(binary(op, a, as, b, bs).y, tf[op](at, bt).dataSync(), 1e-5, 1e-7, `${op} ${as}|${bs}`);
      }
      expectClose(
        binary('add', a, as, b, bs, { activation: 'relu6' }).y,
        tf.clipByValue(tf.add(at, bt), 0, 6).dataSync(),
        1e-5,
        0,
        'add+relu6',
      );
    }
  });

  it('rejects bad arguments', () => {
    const q = { a: { scale: 1, zeroPoint: 0 }, b: { scale: 1, zeroPoint: 0 }, y: { scale: 1, zeroPoint: 0 } };
    expect(() => binary('add', new Int8Array(6), [2, 3], new Int8Array(4), [4], q)).toThrow(/not broadcast-compatible/);
    expect(() => binary('div', new Int8Array(3), [3], new Int8Array(3), [3], q)).toThrow(/not supported for 8-bit/);
    expect(() => binary('add', new Int8Array(3), [3], new Uint8Array(3) as never, [3], q)).toThrow(/same element type/);
    expect(() => binary('pow' as never, new Float32Array(3), [3], new Float32Array(3), [3])).toThrow(
      /op must be one of/,
    );
    expect(() => binary('add', new Int8Array(3), [3], new Int8Array(3), [3])).toThrow(/q must be an object/);
    expect(() =>
      binary('add', new Int8Array(3), [3], new Int8Array(3), [3], { ...q, y: { scale: NaN, zeroPoint: 0 } }),
    ).toThrow(/q.y.scale/);
  });
});

describe('activations', () => {
  const tfAct: Record<string, (t: tf.Tensor) => tf.Tensor> = {
    linear: (t) => t,
    relu: tf.relu,
    relu6: tf.relu6,
    leakyRelu: (t) => tf.leakyRelu(t, 0.2),
    elu: tf.elu,
    sigmoid: tf.sigmoid,
    tanh: tf.tanh,
    hardSwish: (t) => tf.mul(t, tf.div(tf.relu6(tf.add(t, 3)), 6)),
    swish: (t) => tf.mul(t, tf.sigmoid(t)),
    hardSigmoid: (t) => tf.clipByValue(tf.add(tf.mul(t, 0.2), 0.5), 0, 1),
  };
  const formula: Record<string, (x: number) => number> = {
    linear: (x) => x,
    relu: (x) => Math.max(x, 0),
    relu6: (x) => Math.min(Math.max(x, 0), 6),
    leakyRelu: (x) => (x >= 0 ? x : 0.2 * x),
    elu: (x) => (x > 0 ? x : Math.expm1(x)),
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    tanh: Math.tanh,
    hardSwish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
    swish: (x) => x / (1 + Math.exp(-x)),
    hardSigmoid: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
  };

  it('float32 activations match tfjs within 1e-5 relative', () => {
    const x = randF(rng(23), 5000, 8);
    for (const k of Object.keys(tfAct) as OpsActivation[]) {
      expectClose(activation(k, x), tfAct[k](tf.tensor1d(x)).dataSync(), 1e-5, 1e-6, k);
    }
  });

  it('sigmoid and swish equal the formula in double within 4e-7 relative on every ISA path (the AVX-512 one has its own exp), NaN and ±Inf included', () => {
    // Every range exp meets (its clamp at ±104, the 2^n scaling, underflow to 0 and overflow to
    // ∞ of e^−x), and a length that leaves a masked tail.
    const r = rng(31);
    const x = new Float32Array(4099);
    for (let i = 0; i < x.length; i++) x[i] = fl32((r() - 0.5) * (i % 3 === 0 ? 240 : i % 3 === 1 ? 30 : 2));
    x.set([0, -0, 88.7, -88.7, 103.9, -103.9, 150, -150, 1e-30, -1e-30, Infinity, -Infinity, NaN], 0);
    forEachIsa((isa) => {
      for (const k of ['sigmoid', 'swish'] as const) {
        const got = activation(k, x);
        for (let i = 0; i < x.length; i++) {
          const want = formula[k](x[i]!);
          if (Number.isNaN(want)) {
            expect(Number.isNaN(got[i]!), `${k} ${isa} x=${x[i]}`).toBe(true);
            continue;
          }
          const err = got[i] === want ? 0 : Math.abs(got[i]! - want);
          // Below −88.7, e^−x overflows float32 and the result is 0 (both paths) where the double
          // formula gives less than 1e-35 in magnitude.
          expect(err, `${k} ${isa} x=${x[i]}: ${got[i]} vs ${want}`).toBeLessThanOrEqual(4e-7 * Math.abs(want) + 1e-35);
        }
      }
    });
  });

  it('LUT tables equal the float formula quantized (within half a step) and apply bit for bit', () => {
    const r = rng(24);
    for (const k of Object.keys(formula) as OpsActivation[]) {
      for (const [xt, yt] of [
        ['int8', 'int8'],
        ['uint8', 'int8'],
        ['int8', 'uint8'],
      ] as const) {
        const xp = {
          type: xt,
          scale: 0.02 + r() * 0.06,
          zeroPoint: xt === 'int8' ? randInt(r, -20, 20) : randInt(r, 100, 150),
        };
        const yp = {
          type: yt,
          scale: 1 / 128 + r() * 0.03,
          zeroPoint: yt === 'int8' ? randInt(r, -30, 0) : randInt(r, 60, 128),
        };
        const table = buildLut(k, { x: xp, y: yp });
        expect(table.length).toBe(256);
        const [qmin, qmax] = yt === 'int8' ? [-128, 127] : [0, 255];
        for (let i = 0; i < 256; i++) {
          const q = xt === 'int8' ? (i << 24) >> 24 : i;
          const f = formula[k](fl32(fl32(q - xp.zeroPoint) * fl32(xp.scale)));
          const got = yt === 'int8' ? (table[i] << 24) >> 24 : table[i];
          const exact = f / fl32(yp.scale) + yp.zeroPoint;
          const clamped = Math.min(Math.max(exact, qmin), qmax);
          expect(Math.abs(got - clamped), `${k} ${xt}->${yt} q=${q}`).toBeLessThanOrEqual(0.5 + 1e-3);
          expect(got).toBe(quantizeValue(fl32(f), yp.scale, yp.zeroPoint, qmin, qmax));
        }
        const x = randQ(r, xt, 1001);
        forEachIsa((isa) => {
          const y = applyLut(table, x, yt);
          expectEqualArrays(
            y,
            Array.from(x, (v) => {
              const b = table[v & 255];
              return yt === 'int8' ? (b << 24) >> 24 : b;
            }),
            `apply ${k} ${isa}`,
          );
        });
      }
    }
    expect(() =>
      buildLut('sigmoid', {
        x: { type: 'int8', scale: 0.1, zeroPoint: 200 },
        y: { type: 'int8', scale: 1, zeroPoint: 0 },
      }),
    ).toThrow(/params.x.zeroPoint/);
    expect(() => applyLut(new Uint8Array(255), new Int8Array(3))).toThrow(/table has 255 elements/);
  });

  it('PReLU int8 equals the two-multiplier formula and tfjs prelu within a step; float matches tfjs', () => {
    const r = rng(25);
    // 19 channels: whole vectors and a tail; 3: a tail alone; 64: whole vectors (AVX2: 8, AVX-512: 16 lanes).
    for (const [type, C] of [
      ['int8', 19],
      ['uint8', 19],
      ['int8', 3],
      ['uint8', 64],
    ] as const) {
      const x = randQ(r, type, 7 * C);
      const alpha = Float32Array.from({ length: C }, () => r() * 0.6 - 0.1);
      const xp = { scale: 0.04, zeroPoint: type === 'int8' ? 3 : 130 };
      const yp = { scale: 0.03, zeroPoint: type === 'int8' ? -20 : 100 };
      const [lo, hi] = type === 'int8' ? [-128, 127] : [0, 255];
      const mp = fl32(fl32(xp.scale) / fl32(yp.scale));
      const want = Array.from(x, (q, i) => {
        const d = q - xp.zeroPoint;
        const m = d >= 0 ? mp : fl32(fl32(fl32(xp.scale) * alpha[i % C]) / fl32(yp.scale));
        return finish(fl32(d * m), yp.zeroPoint, lo, hi);
      });
      forEachIsa((isa) =>
        expectEqualArrays(prelu(x, alpha, { xParams: xp, yParams: yp }), want, `prelu ${type} ${isa}`),
      );
      const ref = tf
        .prelu(tf.tensor2d(deq(x, xp.scale, xp.zeroPoint), [7, C]), tf.tensor1d(alpha) as never)
        .dataSync() as Float32Array;
      expectClose(
        deq(prelu(x, alpha, { xParams: xp, yParams: yp }), yp.scale, yp.zeroPoint),
        clampToRange(ref, yp.scale, yp.zeroPoint, lo, hi),
        0,
        yp.scale * 0.51 + 1e-6,
        'prelu vs tfjs',
      );
    }
    const xf = randF(r, 60);
    const al = randF(r, 6);
    expectClose(
      prelu(xf, al),
      tf.prelu(tf.tensor2d(xf, [10, 6]), tf.tensor1d(al) as never).dataSync(),
      1e-6,
      0,
      'prelu f32',
    );
    const bias = randF(r, 6);
    expectClose(
      biasAdd(xf, bias, 'relu'),
      tf.relu(tf.add(tf.tensor2d(xf, [10, 6]), tf.tensor1d(bias))).dataSync(),
      1e-6,
      0,
      'biasAdd',
    );
    expect(() => prelu(xf, new Float32Array(7))).toThrow(/not a multiple/);
  });
});

describe('softmax', () => {
  function naiveSoftmaxQ(
    x: ArrayLike<number>,
    rows: number,
    cols: number,
    beta: number,
    scale: number,
    yType: 'int8' | 'uint8',
  ): number[] {
    const t = fl32(fl32(beta) * fl32(scale));
    const T = Array.from({ length: 256 }, (_, j) => rne(Math.exp(-j * t) * 2 ** 22));
    const zo = yType === 'int8' ? -128 : 0;
    const out: number[] = [];
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let i = 0; i < cols; i++) m = Math.max(m, x[r * cols + i]);
      let s = 0;
      for (let i = 0; i < cols; i++) s += T[m - x[r * cols + i]];
      for (let i = 0; i < cols; i++) {
        const num = T[m - x[r * cols + i]] * 256;
        let q = Math.floor(num / s);
        const rem = num - q * s;
        if (2 * rem > s || (2 * rem === s && q % 2 === 1)) q++;
        out.push(Math.min(q, 255) + zo);
      }
    }
    return out;
  }

  it('8-bit softmax equals the integer formula bit for bit, is order-independent and close to tfjs', () => {
    const r = rng(26);
    for (const [rows, cols] of [
      [5, 1000],
      [17, 10],
      [3, 1],
      [2, 257],
    ]) {
      for (const xt of ['int8', 'uint8'] as const) {
        for (const yt of ['int8', 'uint8'] as const) {
          const x = randQ(r, xt, rows * cols);
          const scale = 0.02 + r() * 0.2,
            beta = 1 + (rows % 2);
          const table = softmaxTable(beta, scale);
          const want = naiveSoftmaxQ(x, rows, cols, beta, scale, yt);
          const tw = Array.from({ length: 256 }, (_, j) =>
            rne(Math.exp(-j * fl32(fl32(beta) * fl32(scale))) * 2 ** 22),
          );
          expectEqualArrays(table, tw, 'softmax table');
          forEachIsa((isa) =>
            expectEqualArrays(
              softmax(x, [rows, cols], { beta, xScale: scale, yType: yt }),
              want,
              `softmax ${rows}x${cols} ${xt}->${yt} ${isa}`,
            ),
          );
          // Order independence: reversing each row reverses the output.
          const xr = x.slice();
          for (let i = 0; i < rows; i++) xr.subarray(i * cols, (i + 1) * cols).reverse();
          const yr = softmax(xr, [rows, cols], { beta, xScale: scale, yType: yt });
          for (let i = 0; i < rows; i++) yr.subarray(i * cols, (i + 1) * cols).reverse();
          expectEqualArrays(yr, want, 'reversed rows');
          const zp = xt === 'int8' ? 0 : 128;
          const ref = tf.softmax(tf.mul(tf.tensor2d(deq(x, scale, zp), [rows, cols]), beta)).dataSync() as Float32Array;
          const yz = yt === 'int8' ? -128 : 0;
          expectClose(
            deq(softmax(x, [rows, cols], { beta, xScale: scale, yType: yt }), 1 / 256, yz),
            clampToRange(ref, 1 / 256, yz, yz, yz + 255),
            0,
            0.51 / 256 + 1e-6,
            'softmax vs tfjs',
          );
        }
      }
    }
  });

  it('float32 softmax matches tfjs within 1e-5 relative', () => {
    const r = rng(27);
    const x = randF(r, 7 * 301, 10);
    expectClose(softmax(x, [7, 301]), tf.softmax(tf.tensor2d(x, [7, 301])).dataSync(), 1e-5, 1e-9, 'softmax f32');
    expect(() => softmax(new Int8Array(4), [2, 2])).toThrow(/xScale must be a number/);
    expect(() => softmax(new Float32Array(5), [2, 2])).toThrow(/x has 5 elements/);
  });
});
