// Small native segments run on the calling thread (src/runtime/run-segments.ts INLINE_WORK):
// a hand-off to a worker thread and back would cost more than the work. The run then settles
// before the event loop turns (a setImmediate queued first has not fired), and the values are
// those of a run off the event loop (runSync and run give the same bytes); a large segment
// still goes to a worker.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { INLINE_WORK } from '../../src/runtime/run-segments.js';
import { a, handModel, placeholder, stockRun } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };

function model(width: number) {
  return handModel(
    [
      placeholder('x', 'float32', [-1, width]),
      { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { ...F, transpose_a: a.b(false), transpose_b: a.b(false) } },
      { name: 'out', op: 'Relu', input: ['mm'], attr: F },
    ],
    {
      w: {
        dtype: 'float32',
        shape: [width, width],
        values: Array.from({ length: width * width }, (_, i) => ((i * 37) % 17) / 16 - 0.5),
      },
    },
  );
}

describe('small native segments run inline', () => {
  it('a tiny model settles before the event loop turns and gives what stock tfjs gives', async () => {
    const m = model(8);
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      const x = tf.randomNormal([2, 8], 0, 1, 'float32', 5);
      const [want] = await stockRun(m, { x }, ['out']);
      let turned = false;
      setImmediate(() => (turned = true));
      const got = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [2, 8] } });
      expect(turned).toBe(false);
      expect(got.out!.shape).toEqual([2, 8]);
      for (const [i, v] of Array.from(want!.dataSync()).entries()) expect(got.out!.data[i]).toBeCloseTo(v, 5);
      tf.dispose([x, want!]);
    } finally {
      s.dispose();
    }
  });

  it('a large segment runs off the event loop: the event loop turns while it runs', async () => {
    // 1024 × 1024 multiply-adds per row, 64 rows: far above INLINE_WORK.
    const width = 1024;
    expect(64 * width * width).toBeGreaterThan(16 * INLINE_WORK);
    const m = model(width);
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      const x = new Float32Array(64 * width).map((_, i) => ((i * 13) % 7) / 7);
      const sync = s.runSync({ x: { data: x, shape: [64, width] } }).out!;
      let turned = false;
      setImmediate(() => (turned = true));
      const got = (await s.run({ x: { data: x, shape: [64, width] } })).out!;
      expect(turned).toBe(true);
      expect(Array.from(got.data)).toEqual(Array.from(sync.data));
    } finally {
      s.dispose();
    }
  });
});
