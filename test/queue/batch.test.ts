// A zoo converted by three worker processes through a real Redis, with faults: one worker is
// SIGKILLed mid-job, a poisoned model fails every attempt, and Redis is restarted mid-batch.
// The batch must finish with every model converted once and nothing torn, the report must
// equal local mode's (`convert --jobs 1`) for the same inputs, and a re-run must skip what
// was converted from the same bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { writeZoo } from '../support/model-zoo.js';
import type { ModelResult } from '../../src/cli/convert-one.js';
import { RECORD_FILE } from '../../src/queue/storage.js';
import { runCli, type CliResult } from '../support/cli.js';
import { NO_REDIS_REASON, startRedis, type TestRedis } from './redis.js';

if (NO_REDIS_REASON) console.warn(`queue batch tests skipped: ${NO_REDIS_REASON}`);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../src/cli/entry.ts', import.meta.url));
const POISON = 'broken/truncated';
// Tiny measurements keep each conversion well under a second; they are the same in both modes.
const MEASURE = ['--eval-samples', '2', '--runs', '1'];

interface WorkerProc {
  proc: ChildProcess;
  lines: string[];
  name?: string;
}

/**
 * A worker in its own process group (killing the group takes its conversion child processes
 * too, like a machine dying). Short locks so a dead worker's job is taken over in seconds;
 * 3 s, not less, and two stalls allowed: a lock whose renewal falls in the Redis restart must
 * not expire meanwhile on a loaded machine.
 */
function spawnWorker(url: string, queueName: string): WorkerProc {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      ENTRY,
      'worker',
      '--queue',
      url,
      '--queue-name',
      queueName,
      '--lock-duration',
      '3000',
      '--stalled-interval',
      '500',
      '--max-stalled',
      '2',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const w: WorkerProc = { proc, lines: [] };
  let buf = '';
  const onData = (d: Buffer) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    w.lines.push(...parts);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  return w;
}

async function until(what: string, cond: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGTERM');
  await exited;
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      out.push(rel + e.name + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) await walk(join(d, e.name), rel + e.name + '/');
    }
  };
  await walk(dir, '');
  return out.sort();
}

async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await fs.readdir(dir))
    out[f] = createHash('sha256')
      .update(await fs.readFile(join(dir, f)))
      .digest('hex');
  return out;
}

const readReport = async (out: string) =>
  JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8')) as {
    models: ModelResult[];
    totals: Record<string, number>;
    meta: { jobs: number };
  };
const byRel = (models: ModelResult[]) => Object.fromEntries(models.map((m) => [m.rel, m]));
/** What a conversion produced, without what depends on where and when it ran. */
const produced = (m: ModelResult) => {
  const { source: _s, output: _o, seconds: _t, floatMs: _f, quantMs: _q, ...rest } = m;
  return rest;
};

