// The queue's settings: Redis URLs, queue names and worker policies, parsed into plain objects
// or refused with a message naming what is wrong; and the CLI's usage errors (exit 2).
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkQueueName,
  checkWorkerPolicy,
  DEFAULT_WORKER_POLICY,
  parseRedisUrl,
  QueueConfigError,
} from '../../src/queue/options.js';
import { main } from '../../src/cli/main.js';
import { initFloatBackend } from '../../src/backend/float.js';
import { writeZoo } from '../support/model-zoo.js';

let zoo: string;
beforeAll(async () => {
  await initFloatBackend();
  zoo = join(await fs.mkdtemp(join(tmpdir(), 'tfjq-queue-opts-')), 'zoo');
  await writeZoo(zoo, { only: ['mlp/small'] });
});

describe('parseRedisUrl', () => {
  it.each([
    ['redis://127.0.0.1:6390/2', { host: '127.0.0.1', port: 6390, db: 2, url: 'redis://127.0.0.1:6390/2' }],
    ['redis://cache.local', { host: 'cache.local', port: 6379, db: 0, url: 'redis://cache.local/0' }],
    ['redis://cache.local:7000/', { host: 'cache.local', port: 7000, db: 0, url: 'redis://cache.local:7000/0' }],
    ['redis://[::1]:6380/1', { host: '::1', port: 6380, db: 1, url: 'redis://[::1]:6380/1' }],
    [
      'redis://user:p%40ss@h:1/3',
      { host: 'h', port: 1, db: 3, url: 'redis://h:1/3', username: 'user', password: 'p@ss' },
    ],
  ])('%s', (text, expected) => {
    expect(parseRedisUrl(text)).toEqual(expected);
  });

  it('never echoes a password back in the printable URL', () => {
    expect(parseRedisUrl('redis://:secret@h:1/0').url).not.toMatch(/secret/);
  });

  it.each([
    ['', /needs a Redis URL/],
    ['localhost:6379', /must start with redis:\/\//],
    ['http://h:6379', /must start with redis:\/\/ \(got http:\/\/\)/],
    ['redis://h:6379/x', /the path must be a database number, got '\/x'/],
    ['redis://h:6379/16', /database 16 is out of range/],
    ['redis://h:6379/0?timeout=1', /query strings/],
    ['not a url', /not a URL/],
  ])('refuses %j', (text, message) => {
    expect(() => parseRedisUrl(text)).toThrow(QueueConfigError);
    expect(() => parseRedisUrl(text)).toThrow(message);
  });
});

describe('checkQueueName', () => {
  it('defaults to tfjs-quant and keeps a valid name', () => {
    expect(checkQueueName(undefined)).toBe('tfjs-quant');
    expect(checkQueueName('zoo_v2.night-run')).toBe('zoo_v2.night-run');
  });
  it.each(['a:b', '', '-lead', 'x'.repeat(101), 'sp ace'])('refuses %j (BullMQ key separator, shape)', (name) => {
    expect(() => checkQueueName(name)).toThrow(/--queue-name '.*' must be 1–100 letters/);
  });
});

describe('checkWorkerPolicy', () => {
  it('fills the defaults and keeps what was given', () => {
    expect(checkWorkerPolicy({})).toEqual(DEFAULT_WORKER_POLICY);
    expect(checkWorkerPolicy({ concurrency: 3, lockDurationMs: 1500, stalledIntervalMs: undefined })).toEqual({
      ...DEFAULT_WORKER_POLICY,
      concurrency: 3,
      lockDurationMs: 1500,
    });
  });
  it.each([
    [{ concurrency: 0 }, /--concurrency must be an integer in \[1, 64\], got 0/],
    [{ lockDurationMs: 10 }, /--lock-duration must be at least 500 ms, got 10/],
    [{ stalledIntervalMs: 1.5 }, /--stalled-interval must be at least 200 ms, got 1.5/],
    [{ maxStalledCount: -1 }, /--max-stalled must be a non-negative integer, got -1/],
  ])('refuses %j', (p, message) => {
    expect(() => checkWorkerPolicy(p)).toThrow(message);
  });
});

describe('CLI usage errors exit 2 before touching Redis', () => {
  const run = async (args: string[]) => {
    const err: string[] = [];
    const code = await main(args, { stdout: () => undefined, stderr: (s) => err.push(s) });
    return { code, err: err.join('') };
  };
  it.each([
    [['worker'], /tfjs-quant worker: --queue redis:\/\/host:port\[\/db\] is required/],
    [['worker', '--queue', 'localhost:6379'], /tfjs-quant worker: --queue 'localhost:6379' must start with redis:\/\//],
    [['worker', '--queue', 'redis://h', '--queue-name', 'a:b'], /--queue-name 'a:b' must be/],
    [['worker', '--queue', 'redis://h', '--concurrency', '0'], /--concurrency must be in \[1, 64\], got 0/],
    [['worker', '--queue', 'redis://h', 'stray'], /unexpected argument 'stray'/],
    [['convert', 'ZOO', '-o', 'OUT', '--queue-name', 'q'], /tfjs-quant convert: --queue-name needs --queue/],
    [['convert', 'ZOO', '-o', 'OUT', '--queue', 'redis://h', '--fail-fast'], /--fail-fast does not apply to --queue/],
    [['convert', 'ZOO', '-o', 'OUT', '--queue', 'redis://h:99999'], /tfjs-quant convert: --queue 'redis:\/\/h:99999'/],
    [
      ['convert', 'ZOO/mlp/small', '-o', 'OUT', '--queue', 'redis://h'],
      /would be written to the output root itself; with --queue each model needs its own folder/,
    ],
  ])('%j', async (args, message) => {
    const r = await run(args.map((a) => a.replace('ZOO', zoo).replace('OUT', join(zoo, '..', 'out'))));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('an unreachable Redis is named and exits 1 (the worker never starts)', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const r = await run(['worker', '--queue', 'redis://127.0.0.1:1/0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1\/0: .*ECONNREFUSED/);
  });
});
