// HTTP routes: TF Serving's REST API (model status, metadata, predict in row and columnar
// JSON), the same predict URL with a binary (safetensors) body, health, readiness, metrics.
import type { FastifyInstance } from 'fastify';
import type { HostTensor, TensorSpec } from '../runtime/session.js';
import { BINARY_CONTENT_TYPE, BodyBytes, encodeBinary, parseBinary } from './binary.js';
import { bodyBytesParser } from './body.js';
import { CancelledError, notFound } from './errors.js';
import { parseBody } from './json.js';
import type { ServeMetrics } from './metrics.js';
import type { ModelRegistry, VersionSelector } from './registry.js';
import {
  checkBinaryPredict,
  decodeJsonPredict,
  encodeJsonPredict,
  SIGNATURE_NAME,
  type PredictInput,
} from './request.js';
import type { Servable } from './servable.js';

// `<name>[/versions/<v>|/labels/<l>][/metadata|:predict]` after /v1/models/.
const MODEL_PATH =
  /^([A-Za-z0-9][A-Za-z0-9_.-]*)(?:\/versions\/(\d+)|\/labels\/([A-Za-z0-9][A-Za-z0-9_.-]*))?(\/metadata|:[A-Za-z]+)?$/;

interface ModelPath extends VersionSelector {
  name: string;
  verb?: string;
}

function parseModelPath(rest: string): ModelPath {
  const m = MODEL_PATH.exec(rest);
  if (!m)
    throw notFound(
      `no route for /v1/models/${rest} (expected /v1/models/<name>[/versions/<n>|/labels/<label>][/metadata|:predict])`,
    );
  const version = m[2] === undefined ? undefined : Number(m[2]);
  if (version !== undefined && !Number.isSafeInteger(version)) throw notFound(`version ${m[2]} is out of range`);
  return { name: m[1]!, version, label: m[3], verb: m[4] };
}

const DTYPES: Record<string, string> = { float32: 'DT_FLOAT', int8: 'DT_INT8', int32: 'DT_INT32', bool: 'DT_BOOL' };

function tensorInfo(t: TensorSpec): Record<string, unknown> {
  return {
    dtype: DTYPES[t.dtype] ?? 'DT_INVALID',
    tensor_shape: { dim: t.shape.map((d) => ({ size: String(d), name: '' })), unknown_rank: t.shape.length === 0 },
    name: t.name,
  };
}

/** TF Serving's GetModelMetadataResponse, plus the int8 quantization and batching under "tfjs_quant". */
function metadata(s: Servable): Record<string, unknown> {
  const q = (ts: readonly TensorSpec[]) =>
    Object.fromEntries(
      ts
        .filter((t) => t.quantization)
        .map((t) => [t.name, { scale: t.quantization!.scale, zero_point: t.quantization!.zeroPoint }]),
    );
  return {
    model_spec: { name: s.name, signature_name: '', version: String(s.version) },
    metadata: {
      signature_def: {
        signature_def: {
          [SIGNATURE_NAME]: {
            inputs: Object.fromEntries(s.inputs.map((t) => [t.name, tensorInfo(t)])),
            outputs: Object.fromEntries(s.outputs.map((t) => [t.name, tensorInfo(t)])),
            method_name: 'tensorflow/serving/predict',
            defaults: {},
          },
        },
      },
      tfjs_quant: { quantization: { inputs: q(s.inputs), outputs: q(s.outputs) }, batching: s.batching },
    },
  };
}

