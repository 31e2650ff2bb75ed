// A batch in the making: the requests' input values copied, as each request is queued, into
// one typed array per model input (rows one after the other), so that the batch is ready to
// run the moment a session is free. The arrays come from a pool and go back to it once the
// batch has run: at a steady load the server allocates no big arrays per request (a fresh
// array per batch, as the queue outlives the young generation, made a full garbage
// collection every few dozen requests).
import { DTYPE_ARRAY, type HostArray, type TensorDType, type TensorSpec } from '../runtime/host-tensor.js';
import type { PredictInput } from './request.js';

/** Free arrays kept for reuse, by dtype and length; at most `maxFreeBytes` of them. */
export class ArrayPool {
  private readonly free = new Map<string, HostArray[]>();
  private freeBytes = 0;

  constructor(private readonly maxFreeBytes: number) {}

  acquire(dtype: TensorDType, length: number): HostArray {
    const list = this.free.get(`${dtype}:${length}`);
    const a = list?.pop();
    if (a) {
      this.freeBytes -= a.byteLength;
      return a;
    }
    return new DTYPE_ARRAY[dtype](length);
  }

  /** `a` must be an array this pool gave out, no longer read or written by anyone. */
  release(dtype: TensorDType, a: HostArray): void {
    if (this.freeBytes + a.byteLength > this.maxFreeBytes) return; // left to the garbage collector
    const key = `${dtype}:${a.length}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(a);
    this.freeBytes += a.byteLength;
  }
}

/** Batches stage at most this many bytes per input up front; larger batches grow as they fill. */
export const INITIAL_STAGE_BYTES = 32 * 1024 * 1024;
const ELEMENT_BYTES: Record<TensorDType, number> = { float32: 4, int32: 4, bool: 1, int8: 1, uint8: 1 };

interface StagedInput {
  spec: TensorSpec;
  /** The shape after the first (batch) dimension, shared by every request of the batch; whole: the full shape. */
  rowShape: number[];
  /** Values per row (whole: the tensor's values). */
  perRow: number;
  data: HostArray;
}

/**
 * Requests of one batch and their rows, staged in pooled arrays. A batch of a model that is not
 * batched holds one request, staged whole (its inputs need not have a batch dimension).
 */
export class StagedBatch<J extends { rows: number }> {
  readonly jobs: J[] = [];
  /** The first row of each job (parallel to `jobs`). */
  private readonly starts: number[] = [];
  rows = 0;
  /** Staged units: rows, or 1 for a whole request. */
  private units = 0;
  private readonly inputs: StagedInput[];
  private released = false;

  /**
   * A batch for `first` (its values `input` staged at once) that takes up to `maxRows` rows
   * (requests join it while it fits them, see fits()); `whole`: `first` alone, inputs copied
   * with their shapes. The batch keeps no reference to the inputs (nor to the bodies behind
   * them), only the values it copied. `initialBytes`: see INITIAL_STAGE_BYTES.
   */
  constructor(
    private readonly pool: ArrayPool,
    specs: readonly TensorSpec[],
    first: J,
    input: PredictInput,
    private readonly maxRows: number,
    private readonly whole: boolean,
    initialBytes = INITIAL_STAGE_BYTES,
  ) {
    this.inputs = specs.map((spec) => {
      const t = input.tensors.get(spec.name)!;
      if (whole) return { spec, rowShape: t.shape, perRow: t.size, data: pool.acquire(spec.dtype, t.size) };
      const rows = input.rows;
      const perRow = t.size / rows;
      const rowBytes = Math.max(1, perRow * ELEMENT_BYTES[spec.dtype]);
      const capacity = Math.max(rows, Math.min(maxRows, Math.floor(initialBytes / rowBytes)));
      return { spec, rowShape: t.shape.slice(1), perRow, data: pool.acquire(spec.dtype, capacity * perRow) };
    });
    this.add(first, input);
  }

  /** Whether `input` can join: rows left, and the same shape after the batch dimension. */
  fits(input: PredictInput): boolean {
    if (this.whole || this.rows + input.rows > this.maxRows) return false;
    return this.inputs.every((s) => {
      const shape = input.tensors.get(s.spec.name)!.shape;
      return shape.length === s.rowShape.length + 1 && s.rowShape.every((d, i) => d === shape[i + 1]);
    });
  }

  /** Copies the job's values in after the rows already staged (the caller checked fits()). */
  private add(job: J, input: PredictInput): void {
    const units = this.units + (this.whole ? 1 : input.rows);
    for (const s of this.inputs) {
      if (units * s.perRow > s.data.length) {
        // Grow: double (up to the batch's limit), keeping the rows staged so far.
        const capacity = Math.min(this.maxRows, Math.max(units, (2 * s.data.length) / s.perRow));
        const bigger = this.pool.acquire(s.spec.dtype, capacity * s.perRow);
        bigger.set(s.data.subarray(0, this.units * s.perRow) as never);
        this.pool.release(s.spec.dtype, s.data);
        s.data = bigger;
      }
      input.tensors.get(s.spec.name)!.copyTo(s.data, this.units * s.perRow);
    }
    this.jobs.push(job);
    this.starts.push(this.rows);
    this.rows += job.rows;
    this.units = units;
  }

  /** Adds a job (its values `input`) that fits(). */
  join(job: J, input: PredictInput): void {
    if (!this.fits(input)) throw new Error('internal: a request joined a batch it does not fit');
    this.add(job, input);
  }

  /** Takes a queued job out, moving the rows after it down. False: it is not in this batch. */
  remove(job: J): boolean {
    const i = this.jobs.indexOf(job);
    if (i < 0) return false;
    const from = this.whole ? 0 : this.starts[i]!,
      n = this.whole ? 1 : job.rows;
    for (const s of this.inputs) s.data.copyWithin(from * s.perRow, (from + n) * s.perRow, this.units * s.perRow);
    this.jobs.splice(i, 1);
    this.starts.splice(i, 1);
    for (let k = i; k < this.starts.length; k++) this.starts[k]! -= job.rows;
    this.rows -= job.rows;
    this.units -= n;
    return true;
  }

  /** The first row of the i-th job. */
  startOf(i: number): number {
    return this.starts[i]!;
  }

  /** The session's feed: views of the staged rows (valid until release()). */
  feed(): Record<string, { data: HostArray; shape: number[] }> {
    const out: Record<string, { data: HostArray; shape: number[] }> = {};
    for (const s of this.inputs)
      out[s.spec.name] = {
        data: s.data.subarray(0, this.units * s.perRow),
        shape: this.whole ? [...s.rowShape] : [this.rows, ...s.rowShape],
      };
    return out;
  }

  /** Whether `a` shares memory with a staged array (an output that is an input, unchanged). */
  holds(a: ArrayBufferView): boolean {
    return this.inputs.some((s) => s.data.buffer === a.buffer);
  }

  /** Gives the arrays back to the pool: only once the session is done reading them. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const s of this.inputs) this.pool.release(s.spec.dtype, s.data);
  }
}
