// Dynamic batching: merged requests get exactly the answers they get alone (bit for bit, int8
// models), the queue is bounded (429 + Retry-After), a client that goes away while queued or
// while its batch runs costs the others nothing, and models whose answers would depend on the
// batch are never batched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import type { Graph } from '../../src/model/index.js';
import { quantize } from '../../src/quant/quantize.js';
import { InferenceSession } from '../../src/runtime/session.js';
import {
  createServer,
  decodeBinary,
  encodeBinary,
  type ServeOptions,
  type TfjsQuantServer,
} from '../../src/serve/index.js';
import { mobileNetV2 } from '../../bench/models/models.js';
import { graphOf, variedInput } from '../runtime/helpers.js';
import { http, mlpGraphs, mlpRows, ModelTree, sameValues, MLP_FEATURES, type MlpGraphs } from './fixtures.js';

let tree: ModelTree;
let graphs: MlpGraphs;
let mobilenet: Graph;
let dynamicPerTensor: Graph;
const servers: TfjsQuantServer[] = [];

async function serve(o: Partial<ServeOptions>): Promise<{ server: TfjsQuantServer; url: string }> {
  const server = await createServer({
    models: {
      mlp: tree.dir('mlp'),
      mlpio: tree.dir('mlpio'),
      mobilenet: tree.dir('mobilenet'),
      dyn: tree.dir('dyn'),
      mlpf: tree.dir('mlpf'),
    },
    port: 0,
    logLevel: false,
    pollIntervalMs: 0,
    ...o,
  });
  servers.push(server);
  return { server, url: await server.listen() };
}

/** Rows of one request alone, through the model directly (the unbatched reference). */
async function alone(g: Graph, rows: number[][], rowShape: number[], int8 = false): Promise<ArrayLike<number>> {
  const s = await InferenceSession.create(g);
  try {
    const data = int8 ? Int8Array.from(rows.flat()) : Float32Array.from(rows.flat());
    return Object.values(await s.run({ [s.inputs[0]!.name]: { data, shape: [rows.length, ...rowShape] } }))[0]!.data;
  } finally {
    s.dispose();
  }
}

function metric(text: string, re: RegExp): number {
  const m = re.exec(text);
  if (!m) throw new Error(`metric ${re} not found`);
  return Number(m[1]);
}

