// The measuring method shared by the peer benchmarks (peers.ts on the MobileNetV2-style graph,
// peers-published.ts on a published model): each engine alone in its own process, in steady
// state (back-to-back calls after a warm-up), the processes alternated round by round with the
// engine order rotated, and every per-process median kept so the spread can be reported.
// Timing engines interleaved in one process slowed ONNX Runtime by up to 2× and ours by 1.5×.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Table } from '../../src/report/table.js';

export interface OrtTensor {
  dims: readonly number[];
  data: Float32Array;
}
export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
export interface Ort {
  env: { versions: Record<string, string> };
  InferenceSession: { create(model: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Uint8Array, dims: number[]) => unknown;
}

/**
 * onnxruntime-node is not a dependency of the package (60 MB, and its install script fetches
 * extra files from nuget.org): it is looked up next to the checkout (ORT_DIR, the working
 * directory, this file). undefined when absent.
 */
export function loadOrt(): Ort | undefined {
  const dirs = [process.env.ORT_DIR, process.cwd()].filter((d): d is string => !!d);
  for (const base of [...dirs.map((d) => join(d, 'x.js')), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(base)('onnxruntime-node') as Ort;
    } catch {
      // not installed here
    }
  }
  return undefined;
}

/** ORT session options of a row: the CPU provider, full graph optimization, `threads` intra-op threads. */
export const ortOptions = (threads: number) => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

export const WARMUP = 5;

/** The value after `--name` on the command line, or `dflt`. */
export function option(name: string, dflt: string): string {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : dflt;
}

export interface Config {
  threads: number;
  batch: 1 | 8;
}
export interface Measured extends Config {
  ms: number;
  msMin: number;
  cpuMs: number;
  runs: number;
}
/** Every configuration an engine process runs: 1 and 2 threads, batch 1 and 8. */
export const CONFIGS: Config[] = [1, 2].flatMap((threads) => ([1, 8] as const).map((batch) => ({ threads, batch })));

/**
 * Steady state of one configuration: WARMUP runs, then back-to-back runs for `seconds` (≥ 5).
 * Per call: wall time. Reported: the median and the fastest wall time (on a loaded machine the
 * fastest call is the one least disturbed by other jobs), and the process CPU time (all its
 * threads) of the whole timed loop divided by its calls. Per-call CPU deltas are not usable:
 * Linux folds a running thread's time into the process total lazily, so a thread that keeps
 * running across calls (our run-queue thread spinning for the next job) lands in whichever
 * call samples it — their median read 4.2 ms for 3.0 ms calls whose loop used 3.4 ms a call.
 */
export async function steady(
  run: () => Promise<unknown>,
  seconds: number,
): Promise<{ ms: number; msMin: number; cpuMs: number; runs: number }> {
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (times.length < 5 || performance.now() - t0 < seconds * 1000) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  const d = process.cpuUsage(c0);
  const cpuMs = (d.user + d.system) / 1000 / times.length;
  return { ms: median(times), msMin: Math.min(...times), cpuMs, runs: times.length };
}

/** The child's report: one JSON line on stdout. */
export function reportChild(isa: string, results: Measured[]): void {
  process.stdout.write(JSON.stringify({ isa, results }) + '\n');
}

export interface Row {
  id: string;
  engine: string;
  threads: number;
  b1: number[];
  b8: number[];
  min1: number[];
  min8: number[];
  cpu1: number[];
  cpu8: number[];
  vsOrt1?: number;
  vsOrt8?: number;
  vsOrtMin1?: number;
  vsOrtCpu1?: number;
  vsOrtF32?: number;
}

export interface Alternated {
  /** In the order of `ids`, then threads. */
  rows: Row[];
  /** 1-minute load averages seen as each process started. */
  loads: number[];
  /** Our kernel path, as the 'ours…' children reported it. */
  isa: string;
}

/**
 * Runs `script --child <id> ...childArgs` for every engine id, `rounds` times with the order
 * rotated, and gathers the per-process medians into one row per engine and thread count, with
 * the ratios to the engine 'ort-int8' (and 'ort-f32' for the float column) at the same threads.
 */
export function alternate(
  script: string,
  ids: string[],
  names: Record<string, string>,
  rounds: number,
  childArgs: string[],
): Alternated {
  const rows = new Map<string, Row>();
  const loads: number[] = [];
  let isa = '';
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so no engine always runs first (or right after the same neighbour).
    const order = ids.map((_, i) => ids[(i + round) % ids.length]!);
    for (const id of order) {
      loads.push(loadavg()[0]!);
      const out = execFileSync(process.execPath, [...process.execArgv, script, '--child', id, ...childArgs], {
        env: process.env,
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      }).toString();
      const r = JSON.parse(out.trim().split('\n').pop()!) as { isa: string; results: Measured[] };
      if (id.startsWith('ours')) isa = r.isa;
      for (const m of r.results) {
        const key = `${id}/${m.threads}`;
        const row = rows.get(key) ?? {
          id,
          engine: names[id] ?? id,
          threads: m.threads,
          b1: [],
          b8: [],
          min1: [],
          min8: [],
          cpu1: [],
          cpu8: [],
        };
        if (m.batch === 1) {
          row.b1.push(m.ms);
          row.min1.push(m.msMin);
          row.cpu1.push(m.cpuMs);
        } else {
          row.b8.push(m.ms);
          row.min8.push(m.msMin);
          row.cpu8.push(m.cpuMs);
        }
        rows.set(key, row);
      }
      process.stdout.write(`round ${round + 1}/${rounds}: ${id} done\n`);
    }
  }
  const list = [...rows.values()].sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id) || a.threads - b.threads);
  for (const r of list) {
    const peer = rows.get(`ort-int8/${r.threads}`),
      f32 = rows.get(`ort-f32/${r.threads}`);
    if (peer) {
      r.vsOrt1 = median(peer.b1) / median(r.b1);
      r.vsOrtMin1 = Math.min(...peer.min1) / Math.min(...r.min1);
      r.vsOrtCpu1 = median(peer.cpu1) / median(r.cpu1);
      if (r.b8.length) r.vsOrt8 = median(peer.b8) / median(r.b8);
    }
    if (f32) r.vsOrtF32 = median(f32.b1) / median(r.b1);
  }
  return { rows: list, loads, isa };
}

