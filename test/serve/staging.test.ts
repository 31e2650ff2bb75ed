// Staged batches: the rows of the requests, one after the other, as a plain concatenation of
// the requests' values would give them — after the arrays grew, after requests left the
// middle of the batch — and arrays reused through the pool.
import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../src/runtime/session.js';
import { arrayTensor, type PredictInput } from '../../src/serve/request.js';
import { ArrayPool, StagedBatch } from '../../src/serve/staging.js';
import { sameValues } from './fixtures.js';

const SPECS: TensorSpec[] = [
  { name: 'x', shape: [-1, 3, 2], dtype: 'float32' },
  { name: 'q', shape: [-1, 5], dtype: 'int8' },
];

interface Req {
  rows: number;
  x: Float32Array;
  q: Int8Array;
  input: PredictInput;
}

function request(rows: number, seed: number): Req {
  const x = Float32Array.from({ length: rows * 6 }, (_, i) => seed * 1000 + i + 0.25);
  const q = Int8Array.from({ length: rows * 5 }, (_, i) => ((seed * 31 + i) % 256) - 128);
  const tensors = new Map([
    ['x', arrayTensor(x, [rows, 3, 2])],
    ['q', arrayTensor(q, [rows, 5])],
  ]);
  return { rows, x, q, input: { tensors, rows, format: 'columnar' } };
}

function expectRows(batch: StagedBatch<{ rows: number }>, reqs: Req[]): void {
  const feed = batch.feed();
  const rows = reqs.reduce((a, r) => a + r.rows, 0);
  expect(batch.rows).toBe(rows);
  expect(feed.x!.shape).toEqual([rows, 3, 2]);
  expect(feed.q!.shape).toEqual([rows, 5]);
  for (const [name, Arr] of [
    ['x', Float32Array],
    ['q', Int8Array],
  ] as const)
    sameValues(feed[name]!.data, Arr.from(reqs.flatMap((r) => Array.from(r[name]))), name); // the values concatenated
  let start = 0;
  for (const [i, r] of reqs.entries()) {
    expect(batch.startOf(i)).toBe(start);
    start += r.rows;
  }
}

describe('serve: staged batches', () => {
  it('rows land in order through growth, and requests leave from anywhere', () => {
    const pool = new ArrayPool(1 << 20);
    const reqs = [3, 1, 4, 2, 5, 1].map((rows, i) => request(rows, i + 1));
    const jobs = reqs.map((r) => ({ rows: r.rows }));
    // Room for 2 rows of `x` up front: the arrays grow three times on the way to 16 rows.
    const batch = new StagedBatch(pool, SPECS, jobs[0]!, reqs[0]!.input, 16, false, 2 * 6 * 4);
    for (let i = 1; i < reqs.length; i++) {
      expect(batch.fits(reqs[i]!.input)).toBe(true);
      batch.join(jobs[i]!, reqs[i]!.input);
      expectRows(batch, reqs.slice(0, i + 1));
    }
    expect(batch.fits(request(1, 9).input)).toBe(false); // 16 rows: full
    for (const k of [3, 0, 3]) {
      expect(batch.remove(jobs[k]!)).toBe(true);
      jobs.splice(k, 1);
      reqs.splice(k, 1);
      expectRows(batch, reqs);
    }
    expect(batch.remove({ rows: 1 })).toBe(false);
  });

  it('a request whose shape after the batch dimension differs does not join', () => {
    const pool = new ArrayPool(1 << 20);
    const a = request(2, 1);
    const batch = new StagedBatch(pool, SPECS, { rows: 2 }, a.input, 8, false);
    const other: PredictInput = {
      rows: 1,
      format: 'columnar',
      tensors: new Map([
        ['x', arrayTensor(new Float32Array(8), [1, 4, 2])],
        ['q', arrayTensor(new Int8Array(5), [1, 5])],
      ]),
    };
    expect(batch.fits(other)).toBe(false);
    expect(batch.fits(request(6, 2).input)).toBe(true);
    expect(batch.fits(request(7, 2).input)).toBe(false);
  });

  it('a request staged whole keeps its shapes; released arrays are reused, up to the pool limit', () => {
    const pool = new ArrayPool(100);
    const r = request(3, 4);
    const whole = new StagedBatch(pool, SPECS, { rows: 3 }, r.input, 1, true);
    expect(whole.fits(request(1, 5).input)).toBe(false);
    const feed = whole.feed();
    expect(feed.x!.shape).toEqual([3, 3, 2]);
    sameValues(feed.x!.data, r.x, 'whole x');
    sameValues(feed.q!.data, r.q, 'whole q');
    const [x, q] = [feed.x!.data.buffer, feed.q!.data.buffer];
    whole.release();
    whole.release(); // once only
    // x (72 bytes) fits the 100-byte pool, then q (15 bytes) does too; a second x would not.
    expect(pool.acquire('float32', 18).buffer).toBe(x);
    expect(pool.acquire('int8', 15).buffer).toBe(q);
    expect(pool.acquire('float32', 18).buffer).not.toBe(x);
  });
});
