// Chooses the Deep Compression recipe of `tfjs-quant demo` on validation digits only.
//
// The demo (src/cli/demo.ts) trains LeNet-300-100 on the 8,000 training digits of the seeded
// split and reports accuracy on its 2,000 test digits. Choosing its compression settings by
// looking at those test digits would tune on the data it reports, so this script never loads
// them: it repeats the demo's float training on the first 6,500 training digits and scores
// each candidate recipe on the last 1,500 (validation), printing validation accuracy of the
// decoded model, the saved size against float (as the demo counts it) and the process CPU time
// of the compression (the demo's budget is about a minute more than before).
//
// --fold k holds out the k-th block of 1,500 training digits (k = 0…4; blocks at 0, 1,500,
// 3,000, 4,500 and the last 1,500 = 6,500…8,000) and trains on the other 6,500, so a recipe is
// judged on several validation splits, all inside the demo's training digits.
//
//   nice -n 10 npx tsx bench/deep-compression/demo-recipe.ts [--recipes a,b,...] [--fold 4]
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { deepCompress, type DeepCompressionOptions } from '../../src/codec/deep-compression.js';
import { DEMO_DEEP_COMPRESSION } from '../../src/cli/demo.js';
import { loadMnist } from '../../src/data/mnist.js';
import { buildLeNet300100, evaluateAccuracy, trainModel } from '../../src/data/models.js';
import { loadModel } from '../../src/model/load.js';
import { saveNative } from '../../src/model/save-native.js';
import { saveLayersToMemory } from '../../test/support/model-fixtures.js';
import { cpuInfo } from '../../src/native/cpu.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const fold = Number(arg('--fold', '4'));
const TRAIN = 6500,
  VALIDATION = 1500;
const FOLD_STARTS = [0, 1500, 3000, 4500, 6500];
if (!(fold in FOLD_STARTS)) throw new RangeError(`--fold must be 0…4, got ${arg('--fold', '')}`);

type Recipe = Pick<DeepCompressionOptions, 'prune' | 'cluster'>;
const sgd = (learningRate: number) => ({ optimizer: 'sgd' as const, learningRate, momentum: 0.9, seed: 2 });
const cluster = { denseBits: 5, fineTuneEpochs: 1 };
const perLayer = { fc1: 0.92, fc2: 0.9, fc3: 0.6 };
/** Retraining of `epochs` at lr 0.02, the sparsity ramp over the first half, the last half averaged. */
const retrain = (epochs: number, learningRate = 0.02): Recipe['prune'] => ({
  sparsity: perLayer,
  epochs,
  rampFraction: 0.5,
  averageEpochs: epochs / 2,
  training: sgd(learningRate),
});
const recipes: Record<string, Recipe> = {
  // What the demo did before: 90% everywhere, 2 epochs of retraining.
  before: { prune: { sparsity: 0.9, epochs: 2, training: sgd(0.01) }, cluster },
  // The output layer (1,000 weights, 0.4% of the model) is the sensitive one: keep more of it.
  fc3: { prune: { sparsity: perLayer, epochs: 2, training: sgd(0.01) }, cluster },
  // ... and retrain longer, averaging the last half of the epochs.
  e6: { prune: retrain(6), cluster },
  e8: { prune: retrain(8), cluster },
  e10: { prune: retrain(10), cluster },
  'e6-lr0.01': { prune: retrain(6, 0.01), cluster },
  'e6-6bit': { prune: retrain(6), cluster: { ...cluster, denseBits: 6 } },
  // Per-layer sparsity from the sensitivity scan on validation (each layer pruned alone, 1 point budget).
  'e6-auto': { prune: { ...retrain(6), sparsity: 'auto', maxAccuracyDrop: 0.01 }, cluster },
  // What src/cli/demo.ts runs (the recipe chosen from the rows above).
  demo: DEMO_DEEP_COMPRESSION,
};
const chosen = arg('--recipes', Object.keys(recipes).join(',')).split(',');
for (const c of chosen)
  if (!(c in recipes)) throw new RangeError(`unknown recipe ${c}; known: ${Object.keys(recipes).join(', ')}`);

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}

const backend = await initFloatBackend();
const data = loadMnist(); // the demo's split (seed 1); only its 8,000 training digits are read below
const v0 = FOLD_STARTS[fold]!;
const rest = (t: tf.Tensor) => tf.concat([t.slice(0, v0), t.slice(v0 + VALIDATION)]);
const xTrain = rest(data.xTrain),
  yTrain = rest(data.yTrain);
const xVal = data.xTrain.slice(v0, VALIDATION),
  labelsVal = data.labelsTrain.slice(v0, v0 + VALIDATION);
if (xTrain.shape[0] !== TRAIN) throw new Error(`expected ${TRAIN} training digits, got ${xTrain.shape[0]}`);
const validate = (m: tf.LayersModel) => evaluateAccuracy(m, xVal, labelsVal);
// The demo's float training (src/cli/demo.ts), on the 6,500 digits.
const model = buildLeNet300100({ seed: 1 });
await trainModel(model, xTrain, yTrain, { epochs: 4, optimizer: 'sgd', learningRate: 0.05, momentum: 0.9, seed: 1 });
const floatVal = validate(model);
const tmp = await mkdtemp(join(tmpdir(), 'dc-demo-recipe-'));
const mem = await saveLayersToMemory(model);
await saveNative(await loadModel({ modelJson: mem.modelJson, weightData: mem.weightData }), join(tmp, 'float'), {
  mode: 'float',
});
const floatBytes = await dirBytes(join(tmp, 'float'));

const rows: string[] = [];
for (const name of chosen) {
  const dc = buildLeNet300100({ seed: 1 });
  dc.setWeights(model.getWeights());
  const cpu0 = process.cpuUsage(),
    wall0 = performance.now();
  const r = await deepCompress(dc, { ...recipes[name]!, xTrain, yTrain, validate });
  const cpu = process.cpuUsage(cpu0),
    wall = (performance.now() - wall0) / 1000;
  const dir = join(tmp, name);
  await saveNative(r.artifact.graph, dir, { mode: 'Deep Compression' });
  const bytes = await dirBytes(dir);
  const v = r.report.validation!;
  const kept = Object.entries(r.sparsity)
    .map(([l, s]) => `${l} ${(100 * (1 - s)).toFixed(0)}%`)
    .join(', ');
  rows.push(
    `| ${name} | ${kept} | ${(100 * floatVal).toFixed(2)}% | ${(100 * v.pruned!).toFixed(2)}% | ${(100 * v.decoded!).toFixed(2)}% | ${(100 * (v.decoded! - floatVal)).toFixed(2)} | ${bytes} | ${(floatBytes / bytes).toFixed(1)}× | ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s | ${wall.toFixed(0)} s |`,
  );
  console.log(rows.at(-1));
  dc.dispose();
}
await rm(tmp, { recursive: true, force: true });
console.log(
  [
    '',
    `LeNet-300-100 as the demo trains it (4 epochs), on the demo's training digits (split seed 1), validation fold ${fold} (digits ${v0}…${v0 + VALIDATION - 1}), the other ${TRAIN} trained on; the test digits are not read.`,
    `Machine: ${cpuInfo().brand}, ${cpuInfo().availableCores} cores (shared: CPU time is the steadier figure). Float backend: ${describeFloatBackend(backend)}.`,
    '',
    '| recipe | kept per layer | validation float | after prune-retrain | decoded (what runs) | change (points) | saved bytes | vs float | CPU | wall |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n'),
);
data.dispose();
tf.dispose([xTrain, yTrain, xVal]);
