// Dynamic batching for one model version. Requests queue in arrival order; a batch leaves the
// queue when it holds `maxBatch` rows or when its oldest request has waited `timeoutMs`, and
// runs on an idle session (each session runs one batch at a time, off the event loop). The
// rows of a batch are the requests' rows one after the other, so each caller's answer is the
// matching slice of the outputs. Written here rather than taken from a job-queue library
// (BullMQ and the like persist jobs in Redis between processes): this queue lives inside one
// process, holds typed arrays, and its whole point is to merge jobs.
import type { HostTensor, InferenceSession } from '../runtime/session.js';
import { CancelledError, queueFull, unavailable } from './errors.js';
import type { PredictInput, RequestTensor } from './request.js';

export interface BatcherOptions {
  maxBatch: number;
  timeoutMs: number;
  /** Requests waiting (not yet running) before submit() answers 429. */
  maxQueue: number;
  /** false: every request runs alone (results would depend on the batch; see Servable). */
  batchable: boolean;
}

export interface BatcherHooks {
  /** A batch started: its rows and number of requests. */
  onBatch?(rows: number, requests: number): void;
  /** The number of waiting requests changed. */
  onQueueDepth?(depth: number): void;
}

interface Job {
  input: PredictInput;
  enqueuedAt: number;
  resolve: (v: Record<string, HostTensor>) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

type Outputs = Record<string, HostTensor>;

/** Concatenates the requests' tensors along the first dimension (one request: its own arrays). */
function concatInputs(jobs: readonly Job[]): Record<string, RequestTensor> {
  const first = jobs[0]!.input.tensors;
  if (jobs.length === 1) return Object.fromEntries(first);
  const out: Record<string, RequestTensor> = {};
  for (const [name, t] of first) {
    const parts = jobs.map((j) => j.input.tensors.get(name)!);
    const total = parts.reduce((a, p) => a + p.data.length, 0);
    const data = new (t.data.constructor as new (n: number) => RequestTensor['data'])(total);
    let off = 0;
    for (const p of parts) {
      data.set(p.data as never, off);
      off += p.data.length;
    }
    out[name] = { data, shape: [parts.reduce((a, p) => a + p.shape[0]!, 0), ...t.shape.slice(1)] };
  }
  return out;
}

/** The rows [from, from + rows) of every output (views: the batch's arrays are not reused). */
function sliceOutputs(outs: Outputs, from: number, rows: number, total: number): Outputs {
  const r: Outputs = {};
  for (const [name, t] of Object.entries(outs)) {
    if (t.shape[0] !== total)
      throw new Error(
        `internal: output '${name}' of a batched run has shape [${t.shape.join(', ')}], not ${total} rows`,
      );
    const per = total ? t.data.length / total : 0;
    r[name] = {
      ...t,
      shape: [rows, ...t.shape.slice(1)],
      data: t.data.subarray(from * per, (from + rows) * per) as HostTensor['data'],
    };
  }
  return r;
}

export class Batcher {
  private readonly queue: Job[] = [];
  private queuedRows = 0;
  private readonly idle: InferenceSession[];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set by flush(): batches leave without waiting for the timeout. */
  private noWait = false;
  private drainWaiters: (() => void)[] = [];
  /** Mean seconds per batch (for Retry-After), smoothed over recent batches. */
  private batchSeconds = 0.01;

  constructor(
    sessions: readonly InferenceSession[],
    private readonly o: BatcherOptions,
    private readonly hooks: BatcherHooks = {},
  ) {
    this.idle = [...sessions];
  }

  /** Waiting requests. */
  get depth(): number {
    return this.queue.length;
  }
  /** Requests waiting or running. */
  get busy(): boolean {
    return this.queue.length > 0 || this.running > 0;
  }

