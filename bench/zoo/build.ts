// Writes the models built here (bench/zoo/built) into the zoo cache as <cache>/built/<name>/
// and adds them to the manifest. Each is first run once in stock TF.js (wasm backend, cpu where
// wasm lacks a kernel) from the written files: a model stock TF.js cannot run is not a model.
//
//   npx tsx bench/zoo/build.ts [--cache DIR]
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { fileIO } from '../../src/io/files.js';
import { writeModel } from '../../test/support/model-fixtures.js';
import { transformerEncoder, mobilenetV3, ssdWhile } from './built/graph-models.js';
import { efficientnetLite, textRnn, unet } from './built/layers-models.js';
import { describeConstructs } from './describe-model.js';
import { inputValues } from './inputs.js';
import { defaultCache, hashFiles, mergeIntoManifest, type ZooInput, type ZooModel } from './manifest.js';
import { seededRandom } from '../../src/data/random.js';
import { readFileSync } from 'node:fs';

interface Recipe {
  name: string;
  family: string;
  task: string;
  inputs: ZooInput[];
  write: (dir: string) => Promise<void>;
}

const image = (name: string, hw: number): ZooInput => ({
  name,
  shape: [1, hw, hw, 3],
  dtype: 'float32',
  kind: 'image',
  range: [0, 1],
  layout: 'NHWC',
  note: 'built model',
});
const tokens = (name: string): ZooInput => ({
  name,
  shape: [1, 32],
  dtype: 'int32',
  kind: 'tokens',
  range: [0, 1000],
  note: 'token ids, vocabulary 1000',
});
const layers = (make: () => tf.LayersModel) => async (dir: string) => {
  const m = make();
  await m.save(fileIO(dir));
  m.dispose();
};

export const RECIPES: Recipe[] = [
  {
    name: 'transformer-encoder',
    family: 'Transformer encoder',
    task: 'text classifier (2 pre-LN layers, GELU, LayerNorm, BatchMatMul attention)',
    inputs: [tokens('tokens')],
    write: (d) => writeModel(d, transformerEncoder().build()),
  },
  {
    name: 'text-rnn',
    family: 'LSTM + GRU',
    task: 'text classifier',
    inputs: [tokens('tokens')],
    write: layers(textRnn),
  },
  {
    name: 'unet',
    family: 'UNet',
    task: 'segmentation (3 classes per pixel)',
    inputs: [image('image', 64)],
    write: layers(unet),
  },
  {
    name: 'ssd-while-nms',
    family: 'SSD-style detector',
    task: 'detection with a TF1 while loop and non-max suppression',
    inputs: [image('image', 64)],
    write: (d) => writeModel(d, ssdWhile().build()),
  },
  {
    name: 'mobilenet-v3-blocks',
    family: 'MobileNetV3 (hard-swish, squeeze-excite)',
    task: 'image classifier (10 classes)',
    inputs: [image('image', 96)],
    write: (d) => writeModel(d, mobilenetV3().build()),
  },
  {
    name: 'efficientnet-lite-blocks',
    family: 'EfficientNet-lite (MBConv, ReLU6)',
    task: 'image classifier (10 classes)',
    inputs: [image('image', 128)],
    write: layers(efficientnetLite),
  },
];

/** Runs the written model once in stock TF.js; returns the backend that ran it. */
async function stockRun(modelJson: string, inputs: ZooInput[]): Promise<string> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { format?: string };
  const rng = seededRandom(5);
  const errors: string[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await initFloatBackend(backend);
    const xs = inputs.map((i) => tf.tensor(inputValues(i, rng), i.shape, i.dtype));
    try {
      if (json.format === 'layers-model') {
        const m = await tf.loadLayersModel(fileIO(modelJson));
        tf.dispose(m.predict(xs.length === 1 ? xs[0]! : xs));
        m.dispose();
      } else {
        const m = await tf.loadGraphModel(fileIO(modelJson));
        tf.dispose(await m.executeAsync(Object.fromEntries(inputs.map((i, k) => [i.name, xs[k]!]))));
        m.dispose();
      }
      return backend;
    } catch (e) {
      errors.push(`${backend}: ${(e as Error).message}`);
    } finally {
      tf.dispose(xs);
    }
  }
  throw new Error(`stock TF.js cannot run ${modelJson}: ${errors.join('; ')}`);
}

export async function buildZoo(cache: string): Promise<ZooModel[]> {
  const out: ZooModel[] = [];
  for (const r of RECIPES) {
    const id = `built/${r.name}`;
    const dir = join(cache, id);
    await rm(dir, { recursive: true, force: true });
    await r.write(dir);
    const backend = await stockRun(join(dir, 'model.json'), r.inputs);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    const hashed = await hashFiles(dir, await readdir(dir));
    out.push({
      id,
      origin: 'built',
      source: `bench/zoo/built (${r.name})`,
      format: json.format === 'layers-model' ? 'layers-model' : 'graph-model',
      family: r.family,
      task: r.task,
      inputs: r.inputs,
      constructs: describeConstructs(json),
      ...hashed,
    });
    console.error(`${id}: written, runs in stock TF.js (${backend})`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { cache: { type: 'string' } } });
  const cache = values.cache ?? defaultCache();
  const models = await buildZoo(cache);
  const m = await mergeIntoManifest(cache, models);
  console.error(`${models.length} built models in ${cache} (manifest: ${m.models.length} models)`);
}
