// Split, SplitV, Unpack, Pack (src/runtime/emit-pieces.ts), Neg and BroadcastTo run natively
// as movement and binary steps; every output is compared with stock tfjs-converter on the same
// JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const I = (shape: number[], values: number[]) => ({ dtype: 'int32' as const, shape, values });

// x [1, 4, 4, 6]: Split in two along the channels; the first half negated; the second cut by
// SplitV into 2 + the rest (−1) and multiplied; the product's two channels unstacked from
// [16, 2] and stacked back swapped; a scalar input broadcast to [1, 4, 4, 2] added.
const model = handModel(
  [
    placeholder('x', 'float32', [1, 4, 4, 6]),
    placeholder('h', 'float32', []),
    { name: 'split', op: 'Split', input: ['channels', 'x'], attr: { ...F, num_split: a.i(2) } },
    { name: 'neg', op: 'Neg', input: ['split'], attr: F },
    {
      name: 'splitv',
      op: 'SplitV',
      input: ['split:1', 'sizes', 'last'],
      attr: { ...F, num_split: a.i(2), Tlen: a.type('int32') },
    },
    { name: 'prod', op: 'Mul', input: ['splitv', 'splitv:1'], attr: F },
    { name: 'rows', op: 'Reshape', input: ['prod', 'rows_shape'], attr: { ...F, Tshape: a.type('int32') } },
    { name: 'unstack', op: 'Unpack', input: ['rows'], attr: { ...F, num: a.i(2), axis: a.i(1) } },
    { name: 'stack', op: 'Pack', input: ['unstack:1', 'unstack'], attr: { ...F, N: a.i(2), axis: a.i(-1) } },
    { name: 'image', op: 'Reshape', input: ['stack', 'image_shape'], attr: { ...F, Tshape: a.type('int32') } },
    { name: 'state', op: 'BroadcastTo', input: ['h', 'image_shape'], attr: { ...F, Tidx: a.type('int32') } },
    { name: 'out', op: 'AddV2', input: ['image', 'state'], attr: F },
  ],
  {
    channels: I([], [3]),
    sizes: I([2], [2, -1]),
    last: I([], [-1]),
    rows_shape: I([2], [16, 2]),
    image_shape: I([4], [1, 4, 4, 2]),
  },
  { signature: { outputs: { out: { name: 'out:0' }, neg: { name: 'neg:0' } } } },
);

describe('pieces, Neg and BroadcastTo', () => {
  it('run natively in one segment and give what stock tfjs gives', async () => {
    const s = await InferenceSession.create(
      await loadModel({ modelJson: model.modelJson, weightData: model.weightData }),
      {
        threads: 1,
      },
    );
    try {
      const where = new Map(s.plan.map((p) => [p.node, p.placement]));
      for (const n of ['split', 'neg', 'splitv', 'unstack', 'stack', 'state', 'out'])
        expect(where.get(n), n).toBe('native-float');
      const x = tf.randomNormal([1, 4, 4, 6], 0, 1, 'float32', 21);
      const h = tf.scalar(0.375);
      const want = await stockRun(model, { x, h }, ['out', 'neg']);
      const got = await s.run({
        x: { data: x.dataSync() as Float32Array, shape: [1, 4, 4, 6] },
        h: { data: Float32Array.of(0.375), shape: [] },
      });
      for (const [k, name] of ['out', 'neg'].entries()) {
        expect(got[name]!.shape, name).toEqual(want[k]!.shape);
        // Moves, one product, one sum, a sign: the same float32 values.
        expect(Array.from(got[name]!.data), name).toEqual(Array.from(want[k]!.dataSync()));
      }
      tf.dispose([x, h, ...want]);
    } finally {
      s.dispose();
    }
  });
});
