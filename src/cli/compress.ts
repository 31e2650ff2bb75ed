// `tfjs-quant compress <model.json> --train DIR --out DIR [--validation DIR]`: the full Deep
// Compression pipeline with retraining on a TF.js layers model — sensitivity scan on validation
// data (per-layer sparsity), prune + retrain, k-means weight sharing + centroid fine-tuning,
// relative-index + Huffman coding — saved as the one tfjs-quant file InferenceSession runs.
// A data directory holds x.npy (inputs, the model's input shape after the batch axis) and y.npy
// (integer class labels [n], or one-hot [n, classes]). Without --validation the last 20% of the
// training rows are held out for validation (and not trained on).
// Exit codes: 0 ok, 1 the model or the data could not be read or compressed, 2 usage error.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseCommand, processIO, UsageError, type CommandIO } from './args.js';
import { requireExistingPaths } from './discover.js';
import { initFloatBackend, tf } from '../backend/float.js';
import { deepCompress } from '../codec/deep-compression.js';
import { formatReport } from '../codec/pipeline.js';
import { evaluateAccuracy } from '../data/models.js';
import { readModelFiles, toArtifacts } from '../io/files.js';
import { NpyError, readNpy } from '../io/npy.js';
import { ModelFormatError } from '../model/errors.js';
import { formatSensitivity } from '../prune/sensitivity.js';