interface SelectorParams {
  name: string;
  version?: string;
  label?: string;
}
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
const SELECTOR_PARAMS = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN, maxLength: 256 },
    version: { type: 'string', pattern: '^[0-9]{1,15}$' },
    label: { type: 'string', pattern: NAME_PATTERN, maxLength: 256 },
  },
  required: ['name'],
} as const;
const STATUS_RESPONSE = {
  type: 'object',
  required: ['model_version_status'],
  properties: {
    model_version_status: {
      type: 'array',
      items: {
        type: 'object',
        required: ['version', 'state', 'status'],
        properties: {
          version: { type: 'string' },
          state: { type: 'string' },
          status: {
            type: 'object',
            required: ['error_code', 'error_message'],
            properties: { error_code: { type: 'string' }, error_message: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;
const METADATA_RESPONSE = {
  type: 'object',
  required: ['model_spec', 'metadata'],
  properties: {
    model_spec: {
      type: 'object',
      required: ['name', 'signature_name', 'version'],
      properties: { name: { type: 'string' }, signature_name: { type: 'string' }, version: { type: 'string' } },
    },
    metadata: { type: 'object', additionalProperties: true },
  },
} as const;

const selector = (p: SelectorParams): VersionSelector => ({
  version: p.version === undefined ? undefined : Number(p.version),
  label: p.label,
});

declare module 'fastify' {
  interface FastifyRequest {
    /** Metric labels of this request (set once the route knows them). */
    serveLabels?: { model: string; api: string };
  }
}

/**
 * Decodes and checks a predict body and queues it; what is left to answer it. The decoded
 * tensors live only in this call (the batcher copies their values as it queues them).
 */
function queuePredict(
  servable: Servable,
  body: unknown,
  signal: AbortSignal,
): { answer: Promise<Record<string, HostTensor>>; rows: number; format: PredictInput['format'] } {
  const input: PredictInput =
    body instanceof BodyBytes
      ? checkBinaryPredict(parseBinary(body), servable.inputs)
      : decodeJsonPredict(body, servable.inputs);
  return { answer: servable.predict(input, signal), rows: input.rows, format: input.format };
}

export function registerRoutes(
  app: FastifyInstance,
  registry: ModelRegistry,
  metrics: ServeMetrics,
  bodyLimit: number,
): void {
  // Labels are set as the request arrives, so that answers given before the handler runs
  // (413 body too large, malformed JSON) are counted for their model too. Unknown model
  // names are recorded as "": a label per arbitrary URL would grow without bound.
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (!path.startsWith('/v1/models/')) return;
    const m = MODEL_PATH.exec(path.slice('/v1/models/'.length));
    const name = m && registry.has(m[1]!) ? m[1]! : '';
    req.serveLabels = {
      model: name,
      api: req.method === 'POST' ? 'predict' : m?.[4] === '/metadata' ? 'metadata' : 'status',
    };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (registry.ready) return { status: 'ready' };
    return reply
      .code(503)
      .send({ error: 'not ready: a model has no available version yet, or the server is shutting down' });
  });
  app.get('/metrics', async (_req, reply) => {
    registry.updateMetrics();
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  for (const sel of ['', '/versions/:version', '/labels/:label']) {
    app.get<{ Params: SelectorParams }>(
      `/v1/models/:name${sel}`,
      { schema: { params: SELECTOR_PARAMS, response: { 200: STATUS_RESPONSE } } },
      async (req) => ({ model_version_status: registry.status(req.params.name, selector(req.params)) }),
    );
    app.get<{ Params: SelectorParams }>(
      `/v1/models/:name${sel}/metadata`,
      { schema: { params: SELECTOR_PARAMS, response: { 200: METADATA_RESPONSE } } },
      async (req) => metadata(registry.resolve(req.params.name, selector(req.params))),
    );
  }

  // One wildcard route: the verb is glued to the last path segment (`mnist:predict`), which
  // the router's parameters cannot express; parseModelPath splits it.
  app.post<{ Params: { '*': string }; Body: unknown }>(
    '/v1/models/*',
    { schema: { params: { type: 'object', properties: { '*': { type: 'string', maxLength: 1024 } } } } },
    async (req, reply) => {
      const p = parseModelPath(req.params['*']);
      if (p.verb !== ':predict')
        throw notFound(
          p.verb === ':classify' || p.verb === ':regress'
            ? `${p.verb.slice(1)} is not supported (tf.Example models); use :predict`
            : `no POST route for /v1/models/${req.params['*']} (expected …:predict)`,
        );
      // Resolving the version and queueing happen in one synchronous step, so a version
      // chosen here cannot be unloaded before the request is in its queue (it drains first).
      const servable = registry.resolve(p.name, p);
      const binary = req.body instanceof BodyBytes;
      const cancel = new AbortController();
      const { answer, rows, format } = queuePredict(servable, req.body, cancel.signal);
      // The queue holds a copy of the values: the body (and the request's decoded tensors, out
      // of scope here) can go while the request waits, before it grows old in the heap.
      req.body = undefined;
      const onClose = (): void => {
        if (!reply.raw.writableFinished) cancel.abort();
      };
      reply.raw.once('close', onClose);
      let outputs: Record<string, HostTensor> | undefined;
      try {
        outputs = await answer;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
      reply.raw.off('close', onClose);
      if (!outputs || cancel.signal.aborted) {
        // The client went away: nobody reads an answer. Counted as 499 (nginx's "client closed request").
        metrics.requests.inc({ model: p.name, api: 'predict', status: '499' });
        reply.hijack();
        return;
      }
      if (binary) return reply.type(BINARY_CONTENT_TYPE).send(encodeBinary(outputs));
      return reply.type('application/json').send(encodeJsonPredict(servable.outputs, outputs, { rows, format }));
    },
  );

  // Every body that is not binary is read as JSON whatever its content type: TF Serving's
  // own example posts with `curl -d`, which sends application/x-www-form-urlencoded.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(BINARY_CONTENT_TYPE, bodyBytesParser(bodyLimit));
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
