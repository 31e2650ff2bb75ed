// Fake quantization for quantization-aware training: x → dequantize(quantize(x)) with the
// exact numerics of docs/quantization.md §2–§4 (float32 division, clamp, round half to even,
// one float32 multiply), and the straight-through estimator as gradient (TF's
// FakeQuantWithMinMaxVars: dy passes where x lies inside the representable range, 0 outside).
// Parameters are chosen by src/quant/scheme.ts for 8 bits, and by the same formulas with
// 2^bits levels for fewer bits, so the forward values are the int8 runtime's values.
import { tf } from '../backend/float.js';
import { chooseAsymmetricI8, chooseSymmetricI8, clamp, fl32, rne, type ChannelLayout } from '../kernels/scheme.js';

export interface FakeQuantSpec {
  /** 2–8 (default 8). */
  bits: number;
  /** Zero point 0 (weights) or any zero point (activations). */
  symmetric: boolean;
  /** Symmetric only: drop the lowest level (int8 [−127, 127]); always true for symmetric here. */
  narrowRange?: boolean;
}

export interface FakeQuantParams {
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
}

export function assertBits(bits: unknown, name: string): asserts bits is number {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new RangeError(`${name} must be an integer from 2 to 8, got ${String(bits)}`);
  }
}

/** Signed integer range of a spec: asymmetric [−2^(b−1), 2^(b−1) − 1], symmetric narrow [−(2^(b−1) − 1), 2^(b−1) − 1]. */
export function specRange(spec: FakeQuantSpec): [number, number] {
  const half = 2 ** (spec.bits - 1);
  return spec.symmetric && spec.narrowRange !== false ? [-(half - 1), half - 1] : [-half, half - 1];
}

/**
 * §4 parameters for the range [lo, hi] (widened to include 0). 8 bits: exactly
 * scheme.chooseAsymmetricI8 / chooseSymmetricI8; fewer bits: the same formulas with
 * 2^bits − 1 steps (asymmetric) or 2^(bits−1) − 1 (symmetric).
 */
export function fakeQuantParams(lo: number, hi: number, spec: FakeQuantSpec): FakeQuantParams {
  assertBits(spec.bits, 'bits');
  const [qmin, qmax] = specRange(spec);
  if (spec.bits === 8 && (!spec.symmetric || spec.narrowRange !== false)) {
    const p = spec.symmetric ? chooseSymmetricI8(lo, hi) : chooseAsymmetricI8(lo, hi);
    return { ...p, qmin, qmax };
  }
  let l = fl32(lo),
    h = fl32(hi);
  l = Number.isNaN(l) || l > 0 ? 0 : l;
  h = Number.isNaN(h) || h < 0 ? 0 : h;
  if (spec.symmetric) {
    const s = fl32(Math.max(Math.abs(l), Math.abs(h)) / qmax);
    return { scale: s > 0 && Number.isFinite(s) ? s : 1, zeroPoint: 0, qmin, qmax };
  }
  let s = fl32(fl32(h - l) / (qmax - qmin));
  if (!(s > 0) || !Number.isFinite(s)) s = 1;
  return { scale: s, zeroPoint: rne(clamp(fl32(-l / s), 0, qmax - qmin)) + qmin, qmin, qmax };
}

/** Integer values q of x under per-channel parameters (§2), in TypeScript (for export). */
export function quantizeValues(
  x: ArrayLike<number>,
  layout: ChannelLayout,
  params: readonly FakeQuantParams[],
): Int32Array {
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = params[Math.floor(i / layout.inner) % layout.channels]!;
    const v = fl32(fl32(x[i]!) / p.scale);
    out[i] = Number.isNaN(v) ? p.zeroPoint : rne(clamp(v, p.qmin - p.zeroPoint, p.qmax - p.zeroPoint)) + p.zeroPoint;
  }
  return out;
}

/**
 * Shape of the per-channel parameter tensor broadcasting against a tensor of `shape` whose
 * channels follow `layout` (outer × channels × inner).
 */
function paramShape(shape: readonly number[], layout: ChannelLayout): number[] {
  if (layout.channels === 1) return [];
  // Find the suffix of `shape` whose product is channels × inner, with inner a suffix of it.
  let inner = 1,
    k = shape.length;
  while (k > 0 && inner < layout.inner) inner *= shape[--k]!;
  let ch = 1,
    j = k;
  while (j > 0 && ch < layout.channels) ch *= shape[--j]!;
  if (inner !== layout.inner || ch !== layout.channels)
    throw new RangeError(`channel layout ${JSON.stringify(layout)} does not match shape [${shape}]`);
  return [...shape.slice(j, k), ...shape.slice(k).map(() => 1)];
}

