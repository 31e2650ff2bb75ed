// Knowledge distillation in the retraining stages: the loss against hand-computed values, the
// teacher's softened targets, the training loop against trainModel, and deepCompress's option.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { distillationLoss, teacherTargets, trainDistilled } from '../../src/codec/distill.js';
import { deepCompress } from '../../src/codec/index.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100, trainModel } from '../../src/data/models.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe('distillationLoss', () => {
  it('matches the loss worked out by hand', () => {
    // T = 2, w = 0.5. Softening at T = 2 is p_i^(1/2) / Σ_j p_j^(1/2).
    // Row 1: label 1, teacher (0.1, 0.8, 0.1) → p_T (0.207107, 0.585786, 0.207107);
    //   student (0.2, 0.7, 0.1) → q_T (0.279491, 0.522879, 0.197630);
    //   KL = Σ p_T ln(p_T / q_T) = 0.0141715; CE = −ln 0.7 = 0.356675;
    //   0.5 · 0.356675 + 0.5 · 4 · 0.0141715 = 0.206680.
    // Row 2: label 0, teacher (0.5, 0.25, 0.25) → p_T (0.414214, 0.292893, 0.292893);
    //   student (0.6, 0.3, 0.1) → q_T (0.472734, 0.334273, 0.192993);
    //   KL = 0.0287371; CE = −ln 0.6 = 0.510826; 0.5 · 0.510826 + 2 · 0.0287371 = 0.312887.
    // Mean of the rows: 0.259784.
    const labels = tf.tensor2d([
      [0, 1, 0],
      [1, 0, 0],
    ]);
    const teacherSoft = tf.tensor2d([
      [0.207107, 0.585786, 0.207107],
      [0.414214, 0.292893, 0.292893],
    ]);
    const student = tf.tensor2d([
      [0.2, 0.7, 0.1],
      [0.6, 0.3, 0.1],
    ]);
    const loss = distillationLoss(labels, teacherSoft, student, { temperature: 2, weight: 0.5 });
    expect(loss.dataSync()[0]).toBeCloseTo(0.259784, 5);
    // Weight 1 at T = 1 leaves only KL(teacher ‖ student) of the unsoftened distributions:
    // row 1 with teacher = student gives 0.
    const same = distillationLoss(labels.slice(0, 1), student.slice(0, 1), student.slice(0, 1), {
      temperature: 1,
      weight: 1,
    });
    expect(same.dataSync()[0]).toBeCloseTo(0, 6);
    tf.dispose([labels, teacherSoft, student, loss, same]);
  });

  it("softens a softmax model's probabilities at the temperature (teacherTargets)", () => {
    // A one-input softmax layer whose kernel is log(0.1, 0.8, 0.1): input 1 outputs exactly
    // those probabilities; at T = 2 the targets are the row-1 p_T above.
    const m = tf.sequential();
    m.add(tf.layers.dense({ units: 3, activation: 'softmax', useBias: false, inputShape: [1] }));
    m.setWeights([tf.tensor2d([[Math.log(0.1), Math.log(0.8), Math.log(0.1)]])]);
    const x = tf.ones([2, 1]);
    const t = teacherTargets(m, x, 2);
    expect(t.shape).toEqual([2, 3]);
    const v = t.arraySync() as number[][];
    for (const row of v) [0.207107, 0.585786, 0.207107].forEach((e, i) => expect(row[i]).toBeCloseTo(e, 5));
    tf.dispose([x, t]);
  });
});

describe('trainDistilled', () => {
  let data: MnistSplit;
  beforeAll(() => {
    data = loadMnist({ trainSize: 256, testSize: 10, seed: 5 });
  });
  afterAll(() => data?.dispose());

  it('with the labels as teacher at T = 1, weight 1, follows trainModel (same shuffles, optimizer, weight decay)', async () => {
    // KL(y ‖ q) = CE(y, q) − H(y) and H(one-hot) = 0: the same loss, so the same steps.
    const a = buildLeNet300100({ seed: 8, weightDecay: 5e-4 });
    const b = buildLeNet300100({ seed: 8, weightDecay: 5e-4 });
    const options = { epochs: 2, learningRate: 0.05, lrDecay: 0.9, seed: 3 };
    const la = await trainModel(a, data.xTrain, data.yTrain, options);
    const lb = await trainDistilled(b, data.xTrain, data.yTrain, data.yTrain, { temperature: 1, weight: 1 }, options);
    expect(lb.length).toBe(2);
    lb.forEach((l, i) => expect(l).toBeCloseTo(la[i]!, 4));
    const wa = a.getWeights(),
      wb = b.getWeights();
    let worst = 0;
    wa.forEach((w, i) => {
      const x = w.dataSync(),
        y = wb[i]!.dataSync();
      for (let j = 0; j < x.length; j++) worst = Math.max(worst, Math.abs(x[j]! - y[j]!));
    });
    // The weights moved (the losses fell) and moved the same way.
    expect(la[1]!).toBeLessThan(la[0]!);
    expect(worst).toBeLessThan(1e-4);
  }, 120_000);

  it('rejects teacher targets that do not match the labels', async () => {
    const m = buildLeNet300100({ seed: 8 });
    const wrong = tf.zeros([10, 10]);
    await expect(
      trainDistilled(m, data.xTrain, data.yTrain, wrong, { temperature: 2, weight: 0.5 }, { epochs: 1 }),
    ).rejects.toThrow(/teacher targets have shape \[10,10\], the labels \[256,10\]/);
    wrong.dispose();
  });

  it('deepCompress validates distill and distils in both retraining stages', async () => {
    const base = {
      xTrain: data.xTrain,
      yTrain: data.yTrain,
      prune: { sparsity: 0.5, epochs: 1, training: { learningRate: 0.02 } },
      cluster: { denseBits: 4, biasBits: 4, fineTuneEpochs: 1, fineTuneLearningRate: 1e-4 },
    };
    const m = buildLeNet300100({ seed: 8 });
    await expect(deepCompress(m, { ...base, distill: { temperature: 0.5, weight: 0.5 } })).rejects.toThrow(
      /distill\.temperature must be in \[1, 100\], got 0\.5/,
    );
    await expect(deepCompress(m, { ...base, distill: { temperature: 2, weight: 0 } })).rejects.toThrow(
      /distill\.weight must be in \(0, 1\], got 0/,
    );
    await expect(
      deepCompress(m, { ...base, distill: { temperature: 2 } as unknown as { temperature: number; weight: number } }),
    ).rejects.toThrow(/distill\.weight/);
    const log: string[] = [];
    const r = await deepCompress(m, {
      ...base,
      distill: { temperature: 4, weight: 0.7 },
      onProgress: (s) => log.push(s),
    });
    expect(log.some((s) => /pruning: .*distilled at T 4, weight 0\.7/.test(s))).toBe(true);
    // Every pruned kernel ends at the sparsity asked for, and the file is built.
    expect(r.sparsity).toEqual({ fc1: 0.5, fc2: 0.5, fc3: 0.5 });
    expect(r.artifact.bytes).toBeGreaterThan(0);
  }, 120_000);
});
