// Quantization settings of QAT (TF-MOT's quantize config): the user's options, their checks,
// and the per-layer spec they resolve to.
import { assertBits, type FakeQuantSpec } from './fake-quant.js';

export interface LayerQuantizeConfig {
  /** Weight bits, 2–8 (default 8). */
  weightBits?: number;
  /** Symmetric weights (zero point 0, narrow range; default true). */
  weightSymmetric?: boolean;
  /** One scale per output channel (default true) or per tensor. */
  weightPerChannel?: boolean;
  /** Activation bits, 2–8 (default 8). */
  activationBits?: number;
  /** Symmetric activations (default false: asymmetric, as the int8 runtime). */
  activationSymmetric?: boolean;
}

export interface QuantizeOptions extends LayerQuantizeConfig {
  /** Per-layer overrides by layer name; `false` keeps a layer float. Unknown names are an error. */
  layers?: Record<string, LayerQuantizeConfig | false>;
  /** Moving-average decay of the activation ranges (default 0.99). */
  emaDecay?: number;
  /** Freeze the activation ranges after this many training steps (default: never). */
  freezeRangesAfter?: number;
  /** Fold BatchNormalization into the preceding conv/dense (default true). */
  foldBatchNorm?: boolean;
  /** PQAT: keep the zeros of every quantized kernel at zero through training. */
  preserveSparsity?: boolean;
  /** CQAT: keep every quantized kernel's values on its clusters (updates are averaged per cluster). */
  preserveClusters?: boolean;
}

export interface ResolvedConfig {
  weight: FakeQuantSpec;
  perChannel: boolean;
  activation: FakeQuantSpec;
}

export function checkLayerConfig(c: LayerQuantizeConfig, where: string): void {
  if (c === null || typeof c !== 'object') throw new TypeError(`${where} must be an object`);
  const known = ['weightBits', 'weightSymmetric', 'weightPerChannel', 'activationBits', 'activationSymmetric'];
  for (const k of Object.keys(c))
    if (!known.includes(k)) throw new RangeError(`${where}.${k} is not a quantization setting (${known.join(', ')})`);
  if (c.weightBits !== undefined) assertBits(c.weightBits, `${where}.weightBits`);
  if (c.activationBits !== undefined) assertBits(c.activationBits, `${where}.activationBits`);
  for (const k of ['weightSymmetric', 'weightPerChannel', 'activationSymmetric'] as const) {
    if (c[k] !== undefined && typeof c[k] !== 'boolean') throw new TypeError(`${where}.${k} must be a boolean`);
  }
}

export function resolveConfig(base: LayerQuantizeConfig, over: LayerQuantizeConfig | undefined): ResolvedConfig {
  const c = { ...base, ...(over ?? {}) };
  return {
    weight: { bits: c.weightBits ?? 8, symmetric: c.weightSymmetric ?? true },
    perChannel: c.weightPerChannel ?? true,
    activation: { bits: c.activationBits ?? 8, symmetric: c.activationSymmetric ?? false },
  };
}

/** The quantization settings of the options (the per-layer fields, without the training ones). */
export function pickConfig(o: QuantizeOptions): LayerQuantizeConfig {
  const { weightBits, weightSymmetric, weightPerChannel, activationBits, activationSymmetric } = o;
  const c: LayerQuantizeConfig = { weightBits, weightSymmetric, weightPerChannel, activationBits, activationSymmetric };
  for (const k of Object.keys(c) as (keyof LayerQuantizeConfig)[]) if (c[k] === undefined) delete c[k];
  return c;
}
