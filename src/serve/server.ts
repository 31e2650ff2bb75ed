// createServer(options): a Fastify server answering TF Serving's REST API for the configured
// models, with dynamic batching, hot reload of new versions and Prometheus metrics.
//
//   const server = await createServer({ model: 'models/mnist', maxBatch: 16 });
//   const url = await server.listen();        // http://127.0.0.1:8501
//   await server.close();                     // stop accepting, finish in-flight requests
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { initFloatBackend } from '../backend/float.js';
import { ServeError } from './errors.js';
import { ServeMetrics } from './metrics.js';
import { resolveServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.js';
import { ModelRegistry } from './registry.js';
import { registerRoutes } from './routes.js';

export interface TfjsQuantServer {
  readonly app: FastifyInstance;
  readonly registry: ModelRegistry;
  readonly metrics: ServeMetrics;
  readonly options: ResolvedServeOptions;
  /** Starts listening on options.host:options.port; resolves with the base URL. */
  listen(): Promise<string>;
  /** Stops accepting connections, answers every in-flight request, frees the sessions. */
  close(): Promise<void>;
}

/** Fastify's own errors (body limit, content type, …) and ours, as TF Serving's {"error": "…"}. */
function errorReply(
  err: FastifyError | ServeError | Error,
  bodyLimit: number,
): { status: number; message: string; headers: Record<string, string> } {
  if (err instanceof ServeError) return { status: err.statusCode, message: err.message, headers: err.headers };
  const fe = err as FastifyError;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { status: 413, message: `request body is larger than the limit of ${bodyLimit} bytes`, headers: {} };
  if (fe.validation) return { status: 400, message: `invalid request: ${fe.message}`, headers: {} };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, message: fe.message, headers: {} };
  return { status: 500, message: `internal error: ${err.message}`, headers: {} };
}

export async function createServer(options: ServeOptions): Promise<TfjsQuantServer> {
  const o = await resolveServeOptions(options);
  // Sessions with tfjs segments (ops the native runtime lacks) need the float backend.
  await initFloatBackend();
  const app = Fastify({
    logger: o.logLevel === false ? false : { level: o.logLevel },
    bodyLimit: o.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const metrics = new ServeMetrics();
  const registry = new ModelRegistry(o, metrics, app.log);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const r = errorReply(err, o.bodyLimit);
    if (r.status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(r.status).headers(r.headers).send({ error: r.message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route for ${req.method} ${req.url}` });
  });
  app.addHook('onResponse', (req, reply, done) => {
    const l = req.serveLabels;
    if (l) {
      const labels = { ...l, status: String(reply.statusCode) };
      metrics.requests.inc(labels);
      metrics.latency.observe(labels, reply.elapsedTime / 1000);
    }
    done();
  });
  // While closing, every answer ends its connection: a keep-alive connection that was busy
  // when close() began would otherwise stay open (Fastify: 72 s) and hold the close back.
  let shuttingDown = false;
  app.addHook('onSend', async (_req, reply) => {
    if (shuttingDown) void reply.header('connection', 'close');
  });
  registerRoutes(app, registry, metrics, o.bodyLimit);
  await registry.start();
  await app.ready();

  let closing: Promise<void> | undefined;
  return {
    app,
    registry,
    metrics,
    options: o,
    async listen() {
      await app.listen({ host: o.host, port: o.port });
      const a = app.server.address();
      if (!a || typeof a === 'string') throw new Error(`internal: unexpected server address ${String(a)}`);
      return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    },
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        registry.stopPolling();
        // Queued requests run now instead of after their batch timeouts; the sessions stay
        // until every in-flight request (one still uploading its body included) is answered.
        registry.flush();
        await app.close();
        await registry.close();
      })();
      return closing;
    },
  };
}
