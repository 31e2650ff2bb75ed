// The one look at the test split of bench/deep-compression: the saved file run in
// InferenceSession (native runtime, sparse kernels where they win), and the float baseline as
// trained. Shared by run.ts (test read at the end of a run) and test-saved.ts (test read later,
// on the files of validation-only runs, for the recipe chosen on validation).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { InferenceSession } from '../../src/runtime/session.js';

/** The digits of every split: the first 6,500 training digits are trained on, the last 1,500 validate. */
export const SPLIT = { train: 6500, validation: 1500, test: 2000 } as const;

/** The float backend of a run, named for the report (conv training needs the native training kernels). */
export async function floatBackend(model: 'lenet300' | 'lenet5'): Promise<string> {
  if (model === 'lenet300') return describeFloatBackend(await initFloatBackend('wasm'));
  // Conv training needs kernels wasm lacks: the native training kernels register them.
  const k = await import('../../src/train/kernels.js');
  const be = await initFloatBackend('wasm');
  return `${describeFloatBackend(be)} + native training kernels (${k.registerNativeTrainingKernels().length} registered)`;
}

function predictTop1(data: ArrayLike<number>, rows: number, classes: number, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[r * classes + c]! > data[r * classes + best]!) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / rows;
}

/** Top-1 accuracy of the saved file in `dir` on the test digits, and how many nodes ran sparse. */
export async function testSavedFile(
  dir: string,
  xTest: tf.Tensor,
  labelsTest: ArrayLike<number>,
): Promise<{ accuracy: number; sparseNodes: number }> {
  const session = await InferenceSession.create(join(dir, 'model.json'));
  try {
    const out = await session.run(xTest);
    const name = Object.keys(out);
    if (name.length !== 1) throw new RangeError(`${dir}: expected one output, got ${name.join(', ')}`);
    const y = out[name[0]!]!;
    return {
      accuracy: predictTop1(y.data as Float32Array, labelsTest.length, 10, labelsTest),
      sparseNodes: session.plan.filter((p) => p.sparse).length,
    };
  } finally {
    session.dispose();
  }
}

/** Sets `model`'s weights from a baseline cache file of run.ts (weights and validation curve). */
export function loadBaseline(model: tf.LayersModel, cacheFile: string): number[] {
  if (!existsSync(cacheFile)) throw new RangeError(`no float baseline at ${cacheFile}`);
  const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { weights: number[][]; curve: number[] };
  const shapes = model.getWeights().map((w) => w.shape);
  if (cached.weights.length !== shapes.length)
    throw new RangeError(`${cacheFile} holds ${cached.weights.length} tensors, the model ${shapes.length}`);
  const ws = cached.weights.map((w, i) => tf.tensor(Float32Array.from(w), shapes[i], 'float32'));
  model.setWeights(ws);
  tf.dispose(ws);
  return cached.curve;
}