  /**
   * Queues a checked request; resolves with its own outputs. A request whose signal aborts
   * while it waits leaves the queue (CancelledError); once running, its batch finishes and
   * only its slice is dropped, so the other requests of the batch still get their answers.
   */
  submit(input: PredictInput, signal?: AbortSignal): Promise<Outputs> {
    if (this.closed) return Promise.reject(unavailable('the model version is unloading; retry'));
    if (this.queue.length >= this.o.maxQueue) {
      const batchesAhead = Math.ceil(this.queuedRows / this.o.maxBatch) / Math.max(1, this.idle.length + this.running);
      return Promise.reject(
        queueFull(
          `the model's queue is full (${this.queue.length} requests waiting); retry later`,
          Math.max(1, Math.ceil(batchesAhead * this.batchSeconds)),
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(new CancelledError('the client cancelled the request'));
    return new Promise<Outputs>((resolve, reject) => {
      const job: Job = { input, enqueuedAt: performance.now(), resolve, reject, signal };
      if (signal) {
        job.onAbort = () => {
          const i = this.queue.indexOf(job);
          if (i < 0) return; // already running: its slice is dropped by the caller
          this.queue.splice(i, 1);
          this.queuedRows -= job.input.rows;
          this.hooks.onQueueDepth?.(this.queue.length);
          reject(new CancelledError('the client cancelled the request'));
          this.settleDrain();
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.queuedRows += input.rows;
      this.hooks.onQueueDepth?.(this.queue.length);
      this.pump();
    });
  }

  /** Runs what is queued as soon as sessions are free, and every later request likewise. */
  flush(): void {
    this.noWait = true;
    this.pump();
  }

  /** Stops taking requests and resolves once every queued and running request has finished. */
  drain(): Promise<void> {
    this.closed = true;
    // Waiting for the timeout would only delay the unload: run what is queued now.
    this.flush();
    if (!this.busy) return Promise.resolve();
    return new Promise((res) => this.drainWaiters.push(res));
  }

  private settleDrain(): void {
    if (this.busy || !this.drainWaiters.length) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const head = this.queue[0]!;
      const single = !this.o.batchable || this.o.maxBatch === 1;
      if (!single && !this.noWait && this.queuedRows < this.o.maxBatch) {
        const wait = head.enqueuedAt + this.o.timeoutMs - performance.now();
        if (wait > 0) {
          if (!this.timer)
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.pump();
            }, Math.ceil(wait));
          return;
        }
      }
      const jobs: Job[] = [];
      let rows = 0;
      if (single) jobs.push(this.queue.shift()!);
      else {
        // Whole requests in arrival order up to maxBatch rows; a larger request runs alone.
        while (this.queue.length && (jobs.length === 0 || rows + this.queue[0]!.input.rows <= this.o.maxBatch)) {
          const j = this.queue.shift()!;
          jobs.push(j);
          rows += j.input.rows;
        }
      }
      rows = jobs.reduce((a, j) => a + j.input.rows, 0);
      this.queuedRows -= rows;
      this.hooks.onQueueDepth?.(this.queue.length);
      void this.run(this.idle.pop()!, jobs, rows);
    }
    if (!this.queue.length && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async run(session: InferenceSession, jobs: Job[], rows: number): Promise<void> {
    this.running++;
    for (const j of jobs) if (j.onAbort) j.signal!.removeEventListener('abort', j.onAbort);
    this.hooks.onBatch?.(rows, jobs.length);
    const t0 = performance.now();
    try {
      const outs = await session.run(concatInputs(jobs));
      let from = 0;
      for (const j of jobs) {
        j.resolve(jobs.length === 1 ? outs : sliceOutputs(outs, from, j.input.rows, rows));
        from += j.input.rows;
      }
    } catch (e) {
      for (const j of jobs) j.reject(e);
    } finally {
      this.batchSeconds = 0.8 * this.batchSeconds + 0.2 * ((performance.now() - t0) / 1000);
      this.running--;
      this.idle.push(session);
      this.pump();
      this.settleDrain();
    }
  }
}
