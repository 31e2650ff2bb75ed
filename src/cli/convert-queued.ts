// `tfjs-quant convert ... --queue redis://host:port[/db]`: the batch is converted by queue
// workers (`tfjs-quant worker`) instead of the local pool. Models whose output exists from the
// same input bytes and options are skipped (resume, by content hash); the others become one
// job each; the report is the local mode's, built from the jobs' results.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { relative } from 'node:path';
import type { CommandIO } from './args.js';
import type { ConvertOptions, ModelResult } from '../convert/convert-one.js';
import { Progress } from './progress.js';
import { cpuInfo } from '../native/cpu.js';
import { batchReportText, batchTotals, writeBatchReport, type BatchReport } from '../report/batch.js';
import { checkRedis, runBatchOnQueue, RedisUnavailable } from '../queue/enqueue.js';
import { conversionKey, inputHash } from '../queue/hash.js';
import type { ConversionJobData } from '../queue/job.js';
import { checkQueueName, DEFAULT_QUEUE_POLICY, parseRedisUrl, QueueConfigError } from '../queue/options.js';
import { sameOutput, SharedFolderStorage } from '../queue/storage.js';

export interface QueueConvertRequest {
  /** The models, as the local converter found them (output = outDir/rel). */
  tasks: { source: string; rel: string; output: string }[];
  options: ConvertOptions;
  outDir: string;
  /** Report path prefix (…/report → report.md, .json, .html). */
  reportPrefix: string;
  /** `--queue` and `--queue-name` as given. */
  queue: string;
  queueName?: string;
  /** The command line, for the report. */
  command: string;
  io: CommandIO;
  /** When the command started (performance.now()). */
  startedAt: number;
  signal?: AbortSignal;
}

/** Runs the batch on the queue and writes the report; returns the exit code (as local mode's). */
export async function convertOnQueue(req: QueueConvertRequest): Promise<number> {
  const { io, tasks, outDir } = req;
  let redis, queueName;
  try {
    redis = parseRedisUrl(req.queue);
    queueName = checkQueueName(req.queueName);
    const atRoot = tasks.find((t) => t.rel === '');
    if (atRoot)
      throw new QueueConfigError(
        `${atRoot.source} would be written to the output root itself; with --queue each model needs its own folder: pass the model.json file, not its directory`,
      );
  } catch (e) {
    if (!(e instanceof QueueConfigError)) throw e;
    io.stderr(`tfjs-quant convert: ${e.message}\n`);
    return 2;
  }
  try {
    await checkRedis(redis);
  } catch (e) {
    if (!(e instanceof RedisUnavailable)) throw e;
    io.stderr(`tfjs-quant convert: ${e.message}\n`);
    return 1;
  }
  await fs.mkdir(outDir, { recursive: true });
  const storage = new SharedFolderStorage();
  const key = conversionKey(req.options);
  const batch = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const results: (ModelResult | undefined)[] = tasks.map(() => undefined);
  const jobs: ConversionJobData[] = [];
  const jobTask: number[] = [];
  for (const [i, t] of tasks.entries()) {
    const hash = await inputHash(t.source);
    const there = await storage.readRecord(outDir, t.rel);
    if (there && sameOutput(there, { inputHash: hash, conversionKey: key })) {
      results[i] = { ...there.result, status: 'skipped' };
      continue;
    }
    jobTask.push(i);
    jobs.push({
      storage: storage.kind,
      source: t.source,
      rel: t.rel,
      outputRoot: outDir,
      inputHash: hash,
      conversionKey: key,
      options: req.options,
      batch,
    });
  }
  // Listening for Ctrl-C before saying anything: whoever reacts to the line below can interrupt.
  const controller = new AbortController();
  const onSigint = () => {
    io.stderr('\ntfjs-quant convert: interrupted — withdrawing queued jobs; running ones finish on their workers\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  req.signal?.addEventListener('abort', onSigint);
  io.stderr(
    `tfjs-quant convert: ${tasks.length} model(s), ${jobs.length} queued on '${queueName}' at ${redis.url} (${tasks.length - jobs.length} already converted from the same input), mode ${req.options.mode}\n`,
  );
  const progress = new Progress({ total: jobs.length, label: 'converting (queue)' });
  let outcome;
  try {
    outcome = await runBatchOnQueue(
      { redis, queueName, policy: DEFAULT_QUEUE_POLICY, batch, jobs },
      {
        finished: (j, r) => {
          results[jobTask[j]!] = r;
          progress.tick(1, `${r.rel || '.'}: ${r.status}${r.error ? ` (${r.error.slice(0, 80)})` : ''}`);
        },
        event: (line) => io.stderr(`${line}\n`),
      },
      controller.signal,
    );
  } finally {
    process.off('SIGINT', onSigint);
    req.signal?.removeEventListener('abort', onSigint);
  }
  progress.finish();
  // What killed workers left: staging folders named after this batch (never a final output).
  await storage.sweep(outDir, batch);

  const finished = results.filter((r): r is ModelResult => r !== undefined);
  const info = cpuInfo();
  const backends = [...new Set(finished.map((r) => r.floatBackend).filter((b): b is string => !!b))];
  const report: BatchReport = {
    meta: {
      mode: req.options.mode,
      format: req.options.format,
      jobs: outcome.workers.length,
      wallSeconds: (performance.now() - req.startedAt) / 1000,
      machine: `queue ${queueName} at ${redis.url}, worker(s) ${outcome.workers.join(', ') || 'none'}; coordinator ${info.brand || info.vendor}, ${info.availableCores} cores`,
      floatBackend: backends.join(', ') || 'none (nothing converted)',
      command: req.command,
    },
    totals: batchTotals(finished),
    models: finished,
  };
  const prefix = req.reportPrefix;
  await writeBatchReport(report, prefix);
  io.stdout(batchReportText(report));
  io.stdout(`report: ${relative(process.cwd(), prefix)}.{md,json,html}\n`);
  if (controller.signal.aborted) return 130;
  return finished.some((r) => r.status === 'failed') || finished.length < tasks.length ? 1 : 0;
}
