// A session fits into TF.js code: it is created from whatever a tfjs user holds (a model
// object, an IOHandler, bytes in memory, a file:// URL), takes tensors of any tfjs copy, and
// answers predictAsync / executeAsync as tfjs's GraphModel does. References are tfjs itself:
// model.predict on the same model object, and GraphModel.execute on the same files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initFloatBackend } from '../../src/backend/float.js';
import {
  convNetGraphModel,
  memoryArtifacts,
  randomizeWeights,
  saveLayersToMemory,
  sequentialCnn,
} from '../support/model-fixtures.js';
import { loadModel, saveNative } from '../../src/model/index.js';
import { quantize as postTrainingQuantize } from '../../src/quant/quantize.js';
import { InferenceSession, loadGraphModel } from '../../src/runtime/index.js';
import { registerFileRouter } from '../../src/io/router.js';
import { writeFilesAtomic } from '../../src/io/atomic.js';
import { relErr } from './helpers.js';
import { dynamicTolerance, toleranceRatio } from '../support/dynamic-tolerance.js';

const work = mkdtempSync(join(tmpdir(), 'tfjs-quant-interop-'));
beforeAll(async () => {
  await initFloatBackend('cpu');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const values = (t: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): Float32Array => {
  if (!(t instanceof tf.Tensor)) throw new Error('expected one tensor');
  return t.dataSync() as Float32Array;
};

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** A tensor of another tfjs copy as this package sees it: the members, not tfjs's class. */
function foreignTensor(t: tf.Tensor) {
  return { dtype: t.dtype, shape: [...t.shape], isDisposed: false, dataSync: () => t.dataSync() };
}

describe('InferenceSession.create sources', () => {
  const model = sequentialCnn(21);
  const x = tf.randomUniform([3, 12, 12, 3], -1, 1, 'float32', 1);
  const ref = (model.predict(x) as tf.Tensor).dataSync();

  async function check(source: Parameters<typeof InferenceSession.create>[0]) {
    const s = await InferenceSession.create(source, { threads: 1 });
    try {
      expect(relErr(values(await s.predictAsync(x)), ref)).toBeLessThan(1e-5);
    } finally {
      s.dispose();
    }
  }

  it('a tf.LayersModel object (read through its own save(), left unchanged)', async () => {
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    await check(model);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });

  it('a tfjs IOHandler (tf.io.fromMemory)', async () => {
    const m = await saveLayersToMemory(model);
    await check(tf.io.fromMemory(memoryArtifacts(m.modelJson, m.weightData)));
  });

  it('bytes in memory: {modelJson, weightData} with Uint8Array, ArrayBuffer or shard-list weights and object, text or byte JSON', async () => {
    const m = await saveLayersToMemory(model);
    const text = JSON.stringify(m.modelJson);
    const half = m.weightData.byteLength >> 1;
    await check({ modelJson: m.modelJson, weightData: m.weightData });
    await check({ modelJson: text, weightData: m.weightData.slice().buffer });
    await check({
      modelJson: new TextEncoder().encode(text),
      weightData: [m.weightData.slice(0, half), m.weightData.slice(half).buffer],
    });
  });

  it('a file:// URL and a plain path', async () => {
    const m = await saveLayersToMemory(model);
    const dir = join(work, 'layers');
    await writeFilesAtomic(dir, [
      { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(m.modelJson)) },
      { name: 'weights.bin', bytes: m.weightData },
    ]);
    await check(`file://${join(dir, 'model.json')}`);
    await check(dir);
  });

  it.each([
    ['a number', 42, TypeError, /model must be a path .*, or a Graph; got number/],
    ['null', null, TypeError, /got null/],
    [
      'an object that is no source',
      { weights: [] },
      TypeError,
      /model must be .*IOHandler.*tf\.LayersModel.*got an object with keys \[weights\]/,
    ],
    [
      'modelJson of the wrong kind',
      { modelJson: 7 },
      Error,
      /modelJson must be an object, JSON text or its bytes, got number/,
    ],
    [
      'modelJson bytes that are not UTF-8',
      { modelJson: new Uint8Array([0xff, 0xfe, 0x7b]) },
      Error,
      /modelJson bytes are not UTF-8/,
    ],
    [
      'weightData of the wrong kind',
      { modelJson: '{"modelTopology": {}}', weightData: 'abc' },
      Error,
      /weightData must be an ArrayBuffer, a Uint8Array or an array of them/,
    ],
    [
      'an IOHandler whose load() fails',
      { load: () => Promise.reject(new Error('disk on fire')) },
      Error,
      /IOHandler\.load\(\) failed: disk on fire/,
    ],
  ])('%s is refused up front with an error naming it', async (_label, source, kind, msg) => {
    const p = InferenceSession.create(source as never);
    await expect(p).rejects.toThrow(kind);
    await expect(InferenceSession.create(source as never)).rejects.toThrow(msg);
  });
});

describe('tf.InferenceModel', () => {
  it('a LayersModel trained in user code, post-training quantized to int8, answers predictAsync close to model.predict', async () => {
    // The user's flow: build, train, quantize, then predict with the quantized model.
    const model = tf.sequential();
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    model.add(tf.layers.dense({ units: 32, inputShape: [10], activation: 'relu', kernelInitializer: init(1) }));
    model.add(tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(2) }));
    model.add(tf.layers.dense({ units: 3, kernelInitializer: init(3) }));
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const xs = tf.randomUniform([256, 10], -1, 1, 'float32', 7);
    const w = tf.randomUniform([10, 3], -1, 1, 'float32', 8);
    const ys = tf.matMul(xs, w).tanh();
    const hist = await model.fit(xs, ys, { epochs: 20, batchSize: 32, verbose: 0, shuffle: false });
    const losses = hist.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 2); // it did train

    const calibration = [0, 1, 2, 3].map((i) => tf.randomUniform([16, 10], -1, 1, 'float32', 40 + i));
    const { graph } = await postTrainingQuantize(model, { mode: 'int8', calibration, report: false });
    const session = await InferenceSession.create(graph, { threads: 1 });
    const x = tf.randomUniform([64, 10], -1, 1, 'float32', 9);
    const y = await session.predictAsync(x);
    const ref = model.predict(x) as tf.Tensor;
    expect(y).toBeInstanceOf(tf.Tensor);
    expect((y as tf.Tensor).shape).toEqual(ref.shape);
    // int8, not the float model, and within the converter's default tolerance (cosine 0.99).
    expect(relErr(values(y), ref.dataSync())).toBeGreaterThan(0);
    expect(cosine(values(y), ref.dataSync())).toBeGreaterThan(0.99);
    // Code written for tfjs models calls predict synchronously: the same values.
    expect(Array.from(values(session.predict(x) as tf.Tensor))).toEqual(Array.from(values(y)));
    // The input is left as it was (not disposed, not changed).
    expect(x.isDisposed).toBe(false);
    expect(relErr(x.dataSync(), tf.randomUniform([64, 10], -1, 1, 'float32', 9).dataSync())).toBe(0);
    session.dispose();
  });

  it('takes tensors of another tfjs copy (duck-typed, not instanceof), and refuses a disposed one', async () => {
    const model = sequentialCnn(22);
    const s = await InferenceSession.create(model, { threads: 1 });
    const x = tf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 2);
    const foreign = foreignTensor(x);
    expect(foreign instanceof tf.Tensor).toBe(false);
    const ref = (model.predict(x) as tf.Tensor).dataSync();
    expect(relErr(values(await s.predictAsync(foreign as never)), ref)).toBeLessThan(1e-5);
    expect(relErr(values(await s.predictAsync([foreign] as never)), ref)).toBeLessThan(1e-5);
    expect(
      relErr((await s.run({ [s.inputNames[0]!]: foreign }))[s.outputs[0]!.name]!.data as Float32Array, ref),
    ).toBeLessThan(1e-5);
    await expect(s.predictAsync({ ...foreign, isDisposed: true } as never)).rejects.toThrow(/is disposed/);
    await expect(s.predictAsync({ ...foreign, dtype: 'int32' } as never)).rejects.toThrow(
      /has dtype int32, the model expects float32/,
    );
    s.dispose();
  });

  describe('a two-output model', () => {
    const input = tf.input({ shape: [6], name: 'features' });
    const h = tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.dense({ units: 3, name: 'head_a' }).apply(h) as tf.SymbolicTensor;
    const b = tf.layers.dense({ units: 2, activation: 'sigmoid', name: 'head_b' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b] });
    randomizeWeights(model, 23);
    const x = tf.randomUniform([5, 6], -1, 1, 'float32', 3);
    const [ra, rb] = (model.predict(x) as tf.Tensor[]).map((t) => t.dataSync());

    it('predictAsync returns the outputs in order; executeAsync the ones asked for, in the order asked', async () => {
      const s = await InferenceSession.create(model, { threads: 1 });
      expect(s.inputNames).toHaveLength(1);
      expect(s.outputNames).toHaveLength(2);
      const all = (await s.predictAsync(x)) as tf.Tensor[];
      expect(all).toHaveLength(2);
      expect(relErr(all[0]!.dataSync(), ra!)).toBeLessThan(1e-5);
      expect(relErr(all[1]!.dataSync(), rb!)).toBeLessThan(1e-5);
      const [kA, kB] = s.outputNames;
      const swapped = (await s.executeAsync({ [s.inputNames[0]!]: x }, [kB!, kA!])) as tf.Tensor[];
      expect(swapped.map((t) => t.shape)).toEqual([
        [5, 2],
        [5, 3],
      ]);
      expect(relErr(swapped[0]!.dataSync(), rb!)).toBeLessThan(1e-5);
      const one = await s.executeAsync(x, s.outputs[0]!.name);
      expect(one).toBeInstanceOf(tf.Tensor);
      expect(relErr(values(one), ra!)).toBeLessThan(1e-5);
      // The same output twice: two tensors, each disposable on its own.
      const twice = (await s.executeAsync(x, [kA!, kA!])) as tf.Tensor[];
      twice[0]!.dispose();
      expect(relErr(twice[1]!.dataSync(), ra!)).toBeLessThan(1e-5);
      s.dispose();
    });

    it('names what is wrong: an unknown output, a wrong tensor count, the synchronous forms', async () => {
      const s = await InferenceSession.create(model, { threads: 1 });
      await expect(s.executeAsync(x, 'hidden')).rejects.toThrow(
        /'hidden' is not an output of the model .*does not keep intermediate tensors/,
      );
      await expect(s.executeAsync(x, [])).rejects.toThrow(/non-empty array/);
      await expect(s.predictAsync([x, x])).rejects.toThrow(/got 2 tensors, the model takes 1/);
      await expect(s.predictAsync(x, 3 as never)).rejects.toThrow(/config must be an object/);
      expect(() => s.execute(x, 'hidden')).toThrow(/'hidden' is not an output of the model/);
      expect(() => s.predict(x, 3 as never)).toThrow(/config must be an object/);
      s.dispose();
    });

    it('predict / execute run synchronously and give what the async forms give', async () => {
      const s = await InferenceSession.create(model, { threads: 1 });
      const list = (r: tf.Tensor | tf.Tensor[]) => (Array.isArray(r) ? r : [r]);
      const a = list(await s.predictAsync(x));
      const b = list(s.predict(x));
      expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
      b.forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(a[i]!.dataSync())));
      const last = s.outputNames.at(-1)!;
      const picked = s.execute(x, last) as tf.Tensor;
      expect(Array.from(picked.dataSync())).toEqual(Array.from(a.at(-1)!.dataSync()));
      s.dispose();
    });
  });
});

