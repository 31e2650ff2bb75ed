// The baseline a user would write today: a plain Fastify server calling tfjs float per request
// (no batching, no queue), on tfjs-backend-wasm (tfjs-node does not install on the benchmark
// machine). Same URL and bodies as tfjs-quant serve (JSON instances or a safetensors body).
//   node --import tsx bench/serve/baseline-server.ts mobilenet|mlp   → prints "listening on <url>"
import Fastify from 'fastify';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { BINARY_CONTENT_TYPE, decodeBinary, encodeBinary } from '../../src/serve/binary.js';
import { SERVE_MODELS, type ServeModelName } from './models.js';

const name = process.argv[2] as ServeModelName;
if (!SERVE_MODELS[name]) throw new Error(`usage: baseline-server.ts ${Object.keys(SERVE_MODELS).join('|')}`);
await initFloatBackend('wasm');
const model = SERVE_MODELS[name].build();
const inputName = model.inputs[0]!.name;
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });
app.addContentTypeParser(BINARY_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/v1/models/*', async (req, reply) => {
  if (Buffer.isBuffer(req.body)) {
    const x = decodeBinary(req.body).get(inputName)!;
    const y = tf.tidy(
      () => (model.predict(tf.tensor(x.data as Float32Array, x.shape)) as tf.Tensor).dataSync() as Float32Array,
    );
    return reply
      .type(BINARY_CONTENT_TYPE)
      .send(encodeBinary({ out: { data: y, shape: [x.shape[0]!, y.length / x.shape[0]!], dtype: 'float32' } }));
  }
  const instances = (req.body as { instances: number[][] }).instances;
  const y = tf.tidy(() => (model.predict(tf.tensor(instances)) as tf.Tensor).arraySync());
  return { predictions: y };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${url} (tfjs ${tf.getBackend()})\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
