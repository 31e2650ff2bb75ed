// Weight sharing (Deep Compression §3): per tensor, the nonzero weights are clustered by 1-D
// k-means; every nonzero weight is replaced by its centroid (rounded to float32) and zeros
// (pruned weights) stay exactly zero. A clustered tensor is {codebook, labels}: label 0 is
// the reserved zero, label j ≥ 1 is codebook[j − 1]. Bits b allow 2^b − 1 centroids (one
// code is the zero), so a b-bit layer's labels fit in b bits.
import { tf } from '../backend/float.js';
import { native } from '../native/binding.js';
import { assertFinite, assertInt, assertTypedArray } from '../native/validate.js';
import { prunableWeights } from '../prune/prune.js';
import { distinctSorted, kmeans1d, type CentroidInit } from './kmeans.js';
import { permutation, seededRandom } from '../data/random.js';

export interface ClusteredTensor {
  /** Ascending float32 centroids (shared nonzero values). */
  codebook: Float32Array;
  /** Per element: 0 = zero, j ≥ 1 = codebook[j − 1]. */
  labels: Uint16Array;
  /** The shared weights (codebook looked up). */
  values: Float32Array;
  /** Bits per label nominally needed: ceil(log2(codebook.length + 1)). */
  bits: number;
  iterations: number;
}

export interface ClusterTensorOptions {
  /** 1–16: at most 2^bits − 1 centroids (limited to the distinct nonzero values). */
  bits?: number;
  /** Exactly this many centroids (an error when there are fewer distinct nonzero values). */
  clusters?: number;
  init?: CentroidInit;
  seed?: number;
  maxIter?: number;
}

export function assertBits(bits: unknown, name: string): asserts bits is number {
  assertInt(bits, name, 1, 16);
}

export function labelBits(codebookSize: number): number {
  return Math.max(1, Math.ceil(Math.log2(codebookSize + 1)));
}

/** Clusters the nonzeros of one weight array. */
export function clusterTensor(values: Float32Array, options: ClusterTensorOptions): ClusteredTensor {
  assertTypedArray(values, Float32Array, 'values');
  const nz: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`values[${i}] is not finite (${v})`);
    if (v !== 0) nz.push(i);
  }
  const nonzero = new Float32Array(nz.length);
  for (let i = 0; i < nz.length; i++) nonzero[i] = values[nz[i]];
  const distinct = nz.length ? distinctSorted(nonzero).length : 0;
  let k: number;
  if (options.clusters !== undefined) {
    assertInt(options.clusters, 'clusters', 1, 65535);
    if (options.clusters > distinct) {
      throw new RangeError(
        `clusters (${options.clusters}) exceeds the number of distinct nonzero weights (${distinct})`,
      );
    }
    k = options.clusters;
  } else {
    if (options.bits === undefined) throw new TypeError('options needs bits or clusters');
    assertBits(options.bits, 'bits');
    k = Math.min(2 ** options.bits - 1, distinct);
  }
  const labels = new Uint16Array(values.length);
  const out = new Float32Array(values.length);
  if (k === 0) return { codebook: new Float32Array(0), labels, values: out, bits: 1, iterations: 0 };
  const r = kmeans1d(nonzero, k, { init: options.init, seed: options.seed, maxIter: options.maxIter });
  // Drop empty clusters and clusters whose centroid rounds to zero or to another centroid.
  const f32 = Float32Array.from(r.centroids);
  const used = new Uint8Array(k);
  for (let i = 0; i < r.labels.length; i++) used[r.labels[i]] = 1;
  const keep: number[] = [];
  const remap = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    if (!used[j]) continue;
    if (keep.length && f32[keep[keep.length - 1]] === f32[j]) {
      remap[j] = keep.length;
      continue;
    }
    keep.push(j);
    remap[j] = keep.length;
  }
  const codebook = Float32Array.from(keep, (j) => f32[j]);
  for (let i = 0; i < nz.length; i++) {
    const lab = remap[r.labels[i]];
    const v = codebook[lab - 1];
    labels[nz[i]] = v === 0 ? 0 : lab; // a centroid that is exactly 0 is the reserved zero
    out[nz[i]] = v === 0 ? 0 : v;
  }
  return { codebook, labels, values: out, bits: labelBits(codebook.length), iterations: r.iterations };
}

// ---- model level

export interface LayerClusterConfig {
  bits?: number;
  clusters?: number;
  init?: CentroidInit;
}

