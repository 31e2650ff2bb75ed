// `tfjs-quant run` and `tfjs-quant bench` driven as a user would (spawned CLI).
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/load.js';
import { execute } from '../../src/model/execute.js';
import { writeZoo } from '../support/model-zoo.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { runCli } from '../support/cli.js';

let work: string;
let model: string;

beforeAll(async () => {
  await initFloatBackend();
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-run-'));
  await writeZoo(work, { only: ['cnn/sequential'] });
  model = join(work, 'cnn/sequential/model.json');
});

describe('run', () => {
  it('reads .npy inputs, writes .npy outputs equal to tfjs float execution (native float session)', async () => {
    const x = Float32Array.from({ length: 2 * 12 * 12 * 3 }, (_, i) => ((i * 13) % 29) / 29);
    await fs.writeFile(join(work, 'x.npy'), writeNpy(x, [2, 12, 12, 3]));
    const r = await runCli(['run', model, '--input', join(work, 'x.npy'), '--output', join(work, 'y.npy')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/shape \[2, 4\]/);
    const y = readNpy(new Uint8Array(await fs.readFile(join(work, 'y.npy'))));
    expect(y.shape).toEqual([2, 4]);
    const g = await loadModel(model);
    const xt = tf.tensor(x, [2, 12, 12, 3]);
    const [ref] = execute(g, xt);
    const want = ref!.dataSync();
    for (let i = 0; i < want.length; i++) expect(y.data[i]!).toBeCloseTo(want[i]!, 4);
    tf.dispose([xt, ref!]);
  });

  it('reports bad inputs clearly: wrong input name (2), unreadable .npy (1), wrong shape (1)', async () => {
    const bad = await runCli(['run', model, '--input', `nope=${join(work, 'x.npy')}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the model's inputs are/);
    await fs.writeFile(join(work, 'junk.npy'), 'not numpy');
    const junk = await runCli(['run', model, '--input', join(work, 'junk.npy')]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toMatch(/junk\.npy/);
    await fs.writeFile(join(work, 'wrong.npy'), writeNpy(new Float32Array(10), [10]));
    const wrong = await runCli(['run', model, '--input', join(work, 'wrong.npy')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/shape/);
  });
});

describe('bench', () => {
  it('prints p50/p90/p99 and throughput for the native runtime and the baselines as JSON', async () => {
    const r = await runCli([
      'bench',
      model,
      '--batch',
      '1,2',
      '--threads',
      '1',
      '--baselines',
      'wasm',
      '--time',
      '0.05',
      '--runs',
      '5',
      '--warmup',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows).toHaveLength(4); // (wasm + native) × 2 batch sizes
    for (const row of j.rows) {
      expect(row.p50).toBeGreaterThan(0);
      expect(row.p90).toBeGreaterThanOrEqual(row.p50);
      expect(row.p99).toBeGreaterThanOrEqual(row.p90);
      expect(row.throughput).toBeCloseTo((row.batch * 1000) / row.p50, 6);
    }
    expect(j.rows.filter((x: { engine: string }) => /tfjs-quant float32/.test(x.engine))).toHaveLength(2);
  });

  it('rejects an unknown baseline with exit code 2', async () => {
    const r = await runCli(['bench', model, '--baselines', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown backend 'gpu'/);
  });
});
