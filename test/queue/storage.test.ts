// Queued results never tear: a job stages its output privately and publishes it with one
// rename, so two workers finishing the same job leave one complete output, a failed attempt
// leaves nothing, and an output from other input bytes is replaced whole. No Redis needed:
// these call the job function itself, as a worker's child process does.
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { writeZoo } from '../support/model-zoo.js';
import { convertOne, type ConvertOptions } from '../../src/cli/convert-one.js';
import { ConversionFailed, jobDataProblem, runConversionJob, type ConversionJobData } from '../../src/queue/job.js';
import { conversionKey, inputHash } from '../../src/queue/hash.js';
import { RECORD_FILE, SharedFolderStorage, STAGE_PREFIX, type OutputRecord } from '../../src/queue/storage.js';

const OPTIONS: ConvertOptions = {
  mode: 'dynamic',
  format: 'native',
  samples: 100,
  evalSamples: 2,
  runs: 1,
  threads: 1,
};
let work: string;
let zoo: string;
const storage = new SharedFolderStorage();

async function filesOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile())
      out[e.name] = createHash('sha256')
        .update(await fs.readFile(join(dir, e.name)))
        .digest('hex');
    else out[`${e.name}/`] = 'dir';
  }
  return out;
}

const job = (outputRoot: string, rel: string, extra: Partial<ConversionJobData> = {}): ConversionJobData => ({
  storage: 'shared-folder',
  source: join(zoo, rel, 'model.json'),
  rel,
  outputRoot,
  conversionKey: conversionKey(OPTIONS),
  options: OPTIONS,
  batch: 'b1',
  ...extra,
});

beforeAll(async () => {
  await initFloatBackend();
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-queue-store-'));
  zoo = join(work, 'zoo');
  await writeZoo(zoo, { only: ['mlp/small', 'cnn/sequential'], corrupt: true });
});

describe('input hash', () => {
  it('is the sha256 of model.json then its shard, computed here from the files', async () => {
    const dir = join(zoo, 'mlp/small');
    const manifest = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8')).weightsManifest as {
      paths: string[];
    }[];
    const h = createHash('sha256').update(await fs.readFile(join(dir, 'model.json')));
    for (const g of manifest) for (const p of g.paths) h.update(await fs.readFile(join(dir, p)));
    expect(await inputHash(join(dir, 'model.json'))).toBe(h.digest('hex'));
    expect(await inputHash(join(work, 'nope/model.json'))).toBeUndefined();
  });

  it('the conversion key ignores what is only measured and follows what changes the model', () => {
    expect(conversionKey({ ...OPTIONS, evalSamples: 9, runs: 5, threads: 4 })).toBe(conversionKey(OPTIONS));
    expect(conversionKey({ ...OPTIONS, perTensor: true })).not.toBe(conversionKey(OPTIONS));
    expect(conversionKey({ ...OPTIONS, mode: 'float16' })).not.toBe(conversionKey(OPTIONS));
  });
});

describe('job data from Redis is checked before a worker acts on it', () => {
  it('accepts what convert --queue enqueues', () => {
    expect(jobDataProblem(job('/out', 'mlp/small'))).toBeUndefined();
  });
  it.each([
    [null, /not an object/],
    [{ storage: 's3' }, /unknown storage 's3'/],
    [{ source: 'zoo/model.json' }, /source must be an absolute path/],
    [{ outputRoot: 'out' }, /outputRoot must be an absolute path/],
    [{ rel: '../../etc' }, /rel '..\/..\/etc' must be a non-empty relative path/],
    [{ rel: 'a/../../b' }, /must be a non-empty relative path/],
    [{ rel: '/abs' }, /must be a non-empty relative path/],
    [{ rel: '' }, /must be a non-empty relative path/],
    [{ batch: 'a/b' }, /batch must be a plain name/],
    [{ inputHash: 'abc' }, /inputHash must be a sha256/],
    [{ options: { ...OPTIONS, mode: 'int9' } }, /options must name a mode and a format/],
  ])('refuses %j', (patch, message) => {
    expect(jobDataProblem(patch === null ? null : { ...job('/out', 'mlp/small'), ...patch })).toMatch(message);
  });
});

