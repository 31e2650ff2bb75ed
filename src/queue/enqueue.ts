// The coordinator's side of the queue: checks that Redis is there, adds one job per model in
// one atomic bulk, and waits for every job to finish, following the queue's events (progress,
// retries, stalls) and re-reading the jobs' states now and then, because an event published
// while Redis restarted can be missed but a job's state cannot.
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ConversionJobData } from './job.js';
import { redisOptions, type QueuePolicy, type RedisLocation } from './options.js';
import type { ModelResult } from '../convert/convert-one.js';

/** Redis cannot be reached, or is too old for BullMQ. */
export class RedisUnavailable extends Error {
  override name = 'RedisUnavailable';
}

const MIN_REDIS_MAJOR = 6;

/** Connects once, without retrying, and checks the server's version; returns it. */
export async function checkRedis(loc: RedisLocation, timeoutMs = 5000): Promise<string> {
  const client = new Redis({
    ...redisOptions(loc),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket's error (ECONNREFUSED, ENOTFOUND, auth) says more than connect()'s rejection ("Connection is closed").
  let socketError: string | undefined;
  client.on('error', (e: Error) => (socketError ??= e.message));
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0';
    if (Number(version.split('.')[0]) < MIN_REDIS_MAJOR)
      throw new RedisUnavailable(`Redis at ${loc.url} is version ${version}; BullMQ needs ${MIN_REDIS_MAJOR} or later`);
    return version;
  } catch (e) {
    if (e instanceof RedisUnavailable) throw e;
    throw new RedisUnavailable(`cannot reach Redis at ${loc.url}: ${socketError ?? (e as Error).message}`);
  } finally {
    client.disconnect();
  }
}

export interface BatchOnQueue {
  redis: RedisLocation;
  queueName: string;
  policy: QueuePolicy;
  /** Unique per run; job ids are `<batch>.<index>`. */
  batch: string;
  jobs: ConversionJobData[];
}

export interface BatchListener {
  /** A job finished for good (converted, or failed after its last attempt). */
  finished(index: number, result: ModelResult): void;
  /** Something worth a line on stderr: a retry, a stall, a lost connection. */
  event(line: string): void;
}

export interface BatchOutcome {
  /** Per job, in order; undefined when it did not finish (interrupted). */
  results: (ModelResult | undefined)[];
  /** Worker names (host:pid) that finished the jobs. */
  workers: string[];
}

const POLL_MS = 2000;

/** The report row of a job that failed before its conversion said anything (no warnings, no time). */
function bareFailure(d: ConversionJobData): ModelResult {
  return {
    source: d.source,
    rel: d.rel,
    output: join(d.outputRoot, d.rel),
    status: 'failed',
    warnings: [],
    seconds: 0,
  };
}

/** What the report shows for a job that failed for good. */
function failedResult(job: Job<ConversionJobData, ModelResult>): ModelResult {
  const d = job.data;
  const base: ModelResult = d.failedResult ?? bareFailure(d);
  // The last failure may not be a conversion error (a worker crashed or stalled too often).
  return { ...base, status: 'failed', error: job.failedReason || base.error };
}

/** A job that is no longer in Redis: the server lost its data (no AOF) or someone removed it. Waiting would never end. */
function vanishedResult(d: ConversionJobData): ModelResult {
  return {
    ...bareFailure(d),
    error:
      'the job is no longer in the queue: Redis lost it (run Redis with appendonly yes, docs/queue.md) or it was removed',
  };
}

/** Enqueues the batch and resolves when every job finished (or `signal` aborted: waiting jobs are then removed). */
export async function runBatchOnQueue(
  b: BatchOnQueue,
  listener: BatchListener,
  signal?: AbortSignal,
): Promise<BatchOutcome> {
  const connection = redisOptions(b.redis);
  const queue = new Queue<ConversionJobData, ModelResult>(b.queueName, { connection });
  const events = new QueueEvents(b.queueName, { connection });
  let lastError = '';
  const onError = (e: Error) => {
    if (e.message !== lastError) listener.event(`queue: ${e.message} (retrying)`);
    lastError = e.message;
  };
  queue.on('error', onError);
  events.on('error', onError);
  const results: (ModelResult | undefined)[] = b.jobs.map(() => undefined);
  const workers = new Set<string>();
  const pending = new Map<string, number>(b.jobs.map((_, i) => [`${b.batch}.${i}`, i]));
  let settle!: () => void;
  const allDone = new Promise<void>((r) => (settle = r));

  const check = async (id: string): Promise<void> => {
    if (!pending.has(id)) return;
    const job = await Job.fromId<ConversionJobData, ModelResult>(queue, id);
    const state = job ? await job.getState() : 'vanished';
    if (state !== 'completed' && state !== 'failed' && state !== 'vanished') return;
    if (!pending.has(id)) return;
    const i = pending.get(id)!;
    pending.delete(id);
    if (job?.processedBy) workers.add(job.processedBy);
    results[i] = !job ? vanishedResult(b.jobs[i]!) : state === 'completed' ? job.returnvalue : failedResult(job);
    listener.finished(i, results[i]!);
    if (!pending.size) settle();
  };
  const rel = (id: string) => b.jobs[pending.get(id) ?? -1]?.rel ?? id;
  events.on('completed', ({ jobId }) => void check(jobId).catch(onError));
  events.on('failed', ({ jobId, failedReason }) => {
    if (!pending.has(jobId)) return;
    listener.event(`${rel(jobId)}: attempt failed (${failedReason.slice(0, 120)})`);
    void check(jobId).catch(onError);
  });
  events.on('stalled', ({ jobId }) => {
    if (pending.has(jobId))
      listener.event(
        `${rel(jobId)}: its worker stopped renewing the job's lock (stalled); the job is back in the queue`,
      );
  });

  const onAbort = () => settle();
  signal?.addEventListener('abort', onAbort);
  let poll: NodeJS.Timeout | undefined;
  try {
    // Listening before adding: no job can finish unseen.
    await events.waitUntilReady();
    // (Interrupted before this point: nothing is added, and `settle` has run or runs below.)
    const adding = pending.size > 0 && !signal?.aborted;
    if (adding) {
      await queue.addBulk(
        b.jobs.map((data, i) => ({
          name: 'convert',
          data,
          opts: {
            jobId: `${b.batch}.${i}`,
            attempts: b.policy.attempts,
            backoff: { type: 'exponential', delay: b.policy.backoffMs },
            // Finished jobs stay a week for inspection, then Redis forgets them.
            removeOnComplete: { age: 7 * 86400 },
            removeOnFail: { age: 7 * 86400 },
          },
        })),
      );
    } else {
      if (pending.size) listener.event('interrupted before enqueuing: nothing was queued');
      settle();
    }
    let polling = false;
    poll = setInterval(() => {
      if (polling) return; // the previous sweep is still reading (a slow or restarting Redis)
      polling = true;
      void (async () => {
        for (const id of [...pending.keys()]) await check(id);
      })()
        .catch(onError)
        .finally(() => (polling = false));
    }, POLL_MS);
    await allDone;
    if (signal?.aborted && adding) {
      // Queued jobs are withdrawn; running ones are locked (remove() leaves them, returning 0)
      // and finish on their workers, their outputs valid for the next run to pick up.
      let withdrawn = 0;
      for (const id of pending.keys()) withdrawn += await queue.remove(id);
      listener.event(
        `interrupted: ${withdrawn} queued job(s) withdrawn, ${pending.size - withdrawn} running job(s) left to their workers`,
      );
    }
  } finally {
    clearInterval(poll);
    signal?.removeEventListener('abort', onAbort);
    await events.close();
    await queue.close();
  }
  return { results, workers: [...workers].sort() };
}