/** Waits (bounded: at most 400 × 5 ms) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  await initFloatBackend();
  graphs = await mlpGraphs(5);
  const calib = variedInput([4, 32, 32, 3], 3);
  mobilenet = (
    await quantize(await graphOf(mobileNetV2(32, 0.5, 10)), {
      mode: 'int8',
      calibration: [calib],
      report: false,
      optimize: false,
    })
  ).graph;
  calib.dispose();
  const mlpCalib = variedInput([8, MLP_FEATURES], 4);
  dynamicPerTensor = (
    await quantize(graphs.float, {
      mode: 'dynamic',
      dynamicGranularity: 'tensor',
      // Dynamic however narrow its layers: the point is answers that depend on the batch.
      dynamicMinK: 0,
      dynamicMinN: 0,
      calibration: [mlpCalib],
      report: false,
      optimize: false,
    })
  ).graph;
  mlpCalib.dispose();
  tree = await ModelTree.create();
  await tree.write('mlp', 1, graphs.int8);
  await tree.write('mlpio', 1, graphs.int8io);
  await tree.write('mobilenet', 1, mobilenet);
  await tree.write('dyn', 1, dynamicPerTensor);
  await tree.write('mlpf', 1, graphs.float);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await tree?.dispose();
});

describe('serve: dynamic batching', () => {
  it('batched answers equal unbatched ones bit for bit (int8 MLP with float IO and int8 IO, int8 MobileNetV2-style)', async () => {
    const { server, url } = await serve({ maxBatch: 16, batchTimeoutMs: 100 });
    const cases: { model: string; g: Graph; rows: number[][]; rowShape: number[]; int8?: boolean }[] = [];
    for (let i = 0; i < 24; i++)
      cases.push({ model: 'mlp', g: graphs.int8, rows: mlpRows(1 + (i % 3), 100 + i), rowShape: [MLP_FEATURES] });
    const q = (await InferenceSession.create(graphs.int8io)).inputs[0]!.quantization!;
    for (let i = 0; i < 12; i++) {
      const rows = mlpRows(1 + (i % 2), 200 + i).map((r) =>
        r.map((v) => Math.max(-128, Math.min(127, Math.round(v / q.scale) + q.zeroPoint))),
      );
      cases.push({ model: 'mlpio', g: graphs.int8io, rows, rowShape: [MLP_FEATURES], int8: true });
    }
    for (let i = 0; i < 6; i++) {
      const x = variedInput([1 + (i % 2), 32, 32, 3], 300 + i);
      const flat = Array.from(x.dataSync());
      x.dispose();
      const per = 32 * 32 * 3;
      cases.push({
        model: 'mobilenet',
        g: mobilenet,
        rows: Array.from({ length: flat.length / per }, (_, r) => flat.slice(r * per, (r + 1) * per)),
        rowShape: [32, 32, 3],
      });
    }
    // Row format for the MLPs; columnar nested [rows, 32, 32, 3] for the images.
    const nest = (c: (typeof cases)[number]) =>
      c.model === 'mobilenet'
        ? {
            inputs: c.rows.map((r) =>
              Array.from({ length: 32 }, (_, y) =>
                Array.from({ length: 32 }, (_, x) => r.slice((y * 32 + x) * 3, (y * 32 + x) * 3 + 3)),
              ),
            ),
          }
        : { instances: c.rows };
    const answers = await Promise.all(
      cases.map((c) => http(`${url}/v1/models/${c.model}:predict`, 'POST', JSON.stringify(nest(c)))),
    );
    for (const [i, c] of cases.entries()) {
      expect(answers[i]!.status, `${c.model} #${i}`).toBe(200);
      const body = JSON.parse(answers[i]!.text);
      const got = (body.predictions ?? body.outputs).flat();
      sameValues(
        c.int8 ? Int8Array.from(got) : Float32Array.from(got),
        await alone(c.g, c.rows, c.rowShape, c.int8),
        `${c.model} request ${i}`,
      );
    }
    // The requests were really merged: fewer batches than requests, per model.
    const m = await server.metrics.registry.metrics();
    for (const model of ['mlp', 'mlpio', 'mobilenet']) {
      const reqs = metric(
        m,
        new RegExp(`^tfjs_quant_serve_batch_requests_sum\\{model="${model}",version="1"\\} (\\d+)$`, 'm'),
      );
      const batches = metric(
        m,
        new RegExp(`^tfjs_quant_serve_batch_requests_count\\{model="${model}",version="1"\\} (\\d+)$`, 'm'),
      );
      expect(reqs, model).toBe(cases.filter((c) => c.model === model).length);
      expect(batches, `${model}: batches`).toBeLessThan(reqs);
    }
  });

  it('binary bodies of several socket reads, batched with JSON requests, get the answers they get alone, bit for bit', async () => {
    const { server, url } = await serve({ maxBatch: 16, batchTimeoutMs: 100 });
    const per = 32 * 32 * 3;
    // 8 rows of 32×32×3 float32 are a 98 KB body: more than one 64 KB socket read.
    const rowCounts = [8, 1, 5, 2, 1];
    const cases = rowCounts.map((rows, i) => {
      const x = variedInput([rows, 32, 32, 3], 900 + i);
      const data = Float32Array.from(x.dataSync());
      x.dispose();
      return { rows, data, json: i % 2 === 1 };
    });
    const answers = await Promise.all(
      cases.map((c) =>
        c.json
          ? http(
              `${url}/v1/models/mobilenet:predict`,
              'POST',
              JSON.stringify({
                inputs: Array.from({ length: c.rows }, (_, r) =>
                  Array.from({ length: 32 }, (_, y) =>
                    Array.from({ length: 32 }, (_, x) =>
                      Array.from(c.data.subarray(r * per + (y * 32 + x) * 3, r * per + (y * 32 + x) * 3 + 3)),
                    ),
                  ),
                ),
              }),
            )
          : http(
              `${url}/v1/models/mobilenet:predict`,
              'POST',
              encodeBinary({ input: { data: c.data, shape: [c.rows, 32, 32, 3], dtype: 'float32' } }),
            ),
      ),
    );
    for (const [i, c] of cases.entries()) {
      expect(answers[i]!.status, `request ${i}: ${answers[i]!.text.slice(0, 200)}`).toBe(200);
      const got = c.json
        ? Float32Array.from(JSON.parse(answers[i]!.text).outputs.flat())
        : ([...decodeBinary(answers[i]!.body).values()][0]!.data as Float32Array);
      const rows = Array.from({ length: c.rows }, (_, r) => Array.from(c.data.subarray(r * per, (r + 1) * per)));
      sameValues(got, await alone(mobilenet, rows, [32, 32, 3]), `request ${i} (${c.json ? 'JSON' : 'binary'})`);
    }
    const m = await server.metrics.registry.metrics();
    const batches = metric(m, /^tfjs_quant_serve_batch_requests_count\{model="mobilenet",version="1"\} (\d+)$/m);
    expect(batches).toBeLessThan(cases.length);
  });

  it('a float32 model on the native float kernels is batched, and its answers equal unbatched ones bit for bit too', async () => {
    const { server, url } = await serve({ maxBatch: 16, batchTimeoutMs: 100 });
    const meta = JSON.parse((await http(`${url}/v1/models/mlpf/metadata`, 'GET')).text);
    expect(meta.metadata.tfjs_quant.batching).toEqual({ enabled: true });
    const reqs = Array.from({ length: 16 }, (_, i) => mlpRows(1 + (i % 3), 450 + i));
    const answers = await Promise.all(
      reqs.map((rows) => http(`${url}/v1/models/mlpf:predict`, 'POST', JSON.stringify({ instances: rows }))),
    );
    for (const [i, rows] of reqs.entries())
      sameValues(
        Float32Array.from(JSON.parse(answers[i]!.text).predictions.flat()),
        await alone(graphs.float, rows, [MLP_FEATURES]),
        `float request ${i}`,
      );
    const m = await server.metrics.registry.metrics();
    expect(metric(m, /^tfjs_quant_serve_batch_requests_count\{model="mlpf",version="1"\} (\d+)$/m)).toBeLessThan(16);
  });

  it('a model whose answers would depend on the batch (dynamic range, per-tensor activations) runs each request alone', async () => {
    const { server, url } = await serve({ maxBatch: 16, batchTimeoutMs: 50 });
    const meta = JSON.parse((await http(`${url}/v1/models/dyn/metadata`, 'GET')).text);
    expect(meta.metadata.tfjs_quant.batching.enabled).toBe(false);
    expect(meta.metadata.tfjs_quant.batching.reason).toMatch(/quantizes its activations per tensor/);
    const reqs = Array.from({ length: 8 }, (_, i) => mlpRows(1, 400 + i));
    const answers = await Promise.all(
      reqs.map((rows) => http(`${url}/v1/models/dyn:predict`, 'POST', JSON.stringify({ instances: rows }))),
    );
    for (const [i, rows] of reqs.entries())
      sameValues(
        Float32Array.from(JSON.parse(answers[i]!.text).predictions.flat()),
        await alone(dynamicPerTensor, rows, [MLP_FEATURES]),
        `dynamic request ${i}`,
      );
    const m = await server.metrics.registry.metrics();
    expect(metric(m, /^tfjs_quant_serve_batch_requests_count\{model="dyn",version="1"\} (\d+)$/m)).toBe(8);
    expect(metric(m, /^tfjs_quant_serve_batch_requests_sum\{model="dyn",version="1"\} (\d+)$/m)).toBe(8);
    // Control: the same 8 rows in one batch change some answer, which is why batching is off.
    const together = await alone(dynamicPerTensor, reqs.flat(), [MLP_FEATURES]);
    const separately = (await Promise.all(reqs.map((r) => alone(dynamicPerTensor, r, [MLP_FEATURES])))).flatMap((a) =>
      Array.from(a),
    );
    expect(Array.from(together)).not.toEqual(separately);
  });

  it('a full queue answers 429 with Retry-After; the queued requests are still answered', async () => {
    // A 20 s batch timeout keeps the first two queued (close() runs them at once at the end).
    const { server, url } = await serve({ maxBatch: 64, batchTimeoutMs: 20_000, maxQueue: 2 });
    const body = JSON.stringify({ instances: mlpRows(1, 500) });
    const first = [
      http(`${url}/v1/models/mlp:predict`, 'POST', body),
      http(`${url}/v1/models/mlp:predict`, 'POST', body),
    ];
    const servable = server.registry.resolve('mlp');
    await until(() => servable.queueDepth === 2, 'two queued requests');
    const rejected = await http(`${url}/v1/models/mlp:predict`, 'POST', body);
    expect(rejected.status).toBe(429);
    expect(Number(rejected.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(rejected.text).error).toMatch(/queue is full \(2 requests waiting\)/);
    const closing = server.close();
    for (const r of await Promise.all(first)) expect(r.status).toBe(200);
    await closing;
  });

  it('a client that cancels while queued leaves the batch; the others are answered', async () => {
    const { server, url } = await serve({ maxBatch: 64, batchTimeoutMs: 20_000 });
    const rows = [mlpRows(1, 600), mlpRows(2, 601), mlpRows(1, 602)];
    const ctl = new AbortController();
    const calls = rows.map((r, i) =>
      http(
        `${url}/v1/models/mlp:predict`,
        'POST',
        JSON.stringify({ instances: r }),
        {},
        i === 1 ? ctl.signal : undefined,
      ),
    );
    const servable = server.registry.resolve('mlp');
    await until(() => servable.queueDepth === 3, 'three queued requests');
    ctl.abort();
    await expect(calls[1]).rejects.toThrow(/abort/i);
    await until(() => servable.queueDepth === 2, 'the cancelled request to leave the queue');
    const closing = server.close(); // runs the batch of the two left now
    const [a, , c] = await Promise.allSettled(calls);
    await closing;
    for (const [r, want] of [
      [a, rows[0]!],
      [c, rows[2]!],
    ] as const) {
      expect(r.status).toBe('fulfilled');
      const res = (r as PromiseFulfilledResult<Awaited<(typeof calls)[number]>>).value;
      expect(res.status).toBe(200);
      sameValues(
        Float32Array.from(JSON.parse(res.text).predictions.flat()),
        await alone(graphs.int8, want, [MLP_FEATURES]),
        'survivor',
      );
    }
    const m = await server.metrics.registry.metrics();
    expect(metric(m, /^tfjs_quant_serve_requests_total\{model="mlp",api="predict",status="499"\} (\d+)$/m)).toBe(1);
    expect(metric(m, /^tfjs_quant_serve_batch_requests_sum\{model="mlp",version="1"\} (\d+)$/m)).toBe(2);
  });

  it('a client that cancels while its batch runs: the others in that batch are answered', async () => {
    const { server, url } = await serve({ maxBatch: 3, batchTimeoutMs: 200 });
    const rows = [mlpRows(1, 700), mlpRows(1, 701), mlpRows(1, 702)];
    const ctl = new AbortController();
    // The batch starts when its third request arrives (maxBatch 3): cancel that client then.
    const observe = server.metrics.batchRows.observe.bind(server.metrics.batchRows);
    server.metrics.batchRows.observe = ((...args: Parameters<typeof observe>) => {
      ctl.abort();
      return observe(...args);
    }) as typeof observe;
    const calls = rows.map((r, i) =>
      http(
        `${url}/v1/models/mlp:predict`,
        'POST',
        JSON.stringify({ instances: r }),
        {},
        i === 2 ? ctl.signal : undefined,
      ),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled[2]!.status).toBe('rejected');
    for (const i of [0, 1]) {
      const r = settled[i]!;
      expect(r.status).toBe('fulfilled');
      const res = (r as PromiseFulfilledResult<Awaited<(typeof calls)[number]>>).value;
      expect(res.status).toBe(200);
      sameValues(
        Float32Array.from(JSON.parse(res.text).predictions.flat()),
        await alone(graphs.int8, rows[i]!, [MLP_FEATURES]),
        `survivor ${i}`,
      );
    }
    const m = await server.metrics.registry.metrics();
    expect(metric(m, /^tfjs_quant_serve_batch_requests_sum\{model="mlp",version="1"\} (\d+)$/m)).toBe(3);
    expect((await http(`${url}/v1/models/mlp:predict`, 'POST', JSON.stringify({ instances: rows[0] }))).status).toBe(
      200,
    );
  });

  it('several sessions per model share its threads; more sessions than threads is refused', async () => {
    const { server, url } = await serve({ sessions: 2, threads: 2, maxBatch: 4, batchTimeoutMs: 1 });
    const single = await InferenceSession.create(graphs.int8);
    expect(server.registry.resolve('mlp').sessions).toHaveLength(2);
    expect(server.registry.resolve('mlp').memory.weightBytes).toBe(2 * single.memory.weightBytes);
    single.dispose();
    const reqs = Array.from({ length: 12 }, (_, i) => mlpRows(1 + (i % 2), 800 + i));
    const answers = await Promise.all(
      reqs.map((r) => http(`${url}/v1/models/mlp:predict`, 'POST', JSON.stringify({ instances: r }))),
    );
    for (const [i, r] of reqs.entries())
      sameValues(
        Float32Array.from(JSON.parse(answers[i]!.text).predictions.flat()),
        await alone(graphs.int8, r, [MLP_FEATURES]),
        `request ${i}`,
      );
    await expect(createServer({ model: tree.dir('mlp'), sessions: 3, threads: 2, logLevel: false })).rejects.toThrow(
      /options.sessions \(3\) must not exceed options.threads \(2\)/,
    );
  });
});
