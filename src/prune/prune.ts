// Magnitude pruning for tfjs-layers models, after TF-MOT's prune_low_magnitude:
// prune(model, config) attaches a 0/1 mask to every prunable kernel (Dense, Conv2D,
// DepthwiseConv2D, SeparableConv2D, Conv1D/3D, Conv2DTranspose, recurrent and embedding
// kernels; never biases or normalisation weights) and returns a handle whose training
// callback updates the masks on schedule and multiplies every kernel by its mask before and
// after each batch, so pruned weights stay exactly zero through optimizer updates
// (momentum included). stripPruning(model) applies the masks a last time and detaches them.
//
// Unlike Keras, tfjs-layers cannot rewrap a built layer; the masks are kept beside the model
// (one registry per model object) rather than in wrapper layers, so the model keeps its
// topology and serialises as usual.
import { tf } from '../backend/float.js';
import { assertInt } from '../native/validate.js';
import { blockMask, magnitudeMask, nmMask, sparsityOf, type BlockPooling } from './masks.js';
import { assertSparsity, constantSparsity, type PruningSchedule } from './schedule.js';

export interface LayerPruneConfig {
  /** How sparsity grows (required unless `nm` is given). */
  schedule?: PruningSchedule;
  /** Prune whole blocks of the [rows, cols] kernel view instead of single weights. */
  blockSize?: [number, number];
  blockPooling?: BlockPooling;
  /** N:M structured sparsity (e.g. {n: 2, m: 4}); applied at every pruning step of the schedule (or at step 0 without one). */
  nm?: { n: number; m: number };
}

export interface PruneConfig extends LayerPruneConfig {
  /** Per-layer overrides by layer name; `false` leaves a layer dense. Unknown names are an error. */
  layers?: Record<string, LayerPruneConfig | false>;
}

export interface PrunedWeight {
  layerName: string;
  /** Weight name inside the layer, e.g. 'kernel'. */
  weightName: string;
  shape: number[];
  variable: tf.LayerVariable;
  mask: Uint8Array;
  config: LayerPruneConfig;
}

const PRUNABLE = /(^|\/)(kernel|depthwise_kernel|pointwise_kernel|recurrent_kernel|embeddings)(_\d+)?$/;

/** The prunable kernels of a model, in layer order. */
export function prunableWeights(
  model: tf.LayersModel,
): { layerName: string; weightName: string; variable: tf.LayerVariable }[] {
  const out: { layerName: string; weightName: string; variable: tf.LayerVariable }[] = [];
  for (const layer of model.layers) {
    for (const v of layer.weights) {
      if (!PRUNABLE.test(v.originalName)) continue;
      const weightName = v.originalName.split('/').pop() as string;
      out.push({ layerName: layer.name, weightName, variable: v });
    }
  }
  return out;
}

function checkLayerConfig(c: LayerPruneConfig, where: string): void {
  if (c.schedule !== undefined && (typeof c.schedule !== 'object' || typeof c.schedule.sparsityAt !== 'function')) {
    throw new TypeError(`${where}.schedule must be a schedule from constantSparsity() or polynomialDecay()`);
  }
  if (c.nm !== undefined) {
    if (typeof c.nm !== 'object' || c.nm === null) throw new TypeError(`${where}.nm must be {n, m}`);
    assertInt(c.nm.m, `${where}.nm.m`, 1, 1024);
    assertInt(c.nm.n, `${where}.nm.n`, 1, c.nm.m);
  }
  if (c.blockSize !== undefined) {
    if (!Array.isArray(c.blockSize) || c.blockSize.length !== 2)
      throw new TypeError(`${where}.blockSize must be [height, width]`);
    assertInt(c.blockSize[0], `${where}.blockSize[0]`, 1);
    assertInt(c.blockSize[1], `${where}.blockSize[1]`, 1);
  }
  if (c.blockPooling !== undefined && c.blockPooling !== 'avg' && c.blockPooling !== 'max') {
    throw new RangeError(`${where}.blockPooling must be 'avg' or 'max', got ${String(c.blockPooling)}`);
  }
  if (c.nm && c.blockSize) throw new RangeError(`${where}: nm and blockSize cannot be combined`);
  if (!c.schedule && !c.nm) throw new RangeError(`${where} needs a schedule (or nm)`);
}

function readValues(v: tf.LayerVariable): Float32Array {
  return v.read().dataSync() as Float32Array;
}

function computeMask(w: PrunedWeight, values: Float32Array, sparsity: number): Uint8Array {
  const c = w.config;
  if (c.nm) return nmMask(values, w.shape, c.nm.n, c.nm.m);
  if (c.blockSize) return blockMask(values, w.shape, sparsity, c.blockSize, c.blockPooling ?? 'avg');
  return magnitudeMask(values, sparsity);
}

function applyMask(w: PrunedWeight): void {
  tf.tidy(() => {
    const m = tf.tensor(w.mask, w.shape, 'float32');
    // mul by 0 gives -0 for negative weights: where() keeps +0 so pruned weights are exact zeros.
    const cur = w.variable.read();
    w.variable.write(tf.where(m.cast('bool'), cur, tf.zerosLike(cur)));
  });
}

export class PruningHandle {
  /** Optimizer steps (batches) seen by the callback, across fit() calls. */
  step = 0;
  constructor(
    readonly model: tf.LayersModel,
    readonly weights: PrunedWeight[],
  ) {}

