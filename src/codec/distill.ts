// Knowledge distillation (Hinton, Vinyals & Dean, 2015) for the retraining stages of Deep
// Compression: the model being compressed, as it was before pruning, is the teacher; the pruned
// (then clustered) model learns from the teacher's class probabilities softened at a temperature
// T as well as from the hard labels:
//   L = (1 − w) · CE(y, q) + w · T² · KL(p_T ‖ q_T),   p_T = softmax(z_teacher / T), q_T likewise.
// T² keeps the soft term's gradient on the scale of the hard one's as T changes (Hinton §2).
//
// The models here end in softmax, so they output probabilities, not logits. softmax(log p / T)
// = softmax(z / T) because log p = z − logsumexp(z) shifts every logit of a row by the same
// amount, so the softened distributions come from the probabilities exactly, without the logits.
//
// Training runs a loop of its own rather than model.fit: fit's loss(yTrue, yPred) sees only
// targets shaped like the output, and the distilled loss needs both the hard labels and the
// teacher's targets of each batch.
import { tf } from '../backend/float.js';
import { trainSettings, trainingRun, type TrainOptions } from '../data/models.js';
import { permutation } from '../data/random.js';
import { assertFinite } from '../native/validate.js';

export interface DistillOptions {
  /** Softening temperature T of both distributions (≥ 1; 1 = the probabilities as they are). */
  temperature: number;
  /** Weight w of the soft term in (0, 1]; the hard labels get 1 − w. */
  weight: number;
}

/** Rejects distillation settings that are not numbers in range, naming the option. */
export function checkDistillOptions(d: unknown, where = 'distill'): asserts d is DistillOptions {
  if (typeof d !== 'object' || d === null) throw new TypeError(`${where} must be {temperature, weight}`);
  const o = d as Partial<DistillOptions>;
  assertFinite(o.temperature, `${where}.temperature`);
  if (!(o.temperature >= 1 && o.temperature <= 100))
    throw new RangeError(`${where}.temperature must be in [1, 100], got ${o.temperature}`);
  assertFinite(o.weight, `${where}.weight`);
  if (!(o.weight > 0 && o.weight <= 1)) throw new RangeError(`${where}.weight must be in (0, 1], got ${o.weight}`);
}

/**
 * Floor of a probability before its logarithm. Small enough to keep the "dark knowledge" of
 * the unlikely classes (a probability of 1e-20 still counts after softening), large enough
 * that a probability rounded to 0 in float32 gives a finite log.
 */
const LOG_FLOOR = 1e-30;
/** The hard term's floor: Keras / tfjs categoricalCrossentropy clip at epsilon 1e-7. */
const CE_FLOOR = 1e-7;

/** The log of the distribution softened at T, from probabilities: logSoftmax(log p / T). */
function softenedLog(probs: tf.Tensor, temperature: number): tf.Tensor {
  return tf.logSoftmax(tf.div(tf.log(tf.clipByValue(probs, LOG_FLOOR, 1)), temperature));
}

/**
 * The teacher's soft targets p_T for every row of x: the model's output probabilities softened
 * at `temperature`, computed in batches of 500. Call before the model changes.
 */
export function teacherTargets(model: tf.LayersModel, x: tf.Tensor, temperature: number): tf.Tensor {
  const n = x.shape[0];
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < n; s += 500)
    parts.push(
      tf.tidy(() => tf.exp(softenedLog(model.predict(x.slice(s, Math.min(500, n - s))) as tf.Tensor, temperature))),
    );
  const out = tf.concat(parts);
  tf.dispose(parts);
  return out;
}

/**
 * The distillation loss of a batch, averaged over its rows: (1 − w) · CE(labels, student) +
 * w · T² · KL(teacherSoft ‖ student softened at T). `labels` one-hot, `teacherSoft` from
 * teacherTargets, `student` the model's output probabilities.
 */
export function distillationLoss(
  labels: tf.Tensor,
  teacherSoft: tf.Tensor,
  student: tf.Tensor,
  d: DistillOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const hard = tf.neg(tf.sum(tf.mul(labels, tf.log(tf.clipByValue(student, CE_FLOOR, 1))), -1));
    // KL(p ‖ q) = Σ p (log p − log q); a zero p contributes 0 (its log is floored, times 0).
    const logP = tf.log(tf.clipByValue(teacherSoft, LOG_FLOOR, 1));
    const kl = tf.sum(tf.mul(teacherSoft, tf.sub(logP, softenedLog(student, d.temperature))), -1);
    const perRow = tf.add(tf.mul(1 - d.weight, hard), tf.mul(d.weight * d.temperature ** 2, kl));
    return tf.mean(perRow) as tf.Scalar;
  });
}

/**
 * Trains `model` on (x, y) with the distillation loss against `teacherSoft` (rows aligned with
 * x), plus the model's own regularization losses, as trainModel does with cross-entropy: the
 * same optimizer, seeded per-epoch shuffle, learning-rate decay and callbacks (onTrainBegin,
 * onEpochBegin/End, onBatchBegin/End, onTrainEnd; the pruning masks use them). Compiles the
 * model with the optimizer so that callbacks find it as model.optimizer. Returns the mean loss
 * of each epoch.
 */
export async function trainDistilled(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  teacherSoft: tf.Tensor,
  d: DistillOptions,
  options: TrainOptions,
): Promise<number[]> {
  checkDistillOptions(d);
  const settings = trainSettings(options);
  const { batchSize } = settings;
  const n = x.shape[0];
  if (y.shape[0] !== n) throw new RangeError(`x has ${n} examples but y has ${y.shape[0]}`);
  if (teacherSoft.shape.join() !== y.shape.join())
    throw new RangeError(`teacher targets have shape [${teacherSoft.shape}], the labels [${y.shape}]`);
  const { optimizer, rng, afterEpoch } = trainingRun(settings);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const callbacks = options.callbacks ?? [];
  for (const c of callbacks) await c.onTrainBegin?.();
  const batches = Math.ceil(n / batchSize);
  const losses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const c of callbacks) await c.onEpochBegin?.(epoch);
    const idx = tf.tensor1d(permutation(n, rng), 'int32');
    const [xs, ys, ts] = [tf.gather(x, idx), tf.gather(y, idx), tf.gather(teacherSoft, idx)];
    idx.dispose();
    let sum = 0;
    try {
      for (let b = 0; b < batches; b++) {
        for (const c of callbacks) await c.onBatchBegin?.(b);
        const start = b * batchSize,
          size = Math.min(batchSize, n - start);
        const cost = tf.tidy(() => {
          const [xb, yb, tb] = [xs.slice(start, size), ys.slice(start, size), ts.slice(start, size)];
          return optimizer.minimize(
            () => {
              const p = model.apply(xb, { training: true }) as tf.Tensor;
              let loss = distillationLoss(yb, tb, p, d);
              for (const r of model.calculateLosses()) loss = tf.add(loss, r);
              return loss;
            },
            true,
            vars,
          )!;
        });
        const value = (await cost.data())[0]!;
        cost.dispose();
        sum += value * size;
        for (const c of callbacks) await c.onBatchEnd?.(b, { loss: value });
      }
    } finally {
      tf.dispose([xs, ys, ts]);
    }
    const loss = sum / n;
    losses.push(loss);
    for (const c of callbacks) await c.onEpochEnd?.(epoch, { loss });
    options.onProgress?.({ epoch: epoch + 1, epochs: options.epochs, loss });
    afterEpoch();
  }
  for (const c of callbacks) await c.onTrainEnd?.();
  return losses;
}
