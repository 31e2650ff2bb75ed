// A PadV2 by −Infinity and the VALID MaxPool reading it (how Keras and TF1 detectors write a
// padded max pool) are planned as one native max pool with explicit padding
// (src/runtime/pad-pool.ts); every result is compared with stock tfjs-converter on the same JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';
import { quantized } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const SHAPE = [1, 9, 10, 4];

/** x → PadV2 (rows 1 | 1, columns 0 | 2, by −Infinity) → 3×3 stride-2 VALID MaxPool → out. */
function padPoolModel(pads = [0, 0, 1, 1, 0, 2, 0, 0]): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', SHAPE),
      { name: 'pad', op: 'PadV2', input: ['x', 'pads', 'lowest'], attr: { ...F, Tpaddings: a.type('int32') } },
      {
        name: 'out',
        op: 'MaxPool',
        input: ['pad'],
        attr: {
          ...F,
          ksize: a.ints([1, 3, 3, 1]),
          strides: a.ints([1, 2, 2, 1]),
          padding: a.s('VALID'),
          data_format: a.s('NHWC'),
        },
      },
    ],
    {
      pads: { dtype: 'int32', shape: [4, 2], values: pads },
      lowest: { dtype: 'float32', shape: [], values: [-Infinity] },
    },
  );
}

// Mostly negative values: a pad by zeros instead of −Infinity would change the border maxima.
const input = () => tf.randomNormal(SHAPE, -2, 1, 'float32', 7);

async function compare(s: InferenceSession, m: HandModel): Promise<void> {
  const x = input();
  const [want] = await stockRun(m, { x }, ['out']);
  const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: SHAPE } })).out!;
  expect(got.shape).toEqual(want!.shape);
  // A maximum is exact: the same values, bit for bit.
  expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want!.dataSync() as Float32Array));
  tf.dispose([x, want!]);
}

describe('a max pool padded by −Infinity', () => {
  it('PadV2 → VALID MaxPool runs as one native max pool with explicit padding, as stock tfjs', async () => {
    const m = padPoolModel();
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('out')!.placement).toBe('native-float');
      expect(where.get('pad')).toMatchObject({ placement: 'native-float', fusedInto: 'out' });
      expect(s.segments.map((g) => g.kind)).toEqual(['native']);
      await compare(s, m);
    } finally {
      s.dispose();
    }
  });

  it('a pad as wide as the window (a window of padding alone) is not fused: the PadV2 runs as its own native step, as stock tfjs', async () => {
    const m = padPoolModel([0, 0, 3, 0, 0, 0, 0, 0]);
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('pad')!.fusedInto).toBeUndefined();
      expect(where.get('pad')).toMatchObject({ placement: 'native-float' });
      expect(s.segments.map((g) => g.kind)).toEqual(['native']);
      await compare(s, m);
    } finally {
      s.dispose();
    }
  });

  it('int8: the pad (kept float for its non-finite constant) runs as its own native float step before the int8 pool, as the simulation', async () => {
    const m = padPoolModel();
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    const calib = input();
    const q = await quantized(g, calib);
    const s = await InferenceSession.create(q, { threads: 1 });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('out')).toMatchObject({ placement: 'native-int8' });
      expect(where.get('pad')).toMatchObject({ placement: 'native-float' });
      expect(where.get('pad')!.fusedInto).toBeUndefined();
      expect(s.segments.map((g) => g.kind)).toEqual(['native']);
      const x = input();
      const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: SHAPE } })).out!.data;
      expect(Array.from(got as Float32Array)).toEqual(Array.from(simulate(q, x).outputs[0]!.data));
      tf.dispose([x, calib]);
    } finally {
      s.dispose();
    }
  });
});
