// `tfjs-quant compress`: a layers model on disk and .npy training digits in, the one
// tfjs-quant file out; what it prints is what it wrote; bad input is named, never a trace.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { main } from '../../src/cli/main.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { buildLeNet300100, trainModel } from '../../src/data/models.js';
import { writeNpy } from '../../src/io/npy.js';
import { layersFiles, saveLayersToMemory } from '../support/model-fixtures.js';
import { InferenceSession } from '../../src/runtime/session.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  const code = await main(args, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

describe('tfjs-quant compress', () => {
  let root: string;
  let data: MnistSplit;
  let model: tf.Sequential;

  beforeAll(async () => {
    await initFloatBackend();
    root = mkdtempSync(join(tmpdir(), 'dc-cli-'));
    data = loadMnist({ trainSize: 1000, testSize: 300, seed: 31 });
    model = buildLeNet300100({ seed: 32 });
    await trainModel(model, data.xTrain, data.yTrain, { epochs: 2, learningRate: 0.05 });
    for (const d of ['model', 'train', 'bad']) mkdirSync(join(root, d));
    for (const f of layersFiles(await saveLayersToMemory(model))) {
      writeFileSync(join(root, 'model', f.name), f.bytes);
    }
    const train = join(root, 'train');
    writeFileSync(join(train, 'x.npy'), writeNpy(data.xTrain.dataSync() as Float32Array, data.xTrain.shape));
    writeFileSync(join(train, 'y.npy'), writeNpy(data.labelsTrain, [data.labelsTrain.length]));
  }, 300_000);
  /** compress of the trained model on the training rows, written to out, with these flags. */
  const compress = (out: string, ...flags: string[]) =>
    cli(['compress', join(root, 'model', 'model.json'), '--train', join(root, 'train'), '--out', out, ...flags]);
  afterAll(() => {
    data?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('compresses with validation held out of the training rows, prints the report and writes what it reports', async () => {
    const out = join(root, 'out');
    const r = await compress(out, '--epochs', '1', '--fine-tune-epochs', '0');
    expect(r.err).toMatch(/validation: the last 200 of 1000 training rows/);
    expect(r.err).toMatch(/prune-retrain epoch 1\/1/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Validation accuracy with one layer pruned alone/);
    expect(r.out).toMatch(/\| saved file/);
    const onDisk = readdirSync(out).reduce((s, f) => s + statSync(join(out, f)).size, 0);
    const reported = Number(/ = (\d+) bytes, [\d.]+× smaller than float32/.exec(r.out)![1]);
    expect(reported).toBe(onDisk);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(
      json.weights.entries
        .filter((e: { encoding: string }) => e.encoding === 'deep-compression')
        .map((e: { name: string }) => e.name)
        .sort(),
    ).toEqual(['fc1/bias', 'fc1/kernel', 'fc2/bias', 'fc2/kernel', 'fc3/bias', 'fc3/kernel']);
    // The file runs; its top-1 agrees with the float model it came from on most held-out digits
    // (pruned and 5-bit shared weights after one epoch of retraining: not the same model).
    const s = await InferenceSession.create(join(out, 'model.json'));
    const y = (await s.run(data.xTest))[s.outputs[0]!.name]!.data as Float32Array;
    s.dispose();
    const ref = (model.predict(data.xTest) as tf.Tensor).argMax(-1).dataSync();
    let agree = 0;
    for (let i = 0; i < 300; i++) {
      let b = 0;
      for (let c = 1; c < 10; c++) if (y[i * 10 + c]! > y[i * 10 + b]!) b = c;
      if (b === ref[i]) agree++;
    }
    expect(agree / 300).toBeGreaterThan(0.85);
  }, 300_000);

  it('runs pruning rounds in capped steps with the noise check, and prints every round', async () => {
    const out = join(root, 'out-rounds');
    const r = await compress(
      out,
      '--rounds',
      '2',
      '--min-round-keep',
      '0.5',
      // Every rung passes the scan: it asks for 98%, the cap holds round 1 at 50%.
      '--max-accuracy-drop',
      '0.99',
      '--epochs',
      '1',
      '--fine-tune-epochs',
      '0',
    );
    expect(r.code).toBe(0);
    // The default check with rounds is 'noise': the binomial standard error of the float
    // model's accuracy on the 200 held-out rows, recomputed here from the accuracy it printed.
    const m =
      /validation may lose at most ([\d.]+) points \(the standard error of the float model's ([\d.]+)% on 200 digits\)/.exec(
        r.err,
      );
    expect(m).not.toBeNull();
    const p = Number(m![2]) / 100;
    expect(Number(m![1])).toBeCloseTo(100 * Math.sqrt((p * (1 - p)) / 200), 2);
    expect(r.out).toMatch(
      /round 1: fc1 50\.0% kept, fc2 50\.0% kept, fc3 50\.0% kept; validation [\d.]+%: (kept|rolled back)/,
    );
    expect(r.out).toMatch(/Round 1's scan\./);
  }, 300_000);

  it('stops the rounds at --target-ratio and says so', async () => {
    const out = join(root, 'out-goal');
    const r = await compress(
      out,
      '--rounds',
      '5',
      '--min-round-keep',
      '0.5',
      '--max-accuracy-drop',
      '0.99',
      // No round is rolled back: this test is about where the rounds stop.
      '--max-retrained-drop',
      '0.99',
      '--target-ratio',
      '12',
      '--epochs',
      '1',
      '--fine-tune-epochs',
      '0',
    );
    expect(r.code).toBe(0);
    const goal = /Size goal 12×: reached, ([\d.]+)×/.exec(r.out);
    expect(goal).not.toBeNull();
    expect(Number(goal![1])).toBeGreaterThanOrEqual(12);
    // The ratio printed for the goal is the one of the bytes written.
    const written = /= (\d+) bytes, ([\d.]+)× smaller than float32/.exec(r.out)!;
    const onDisk = readdirSync(out).reduce((s, f) => s + statSync(join(out, f)).size, 0);
    expect(Number(written[1])).toBe(onDisk);
    expect(written[2]).toBe(goal![1]);
    expect(r.err).toMatch(/size goal reached: no further round/);
    expect(r.out).not.toMatch(/round 5:/);
  }, 300_000);

  it('names what is wrong with the input', async () => {
    const m = join(root, 'model', 'model.json');
    expect((await cli(['compress', m, '--out', join(root, 'o2')])).err).toMatch(/give --train DIR/);
    expect((await cli(['compress', m, '--train', root, '--out', join(root, 'o2')])).err).toMatch(
      /--train: cannot read .*x\.npy \(ENOENT\)/,
    );
    const bad = join(root, 'bad');
    expect((await cli(['compress', m, '--train', bad, '--out', join(root, 'o2')])).code).toBe(1);
    writeFileSync(join(bad, 'x.npy'), writeNpy(new Float32Array(4 * 784), [4, 784]));
    writeFileSync(join(bad, 'y.npy'), writeNpy(new Int32Array([0, 1, 2, 3]), [4]));
    let r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--train: x\.npy has shape \[4, 784\], the model takes \[n, 28, 28, 1\]/);
    writeFileSync(join(bad, 'x.npy'), writeNpy(new Float32Array(4 * 784), [4, 28, 28, 1]));
    writeFileSync(join(bad, 'y.npy'), writeNpy(new Int32Array([0, 1, 12, 3]), [4]));
    r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2')]);
    expect(r.err).toMatch(/--train: label 12 at row 2 is not a class in 0\.\.9/);
    r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2'), '--sparsity', '1.5']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--sparsity must be 'auto' or a number in \[0, 1\), got '1\.5'/);
    r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2'), '--target-ratio', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--target-ratio must be a ratio above 1 \(40 = 40× smaller\), got 1/);
    r = await cli([
      'compress',
      m,
      '--train',
      bad,
      '--out',
      join(root, 'o2'),
      '--target-ratio',
      '40',
      '--sparsity',
      '0.5',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--target-ratio needs --sparsity auto/);
    r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2'), '--sparsity', '0.5', '--rounds', '2']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--rounds > 1 needs --sparsity auto/);
    r = await cli(['compress', m, '--train', bad, '--out', join(root, 'o2'), '--max-retrained-drop', 'some']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--max-retrained-drop must be 'noise' or a number in \[0, 1\), got 'some'/);
  });
});
