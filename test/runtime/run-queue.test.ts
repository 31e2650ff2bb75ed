// Asynchronous session runs go through the run queue (native/common/run_queue.h): threads that
// spin between runs and settle each run's promise through a thread-safe function. Checked: the
// quantize step's values against a hand-computed rounding with runs of several sessions in flight
// at once, a gather's values and its out-of-range index rejected with the core's message, and a worker thread terminated with
// runs still queued (its environment goes away before they settle) not taking the process down.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { RuntimePlan } from '../../binding.js';
import { native, packageRoot } from '../../src/native/binding.js';

// One quantize step: y = clamp(round(x / scale) + zero, -128, 127), scale and zero as given.
const plan = (n: number): RuntimePlan => ({
  buffers: [
    { dtype: 0, shape: [-1, n] },
    { dtype: 1, shape: [-1, n] },
  ],
  weights: [] as Float32Array[],
  inputs: [0],
  outputs: [1],
  steps: [{ op: 'quantize', inputs: [0], outputs: [1], ints: [0], floats: [0.5] }],
});

function expected(x: Float32Array): number[] {
  // Round half to even, as the quantizer does (docs/quantization.md).
  return Array.from(x, (v) => {
    const q = v / 0.5;
    const r = Math.abs(q - Math.trunc(q)) === 0.5 ? 2 * Math.round(q / 2) : Math.round(q);
    return Math.max(-128, Math.min(127, r)) + 0; // + 0: -0 is 0 in an Int8Array
  });
}

describe('the run queue', () => {
  it('runs of several sessions in flight at once each give their own hand-computed values', async () => {
    const { RuntimeSession } = native();
    const sessions = Array.from({ length: 3 }, () => new RuntimeSession(plan(64), { threads: 1 }));
    const inputs = Array.from({ length: 24 }, (_, i) =>
      Float32Array.from({ length: 64 }, (_, j) => (i * 7 + j) / 4 - 9),
    );
    const got = await Promise.all(inputs.map((x, i) => sessions[i % 3]!.run([x], { batch: 1 })));
    got.forEach((out, i) => expect(Array.from(out[0]!)).toEqual(expected(inputs[i]!)));
    for (const s of sessions) s.dispose();
  });

  it('arguments are refused before anything is queued; a run the core refuses while it runs rejects with its message', async () => {
    const { RuntimeSession } = native();
    const s = new RuntimeSession(plan(64), { threads: 1 });
    expect(() => s.run([new Float32Array(10)], { batch: 1 })).toThrow(/inputs\[0\] has 10 elements, expected 64/);
    s.dispose();
    // GatherV2 of x [4, 8] along axis 0: the index is data, checked only when the step runs.
    const gather = new RuntimeSession(
      {
        buffers: [
          { dtype: 0 as const, shape: [4, 8] },
          { dtype: 3 as const, shape: [2] },
          { dtype: 0 as const, shape: [2, 8] },
        ],
        weights: [],
        inputs: [0, 1],
        outputs: [2],
        steps: [{ op: 'gather', inputs: [0, 1], outputs: [2], ints: [0], floats: [] }],
      },
      { threads: 1 },
    );
    const x = Float32Array.from({ length: 32 }, (_, i) => i);
    const ok = await gather.run([x, Int32Array.from([3, 1])], { batch: 1 });
    expect(Array.from(ok[0]!)).toEqual([...Array.from(x.slice(24, 32)), ...Array.from(x.slice(8, 16))]);
    await expect(gather.run([x, Int32Array.from([1, 4])], { batch: 1 })).rejects.toThrow(/index 4 outside \[0, 4\)/);
    gather.dispose();
  });

  it('a worker thread terminated with runs queued does not take the process down', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(require.resolve('node-gyp-build', { paths: [workerData.root] }))(workerData.root);
      const s = new b.RuntimeSession(workerData.plan, { threads: 1 });
      const x = new Float32Array(workerData.n).fill(1.25);
      for (let i = 0; i < 200; i++) s.run([x], { batch: 1 });
      parentPort.postMessage('queued');
    `;
    const n = 1 << 18;
    const w = new Worker(code, { eval: true, workerData: { root: packageRoot, plan: plan(n), n } });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    await w.terminate();
    // The main thread's runs still go through the same queue and settle.
    const s = new (native().RuntimeSession)(plan(8), { threads: 1 });
    const x = Float32Array.from([0.25, 0.75, -1.25, 63.5, 64, -64.25, 3, -0.5]);
    expect(Array.from((await s.run([x], { batch: 1 }))[0]!)).toEqual(expected(x));
    s.dispose();
  });
});
