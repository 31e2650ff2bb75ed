// A private Redis server for the queue tests: Debian's redis-server on a free loopback port,
// in a temporary folder, with AOF on (as docs/queue.md sets it up), stopped at the end.
// Whether redis-server exists is decided once, up front: the tests skip (naming why) without it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
/** Why the queue tests cannot run here, or undefined when they can. */
export const NO_REDIS_REASON =
  probe.status === 0 ? undefined : 'redis-server is not on PATH (apt-get install redis-server)';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** Shuts the server down (SHUTDOWN on SIGTERM: the AOF is flushed) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(p: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(log())) {
    if (p.exitCode !== null) throw new Error(`redis-server exited (${p.exitCode}): ${log()}`);
    if (Date.now() > deadline) throw new Error(`redis-server did not start: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedis(): Promise<TestRedis> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'tfjq-redis-'));
  const port = await freePort();
  let proc: ChildProcess;
  const start = async () => {
    let out = '';
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--dir', dir, '--save', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    await waitReady(proc, () => out);
  };
  const halt = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    dir,
    url: `redis://127.0.0.1:${port}/0`,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