describe.skipIf(NO_REDIS_REASON !== undefined)(
  `convert --queue with three worker processes${NO_REDIS_REASON ? ` (skipped: ${NO_REDIS_REASON})` : ''}`,
  () => {
    let redis: TestRedis;
    let work: string, zoo: string, out: string, outLocal: string;
    let rels: string[];
    const queueName = 'zoo-test';
    const workers: WorkerProc[] = [];
    let victim: WorkerProc;
    let victimRel: string;
    let batch: CliResult, local: CliResult;
    let restartedAfter = 0;

    beforeAll(async () => {
      await initFloatBackend();
      work = await fs.mkdtemp(join(tmpdir(), 'tfjq-queue-'));
      zoo = join(work, 'zoo');
      out = join(work, 'out');
      outLocal = join(work, 'out-local');
      // 13 small models (the zoo's ten and three more under extra/) and one whose shard is cut short.
      rels = [
        ...(await writeZoo(zoo, { corrupt: true })),
        ...(await writeZoo(join(zoo, 'extra'), { only: ['mlp/small', 'cnn/sequential', 'graph/convnet'] })).map(
          (r) => `extra/${r}`,
        ),
      ].sort();
      redis = await startRedis();
      for (let i = 0; i < 3; i++) workers.push(spawnWorker(redis.url, queueName));
      await until('three workers waiting for jobs', () =>
        workers.every((w) => w.lines.some((l) => / waiting for jobs /.test(l))),
      );
      for (const w of workers)
        w.name = /^worker (\S+): waiting/.exec(w.lines.find((l) => / waiting for jobs /.test(l))!)![1];

      // The local reference runs at the same time (its own process, no queue).
      const localRun = runCli(['convert', zoo, '-o', outLocal, '--jobs', '1', ...MEASURE], { timeoutMs: 170_000 });
      const batchRun = runCli(
        ['convert', zoo, '-o', out, '--queue', redis.url, '--queue-name', queueName, ...MEASURE],
        { timeoutMs: 170_000 },
      );
      // Fault 1: the first worker to start a healthy model dies with it (SIGKILL: no clean-up runs).
      await until('a worker starting a model', () =>
        workers.some((w) => w.lines.some((l) => / started (?!broken)/.test(l))),
      );
      victim = workers.find((w) => w.lines.some((l) => / started (?!broken)/.test(l)))!;
      victimRel = / started (\S+) /.exec(victim.lines.find((l) => / started (?!broken)/.test(l))!)![1]!;
      process.kill(-victim.proc.pid!, 'SIGKILL');
      // Fault 2: Redis restarts (AOF on) once a few models are done, while the rest are queued or running.
      const finishedCount = () => workers.flatMap((w) => w.lines).filter((l) => / finished /.test(l)).length;
      await until('four models finished', () => finishedCount() >= 4);
      restartedAfter = finishedCount();
      await redis.restart();
      [batch, local] = await Promise.all([batchRun, localRun]);
    }, 180_000);

    afterAll(async () => {
      await Promise.all(workers.filter((w) => w !== victim).map(stopWorker));
      await redis?.stop();
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    it('finishes the batch: every healthy model converted, the poisoned one failed, exit code 1', async () => {
      expect(batch.code, batch.stderr).toBe(1);
      expect(restartedAfter).toBeLessThan(rels.length - 1);
      const report = await readReport(out);
      expect(report.models.map((m) => m.rel)).toEqual(rels);
      for (const m of report.models)
        expect(m.status, `${m.rel}: ${m.error}`).toBe(m.rel === POISON ? 'failed' : 'done');
      expect(report.totals).toMatchObject({ models: 14, done: 13, failed: 1, skipped: 0 });
      expect(byRel(report.models)[POISON]!.error).toMatch(
        /weights\.bin: weight '[^']+': needs \d+ bytes .* but only \d+ remain/,
      );
      expect(batch.stdout).toMatch(/broken\/truncated\s+failed/);
    });

    it('leaves one complete output per model and no partial or temporary folder', async () => {
      const files = await tree(out);
      expect(files.filter((f) => /\.tmp-|tfjs-quant-tmp/.test(f))).toEqual([]);
      const modelDirs = files.filter((f) => f.endsWith('/model.json')).map((f) => f.slice(0, -'/model.json'.length));
      expect(modelDirs.sort()).toEqual(rels.filter((r) => r !== POISON));
      for (const rel of modelDirs) expect(files, rel).toContain(`${rel}/${RECORD_FILE}`);
      expect(files.some((f) => f.startsWith('broken/'))).toBe(false);
    });

    it("the killed worker's job was detected as stalled and finished by another worker: one completed job, one output", async () => {
      const others = workers.filter((w) => w !== victim);
      expect(victim.lines.some((l) => / finished /.test(l))).toBe(false);
      const finishers = others.filter((w) => w.lines.some((l) => l.includes(` finished ${victimRel} `)));
      expect(finishers.length).toBeGreaterThanOrEqual(1);
      const q = new Queue(queueName, {
        connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null },
      });
      try {
        const completed = (await q.getJobs(['completed'])).filter((j) => j.data.rel === victimRel);
        expect(completed.length).toBe(1);
        expect(completed[0]!.stalledCounter).toBeGreaterThanOrEqual(1);
        expect(finishers.map((w) => w.name)).toContain(completed[0]!.processedBy);
        // Every job of the batch is accounted for after the restart: 13 completed, 1 failed, none waiting.
        const counts = await q.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
        expect(counts).toEqual({ completed: 13, failed: 1, waiting: 0, active: 0, delayed: 0 });
        const [poison] = (await q.getJobs(['failed'])).filter((j) => j.data.rel === POISON);
        // Retried with back-off up to the bound (3 tries), then failed with the loader's message.
        expect(poison!.attemptsMade).toBe(3);
        expect(poison!.failedReason).toMatch(/needs \d+ bytes/);
      } finally {
        await q.close();
      }
      const tries = workers.flatMap((w) => w.lines).filter((l) => l.includes(` started ${POISON} `));
      // (A stall during the restart can repeat an attempt without counting it: compare the set.)
      expect([...new Set(tries.map((l) => / attempt (\d)\/3/.exec(l)![1]))].sort()).toEqual(['1', '2', '3']);
    });

    it('reports what local mode reports for the same inputs (sizes, statuses, fidelity) and writes the same bytes', async () => {
      expect(local.code, local.stderr).toBe(1);
      const queued = byRel((await readReport(out)).models);
      const locally = byRel((await readReport(outLocal)).models);
      expect(Object.keys(queued).sort()).toEqual(Object.keys(locally).sort());
      for (const rel of rels) {
        expect(produced(queued[rel]!), rel).toEqual(produced(locally[rel]!));
        if (rel === POISON) continue;
        const { [RECORD_FILE]: _record, ...files } = await fileHashes(join(out, rel));
        expect(files, rel).toEqual(await fileHashes(join(outLocal, rel)));
      }
    });

    it('a re-run skips every model converted from the same bytes and retries only the poisoned one', async () => {
      const before = Object.fromEntries(
        await Promise.all(
          rels
            .filter((r) => r !== POISON)
            .map(async (r) => [r, (await fs.stat(join(out, r, 'model.json'))).mtimeMs] as const),
        ),
      );
      const again = await runCli(
        ['convert', zoo, '-o', out, '--queue', redis.url, '--queue-name', queueName, ...MEASURE],
        { timeoutMs: 120_000 },
      );
      expect(again.code, again.stderr).toBe(1);
      expect(again.stderr).toMatch(/14 model\(s\), 1 queued .* \(13 already converted from the same input\)/);
      const report = await readReport(out);
      expect(report.totals).toMatchObject({ models: 14, done: 0, failed: 1, skipped: 13 });
      for (const r of rels.filter((x) => x !== POISON))
        expect((await fs.stat(join(out, r, 'model.json'))).mtimeMs, r).toBe(before[r]);
    }, 120_000);

    it('Ctrl-C on the coordinator withdraws the queued jobs, writes the report of what finished and exits 130', async () => {
      // A queue no worker listens to: every job is still waiting when the signal comes.
      const name = 'zoo-interrupt';
      const outInt = join(work, 'out-interrupt');
      const q = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
      try {
        let coordinator: ReturnType<typeof spawn> | undefined;
        const run = runCli(
          [
            'convert',
            join(zoo, 'mlp'),
            join(zoo, 'cnn'),
            '-o',
            outInt,
            '--queue',
            redis.url,
            '--queue-name',
            name,
            ...MEASURE,
          ],
          {
            timeoutMs: 60_000,
            onSpawn: (p) => (coordinator = p),
          },
        );
        // Interrupt once the four jobs are in Redis, waiting.
        let waiting = 0;
        const deadline = Date.now() + 30_000;
        while ((waiting = (await q.getJobCounts('waiting')).waiting!) < 4 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect(waiting).toBe(4);
        coordinator!.kill('SIGINT');
        const r = await run;
        expect(r.code, r.stderr).toBe(130);
        expect(r.stderr).toMatch(/interrupted: 4 queued job\(s\) withdrawn, 0 running job\(s\) left to their workers/);
        expect((await readReport(outInt)).totals).toMatchObject({ models: 0, done: 0, failed: 0 });
        expect(await q.getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed')).toEqual({
          waiting: 0,
          delayed: 0,
          active: 0,
          completed: 0,
          failed: 0,
        });
      } finally {
        await q.close();
      }
    });

    it('the surviving workers stop cleanly on SIGTERM (exit code 0)', async () => {
      const alive = workers.filter((w) => w !== victim);
      await Promise.all(alive.map(stopWorker));
      expect(alive.map((w) => w.proc.exitCode)).toEqual([0, 0]);
      expect(victim.proc.signalCode).toBe('SIGKILL');
    });
  },
);