describe('a queued job', () => {
  it('writes exactly what a local conversion writes, plus its record', async () => {
    const local = join(work, 'local/mlp/small');
    const localResult = await convertOne(
      { source: join(zoo, 'mlp/small/model.json'), rel: 'mlp/small', output: local },
      OPTIONS,
    );
    const out = join(work, 'q1');
    const r = await runConversionJob(job(out, 'mlp/small'), storage, 1);
    expect(r.status).toBe('done');
    expect(r.output).toBe(join(out, 'mlp/small'));
    const files = await filesOf(join(out, 'mlp/small'));
    const { [RECORD_FILE]: recordHash, ...model } = files;
    expect(recordHash).toBeDefined();
    expect(model).toEqual(await filesOf(local));
    for (const k of [
      'bytesBefore',
      'bytesAfter',
      'ratio',
      'nativeCoverage',
      'fidelity',
      'sourceSha256',
      'warnings',
    ] as const)
      expect(r[k], k).toEqual(localResult[k]);
    const record = JSON.parse(await fs.readFile(join(out, 'mlp/small', RECORD_FILE), 'utf8')) as OutputRecord;
    expect(record.inputHash).toBe(await inputHash(join(zoo, 'mlp/small/model.json')));
    expect(record.result).toEqual(r);
    expect(await fs.readdir(out)).toEqual(['mlp']);
  });

  it('run twice at once (two workers after a stall) leaves one complete output and no staging folder', async () => {
    const out = join(work, 'q2');
    const [a, b] = await Promise.all([
      runConversionJob(job(out, 'cnn/sequential'), storage, 1),
      runConversionJob(job(out, 'cnn/sequential'), storage, 1),
    ]);
    expect(a.status).toBe('done');
    // Both report the output that is in place: the winner's result.
    expect(b).toEqual(a);
    const record = JSON.parse(await fs.readFile(join(out, 'cnn/sequential', RECORD_FILE), 'utf8')) as OutputRecord;
    expect(record.result).toEqual(a);
    const local = join(work, 'local/cnn/sequential');
    await convertOne({ source: join(zoo, 'cnn/sequential/model.json'), rel: 'cnn/sequential', output: local }, OPTIONS);
    const { [RECORD_FILE]: _record, ...model } = await filesOf(join(out, 'cnn/sequential'));
    expect(model).toEqual(await filesOf(local));
    expect(await fs.readdir(out)).toEqual(['cnn']);
    expect(await fs.readdir(join(out, 'cnn'))).toEqual(['sequential']);
  });

  it('finds its output already published (a job re-run after its worker died late) and converts nothing', async () => {
    const out = join(work, 'q1');
    const before = await fs.stat(join(out, 'mlp/small/model.json'));
    const first = JSON.parse(await fs.readFile(join(out, 'mlp/small', RECORD_FILE), 'utf8')) as OutputRecord;
    const r = await runConversionJob(job(out, 'mlp/small', { inputHash: first.inputHash }), storage, 1);
    expect(r).toEqual(first.result);
    expect((await fs.stat(join(out, 'mlp/small/model.json'))).mtimeMs).toBe(before.mtimeMs);
    expect(await fs.readdir(out)).toEqual(['mlp']);
  });

  it('replaces, whole, an output from other input bytes or with no record', async () => {
    const out = join(work, 'q3');
    await fs.mkdir(join(out, 'mlp/small'), { recursive: true });
    await fs.writeFile(join(out, 'mlp/small/model.json'), '{"stale": true}');
    await fs.writeFile(join(out, 'mlp/small/old-shard.bin'), 'x');
    const r = await runConversionJob(job(out, 'mlp/small'), storage, 1);
    expect(r.status).toBe('done');
    const { [RECORD_FILE]: _record, ...model } = await filesOf(join(out, 'mlp/small'));
    expect(model).toEqual(await filesOf(join(work, 'local/mlp/small')));
    // A record naming another input hash is stale too.
    const record = JSON.parse(await fs.readFile(join(out, 'mlp/small', RECORD_FILE), 'utf8')) as OutputRecord;
    await fs.writeFile(
      join(out, 'mlp/small', RECORD_FILE),
      JSON.stringify({ ...record, inputHash: '0'.repeat(64), result: { ...record.result, seconds: -1 } }),
    );
    const again = await runConversionJob(job(out, 'mlp/small', { inputHash: record.inputHash }), storage, 1);
    expect(again.seconds).toBeGreaterThan(0);
    const now = JSON.parse(await fs.readFile(join(out, 'mlp/small', RECORD_FILE), 'utf8')) as OutputRecord;
    expect(now.inputHash).toBe(record.inputHash);
    expect(await fs.readdir(out)).toEqual(['mlp']);
  });

  it("a failed conversion throws the loader's error with its result and leaves nothing behind", async () => {
    const out = join(work, 'q4');
    const d = job(out, 'broken/truncated', { inputHash: await inputHash(join(zoo, 'broken/truncated/model.json')) });
    const err = await runConversionJob(d, storage, 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConversionFailed);
    const result = (err as ConversionFailed).result;
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/weights\.bin: weight '[^']+': needs \d+ bytes .* but only \d+ remain/);
    expect(result.output).toBe(join(out, 'broken/truncated'));
    expect(existsSync(join(out, 'broken'))).toBe(false);
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('five publishers of the same output race: one complete folder in place, every staged copy gone', async () => {
    const out = join(work, 'q6');
    const src = join(work, 'q1/mlp/small');
    const record = JSON.parse(await fs.readFile(join(src, RECORD_FILE), 'utf8')) as OutputRecord;
    const staged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await storage.stage(out, 'race');
      await fs.cp(src, s, { recursive: true });
      await fs.rm(join(s, RECORD_FILE));
      staged.push(s);
    }
    const outcomes = await Promise.all(
      staged.map((s, i) =>
        storage.publish(s, out, 'mlp/small', { ...record, result: { ...record.result, seconds: i } }),
      ),
    );
    expect(outcomes.filter((o) => o.published).length).toBeGreaterThanOrEqual(1);
    const inPlace = JSON.parse(await fs.readFile(join(out, 'mlp/small', RECORD_FILE), 'utf8')) as OutputRecord;
    expect(outcomes.map((o) => o.record.result.seconds)).toContain(inPlace.result.seconds);
    expect(await filesOf(join(out, 'mlp/small'))).toEqual({
      ...(await filesOf(src)),
      [RECORD_FILE]: expect.any(String),
    });
    expect(await fs.readdir(out)).toEqual(['mlp']);
  });

  it('sweep removes the staging folders of its batch only', async () => {
    const out = join(work, 'q5');
    const mine = await storage.stage(out, 'batchA');
    const other = await storage.stage(out, 'batchB');
    await fs.mkdir(mine);
    await fs.writeFile(join(mine, 'model.json'), '{}');
    expect(await storage.sweep(out, 'batchA')).toBe(1);
    expect((await fs.readdir(out)).map((n) => n.startsWith(`${STAGE_PREFIX}batchB-`))).toEqual([true]);
    await storage.discard(other);
    expect(await fs.readdir(out)).toEqual([]);
  });
});
