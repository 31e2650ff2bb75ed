// Dynamic batching for one model version. Requests queue in arrival order; a batch leaves the
// queue when it holds `maxBatch` rows or when its oldest request has waited `timeoutMs`, and
// runs on an idle session (each session runs one batch at a time, off the event loop). The
// rows of a batch are the requests' rows one after the other, so each caller's answer is the
// matching slice of the outputs. Each request's values are copied into its batch's arrays as
// it is queued (src/serve/staging.ts), so a batch is ready the moment a session is free.
// Written here rather than taken from a job-queue library (BullMQ and the like persist jobs in
// Redis between processes): this queue lives inside one process, holds typed arrays, and its
// whole point is to merge jobs.
import type { HostTensor, InferenceSession, TensorSpec } from '../runtime/session.js';
import { CancelledError, queueFull, unavailable } from './errors.js';
import type { PredictInput } from './request.js';
import { ArrayPool, StagedBatch } from './staging.js';

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
}

/** A queued request: its values are in its batch, not here (the body can be collected). */
interface Job {
  rows: number;
  enqueuedAt: number;
  resolve: (v: Record<string, HostTensor>) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

type Outputs = Record<string, HostTensor>;
type Batch = StagedBatch<Job>;

/** Free staging arrays a batcher keeps for reuse (beyond them, arrays are left to the GC). */
const POOL_FREE_BYTES = 128 * 1024 * 1024;

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
  /** Batches waiting for a session, in arrival order; requests join the last one. */
  private readonly queue: Batch[] = [];
  /** Requests and rows in `queue`. */
  private waiting = 0;
  private queuedRows = 0;
  private readonly idle: InferenceSession[];
  /** The model's inputs (every session has the same). */
  private readonly specs: readonly TensorSpec[];
  private readonly pool = new ArrayPool(POOL_FREE_BYTES);
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
    this.specs = sessions[0]!.inputs;
  }

  /** Waiting requests. */
  get depth(): number {
    return this.waiting;
  }
  /** Requests waiting or running. */
  get busy(): boolean {
    return this.waiting > 0 || this.running > 0;
  }

  private get single(): boolean {
    return !this.o.batchable || this.o.maxBatch === 1;
  }

  /**
   * Queues a checked request; resolves with its own outputs. A request whose signal aborts
   * while it waits leaves the queue (CancelledError); once running, its batch finishes and
   * only its slice is dropped, so the other requests of the batch still get their answers.
   */
  submit(input: PredictInput, signal?: AbortSignal): Promise<Outputs> {
    if (this.closed) return Promise.reject(unavailable('the model version is unloading; retry'));
    if (this.waiting >= this.o.maxQueue) {
      const batchesAhead = Math.ceil(this.queuedRows / this.o.maxBatch) / Math.max(1, this.idle.length + this.running);
      return Promise.reject(
        queueFull(
          `the model's queue is full (${this.waiting} requests waiting); retry later`,
          Math.max(1, Math.ceil(batchesAhead * this.batchSeconds)),
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(new CancelledError('the client cancelled the request'));
    return new Promise<Outputs>((resolve, reject) => {
      const job: Job = { rows: input.rows, enqueuedAt: performance.now(), resolve, reject, signal };
      const tail = this.queue[this.queue.length - 1];
      if (tail?.fits(input)) tail.join(job, input);
      else this.queue.push(new StagedBatch(this.pool, this.specs, job, input, this.o.maxBatch, this.single));
      if (signal) {
        job.onAbort = () => {
          const b = this.queue.find((q) => q.jobs.includes(job));
          if (!b) return; // already running: its slice is dropped by the caller
          b.remove(job);
          if (!b.jobs.length) {
            this.queue.splice(this.queue.indexOf(b), 1);
            b.release();
          }
          this.waiting--;
          this.queuedRows -= job.rows;
          reject(new CancelledError('the client cancelled the request'));
          this.settleDrain();
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.waiting++;
      this.queuedRows += input.rows;
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
      // Only the last batch can still grow (requests join the tail): wait for it to fill up
      // to the oldest request's timeout, never for an earlier one.
      if (!this.single && !this.noWait && this.queue.length === 1 && head.rows < this.o.maxBatch) {
        const wait = head.jobs[0]!.enqueuedAt + this.o.timeoutMs - performance.now();
        if (wait > 0) {
          if (!this.timer)
            this.timer = setTimeout(() => {
              this.timer = undefined;
              this.pump();
            }, Math.ceil(wait));
          return;
        }
      }
      this.queue.shift();
      this.waiting -= head.jobs.length;
      this.queuedRows -= head.rows;
      void this.run(this.idle.pop()!, head);
    }
    if (!this.queue.length && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async run(session: InferenceSession, batch: Batch): Promise<void> {
    this.running++;
    const { jobs, rows } = batch;
    for (const j of jobs) if (j.onAbort) j.signal!.removeEventListener('abort', j.onAbort);
    this.hooks.onBatch?.(rows, jobs.length);
    const t0 = performance.now();
    try {
      const outs = await session.run(batch.feed());
      // An output that is an input unchanged would share the staged array, which goes back
      // to the pool below: copied out.
      for (const [k, t] of Object.entries(outs)) if (batch.holds(t.data)) outs[k] = { ...t, data: t.data.slice() };
      for (const [i, j] of jobs.entries())
        j.resolve(jobs.length === 1 ? outs : sliceOutputs(outs, batch.startOf(i), j.rows, rows));
    } catch (e) {
      for (const j of jobs) j.reject(e);
    } finally {
      // The session has settled: nothing reads the staged arrays any more.
      batch.release();
      this.batchSeconds = 0.8 * this.batchSeconds + 0.2 * ((performance.now() - t0) / 1000);
      this.running--;
      this.idle.push(session);
      this.pump();
      this.settleDrain();
    }
  }
}
