// The size goal of the pruning rounds: the step search on a hand-made size function, and the
// rounds stopping as soon as the file on disk is small enough.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { deepCompress, type DeepCompressionOptions } from '../../src/codec/index.js';
import { partialStep, STEP_AIM, stepTowardGoal } from '../../src/codec/size-goal.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { passingScan } from './passing-scan.js';

describe('partialStep', () => {
  it('moves each layer a fraction of the way on a log scale of the kept fraction', () => {
    // From dense towards 4% kept: half way keeps √0.04 = 20%.
    expect(partialStep({}, { a: 0.96 }, 0.5)).toEqual({ a: 0.8 });
    expect(partialStep({}, { a: 0.96 }, 0)).toEqual({ a: 0 });
    expect(partialStep({}, { a: 0.96 }, 1)).toEqual({ a: 0.96 });
    // From 50% kept towards 12.5%: a quarter of the way keeps 0.5 · 0.25^0.25 = 35.36% (64.6%).
    expect(partialStep({ a: 0.5, b: 0.9 }, { a: 0.875, b: 0.9 }, 0.25)).toEqual({ a: 0.646, b: 0.9 });
  });
});

describe('stepTowardGoal', () => {
  // A hand-made size: the file shrinks with the fraction layer a keeps, ratio = 1 / kept.
  const calls: Record<string, number>[] = [];
  const ratioAt = async (s?: Readonly<Record<string, number>>) => {
    calls.push({ ...s });
    return 1 / (1 - (s?.a ?? 0));
  };

  it('keeps a step that does not overshoot the goal by more than the aim', async () => {
    // 90% pruned = 10×, under 1.05 · 10 = 10.5×.
    const r = await stepTowardGoal({}, { a: 0.9 }, 10, ratioAt);
    expect(r.targets).toEqual({ a: 0.9 });
    expect(r.shortened).toBe(false);
    expect(r.estimate).toBeCloseTo(10, 12);
  });

  it('cuts an overshooting step to the smallest that reaches the aim', async () => {
    calls.length = 0;
    // 96% pruned = 25×, far past 10.5×: the step that just reaches 10.5× keeps 1/10.5 = 9.52%.
    const r = await stepTowardGoal({}, { a: 0.96 }, 10, ratioAt);
    expect(r.shortened).toBe(true);
    expect(r.estimate).toBeGreaterThanOrEqual(STEP_AIM * 10);
    // Within the search's resolution (1/128 of the way, ~2.5% in kept fraction) of 90.48%.
    expect(r.targets.a).toBeGreaterThanOrEqual(1 - 1 / 10.5);
    expect(r.targets.a).toBeLessThan(1 - 0.975 / 10.5);
    // Every estimate asked for lies between where the layer was and the scan's step.
    for (const c of calls) {
      expect(c.a).toBeGreaterThan(0);
      expect(c.a).toBeLessThanOrEqual(0.96);
    }
  });

  it('names a bad goal', async () => {
    await expect(stepTowardGoal({}, { a: 0.5 }, 1, ratioAt)).rejects.toThrow(
      /targetRatio must be a compression ratio above 1/,
    );
    await expect(stepTowardGoal({}, { a: 0.5 }, Number.NaN, ratioAt)).rejects.toThrow(/targetRatio/);
  });
});

describe('deepCompress with prune.targetRatio', () => {
  let data: MnistSplit;
  beforeAll(async () => {
    await initFloatBackend();
    data = loadMnist({ trainSize: 256, testSize: 10, seed: 61 });
  });
  afterAll(() => data?.dispose());
  // A validation that never moves: every rung passes the scan, which always asks for 90%.
  const prune = { ...passingScan([0.5, 0.9], 5), minRoundKeep: 0.5 };
  const validate = () => 0.97;
  /** deepCompress of a fresh LeNet-300-100 (initialised by seed) with these prune settings. */
  const compressFresh = (seed: number, extra: Partial<DeepCompressionOptions['prune']>, biasBits?: number) => {
    const model = buildLeNet300100({ seed });
    const cluster = { denseBits: 5, biasBits };
    const run = deepCompress(model, {
      validate,
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      cluster,
      prune: { ...prune, ...extra },
    });
    return { model, run };
  };

  it('stops the rounds once the saved file reaches the goal, and the file on disk is that size', async () => {
    const { model, run } = compressFresh(62, { rounds: 6, targetRatio: 12 }, 5);
    const r = await run;
    const kept = r.rounds.filter((a) => a.accepted);
    // Each kept round but the last left the file short of 12×; the last reached it, and no
    // round ran after it (6 were allowed; halving the kept fraction gets there in 2–3).
    expect(kept.length).toBeLessThan(6);
    for (const a of kept.slice(0, -1)) expect(a.ratio!).toBeLessThan(12);
    expect(kept.at(-1)!.ratio!).toBeGreaterThanOrEqual(12);
    // Halving from 50% kept (75% pruned, ~20×) would overshoot: that step was shortened.
    const short = r.rounds.find((a) => a.shortened)!;
    expect(short.targets.fc1!).toBeLessThan(0.75);
    expect(short.estimatedRatio!).toBeGreaterThanOrEqual(STEP_AIM * 12);
    // The measurement after the last round is the file's size, byte for byte.
    expect(r.sizeGoal).toEqual({ targetRatio: 12, ratio: kept.at(-1)!.ratio, reached: true });
    const dir = mkdtempSync(join(tmpdir(), 'size-goal-'));
    try {
      await r.save(dir);
      const onDisk = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
      const floatBytes = 4 * model.weights.reduce((s, w) => s + w.read().size, 0);
      expect(onDisk).toBe(r.artifact.bytes);
      expect(floatBytes / onDisk).toBe(r.sizeGoal!.ratio);
    } finally {
      rmSync(dir, { recursive: true });
    }
  }, 240_000);

  it('says when the goal was not reached', async () => {
    const r = await compressFresh(63, { rounds: 1, targetRatio: 1000 }).run;
    expect(r.rounds).toHaveLength(1);
    expect(r.sizeGoal!.reached).toBe(false);
    expect(r.sizeGoal!.ratio).toBe(r.report.ratio.artifact);
    expect(r.sizeGoal!.ratio).toBeLessThan(1000);
  }, 120_000);

  it('validates the option', async () => {
    for (const bad of [1, 0.5, Number.NaN, Infinity, '40' as unknown as number])
      await expect(compressFresh(64, { targetRatio: bad }).run).rejects.toThrow(/prune.targetRatio/);
    await expect(compressFresh(64, { sparsity: 0.5, targetRatio: 40 }).run).rejects.toThrow(
      /prune.targetRatio needs sparsity 'auto'/,
    );
  });
});
