// Versions coming and going while the server answers: a new version directory is picked up
// under load with zero failed requests (the old version drains, then unloads), a broken new
// version leaves the old one serving, and SIGTERM stops a spawned `tfjs-quant serve` cleanly:
// the in-flight requests are answered and the process exits 0.
import { spawn } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { createServer, type TfjsQuantServer } from '../../src/serve/index.js';
import { http, mlpGraphs, mlpRows, ModelTree, sameValues, MLP_FEATURES, type MlpGraphs } from './fixtures.js';

let tree: ModelTree;
let v1: MlpGraphs;
let v2: MlpGraphs;
const ROWS = mlpRows(2, 900);
let want1: Float32Array;
let want2: Float32Array;

async function answerOf(g: MlpGraphs['int8']): Promise<Float32Array> {
  const s = await InferenceSession.create(g);
  try {
    return Object.values(
      await s.run({
        [s.inputs[0]!.name]: { data: Float32Array.from(ROWS.flat()), shape: [ROWS.length, MLP_FEATURES] },
      }),
    )[0]!.data as Float32Array;
  } finally {
    s.dispose();
  }
}

const equal = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

/** Waits (bounded: at most `tries` × 10 ms) until `cond` resolves true. */
async function until(cond: () => boolean | Promise<boolean>, what: string, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await initFloatBackend();
  v1 = await mlpGraphs(21);
  v2 = await mlpGraphs(22);
  want1 = await answerOf(v1.int8);
  want2 = await answerOf(v2.int8);
  expect(equal(want1, want2)).toBe(false);
  tree = await ModelTree.create();
  await tree.write('mlp', 1, v1.int8);
  await tree.write('steady', 1, v1.int8);
});

afterAll(async () => {
  await tree?.dispose();
});

describe('serve: versions while serving, and shutdown', () => {
  it('hot reload under load: the new version takes over, the old one drains and unloads, zero failed requests', async () => {
    const server: TfjsQuantServer = await createServer({
      model: tree.dir('mlp'),
      port: 0,
      logLevel: false,
      pollIntervalMs: 20,
      maxBatch: 8,
      batchTimeoutMs: 1,
    });
    try {
      const url = await server.listen();
      const body = JSON.stringify({ instances: ROWS });
      let stop = false;
      const failures: string[] = [];
      let answered = 0,
        fromV2 = 0;
      // 4 clients, each sequential; every loop ends by itself (stop flag, or 2000 requests).
      const client = async (id: number): Promise<void> => {
        let sawV2 = false;
        for (let n = 0; n < 2000 && !stop; n++) {
          const r = await http(`${url}/v1/models/mlp:predict`, 'POST', body);
          if (r.status !== 200) {
            failures.push(`client ${id}: ${r.status} ${r.text}`);
            continue;
          }
          const got = Float32Array.from(JSON.parse(r.text).predictions.flat());
          answered++;
          if (equal(got, want2)) {
            sawV2 = true;
            fromV2++;
          } else if (!equal(got, want1)) failures.push(`client ${id}: an answer from neither version`);
          else if (sawV2) failures.push(`client ${id}: version 1 answered after version 2 had`);
        }
      };
      const clients = [0, 1, 2, 3].map(client);
      await until(() => answered >= 20, '20 answers from version 1');
      await tree.write('mlp', 2, v2.int8);
      await until(() => fromV2 >= 40, '40 answers from version 2');
      await until(
        async () => JSON.parse((await http(`${url}/v1/models/mlp`, 'GET')).text).model_version_status.length === 1,
        'version 1 to unload',
      );
      stop = true;
      await Promise.all(clients);
      expect(failures).toEqual([]);
      expect(JSON.parse((await http(`${url}/v1/models/mlp`, 'GET')).text)).toEqual({
        model_version_status: [{ version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
      });
      const m = await server.metrics.registry.metrics();
      expect(m).not.toMatch(/tfjs_quant_serve_session_bytes\{model="mlp",version="1"/);
      expect(m).toMatch(/tfjs_quant_serve_session_bytes\{model="mlp",version="2",kind="weights"\} [1-9]/);
      expect(m).not.toMatch(/tfjs_quant_serve_requests_total\{model="mlp",api="predict",status="(?!200")\d+"\}/);

      // A broken version 3 (model.json without its weights) fails to load; version 2 keeps serving.
      const v3 = join(tree.dir('mlp'), '3');
      await mkdir(v3);
      await copyFile(join(tree.dir('mlp'), '2', 'model.json'), join(v3, 'model.json'));
      const v3State = async () =>
        JSON.parse((await http(`${url}/v1/models/mlp`, 'GET')).text).model_version_status.find(
          (v: { version: string }) => v.version === '3',
        )?.state;
      await until(async () => (await v3State()) === 'END', 'version 3 to be tried and fail');
      const status = JSON.parse((await http(`${url}/v1/models/mlp`, 'GET')).text).model_version_status;
      expect(status[0]).toMatchObject({ version: '3', state: 'END', status: { error_code: 'UNKNOWN' } });
      expect(status[0].status.error_message).toMatch(/\.bin|weights|shard|ENOENT/i);
      expect(status[1]).toMatchObject({ version: '2', state: 'AVAILABLE' });
      const r = await http(`${url}/v1/models/mlp:predict`, 'POST', body);
      sameValues(
        Float32Array.from(JSON.parse(r.text).predictions.flat()),
        want2,
        'version 2 after the broken version 3',
      );
    } finally {
      await server.close();
    }
  });

  it('SIGTERM: a spawned `tfjs-quant serve` stops accepting, answers its in-flight requests, exits 0', async () => {
    const dir = tree.dir('steady');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/entry.ts',
        'serve',
        dir,
        '--port',
        '0',
        '--max-batch',
        '64',
        '--batch-timeout-ms',
        '20000',
        '--poll-ms',
        '0',
        '--log-level',
        'silent',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '',
      err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      // Starting a process that loads tfjs takes seconds, many on a busy machine: up to 60 s.
      await until(
        () => /listening on (http:\/\/\S+)/.test(out) || child.exitCode !== null,
        'the server to listen',
        6000,
      );
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      expect(url, `stdout: ${out}\nstderr: ${err}`).toBeDefined();
      // The batch timeout (20 s) keeps the requests queued until SIGTERM, which runs them at once.
      const body = JSON.stringify({ instances: ROWS });
      const inFlight = [0, 1, 2].map(() => http(`${url}/v1/models/steady:predict`, 'POST', body));
      await until(
        async () =>
          /^tfjs_quant_serve_queue_depth\{model="steady",version="1"\} 3$/m.test(
            (await http(`${url}/metrics`, 'GET')).text,
          ),
        'three queued requests',
      );
      child.kill('SIGTERM');
      for (const r of await Promise.all(inFlight)) {
        expect(r.status).toBe(200);
        sameValues(Float32Array.from(JSON.parse(r.text).predictions.flat()), want1, 'in-flight answer');
      }
      expect(await exited, `stderr: ${err}`).toBe(0);
      await expect(http(`${url}/healthz`, 'GET')).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
