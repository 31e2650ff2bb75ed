// Prometheus metrics (prom-client), one registry per server so that several servers in one
// process (tests, embedding) do not share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ServeMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'model' | 'api' | 'status'>;
  readonly latency: Histogram<'model' | 'api' | 'status'>;
  readonly batchRows: Histogram<'model' | 'version'>;
  readonly batchRequests: Histogram<'model' | 'version'>;
  readonly queueDepth: Gauge<'model' | 'version'>;
  readonly sessionBytes: Gauge<'model' | 'version' | 'kind'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tfjs_quant_serve_' });
    this.requests = new Counter({
      name: 'tfjs_quant_serve_requests_total',
      help: 'Requests by model, API (predict, status, metadata) and HTTP status (499: client went away)',
      labelNames: ['model', 'api', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'tfjs_quant_serve_request_duration_seconds',
      help: 'Request latency from arrival to the last byte sent',
      labelNames: ['model', 'api', 'status'],
      registers,
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    });
    this.batchRows = new Histogram({
      name: 'tfjs_quant_serve_batch_rows',
      help: 'Rows per batch run',
      labelNames: ['model', 'version'],
      registers,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    });
    this.batchRequests = new Histogram({
      name: 'tfjs_quant_serve_batch_requests',
      help: 'Requests merged per batch run',
      labelNames: ['model', 'version'],
      registers,
      buckets: [1, 2, 4, 8, 16, 32, 64],
    });
    this.queueDepth = new Gauge({
      name: 'tfjs_quant_serve_queue_depth',
      help: 'Requests waiting for a batch',
      labelNames: ['model', 'version'],
      registers,
    });
    this.sessionBytes = new Gauge({
      name: 'tfjs_quant_serve_session_bytes',
      help: 'Native session memory (kind: weights, arena) of the loaded versions',
      labelNames: ['model', 'version', 'kind'],
      registers,
    });
  }

  /** Batcher hooks reporting into these metrics for one model version. */
  hooksFor(model: string, version: number): { onBatch(rows: number, requests: number): void } {
    const labels = { model, version: String(version) };
    return {
      onBatch: (rows, requests) => {
        this.batchRows.observe(labels, rows);
        this.batchRequests.observe(labels, requests);
      },
    };
  }

  /**
   * The gauges read from the sessions and queues, set when /metrics is read (setting the queue
   * depth at every change cost more than the batcher itself).
   */
  setVersionState(
    model: string,
    version: number,
    m: { weightBytes: number; arenaBytes: number },
    queued: number,
  ): void {
    const v = String(version);
    this.sessionBytes.set({ model, version: v, kind: 'weights' }, m.weightBytes);
    this.sessionBytes.set({ model, version: v, kind: 'arena' }, m.arenaBytes);
    this.queueDepth.set({ model, version: v }, queued);
  }

  /** An unloaded version's series disappear instead of reporting stale values. */
  forgetVersion(model: string, version: number): void {
    const v = String(version);
    this.queueDepth.remove({ model, version: v });
    this.sessionBytes.remove({ model, version: v, kind: 'weights' });
    this.sessionBytes.remove({ model, version: v, kind: 'arena' });
  }
}
