// The three-stage Deep Compression pipeline on a trained tfjs-layers model:
//   1. prune + retrain (polynomial-decay schedule per layer, masks kept through training),
//   2. weight sharing (k-means per layer) + centroid fine-tuning,
//   3. encoding (relative index + codebook indices, canonical Huffman).
// Reports bytes per stage and the metric after each stage; shows progress throughout.
import { tf } from '../backend/float.js';
import { clusterModel, fineTuneCentroids, type ClusterModelOptions, type ModelClustering } from '../cluster/cluster.js';
import { trainModel, type TrainOptions } from '../data/models.js';
import { assertFinite, assertInt } from '../native/validate.js';
import { prune, prunableWeights, stripPruning } from '../prune/prune.js';
import { assertSparsity, polynomialDecay } from '../prune/schedule.js';
import type { EncodeOptions } from './format.js';
import { compressionReport, encodeModel, loadCompressedInto, type CompressedModel, type CompressionReport } from './pipeline.js';

export interface DeepCompressionOptions {
  xTrain: tf.Tensor;
  yTrain: tf.Tensor;
  /** Metric of a model (e.g. test accuracy), measured after each stage. */
  evaluate?: (model: tf.LayersModel) => number | Promise<number>;
  prune: {
    /** Target sparsity for every prunable kernel, or per layer name (absent layers stay dense). */
    sparsity: number | Record<string, number>;
    /** Retraining epochs while pruning (the schedule reaches its target after rampFraction of them). */
    epochs: number;
    /** Fraction of the retraining over which sparsity ramps up (default 0.6). */
    rampFraction?: number;
    /** Mask updates every this many steps (default 50). */
    frequency?: number;
    /**
     * Average the weights over the ends of the last this many retraining epochs (stochastic
     * weight averaging) and keep the average; 0 or absent = keep the last weights. The
     * sparsity ramp must be finished before the first averaged epoch (the masks are fixed, so
     * pruned weights stay zero in the average).
     */
    averageEpochs?: number;
    /**
     * Multiply the retraining's learning rate by this after every epoch, through the
     * optimizer's setLearningRate (default 1: constant).
     */
    learningRateDecay?: number;
    /** Training settings of the retraining (optimizer, learning rate, seed, ...). */
    training?: Omit<TrainOptions, 'epochs' | 'callbacks' | 'onProgress'>;
  };
  cluster: ClusterModelOptions & {
    fineTuneEpochs?: number;
    fineTuneLearningRate?: number;
    fineTuneBatchSize?: number;
  };
  encode?: EncodeOptions;
  onProgress?: (message: string) => void;
}

export interface DeepCompressionResult {
  compressed: CompressedModel;
  clustering: ModelClustering;
  report: CompressionReport;
}

