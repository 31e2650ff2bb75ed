// Deep Compression delivers one artifact: the files deepCompress reports the size of are the
// files save() writes, byte for byte; InferenceSession runs them with the weights the pipeline
// produced and the accuracy it reported; inspect names the encoding. Sparsity 'auto' takes each
// layer's sparsity from a sensitivity scan on validation digits carved from the training digits.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { inspectCommand } from '../../src/cli/inspect.js';
import { deepCompress, type DeepCompressionResult } from '../../src/codec/index.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100, evaluateAccuracy, trainModel } from '../../src/data/models.js';
import { loadModel } from '../../src/model/load.js';
import { sensitivityScan } from '../../src/prune/sensitivity.js';
import { InferenceSession } from '../../src/runtime/session.js';

const LADDER = [0.5, 0.8, 0.9, 0.95];

describe('deepCompress: the saved file is the reported one, and sparsity "auto"', () => {
  let data: MnistSplit;
  let xTrain: tf.Tensor, yTrain: tf.Tensor, xVal: tf.Tensor;
  let labelsVal: Uint8Array;
  let model: tf.Sequential;
  let result: DeepCompressionResult;
  let dir: string;
  const validate = (m: tf.LayersModel) => evaluateAccuracy(m, xVal, labelsVal);

  beforeAll(async () => {
    await initFloatBackend();
    // 2,000 training digits: the first 1,500 trained on, the last 500 the validation split.
    data = loadMnist({ trainSize: 2000, testSize: 500, seed: 11 });
    xTrain = data.xTrain.slice(0, 1500);
    yTrain = data.yTrain.slice(0, 1500);
    xVal = data.xTrain.slice(1500, 500);
    labelsVal = data.labelsTrain.slice(1500);
    model = buildLeNet300100({ seed: 12, weightDecay: 5e-4 });
    await trainModel(model, xTrain, yTrain, { epochs: 2, learningRate: 0.05 });
    result = await deepCompress(model, {
      xTrain,
      yTrain,
      validate,
      evaluate: (m) => evaluateAccuracy(m, data.xTest, data.labelsTest),
      prune: {
        sparsity: 'auto',
        maxAccuracyDrop: 0.02,
        sensitivitySparsities: LADDER,
        epochs: 2,
        training: { learningRate: 0.05 },
      },
      cluster: { denseBits: 5, biasBits: 5, fineTuneEpochs: 1, fineTuneLearningRate: 1e-4 },
    });
    dir = mkdtempSync(join(tmpdir(), 'dc-artifact-'));
    await result.save(dir);
  }, 300_000);
  afterAll(() => {
    data?.dispose();
    tf.dispose([xTrain, yTrain, xVal]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes exactly the files whose bytes the report counts', () => {
    const names = readdirSync(dir).sort();
    expect(names).toEqual(result.artifact.files.map((f) => f.name).sort());
    let total = 0;
    for (const f of result.artifact.files) {
      const disk = readFileSync(join(dir, f.name));
      expect(Buffer.compare(disk, Buffer.from(f.bytes)), f.name).toBe(0);
      total += disk.byteLength;
    }
    expect(result.report.bytes.artifact).toBe(total);
    expect(result.report.ratio.artifact).toBeCloseTo(result.report.bytes.dense / total, 10);
    // The files hold the streams plus the graph and the manifest: more than the streams alone.
    expect(total).toBeGreaterThan(result.report.bytes.huffman);
  });

  it('stores each Deep Compression stream verbatim, and decodes to the compressed weights bit for bit', async () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const shard = readFileSync(join(dir, json.weights.shards[0]));
    const streams = result.compressed.tensors.filter((t) => t.encoding === 'deep-compression');
    expect(streams.length).toBe(6); // three kernels and three biases (biasBits given)
    for (const t of streams) {
      const e = json.weights.entries.find((x: { name: string }) => x.name === t.name);
      expect(e.encoding, t.name).toBe('deep-compression');
      expect(Buffer.compare(shard.subarray(e.offset, e.offset + e.byteLength), Buffer.from(t.bytes)), t.name).toBe(0);
    }
    const g = await loadModel(join(dir, 'model.json'));
    for (const v of model.weights) {
      const want = v.read().dataSync() as Float32Array;
      const got = g.constants.get(v.originalName)!.data as Float32Array;
      expect(
        Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(
          Buffer.from(want.buffer, want.byteOffset, want.byteLength),
        ),
        v.originalName,
      ).toBe(true);
    }
  });

  it('runs in InferenceSession with the accuracy the report gives, pruned layers on sparse kernels', async () => {
    const s = await InferenceSession.create(join(dir, 'model.json'));
    try {
      const y = (await s.run(data.xTest))[result.artifact.graph.outputs[0]!]!;
      const ref = (model.predict(data.xTest) as tf.Tensor).dataSync() as Float32Array;
      // Native float kernels against tfjs float on the same weights: reordered float32 sums.
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs((y.data as Float32Array)[i]! - ref[i]!));
      expect(worst).toBeLessThan(1e-5);
      let correct = 0;
      for (let r = 0; r < 500; r++) {
        let best = 0;
        for (let c = 1; c < 10; c++)
          if ((y.data as Float32Array)[r * 10 + c]! > (y.data as Float32Array)[r * 10 + best]!) best = c;
        if (best === data.labelsTest[r]) correct++;
      }
      expect(correct / 500).toBe(result.report.metrics!.decoded);
      // fc1 is pruned to ≥ 80% by the scan (asserted below) and runs as a sparse kernel at 500 rows.
      expect(s.plan.some((p) => p.node === 'fc1/MatMul' && typeof p.sparse === 'string')).toBe(true);
    } finally {
      s.dispose();
    }
  });

  it('is explained by tfjs-quant inspect', async () => {
    let out = '';
    const code = await inspectCommand([join(dir, 'model.json')], {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        out += s;
      },
    });
    expect(code).toBe(0);
    expect(out).toMatch(/float32 \(deep-compression\)/);
  });

  it("chooses each layer's sparsity from the validation scan: the highest rung before the first over budget", () => {
    const scan = result.sensitivity!;
    expect(scan.layers.map((l) => l.layer)).toEqual(['fc1', 'fc2', 'fc3']);
    for (const l of scan.layers) {
      expect(l.points.map((p) => p.sparsity)).toEqual(LADDER);
      const firstFail = l.points.findIndex((p) => scan.baseline - p.accuracy > 0.02);
      const expected = firstFail === 0 ? 0 : LADDER[(firstFail < 0 ? LADDER.length : firstFail) - 1];
      expect(l.chosen, l.layer).toBe(expected);
      expect(result.sparsity[l.layer]).toBe(l.chosen);
      const kept = result.report.rows.find((r) => r.name === `${l.layer}/kernel`)!.kept;
      expect(kept, l.layer).toBeCloseTo(1 - l.chosen, 2);
    }
    // fc1 (235,200 weights) tolerates heavy pruning even without retraining.
    expect(result.sparsity.fc1).toBeGreaterThanOrEqual(0.8);
    expect(result.report.validation!.baseline).toBe(scan.baseline);
  });
});

