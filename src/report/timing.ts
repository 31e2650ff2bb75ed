// Timing loops for latency and throughput: warm-up runs, then a fixed number of runs or a
// time budget (whichever ends first when both are given), returning every sample in ms.
import { median, percentile } from './table.js';

export interface TimingOptions {
  /** Untimed runs first (default 1). */
  warmup?: number;
  /** Timed runs (default 10; with `seconds`, the maximum). */
  runs?: number;
  /** Time budget in seconds for the timed runs (at least `minRuns` still run). */
  seconds?: number;
  /** Minimum timed runs under a time budget (default 3). */
  minRuns?: number;
}

export interface TimingSummary {
  runs: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
}

/** Times fn (awaited), returning the samples in milliseconds. */
export async function timeRuns(fn: () => unknown, o: TimingOptions = {}): Promise<number[]> {
  for (let i = 0; i < (o.warmup ?? 1); i++) await fn();
  const runs = o.runs ?? (o.seconds !== undefined ? Number.POSITIVE_INFINITY : 10);
  const budget = o.seconds !== undefined ? o.seconds * 1000 : Number.POSITIVE_INFINITY;
  const minRuns = o.minRuns ?? 3;
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < runs && (samples.length < minRuns || performance.now() - start < budget)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export function summarize(samples: number[]): TimingSummary {
  return { runs: samples.length, p50: median(samples), p90: percentile(samples, 90), p99: percentile(samples, 99), min: Math.min(...samples) };
}

/** Median milliseconds of fn over o (convenience for tables). */
export async function medianMs(fn: () => unknown, o: TimingOptions = {}): Promise<number> {
  return median(await timeRuns(fn, o));
}
