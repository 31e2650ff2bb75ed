// Calibration observers: each sees a tensor's values batch after batch and proposes a range
// [lo, hi] (lo ≤ 0 ≤ hi) for its §4 asymmetric int8 parameters. Memory is bounded: min-max
// keeps two numbers, the histogram observers one fixed-size histogram (rebinned when the range
// grows). Heavy loops (accumulation, KL / MSE search) run natively (native/calib).
import type { CalibSearchResult } from '../../binding.js';
import { native } from '../native/binding.js';
import { assertFinite, assertInt, assertOneOf, assertTypedArray, describe } from '../native/validate.js';
import { channelMinMax } from '../kernels/quantize.js';

export type ObserverKind = 'minmax' | 'moving-average' | 'percentile' | 'entropy' | 'mse';
export const OBSERVER_KINDS: readonly ObserverKind[] = ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'];

export interface ObserverOptions {
  kind: ObserverKind;
  /** percentile: the kept fraction in percent, in (0, 100] (default 99.99). */
  percentile?: number;
  /** Histogram observers: number of bins (default 2048, 16 … 2^20). */
  bins?: number;
  /** moving-average: weight of a new batch's min/max, in (0, 1] (default 0.01, as PyTorch). */
  averagingConstant?: number;
  /** entropy / mse: quantization steps of the target type (default 255 for 8 bits). */
  levels?: number;
}

export type ResolvedObserverOptions = Required<ObserverOptions>;

/** Validates observer options (a kind name or an object), filling defaults. */
export function resolveObserverOptions(o: ObserverKind | ObserverOptions | undefined): ResolvedObserverOptions {
  const opts: ObserverOptions = o === undefined ? { kind: 'minmax' } : typeof o === 'string' ? { kind: o } : o;
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError(`observer must be a kind name or an options object, got ${describe(o)}`);
  assertOneOf(opts.kind, OBSERVER_KINDS, 'observer.kind');
  const percentile = opts.percentile ?? 99.99;
  assertFinite(percentile, 'observer.percentile');
  if (!(percentile > 0 && percentile <= 100))
    throw new RangeError(`observer.percentile must be in (0, 100], got ${percentile}`);
  const bins = opts.bins ?? 2048;
  assertInt(bins, 'observer.bins', 16, 2 ** 20);
  const averagingConstant = opts.averagingConstant ?? 0.01;
  assertFinite(averagingConstant, 'observer.averagingConstant');
  if (!(averagingConstant > 0 && averagingConstant <= 1))
    throw new RangeError(`observer.averagingConstant must be in (0, 1], got ${averagingConstant}`);
  const levels = opts.levels ?? 255;
  assertInt(levels, 'observer.levels', 1, 65535);
  return { kind: opts.kind, percentile, bins, averagingConstant, levels };
}

export interface Observer {
  readonly kind: ObserverKind;
  /** Adds one batch of values (NaN and ±Inf are ignored, §4). */
  observe(x: Float32Array): void;
  /** The proposed range (lo ≤ 0 ≤ hi), or undefined before any finite value. */
  range(): [number, number] | undefined;
}

/** The range of the finite values widened to include 0 (native, one pass). */
function batchRange(x: Float32Array): [number, number] {
  const r = channelMinMax(x);
  return [r.lo[0]!, r.hi[0]!];
}

class MinMaxObserver implements Observer {
  readonly kind = 'minmax' as const;
  private lo = 0;
  private hi = 0;
  private seen = false;
  observe(x: Float32Array): void {
    assertTypedArray(x, Float32Array, 'x');
    if (x.length === 0) return;
    const [lo, hi] = batchRange(x);
    this.lo = Math.min(this.lo, lo);
    this.hi = Math.max(this.hi, hi);
    this.seen = true;
  }
  range(): [number, number] | undefined {
    return this.seen ? [this.lo, this.hi] : undefined;
  }
}

/** PyTorch's MovingAverageMinMaxObserver: lo ← lo + c·(batch lo − lo), likewise hi; the first batch sets them. */
class MovingAverageObserver implements Observer {
  readonly kind = 'moving-average' as const;
  private lo = 0;
  private hi = 0;
  private seen = false;
  constructor(private readonly c: number) {}
  observe(x: Float32Array): void {
    assertTypedArray(x, Float32Array, 'x');
    if (x.length === 0) return;
    const [lo, hi] = batchRange(x);
    if (!this.seen) {
      this.lo = lo;
      this.hi = hi;
      this.seen = true;
    } else {
      this.lo += this.c * (lo - this.lo);
      this.hi += this.c * (hi - this.hi);
    }
  }
  range(): [number, number] | undefined {
    return this.seen ? [this.lo, this.hi] : undefined;
  }
}

