// bench/zoo queue row: the zoo (writeZoo, 10 valid models) converted by `convert --jobs 1|2`
// and by `convert --queue` with 1 and 2 worker processes (concurrency 1 each) on a private
// redis-server (AOF on), as a user runs them (spawned CLI processes). Configurations are
// alternated round by round; per configuration: wall time (median, min–max), and for the
// queue the overhead per model against local mode, in wall time (same number of lanes) and in
// CPU time (convert process + worker process trees, from /usr/bin/time and /proc: robust on a
// loaded machine), plus what BullMQ's own timestamps say a job costs beyond its conversion.
// Workers are started fresh each round ("cold": their conversion child process starts on the
// first job, as local mode's worker threads load tfjs) and then reused for a second batch
// ("warm"). Usage: tsx bench/zoo/queue.ts [rounds=3]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { describeFloatBackend, initFloatBackend } from '../../src/backend/float.js';
import { writeZoo } from '../../test/support/model-zoo.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { toMarkdown, type Table } from '../../src/report/table.js';
import type { BatchReport } from '../../src/report/batch.js';
import type { ModelResult } from '../../src/cli/convert-one.js';
import { NO_REDIS_REASON, startRedis } from '../../test/queue/redis.js';

if (NO_REDIS_REASON) {
  console.error(`bench/zoo/queue: ${NO_REDIS_REASON}`);
  process.exit(2);
}
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = 'src/cli/entry.ts';
const rounds = Number(process.argv[2] ?? 3);
const MEASURE = ['--eval-samples', '32', '--runs', '20'];
const backend = await initFloatBackend();
const work = mkdtempSync(join(tmpdir(), 'tfjq-zoo-queue-'));
const zoo = join(work, 'zoo');
const models = (await writeZoo(zoo)).length;
const redis = await startRedis();
let outN = 0;

/** One convert run as a user runs it, under /usr/bin/time for its CPU seconds (its worker threads included). */
function convert(extra: string[]): { wall: number; cpu: number; report: BatchReport } {
  const out = join(work, `out-${outN++}`);
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', 'CPU %U %S', process.execPath, '--import', 'tsx', ENTRY, 'convert', zoo, '-o', out, ...MEASURE, ...extra],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0)
    throw new Error(
      `convert ${extra.join(' ')} exited ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}: ${r.stderr}`,
    );
  const [, user, sys] = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr)!;
  return {
    wall,
    cpu: Number(user) + Number(sys),
    report: JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BatchReport,
  };
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU seconds of a process and its descendants so far (live ones from /proc, exited ones as the parent's cutime/cstime). */
function treeCpu(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // exited between listing and reading: counted in its parent's cutime once reaped
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14–17 of proc(5) (utime, stime, cutime, cstime) are at 11–14 after the command name.
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    children = [];
  }
  return ticks / TICKS + children.reduce((a, c) => a + treeCpu(c), 0);
}

const running = new Set<ChildProcess>();
async function startWorkers(n: number, queueName: string): Promise<ChildProcess[]> {
  const procs: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', ENTRY, 'worker', '--queue', redis.url, '--queue-name', queueName],
      {
        cwd: ROOT,
        env: { ...process.env, CI: '1' },
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      },
    );
    procs.push(p);
    running.add(p);
    ready.push(
      new Promise((resolve) => {
        let text = '';
        p.stdout!.on('data', (d) => {
          text += d;
          if (/waiting for jobs/.test(text)) resolve();
        });
      }),
    );
  }
  await Promise.all(ready);
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise((r) => {
          p.once('exit', r);
          p.kill('SIGTERM');
        }),
    ),
  );
  for (const p of procs) running.delete(p);
}

