// The server's REST API against TF Serving's documented request/response shapes, with the
// answers checked against the same model run directly (InferenceSession.run, the unbatched
// reference) and, for the float two-head model, against tfjs ops computing a + b and a · W.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { InferenceSession, type HostTensor } from '../../src/runtime/session.js';
import { createServer, type TfjsQuantServer } from '../../src/serve/index.js';
import { decodeBinary, encodeBinary } from '../../src/serve/binary.js';
import {
  http,
  mlpGraphs,
  mlpRows,
  ModelTree,
  sameValues,
  twoHeadModel,
  MLP_CLASSES,
  MLP_FEATURES,
  type MlpGraphs,
} from './fixtures.js';

let tree: ModelTree;
let graphs: MlpGraphs;
let graphsV2: MlpGraphs;
let server: TfjsQuantServer;
let url: string;
let w: Float32Array;
const refs: Record<string, InferenceSession> = {};

/** The model run directly on `rows`, one request alone. */
async function direct(name: string, rows: number[][], dtype: 'float32' | 'int8' = 'float32'): Promise<HostTensor> {
  const s = refs[name]!;
  const data = dtype === 'int8' ? Int8Array.from(rows.flat()) : Float32Array.from(rows.flat());
  return Object.values(await s.run({ [s.inputs[0]!.name]: { data, shape: [rows.length, MLP_FEATURES] } }))[0]!;
}

const predict = (path: string, body: unknown) =>
  http(`${url}/v1/models/${path}:predict`, 'POST', typeof body === 'string' ? body : JSON.stringify(body));

beforeAll(async () => {
  await initFloatBackend();
  graphs = await mlpGraphs(1);
  graphsV2 = await mlpGraphs(2);
  tree = await ModelTree.create();
  await tree.write('mlp', 1, graphs.int8);
  await tree.write('mlp', 2, graphsV2.int8);
  await tree.write('mlpio', 1, graphs.int8io);
  const th = twoHeadModel();
  w = th.w;
  await tree.writeFiles('twohead', 1, th.files);
  const config = join(tree.root, 'models.json');
  await writeFile(
    config,
    JSON.stringify({
      models: { mlp: { path: 'mlp', labels: { stable: 1, canary: 2 } }, mlpio: 'mlpio', twohead: 'twohead' },
    }),
  );
  server = await createServer({
    model: config,
    port: 0,
    logLevel: false,
    maxBatch: 8,
    batchTimeoutMs: 1,
    pollIntervalMs: 0,
  });
  url = await server.listen();
  refs.v1 = await InferenceSession.create(graphs.int8);
  refs.v2 = await InferenceSession.create(graphsV2.int8);
  refs.io = await InferenceSession.create(graphs.int8io);
});

afterAll(async () => {
  await server?.close();
  for (const s of Object.values(refs)) s.dispose();
  await tree?.dispose();
});