const span = (xs: number[], d: number) =>
  xs.length ? `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}` : '–';

/** The table of alternate()'s rows (the float column only when an 'ort-f32' engine ran). */
export function peerTable(rows: Row[]): Table<Row> {
  const f32 = rows.some((r) => r.vsOrtF32 !== undefined);
  return {
    columns: [
      { header: 'engine', value: (r) => r.engine },
      { header: 'threads', value: (r) => r.threads },
      { header: 'b1 ms median (min–max of processes)', value: (r) => `${median(r.b1).toFixed(2)} (${span(r.b1, 2)})` },
      { header: 'b1 fastest call ms', value: (r) => Math.min(...r.min1), digits: 2 },
      { header: 'b1 CPU ms per call', value: (r) => median(r.cpu1), digits: 2 },
      {
        header: 'b8 ms median (min–max)',
        value: (r) => (r.b8.length ? `${median(r.b8).toFixed(1)} (${span(r.b8, 1)})` : '–'),
      },
      { header: 'b8 fastest call ms', value: (r) => (r.min8.length ? Math.min(...r.min8) : undefined), digits: 1 },
      { header: '× ORT int8 b1 (median)', value: (r) => r.vsOrt1, digits: 2 },
      { header: '× ORT int8 b1 (fastest)', value: (r) => r.vsOrtMin1, digits: 2 },
      { header: '× ORT int8 b1 (CPU)', value: (r) => r.vsOrtCpu1, digits: 2 },
      { header: '× ORT int8 b8 (median)', value: (r) => r.vsOrt8, digits: 2 },
      ...(f32 ? [{ header: '× ORT float32 b1 (median)', value: (r: Row) => r.vsOrtF32, digits: 2 }] : []),
    ],
    rows,
  };
}

/** The method paragraph of a results file. */
export function methodText(rounds: number, seconds: number, loads: number[], cores: number): string {
  return (
    `Method: each engine alone in its own process (a child of this script that builds or loads its model, then for 1 and 2 threads and batch 1 and 8 runs ${WARMUP} warm-up calls and back-to-back timed calls for ${seconds} s, reporting the median call); ` +
    `the processes alternated ${rounds} times with the engine order rotated each round. "min–max" spans the per-process medians; the ratio columns divide medians of processes. ` +
    `"fastest call" is the quickest single call over all processes (on a loaded machine, the call least disturbed by other jobs); "CPU ms per call" is the process CPU time of a timed loop divided by its calls, median over processes (user + system, all the engine's threads, so it includes a pool's or a run thread's spinning between calls). Ratios > 1: the row is faster than ONNX Runtime int8 at the same threads. ` +
    `1-minute load average while the processes ran: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cores} cores (the machine is shared: other jobs inflate wall times, and the spread shows by how much).`
  );
}
