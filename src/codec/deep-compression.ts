// The three-stage Deep Compression pipeline on a trained tfjs-layers model:
//   1. prune + retrain (polynomial-decay schedule per layer, masks kept through training),
//   2. weight sharing (k-means per layer) + centroid fine-tuning,
//   3. encoding (relative index + codebook indices, canonical Huffman).
// Reports bytes per stage and the metric after each stage; shows progress throughout.
import { tf } from '../backend/float.js';
import { clusterModel, fineTuneCentroids, type ClusterModelOptions, type ModelClustering } from '../cluster/cluster.js';
import type { TrainOptions } from '../data/models.js';
import { assertFinite, assertInt } from '../native/validate.js';
import { magnitudePrune, prunableWeights } from '../prune/prune.js';
import { assertSparsity } from '../prune/schedule.js';
import type { SensitivityScan } from '../prune/sensitivity.js';
import { buildArtifact, saveArtifact, type CompressedArtifact } from './artifact.js';
import type { EncodeOptions } from './format.js';
import {
  compressionReport,
  encodeModel,
  loadCompressedInto,
  type CompressedModel,
  type CompressionReport,
} from './pipeline.js';
import { checkRoundsOptions, pruneRounds, type PruneRoundRecord, type RetrainSettings } from './prune-rounds.js';
import type { RatioAt } from './size-goal.js';
import { checkDistillOptions, distillationLoss, teacherTargets, type DistillOptions } from './distill.js';

/**
 * The ratio of the file `deepCompress` would save from `model` as it is, or magnitude-pruned to
 * `sparsity` first: clustered and encoded with the run's settings, built into the artifact,
 * every byte counted. Centroid fine-tuning, which follows in the pipeline, moves the codebook
 * values but keeps every label, so it changes no byte count. The model's weights are restored.
 */
function savedRatio(model: tf.LayersModel, cluster: ClusterModelOptions, encode: EncodeOptions | undefined): RatioAt {
  return async (sparsity) => {
    const before = model.getWeights().map((w) => w.clone());
    try {
      if (sparsity) magnitudePrune(model, { sparsity: { ...sparsity } });
      const clustering = clusterModel(model, cluster);
      const compressed = encodeModel(model, clustering, encode);
      const artifact = await buildArtifact(model, compressed);
      return compressionReport(compressed, undefined, artifact.bytes).ratio.artifact!;
    } finally {
      model.setWeights(before);
      tf.dispose(before);
    }
  };
}

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
    /** With sparsity 'auto': how the scan picks a rung ('first-failure' default, or 'monotone'; see sensitivityScan). */
    scanRule?: 'first-failure' | 'monotone';
    /** With sparsity 'auto': layers under this share of the weights are left dense (default 0; see sensitivityScan). */
    minLayerShare?: number;
    /**
     * With sparsity 'auto': rounds of scan → prune → retrain (default 1). Each later round scans
     * the pruned, retrained model and prunes further (Han et al.'s iterative pruning); it stops
     * early when the scan prunes nothing further.
     */
    rounds?: number;
    /**
     * Validation check after each round's retraining: validation accuracy may be at most this
     * much below the float model's (0.001 = 0.1 point), or the round is rolled back and retried
     * with each layer's kept fraction halfway (geometric mean) between its previous and its
     * target one (see backoffs). 'noise': the standard error of the float model's
     * validation accuracy on validationSize digits (validationTolerance). Needs validate.
     */
    maxRetrainedDrop?: number | 'noise';
    /** Digits validate() scores on (needed by maxRetrainedDrop 'noise'). */
    validationSize?: number;
    /**
     * With rounds: per round, each layer keeps at least this fraction of what it kept before
     * (0.5: the kept fraction at most halves per round; default 0, no cap). Small steps are
     * what the retraining recovers from; the scan's choice is reached over several rounds.
     */
    minRoundKeep?: number;
    /**
     * With sparsity 'auto': the compression ratio wanted (float32 bytes of every weight / bytes
     * of the saved files, as report.ratio.artifact counts them; 40 = 40× smaller), decided up
     * front. Before each round the model as it is gets clustered and encoded exactly as the
     * final file will be; once that reaches the goal, no further round runs (each costs
     * accuracy). A round whose step would land more than 5% past the goal (STEP_AIM) takes the
     * smaller step estimated to reach it. result.sizeGoal says whether the goal was reached.
     */
    targetRatio?: number;
    /** Retries of a round that fails the check (default 1); after the last, the round is dropped. */
    backoffs?: number;
    /** Retraining epochs of each round (the schedule reaches its target after rampFraction of them). */
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
  /**
   * Knowledge distillation in both retraining stages (prune-retrain and centroid fine-tuning):
   * the model as given, before pruning, is the teacher; the loss mixes its class probabilities
   * softened at `temperature` (weight `weight`) with the hard labels (1 − weight). See distill.ts.
   */
  distill?: DistillOptions;
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
  /** With sparsity 'auto': the first round's scan (on the float model). */
  sensitivity?: SensitivityScan;
  /** With sparsity 'auto': every round's scan, in order (later ones on the pruned, retrained model). */
  scans: SensitivityScan[];
  /** Every prune-retrain attempt: targets, validation after retraining, kept or rolled back. */
  rounds: PruneRoundRecord[];
  /** The per-layer sparsities the model ends with. */
  sparsity: Record<string, number>;
  /** The validation accuracy a round was allowed to lose (with maxRetrainedDrop). */
  tolerance?: number;
  /** With prune.targetRatio: the goal and whether the saved file reached it (false = degraded: fewer rounds passed). */
  sizeGoal?: { targetRatio: number; ratio: number; reached: boolean };
}