describe('serve: TF Serving REST API', () => {
  it('model status: every loaded version (labels keep v1 next to the latest v2), one version, one label', async () => {
    const all = await http(`${url}/v1/models/mlp`, 'GET');
    expect(all.status).toBe(200);
    const ok = { error_code: 'OK', error_message: '' };
    expect(JSON.parse(all.text)).toEqual({
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: ok },
        { version: '1', state: 'AVAILABLE', status: ok },
      ],
    });
    expect(JSON.parse((await http(`${url}/v1/models/mlp/versions/1`, 'GET')).text)).toEqual({
      model_version_status: [{ version: '1', state: 'AVAILABLE', status: ok }],
    });
    expect(JSON.parse((await http(`${url}/v1/models/mlp/labels/canary`, 'GET')).text)).toEqual({
      model_version_status: [{ version: '2', state: 'AVAILABLE', status: ok }],
    });
  });

  it('metadata: the signature def with TF dtypes and string sizes; int8 quantization under tfjs_quant', async () => {
    const r = await http(`${url}/v1/models/mlpio/metadata`, 'GET');
    expect(r.status).toBe(200);
    const inName = graphs.int8io.inputs[0]!.name,
      outName = graphs.int8io.outputs[0]!;
    const dims = (...d: number[]) => ({
      dim: d.map((size) => ({ size: String(size), name: '' })),
      unknown_rank: false,
    });
    const m = JSON.parse(r.text);
    expect(m.model_spec).toEqual({ name: 'mlpio', signature_name: '', version: '1' });
    expect(m.metadata.signature_def.signature_def.serving_default).toEqual({
      inputs: { [inName]: { dtype: 'DT_INT8', tensor_shape: dims(-1, MLP_FEATURES), name: inName } },
      outputs: { [outName]: { dtype: 'DT_INT8', tensor_shape: dims(-1, MLP_CLASSES), name: outName } },
      method_name: 'tensorflow/serving/predict',
      defaults: {},
    });
    const q = refs.io!.inputs[0]!.quantization!,
      qo = refs.io!.outputs[0]!.quantization!;
    expect(m.metadata.tfjs_quant.quantization).toEqual({
      inputs: { [inName]: { scale: q.scale, zero_point: q.zeroPoint } },
      outputs: { [outName]: { scale: qo.scale, zero_point: qo.zeroPoint } },
    });
    expect(m.metadata.tfjs_quant.batching).toEqual({ enabled: true });
    const f = JSON.parse((await http(`${url}/v1/models/mlp/versions/1/metadata`, 'GET')).text);
    expect(f.model_spec.version).toBe('1');
    expect(f.metadata.signature_def.signature_def.serving_default.inputs[inName].dtype).toBe('DT_FLOAT');
  });

  it('predict, row format: {"instances": […]} → {"predictions": […]}, equal to the model run directly', async () => {
    const rows = mlpRows(3, 11);
    const r = await predict('mlp', { instances: rows });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(Object.keys(body)).toEqual(['predictions']);
    expect(body.predictions).toHaveLength(3);
    sameValues(
      Float32Array.from(body.predictions.flat()),
      (await direct('v2', rows)).data,
      'row predictions (latest = v2)',
    );
  });

  it('predict, columnar format: {"inputs": …} → {"outputs": …}; TF Serving\'s curl example (form content type) works', async () => {
    const rows = mlpRows(2, 12);
    const r = await http(
      `${url}/v1/models/mlp:predict`,
      'POST',
      JSON.stringify({ signature_name: 'serving_default', inputs: rows }),
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(Object.keys(body)).toEqual(['outputs']);
    expect(body.outputs.map((x: number[]) => x.length)).toEqual([MLP_CLASSES, MLP_CLASSES]);
    sameValues(Float32Array.from(body.outputs.flat()), (await direct('v2', rows)).data, 'columnar outputs');
  });

  it('versions and labels route to their own model', async () => {
    const rows = mlpRows(2, 13);
    const v1 = (await direct('v1', rows)).data,
      v2 = (await direct('v2', rows)).data;
    expect(Array.from(v1)).not.toEqual(Array.from(v2));
    for (const [path, want] of [
      ['mlp/versions/1', v1],
      ['mlp/labels/stable', v1],
      ['mlp/versions/2', v2],
      ['mlp/labels/canary', v2],
    ] as const) {
      const r = await predict(path, { instances: rows });
      expect(r.status, path).toBe(200);
      sameValues(Float32Array.from(JSON.parse(r.text).predictions.flat()), want, path);
    }
  });

  it('several named inputs and outputs: row instances are objects, predictions are objects; columnar maps by name', async () => {
    const a = [
        [1, 2, 3, 4],
        [-1, 0.5, 0.25, 8],
      ],
      b = [
        [0.5, 0.5, 0.5, 0.5],
        [2, 2, 2, 2],
      ];
    const sum = tf.add(tf.tensor(a), tf.tensor(b)),
      prod = tf.matMul(tf.tensor(a), tf.tensor(w, [4, 3]));
    const wantSum = sum.arraySync() as number[][],
      wantProd = prod.dataSync();
    tf.dispose([sum, prod]);
    const r = await predict('twohead', { instances: a.map((x, i) => ({ a: x, b: b[i] })) });
    expect(r.status).toBe(200);
    const preds = JSON.parse(r.text).predictions as { sum: number[]; product: number[] }[];
    expect(preds.map((p) => Object.keys(p).sort())).toEqual([
      ['product', 'sum'],
      ['product', 'sum'],
    ]);
    expect(preds.map((p) => p.sum)).toEqual(wantSum); // a + b in float32 is exact
    const got = preds.flatMap((p) => p.product);
    got.forEach((v, i) =>
      expect(Math.abs(v - wantProd[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(wantProd[i]!))),
    ); // summation order may differ from tfjs
    const c = await predict('twohead', { inputs: { a, b } });
    expect(c.status).toBe(200);
    const outs = JSON.parse(c.text).outputs;
    expect(Object.keys(outs).sort()).toEqual(['product', 'sum']);
    expect(outs.sum).toEqual(wantSum);
    expect(outs.product.flat()).toEqual(got);
  });

  it('NaN and ±Infinity tokens are read and written as TF Serving does', async () => {
    const r = await predict(
      'twohead',
      '{"inputs": {"a": [[NaN, Infinity, -Infinity, 1]], "b": [[1, 1, Infinity, -Infinity]]}}',
    );
    expect(r.status).toBe(200);
    expect(r.text).toMatch(
      /^\{"outputs":\{"sum":\[\[NaN,Infinity,NaN,-Infinity\]\],"product":\[\[NaN,NaN,NaN\]\]\}\}$/,
    );
  });

  it('binary predict: safetensors in, safetensors out (int8 with its quantization), bit for bit', async () => {
    const rows = mlpRows(3, 14);
    const q = refs.io!.inputs[0]!.quantization!;
    const xq = rows.map((r) => r.map((v) => Math.max(-128, Math.min(127, Math.round(v / q.scale) + q.zeroPoint))));
    const inName = refs.io!.inputs[0]!.name;
    const body = encodeBinary({
      [inName]: { data: Int8Array.from(xq.flat()), shape: [3, MLP_FEATURES], dtype: 'int8' },
    });
    const r = await http(`${url}/v1/models/mlpio:predict`, 'POST', body);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/octet-stream/);
    const out = decodeBinary(r.body);
    const want = await direct('io', xq, 'int8');
    const got = out.get(refs.io!.outputs[0]!.name)!;
    expect(got.dtype).toBe('int8');
    expect(got.shape).toEqual([3, MLP_CLASSES]);
    sameValues(got.data, want.data, 'binary int8 outputs');
    const header = JSON.parse(r.body.toString('utf8', 8, 8 + r.body.readUInt32LE(0)));
    expect(header.__metadata__).toEqual({
      [`${refs.io!.outputs[0]!.name}.scale`]: String(want.quantization!.scale),
      [`${refs.io!.outputs[0]!.name}.zero_point`]: String(want.quantization!.zeroPoint),
    });
    // The same request as JSON integers gives the same int8 values.
    const j = await predict('mlpio', { instances: xq });
    sameValues(Int8Array.from(JSON.parse(j.text).predictions.flat()), want.data, 'JSON int8 outputs');
  });

  it('/healthz, /readyz and /metrics (request counts by model and status, batch sizes, queue depth, session memory)', async () => {
    expect((await http(`${url}/healthz`, 'GET')).status).toBe(200);
    expect(JSON.parse((await http(`${url}/readyz`, 'GET')).text)).toEqual({ status: 'ready' });
    await predict('mlp', { instances: mlpRows(1, 15) });
    await predict('mlp', { instances: [[1]] });
    const m = (await http(`${url}/metrics`, 'GET')).text;
    const value = (re: RegExp) => Number(re.exec(m)?.[1]);
    expect(
      value(/^tfjs_quant_serve_requests_total\{model="mlp",api="predict",status="200"\} (\d+)$/m),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(/^tfjs_quant_serve_requests_total\{model="mlp",api="predict",status="400"\} (\d+)$/m),
    ).toBeGreaterThanOrEqual(1);
    expect(m).toMatch(
      /^tfjs_quant_serve_request_duration_seconds_count\{model="mlp",api="predict",status="200"\} \d+$/m,
    );
    expect(value(/^tfjs_quant_serve_batch_rows_count\{model="mlp",version="2"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^tfjs_quant_serve_queue_depth\{model="mlp",version="2"\} (\d+)$/m)).toBe(0);
    expect(value(/^tfjs_quant_serve_session_bytes\{model="mlp",version="2",kind="weights"\} (\d+)$/m)).toBe(
      refs.v2!.memory.weightBytes,
    );
  });
});
