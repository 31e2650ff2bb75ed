// `tfjs-quant worker --queue redis://host:port[/db]`: converts the models that
// `tfjs-quant convert --queue` enqueued, on any machine that sees the same Redis and the same
// shared folder (docs/queue.md). Runs until SIGINT/SIGTERM, then finishes its running jobs
// (a second signal abandons them: the queue gives them to another worker after the lock expires).
import { parseCommand, type CommandIO, processIO } from './args.js';
import { checkRedis, RedisUnavailable } from '../queue/enqueue.js';
import {
  checkQueueName,
  checkWorkerPolicy,
  DEFAULT_WORKER_POLICY,
  parseRedisUrl,
  QueueConfigError,
} from '../queue/options.js';
import { startWorker } from '../queue/worker.js';

export const WORKER_FLAGS = {
  queue: {
    type: 'string',
    value: 'redis://HOST:PORT[/DB]',
    description: 'The Redis server holding the queue (required)',
  },
  'queue-name': {
    type: 'string',
    value: 'NAME',
    description: 'The queue (default tfjs-quant; as given to convert --queue-name)',
  },
  concurrency: {
    type: 'int',
    min: 1,
    max: 64,
    default: DEFAULT_WORKER_POLICY.concurrency,
    description: 'Models converted at once, each in its own child process',
  },
  'lock-duration': {
    type: 'int',
    min: 500,
    value: 'MS',
    default: DEFAULT_WORKER_POLICY.lockDurationMs,
    description: 'Job lock; a job whose worker died is taken again after about this long',
  },
  'stalled-interval': {
    type: 'int',
    min: 200,
    value: 'MS',
    default: DEFAULT_WORKER_POLICY.stalledIntervalMs,
    description: 'How often to look for jobs of dead workers',
  },
  'max-stalled': {
    type: 'int',
    min: 0,
    value: 'N',
    default: DEFAULT_WORKER_POLICY.maxStalledCount,
    description: 'A job stalled more often than this is failed, not re-queued',
  },
  help: { type: 'boolean', alias: 'h', description: 'Show this help' },
} as const;

const USAGE = 'tfjs-quant worker --queue redis://host:port[/db] [options]';
const DESCRIPTION = `Converts models queued by 'tfjs-quant convert --queue' until stopped (Ctrl-C or SIGTERM finishes the running jobs).
Inputs and outputs are read and written at the paths the jobs name: mount the shared folder at the same path on every machine.
Exit codes: 0 stopped cleanly, 1 Redis unreachable, 2 usage error.`;

export async function workerCommand(args: string[], io: CommandIO = processIO, signal?: AbortSignal): Promise<number> {
  const opts = parseCommand('worker', args, WORKER_FLAGS, USAGE, DESCRIPTION, io);
  if (typeof opts === 'number') return opts;
  let config;
  try {
    if (opts._.length) throw new QueueConfigError(`unexpected argument '${opts._[0]}'`);
    if (opts.queue === undefined) throw new QueueConfigError('--queue redis://host:port[/db] is required');
    config = {
      redis: parseRedisUrl(opts.queue),
      queueName: checkQueueName(opts.queueName),
      policy: checkWorkerPolicy({
        concurrency: opts.concurrency,
        lockDurationMs: opts.lockDuration,
        stalledIntervalMs: opts.stalledInterval,
        maxStalledCount: opts.maxStalled,
      }),
    };
  } catch (e) {
    if (!(e instanceof QueueConfigError)) throw e;
    io.stderr(`tfjs-quant worker: ${e.message}\n`);
    return 2;
  }
  try {
    await checkRedis(config.redis);
  } catch (e) {
    if (!(e instanceof RedisUnavailable)) throw e;
    io.stderr(`tfjs-quant worker: ${e.message}\n`);
    return 1;
  }
  const worker = startWorker(config, (line) => io.stdout(`${line}\n`));
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) {
        io.stderr('tfjs-quant worker: abandoning the running jobs\n');
        void worker.close(true).then(done);
        return;
      }
      stopping = true;
      io.stderr('tfjs-quant worker: stopping after the running jobs (signal again to abandon them)\n');
      void worker.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    signal?.addEventListener('abort', stop);
  });
  return 0;
}
