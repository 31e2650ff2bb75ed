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
  return {
    runs: samples.length,
    p50: median(samples),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    min: Math.min(...samples),
  };
}

/** Median milliseconds of fn over o (convenience for tables). */
export async function medianMs(fn: () => unknown, o: TimingOptions = {}): Promise<number> {
  return median(await timeRuns(fn, o));
}

/** Process CPU seconds (user + system) of this process. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface InterleavedTiming {
  /** Seconds per call: median of the rounds. */
  median: number;
  /** Seconds per call in the fastest round (least disturbed by other processes). */
  best: number;
}

/**
 * Seconds per call of each (synchronous) function, timed in `reps` interleaved rounds
 * (f0, f1, …, f0, …) so their ratios are measured side by side; each function is called
 * enough times per round to take about minTime / reps. `cpu`: process CPU time (time slices
 * lost to other processes on a shared machine do not count; for one-thread calls), else wall.
 */
export function interleaved(
  fns: (() => unknown)[],
  o: { cpu: boolean; reps: number; minTime: number },
): InterleavedTiming[] {
  const now = o.cpu ? cpuSeconds : () => performance.now() / 1000;
  const calls = fns.map((f) => {
    f();
    const t0 = performance.now();
    f();
    return Math.max(1, Math.round(o.minTime / o.reps / Math.max(1e-6, (performance.now() - t0) / 1000)));
  });
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < o.reps; r++) {
    fns.forEach((f, i) => {
      const t0 = now();
      for (let c = 0; c < calls[i]!; c++) f();
      times[i]!.push((now() - t0) / calls[i]!);
    });
  }
  return times.map((t) => ({ median: median(t), best: Math.min(...t) }));
}

/** A seeded uniform [0, 1) generator (LCG), for reproducible benchmark data. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
