// `tfjs-quant serve <model-dir|config.json>`: TF Serving's REST API over native sessions with
// dynamic batching (docs/serving.md). Runs until SIGTERM / SIGINT, then drains and exits.
// Exit codes: 0 stopped by SIGTERM after draining, 1 the server could not start, 2 usage error.
import { parseCommand, processIO, type CommandIO } from './args.js';
import { createServer, exitOnSignals, SERVE_DEFAULTS } from '../serve/index.js';

export const SERVE_FLAGS = {
  port: { type: 'int', min: 0, max: 65535, default: SERVE_DEFAULTS.port, description: 'TCP port (0: any free port)' },
  host: { type: 'string', default: SERVE_DEFAULTS.host, value: 'ADDR', description: 'Address to listen on' },
  name: {
    type: 'string',
    value: 'NAME',
    description: 'Model name for a model directory (default: the directory name)',
  },
  threads: {
    type: 'int',
    min: 1,
    max: 256,
    description: 'Threads per model version, shared by its sessions (default: the native pool size)',
  },
  'max-batch': {
    type: 'int',
    min: 1,
    max: 4096,
    default: SERVE_DEFAULTS.maxBatch,
    description: 'Rows per batch (1: no batching)',
  },
  'batch-timeout-ms': {
    type: 'number',
    min: 0,
    max: 60000,
    default: SERVE_DEFAULTS.batchTimeoutMs,
    description: 'Longest wait of the oldest queued request for its batch to fill',
  },
  sessions: {
    type: 'int',
    min: 1,
    max: 64,
    default: SERVE_DEFAULTS.sessions,
    description: 'Sessions per model version, each running one batch at a time',
  },
  'max-queue': {
    type: 'int',
    min: 1,
    max: 1 << 20,
    default: SERVE_DEFAULTS.maxQueue,
    description: 'Waiting requests per model version before 429',
  },
  'body-limit': {
    type: 'int',
    min: 1024,
    max: 2 ** 31 - 1,
    default: SERVE_DEFAULTS.bodyLimit,
    value: 'BYTES',
    description: 'Largest request body',
  },
  'poll-ms': {
    type: 'int',
    min: 0,
    max: 3_600_000,
    default: SERVE_DEFAULTS.pollIntervalMs,
    description: 'Rescan version directories every N ms (0: never)',
  },
  'log-level': {
    type: 'string',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: SERVE_DEFAULTS.logLevel,
    description: 'Request log level',
  },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

export async function serveCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  const opts = parseCommand(
    'serve',
    args,
    SERVE_FLAGS,
    'tfjs-quant serve <model-dir|config.json> [options]',
    "Serves models over TF Serving's REST API (/v1/models/<name>:predict, metadata, status), with dynamic batching,\n" +
      'hot reload of new version directories, /healthz, /readyz and Prometheus /metrics. Stops cleanly on SIGTERM.',
    io,
  );
  if (typeof opts === 'number') return opts;
  if (opts._.length !== 1) {
    io.stderr('tfjs-quant serve: expected one model directory or config file\n');
    return 2;
  }
  let server;
  try {
    server = await createServer({
      model: opts._[0]!,
      name: opts.name,
      host: opts.host,
      port: opts.port,
      threads: opts.threads,
      maxBatch: opts.maxBatch,
      batchTimeoutMs: opts.batchTimeoutMs,
      sessions: opts.sessions,
      maxQueue: opts.maxQueue,
      bodyLimit: opts.bodyLimit,
      pollIntervalMs: opts.pollMs,
      logLevel: opts.logLevel === 'silent' ? false : (opts.logLevel as 'info'),
    });
    const url = await server.listen();
    io.stdout(
      `tfjs-quant serve: listening on ${url} (models: ${server.options.models.map((m) => m.name).join(', ')})\n`,
    );
  } catch (e) {
    io.stderr(`tfjs-quant serve: ${(e as Error).message}\n`);
    await server?.close().catch(() => undefined);
    return 1;
  }
  // Runs until a signal: exitOnSignals ends the process once the server has drained.
  exitOnSignals(server);
  return new Promise<number>(() => undefined);
}
