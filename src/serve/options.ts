// Server options: validated once, up front, into a plain object the rest of src/serve reads.
// A model source is a model directory (numbered version subdirectories, TF Serving's layout
// `models/<name>/<version>/model.json`, or a model.json directly) or a JSON config file
// naming several models: {"models": {"<name>": "<dir>" | {"path": "<dir>", "labels": {"<label>": <version>}}}}.
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { getThreads } from '../native/cpu.js';

export interface ModelConfigEntry {
  path: string;
  /** Version labels (TF Serving's version_labels): label → version number. */
  labels?: Record<string, number>;
}

export interface ServeOptions {
  /** A model directory or a JSON config file (see above). Give this or `models`. */
  model?: string;
  /** name → model directory (or {path, labels}); relative paths resolve against the working directory. */
  models?: Record<string, string | ModelConfigEntry>;
  /** Name of the model given by `model` as a directory (default: the directory's name). */
  name?: string;
  /** Default '127.0.0.1' (loopback: exposing a server is the user's decision). */
  host?: string;
  /** Default 8501 (TF Serving's REST port); 0 picks a free port. */
  port?: number;
  /** Threads per model version, shared by its sessions (default: the native pool size). */
  threads?: number;
  /** Rows per batch (default 32); 1 turns batching off. */
  maxBatch?: number;
  /** How long the oldest queued request waits for a batch to fill (default 2 ms). */
  batchTimeoutMs?: number;
  /** Sessions per model version, each running one batch at a time (default 1). */
  sessions?: number;
  /** Requests waiting per model version before answering 429 (default 1024). */
  maxQueue?: number;
  /** Largest request body in bytes (default 64 MiB). */
  bodyLimit?: number;
  /** How often version directories are rescanned for new versions (default 1000 ms; 0: never). */
  pollIntervalMs?: number;
  /** Longest wait for in-flight requests on close / SIGTERM (default 30000 ms). */
  shutdownTimeoutMs?: number;
  /** pino log level, or false for no request log (default 'info'). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | false;
}

export interface ModelSourceConfig {
  name: string;
  /** Absolute path of the model's base directory. */
  path: string;
  labels: Record<string, number>;
}

export interface ResolvedServeOptions {
  models: ModelSourceConfig[];
  host: string;
  port: number;
  threads: number;
  maxBatch: number;
  batchTimeoutMs: number;
  sessions: number;
  maxQueue: number;
  bodyLimit: number;
  pollIntervalMs: number;
  shutdownTimeoutMs: number;
  logLevel: NonNullable<ServeOptions['logLevel']>;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8501,
  maxBatch: 32,
  batchTimeoutMs: 2,
  sessions: 1,
  maxQueue: 1024,
  bodyLimit: 64 * 1024 * 1024,
  pollIntervalMs: 1000,
  shutdownTimeoutMs: 30_000,
  logLevel: 'info',
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

function int(v: unknown, what: string, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new RangeError(`${what} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

function num(v: unknown, what: string, lo: number, hi: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    throw new RangeError(`${what} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

function modelName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new RangeError(
      `${where}: model name '${String(name)}' must be letters, digits, '_', '.' or '-' (not starting with a punctuation mark)`,
    );
  return name;
}

function entry(name: string, v: unknown, base: string, where: string): ModelSourceConfig {
  const e = typeof v === 'string' ? { path: v } : v;
  if (
    !e ||
    typeof e !== 'object' ||
    typeof (e as ModelConfigEntry).path !== 'string' ||
    (e as ModelConfigEntry).path === ''
  ) {
    throw new TypeError(`${where}: model '${name}' must be a directory path or {path, labels}`);
  }
  const { path, labels = {} } = e as ModelConfigEntry;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels))
    throw new TypeError(`${where}: model '${name}': labels must be an object label → version`);
  for (const [l, ver] of Object.entries(labels)) {
    if (!NAME.test(l))
      throw new RangeError(`${where}: model '${name}': label '${l}' must be letters, digits, '_', '.' or '-'`);
    if (typeof ver !== 'number' || !Number.isSafeInteger(ver) || ver < 0)
      throw new RangeError(
        `${where}: model '${name}': label '${l}' must name a version number, got ${JSON.stringify(ver)}`,
      );
  }
  return { name, path: isAbsolute(path) ? path : resolve(base, path), labels: { ...labels } };
}