/** A streamed histogram over [lo, hi] ∋ 0 with a fixed number of bins; the range grows by rebinning. */
export class StreamingHistogram {
  counts: Float64Array;
  lo = 0;
  hi = 0;
  /** Values seen while the range was still [0, 0] (all zeros so far). */
  private zeros = 0;
  constructor(readonly bins: number) {
    assertInt(bins, 'bins', 1, 2 ** 24);
    this.counts = new Float64Array(bins);
  }
  get total(): number {
    let t = this.zeros;
    for (const c of this.counts) t += c;
    return t;
  }
  add(x: Float32Array): void {
    assertTypedArray(x, Float32Array, 'x');
    if (x.length === 0) return;
    const [lo, hi] = batchRange(x);
    if (lo === 0 && hi === 0 && this.lo === 0 && this.hi === 0) {
      for (const v of x) if (Number.isFinite(v)) this.zeros++;
      return;
    }
    if (lo < this.lo || hi > this.hi) this.grow(Math.min(lo, this.lo), Math.max(hi, this.hi));
    native().calibAccumulate(x, this.counts, { lo: this.lo, hi: this.hi });
  }
  private grow(lo: number, hi: number): void {
    if (this.lo === 0 && this.hi === 0) {
      this.lo = lo;
      this.hi = hi;
      this.counts[this.binOf(0)]! += this.zeros;
      this.zeros = 0;
      return;
    }
    const out = new Float64Array(this.bins);
    native().calibRebin(this.counts, out, { lo: this.lo, hi: this.hi, newLo: lo, newHi: hi });
    this.counts = out;
    this.lo = lo;
    this.hi = hi;
  }
  /** The bin holding 0. */
  zeroBin(): number {
    return this.binOf(0);
  }
  private binOf(v: number): number {
    const w = (this.hi - this.lo) / this.bins;
    return Math.min(this.bins - 1, Math.max(0, Math.floor((v - this.lo) / w)));
  }
  /** The value below which `fraction` of the counts lie (linear inside a bin). */
  quantile(fraction: number): number {
    const total = this.total;
    if (total === 0 || (this.lo === 0 && this.hi === 0)) return 0;
    const target = fraction * total;
    const w = (this.hi - this.lo) / this.bins;
    let cum = 0;
    for (let i = 0; i < this.bins; i++) {
      const c = this.counts[i]!;
      if (c > 0 && cum + c >= target) return this.lo + w * (i + Math.min(1, Math.max(0, (target - cum) / c)));
      cum += c;
    }
    return this.hi;
  }
  /** Bins [start, end) → values. */
  edges(start: number, end: number): [number, number] {
    const w = (this.hi - this.lo) / this.bins;
    return [this.lo + w * start, end === this.bins ? this.hi : this.lo + w * end];
  }
}

class HistogramObserver implements Observer {
  readonly hist: StreamingHistogram;
  constructor(
    readonly kind: 'percentile' | 'entropy' | 'mse',
    private readonly o: ResolvedObserverOptions,
  ) {
    this.hist = new StreamingHistogram(o.bins);
  }
  observe(x: Float32Array): void {
    this.hist.add(x);
  }
  range(): [number, number] | undefined {
    const h = this.hist;
    if (h.total === 0) return undefined;
    if (h.lo === 0 && h.hi === 0) return [0, 0];
    if (this.kind === 'percentile') {
      const p = this.o.percentile / 100;
      return [h.lo < 0 ? Math.min(0, h.quantile(1 - p)) : 0, h.hi > 0 ? Math.max(0, h.quantile(p)) : 0];
    }
    const r = searchRange(
      this.kind,
      this.kind === 'entropy' ? withoutZeroSpike(h) : h.counts,
      h.lo,
      h.hi,
      this.o.levels,
    );
    if (!r) return [h.lo, h.hi];
    const [a, b] = h.edges(r.start, r.end);
    return [Math.min(0, a), Math.max(0, b)];
  }
}

/**
 * The histogram with the bin holding 0 replaced by its neighbours' mean: the exact zeros of
 * ReLU outputs form a spike that KL alone represents best with a very narrow range (few
 * values per quantization group), clipping everything else. NVIDIA's pytorch-quantization
 * entropy calibrator does the same (`bins[0] = bins[1]`) on its |x| histograms.
 */
export function withoutZeroSpike(h: StreamingHistogram): Float64Array {
  const c = h.counts.slice();
  const z = h.zeroBin();
  const nb = [c[z - 1], c[z + 1]].filter((v): v is number => v !== undefined);
  c[z] = nb.length ? nb.reduce((a, b) => a + b, 0) / nb.length : c[z]!;
  return c;
}

/** The native KL / MSE range search on a histogram (validated). */
export function searchRange(
  kind: 'entropy' | 'mse',
  counts: Float64Array,
  lo: number,
  hi: number,
  levels: number,
): CalibSearchResult | null {
  assertOneOf(kind, ['entropy', 'mse'] as const, 'kind');
  assertTypedArray(counts, Float64Array, 'counts');
  if (counts.length === 0) throw new RangeError('counts must not be empty');
  assertFinite(lo, 'lo');
  assertFinite(hi, 'hi');
  if (lo > 0 || hi < 0) throw new RangeError(`the histogram range must contain 0, got [${lo}, ${hi}]`);
  assertInt(levels, 'levels', 1, 2 ** 24);
  counts.forEach((c, i) => {
    if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`counts[${i}] must be finite and >= 0, got ${c}`);
  });
  return kind === 'entropy'
    ? native().calibKlSearch(counts, { lo, hi, levels })
    : native().calibMseSearch(counts, { lo, hi, levels });
}

/** Candidate interval i (1..bins) of the range searches (bins [start, end)). */
export function searchCandidate(bins: number, lo: number, hi: number, i: number): [number, number] {
  assertInt(bins, 'bins', 1, 2 ** 24);
  assertFinite(lo, 'lo');
  assertFinite(hi, 'hi');
  if (lo > 0 || hi < 0) throw new RangeError(`the histogram range must contain 0, got [${lo}, ${hi}]`);
  assertInt(i, 'i', 1, bins);
  return native().calibCandidate({ bins, lo, hi, i });
}

export function createObserver(o: ObserverKind | ObserverOptions | undefined): Observer {
  const r = resolveObserverOptions(o);
  switch (r.kind) {
    case 'minmax':
      return new MinMaxObserver();
    case 'moving-average':
      return new MovingAverageObserver(r.averagingConstant);
    default:
      return new HistogramObserver(r.kind, r);
  }
}
