// The two networks of the Deep Compression paper's Table 1, built deterministically with
// tfjs-layers (seeded Glorot-uniform kernels, zero biases), and a seeded training loop.
//   LeNet-300-100: flatten → dense 300 relu → dense 100 relu → dense 10 softmax (266,610 params)
//   LeNet-5 (Caffe): conv 5×5×20 → maxpool 2 → conv 5×5×50 → maxpool 2 → flatten →
//                    dense 500 relu → dense 10 softmax (431,080 params)
// Both take [n, 28, 28, 1] images (src/data/mnist.ts) and output class probabilities.
import { tf } from '../backend/float.js';
import { assertFinite, assertInt, assertOneOf } from '../native/validate.js';
import { permutation, seededRandom } from './random.js';

export interface BuildOptions {
  /** Seed of the initializers (default 1); layer i uses seed + i. */
  seed?: number;
  /** L2 weight decay on kernels, Caffe convention: gradient += weightDecay · w (default 0). */
  weightDecay?: number;
}

function kernelOpts(seed: number, i: number, weightDecay: number) {
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
    biasInitializer: 'zeros' as const,
    // tfjs's l2 adds l2 · Σw² to the loss (gradient 2 · l2 · w).
    kernelRegularizer: weightDecay > 0 ? tf.regularizers.l2({ l2: weightDecay / 2 }) : undefined,
  };
}

function checkBuild(o: BuildOptions): { seed: number; wd: number } {
  const seed = o.seed ?? 1;
  const wd = o.weightDecay ?? 0;
  assertInt(seed, 'seed', 0, 2 ** 31 - 100);
  assertFinite(wd, 'weightDecay');
  if (wd < 0) throw new RangeError(`weightDecay must be >= 0, got ${wd}`);
  return { seed, wd };
}

export function buildLeNet300100(options: BuildOptions = {}): tf.Sequential {
  const { seed, wd } = checkBuild(options);
  const m = tf.sequential({ name: 'lenet_300_100' });
  m.add(tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flatten' }));
  m.add(tf.layers.dense({ units: 300, activation: 'relu', name: 'fc1', ...kernelOpts(seed, 0, wd) }));
  m.add(tf.layers.dense({ units: 100, activation: 'relu', name: 'fc2', ...kernelOpts(seed, 1, wd) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc3', ...kernelOpts(seed, 2, wd) }));
  return m;
}

export function buildLeNet5(options: BuildOptions = {}): tf.Sequential {
  const { seed, wd } = checkBuild(options);
  const m = tf.sequential({ name: 'lenet_5' });
  m.add(
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 20,
      kernelSize: 5,
      name: 'conv1',
      ...kernelOpts(seed, 0, wd),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool1' }));
  m.add(tf.layers.conv2d({ filters: 50, kernelSize: 5, name: 'conv2', ...kernelOpts(seed, 1, wd) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'pool2' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: 500, activation: 'relu', name: 'fc1', ...kernelOpts(seed, 2, wd) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc2', ...kernelOpts(seed, 3, wd) }));
  return m;
}

export interface TrainOptions {
  epochs: number;
  /** Default 64. */
  batchSize?: number;
  /** 'sgd' = SGD with momentum (the paper's Caffe recipe, default) or 'adam'. */
  optimizer?: 'sgd' | 'adam';
  /** Default 0.05 for sgd, 0.001 for adam. */
  learningRate?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Multiply the learning rate by this after every epoch (default 1). */
  lrDecay?: number;
  /** Seed of the per-epoch shuffles (default 1). */
  seed?: number;
  /** Extra tfjs callbacks (e.g. the pruning callback). */
  callbacks?: tf.CustomCallbackArgs[];
  /** Called after every epoch. */
  onProgress?: (p: { epoch: number; epochs: number; loss: number; acc?: number }) => void;
}

/** TrainOptions with their defaults filled and each value checked (trainModel and the distillation loop). */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  learningRate: number;
  momentum: number;
  lrDecay: number;
  seed: number;
}

export function trainSettings(options: TrainOptions): TrainSettings {
  assertInt(options.epochs, 'epochs', 0, 10_000);
  const batchSize = options.batchSize ?? 64;
  assertInt(batchSize, 'batchSize', 1, 1 << 20);
  const optimizer = options.optimizer ?? 'sgd';
  assertOneOf(optimizer, ['sgd', 'adam'] as const, 'optimizer');
  const learningRate = options.learningRate ?? (optimizer === 'sgd' ? 0.05 : 0.001);
  assertFinite(learningRate, 'learningRate');
  const momentum = options.momentum ?? 0.9;
  assertFinite(momentum, 'momentum');
  const lrDecay = options.lrDecay ?? 1;
  assertFinite(lrDecay, 'lrDecay');
  return { epochs: options.epochs, batchSize, optimizer, learningRate, momentum, lrDecay, seed: options.seed ?? 1 };
}

/**
 * The state of one training run: a fresh optimizer, the seeded shuffle source, and afterEpoch()
 * that applies lrDecay (SGD/momentum read the rate from a scalar that only setLearningRate
 * replaces; Adam reads its learningRate field).
 */
export function trainingRun(s: TrainSettings): { optimizer: tf.Optimizer; rng: () => number; afterEpoch(): void } {
  let lr = s.learningRate;
  const optimizer = s.optimizer === 'sgd' ? tf.train.momentum(lr, s.momentum) : tf.train.adam(lr);
  const afterEpoch = () => {
    if (s.lrDecay === 1) return;
    lr *= s.lrDecay;
    const o = optimizer as unknown as { learningRate: number; setLearningRate?: (v: number) => void };
    if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
    else o.learningRate = lr;
  };
  return { optimizer, rng: seededRandom(s.seed), afterEpoch };
}

/**
 * Trains `model` on (x, y) with a seeded shuffle per epoch (tfjs's own shuffle uses
 * Math.random). Compiles the model with a fresh optimizer and categorical cross-entropy.
 */
export async function trainModel(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: TrainOptions,
): Promise<number[]> {
  const settings = trainSettings(options);
  if (x.shape[0] !== y.shape[0]) throw new RangeError(`x has ${x.shape[0]} examples but y has ${y.shape[0]}`);
  const { optimizer, rng, afterEpoch } = trainingRun(settings);
  const batchSize = settings.batchSize;
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const losses: number[] = [];
  const n = x.shape[0];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const idx = tf.tensor1d(permutation(n, rng), 'int32');
    const xs = tf.gather(x, idx);
    const ys = tf.gather(y, idx);
    idx.dispose();
    let h: tf.History;
    try {
      h = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0, callbacks: options.callbacks });
    } finally {
      tf.dispose([xs, ys]);
    }
    const loss = h.history.loss[0] as number;
    const acc = (h.history.acc ?? h.history.accuracy)?.[0] as number | undefined;
    losses.push(loss);
    options.onProgress?.({ epoch: epoch + 1, epochs: options.epochs, loss, acc });
    afterEpoch();
  }
  return losses;
}

/** Top-1 accuracy of `model` on images x against integer labels. */
export function evaluateAccuracy(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: ArrayLike<number>,
  batchSize = 500,
): number {
  const n = x.shape[0];
  if (labels.length !== n) throw new RangeError(`labels has ${labels.length} elements, expected ${n}`);
  let correct = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const pred = tf.tidy(() => (model.predict(x.slice(s, e - s)) as tf.Tensor).argMax(-1));
    const p = pred.dataSync();
    pred.dispose();
    for (let i = 0; i < p.length; i++) if (p[i] === labels[s + i]) correct++;
  }
  return n === 0 ? 0 : correct / n;
}
