// int4 constants with per-group scales through the tfjs-quant format (saveNative → loadModel):
// values, float16 group scales and zero points come back exactly, the graph computes the same;
// stock TF.js export falls back to float16 storage with a warning.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, ModelFormatError, saveNative, tfjsFiles, type Graph } from '../../src/model/index.js';
import { loadStock, randomTensor, randomizeWeights, saveLayersToMemory } from '../../src/model/testing.js';
import { dequantizeWeightInt4, int4WeightStats, quantizeWeightInt4 } from '../../src/quant/int4.js';
import { fromFloat16, toFloat16 } from '../../src/quant/scheme.js';
import { quantizeWeight } from '../../src/quant/weights.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend();
  dir = mkdtempSync(join(tmpdir(), 'tfjq-int4-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mlpGraph(): Promise<Graph> {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 40, inputShape: [100], activation: 'relu', name: 'fc1' }));
  m.add(tf.layers.dense({ units: 10, name: 'fc2' }));
  randomizeWeights(m, 9);
  return loadModel(await saveLayersToMemory(m));
}

/** Quantizes every 2-D float constant (Dense kernels [K, N]) to int4 in place. */
function toInt4(g: Graph, symmetric: boolean, groupSize: number): string[] {
  const names: string[] = [];
  for (const c of g.constants.values()) {
    if (c.dtype !== 'float32' || c.shape.length !== 2) continue;
    const q = quantizeWeightInt4(c.data as Float32Array, c.shape, 1, { groupSize, symmetric });
    c.data = dequantizeWeightInt4(q, c.shape);
    c.quantization = { affine: q };
    names.push(c.name);
  }
  return names;
}

describe('int4 format round trip', () => {
  for (const [symmetric, groupSize] of [[true, 64], [false, 32], [true, 0]] as const) {
    it(`saveNative/loadModel keeps values, group scales and zero points (${symmetric ? 'symmetric' : 'asymmetric'}, G ${groupSize})`, async () => {
      const g = await mlpGraph();
      const original = new Map([...g.constants.values()].map((c) => [c.name, (c.data as Float32Array).slice()]));
      const names = toInt4(g, symmetric, groupSize);
      expect(names.length).toBe(2);
      const out = join(dir, `rt-${symmetric}-${groupSize}`);
      await saveNative(g, out, { mode: 'dynamic-int4' });
      const back = await loadModel(out);
      for (const name of names) {
        const a = g.constants.get(name)!, b = back.constants.get(name)!;
        const qa = a.quantization!.affine!, qb = b.quantization!.affine!;
        expect(qb.dtype).toBe('int4');
        expect(qb.groupSize).toBe(qa.groupSize);
        expect(qb.values).toEqual(qa.values);
        expect(qb.scales).toEqual(qa.scales);
        expect(qb.zeroPoints).toEqual(qa.zeroPoints);
        expect(new Uint32Array((b.data as Float32Array).buffer)).toEqual(new Uint32Array((a.data as Float32Array).buffer));
      }
      const x = randomTensor([3, 100], 4);
      expect(execute(back, x)[0]!.dataSync()).toEqual(execute(g, x)[0]!.dataSync());
      // Stored size: half a byte per weight + 2 bytes per group scale (+1 per zero point).
      const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      const e = json.weights.entries.find((w: { name: string }) => w.name === names[0]);
      const [K, N] = g.constants.get(names[0]!)!.shape as [number, number];
      const groups = groupSize ? Math.ceil(K / groupSize) : 1;
      // int4WeightStats predicts the stored bytes of grouped entries and the SNR of the dequantized values.
      const st = int4WeightStats(original.get(names[0]!)!, g.constants.get(names[0]!)!.quantization!.affine!, [K, N]);
      let sig = 0, err = 0;
      const wf = original.get(names[0]!)!, wd = g.constants.get(names[0]!)!.data as Float32Array;
      for (let i = 0; i < wf.length; i++) { sig += wf[i]! ** 2; err += (wf[i]! - wd[i]!) ** 2; }
      expect(st.snrDb).toBeCloseTo(10 * Math.log10(sig / err), 9);
      expect(st).toMatchObject({ bits: 4, groups, groupSize: groupSize || K, floatBytes: K * N * 4 });
      if (groupSize) expect(st.bytes).toBe(e.byteLength);
      if (groupSize) {
        expect(e.params).toMatchObject({ storage: 'int4', groupSize, groupScales: 'float16', groupZeroPoints: symmetric ? 'none' : 'int8' });
        expect(e.byteLength).toBe(K * N / 2 + 2 * groups * N + (symmetric ? 0 : groups * N));
      } else {
        expect(e.params.scales.length).toBe(N);
      }
    });
  }

  it('int4WeightStats predicts the shard bytes of int8 per-channel entries too (left-at-8-bits layers)', async () => {
    const g = await mlpGraph();
    const node = g.nodes.find((n) => n.op === 'MatMul')!;
    const c = g.constants.get(node.inputs[1]!)!;
    const x = (c.data as Float32Array).slice();
    expect(quantizeWeight(c, node, 'channel')).toBe(true);
    const out = join(dir, 'int8-stats');
    await saveNative(g, out);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const e = json.weights.entries.find((w: { name: string }) => w.name === c.name);
    expect(int4WeightStats(x, c.quantization!.affine!, c.shape).bytes).toBe(e.byteLength);
  });

  it('a corrupt group table is a ModelFormatError naming the weight', async () => {
    const g = await mlpGraph();
    toInt4(g, false, 32);
    const out = join(dir, 'bad');
    await saveNative(g, out);
    const file = join(out, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    const e = json.weights.entries.find((w: { params?: { storage?: string } }) => w.params?.storage === 'int4');
    e.params.groupScales = 'bfloat16';
    writeFileSync(file, JSON.stringify(json));
    await expect(loadModel(out)).rejects.toThrow(ModelFormatError);
    await expect(loadModel(out)).rejects.toThrow(/groupScales "bfloat16" is not 'float16'/);
    e.params.groupScales = 'float16';
    e.params.groupSize = 48;
    writeFileSync(file, JSON.stringify(json));
    await expect(loadModel(out)).rejects.toThrow(/groupSize 48 is not 32, 64 or 128/);
  });

  it('stock TF.js export stores int4 weights as float16 with a warning, and tfjs runs it', async () => {
    const g = await mlpGraph();
    toInt4(g, true, 64);
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarn);
    const files = tfjsFiles(g, { format: 'graph' });
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarn);
    expect(warnings.filter((w) => /int4 weights have no stock TF.js storage, saved as float16/.test(w)).length).toBe(2);
    const manifest = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'model.json')!.bytes));
    const dtypes = manifest.weightsManifest[0].weights.map((w: { quantization?: { dtype: string } }) => w.quantization?.dtype ?? 'float32');
    expect(dtypes.filter((d: string) => d === 'float16').length).toBe(2);
    const stock = await loadStock(files) as tf.GraphModel;
    const x = randomTensor([2, 100], 6);
    // What tfjs computes: the dequantized values rounded to float16, in float32.
    for (const c of g.constants.values()) {
      if (c.quantization?.affine?.dtype === 'int4') c.data = (c.data as Float32Array).map((v) => fromFloat16(toFloat16(v)));
    }
    const want = execute(g, x)[0]!.dataSync(), got = (stock.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[i]!)));
  });
});