describe('sensitivityScan', () => {
  it('prunes one layer at a time, measures each rung against a hand count, and leaves the weights as they were', async () => {
    await initFloatBackend();
    const model = buildLeNet300100({ seed: 21 });
    const before = model.weights.map((w) => Buffer.from((w.read().dataSync() as Float32Array).buffer.slice(0)));
    // The "accuracy" is the fraction of fc2's kernel still nonzero: pruning fc2 alone at s must
    // give 1 − s (magnitude pruning keeps round(n(1 − s)) weights), every other layer 1.
    const fc2Kept = (m: tf.LayersModel) => {
      const d = m.getLayer('fc2').getWeights()[0]!.dataSync();
      let nz = 0;
      for (const v of d) if (v !== 0) nz++;
      return nz / d.length;
    };
    const scan = await sensitivityScan(model, {
      evaluate: fc2Kept,
      maxAccuracyDrop: 0.15,
      sparsities: [0.9, 0.1, 0.2],
    });
    const fc2 = scan.layers.find((l) => l.layer === 'fc2')!;
    expect(fc2.points).toEqual([
      { sparsity: 0.1, accuracy: Math.round(30000 * 0.9) / 30000 },
      { sparsity: 0.2, accuracy: Math.round(30000 * 0.8) / 30000 },
      { sparsity: 0.9, accuracy: Math.round(30000 * 0.1) / 30000 },
    ]);
    expect(fc2.chosen).toBe(0.1);
    expect(scan.layers.find((l) => l.layer === 'fc1')!.chosen).toBe(0.9);
    model.weights.forEach((w, i) =>
      expect(Buffer.from((w.read().dataSync() as Float32Array).buffer.slice(0)).equals(before[i]!)).toBe(true),
    );
    await expect(sensitivityScan(model, { evaluate: fc2Kept, maxAccuracyDrop: 1.5 })).rejects.toThrow(
      /maxAccuracyDrop must be in \[0, 1\)/,
    );
    await expect(sensitivityScan(model, { evaluate: fc2Kept, maxAccuracyDrop: 0.1, layers: ['nope'] })).rejects.toThrow(
      /layer 'nope' has no prunable kernel/,
    );
  });

  it("deepCompress refuses sparsity 'auto' without validation data or a budget", async () => {
    await initFloatBackend();
    const model = buildLeNet300100({ seed: 22 });
    const x = tf.zeros([4, 28, 28, 1]),
      y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 10);
    const base = { xTrain: x, yTrain: y, cluster: {} };
    await expect(
      deepCompress(model, { ...base, prune: { sparsity: 'auto', maxAccuracyDrop: 0.001, epochs: 1 } }),
    ).rejects.toThrow(/needs validate\(model\)/);
    await expect(
      deepCompress(model, { ...base, validate: () => 1, prune: { sparsity: 'auto', epochs: 1 } }),
    ).rejects.toThrow(/needs prune.maxAccuracyDrop/);
    tf.dispose([x, y]);
  });
});
