import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  blockMask,
  constantSparsity,
  magnitudeMask,
  magnitudePrune,
  nmMask,
  polynomialDecay,
  prune,
  sparsityOf,
  stripPruning,
  getPruning,
} from '../../src/prune/index.js';
import { seededRandom } from '../../src/data/random.js';

function randn(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

describe('pruning schedules (TF-MOT formulas)', () => {
  it('polynomialDecay matches hand-computed values', () => {
    const s = polynomialDecay(0.1, 0.9, 0, 100, 3, 10);
    // sparsity = (0.1 - 0.9) (1 - p)^3 + 0.9
    expect(s.sparsityAt(0)).toBeCloseTo(0.1, 12);
    expect(s.sparsityAt(25)).toBeCloseTo(-0.8 * 0.421875 + 0.9, 12); // 0.5625
    expect(s.sparsityAt(50)).toBeCloseTo(0.8, 12);
    expect(s.sparsityAt(100)).toBeCloseTo(0.9, 12);
    expect(s.sparsityAt(500)).toBeCloseTo(0.9, 12);
    expect([0, 5, 10, 95, 100, 110].map((t) => s.shouldPrune(t))).toEqual([true, false, true, false, true, false]);
    const sq = polynomialDecay(0, 0.5, 10, 30, 2, 1);
    expect(sq.sparsityAt(20)).toBeCloseTo(-0.5 * 0.25 + 0.5, 12);
    expect(sq.shouldPrune(9)).toBe(false);
  });

  it('constantSparsity prunes at begin + k·frequency up to endStep (-1: forever)', () => {
    const s = constantSparsity(0.5, 100, 1000, 100);
    expect(s.sparsityAt(123)).toBe(0.5);
    expect([99, 100, 150, 200, 1000, 1100].map((t) => s.shouldPrune(t))).toEqual([
      false,
      true,
      false,
      true,
      true,
      false,
    ]);
    expect(constantSparsity(0.3, 0).shouldPrune(1_000_000)).toBe(true);
  });

  it('rejects sparsity outside [0, 1) and bad steps with clear errors', () => {
    expect(() => constantSparsity(1, 0)).toThrow(/targetSparsity must be in \[0, 1\)/);
    expect(() => constantSparsity(-0.1, 0)).toThrow(RangeError);
    expect(() => polynomialDecay(0, 1.5, 0, 10)).toThrow(/finalSparsity/);
    expect(() => polynomialDecay(0, 0.5, 10, 5)).toThrow(/endStep/);
    expect(() => polynomialDecay(0, 0.5, 0, -1)).toThrow(/endStep/);
    expect(() => constantSparsity(0.5, 0, -1, 0)).toThrow(/frequency/);
    expect(() => constantSparsity(NaN, 0)).toThrow(RangeError);
  });
});

describe('masks', () => {
  it('magnitude mask keeps exactly round(n(1-s)) largest weights (no ties)', () => {
    const v = randn(1000, 1);
    const m = magnitudeMask(v, 0.9);
    expect(m.reduce((a, b) => a + b, 0)).toBe(100);
    const keptMin = Math.min(
      ...Array.from(v)
        .filter((_, i) => m[i])
        .map(Math.abs),
    );
    const prunedMax = Math.max(
      ...Array.from(v)
        .filter((_, i) => !m[i])
        .map(Math.abs),
    );
    expect(keptMin).toBeGreaterThan(prunedMax);
  });

  it('N:M keeps the N largest of every M along the input axis', () => {
    const shape = [16, 6];
    const v = randn(96, 2);
    const m = nmMask(v, shape, 2, 4);
    for (let c = 0; c < 6; c++) {
      for (let g = 0; g < 16; g += 4) {
        const group = [0, 1, 2, 3].map((r) => (g + r) * 6 + c);
        expect(group.filter((i) => m[i]).length).toBe(2);
        const kept = group.filter((i) => m[i]).map((i) => Math.abs(v[i]));
        const dropped = group.filter((i) => !m[i]).map((i) => Math.abs(v[i]));
        expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
      }
    }
    expect(() => nmMask(v, shape, 5, 4)).toThrow(RangeError);
  });

  it('block mask prunes whole blocks by mean magnitude', () => {
    const shape = [4, 4];
    // block (0,0) large, others small
    const v = Float32Array.from({ length: 16 }, (_, i) => (Math.floor(i / 4) < 2 && i % 4 < 2 ? 5 : 0.1 * (i + 1)));
    const m = blockMask(v, shape, 0.75, [2, 2]);
    expect(Array.from(m)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('pruning a model', () => {
  beforeAll(async () => {
    await initFloatBackend();
  });

  function tinyModel(): tf.Sequential {
    const m = tf.sequential();
    m.add(
      tf.layers.dense({
        inputShape: [20],
        units: 32,
        activation: 'relu',
        name: 'd1',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
    );
    m.add(
      tf.layers.dense({
        units: 4,
        activation: 'softmax',
        name: 'd2',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    );
    return m;
  }

  it('keeps pruned weights exactly zero through momentum updates and reaches the target', async () => {
    const m = tinyModel();
    const h = prune(m, {
      schedule: polynomialDecay(0, 0.8, 0, 20, 3, 5),
      layers: { d2: { schedule: constantSparsity(0.5, 0, -1, 1) } },
    });
    const x = tf.tensor2d(randn(256 * 20, 3), [256, 20]);
    const y = tf
      .oneHot(
        tf.tensor1d(
          Array.from({ length: 256 }, (_, i) => i % 4),
          'int32',
        ),
        4,
      )
      .toFloat();
    m.compile({ optimizer: tf.train.momentum(0.1, 0.9), loss: 'categoricalCrossentropy' });
    let violations = 0,
      checks = 0;
    const checker: tf.CustomCallbackArgs = {
      onBatchEnd: async () => {
        for (const w of h.weights) {
          const vals = w.variable.read().dataSync();
          for (let i = 0; i < vals.length; i++) if (!w.mask[i] && vals[i] !== 0) violations++;
        }
        checks++;
      },
    };
    await m.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0, callbacks: [h.callback(), checker] });
    expect(checks).toBe(64);
    expect(violations).toBe(0);
    expect(h.step).toBe(64);
    const s = h.summary();
    expect(s.find((r) => r.layer === 'd1')!.weightSparsity).toBeCloseTo(0.8, 2);
    expect(s.find((r) => r.layer === 'd2')!.weightSparsity).toBeCloseTo(0.5, 2);
    expect(getPruning(m)).toBe(h);
    stripPruning(m);
    expect(getPruning(m)).toBeUndefined();
    expect(() => stripPruning(m)).toThrow(/no pruning attached/);
    tf.dispose([x, y]);
  });

  it('one-shot magnitude pruning, per layer, and N:M on a model', () => {
    const m = tinyModel();
    const r = magnitudePrune(m, { sparsity: { d1: 0.75 } });
    expect(r).toHaveLength(1);
    expect(r[0].sparsity).toBeCloseTo(0.75, 3);
    expect(sparsityOf(m.getLayer('d2').getWeights()[0].dataSync())).toBe(0);
    const m2 = tinyModel();
    magnitudePrune(m2, { sparsity: 0, nm: { n: 2, m: 4 } });
    expect(sparsityOf(m2.getLayer('d1').getWeights()[0].dataSync())).toBeCloseTo(0.5, 6);
    expect(() => magnitudePrune(m, { sparsity: 1 })).toThrow(/sparsity must be in \[0, 1\)/);
    expect(() => prune(m, { schedule: constantSparsity(0.5, 0), layers: { nope: false } })).toThrow(/not a layer/);
    expect(() => prune(m, {})).toThrow(/needs a schedule/);
  });
});
