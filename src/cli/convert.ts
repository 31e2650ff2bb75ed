// `tfjs-quant convert <model.json | dir | glob>... -o <outdir>`: batch conversion of a model
// zoo. Every model is converted independently (in worker threads with --jobs N), written
// atomically, and recorded in a manifest (<outdir>/tfjs-quant-manifest.json) so an
// interrupted batch resumes with --skip-existing. A broken model is reported and the batch
// goes on (unless --fail-fast). Ctrl-C stops scheduling, lets running conversions finish
// (a second Ctrl-C abandons them; their temporary files are removed) and keeps every
// finished output valid. Exit codes: 0 all converted, 1 some failed, 2 usage error,
// 3 some model degraded (with --strict), 130 interrupted.
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseCommand, processIO, UsageError, type CommandIO } from './args.js';
import { discoverModels, type ModelTask } from './discover.js';
import { convertOne, type ConvertOptions, type ModelResult } from '../convert/convert-one.js';
import { Progress } from './progress.js';
import { cpuInfo } from '../native/cpu.js';
import { describeFloatBackend, initFloatBackend } from '../backend/float.js';
import { writeFilesAtomic } from '../io/atomic.js';
import { batchReportJson, batchReportText, batchTotals, writeBatchReport, type BatchReport } from '../report/batch.js';
import { planConversion, planText } from './dry-run.js';