describe('file:// URLs', () => {
  it('registerFileRouter lets stock tfjs load and save file:// URLs, once', async () => {
    expect(registerFileRouter()).toBe(true);
    expect(registerFileRouter()).toBe(false); // a second router for the same URLs would break tfjs's loaders
    // A graph model on disk, through tf.loadGraphModel('file://…'), against the same model from memory.
    const built = convNetGraphModel(24).build();
    const gdir = join(work, 'graph');
    await writeFilesAtomic(gdir, [
      { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(built.modelJson)) },
      { name: (built.modelJson.weightsManifest as { paths: string[] }[])[0]!.paths[0]!, bytes: built.weightData },
    ]);
    const fromFile = await tf.loadGraphModel(`file://${join(gdir, 'model.json')}`);
    const fromMemory = await tf.loadGraphModel(tf.io.fromMemory(memoryArtifacts(built.modelJson, built.weightData)));
    const x = tf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 4);
    expect(Array.from(values(fromFile.execute(x) as tf.Tensor))).toEqual(
      Array.from(values(fromMemory.execute(x) as tf.Tensor)),
    );
    // A layers model saved to file:// and read back predicts as before.
    const model = sequentialCnn(25);
    const ldir = join(work, 'saved');
    await model.save(`file://${ldir}`);
    expect(JSON.parse(readFileSync(join(ldir, 'model.json'), 'utf8')).format).toBe('layers-model');
    const back = await tf.loadLayersModel(`file://${join(ldir, 'model.json')}`);
    expect(Array.from(values(back.predict(x) as tf.Tensor))).toEqual(Array.from(values(model.predict(x) as tf.Tensor)));
  });

  it('loadGraphModel runs a tfjs-quant file that stock tfjs refuses with a message naming it', async () => {
    const model = sequentialCnn(26);
    const { graph } = await postTrainingQuantize(model, { mode: 'dynamic', report: false });
    const qdir = join(work, 'quant');
    await saveNative(graph, qdir, { mode: 'dynamic' });
    const url = `file://${join(qdir, 'model.json')}`;
    registerFileRouter();
    await expect(tf.loadGraphModel(url)).rejects.toThrow(
      /a tfjs-quant model, which stock TF\.js cannot run: .*loadGraphModel/,
    );
    const session = await loadGraphModel(url, { threads: 1 });
    const direct = await InferenceSession.create(graph, { threads: 1 });
    const x = tf.randomUniform([3, 12, 12, 3], -1, 1, 'float32', 5);
    expect(Array.from(values(await session.predictAsync(x)))).toEqual(Array.from(values(await direct.predictAsync(x))));
    // Dynamic int8 weights: close to the float model, not equal to it.
    const got = values(await session.predictAsync(x));
    expect(relErr(got, (model.predict(x) as tf.Tensor).dataSync())).toBeGreaterThan(0);
    // Within the scheme's noise of float (support/dynamic-tolerance.ts: measured 0.10 of it).
    expect(toleranceRatio(got, dynamicTolerance(model, x))).toBeLessThanOrEqual(1);
    session.dispose();
    direct.dispose();
    expect((await loadModel(url)).source?.format).toBe('tfjs-quant');
  });

  it("loadGraphModel reads http:// URLs through tfjs's own handler (a local server)", async () => {
    const built = convNetGraphModel(27).build();
    const shard = (built.modelJson.weightsManifest as { paths: string[] }[])[0]!.paths[0]!;
    const files = new Map<string, Uint8Array>([
      ['/m/model.json', new TextEncoder().encode(JSON.stringify(built.modelJson))],
      [`/m/${shard}`, built.weightData],
    ]);
    const server = createServer((req, res) => {
      const body = files.get(req.url ?? '');
      res.writeHead(body ? 200 : 404).end(body ?? '');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const session = await loadGraphModel(`http://127.0.0.1:${port}/m/model.json`, { threads: 1 });
      const stock = await tf.loadGraphModel(tf.io.fromMemory(memoryArtifacts(built.modelJson, built.weightData)));
      const x = tf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 6);
      expect(relErr(values(await session.predictAsync(x)), values(stock.execute(x) as tf.Tensor))).toBeLessThan(1e-5);
      session.dispose();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('loadGraphModel refuses a URL scheme no tfjs handler takes', async () => {
    await expect(loadGraphModel('gopher://host/model.json')).rejects.toThrow(
      /no tfjs load handler takes 'gopher:\/\/' URLs/,
    );
    await expect(loadGraphModel('')).rejects.toThrow(/URL is empty/);
  });
});