export const COMPRESS_FLAGS = {
  train: {
    type: 'string',
    value: 'DIR',
    description: 'Training data: DIR/x.npy and DIR/y.npy (labels [n] or one-hot [n, classes])',
  },
  validation: {
    type: 'string',
    value: 'DIR',
    description: 'Validation data (same layout); default: the last 20% of the training rows',
  },
  out: {
    type: 'string',
    alias: 'o',
    value: 'DIR',
    description: 'Where to write the compressed model (tfjs-quant format)',
  },
  sparsity: {
    type: 'string',
    default: 'auto',
    value: 'auto|S',
    description:
      "Per-layer sparsity from the validation sensitivity scan ('auto'), or one sparsity in [0, 1) for every layer",
  },
  'max-accuracy-drop': {
    type: 'number',
    min: 0,
    max: 0.999,
    default: 0.02,
    description:
      'With --sparsity auto: validation accuracy a layer may lose when pruned alone, before retraining (0.02 = 2 points)',
  },
  rounds: {
    type: 'int',
    min: 1,
    max: 100,
    default: 1,
    description:
      'With --sparsity auto: rounds of scan → prune → retrain, each on the pruned, retrained model (iterative pruning)',
  },
  'min-round-keep': {
    type: 'number',
    min: 0,
    max: 0.999,
    default: 0,
    description:
      'With --rounds: per round, each layer keeps at least this fraction of what it kept before (0.5 = at most halves; 0 = no cap)',
  },
  'max-retrained-drop': {
    type: 'string',
    value: 'noise|D',
    description:
      "Check after each round's retraining: validation accuracy may lose at most D (0.001 = 0.1 point) from the float model's, or 'noise' = the standard error of its validation accuracy; a failing round is retried halfway, then rolled back (default with --rounds > 1: noise; else no check)",
  },
  'target-ratio': {
    type: 'number',
    min: 1,
    value: 'R',
    description:
      'With --sparsity auto: size goal; the rounds stop once the saved file is R× smaller than float32 (every byte), and a step that would land far past R is shortened',
  },
  epochs: { type: 'int', min: 1, max: 10000, default: 8, description: 'Prune-retrain epochs (per round)' },
  'learning-rate': {
    type: 'number',
    min: 0,
    default: 0.01,
    description: 'SGD (momentum 0.9) learning rate while retraining',
  },
  'batch-size': { type: 'int', min: 1, max: 65536, default: 64, description: 'Batch size' },
  bits: { type: 'int', min: 1, max: 16, default: 5, description: 'Weight-sharing bits of Dense kernels (and biases)' },
  'conv-bits': { type: 'int', min: 1, max: 16, default: 8, description: 'Weight-sharing bits of convolution kernels' },
  'fine-tune-epochs': { type: 'int', min: 0, max: 10000, default: 1, description: 'Centroid fine-tuning epochs' },
  seed: { type: 'int', min: 0, max: 2 ** 31 - 1, default: 1, description: 'Seed of the training shuffles' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

/** The model or the data cannot be compressed as given (exit code 1; flag problems are UsageError, 2). */
class InputError extends Error {
  override name = 'InputError';
}

interface Split {
  x: tf.Tensor;
  y: tf.Tensor;
  labels: Int32Array;
}

async function readSplit(dir: string, inputShape: number[], classes: number, what: string): Promise<Split> {
  const read = async (name: string) => {
    const file = join(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(file));
    } catch (e) {
      throw new InputError(
        `--${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    return readNpy(bytes, file);
  };
  const x = await read('x.npy'),
    y = await read('y.npy');
  const n = x.shape[0] ?? 0;
  const rowShape = x.shape.slice(1);
  if (n === 0 || rowShape.join(',') !== inputShape.join(',')) {
    throw new InputError(
      `--${what}: x.npy has shape [${x.shape.join(', ')}], the model takes [n, ${inputShape.join(', ')}]`,
    );
  }
  const labels = new Int32Array(n);
  if (y.shape.length === 1 && y.shape[0] === n) {
    for (let i = 0; i < n; i++) {
      const v = Number(y.data[i]);
      if (!(Number.isInteger(v) && v >= 0 && v < classes))
        throw new InputError(`--${what}: label ${v} at row ${i} is not a class in 0..${classes - 1}`);
      labels[i] = v;
    }
  } else if (y.shape.length === 2 && y.shape[0] === n && y.shape[1] === classes) {
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let c = 1; c < classes; c++) if (y.data[i * classes + c]! > y.data[i * classes + b]!) b = c;
      labels[i] = b;
    }
  } else {
    throw new InputError(
      `--${what}: y.npy has shape [${y.shape.join(', ')}], expected [${n}] labels or [${n}, ${classes}] one-hot`,
    );
  }
  const xData = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  return {
    x: tf.tensor(xData, x.shape, 'float32'),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat()),
    labels,
  };
}

function take(s: Split, start: number, count: number): Split {
  return { x: s.x.slice(start, count), y: s.y.slice(start, count), labels: s.labels.slice(start, start + count) };
}

export async function compressCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'compress',
    args,
    COMPRESS_FLAGS,
    'tfjs-quant compress <model.json|dir> --train DIR --out DIR [--validation DIR] [options]',
    'Deep Compression with retraining of a TF.js layers model (classifier with softmax output): per-layer sparsity from a\n' +
      'sensitivity scan on validation data, prune + retrain, weight sharing, Huffman coding; writes the tfjs-quant file\n' +
      'InferenceSession runs. Exit codes: 0 ok, 1 the model or the data could not be read or compressed, 2 usage error.',
    io,
  );
  if (typeof opts === 'number') return opts;
  let sparsity: number | 'auto';
  let maxRetrainedDrop: number | 'noise' | undefined;
  try {
    if (opts._.length !== 1) throw new UsageError('expected exactly one model path (model.json or its directory)');
    if (!opts.train) throw new UsageError('give --train DIR (x.npy and y.npy)');
    if (!opts.out) throw new UsageError('give --out DIR');
    await requireExistingPaths(opts._);
    await requireExistingPaths([opts.train], '--train');
    await requireExistingPaths([opts.validation], '--validation');
    sparsity = opts.sparsity === 'auto' ? 'auto' : Number(opts.sparsity);
    if (sparsity !== 'auto' && !(sparsity >= 0 && sparsity < 1))
      throw new UsageError(`--sparsity must be 'auto' or a number in [0, 1), got '${opts.sparsity}'`);
    if (opts.rounds! > 1 && sparsity !== 'auto')
      throw new UsageError('--rounds > 1 needs --sparsity auto (each round scans the pruned model again)');
    if (opts.targetRatio !== undefined && !(opts.targetRatio > 1))
      throw new UsageError(`--target-ratio must be a ratio above 1 (40 = 40× smaller), got ${opts.targetRatio}`);
    if (opts.targetRatio !== undefined && sparsity !== 'auto')
      throw new UsageError('--target-ratio needs --sparsity auto (the rounds scan, then stop at the goal)');
    const drop = opts.maxRetrainedDrop ?? (opts.rounds! > 1 ? 'noise' : undefined);
    maxRetrainedDrop = drop === undefined || drop === 'noise' ? drop : Number(drop);
    if (typeof maxRetrainedDrop === 'number' && !(maxRetrainedDrop >= 0 && maxRetrainedDrop < 1))
      throw new UsageError(`--max-retrained-drop must be 'noise' or a number in [0, 1), got '${drop}'`);
  } catch (e) {
    io.stderr(`tfjs-quant compress: ${(e as Error).message}\n`);
    return 2;
  }
  const toDispose: tf.Tensor[] = [];
  try {
    await initFloatBackend();
    const raw = await readModelFiles(opts._[0]!);
    if (raw.json.format !== 'layers-model') {
      throw new InputError(
        `${raw.file} is a ${String(raw.json.format ?? 'graph')} model: compress retrains, so it needs a layers model (for graph models without training data use convert --mode compress)`,
      );
    }
    const model = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(raw) as tf.io.ModelArtifacts));
    const inputShape = model.inputs[0]!.shape.slice(1) as number[];
    const outShape = model.outputs[0]!.shape;
    if (model.inputs.length !== 1 || model.outputs.length !== 1 || outShape.length !== 2 || !outShape[1]) {
      throw new InputError('compress takes a classifier with one input and one [batch, classes] output');
    }
    const classes = outShape[1];
    const all = await readSplit(opts.train, inputShape, classes, 'train');
    toDispose.push(all.x, all.y);
    let train = all,
      val: Split;
    if (opts.validation) {
      val = await readSplit(opts.validation, inputShape, classes, 'validation');
    } else {
      const n = all.labels.length,
        nVal = Math.floor(n / 5);
      if (nVal < 1)
        throw new InputError(`--train has ${n} rows: too few to hold out 20% for validation (give --validation)`);
      train = take(all, 0, n - nVal);
      val = take(all, n - nVal, nVal);
      io.stderr(`validation: the last ${nVal} of ${n} training rows (held out, not trained on)\n`);
    }
    toDispose.push(train.x, train.y, val.x, val.y);
    const started = Date.now();
    const r = await deepCompress(model, {
      xTrain: train.x,
      yTrain: train.y,
      validate: (m) => evaluateAccuracy(m, val.x, val.labels),
      prune: {
        sparsity,
        maxAccuracyDrop: opts.maxAccuracyDrop,
        rounds: opts.rounds,
        minRoundKeep: opts.minRoundKeep,
        targetRatio: opts.targetRatio,
        maxRetrainedDrop,
        validationSize: val.labels.length,
        epochs: opts.epochs!,
        training: { learningRate: opts.learningRate, batchSize: opts.batchSize, seed: opts.seed },
      },
      cluster: {
        denseBits: opts.bits,
        convBits: opts.convBits,
        biasBits: opts.bits,
        fineTuneEpochs: opts.fineTuneEpochs,
        fineTuneBatchSize: opts.batchSize,
      },
      onProgress: (s) => io.stderr(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`),
    });
    await r.save(opts.out);
    const parts = [];
    r.scans.forEach((scan, i) =>
      parts.push(`${r.scans.length > 1 ? `Round ${i + 1}'s scan. ` : ''}${formatSensitivity(scan)}`, ''),
    );
    if (r.tolerance !== undefined)
      parts.push(
        `Rounds (check: validation at most ${(100 * r.tolerance).toFixed(2)} points below the float model's):`,
        ...r.rounds.map(
          (a) =>
            `  round ${a.round}: ${Object.entries(a.targets)
              .map(([l, v]) => `${l} ${(100 * (1 - v)).toFixed(1)}% kept`)
              .join(', ')}; validation ${(100 * a.validation!).toFixed(2)}%: ${a.accepted ? 'kept' : 'rolled back'}` +
            (a.estimatedRatio === undefined
              ? ''
              : `; ${a.estimatedRatio.toFixed(1)}× estimated${a.shortened ? ' (step shortened to the size goal)' : ''}${a.ratio === undefined ? '' : `, ${a.ratio.toFixed(1)}× after retraining`}`),
        ),
        '',
      );
    if (r.sizeGoal)
      parts.push(
        `Size goal ${r.sizeGoal.targetRatio}×: ${r.sizeGoal.reached ? 'reached' : 'NOT reached (the checks or --rounds stopped the pruning first)'}, ${r.sizeGoal.ratio.toFixed(1)}×`,
        '',
      );
    parts.push(formatReport({ ...r.report, metrics: r.report.validation }, 'validation accuracy'), '');
    parts.push(
      `wrote ${opts.out}: ${Object.entries(r.artifact.fileBytes)
        .map(([f, b]) => `${f} ${b} B`)
        .join(', ')} = ${r.artifact.bytes} bytes, ${r.report.ratio.artifact!.toFixed(1)}× smaller than float32`,
    );
    io.stdout(parts.join('\n') + '\n');
    model.dispose();
    return 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof ModelFormatError || e instanceof NpyError) {
      io.stderr(`tfjs-quant compress: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    tf.dispose(toDispose);
  }
}