export const CONVERT_FLAGS = {
  output: {
    type: 'string',
    alias: 'o',
    value: 'DIR',
    description: 'Output directory (required); keeps the input folder structure',
  },
  mode: {
    type: 'string',
    choices: ['dynamic', 'int8', 'float16', 'compress'],
    default: 'dynamic',
    description: 'Conversion',
  },
  format: {
    type: 'string',
    choices: ['native', 'tfjs'],
    default: 'native',
    description: 'tfjs-quant format (native runtime) or stock TF.js',
  },
  'per-tensor': { type: 'boolean', description: 'Per-tensor weight scales instead of per output channel' },
  calibration: {
    type: 'string',
    value: 'PATH',
    description:
      "Representative inputs: a directory of .npy files (named by input) or a JS module exporting an async generator; int8 calibrates on them, every mode's guard and evaluation use them (else generated inputs)",
  },
  samples: {
    type: 'int',
    min: 1,
    max: 100000,
    default: 100,
    description: 'int8: calibration samples (generated image-like inputs when no --calibration)',
  },
  observer: {
    type: 'string',
    choices: ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'],
    default: 'minmax',
    description: 'int8: activation range observer',
  },
  percentile: { type: 'number', min: 50, max: 100, default: 99.99, description: 'int8 with --observer percentile' },
  'weight-bits': {
    type: 'string',
    choices: ['8', '4'],
    default: '8',
    description: 'dynamic: weight bits (4: per-group int4 weights, docs/quantization.md §12.5)',
  },
  'group-size': {
    type: 'string',
    choices: ['32', '64', '128', '0'],
    default: '64',
    description: '--weight-bits 4: values per group along K (0: per output channel)',
  },
  'scale-bits': {
    type: 'string',
    choices: ['8', '16'],
    default: '8',
    description: '--weight-bits 4: group scales as 8-bit codes x a float32 super-scale per channel (8) or float16 (16)',
  },
  sparsity: {
    type: 'number',
    min: 0,
    max: 0.99,
    default: 0.5,
    description: 'compress: fraction of each weight pruned',
  },
  bits: { type: 'int', min: 1, max: 8, default: 5, description: 'compress: weight-sharing label bits' },
  tolerance: {
    type: 'number',
    min: -1,
    max: 1,
    default: 0.99,
    description:
      'Minimum score every output must keep against float: cosine (outputs of ≥ 16 values) or 1 − relative error (smaller ones)',
  },
  guard: {
    type: 'boolean',
    default: true,
    description:
      'Accuracy guard (dynamic, int8): layers that break --tolerance stay float (4-bit: get 8-bit weights); --no-guard turns it off',
  },
  'guard-samples': {
    type: 'int',
    min: 1,
    max: 1000,
    default: 8,
    description:
      'Samples the guard measures on, apart from those that calibrate (generated; with --calibration: the samples after the first --samples)',
  },
  'dynamic-min-k': {
    type: 'int',
    min: 0,
    max: 1 << 30,
    description:
      'Conv/matmul layers with fewer products per output (K) run float instead of dynamic, the dynamic kernel being slower there (default 64; 0: no limit)',
  },
  'dynamic-min-n': {
    type: 'int',
    min: 0,
    max: 1 << 30,
    description: 'The same for conv/matmul layers with fewer output channels (N) (default 32; 0: no limit)',
  },
  strict: { type: 'boolean', description: 'Exit 3 when a model is degraded (converted but below --tolerance)' },
  'float-nodes': {
    type: 'list',
    value: 'NAMES',
    description: 'Nodes kept in float32 (comma-separated names of the optimized graph; see the report)',
  },
  'op-types': {
    type: 'list',
    value: 'OPS',
    description: 'Op types to quantize (e.g. Conv2D,MatMul); other ops stay float32',
  },
  equalize: {
    type: 'boolean',
    description:
      'int8 (per-channel): equalize channel ranges between a layer and its depthwise reader before quantizing (docs/quantization.md); not with --bias-correction',
  },
  'bias-correction': {
    type: 'boolean',
    description:
      'int8/dynamic: correct biases for the mean shift weight quantization causes (needs calibration samples)',
  },
  'input-type': {
    type: 'string',
    choices: ['float32', 'int8', 'uint8'],
    default: 'float32',
    description:
      "int8 / uint8: the model takes quantized inputs (the input's calibrated parameters; uint8 = int8 codes + 128, as image bytes are)",
  },
  'output-type': {
    type: 'string',
    choices: ['float32', 'int8', 'uint8'],
    default: 'float32',
    description: 'int8 / uint8: the model returns quantized outputs with their parameters',
  },
  'eval-samples': {
    type: 'int',
    min: 0,
    max: 10000,
    default: 16,
    description: 'Inputs used to measure fidelity and latency on the written files (0: skip)',
  },
  runs: { type: 'int', min: 1, max: 10000, default: 10, description: 'Timed runs for latency' },
  jobs: {
    type: 'int',
    alias: 'j',
    min: 1,
    max: 64,
    default: 1,
    description: 'Models converted in parallel (worker threads)',
  },
  'skip-existing': { type: 'boolean', description: 'Skip models already converted with the same options (resume)' },
  'fail-fast': { type: 'boolean', description: 'Stop at the first failed model' },
  'allow-non-finite': { type: 'boolean', description: 'Accept NaN/Inf weights' },
  queue: {
    type: 'string',
    value: 'redis://HOST:PORT[/DB]',
    description: 'Convert on queue workers (tfjs-quant worker) through Redis instead of locally (docs/queue.md)',
  },
  'queue-name': { type: 'string', value: 'NAME', description: 'With --queue: the queue (default tfjs-quant)' },
  report: {
    type: 'string',
    value: 'PREFIX',
    description: 'Report path prefix (default <outdir>/report): writes .md, .json, .html',
  },
  'dry-run': {
    type: 'boolean',
    description:
      'Show what would be converted (each model with its sizes and int8 coverage), convert and write nothing',
  },
  json: {
    type: 'boolean',
    description: 'Print the summary as JSON on stdout (the report.json document; with --dry-run, the plan)',
  },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

const USAGE = 'tfjs-quant convert <model.json | dir | glob>... -o <outdir> [options]';
const DESCRIPTION = `Converts every model found (directories are searched for model.json) and writes a report.
Exit codes: 0 all converted, 1 some models failed, 2 usage error, 3 (--strict) some model degraded, 130 interrupted.`;

export const MANIFEST = 'tfjs-quant-manifest.json';

interface ManifestEntry {
  source: string;
  stamp: string;
  optionsKey: string;
  status: 'done' | 'degraded' | 'failed';
  error?: string;
  result: ModelResult;
}
interface Manifest {
  tool: 'tfjs-quant';
  version: 1;
  models: Record<string, ManifestEntry>;
}

async function readManifest(out: string): Promise<Manifest> {
  try {
    const m = JSON.parse(await fs.readFile(join(out, MANIFEST), 'utf8')) as Manifest;
    if (m && m.version === 1 && typeof m.models === 'object') return m;
  } catch {
    // absent or unreadable: start afresh
  }
  return { tool: 'tfjs-quant', version: 1, models: {} };
}

async function stampOf(file: string): Promise<string> {
  const st = await fs.stat(file);
  return `${st.size}:${st.mtimeMs}`;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

function optionsKey(o: ConvertOptions): string {
  const { evalSamples: _e, runs: _r, threads: _t, ...rest } = o;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

/** A pool of worker threads running convertOne; `jobs` = 1 converts inline. */
class ConvertPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly pending = new Map<number, (r: ModelResult) => void>();
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly owner = new Map<number, Worker>();
  private readonly tasks = new Map<number, ModelTask & { output: string }>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly jobs: number) {
    if (jobs <= 1) return;
    for (let i = 0; i < jobs; i++) this.idle.push(this.spawn());
  }

  /** Starts a worker (registered, not yet idle). */
  private spawn(): Worker {
    const ts = import.meta.url.endsWith('.ts');
    const file = new URL(ts ? './convert-worker.ts' : './convert-worker.js', import.meta.url);
    // Under tsx (tests, development) the worker needs the TypeScript loader too.
    const w = ts
      ? new Worker(
          `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(file.href)}); })`,
          { eval: true },
        )
      : new Worker(file);
    w.on('message', (m: { id: number; result: ModelResult }) => {
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      this.release(w);
      done?.(m.result);
    });
    w.on('error', (e) => {
      // A crashed worker fails its model, never the batch: replace it.
      this.workers.splice(this.workers.indexOf(w), 1);
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      for (const [id, done] of this.pending)
        if (this.owner.get(id) === w) {
          this.pending.delete(id);
          done(this.crashResult(id, e));
        }
      if (!this.closed) this.release(this.spawn());
    });
    this.workers.push(w);
    return w;
  }

  private crashResult(id: number, e: Error): ModelResult {
    const t = this.tasks.get(id)!;
    return {
      source: t.source,
      rel: t.rel,
      output: t.output,
      status: 'failed',
      error: `worker crashed: ${e.message}`,
      warnings: [],
      seconds: 0,
    };
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async run(task: ModelTask & { output: string }, options: ConvertOptions): Promise<ModelResult> {
    if (this.jobs <= 1) return convertOne(task, options);
    const w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    const id = this.nextId++;
    this.owner.set(id, w);
    this.tasks.set(id, task);
    return new Promise<ModelResult>((res) => {
      this.pending.set(id, res);
      w.postMessage({ id, task, options });
    }).finally(() => {
      this.owner.delete(id);
      this.tasks.delete(id);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function removeTemporaries(out: string): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, e.name);
      if (e.name.includes('.tmp-') || e.name.startsWith('.tfjs-quant-tmp'))
        await fs.rm(p, { recursive: true, force: true });
      else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(out);
}

export async function convertCommand(args: string[], io: CommandIO = processIO, signal?: AbortSignal): Promise<number> {
  const opts = parseCommand('convert', args, CONVERT_FLAGS, USAGE, DESCRIPTION, io);
  if (typeof opts === 'number') return opts;
  const t0 = performance.now();
  let tasks: (ModelTask & { output: string })[];
  let out: string;
  try {
    if (!opts.output) throw new UsageError('-o/--output DIR is required');
    if (opts.mode === 'compress' && opts.format === 'tfjs')
      throw new UsageError('--mode compress needs --format native (stock TF.js cannot hold compressed weights)');
    if (opts.calibration && opts.mode === 'compress')
      throw new UsageError('--calibration does not apply to --mode compress');
    if (opts.weightBits === '4' && opts.mode !== 'dynamic')
      throw new UsageError('--weight-bits 4 needs --mode dynamic');
    if (opts.queue === undefined && opts.queueName !== undefined) throw new UsageError('--queue-name needs --queue');
    if (opts.dryRun && opts.queue !== undefined) throw new UsageError('--dry-run does not apply to --queue');
    if (opts.queue !== undefined && opts.failFast)
      throw new UsageError("--fail-fast does not apply to --queue (the workers run the batch's jobs at once)");
    if (
      ((opts.inputType ?? 'float32') !== 'float32' || (opts.outputType ?? 'float32') !== 'float32') &&
      opts.mode !== 'int8'
    )
      throw new UsageError('--input-type/--output-type int8 or uint8 need --mode int8');
    if (
      (opts.floatNodes.length || opts.opTypes.length || opts.biasCorrection) &&
      (opts.mode === 'float16' || opts.mode === 'compress')
    ) {
      throw new UsageError('--float-nodes, --op-types and --bias-correction apply to --mode dynamic or int8');
    }
    if (opts.equalize && opts.mode !== 'int8') throw new UsageError('--equalize applies to --mode int8');
    if (opts.equalize && opts.perTensor)
      throw new UsageError('--equalize needs per-channel weights (not --per-tensor)');
    if (opts.equalize && opts.biasCorrection)
      throw new UsageError('--equalize and --bias-correction cannot be combined');
    out = resolve(opts.output);
    const found = await discoverModels(opts._, out);
    tasks = found.map((t) => ({ ...t, output: join(out, t.rel) }));
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tfjs-quant convert: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const jobs = Math.min(opts.jobs ?? 1, tasks.length);
  const options: ConvertOptions = {
    mode: opts.mode as ConvertOptions['mode'],
    format: opts.format as ConvertOptions['format'],
    perTensor: opts.perTensor,
    calibration: opts.calibration ? resolve(opts.calibration) : undefined,
    samples: opts.samples ?? 100,
    observer: opts.observer,
    percentile: opts.percentile,
    ...(opts.weightBits === '4'
      ? {
          weightBits: 4 as const,
          groupSize: Number(opts.groupSize ?? 64),
          scaleBits: Number(opts.scaleBits ?? 8) as 8 | 16,
        }
      : {}),
    sparsity: opts.sparsity,
    bits: opts.bits,
    evalSamples: opts.evalSamples ?? 16,
    runs: opts.runs ?? 10,
    threads: Math.max(1, Math.floor(availableParallelism() / jobs)),
    allowNonFinite: opts.allowNonFinite,
    tolerance: opts.tolerance ?? 0.99,
    guard: opts.guard,
    guardSamples: opts.guardSamples ?? 8,
    ...(opts.floatNodes.length ? { floatNodes: opts.floatNodes } : {}),
    ...(opts.opTypes.length ? { opTypes: opts.opTypes } : {}),
    ...(opts.biasCorrection ? { biasCorrection: true } : {}),
    ...(opts.equalize ? { equalize: true } : {}),
    ...(opts.dynamicMinK !== undefined ? { dynamicMinK: opts.dynamicMinK } : {}),
    ...(opts.dynamicMinN !== undefined ? { dynamicMinN: opts.dynamicMinN } : {}),
    ...(opts.inputType === 'int8' || opts.inputType === 'uint8' ? { inputType: opts.inputType } : {}),
    ...(opts.outputType === 'int8' || opts.outputType === 'uint8' ? { outputType: opts.outputType } : {}),
  };
  if (opts.queue !== undefined) {
    const { convertOnQueue } = await import('./convert-queued.js');
    return convertOnQueue({
      tasks,
      options,
      outDir: out,
      reportPrefix: opts.report ? resolve(opts.report) : join(out, 'report'),
      queue: opts.queue,
      queueName: opts.queueName,
      command: `tfjs-quant convert ${args.join(' ')}`,
      io,
      startedAt: t0,
      signal,
    });
  }
  const manifest = await readManifest(out);
  const key = optionsKey(options);
  const results: ModelResult[] = [];
  let skippedDegraded = false; // a model skipped by --skip-existing that an earlier run found degraded
  const todo: typeof tasks = [];
  for (const t of tasks) {
    const prev = manifest.models[t.rel];
    if (
      opts.skipExisting &&
      prev &&
      (prev.status === 'done' || prev.status === 'degraded') &&
      prev.source === t.source &&
      prev.optionsKey === key &&
      prev.stamp === (await stampOf(t.source).catch(() => '')) &&
      (await exists(join(t.output, 'model.json')))
    ) {
      results.push({ ...prev.result, status: 'skipped' });
      if (prev.status === 'degraded') skippedDegraded = true;
    } else todo.push(t);
  }
  if (opts.dryRun) {
    const plan = await planConversion(tasks, new Set(results.map((r) => r.rel)), opts.allowNonFinite);
    io.stdout(
      opts.json
        ? JSON.stringify({ dryRun: true, mode: options.mode, format: options.format, models: plan }, null, 2) + '\n'
        : planText(plan, options.mode),
    );
    return plan.some((p) => p.action === 'fail') ? 1 : 0;
  }
  await fs.mkdir(out, { recursive: true });
  const backend = await initFloatBackend();
  io.stderr(
    `tfjs-quant convert: ${tasks.length} model(s), ${todo.length} to convert (${tasks.length - todo.length} already done), mode ${options.mode}, ${jobs} job(s)\n`,
  );
  const progress = new Progress({ total: todo.length, label: 'converting' });
  const pool = new ConvertPool(jobs);
  let interrupted = false;
  let stop = false;
  const onSigint = () => {
    if (interrupted) {
      io.stderr('\ntfjs-quant convert: aborting running conversions\n');
      void pool
        .close()
        .then(() => removeTemporaries(out))
        .then(() => process.exit(130));
      return;
    }
    interrupted = stop = true;
    io.stderr('\ntfjs-quant convert: interrupted — finishing the running conversions (Ctrl-C again to abort)\n');
  };
  process.on('SIGINT', onSigint);
  signal?.addEventListener('abort', onSigint);
  let manifestWrite = Promise.resolve();
  const record = (r: ModelResult) => {
    results.push(r);
    if (r.status === 'failed' && opts.failFast) stop = true;
    manifest.models[r.rel] = {
      source: r.source,
      stamp: '',
      optionsKey: key,
      status: r.status === 'skipped' ? 'failed' : r.status,
      error: r.error,
      result: r,
    };
    manifestWrite = manifestWrite.then(async () => {
      manifest.models[r.rel]!.stamp = await stampOf(r.source).catch(() => '');
      await writeFilesAtomic(
        out,
        [{ name: MANIFEST, bytes: new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n') }],
        { commitFile: MANIFEST },
      );
    });
    progress.tick(1, `${r.rel || '.'}: ${r.status}${r.error ? ` (${r.error.slice(0, 80)})` : ''}`);
  };
  try {
    let next = 0;
    const lane = async () => {
      while (!stop && next < todo.length) {
        const t = todo[next++]!;
        progress.setCurrent(t.rel || '.');
        record(await pool.run(t, options));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, lane));
  } finally {
    process.off('SIGINT', onSigint);
    signal?.removeEventListener('abort', onSigint);
    await pool.close();
    await manifestWrite;
  }
  progress.finish();
  const order = new Map(tasks.map((t, i) => [t.rel, i]));
  results.sort((a, b) => order.get(a.rel)! - order.get(b.rel)!);
  const info = cpuInfo();
  const report: BatchReport = {
    meta: {
      mode: options.mode,
      format: options.format,
      jobs,
      wallSeconds: (performance.now() - t0) / 1000,
      machine: `${info.brand || info.vendor}, ${info.availableCores} cores`,
      floatBackend: describeFloatBackend(backend),
      command: `tfjs-quant convert ${args.join(' ')}`,
    },
    totals: batchTotals(results),
    models: results,
  };
  const prefix = opts.report ? resolve(opts.report) : join(out, 'report');
  await writeBatchReport(report, prefix);
  if (opts.json) io.stdout(batchReportJson(report));
  else {
    io.stdout(batchReportText(report));
    io.stdout(`report: ${relative(process.cwd(), prefix)}.{md,json,html}\n`);
  }
  if (interrupted) return 130;
  if (results.some((r) => r.status === 'failed') || results.length < tasks.length) return 1;
  return opts.strict && (skippedDegraded || results.some((r) => r.status === 'degraded')) ? 3 : 0;
}
