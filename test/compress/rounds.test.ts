// Iterative pruning with a validation check, and the sturdier sensitivity scan. The "accuracy"
// here is computed from the weights themselves (how many of fc2's weights are zero), so every
// choice the scan and the rounds make can be worked out by hand from the rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { deepCompress } from '../../src/codec/index.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { magnitudePrune } from '../../src/prune/prune.js';
import { nonIncreasingFit, sensitivityScan } from '../../src/prune/sensitivity.js';
import { passingScan } from './passing-scan.js';

/** Fraction of fc2's kernel that is exactly zero. */
function fc2Zeros(m: tf.LayersModel): number {
  const d = m.getLayer('fc2').getWeights()[0]!.dataSync();
  let z = 0;
  for (const v of d) if (v === 0) z++;
  return z / d.length;
}

/** An evaluator reading a hand-written accuracy off fc2's sparsity (1 when fc2 is dense). */
function table(acc: Record<string, number>) {
  return (m: tf.LayersModel) => {
    const z = Math.round(100 * fc2Zeros(m)) / 100;
    if (z === 0) return 1;
    const a = acc[z.toFixed(2)];
    if (a === undefined) throw new RangeError(`no accuracy written for fc2 at ${z}`);
    return a;
  };
}

describe('nonIncreasingFit (pool adjacent violators)', () => {
  it('matches hand-pooled vectors', () => {
    expect(nonIncreasingFit([])).toEqual([]);
    expect(nonIncreasingFit([3, 2, 1])).toEqual([3, 2, 1]);
    // 3 < 4 pools to 3.5; then 1.
    expect(nonIncreasingFit([5, 3, 4, 1])).toEqual([5, 3.5, 3.5, 1]);
    // 1 < 2 pools to 1.5; 1.5 < 4 pools all three to 7/3; 6 stays.
    expect(nonIncreasingFit([6, 1, 2, 4])).toEqual([6, 7 / 3, 7 / 3, 7 / 3]);
    expect(nonIncreasingFit([1, 2, 3])).toEqual([2, 2, 2]);
  });
});

describe('sensitivityScan: monotone rule, small layers, floors', () => {
  const LADDER = [0.5, 0.6, 0.7, 0.8, 0.9];
  // fc2's curve: a noisy dip at 60% that the first-failure rule stops at.
  const curve = { '0.50': 0.99, '0.60': 0.975, '0.70': 0.99, '0.80': 0.985, '0.90': 0.9 };

  it("'first-failure' stops at the dip; 'monotone' reads the pooled curve", async () => {
    await initFloatBackend();
    const model = buildLeNet300100({ seed: 31 });
    const first = await sensitivityScan(model, { evaluate: table(curve), maxAccuracyDrop: 0.021, sparsities: LADDER });
    expect(first.layers.find((l) => l.layer === 'fc2')!.chosen).toBe(0.5);
    const mono = await sensitivityScan(model, {
      evaluate: table(curve),
      maxAccuracyDrop: 0.021,
      sparsities: LADDER,
      rule: 'monotone',
    });
    const fc2 = mono.layers.find((l) => l.layer === 'fc2')!;
    // Pooled by hand: 0.975, 0.99, 0.985 → 0.98333 each.
    const pooled = (0.975 + 0.99 + 0.985) / 3;
    expect(fc2.fitted).toEqual([0.99, pooled, pooled, pooled, 0.9]);
    expect(fc2.chosen).toBe(0.8);
    // fc1 and fc3 never change the evaluator's answer: the top rung.
    expect(mono.layers.find((l) => l.layer === 'fc1')!.chosen).toBe(0.9);
  });

  it('leaves layers under minLayerShare dense without scanning them', async () => {
    await initFloatBackend();
    const model = buildLeNet300100({ seed: 32 });
    let calls = 0;
    const evaluate = (m: tf.LayersModel) => {
      calls++;
      return table(curve)(m);
    };
    // fc3 holds 1,000 of 266,200 kernel weights (0.38%); fc2 30,000 (11.3%).
    const scan = await sensitivityScan(model, {
      evaluate,
      maxAccuracyDrop: 0.021,
      sparsities: LADDER,
      minLayerShare: 0.005,
    });
    const fc3 = scan.layers.find((l) => l.layer === 'fc3')!;
    expect(fc3).toMatchObject({ chosen: 0, kept: 'small', points: [] });
    expect(scan.layers.find((l) => l.layer === 'fc2')!.points.length).toBe(5);
    expect(calls).toBe(1 + 2 * LADDER.length); // baseline + fc1 + fc2
    const wide = await sensitivityScan(model, {
      evaluate,
      maxAccuracyDrop: 0.021,
      sparsities: LADDER,
      minLayerShare: 0.2,
    });
    expect(wide.layers.filter((l) => l.kept === 'small').map((l) => l.layer)).toEqual(['fc2', 'fc3']);
    await expect(sensitivityScan(model, { evaluate, maxAccuracyDrop: 0.02, minLayerShare: 1 })).rejects.toThrow(
      /minLayerShare must be in \[0, 1\)/,
    );
  });

  it('with a floor, tries only the rungs above it and never chooses below it', async () => {
    await initFloatBackend();
    const model = buildLeNet300100({ seed: 33 });
    magnitudePrune(model, { sparsity: { fc2: 0.6 } });
    const scan = await sensitivityScan(model, {
      // The model as scanned already has fc2 at 60%: its baseline is curve['0.60'].
      evaluate: table(curve),
      maxAccuracyDrop: 0.005,
      sparsities: LADDER,
      floor: { fc2: 0.6 },
    });
    expect(scan.baseline).toBe(0.975);
    const fc2 = scan.layers.find((l) => l.layer === 'fc2')!;
    expect(fc2.points.map((p) => p.sparsity)).toEqual([0.7, 0.8, 0.9]);
    // 0.99 and 0.985 are above the baseline; 0.9 is 7.5 points below.
    expect(fc2.chosen).toBe(0.8);
    const strict = await sensitivityScan(model, {
      evaluate: (m) => (fc2Zeros(m) > 0.61 ? 0.5 : 0.975),
      maxAccuracyDrop: 0.005,
      sparsities: LADDER,
      floor: { fc2: 0.6 },
    });
    expect(strict.layers.find((l) => l.layer === 'fc2')!.chosen).toBe(0.6);
    await expect(
      sensitivityScan(model, { evaluate: table(curve), maxAccuracyDrop: 0.01, floor: { nope: 0.5 } }),
    ).rejects.toThrow(/floor names 'nope'/);
  });
});