export async function deepCompress(model: tf.LayersModel, o: DeepCompressionOptions): Promise<DeepCompressionResult> {
  const log = o.onProgress ?? (() => {});
  assertInt(o.prune.epochs, 'prune.epochs', 1, 10_000);
  const ramp = o.prune.rampFraction ?? 0.6;
  if (!(ramp > 0 && ramp <= 1)) throw new RangeError(`prune.rampFraction must be in (0, 1], got ${ramp}`);
  const frequency = o.prune.frequency ?? 50;
  assertInt(frequency, 'prune.frequency', 1);
  const targets: Record<string, number> = {};
  const kernels = prunableWeights(model);
  if (typeof o.prune.sparsity === 'number') {
    assertSparsity(o.prune.sparsity, 'prune.sparsity');
    for (const k of kernels) targets[k.layerName] = o.prune.sparsity;
  } else {
    for (const [name, s] of Object.entries(o.prune.sparsity)) {
      assertSparsity(s, `prune.sparsity['${name}']`);
      targets[name] = s;
    }
  }
  const metrics: CompressionReport['metrics'] = {};
  if (o.evaluate) metrics.baseline = await o.evaluate(model);

  // 1. prune + retrain
  const batchSize = o.prune.training?.batchSize ?? 64;
  const steps = Math.ceil(o.xTrain.shape[0] / batchSize) * o.prune.epochs;
  const end = Math.max(1, Math.floor(steps * ramp));
  const layers: Record<string, { schedule: ReturnType<typeof polynomialDecay> } | false> = {};
  for (const k of kernels) {
    const s = targets[k.layerName];
    layers[k.layerName] = s === undefined || s === 0 ? false : { schedule: polynomialDecay(0, s, 0, end, 3, Math.min(frequency, end)) };
  }
  const avgN = o.prune.averageEpochs ?? 0;
  assertInt(avgN, 'prune.averageEpochs', 0, o.prune.epochs);
  const rampEpochs = Math.ceil(end / Math.ceil(o.xTrain.shape[0] / batchSize));
  if (avgN > 0 && o.prune.epochs - avgN < rampEpochs) {
    throw new RangeError(`prune.averageEpochs (${avgN}) must leave the ${rampEpochs} epochs of the sparsity ramp out of the average`);
  }
  const lrDecay = o.prune.learningRateDecay ?? 1;
  assertFinite(lrDecay, 'prune.learningRateDecay');
  if (!(lrDecay > 0 && lrDecay <= 1)) throw new RangeError(`prune.learningRateDecay must be in (0, 1], got ${lrDecay}`);
  const callbacks: tf.CustomCallbackArgs[] = [];
  if (lrDecay !== 1) {
    let lr = o.prune.training?.learningRate ?? (o.prune.training?.optimizer === 'adam' ? 0.001 : 0.05);
    callbacks.push({
      onEpochEnd: async () => {
        lr *= lrDecay;
        const opt = model.optimizer as unknown as { setLearningRate?: (v: number) => void };
        if (typeof opt.setLearningRate !== 'function') throw new TypeError('prune.learningRateDecay needs an optimizer with setLearningRate (sgd)');
        opt.setLearningRate(lr);
      },
    });
  }
  const handle = prune(model, { layers });
  let avgSum: Float64Array[] | undefined;
  log(`pruning: ${Object.entries(targets).map(([n, s]) => `${n} ${(100 * (1 - s)).toFixed(0)}% kept`).join(', ')}; ${o.prune.epochs} epochs`);
  await trainModel(model, o.xTrain, o.yTrain, {
    ...o.prune.training, epochs: o.prune.epochs, callbacks: [handle.callback(), ...callbacks],
    onProgress: (p) => {
      if (avgN > 0 && p.epoch > p.epochs - avgN) {
        const w = model.getWeights();
        if (!avgSum) avgSum = w.map((t) => Float64Array.from(t.dataSync()));
        else w.forEach((t, i) => { const d = t.dataSync(); const a = avgSum![i]; for (let j = 0; j < d.length; j++) a[j] += d[j]; });
      }
      log(`  prune-retrain epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
    },
  });
  if (avgSum) {
    const shapes = model.getWeights().map((t) => t.shape);
    const avg = avgSum.map((a, i) => tf.tensor(Float32Array.from(a, (v) => v / avgN), shapes[i], 'float32'));
    model.setWeights(avg);
    tf.dispose(avg);
    log(`  weights averaged over the last ${avgN} retraining epochs`);
  }
  stripPruning(model);
  if (o.evaluate) metrics.pruned = await o.evaluate(model);

  // 2. weight sharing + centroid fine-tuning
  const clustering = clusterModel(model, o.cluster);
  log(`clustered ${clustering.weights.length} tensors: ${clustering.weights.map((w) => `${w.name} ${w.codebook.length}`).join(', ')}`);
  const ft = o.cluster.fineTuneEpochs ?? 0;
  if (ft > 0) {
    await fineTuneCentroids(model, clustering, o.xTrain, o.yTrain, {
      epochs: ft, learningRate: o.cluster.fineTuneLearningRate, batchSize: o.cluster.fineTuneBatchSize ?? batchSize,
      seed: o.prune.training?.seed,
      onProgress: (p) => { if (p.batch === p.batches) log(`  centroid fine-tune epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`); },
    });
  }
  if (o.evaluate) metrics.quantized = await o.evaluate(model);

  // 3. encode, then check by decoding into the model (lossless: same weights)
  const compressed = encodeModel(model, clustering, o.encode);
  loadCompressedInto(model, compressed);
  if (o.evaluate) metrics.decoded = await o.evaluate(model);
  const report = compressionReport(compressed, o.evaluate ? metrics : undefined);
  log(`encoded: ${report.bytes.huffman} bytes, ${report.ratio.huffman.toFixed(1)}× smaller than float32`);
  return { compressed, clustering, report };
}
