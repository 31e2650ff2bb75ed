// Steady-state latency of one engine inside its own process: one warm-up run, then up to
// `runs` timed runs within a time budget (at least 3), reporting the median wall time and the
// process CPU time per run (CPU time is less disturbed by other jobs on a shared machine).
import { median } from '../../src/report/table.js';
import { cpuSeconds, timeRuns } from '../../src/report/timing.js';

export interface SteadyTiming {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  cpuMsPerRun: number;
}

export async function steadyTiming(
  fn: () => Promise<unknown>,
  o: { runs: number; seconds: number },
): Promise<SteadyTiming> {
  await fn();
  const c0 = cpuSeconds();
  const samples = await timeRuns(fn, { warmup: 0, runs: o.runs, seconds: o.seconds, minRuns: 3 });
  const cpu = cpuSeconds() - c0;
  return {
    runs: samples.length,
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    cpuMsPerRun: (cpu * 1000) / samples.length,
  };
}