describe('deepCompress: pruning rounds with a validation check', () => {
  let data: MnistSplit;
  beforeAll(async () => {
    await initFloatBackend();
    data = loadMnist({ trainSize: 256, testSize: 10, seed: 41 });
  });
  afterAll(() => data?.dispose());
  // Validation "accuracy": 1 while fc2 keeps at least 25% of its weights, 0.5 beyond.
  const validate = (m: tf.LayersModel) => (fc2Zeros(m) <= 0.75 ? 1 : 0.5);
  const common = {
    validate,
    cluster: { denseBits: 5 },
  };
  // Every rung passes the scan (a 0.5 loss is within 0.6): the scan always asks for 80%.
  const prune = { ...passingScan([0.5, 0.8], 3), maxRetrainedDrop: 0.1 };

  it('rolls a round that fails validation back, retries halfway in kept fraction, and prunes further in the next round', async () => {
    const model = buildLeNet300100({ seed: 42 });
    const r = await deepCompress(model, {
      ...common,
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      prune: { ...prune, rounds: 2, backoffs: 1 },
    });
    const all = (s: number) => ({ fc1: s, fc2: s, fc3: s });
    // Round 1: 80% fails (fc2 > 75% zeros); the retry keeps √(1 · 0.2) = 44.7% (55.3%
    // sparsity), which passes. Round 2 scans from 55.3%: 80% again, fails; the retry keeps
    // √(0.447 · 0.2) = 29.9% (70.1%), which passes.
    expect(r.rounds).toEqual([
      { round: 1, targets: all(0.8), validation: 0.5, accepted: false },
      { round: 1, targets: all(0.553), validation: 1, accepted: true },
      { round: 2, targets: all(0.8), validation: 0.5, accepted: false },
      { round: 2, targets: all(0.701), validation: 1, accepted: true },
    ]);
    expect(r.sparsity).toEqual(all(0.701));
    expect(r.scans.length).toBe(2);
    expect(r.scans[1]!.layers.find((l) => l.layer === 'fc2')!.points.map((p) => p.sparsity)).toEqual([0.8]);
    // What was saved has exactly that sparsity: 8,970 of fc2's 30,000 weights kept.
    expect(fc2Zeros(model)).toBe(21030 / 30000);
    expect(r.report.rows.find((x) => x.name === 'fc2/kernel')!.kept).toBeCloseTo(8970 / 30000, 12);
  }, 120_000);

  it('drops a round whose every retry fails, leaving the model as it was before the round', async () => {
    const model = buildLeNet300100({ seed: 43 });
    const r = await deepCompress(model, {
      ...common,
      // Any pruning of fc2 fails the check.
      validate: (m) => (fc2Zeros(m) > 0 ? 0.5 : 1),
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      prune: { ...prune, rounds: 1, backoffs: 0 },
    });
    expect(r.rounds.map((a) => a.accepted)).toEqual([false]);
    expect(r.rounds[0]!.targets).toEqual({ fc1: 0.8, fc2: 0.8, fc3: 0.8 });
    expect(r.sparsity).toEqual({});
    // Rolled back: after stage 1 the model is dense again (the check's own measure says so).
    expect(r.report.validation!.pruned).toBe(1);
    expect(r.report.rows.find((x) => x.name === 'fc2/kernel')!.kept).toBe(1);
  }, 120_000);

  it('refuses rounds without auto, and a retrained-drop check without validation data', async () => {
    const model = buildLeNet300100({ seed: 44 });
    const base = { xTrain: data.xTrain, yTrain: data.yTrain, cluster: {} };
    await expect(deepCompress(model, { ...base, prune: { sparsity: 0.5, epochs: 1, rounds: 2 } })).rejects.toThrow(
      /prune.rounds > 1 needs sparsity 'auto'/,
    );
    await expect(
      deepCompress(model, { ...base, prune: { sparsity: 0.5, epochs: 1, maxRetrainedDrop: 0.01 } }),
    ).rejects.toThrow(/maxRetrainedDrop needs validate/);
  });
});
