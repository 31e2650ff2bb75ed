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
import { sensitivityScan, type SensitivityScan } from '../prune/sensitivity.js';
import { buildArtifact, saveArtifact, type CompressedArtifact } from './artifact.js';
import type { EncodeOptions } from './format.js';
import {
  compressionReport,
  encodeModel,
  loadCompressedInto,
  type CompressedModel,
  type CompressionReport,
} from './pipeline.js';

export interface DeepCompressionOptions {
  xTrain: tf.Tensor;
  yTrain: tf.Tensor;
  /** Metric of a model (e.g. test accuracy), measured after each stage. */
  evaluate?: (model: tf.LayersModel) => number | Promise<number>;
  /**
   * Accuracy on validation data (carved from the training data, never the test data): what
   * sparsity 'auto' chooses with. Also reported after each stage as report.validation.
   */
  validate?: (model: tf.LayersModel) => number | Promise<number>;
  prune: {
    /**
     * Target sparsity for every prunable kernel, or per layer name (absent layers stay dense),
     * or 'auto': each layer's sparsity from the sensitivity scan (src/prune/sensitivity.ts) on
     * `validate`, the highest rung at which pruning that layer alone, before retraining, loses
     * at most maxAccuracyDrop.
     */
    sparsity: number | Record<string, number> | 'auto';
    /** With sparsity 'auto': validation accuracy a layer may lose when pruned alone (0.001 = 0.1 point). */
    maxAccuracyDrop?: number;
    /** With sparsity 'auto': the rungs tried (default SENSITIVITY_SPARSITIES). */
    sensitivitySparsities?: readonly number[];
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
  /** The deployable file (native format, the streams as stored weights); report.bytes.artifact is its size. */
  artifact: CompressedArtifact;
  /** Writes the artifact (model.json + weight shard) into dir: the file InferenceSession runs. */
  save(dir: string): Promise<string[]>;
  /** With sparsity 'auto': the scan that chose the sparsities. */
  sensitivity?: SensitivityScan;
  /** The per-layer sparsities used. */
  sparsity: Record<string, number>;
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
  let sensitivity: SensitivityScan | undefined;
  if (o.prune.sparsity === 'auto') {
    if (typeof o.validate !== 'function')
      throw new TypeError("prune.sparsity 'auto' needs validate(model): accuracy on validation data");
    if (o.prune.maxAccuracyDrop === undefined) throw new TypeError("prune.sparsity 'auto' needs prune.maxAccuracyDrop");
    sensitivity = await sensitivityScan(model, {
      evaluate: o.validate,
      maxAccuracyDrop: o.prune.maxAccuracyDrop,
      sparsities: o.prune.sensitivitySparsities,
      onProgress: (layer, p) =>
        log(
          `  sensitivity ${layer} ${(100 * p.sparsity).toFixed(0)}%: validation accuracy ${(100 * p.accuracy).toFixed(2)}%`,
        ),
    });
    for (const l of sensitivity.layers) targets[l.layer] = l.chosen;
  } else if (typeof o.prune.sparsity === 'number') {
    assertSparsity(o.prune.sparsity, 'prune.sparsity');
    for (const k of kernels) targets[k.layerName] = o.prune.sparsity;
  } else {
    for (const [name, s] of Object.entries(o.prune.sparsity)) {
      assertSparsity(s, `prune.sparsity['${name}']`);
      targets[name] = s;
    }
  }
  const metrics: CompressionReport['metrics'] = {};
  const validation: CompressionReport['metrics'] = {};
  const measure = async (stage: 'baseline' | 'pruned' | 'quantized' | 'decoded') => {
    if (o.evaluate) metrics[stage] = await o.evaluate(model);
    if (o.validate) validation[stage] = await o.validate(model);
  };
  await measure('baseline');

  // 1. prune + retrain
  const batchSize = o.prune.training?.batchSize ?? 64;
  const steps = Math.ceil(o.xTrain.shape[0] / batchSize) * o.prune.epochs;
  const end = Math.max(1, Math.floor(steps * ramp));
  const layers: Record<string, { schedule: ReturnType<typeof polynomialDecay> } | false> = {};
  for (const k of kernels) {
    const s = targets[k.layerName];
    layers[k.layerName] =
      s === undefined || s === 0 ? false : { schedule: polynomialDecay(0, s, 0, end, 3, Math.min(frequency, end)) };
  }
  const avgN = o.prune.averageEpochs ?? 0;
  assertInt(avgN, 'prune.averageEpochs', 0, o.prune.epochs);
  const rampEpochs = Math.ceil(end / Math.ceil(o.xTrain.shape[0] / batchSize));
  if (avgN > 0 && o.prune.epochs - avgN < rampEpochs) {
    throw new RangeError(
      `prune.averageEpochs (${avgN}) must leave the ${rampEpochs} epochs of the sparsity ramp out of the average`,
    );
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
        if (typeof opt.setLearningRate !== 'function')
          throw new TypeError('prune.learningRateDecay needs an optimizer with setLearningRate (sgd)');
        opt.setLearningRate(lr);
      },
    });
  }
  const handle = prune(model, { layers });
  let avgSum: Float64Array[] | undefined;
  log(
    `pruning: ${Object.entries(targets)
      .map(([n, s]) => `${n} ${(100 * (1 - s)).toFixed(0)}% kept`)
      .join(', ')}; ${o.prune.epochs} epochs`,
  );
  await trainModel(model, o.xTrain, o.yTrain, {
    ...o.prune.training,
    epochs: o.prune.epochs,
    callbacks: [handle.callback(), ...callbacks],
    onProgress: (p) => {
      if (avgN > 0 && p.epoch > p.epochs - avgN) {
        const w = model.getWeights();
        if (!avgSum) avgSum = w.map((t) => Float64Array.from(t.dataSync()));
        else
          w.forEach((t, i) => {
            const d = t.dataSync();
            const a = avgSum![i];
            for (let j = 0; j < d.length; j++) a[j] += d[j];
          });
      }
      log(`  prune-retrain epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
    },
  });
  if (avgSum) {
    const shapes = model.getWeights().map((t) => t.shape);
    const avg = avgSum.map((a, i) =>
      tf.tensor(
        Float32Array.from(a, (v) => v / avgN),
        shapes[i],
        'float32',
      ),
    );
    model.setWeights(avg);
    tf.dispose(avg);
    log(`  weights averaged over the last ${avgN} retraining epochs`);
  }
  stripPruning(model);
  await measure('pruned');

  // 2. weight sharing + centroid fine-tuning
  const clustering = clusterModel(model, o.cluster);
  log(
    `clustered ${clustering.weights.length} tensors: ${clustering.weights.map((w) => `${w.name} ${w.codebook.length}`).join(', ')}`,
  );
  const ft = o.cluster.fineTuneEpochs ?? 0;
  if (ft > 0) {
    await fineTuneCentroids(model, clustering, o.xTrain, o.yTrain, {
      epochs: ft,
      learningRate: o.cluster.fineTuneLearningRate,
      batchSize: o.cluster.fineTuneBatchSize ?? batchSize,
      seed: o.prune.training?.seed,
      onProgress: (p) => {
        if (p.batch === p.batches) log(`  centroid fine-tune epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
      },
    });
  }
  await measure('quantized');

  // 3. encode, then check by decoding into the model (lossless: same weights)
  const compressed = encodeModel(model, clustering, o.encode);
  loadCompressedInto(model, compressed);
  await measure('decoded');
  const artifact = await buildArtifact(model, compressed);
  const report = compressionReport(compressed, o.evaluate ? metrics : undefined, artifact.bytes);
  if (o.validate) report.validation = validation;
  log(
    `encoded: ${report.bytes.huffman} bytes of streams, ${artifact.bytes} bytes saved (model.json + weights), ${report.ratio.artifact!.toFixed(1)}× smaller than float32`,
  );
  return {
    compressed,
    clustering,
    report,
    artifact,
    save: (dir: string) => saveArtifact(artifact, dir),
    sensitivity,
    sparsity: targets,
  };
}