/**
 * Fake quantization of `x` (float32) with fixed per-tensor (one entry) or per-channel
 * parameters. Forward: y = fl32((rne(clamp(fl32(x / s), qmin − zp, qmax − zp))) × s), which is
 * §3 dequantize of §2 quantize; gradient: dy where qmin − zp ≤ fl32(x / s) ≤ qmax − zp, else 0.
 */
export function fakeQuant(x: tf.Tensor, params: readonly FakeQuantParams[], layout?: ChannelLayout): tf.Tensor {
  if (params.length === 0) throw new RangeError('fakeQuant needs at least one parameter set');
  const l = layout ?? { outer: 1, channels: 1, inner: x.size };
  if (params.length !== l.channels)
    throw new RangeError(`fakeQuant: ${params.length} parameter sets for ${l.channels} channels`);
  for (const p of params) {
    if (!(p.scale > 0) || !Number.isFinite(p.scale))
      throw new RangeError(`fakeQuant: scale must be finite and > 0, got ${p.scale}`);
  }
  const ps = paramShape(x.shape, l);
  const f = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    const scale = tf.tensor(
      params.map((p) => p.scale),
      ps,
      'float32',
    );
    const lo = tf.tensor(
      params.map((p) => p.qmin - p.zeroPoint),
      ps,
      'float32',
    );
    const hi = tf.tensor(
      params.map((p) => p.qmax - p.zeroPoint),
      ps,
      'float32',
    );
    const v = tf.div(xi, scale);
    const inRange = tf.logicalAnd(tf.greaterEqual(v, lo), tf.lessEqual(v, hi));
    // tf.round rounds half to even (checked by the tests); + 0 turns −0 into +0 as §3 does.
    const value = tf.add(tf.mul(tf.round(tf.minimum(tf.maximum(v, lo), hi)), scale), 0);
    save([inRange]);
    tf.dispose([scale, lo, hi, v]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.where(saved[0]! as tf.Tensor, dy, tf.zerosLike(dy)),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x);
}

/** Per-tensor fake quantization of x with the parameters of the range [lo, hi]. */
export function fakeQuantRange(x: tf.Tensor, lo: number, hi: number, spec: FakeQuantSpec): tf.Tensor {
  return fakeQuant(x, [fakeQuantParams(lo, hi, spec)]);
}

/** Per-channel ranges of a weight value [outer, C, inner] (finite values, including 0). */
export function weightRanges(data: Float32Array, layout: ChannelLayout): { lo: number[]; hi: number[] } {
  const lo = new Array<number>(layout.channels).fill(0),
    hi = new Array<number>(layout.channels).fill(0);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / layout.inner) % layout.channels,
      v = data[i]!;
    if (v < lo[c]! && v !== -Infinity) lo[c] = v;
    if (v > hi[c]! && v !== Infinity) hi[c] = v;
  }
  return { lo, hi };
}

/** Weight fake-quant parameters from the current values (TF-MOT's LastValueQuantizer): one per channel of `layout`. */
export function weightParams(data: Float32Array, layout: ChannelLayout, spec: FakeQuantSpec): FakeQuantParams[] {
  const { lo, hi } = weightRanges(data, layout);
  return lo.map((l, c) => fakeQuantParams(l, hi[c]!, spec));
}

/**
 * Moving-average range of an activation (TF-MOT's MovingAverageQuantizer): the first batch
 * sets [min, max], later batches move it by (1 − decay); frozen after `freezeAfter` updates.
 */
export class RangeTracker {
  min = 0;
  max = 0;
  updates = 0;
  constructor(
    public decay = 0.99,
    public freezeAfter = Infinity,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new RangeError(`emaDecay must be in [0, 1), got ${decay}`);
    if (!(freezeAfter >= 0)) throw new RangeError(`freezeRangesAfter must be >= 0, got ${freezeAfter}`);
  }

  get frozen(): boolean {
    return this.updates >= this.freezeAfter;
  }

  get initialized(): boolean {
    return this.updates > 0;
  }

  /** Folds one batch's [lo, hi] in (no-op once frozen). */
  observe(lo: number, hi: number): void {
    if (this.frozen || !Number.isFinite(lo) || !Number.isFinite(hi)) return;
    if (this.updates === 0) {
      this.min = lo;
      this.max = hi;
    } else {
      this.min = this.decay * this.min + (1 - this.decay) * lo;
      this.max = this.decay * this.max + (1 - this.decay) * hi;
    }
    this.updates++;
  }

  /** Sets the range outright (calibration) and counts as one update. */
  set(lo: number, hi: number): void {
    this.min = lo;
    this.max = hi;
    this.updates = Math.max(this.updates, 1);
  }
}