/** Per job of the last batch: finishedOn − processedOn − the conversion's own seconds (dispatch to the child, record check, publish, bookkeeping). */
async function jobOverheadsMs(queueName: string, seen: Set<string>): Promise<number[]> {
  const q = new Queue(queueName, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
  const jobs = (await q.getJobs(['completed'])).filter((j) => !seen.has(j.id!));
  await q.close();
  for (const j of jobs) seen.add(j.id!);
  return jobs.map((j) => j.finishedOn! - j.processedOn! - 1000 * (j.returnvalue as ModelResult).seconds);
}

type Config = 'local --jobs 1' | 'local --jobs 2' | `queue, ${'1 worker' | '2 workers'}, ${'cold' | 'warm'}`;
const walls = new Map<Config, number[]>();
const cpus = new Map<Config, number[]>();
const overheads = new Map<Config, number[]>();
const add = <T>(m: Map<Config, T[]>, k: Config, v: T[]) => m.set(k, [...(m.get(k) ?? []), ...v]);

try {
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so drift in the machine's load does not favour one side.
    const order = round % 2 === 0 ? ['local', 'queue'] : ['queue', 'local'];
    for (const side of order) {
      if (side === 'local') {
        for (const jobs of [1, 2] as const) {
          const r = convert(['--jobs', String(jobs)]);
          add(walls, `local --jobs ${jobs}`, [r.wall]);
          add(cpus, `local --jobs ${jobs}`, [r.cpu]);
        }
        continue;
      }
      for (const n of [1, 2] as const) {
        const name = `bench-${round}-${n}`;
        const procs = await startWorkers(n, name);
        const seen = new Set<string>();
        // The same workers take a cold batch, then a warm one (into a fresh output folder).
        for (const phase of ['cold', 'warm'] as const) {
          const k: Config = `queue, ${n === 1 ? '1 worker' : '2 workers'}, ${phase}`;
          const before = procs.reduce((a, p) => a + treeCpu(p.pid!), 0);
          const r = convert(['--queue', redis.url, '--queue-name', name]);
          add(walls, k, [r.wall]);
          add(cpus, k, [r.cpu + procs.reduce((a, p) => a + treeCpu(p.pid!), 0) - before]);
          add(overheads, k, await jobOverheadsMs(name, seen));
        }
        await stopWorkers(procs);
      }
    }
    console.error(`round ${round + 1}/${rounds} done`);
  }
} catch (e) {
  // Printed here: tfjs-backend-wasm's uncaughtException handler would bury it (and skip the clean-up).
  console.error((e as Error).stack ?? String(e));
  process.exitCode = 1;
} finally {
  // A failed run leaves no worker or Redis behind.
  await stopWorkers([...running]);
  if (process.exitCode) await redis.stop();
}
if (process.exitCode) process.exit();

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const spread = (v: number[]) => `${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)}`;
const reference = (k: Config) => (k.includes('2 workers') ? 'local --jobs 2' : 'local --jobs 1');
interface Row {
  config: Config;
}
const table: Table<Row> = {
  columns: [
    { header: 'configuration', value: (r) => r.config },
    { header: 'wall s (median)', value: (r) => median(walls.get(r.config)!).toFixed(1), align: 'right' },
    { header: 'wall s (min–max)', value: (r) => spread(walls.get(r.config)!), align: 'right' },
    {
      header: 'wall overhead per model vs local, same lanes',
      align: 'right',
      value: (r) =>
        r.config.startsWith('local')
          ? '—'
          : `${(((median(walls.get(r.config)!) - median(walls.get(reference(r.config))!)) / models) * 1000).toFixed(0)} ms`,
    },
    {
      header: 'CPU s (median; convert + workers)',
      value: (r) => median(cpus.get(r.config)!).toFixed(1),
      align: 'right',
    },
    {
      header: 'CPU overhead per model vs local --jobs 1',
      align: 'right',
      value: (r) =>
        r.config.startsWith('local')
          ? '—'
          : `${(((median(cpus.get(r.config)!) - median(cpus.get('local --jobs 1')!)) / models) * 1000).toFixed(0)} ms`,
    },
    {
      header: 'job cost beyond conversion (median, p90)',
      align: 'right',
      value: (r) => {
        const o = overheads.get(r.config);
        if (!o) return '—';
        const s = [...o].sort((a, b) => a - b);
        return `${median(s).toFixed(0)} ms, ${s[Math.floor(0.9 * (s.length - 1))]!.toFixed(0)} ms`;
      },
    },
  ],
  rows: [...walls.keys()].map((config) => ({ config })),
};
const info = cpuInfo();
console.log(
  `${models} models (bench/zoo's zoo, no corrupt one), ${MEASURE.join(' ')}; ${rounds} round(s), configurations alternated; ${info.brand || info.vendor}, ${info.availableCores} cores, int8 path ${getIsa()}; float baseline ${describeFloatBackend(backend)}; Redis ${spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2]} (AOF on, loopback); load average at the end ${loadavg()
    .map((v) => v.toFixed(1))
    .join(', ')}\n`,
);
console.log(toMarkdown(table));
await redis.stop();
rmSync(work, { recursive: true, force: true });
