// The options of quantize() (src/quant/quantize.ts) and their checks: every option is
// validated here, before any work, with an error naming the option and the value given.
import { assertOneOf, describe } from '../native/validate.js';
import type { CalibrationData } from './calibrate.js';
import type { AccuracyGuardOptions } from './guard.js';
import { INT4_GROUP_SIZES } from './int4.js';
import { resolveObserverOptions, type ObserverKind, type ObserverOptions } from './observers.js';
import type { IoType, QuantMode } from './params.js';

export const QUANT_MODES: readonly QuantMode[] = ['dynamic', 'int8', 'float16'];

export interface QuantizeOptions {
  mode: QuantMode;
  /** Weights per output channel (default true) or per tensor. */
  perChannel?: boolean;
  /** int8: representative data (required), an (async) iterable of samples or batches. */
  calibration?: CalibrationData;
  /** int8: the activation range observer (default min-max); validated but unused in other modes. */
  observer?: ObserverKind | ObserverOptions;
  /** Shortcuts merged into the observer options. */
  percentile?: number;
  bins?: number;
  /** Calibrate on at most this many samples. */
  maxSamples?: number;
  /** int8: the model's input / output type (default float32). */
  inputType?: IoType;
  outputType?: IoType;
  /** Nodes to keep in float32. */
  floatNodes?: string[];
  /** Op types to quantize (e.g. ['Conv2D', 'MatMul']); nodes of other ops stay float32 (default: every op that can be). */
  opTypes?: string[];
  /** dynamic: activation quantization per row (default: per sample of a MatMul, per im2col row of a Conv2D) or per tensor. */
  dynamicGranularity?: 'tensor' | 'row';
  /**
   * Conv2D / MatMul layers with fewer products per output (K) than this do not run dynamic —
   * in mode dynamic, or when the accuracy guard steps back in int8 — but float, on their int8
   * weights in mode dynamic (default DYNAMIC_MIN_K, src/quant/params.ts: below it the dynamic
   * kernel is slower than float; 0 runs every one dynamic).
   */
  dynamicMinK?: number;
  /** The same for layers with fewer output channels (N) than this (default DYNAMIC_MIN_N; 0: no limit). */
  dynamicMinN?: number;
  /** dynamic: 8 (default) or 4-bit weights (§12.5). */
  weightBits?: 4 | 8;
  /**
   * 4-bit weights: 4 bits only where they hold (default false: every Conv2D/MatMul 4-bit). Thin
   * and small layers get 8-bit weights, depthwise layers 8-bit stored weights (float execution),
   * and the accuracy guard widens 4-bit layers to 8 bits before moving any to float.
   */
  weightBitsPerLayer?: boolean;
  /** 4-bit weights: values per group along K (0 = per channel; default 64). */
  groupSize?: number;
  /** 4-bit weights: group scales as 8-bit codes × a float32 super-scale per channel (8, default) or float16 (16); §12.5. */
  scaleBits?: 8 | 16;
  /** Correct biases for the mean output shift of weight quantization (default false). */
  biasCorrection?: boolean;
  /**
   * int8, per-channel weights: channel range equalization before quantizing (src/quant/equalize.ts;
   * default false; not with biasCorrection). Off by default until it is validated on data apart
   * from the zoo's evaluation inputs: on the 44 published models it let the guard keep fewer
   * layers float on mobileface, but more on selfie, and posenet's held-out cosine fell to 0.9893
   * (below 0.99, reported done) — docs/quantization.md §12.1.
   */
  equalize?: boolean;
  /** Per-layer error report (default: true when evaluation data exists). */
  report?: boolean;
  /** Data for the report and the guard (default: the first `evalSamples` samples of the calibration data). */
  validation?: CalibrationData;
  /** Samples kept for the report and the guard (default 256). */
  evalSamples?: number;
  accuracyGuard?: AccuracyGuardOptions;
  /** Run optimize() first (default true). */
  optimize?: boolean;
  onProgress?: (p: {
    stage: 'calibrate' | 'bias-correction' | 'report' | 'guard';
    samples?: number;
    batches?: number;
    total?: number;
    floatNodes?: number;
  }) => void;
}

