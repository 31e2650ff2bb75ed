// Pruning rounds in capped steps, checked with a tolerance taken from the validation split's
// noise. The "accuracy" is read off fc2's own sparsity, so every step, retry and stop below
// is worked out by hand from the rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { deepCompress } from '../../src/codec/index.js';
import { capStep, validationTolerance } from '../../src/codec/prune-rounds.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { passingScan } from './passing-scan.js';

function fc2Zeros(m: tf.LayersModel): number {
  const d = m.getLayer('fc2').getWeights()[0]!.dataSync();
  let z = 0;
  for (const v of d) if (v === 0) z++;
  return z / d.length;
}

describe('capStep', () => {
  it('lets each layer keep at least minKeep of what it kept, never going back', () => {
    // From dense: at most half pruned. From 50%: kept 0.5 → 0.25 (75%). From 80%: 0.2 → 0.1.
    expect(capStep({}, { a: 0.96 }, 0.5)).toEqual({ a: 0.5 });
    expect(capStep({ a: 0.5 }, { a: 0.96 }, 0.5)).toEqual({ a: 0.75 });
    expect(capStep({ a: 0.8, b: 0.5 }, { a: 0.85, b: 0.96 }, 0.5)).toEqual({ a: 0.85, b: 0.75 });
    // Rounded down to 0.1%: kept 0.354 · 0.5 = 0.177 → 82.3%.
    expect(capStep({ a: 0.646 }, { a: 0.9 }, 0.5)).toEqual({ a: 0.823 });
    // A target below where the layer already is stays where it is.
    expect(capStep({ a: 0.9 }, { a: 0.5 }, 0.5)).toEqual({ a: 0.9 });
  });
});

describe('validationTolerance', () => {
  it('is the binomial standard error of the accuracy on n digits', () => {
    expect(validationTolerance(0.97, 1500)).toBeCloseTo(Math.sqrt((0.97 * 0.03) / 1500), 15);
    // sqrt(0.5 · 0.5 / 100) = 0.05 exactly.
    expect(validationTolerance(0.5, 100)).toBe(0.05);
    expect(validationTolerance(1, 1500)).toBe(0);
  });
  it('names bad input', () => {
    expect(() => validationTolerance(1.2, 100)).toThrow(/validation accuracy must be in \[0, 1\]/);
    expect(() => validationTolerance(0.9, 0)).toThrow(/validationSize/);
    expect(() => validationTolerance(Number.NaN, 10)).toThrow(/validation accuracy/);
  });
});

describe('deepCompress: rounds with minRoundKeep and the noise check', () => {
  let data: MnistSplit;
  beforeAll(async () => {
    await initFloatBackend();
    data = loadMnist({ trainSize: 256, testSize: 10, seed: 51 });
  });
  afterAll(() => data?.dispose());
  // 0.97 dense; 0.968 (a loss of 0.2 points, inside the tolerance of 0.44 on 1,500 digits)
  // while fc2 keeps at least 30% of its weights; 0.9 beyond.
  const validate = (m: tf.LayersModel) => {
    const z = fc2Zeros(m);
    return z === 0 ? 0.97 : z <= 0.7 ? 0.968 : 0.9;
  };
  // Every rung passes the scan: it always asks for 90%.
  const prune = passingScan([0.5, 0.9], 5);

  it('halves the kept fraction per round at most, retries halfway, and stops after a round fails twice', async () => {
    const model = buildLeNet300100({ seed: 52 });
    const r = await deepCompress(model, {
      validate,
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      cluster: { denseBits: 5 },
      prune: { ...prune, rounds: 5, backoffs: 1, minRoundKeep: 0.5, maxRetrainedDrop: 'noise', validationSize: 1500 },
    });
    expect(r.tolerance).toBeCloseTo(Math.sqrt((0.97 * 0.03) / 1500), 15);
    const all = (s: number) => ({ fc1: s, fc2: s, fc3: s });
    // Round 1: capped at 50% (not the scan's 90%), 0.968 is within 0.44 points: kept.
    // Round 2: capped at 75%: fc2 over 70% zeros, 0.9: the retry keeps √(0.5 · 0.25) = 35.4%.
    // Round 3: capped at 1 − 0.354/2 = 82.3%, fails; the retry keeps √(0.354 · 0.177) = 25.0%
    // (75.0%), fails too: pruning ends at 64.6%.
    expect(r.rounds).toEqual([
      { round: 1, targets: all(0.5), validation: 0.968, accepted: true },
      { round: 2, targets: all(0.75), validation: 0.9, accepted: false },
      { round: 2, targets: all(0.646), validation: 0.968, accepted: true },
      { round: 3, targets: all(0.823), validation: 0.9, accepted: false },
      { round: 3, targets: all(0.75), validation: 0.9, accepted: false },
    ]);
    expect(r.sparsity).toEqual(all(0.646));
    expect(fc2Zeros(model)).toBe(19380 / 30000);
  }, 180_000);

  it('with a check of 0 the same 0.2-point loss rolls every round back', async () => {
    const model = buildLeNet300100({ seed: 53 });
    const r = await deepCompress(model, {
      validate,
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      cluster: { denseBits: 5 },
      prune: { ...prune, rounds: 2, backoffs: 0, minRoundKeep: 0.5, maxRetrainedDrop: 0 },
    });
    expect(r.tolerance).toBe(0);
    expect(r.rounds).toEqual([
      { round: 1, targets: { fc1: 0.5, fc2: 0.5, fc3: 0.5 }, validation: 0.968, accepted: false },
    ]);
    expect(r.sparsity).toEqual({});
  }, 120_000);

  it("refuses 'noise' without the validation size and a minRoundKeep outside [0, 1)", async () => {
    const model = buildLeNet300100({ seed: 54 });
    const base = { validate, xTrain: data.xTrain, yTrain: data.yTrain, cluster: {} };
    await expect(deepCompress(model, { ...base, prune: { ...prune, maxRetrainedDrop: 'noise' } })).rejects.toThrow(
      /'noise' needs prune.validationSize/,
    );
    await expect(deepCompress(model, { ...base, prune: { ...prune, minRoundKeep: 1 } })).rejects.toThrow(
      /prune.minRoundKeep must be in \[0, 1\)/,
    );
  });
});
