// Fake quantization: forward bit-exact with the scheme (src/quant/scheme.ts §2 + §3) on random
// data, exact ties and out-of-range values, per tensor and per channel on every §5 layout;
// STE gradients against the analytic mask; parameter choice for fewer bits.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  chooseAsymmetricI8,
  chooseSymmetricI8,
  dequantizeValue,
  fl32,
  perTensorLayout,
  quantizeValue,
  weightLayout,
  type ChannelLayout,
  type WeightKind,
} from '../../src/quant/scheme.js';
import {
  fakeQuant,
  fakeQuantParams,
  quantizeValues,
  RangeTracker,
  weightParams,
  type FakeQuantParams,
} from '../../src/qat/fake-quant.js';

beforeAll(async () => {
  await initFloatBackend();
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Reference: §2 then §3 with the scheme's one-value functions. */
function reference(x: Float32Array, l: ChannelLayout, ps: FakeQuantParams[]): Float32Array {
  return Float32Array.from(x, (v, i) => {
    const p = ps[Math.floor(i / l.inner) % l.channels]!;
    return dequantizeValue(quantizeValue(v, p.scale, p.zeroPoint, p.qmin, p.qmax), p.scale, p.zeroPoint);
  });
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Random values, plus exact ties (k + ½)·scale, the clamp bounds, far outside values and zeros. */
function testData(n: number, r: () => number, scale: number, zp: number, qmin: number, qmax: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    const k = Math.floor(r() * (qmax - qmin + 6)) + qmin - zp - 3;
    x[i] =
      u < 0.4
        ? (r() * 2 - 1) * scale * 140
        : u < 0.7
          ? fl32((k + 0.5) * scale)
          : u < 0.8
            ? fl32(k * scale)
            : u < 0.9
              ? (r() < 0.5 ? -1 : 1) * scale * 1e4
              : u < 0.95
                ? 0
                : -0;
  }
  return x;
}

describe('fakeQuant forward', () => {
  it('rounds ties to even (tf.round on this backend is not Math.round)', () => {
    const p: FakeQuantParams = { scale: 1, zeroPoint: 0, qmin: -128, qmax: 127 };
    const y = fakeQuant(tf.tensor1d([0.5, 1.5, 2.5, -0.5, -1.5, -2.5]), [p]);
    expect(Array.from(y.dataSync())).toEqual([0, 2, 2, 0, -2, -2]);
    y.dispose();
  });

  it('equals §2 + §3 bit for bit per tensor (asymmetric and symmetric int8, 2–7 bits)', () => {
    const r = rng(1);
    for (let trial = 0; trial < 24; trial++) {
      const bitsN = trial < 8 ? 8 : 2 + (trial % 6);
      const symmetric = trial % 2 === 1;
      const lo = -r() * 3,
        hi = r() * 5;
      const p = fakeQuantParams(lo, hi, { bits: bitsN, symmetric });
      // Power-of-two scales make (k + ½)·scale exact ties of x / scale.
      const pp = trial % 3 === 0 ? { ...p, scale: 2 ** -5 } : p;
      const x = testData(4000, r, pp.scale, pp.zeroPoint, pp.qmin, pp.qmax);
      const t = tf.tensor1d(x);
      const y = fakeQuant(t, [pp]);
      const got = y.dataSync() as Float32Array;
      expect(bits(got)).toEqual(bits(reference(x, perTensorLayout(x.length), [pp])));
      tf.dispose([t, y]);
    }
  });

  it("8-bit parameters are the scheme's (asymmetric int8, symmetric narrow int8)", () => {
    const r = rng(2);
    for (let i = 0; i < 50; i++) {
      const lo = (r() - 0.7) * 10,
        hi = (r() - 0.2) * 10;
      const a = fakeQuantParams(lo, hi, { bits: 8, symmetric: false });
      expect([a.scale, a.zeroPoint, a.qmin, a.qmax]).toEqual([
        chooseAsymmetricI8(lo, hi).scale,
        chooseAsymmetricI8(lo, hi).zeroPoint,
        -128,
        127,
      ]);
      const s = fakeQuantParams(lo, hi, { bits: 8, symmetric: true });
      expect([s.scale, s.zeroPoint, s.qmin, s.qmax]).toEqual([chooseSymmetricI8(lo, hi).scale, 0, -127, 127]);
    }
  });

  it('fewer bits: zero is exact, the range maps onto the integer grid, steps are at most one scale', () => {
    for (const b of [2, 3, 4, 5, 6, 7]) {
      for (const [lo, hi] of [
        [-1, 3],
        [0.5, 2],
        [-4, -1],
        [-2, 2],
      ] as const) {
        const p = fakeQuantParams(lo, hi, { bits: b, symmetric: false });
        expect(p.qmax - p.qmin).toBe(2 ** b - 1);
        expect(p.zeroPoint).toBeGreaterThanOrEqual(p.qmin);
        expect(p.zeroPoint).toBeLessThanOrEqual(p.qmax);
        const t = tf.tensor1d([0, Math.min(lo, 0), Math.max(hi, 0)]);
        const y = fakeQuant(t, [p]).dataSync();
        expect(y[0]).toBe(0);
        expect(Math.abs(y[1]! - Math.min(lo, 0))).toBeLessThanOrEqual(p.scale);
        expect(Math.abs(y[2]! - Math.max(hi, 0))).toBeLessThanOrEqual(p.scale);
        t.dispose();
        const s = fakeQuantParams(lo, hi, { bits: b, symmetric: true });
        expect([s.qmin, s.qmax, s.zeroPoint]).toEqual([-(2 ** (b - 1) - 1), 2 ** (b - 1) - 1, 0]);
        expect(s.scale).toBe(fl32(Math.max(Math.abs(Math.min(lo, 0)), Math.max(hi, 0)) / s.qmax));
      }
    }
  });

  it('equals §2 + §3 per channel on every §5 weight layout, and quantizeValues gives its integers', () => {
    const r = rng(3);
    const shapes: [WeightKind, number[]][] = [
      ['dense', [7, 5]],
      ['conv2d', [3, 3, 4, 6]],
      ['depthwiseConv2d', [3, 3, 4, 2]],
      ['conv2dTranspose', [2, 2, 5, 3]],
    ];
    for (const [kind, shape] of shapes) {
      for (const bitsN of [8, 4]) {
        const n = shape.reduce((a, b) => a * b, 1);
        const w = Float32Array.from({ length: n }, () => (r() * 2 - 1) * (r() < 0.1 ? 3 : 0.5));
        const l = weightLayout(kind, shape);
        const ps = weightParams(w, l, { bits: bitsN, symmetric: true });
        expect(ps.length).toBe(l.channels);
        const t = tf.tensor(w, shape);
        const y = fakeQuant(t, ps, l);
        const got = y.dataSync() as Float32Array;
        expect(bits(got)).toEqual(bits(reference(w, l, ps)));
        const q = quantizeValues(w, l, ps);
        for (let i = 0; i < n; i++) {
          const p = ps[Math.floor(i / l.inner) % l.channels]!;
          expect(Math.abs(q[i]!)).toBeLessThanOrEqual(p.qmax);
          expect(got[i]).toBe(dequantizeValue(q[i]!, p.scale, 0));
        }
        // Every channel's largest magnitude maps onto ±qmax exactly (symmetric, narrow range).
        for (let c = 0; c < l.channels; c++) {
          let m = 0;
          for (let i = 0; i < n; i++) if (Math.floor(i / l.inner) % l.channels === c) m = Math.max(m, Math.abs(q[i]!));
          expect(m).toBe(ps[c]!.qmax);
        }
        tf.dispose([t, y]);
      }
    }
  });

  it('rejects bad parameters', () => {
    const t = tf.tensor1d([1, 2]);
    expect(() => fakeQuant(t, [])).toThrow(RangeError);
    expect(() => fakeQuant(t, [{ scale: 0, zeroPoint: 0, qmin: -127, qmax: 127 }])).toThrow(/scale/);
    expect(() => fakeQuantParams(0, 1, { bits: 9, symmetric: false })).toThrow(/2 to 8/);
    expect(() => fakeQuantParams(0, 1, { bits: 1, symmetric: false })).toThrow(/2 to 8/);
    expect(() => new RangeTracker(1)).toThrow(/emaDecay/);
    t.dispose();
  });
});

describe('fakeQuant gradient (straight-through estimator)', () => {
  it('passes dy inside the representable range and zeroes it outside (as FakeQuantWithMinMaxVars)', () => {
    const r = rng(4);
    for (const [p, layout, shape] of [
      [[{ scale: 0.02, zeroPoint: -20, qmin: -128, qmax: 127 }], undefined, [600]],
      [
        [
          { scale: 0.05, zeroPoint: 0, qmin: -7, qmax: 7 },
          { scale: 0.01, zeroPoint: 0, qmin: -7, qmax: 7 },
          { scale: 0.1, zeroPoint: 0, qmin: -7, qmax: 7 },
        ],
        { outer: 200, channels: 3, inner: 1 },
        [200, 3],
      ],
    ] as [FakeQuantParams[], ChannelLayout | undefined, number[]][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      // Up to 1.5× the representable magnitude of each element's channel.
      const x = Float32Array.from({ length: n }, (_, i) => {
        const q = p[layout ? i % layout.channels : 0]!;
        return (r() * 2 - 1) * 1.5 * q.scale * Math.max(q.qmax - q.zeroPoint, q.zeroPoint - q.qmin);
      });
      const dy = Float32Array.from({ length: n }, () => r() * 2 - 1);
      const xt = tf.tensor(x, shape),
        dyt = tf.tensor(dy, shape);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fakeQuant(a, p, layout), dyt)))(xt);
      const got = g.dataSync();
      let inside = 0;
      for (let i = 0; i < n; i++) {
        const q = p[layout ? i % layout.channels : 0]!;
        const v = fl32(x[i]! / q.scale);
        const ok = v >= q.qmin - q.zeroPoint && v <= q.qmax - q.zeroPoint;
        if (ok) inside++;
        expect(got[i]).toBe(ok ? dy[i] : 0);
      }
      // Both regions occur in the data.
      expect(inside).toBeGreaterThan(n / 10);
      expect(inside).toBeLessThan(n);
      tf.dispose([xt, dyt, g]);
    }
  });

  it('moving-average ranges follow TF-MOT (first batch sets, then decay) and freeze', () => {
    const t = new RangeTracker(0.9, 2);
    t.observe(-1, 1);
    expect([t.min, t.max]).toEqual([-1, 1]);
    t.observe(-3, 5);
    expect(t.min).toBeCloseTo(0.9 * -1 + 0.1 * -3, 12);
    expect(t.max).toBeCloseTo(0.9 * 1 + 0.1 * 5, 12);
    expect(t.frozen).toBe(true);
    t.observe(-100, 100);
    expect(t.max).toBeCloseTo(1.4, 12);
  });
});
