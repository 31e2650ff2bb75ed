// Bad requests get a 4xx with TF Serving's {"error": "..."} body naming what is wrong, and the
// server keeps answering: after every case below a good request still gets its answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { encodeBinary } from '../../src/serve/binary.js';
import { createServer, type TfjsQuantServer } from '../../src/serve/index.js';
import { http, mlpGraphs, mlpRows, ModelTree, MLP_FEATURES } from './fixtures.js';

const BODY_LIMIT = 64 * 1024;
let tree: ModelTree;
let server: TfjsQuantServer;
let url: string;
let inName: string;

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  http(`${url}/v1/models/${path}`, 'POST', body, headers);

/** A 4xx with exactly {"error": <message matching re>}. */
async function expectError(p: Promise<{ status: number; text: string }>, status: number, re: RegExp): Promise<void> {
  const r = await p;
  expect(r.status).toBe(status);
  const body = JSON.parse(r.text);
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatch(re);
}

beforeAll(async () => {
  await initFloatBackend();
  const g = await mlpGraphs(3);
  tree = await ModelTree.create();
  await tree.write('mlp', 1, g.int8);
  await tree.write('mlpio', 4, g.int8io);
  inName = g.int8.inputs[0]!.name;
  server = await createServer({
    models: { mlp: tree.dir('mlp'), mlpio: tree.dir('mlpio') },
    port: 0,
    logLevel: false,
    bodyLimit: BODY_LIMIT,
    pollIntervalMs: 0,
  });
  url = await server.listen();
});

afterAll(async () => {
  await server?.close();
  await tree?.dispose();
});

