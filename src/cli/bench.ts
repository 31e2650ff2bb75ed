// `tfjs-quant bench <model.json>...`: latency (p50/p90/p99) and throughput of each model in
// the native runtime (whatever its form: int8, dynamic, float) against tfjs float baselines
// (tfjs-node when it loads, tfjs-backend-wasm, tfjs-backend-cpu), for the batch sizes and
// thread counts asked for. Warm-up, then a fixed number of runs or a time budget.
// Exit codes: 0 ok, 1 a model could not be benchmarked, 2 usage error.
import { availableParallelism } from 'node:os';
import { parseCommand, processIO, UsageError, type CommandIO } from './args.js';
import { requireExistingPaths } from './discover.js';
import { seededInputs } from '../convert/convert-one.js';
import {
  tf,
  availableFloatBackends,
  describeFloatBackend,
  floatBackendName,
  initFloatBackend,
  type FloatBackendName,
} from '../backend/float.js';
import { loadModel } from '../model/load.js';
import { execute } from '../model/execute.js';
import { InferenceSession } from '../runtime/session.js';
import { cpuInfo, getIsa } from '../native/cpu.js';
import { toText, type Table } from '../report/table.js';
import { summarize, timeRuns, type TimingSummary } from '../report/timing.js';

export const BENCH_FLAGS = {
  batch: { type: 'list', value: 'N,…', default: ['1', '8'] as string[], description: 'Batch sizes' },
  threads: { type: 'list', value: 'N,…', description: 'Native runtime thread counts (default: 1 and all cores)' },
  baselines: {
    type: 'list',
    value: 'B,…',
    description: 'tfjs float baselines: tensorflow, wasm, cpu, none (default: every one that loads)',
  },
  warmup: { type: 'int', min: 0, max: 10000, default: 3, description: 'Untimed runs first' },
  runs: { type: 'int', min: 1, max: 1000000, default: 100, description: 'Timed runs (at most, with --time)' },
  time: {
    type: 'number',
    min: 0.01,
    max: 3600,
    default: 2,
    description: 'Time budget per configuration in seconds (at least 3 runs)',
  },
  json: { type: 'boolean', description: 'Print the results as JSON' },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

export interface BenchRow extends TimingSummary {
  model: string;
  engine: string;
  batch: number;
  threads?: number;
  /** Samples per second at p50. */
  throughput: number;
  /** Speed-up of p50 over the first baseline at the same batch. */
  speedup?: number;
}

function ints(list: string[], name: string, max: number): number[] {
  return list.map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new UsageError(`--${name} values must be integers in [1, ${max}], got '${s}'`);
    return v;
  });
}

export async function benchCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'bench',
    args,
    BENCH_FLAGS,
    'tfjs-quant bench <model.json>... [options]',
    'Latency and throughput of models in the native runtime against tfjs float baselines.\nExit codes: 0 ok, 1 a model could not be benchmarked, 2 usage error.',
    io,
  );
  if (typeof opts === 'number') return opts;
  let batches: number[], threads: number[], baselines: FloatBackendName[];
  try {
    if (!opts._.length) throw new UsageError('expected at least one model.json');
    await requireExistingPaths(opts._);
    batches = ints(opts.batch, 'batch', 4096);
    threads = ints(
      opts.threads.length
        ? opts.threads
        : ['1', String(availableParallelism())].filter((v, i, a) => a.indexOf(v) === i),
      'threads',
      256,
    );
    const avail = availableFloatBackends();
    const asked: string[] = opts.baselines.length ? opts.baselines : avail;
    if (asked.includes('none')) baselines = [];
    else {
      for (const b of asked) {
        if (!['tensorflow', 'wasm', 'cpu'].includes(b))
          throw new UsageError(`--baselines: unknown backend '${b}' (tensorflow, wasm, cpu, none)`);
        if (!avail.includes(b as FloatBackendName))
          throw new UsageError(`--baselines: backend '${b}' does not load here (available: ${avail.join(', ')})`);
      }
      baselines = asked as FloatBackendName[];
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tfjs-quant bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const timing = { warmup: opts.warmup, runs: opts.runs, seconds: opts.time };
  const original = await initFloatBackend();
  const rows: BenchRow[] = [];
  let failed = 0;
  for (const path of opts._) {
    try {
      const g = await loadModel(path);
      const mode = (g.metadata.quantization as { mode?: string } | undefined)?.mode ?? 'float32';
      for (const batch of batches) {
        const [x] = seededInputs(g, 1, 1, batch);
        const base: BenchRow[] = [];
        for (const b of baselines) {
          await initFloatBackend(b);
          io.stderr(`bench ${path}: tfjs-${b} float, batch ${batch}\n`);
          const s = summarize(await timeRuns(() => tf.tidy(() => execute(g, x!).forEach((t) => t.dataSync())), timing));
          base.push({
            model: path,
            engine: `tfjs ${describeFloatBackend(b)}`,
            batch,
            ...s,
            throughput: (batch * 1000) / s.p50,
          });
        }
        await initFloatBackend(original);
        const native: BenchRow[] = [];
        for (const t of threads) {
          io.stderr(`bench ${path}: native ${mode}, batch ${batch}, ${t} thread(s)\n`);
          const session = await InferenceSession.create(g, { threads: t });
          try {
            const s = summarize(await timeRuns(() => session.run(x!), timing));
            native.push({
              model: path,
              engine: `tfjs-quant ${mode} (${getIsa()})`,
              batch,
              threads: t,
              ...s,
              throughput: (batch * 1000) / s.p50,
            });
          } finally {
            session.dispose();
          }
        }
        const ref = base[0]?.p50;
        for (const r of [...base, ...native]) rows.push(ref ? { ...r, speedup: ref / r.p50 } : r);
        Object.values(x!).forEach((t) => t.dispose());
      }
    } catch (e) {
      failed++;
      io.stderr(`tfjs-quant bench: ${path}: ${(e as Error).message}\n`);
    }
  }
  await initFloatBackend(original);
  if (opts.json) {
    io.stdout(JSON.stringify({ machine: cpuInfo(), floatBackend: floatBackendName(), rows }, null, 2) + '\n');
  } else {
    const info = cpuInfo();
    const table: Table<BenchRow> = {
      columns: [
        { header: 'model', value: (r) => r.model },
        { header: 'engine', value: (r) => r.engine },
        { header: 'batch', value: (r) => r.batch },
        { header: 'threads', value: (r) => r.threads ?? (r.engine.includes('wasm') ? 1 : undefined) },
        { header: 'runs', value: (r) => r.runs },
        { header: 'p50 ms', value: (r) => r.p50, digits: 3 },
        { header: 'p90 ms', value: (r) => r.p90, digits: 3 },
        { header: 'p99 ms', value: (r) => r.p99, digits: 3 },
        { header: 'samples/s', value: (r) => Math.round(r.throughput) },
        {
          header: 'speed-up',
          value: (r) => (r.speedup === undefined ? undefined : `${r.speedup.toFixed(2)}×`),
          align: 'right',
        },
      ],
      rows,
    };
    io.stdout(
      `${info.brand || info.vendor}, ${info.availableCores} cores; speed-up relative to the first baseline (${baselines[0] ?? 'none'})\n\n${toText(table)}\n`,
    );
  }
  return failed ? 1 : 0;
}