  /** Recomputes the masks whose schedule prunes at `step` (TF-MOT: before the step's update). */
  updateMasks(step = this.step): boolean {
    let changed = false;
    for (const w of this.weights) {
      const s = w.config.schedule;
      const due = s ? s.shouldPrune(step) : step === 0;
      if (!due) continue;
      w.mask = computeMask(w, readValues(w.variable), s ? s.sparsityAt(step) : 0);
      changed = true;
    }
    if (changed) this.applyMasks();
    return changed;
  }

  /** Sets every pruned weight to exactly zero. */
  applyMasks(): void {
    for (const w of this.weights) applyMask(w);
  }

  /** A tfjs callback for model.fit: mask update before each batch, mask re-applied after it. */
  callback(): tf.CustomCallbackArgs {
    return {
      onTrainBegin: async () => {
        this.applyMasks();
      },
      onBatchBegin: async () => {
        this.updateMasks(this.step);
      },
      onBatchEnd: async () => {
        this.applyMasks();
        this.step++;
      },
    };
  }

  /** Per-kernel sparsity of the current masks and of the current weights. */
  summary(): { layer: string; weight: string; size: number; maskSparsity: number; weightSparsity: number }[] {
    return this.weights.map((w) => ({
      layer: w.layerName,
      weight: w.weightName,
      size: w.mask.length,
      maskSparsity: sparsityOf(w.mask),
      weightSparsity: sparsityOf(readValues(w.variable)),
    }));
  }
}

const registry = new WeakMap<tf.LayersModel, PruningHandle>();

/**
 * Attaches pruning masks to the prunable kernels of `model` (initially all ones) and returns
 * the handle; pass handle.callback() to model.fit. Calling prune() again on the same model
 * replaces the configuration and keeps the masks' current zeros only through the weights.
 */
export function prune(model: tf.LayersModel, config: PruneConfig): PruningHandle {
  if (!model || typeof (model as tf.LayersModel).getLayer !== 'function')
    throw new TypeError('model must be a tfjs-layers LayersModel');
  if (typeof config !== 'object' || config === null) throw new TypeError('config must be an object');
  const candidates = prunableWeights(model);
  const names = new Set(model.layers.map((l) => l.name));
  for (const name of Object.keys(config.layers ?? {})) {
    if (!names.has(name)) throw new RangeError(`config.layers names '${name}', which is not a layer of the model`);
    if (!candidates.some((c) => c.layerName === name) && config.layers![name] !== false) {
      throw new RangeError(`config.layers['${name}']: layer '${name}' has no prunable kernel`);
    }
  }
  const weights: PrunedWeight[] = [];
  for (const c of candidates) {
    const override = config.layers?.[c.layerName];
    if (override === false) continue;
    const merged: LayerPruneConfig = {
      schedule: override?.schedule ?? config.schedule,
      blockSize: override?.blockSize ?? (override?.nm ? undefined : config.blockSize),
      blockPooling: override?.blockPooling ?? config.blockPooling,
      nm: override?.nm ?? (override?.blockSize ? undefined : config.nm),
    };
    checkLayerConfig(merged, override ? `config.layers['${c.layerName}']` : 'config');
    const shape = c.variable.read().shape.slice();
    weights.push({ ...c, shape, mask: new Uint8Array(c.variable.read().size).fill(1), config: merged });
  }
  if (weights.length === 0) throw new RangeError('the model has no prunable kernel (Dense, Conv, Embedding, ...)');
  const handle = new PruningHandle(model, weights);
  registry.set(model, handle);
  return handle;
}

/** The pruning handle attached to `model`, if any. */
export function getPruning(model: tf.LayersModel): PruningHandle | undefined {
  return registry.get(model);
}

/** Applies the masks a last time and detaches them; returns the same model (now plain). */
export function stripPruning(model: tf.LayersModel): tf.LayersModel {
  const h = registry.get(model);
  if (!h) throw new RangeError('model has no pruning attached (call prune() first)');
  h.applyMasks();
  registry.delete(model);
  return model;
}

export interface MagnitudePruneOptions {
  /** One sparsity for every prunable kernel, or per layer name (absent layers stay dense). */
  sparsity: number | Record<string, number>;
  blockSize?: [number, number];
  blockPooling?: BlockPooling;
  nm?: { n: number; m: number };
}

/**
 * One-shot magnitude pruning without data (post-training): zeroes the smallest weights of
 * each prunable kernel now. Returns the achieved sparsity per kernel.
 */
export function magnitudePrune(
  model: tf.LayersModel,
  options: MagnitudePruneOptions,
): { layer: string; weight: string; sparsity: number }[] {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const sp = options.sparsity;
  const layers: Record<string, LayerPruneConfig | false> = {};
  let base: number | undefined;
  if (typeof sp === 'number') {
    assertSparsity(sp, 'sparsity');
    base = sp;
  } else if (typeof sp === 'object' && sp !== null) {
    for (const [name, s] of Object.entries(sp)) {
      assertSparsity(s, `sparsity['${name}']`);
      layers[name] = { schedule: constantSparsity(s, 0, 0, 1) };
    }
    for (const c of prunableWeights(model)) if (!(c.layerName in sp)) layers[c.layerName] = false;
  } else {
    throw new TypeError('options.sparsity must be a number or a record of layer name → sparsity');
  }
  const prev = registry.get(model);
  const h = prune(model, {
    schedule: base !== undefined ? constantSparsity(base, 0, 0, 1) : undefined,
    blockSize: options.blockSize,
    blockPooling: options.blockPooling,
    nm: options.nm,
    layers,
  });
  h.updateMasks(0);
  registry.delete(model);
  if (prev) registry.set(model, prev);
  return h.weights.map((w) => ({
    layer: w.layerName,
    weight: w.weightName,
    sparsity: sparsityOf(readValues(w.variable)),
  }));
}