describe('serve: bad input → 4xx {"error"}, never a crash', () => {
  it('malformed JSON', async () => {
    await expectError(post('mlp:predict', '{"instances": [[1, 2'), 400, /^malformed JSON body: /);
  });

  it('neither or both of instances / inputs; an unknown signature', async () => {
    await expectError(
      post('mlp:predict', '{"examples": []}'),
      400,
      /missing "instances" \(row format\) or "inputs" \(columnar format\)/,
    );
    await expectError(
      post('mlp:predict', JSON.stringify({ instances: mlpRows(1, 1), inputs: mlpRows(1, 1) })),
      400,
      /either "instances" or "inputs", not both/,
    );
    await expectError(
      post('mlp:predict', JSON.stringify({ signature_name: 'classify', instances: mlpRows(1, 1) })),
      400,
      /signature name "classify" not found/,
    );
  });

  it('wrong input name', async () => {
    await expectError(
      post('mlp:predict', JSON.stringify({ inputs: { pixels: mlpRows(1, 1) } })),
      400,
      new RegExp(`'pixels' is not an input of the model \\(inputs: ${inName}\\)`),
    );
    await expectError(
      post('mlp:predict', JSON.stringify({ instances: [{ pixels: mlpRows(1, 1)[0] }] })),
      400,
      /instances\[0\]: 'pixels' is not an input/,
    );
  });

  it('wrong shape', async () => {
    await expectError(
      post('mlp:predict', JSON.stringify({ inputs: [[1, 2, 3]] })),
      400,
      new RegExp(`input '${inName}' has shape \\[1, 3\\]; the model takes \\[\\?, ${MLP_FEATURES}\\]`),
    );
    await expectError(
      post('mlp:predict', JSON.stringify({ inputs: [[mlpRows(1, 1)[0]]] })),
      400,
      /has shape \[1, 1, 8\]; the model takes \[\?, 8\]/,
    );
  });

  it('wrong dtype (strings, booleans, nested objects)', async () => {
    await expectError(
      post('mlp:predict', JSON.stringify({ instances: [[1, 2, 3, 4, 5, 6, 7, 'x']] })),
      400,
      /instances\[0\]\[7\] is "x"; expected a float32 number/,
    );
    await expectError(
      post('mlp:predict', JSON.stringify({ instances: [[1, 2, 3, 4, 5, 6, 7, true]] })),
      400,
      /instances\[0\]\[7\] is true; expected a float32 number/,
    );
    const body = encodeBinary({
      [inName]: { data: new Int32Array(MLP_FEATURES), shape: [1, MLP_FEATURES], dtype: 'int32' },
    });
    await expectError(
      post('mlp:predict', body),
      400,
      new RegExp(`input '${inName}' has dtype int32; the model takes float32`),
    );
  });

  it('wrong lengths (ragged lists; binary data that does not match its shape)', async () => {
    await expectError(
      post(
        'mlp:predict',
        JSON.stringify({
          instances: [
            [1, 2, 3, 4, 5, 6, 7, 8],
            [1, 2, 3],
          ],
        }),
      ),
      400,
      /instances\[1\] has 3 elements; the list is not rectangular \(expected 8/,
    );
    const good = encodeBinary({
      [inName]: { data: new Float32Array(MLP_FEATURES), shape: [1, MLP_FEATURES], dtype: 'float32' },
    });
    const cut = good.subarray(0, good.length - 4);
    await expectError(
      post('mlp:predict', Buffer.from(cut)),
      400,
      /data_offsets must be \[begin, end\] within the 28 data bytes/,
    );
    await expectError(post('mlp:predict', Buffer.from([1, 2, 3])), 400, /binary body has 3 bytes/);
  });

  it('NaN, fractions and out-of-range values where the model takes integers (int8 input)', async () => {
    await expectError(
      post('mlpio:predict', '{"instances": [[NaN, 0, 0, 0, 0, 0, 0, 0]]}'),
      400,
      /instances\[0\]\[0\] is NaN; the model takes int8 \(integers in \[-128, 127\]\)/,
    );
    await expectError(
      post('mlpio:predict', '{"instances": [[0, 0.5, 0, 0, 0, 0, 0, 0]]}'),
      400,
      /instances\[0\]\[1\] is 0\.5; the model takes int8/,
    );
    await expectError(
      post('mlpio:predict', '{"instances": [[0, 0, 200, 0, 0, 0, 0, 0]]}'),
      400,
      /instances\[0\]\[2\] is 200; the model takes int8/,
    );
  });

  it('hostile nesting and sizes: too deep, a claimed size no body holds, zero rows', async () => {
    await expectError(
      post('mlp:predict', `{"inputs": ${'['.repeat(40)}1${']'.repeat(40)}}`),
      400,
      /inputs is nested 40 lists deep; tensors have at most 32 dimensions/,
    );
    // The first elements claim shape [6000, 6000, 10000] in a 56 KB body (the rest are empty lists).
    const empties = (n: number) => Array.from({ length: n }, () => '[]').join(',');
    const first = `[[${Array.from({ length: 10000 }, () => 0).join(',')}],${empties(5999)}]`;
    const claim = `{"inputs": [${first},${empties(5999)}]}`;
    expect(claim.length).toBeLessThan(BODY_LIMIT);
    await expectError(
      post('mlp:predict', claim),
      400,
      /inputs would have shape \[6000, 6000, 10000\] \(360000000000 values\), more than a request body can hold/,
    );
    const zero = encodeBinary({ [inName]: { data: new Float32Array(0), shape: [0, MLP_FEATURES], dtype: 'float32' } });
    await expectError(
      post('mlp:predict', zero),
      400,
      new RegExp(`input '${inName}' has no rows \\(shape \\[0, 8\\]\\)`),
    );
  });

  it('a body over the size limit is 413, before it is parsed', async () => {
    const big = JSON.stringify({ instances: Array.from({ length: 2000 }, () => mlpRows(1, 2)[0]) });
    expect(big.length).toBeGreaterThan(BODY_LIMIT);
    await expectError(post('mlp:predict', big), 413, new RegExp(`larger than the limit of ${BODY_LIMIT} bytes`));
    expect(await server.metrics.registry.metrics()).toMatch(
      /^tfjs_quant_serve_requests_total\{model="mlp",api="predict",status="413"\} 1$/m,
    );
  });

  it('unknown model, version, label, verb → 404', async () => {
    const body = JSON.stringify({ instances: mlpRows(1, 3) });
    await expectError(
      post('nope:predict', body),
      404,
      /Servable not found for request: Latest\(nope\) \(no model named 'nope'; models: mlp, mlpio\)/,
    );
    await expectError(post('mlp/versions/7:predict', body), 404, /Specific\(mlp, 7\) \(version 7 is not loaded\)/);
    await expectError(post('mlp/labels/stable:predict', body), 404, /Unrecognized servable version label: stable/);
    await expectError(post('mlp:classify', body), 404, /classify is not supported/);
    await expectError(http(`${url}/v1/models/nope/metadata`, 'GET'), 404, /no model named 'nope'/);
    await expectError(http(`${url}/v2/anything`, 'GET'), 404, /no route for GET \/v2\/anything/);
    // GET routes are schema-validated: a version that is not a number is a 400 naming the parameter.
    await expectError(
      http(`${url}/v1/models/mlp/versions/latest`, 'GET'),
      400,
      /^invalid request: params\/version must match pattern/,
    );
  });

  it('after all of the above the server still answers', async () => {
    const r = await post('mlp:predict', JSON.stringify({ instances: mlpRows(2, 4) }));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).predictions).toHaveLength(2);
    expect((await http(`${url}/readyz`, 'GET')).status).toBe(200);
  });
});