const DEFAULT_RAMP = 0.6;
const DEFAULT_FREQUENCY = 50;

export async function deepCompress(model: tf.LayersModel, o: DeepCompressionOptions): Promise<DeepCompressionResult> {
  const log = o.onProgress ?? (() => {});
  assertInt(o.prune.epochs, 'prune.epochs', 1, 10_000);
  const ramp = o.prune.rampFraction ?? DEFAULT_RAMP;
  if (!(ramp > 0 && ramp <= 1)) throw new RangeError(`prune.rampFraction must be in (0, 1], got ${ramp}`);
  const frequency = o.prune.frequency ?? DEFAULT_FREQUENCY;
  assertInt(frequency, 'prune.frequency', 1);
  const avgN = o.prune.averageEpochs ?? 0;
  assertInt(avgN, 'prune.averageEpochs', 0, o.prune.epochs);
  const lrDecay = o.prune.learningRateDecay ?? 1;
  assertFinite(lrDecay, 'prune.learningRateDecay');
  if (!(lrDecay > 0 && lrDecay <= 1)) throw new RangeError(`prune.learningRateDecay must be in (0, 1], got ${lrDecay}`);
  if (o.distill !== undefined) checkDistillOptions(o.distill, 'distill');
  const auto = o.prune.sparsity === 'auto';
  checkRoundsOptions({ ...o.prune, auto, validate: typeof o.validate === 'function' });
  let targets: Record<string, number> | 'auto' = {};
  if (auto) {
    if (typeof o.validate !== 'function')
      throw new TypeError("prune.sparsity 'auto' needs validate(model): accuracy on validation data");
    if (o.prune.maxAccuracyDrop === undefined) throw new TypeError("prune.sparsity 'auto' needs prune.maxAccuracyDrop");
    targets = 'auto';
  } else if (typeof o.prune.sparsity === 'number') {
    assertSparsity(o.prune.sparsity, 'prune.sparsity');
    for (const k of prunableWeights(model)) targets[k.layerName] = o.prune.sparsity;
  } else {
    for (const [name, s] of Object.entries(o.prune.sparsity as Record<string, number>)) {
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
  // The teacher's soft targets, taken from the model before any pruning.
  const teacher = o.distill ? teacherTargets(model, o.xTrain, o.distill.temperature) : undefined;
  try {
    const distill = o.distill && teacher ? { options: o.distill, teacher } : undefined;
    return await compressStages(model, o, targets, measure, metrics, validation, distill, log);
  } finally {
    teacher?.dispose();
  }
}

async function compressStages(
  model: tf.LayersModel,
  o: DeepCompressionOptions,
  targets: Record<string, number> | 'auto',
  measure: (stage: 'baseline' | 'pruned' | 'quantized' | 'decoded') => Promise<void>,
  metrics: CompressionReport['metrics'],
  validation: CompressionReport['metrics'],
  distill: RetrainSettings['distill'],
  log: (message: string) => void,
): Promise<DeepCompressionResult> {
  const auto = targets === 'auto';

  // 1. prune + retrain, in rounds
  const rounds = await pruneRounds(
    model,
    o.xTrain,
    o.yTrain,
    {
      targets,
      validate: o.validate,
      scan: auto
        ? {
            maxAccuracyDrop: o.prune.maxAccuracyDrop!,
            sparsities: o.prune.sensitivitySparsities,
            rule: o.prune.scanRule,
            minLayerShare: o.prune.minLayerShare,
          }
        : undefined,
      rounds: o.prune.rounds ?? 1,
      maxRetrainedDrop: o.prune.maxRetrainedDrop,
      validationSize: o.prune.validationSize,
      minRoundKeep: o.prune.minRoundKeep,
      backoffs: o.prune.backoffs ?? 1,
      size:
        o.prune.targetRatio === undefined
          ? undefined
          : { targetRatio: o.prune.targetRatio, ratioAt: savedRatio(model, o.cluster, o.encode) },
      retrain: {
        epochs: o.prune.epochs,
        rampFraction: o.prune.rampFraction ?? DEFAULT_RAMP,
        frequency: o.prune.frequency ?? DEFAULT_FREQUENCY,
        averageEpochs: o.prune.averageEpochs ?? 0,
        learningRateDecay: o.prune.learningRateDecay ?? 1,
        training: o.prune.training,
        distill,
      },
    },
    log,
  );
  await measure('pruned');
  if (o.prune.targetRatio !== undefined && !(rounds.ratio! >= o.prune.targetRatio))
    log(
      `size goal NOT reached: ${rounds.ratio!.toFixed(1)}× after the last kept round, goal ${o.prune.targetRatio}× (the checks or the round count stopped the pruning first)`,
    );

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
      batchSize: o.cluster.fineTuneBatchSize ?? o.prune.training?.batchSize ?? 64,
      seed: o.prune.training?.seed,
      loss: distill
        ? (p, labels, rows) =>
            tf.tidy(() => distillationLoss(labels, tf.gather(distill.teacher, rows), p, distill.options))
        : undefined,
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
    sensitivity: rounds.scans[0],
    scans: rounds.scans,
    rounds: rounds.attempts,
    sparsity: rounds.sparsity,
    tolerance: rounds.tolerance,
    sizeGoal:
      o.prune.targetRatio === undefined
        ? undefined
        : {
            targetRatio: o.prune.targetRatio,
            ratio: report.ratio.artifact!,
            reached: report.ratio.artifact! >= o.prune.targetRatio,
          },
  };
}