/** Reads a model config file: {"models": {name: dir | {path, labels}}}; paths relative to the file. */
export async function readModelConfig(file: string): Promise<ModelSourceConfig[]> {
  let json: unknown;
  const text = await fs.readFile(file, 'utf8');
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const models = (json as { models?: unknown })?.models;
  if (!models || typeof models !== 'object' || Array.isArray(models))
    throw new TypeError(`${file}: expected {"models": {"<name>": "<dir>", …}}`);
  const out = Object.entries(models as Record<string, unknown>).map(([k, v]) =>
    entry(modelName(k, file), v, dirname(resolve(file)), file),
  );
  if (!out.length) throw new RangeError(`${file}: "models" names no model`);
  return out;
}

/** Validates every option, reads the config file if `model` is one, fills the defaults. */
export async function resolveServeOptions(o: ServeOptions): Promise<ResolvedServeOptions> {
  if (!o || typeof o !== 'object') throw new TypeError('options must be an object');
  let models: ModelSourceConfig[];
  if ((o.model === undefined) === (o.models === undefined))
    throw new TypeError('give exactly one of options.model (a directory or config file) and options.models');
  if (o.model !== undefined) {
    if (typeof o.model !== 'string' || o.model === '') throw new TypeError('options.model must be a non-empty path');
    const path = resolve(o.model);
    const st = await fs.stat(path).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`options.model: cannot read ${path} (${e.code ?? e.message})`);
    });
    if (st.isDirectory()) models = [{ name: modelName(o.name ?? basename(path), 'options.name'), path, labels: {} }];
    else {
      if (o.name !== undefined)
        throw new TypeError(
          'options.name applies to a model directory, not to a config file (the file names its models)',
        );
      models = await readModelConfig(path);
    }
  } else {
    if (!o.models || typeof o.models !== 'object' || Array.isArray(o.models))
      throw new TypeError('options.models must be an object name → directory');
    models = Object.entries(o.models).map(([k, v]) =>
      entry(modelName(k, 'options.models'), v, process.cwd(), 'options.models'),
    );
    if (!models.length) throw new RangeError('options.models names no model');
  }
  const sessions = int(o.sessions, 'options.sessions', 1, 64, SERVE_DEFAULTS.sessions);
  const threads = int(o.threads, 'options.threads', 1, 256, Math.max(getThreads(), 1));
  // Each session takes at least one thread of the model's share: more sessions than threads
  // would only queue on the native pool and multiply the packed weights for nothing.
  if (sessions > threads)
    throw new RangeError(
      `options.sessions (${sessions}) must not exceed options.threads (${threads}): each session runs on at least one thread`,
    );
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === ''))
    throw new TypeError('options.host must be a non-empty string');
  const logLevel = o.logLevel ?? SERVE_DEFAULTS.logLevel;
  if (logLevel !== false && !LEVELS.includes(logLevel))
    throw new RangeError(`options.logLevel must be one of ${LEVELS.join(', ')} or false, got ${String(logLevel)}`);
  return {
    models,
    host: o.host ?? SERVE_DEFAULTS.host,
    port: int(o.port, 'options.port', 0, 65535, SERVE_DEFAULTS.port),
    threads,
    maxBatch: int(o.maxBatch, 'options.maxBatch', 1, 4096, SERVE_DEFAULTS.maxBatch),
    batchTimeoutMs: num(o.batchTimeoutMs, 'options.batchTimeoutMs', 0, 60_000, SERVE_DEFAULTS.batchTimeoutMs),
    sessions,
    maxQueue: int(o.maxQueue, 'options.maxQueue', 1, 1 << 20, SERVE_DEFAULTS.maxQueue),
    bodyLimit: int(o.bodyLimit, 'options.bodyLimit', 1024, 2 ** 31 - 1, SERVE_DEFAULTS.bodyLimit),
    pollIntervalMs: int(o.pollIntervalMs, 'options.pollIntervalMs', 0, 3_600_000, SERVE_DEFAULTS.pollIntervalMs),
    shutdownTimeoutMs: int(
      o.shutdownTimeoutMs,
      'options.shutdownTimeoutMs',
      0,
      3_600_000,
      SERVE_DEFAULTS.shutdownTimeoutMs,
    ),
    logLevel,
  };
}