export interface ClusterModelOptions {
  /** Bits for Dense kernels (default 5, the paper's fc setting). */
  denseBits?: number;
  /** Bits for convolution kernels (default 8, the paper's conv setting). */
  convBits?: number;
  /** Bits for other kernels (default 8). */
  otherBits?: number;
  /** Also cluster biases with this many bits (default: biases are not clustered). */
  biasBits?: number;
  /** Per-layer overrides of the kernel's setting; false leaves the kernel unclustered. */
  layers?: Record<string, LayerClusterConfig | false>;
  init?: CentroidInit;
  seed?: number;
  maxIter?: number;
}

export interface ClusteredWeight extends ClusteredTensor {
  layerName: string;
  weightName: string;
  /** The variable's full name, e.g. 'fc1/kernel'. */
  name: string;
  kind: 'dense' | 'conv' | 'other' | 'bias';
  shape: number[];
  variable: tf.LayerVariable;
}

export interface ModelClustering {
  weights: ClusteredWeight[];
}

function kindOf(layer: tf.layers.Layer): 'dense' | 'conv' | 'other' {
  const c = layer.getClassName();
  if (c === 'Dense') return 'dense';
  if (/Conv/.test(c)) return 'conv';
  return 'other';
}

/**
 * Clusters the kernels (and optionally biases) of `model` in place: their values become the
 * shared weights. Returns the codebooks and labels (input to encodeModel and fine-tuning).
 */
export function clusterModel(model: tf.LayersModel, options: ClusterModelOptions = {}): ModelClustering {
  const denseBits = options.denseBits ?? 5,
    convBits = options.convBits ?? 8,
    otherBits = options.otherBits ?? 8;
  assertBits(denseBits, 'denseBits');
  assertBits(convBits, 'convBits');
  assertBits(otherBits, 'otherBits');
  if (options.biasBits !== undefined) assertBits(options.biasBits, 'biasBits');
  const names = new Set(model.layers.map((l) => l.name));
  for (const [name, c] of Object.entries(options.layers ?? {})) {
    if (!names.has(name)) throw new RangeError(`options.layers names '${name}', which is not a layer of the model`);
    if (c !== false) {
      if (c.bits !== undefined) assertBits(c.bits, `options.layers['${name}'].bits`);
      if (c.clusters !== undefined) assertInt(c.clusters, `options.layers['${name}'].clusters`, 1, 65535);
    }
  }
  // Compute every clustering first, write afterwards: nothing is changed when one fails.
  const plans: ClusteredWeight[] = [];
  for (const { layerName, weightName, variable } of prunableWeights(model)) {
    const override = options.layers?.[layerName];
    if (override === false) continue;
    const layer = model.getLayer(layerName);
    const kind = kindOf(layer);
    const bits =
      override?.bits ??
      (override?.clusters !== undefined
        ? undefined
        : kind === 'dense'
          ? denseBits
          : kind === 'conv'
            ? convBits
            : otherBits);
    const t = clusterTensor(variable.read().dataSync() as Float32Array, {
      bits,
      clusters: override?.clusters,
      init: override?.init ?? options.init,
      seed: options.seed,
      maxIter: options.maxIter,
    });
    plans.push({
      ...t,
      layerName,
      weightName,
      name: variable.originalName,
      kind,
      shape: variable.read().shape.slice(),
      variable,
    });
  }
  if (options.biasBits !== undefined) {
    for (const layer of model.layers) {
      if (options.layers?.[layer.name] === false) continue;
      for (const v of layer.weights) {
        if (!/(^|\/)bias(_\d+)?$/.test(v.originalName)) continue;
        const t = clusterTensor(v.read().dataSync() as Float32Array, {
          bits: options.biasBits,
          init: options.init,
          seed: options.seed,
          maxIter: options.maxIter,
        });
        plans.push({
          ...t,
          layerName: layer.name,
          weightName: 'bias',
          name: v.originalName,
          kind: 'bias',
          shape: v.read().shape.slice(),
          variable: v,
        });
      }
    }
  }
  for (const p of plans) p.variable.write(tf.tensor(p.values, p.shape, 'float32'));
  return { weights: plans };
}

export interface FineTuneOptions {
  epochs: number;
  batchSize?: number;
  /** Learning rate of the centroid update C_k ← C_k − lr · Σ_{w ∈ k} ∂L/∂w (default 1e-3). */
  learningRate?: number;
  /** Learning rate of the unclustered trainable weights (default: learningRate · 10). */
  otherLearningRate?: number;
  momentum?: number;
  seed?: number;
  /**
   * The loss of a batch from the model's output, the batch's one-hot labels and its row numbers
   * in x (e.g. a distillation loss reading per-row teacher targets); default categorical
   * cross-entropy.
   */
  loss?: (prediction: tf.Tensor, labels: tf.Tensor, rows: tf.Tensor1D) => tf.Scalar;
  onProgress?: (p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }) => void;
}

