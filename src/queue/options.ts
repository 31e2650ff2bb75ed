// The queue's settings as one plain object: where Redis is (`redis://host:port[/db]`), the
// queue's name, and the retry and stall-detection policy. Parsed and checked here, once, so
// the coordinator (`convert --queue`), the workers (`worker`) and the tests agree on them.

/** A setting the user gave is wrong (the CLI reports it as a usage error, exit code 2). */
export class QueueConfigError extends Error {
  override name = 'QueueConfigError';
}

export interface RedisLocation {
  host: string;
  port: number;
  db: number;
  /** The location as the user would write it back (no password). */
  url: string;
  username?: string;
  password?: string;
}

export interface QueuePolicy {
  /** Tries per model before it is reported failed (the first try included). */
  attempts: number;
  /** Exponential back-off between tries: `backoffMs × 2^(try − 1)`. */
  backoffMs: number;
}

export interface WorkerPolicy {
  /** Jobs one worker process runs at once (each in its own child process). */
  concurrency: number;
  /** A running job's lock lasts this long unless its worker renews it (every half of it). */
  lockDurationMs: number;
  /** How often each worker looks for jobs whose lock expired (their worker died). */
  stalledIntervalMs: number;
  /** A job found stalled more often than this is failed instead of re-queued. */
  maxStalledCount: number;
}

export const DEFAULT_QUEUE_NAME = 'tfjs-quant';

export const DEFAULT_QUEUE_POLICY: QueuePolicy = { attempts: 3, backoffMs: 1000 };

// 30 s: a lock is renewed by the worker's main process, whose event loop stays free because
// conversions run in child processes, so a long conversion never looks stalled; a dead worker's
// job is picked up again within lockDuration + stalledInterval (about a minute).
export const DEFAULT_WORKER_POLICY: WorkerPolicy = {
  concurrency: 1,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 1,
};

/** Parses `redis://[user:password@]host[:port][/db]` (port 6379 and db 0 by default). */
export function parseRedisUrl(text: string): RedisLocation {
  if (typeof text !== 'string' || text.trim() === '')
    throw new QueueConfigError('--queue needs a Redis URL, e.g. redis://127.0.0.1:6379/0');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new QueueConfigError(`--queue '${text}' is not a URL; expected redis://host:port[/db]`);
  }
  if (u.protocol !== 'redis:')
    throw new QueueConfigError(`--queue '${text}' must start with redis:// (got ${u.protocol}//)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new QueueConfigError(`--queue '${text}' names no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new QueueConfigError(`--queue '${text}': port must be in [1, 65535]`);
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path))
    throw new QueueConfigError(`--queue '${text}': the path must be a database number, got '/${path}'`);
  const db = path === '' ? 0 : Number(path);
  if (db > 15) throw new QueueConfigError(`--queue '${text}': database ${db} is out of range [0, 15] (Redis' default)`);
  if (u.search || u.hash)
    throw new QueueConfigError(`--queue '${text}': query strings and fragments are not supported`);
  const loc: RedisLocation = { host, port, db, url: `redis://${u.host}/${db}` };
  if (u.username) loc.username = decodeURIComponent(u.username);
  if (u.password) loc.password = decodeURIComponent(u.password);
  return loc;
}

/** BullMQ prefixes its keys with the name and uses ':' as the separator, so the name cannot hold one. */
export function checkQueueName(name: string | undefined): string {
  const n = name ?? DEFAULT_QUEUE_NAME;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(n)) {
    throw new QueueConfigError(
      `--queue-name '${n}' must be 1–100 letters, digits, '.', '_' or '-' (starting with a letter or digit)`,
    );
  }
  return n;
}

export function checkWorkerPolicy(p: Partial<WorkerPolicy>): WorkerPolicy {
  const w = {
    ...DEFAULT_WORKER_POLICY,
    ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)),
  } as WorkerPolicy;
  if (!Number.isInteger(w.concurrency) || w.concurrency < 1 || w.concurrency > 64)
    throw new QueueConfigError(`--concurrency must be an integer in [1, 64], got ${w.concurrency}`);
  if (!Number.isInteger(w.lockDurationMs) || w.lockDurationMs < 500)
    throw new QueueConfigError(`--lock-duration must be at least 500 ms, got ${w.lockDurationMs}`);
  if (!Number.isInteger(w.stalledIntervalMs) || w.stalledIntervalMs < 200)
    throw new QueueConfigError(`--stalled-interval must be at least 200 ms, got ${w.stalledIntervalMs}`);
  if (!Number.isInteger(w.maxStalledCount) || w.maxStalledCount < 0)
    throw new QueueConfigError(`--max-stalled must be a non-negative integer, got ${w.maxStalledCount}`);
  return w;
}

/** ioredis options for a location; every connection waits for Redis to come back rather than failing a command. */
export function redisOptions(loc: RedisLocation): {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: null;
} {
  return {
    host: loc.host,
    port: loc.port,
    db: loc.db,
    username: loc.username,
    password: loc.password,
    maxRetriesPerRequest: null,
  };
}
