// A queue worker: takes conversion jobs from the queue and runs each in a child process
// (processor.ts) with BullMQ's locks, retries and stalled-job detection. Any number of
// workers on any machines that see the same Redis and the same storage share one queue.
import { availableParallelism, hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { THREADS_ENV, type ConversionJobData } from './job.js';
import { redisOptions, type RedisLocation, type WorkerPolicy } from './options.js';
import type { ModelResult } from '../convert/convert-one.js';

export interface WorkerConfig {
  redis: RedisLocation;
  queueName: string;
  policy: WorkerPolicy;
}

export interface RunningWorker {
  /** Stops taking jobs; resolves when the running ones finished (`force`: abandons them). */
  close(force?: boolean): Promise<void>;
}

/** `attempt` counts from 1; BullMQ's attemptsMade counts the failed ones (already incremented in 'failed'). */
const describe = (job: Job<ConversionJobData> | undefined, attempt: number) =>
  job ? `${job.data.rel || '.'} (job ${job.id}, attempt ${attempt}/${job.opts.attempts ?? 1})` : 'a job';

export function startWorker(cfg: WorkerConfig, log: (line: string) => void): RunningWorker {
  const { policy } = cfg;
  const threads = Math.max(1, Math.floor(availableParallelism() / policy.concurrency));
  // Under tsx (tests, development) the processor is the TypeScript source; children inherit
  // this process's loader flags (BullMQ forks them with process.execArgv).
  const processor = new URL(import.meta.url.endsWith('.ts') ? './processor.ts' : './processor.js', import.meta.url);
  const who = `worker ${hostname()}:${process.pid}`;
  const worker = new Worker<ConversionJobData, ModelResult>(cfg.queueName, processor, {
    // Recorded on each job as processedBy: the report counts the workers that took part.
    name: `${hostname()}:${process.pid}`,
    connection: redisOptions(cfg.redis),
    concurrency: policy.concurrency,
    lockDuration: policy.lockDurationMs,
    stalledInterval: policy.stalledIntervalMs,
    maxStalledCount: policy.maxStalledCount,
    workerForkOptions: { env: { ...process.env, [THREADS_ENV]: String(threads) } },
  });
  worker.on('active', (job) => log(`${who}: started ${describe(job, job.attemptsMade + 1)}`));
  worker.on('completed', (job, result) =>
    log(`${who}: finished ${job.data.rel || '.'} (job ${job.id}): ${result.status}`),
  );
  worker.on('failed', (job, err) =>
    log(`${who}: attempt failed ${describe(job, job?.attemptsMade ?? 0)}: ${err.message}`),
  );
  worker.on('stalled', (jobId) =>
    log(`${who}: job ${jobId} stalled (its worker stopped renewing the lock): re-queued`),
  );
  // Connection errors while Redis restarts are reported and retried by the client, never fatal.
  worker.on('error', (err) => log(`${who}: ${err.message}`));
  log(
    `${who}: waiting for jobs on queue '${cfg.queueName}' at ${cfg.redis.url} (concurrency ${policy.concurrency}, ${threads} thread(s) per conversion)`,
  );
  return { close: (force = false) => worker.close(force) };
}