/**
 * Centroid fine-tuning (Deep Compression §3.3): a few epochs where the gradient of every
 * weight is summed per cluster (natively) and the centroids, not the weights, are updated
 * (SGD with momentum); the shared weights are then rewritten from the codebook. Weights not
 * in `clustering` (e.g. unclustered biases) train normally. Zeros stay zero.
 */
export async function fineTuneCentroids(
  model: tf.LayersModel,
  clustering: ModelClustering,
  x: tf.Tensor,
  y: tf.Tensor,
  options: FineTuneOptions,
): Promise<number[]> {
  assertInt(options.epochs, 'epochs', 0, 10_000);
  const batchSize = options.batchSize ?? 64;
  assertInt(batchSize, 'batchSize', 1, 1 << 20);
  const lr = options.learningRate ?? 1e-3;
  assertFinite(lr, 'learningRate');
  const otherLr = options.otherLearningRate ?? lr * 10;
  assertFinite(otherLr, 'otherLearningRate');
  const mom = options.momentum ?? 0.9;
  assertFinite(mom, 'momentum');
  if (options.loss !== undefined && typeof options.loss !== 'function')
    throw new TypeError('loss must be a function (prediction, labels, rows) => scalar');
  if (x.shape[0] !== y.shape[0]) throw new RangeError(`x has ${x.shape[0]} examples but y has ${y.shape[0]}`);
  const clustered = new Map<string, ClusteredWeight>();
  for (const w of clustering.weights) clustered.set((w.variable.read() as tf.Variable).name, w);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const others = new Set(vars.filter((v) => !clustered.has(v.name)).map((v) => v.name));
  const otherOpt = tf.train.momentum(otherLr, mom);
  const cb64 = clustering.weights.map((w) => Float64Array.from(w.codebook));
  const vel = clustering.weights.map((w) => new Float64Array(w.codebook.length));
  const n = x.shape[0];
  const batches = Math.ceil(n / batchSize);
  const rng = seededRandom(options.seed ?? 1);
  const losses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const perm = permutation(n, rng);
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      const idx = tf.tensor1d(perm.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)), 'int32');
      const { value, grads } = tf.tidy(() => {
        const xb = tf.gather(x, idx),
          yb = tf.gather(y, idx);
        return tf.variableGrads(() => {
          const p = model.apply(xb, { training: true }) as tf.Tensor;
          if (options.loss) return options.loss(p, yb, idx);
          return tf.neg(tf.mean(tf.sum(tf.mul(yb, tf.log(tf.clipByValue(p, 1e-7, 1))), -1))) as tf.Scalar;
        }, vars);
      });
      idx.dispose();
      sum += (await value.data())[0];
      value.dispose();
      const otherGrads: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(grads)) {
        if (others.has(name)) {
          otherGrads[name] = g;
          continue;
        }
        const i = clustering.weights.indexOf(clustered.get(name)!);
        if (i < 0) {
          g.dispose();
          continue;
        }
        const w = clustering.weights[i];
        const seg = native().segmentSum(g.dataSync() as Float32Array, w.labels, { segments: w.codebook.length + 1 });
        g.dispose();
        const c = cb64[i],
          v = vel[i];
        for (let j = 0; j < c.length; j++) {
          v[j] = mom * v[j] - lr * seg[j + 1];
          c[j] += v[j];
          w.codebook[j] = c[j];
        }
        for (let t = 0; t < w.labels.length; t++) w.values[t] = w.labels[t] === 0 ? 0 : w.codebook[w.labels[t] - 1];
        w.variable.write(tf.tensor(w.values, w.shape, 'float32'));
      }
      if (Object.keys(otherGrads).length)
        otherOpt.applyGradients(otherGrads as Parameters<typeof otherOpt.applyGradients>[0]);
      tf.dispose(Object.values(otherGrads));
      options.onProgress?.({ epoch: epoch + 1, epochs: options.epochs, batch: b + 1, batches, loss: sum / (b + 1) });
    }
    losses.push(sum / batches);
  }
  otherOpt.dispose();
  // A centroid may have moved onto 0 or onto another centroid: keep the representation canonical.
  for (const w of clustering.weights) {
    for (let j = 0; j < w.codebook.length; j++) {
      if (w.codebook[j] === 0)
        throw new Error(`fine-tuning moved centroid ${j} of ${w.name} to exactly 0; use a smaller learningRate`);
    }
  }
  return losses;
}
