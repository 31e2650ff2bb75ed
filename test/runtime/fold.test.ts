// Plan-time folding (src/runtime/fold.ts): a computation that depends only on the planned
// shapes and on constants — here an anchor-like grid built from the feature map's size, as
// detectors write it (Shape, Range, Fill, Pack, Tile) — is computed once while planning and
// read as a constant by the native nodes; the result is compared with stock tfjs-converter.
// A shape computed over a free batch cannot be folded, but when only native nodes read it (a
// Reshape keeping the batch: Shape → StridedSlice → Pack) the plan's shapes already say it,
// and it runs nowhere.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const I32 = { T: a.type('int32') };
const I = (shape: number[], values: number[]) => ({ dtype: 'int32' as const, shape, values });

/** shape[from] as a scalar: StridedSlice from..to with the axis shrunk. */
const dimension = (name: string, from: string, to: string) => ({
  name,
  op: 'StridedSlice',
  input: ['shape', from, to, 'step'],
  attr: {
    ...I32,
    Index: a.type('int32'),
    begin_mask: a.i(0),
    end_mask: a.i(0),
    ellipsis_mask: a.i(0),
    new_axis_mask: a.i(0),
    shrink_axis_mask: a.i(1),
  },
});

const grid = handModel(
  [
    placeholder('x', 'float32', [1, 6, 5, 4]),
    { name: 'shape', op: 'Shape', input: ['x'], attr: { ...F, out_type: a.type('int32') } },
    dimension('h', 'at1', 'at2'),
    dimension('w', 'at2', 'at3'),
    { name: 'range', op: 'Range', input: ['zero', 'w', 'one'], attr: { Tidx: a.type('int32') } },
    {
      name: 'rangef',
      op: 'Cast',
      input: ['range'],
      attr: { SrcT: a.type('int32'), DstT: a.type('float32'), Truncate: a.b(false) },
    },
    { name: 'centers', op: 'Mul', input: ['rangef', 'stride'], attr: F },
    { name: 'dims', op: 'Pack', input: ['h', 'w'], attr: { ...I32, N: a.i(2), axis: a.i(0) } },
    { name: 'ones', op: 'Fill', input: ['dims', 'onef'], attr: { ...F, index_type: a.type('int32') } },
    { name: 'plane', op: 'Mul', input: ['ones', 'centers'], attr: F },
    { name: 'plane3', op: 'ExpandDims', input: ['plane', 'last'], attr: { ...F, Tdim: a.type('int32') } },
    { name: 'anchors', op: 'Tile', input: ['plane3', 'reps'], attr: { ...F, Tmultiples: a.type('int32') } },
    { name: 'sum', op: 'AddV2', input: ['x', 'anchors'], attr: F },
    { name: 'out', op: 'Relu', input: ['sum'], attr: F },
  ],
  {
    at1: I([1], [1]),
    at2: I([1], [2]),
    at3: I([1], [3]),
    step: I([1], [1]),
    zero: I([], [0]),
    one: I([], [1]),
    stride: { dtype: 'float32', shape: [], values: [0.25] },
    onef: { dtype: 'float32', shape: [], values: [1] },
    last: I([], [-1]),
    reps: I([3], [1, 1, 4]),
  },
);

describe('plan-time folding', () => {
  it('a grid computed from the planned shapes and constants is folded once; the network reads it natively, as stock tfjs', async () => {
    const s = await InferenceSession.create(
      await loadModel({ modelJson: grid.modelJson, weightData: grid.weightData }),
      { threads: 1 },
    );
    try {
      const where = new Map(s.plan.map((p) => [p.node, p.placement]));
      // The grid (120 values, more than shape inference tracks) is folded: Tile has no native
      // kernel and would run in tfjs on every run. What only folded nodes read is not planned.
      expect(s.plan.map((p) => [p.node, p.placement])).toEqual([
        ['anchors', 'folded'],
        ['sum', 'native-float'],
        ['out', 'native-float'],
      ]);
      expect(where.get('sum')).toBe('native-float');
      expect(where.get('out')).toBe('native-float');
      const x = tf.randomNormal([1, 6, 5, 4], 0, 1, 'float32', 3);
      const [want] = await stockRun(grid, { x }, ['out']);
      const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 6, 5, 4] } })).out!;
      expect(got.shape).toEqual(want!.shape);
      // One float32 addition and a max: the same values.
      expect(Array.from(got.data)).toEqual(Array.from(want!.dataSync()));
      tf.dispose([x, want!]);
    } finally {
      s.dispose();
    }
  });

  it('a Reshape target computed from a free batch runs nowhere when only the native Reshape reads it; any batch gives what stock tfjs gives', async () => {
    const flat = handModel(
      [
        placeholder('x', 'float32', [-1, 4, 6]),
        { name: 'act', op: 'Relu', input: ['x'], attr: F },
        { name: 'shape', op: 'Shape', input: ['act'], attr: { ...F, out_type: a.type('int32') } },
        dimension('batch', 'at0', 'at1'),
        { name: 'target', op: 'Pack', input: ['batch', 'width'], attr: { ...I32, N: a.i(2), axis: a.i(0) } },
        { name: 'rows', op: 'Reshape', input: ['act', 'target'], attr: { ...F, Tshape: a.type('int32') } },
        { name: 'out', op: 'AddV2', input: ['rows', 'bias'], attr: F },
      ],
      {
        at0: I([1], [0]),
        at1: I([1], [1]),
        step: I([1], [1]),
        width: I([], [24]),
        bias: { dtype: 'float32', shape: [24], values: Array.from({ length: 24 }, (_, i) => i / 8 - 1) },
      },
    );
    const s = await InferenceSession.create(
      await loadModel({ modelJson: flat.modelJson, weightData: flat.weightData }),
      {
        threads: 1,
      },
    );
    try {
      for (const b of [1, 3]) {
        const x = tf.randomNormal([b, 4, 6], 0, 1, 'float32', b);
        const [want] = await stockRun(flat, { x }, ['out']);
        const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: [b, 4, 6] } })).out!;
        expect(got.shape).toEqual([b, 24]);
        expect(Array.from(got.data)).toEqual(Array.from(want!.dataSync()));
        tf.dispose([x, want!]);
      }
      expect(s.plannedInputShapes).toEqual({ x: [-1, 4, 6] });
      expect(Object.fromEntries(s.plan.map((p) => [p.node, p.placement]))).toEqual({
        act: 'native-float',
        shape: 'folded',
        batch: 'folded',
        target: 'folded',
        rows: 'native-float',
        out: 'native-float',
      });
    } finally {
      s.dispose();
    }
  });
});