/** Throws a TypeError / RangeError naming the first option that is wrong. */
export function validateQuantizeOptions(o: QuantizeOptions): void {
  if (typeof o !== 'object' || o === null)
    throw new TypeError(`options must be an object with a mode, got ${describe(o)}`);
  assertOneOf(o.mode, QUANT_MODES, 'mode');
  const bool = (v: unknown, n: string) => {
    if (v !== undefined && typeof v !== 'boolean') throw new TypeError(`${n} must be a boolean, got ${describe(v)}`);
  };
  bool(o.perChannel, 'perChannel');
  bool(o.biasCorrection, 'biasCorrection');
  bool(o.report, 'report');
  bool(o.optimize, 'optimize');
  bool(o.weightBitsPerLayer, 'weightBitsPerLayer');
  bool(o.equalize, 'equalize');
  if (o.equalize === true && o.biasCorrection === true)
    throw new RangeError('equalize and biasCorrection cannot be combined (both need the weights at calibration time)');
  if (o.inputType !== undefined) assertOneOf(o.inputType, ['float32', 'int8', 'uint8'] as const, 'inputType');
  if (o.outputType !== undefined) assertOneOf(o.outputType, ['float32', 'int8', 'uint8'] as const, 'outputType');
  if (((o.inputType ?? 'float32') !== 'float32' || (o.outputType ?? 'float32') !== 'float32') && o.mode !== 'int8')
    throw new RangeError(`inputType/outputType int8 or uint8 needs mode 'int8' (got mode '${o.mode}')`);
  if (o.dynamicGranularity !== undefined)
    assertOneOf(o.dynamicGranularity, ['tensor', 'row'] as const, 'dynamicGranularity');
  for (const key of ['dynamicMinK', 'dynamicMinN'] as const) {
    const v = o[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw new RangeError(`${key} must be an integer >= 0, got ${describe(v)}`);
  }
  if (o.opTypes !== undefined && (!Array.isArray(o.opTypes) || o.opTypes.some((n) => typeof n !== 'string')))
    throw new TypeError('opTypes must be an array of op names');
  if (o.floatNodes !== undefined && (!Array.isArray(o.floatNodes) || o.floatNodes.some((n) => typeof n !== 'string')))
    throw new TypeError('floatNodes must be an array of node names');
  if (o.weightBits !== undefined && o.weightBits !== 4 && o.weightBits !== 8)
    throw new RangeError(`weightBits must be 4 or 8, got ${describe(o.weightBits)}`);
  if (o.weightBits === 4 && o.mode !== 'dynamic')
    throw new RangeError(`weightBits 4 needs mode 'dynamic' (got '${o.mode}')`);
  if (o.groupSize !== undefined && !INT4_GROUP_SIZES.includes(o.groupSize))
    throw new RangeError(`groupSize must be one of ${INT4_GROUP_SIZES.join(', ')}, got ${describe(o.groupSize)}`);
  if (o.scaleBits !== undefined && o.scaleBits !== 8 && o.scaleBits !== 16)
    throw new RangeError(`scaleBits must be 8 or 16, got ${describe(o.scaleBits)}`);
  for (const k of ['maxSamples', 'evalSamples'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new RangeError(`${k} must be an integer >= 1, got ${describe(v)}`);
  }
  if (o.observer !== undefined || o.percentile !== undefined || o.bins !== undefined) observerOptions(o);
  if (o.mode === 'int8' && o.calibration === undefined)
    throw new TypeError("mode 'int8' needs calibration data (options.calibration: an iterable of input samples)");
  const g = o.accuracyGuard;
  if (g !== undefined) {
    if (typeof g !== 'object' || g === null)
      throw new TypeError('accuracyGuard must be an object { tolerance, metric?, maxFloatNodes? }');
    if (typeof g.tolerance !== 'number' || !Number.isFinite(g.tolerance) || g.tolerance < 0)
      throw new RangeError(`accuracyGuard.tolerance must be a finite number >= 0, got ${describe(g.tolerance)}`);
    if (g.metric !== undefined && typeof g.metric !== 'function')
      throw new TypeError('accuracyGuard.metric must be a function');
    if (
      g.engine !== undefined &&
      (typeof g.engine !== 'object' || g.engine === null || typeof g.engine.prepare !== 'function')
    )
      throw new TypeError('accuracyGuard.engine must be an object { name, prepare(graph, points, sample) }');
    if (g.maxFloatNodes !== undefined && (!Number.isInteger(g.maxFloatNodes) || g.maxFloatNodes < 0))
      throw new RangeError('accuracyGuard.maxFloatNodes must be an integer >= 0');
    if (o.mode === 'float16') throw new RangeError("accuracyGuard applies to modes 'int8' and 'dynamic'");
  }
}

/** The observer options the int8 calibration uses (observer merged with the percentile / bins shortcuts), resolved. */
export function observerOptions(o: QuantizeOptions): ObserverOptions {
  const base: ObserverOptions =
    typeof o.observer === 'string'
      ? { kind: o.observer }
      : (o.observer ?? { kind: o.percentile !== undefined ? 'percentile' : 'minmax' });
  const merged = {
    ...base,
    ...(o.percentile !== undefined ? { percentile: o.percentile } : {}),
    ...(o.bins !== undefined ? { bins: o.bins } : {}),
  };
  resolveObserverOptions(merged);
  return merged;
}
