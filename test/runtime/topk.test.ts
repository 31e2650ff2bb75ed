// TopKV2 runs natively (topk_f32 for the indices, take_f32 for the values) and hands its int32
// indices to tfjs and to the caller as int32; results are compared with stock tfjs-converter
// on the same JSON, ties included. With a NaN in a row tfjs's order is not defined (its sort's
// comparison is inconsistent there: [3, NaN, 1, 0, 0, NaN, 2] comes back unsorted for k = 7 and
// NaN first for k = 3); the native order ranks a NaN after every number, checked against a
// sort written here.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { native } from '../../src/native/binding.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const SHAPE = [1, 6, 50];

/** x → Relu → TopKV2(k) → values, indices; indices → Neg (int32: tfjs) → rows. */
function topKModel(k: number): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', SHAPE),
      { name: 'relu', op: 'Relu', input: ['x'], attr: { T: a.type('float32') } },
      { name: 'top', op: 'TopKV2', input: ['relu', 'k'], attr: { T: a.type('float32'), sorted: a.b(true) } },
      { name: 'rows', op: 'Neg', input: ['top:1'], attr: { T: a.type('int32') } },
    ],
    {
      k: { dtype: 'int32', shape: [], values: [k] },
    },
    {
      signature: {
        outputs: { values: { name: 'top:0' }, indices: { name: 'top:1' }, rows: { name: 'rows:0' } },
      },
    },
  );
}

/** Many zeros after the Relu (ties, kept in index order) and a repeated maximum. */
function input(): Float32Array {
  const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 11);
  const d = Float32Array.from(x.dataSync() as Float32Array);
  x.dispose();
  d[3] = 5;
  d[17] = 5;
  return d;
}

/** Each row's indices in TopK order: larger first, ties by index, NaN after every number. */
function sortedIndices(d: Float32Array, n: number, k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < d.length / n; r++) {
    const idx = Array.from({ length: n }, (_, i) => i);
    const v = (i: number) => d[r * n + i]!;
    idx.sort((p, q) =>
      Number.isNaN(v(p)) !== Number.isNaN(v(q)) ? (Number.isNaN(v(p)) ? 1 : -1) : v(q) - v(p) || p - q,
    );
    out.push(...idx.slice(0, k));
  }
  return out;
}

describe('TopKV2', () => {
  it('runs natively and gives stock tfjs’s values and int32 indices, which a tfjs op then reads', async () => {
    const m = topKModel(50);
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p.placement]));
      expect(where.get('top')).toBe('native-float');
      expect(where.get('rows')).toBe('tfjs');
      const x = input();
      const t = tf.tensor(x, SHAPE);
      const want = await stockRun(m, { x: t }, ['top:0', 'top:1', 'rows']);
      const got = await s.run({ x: { data: x, shape: SHAPE } });
      expect(got.indices!.data).toBeInstanceOf(Int32Array);
      expect(Array.from(got.values!.data as Float32Array)).toEqual(Array.from(want[0]!.dataSync() as Float32Array));
      expect(Array.from(got.indices!.data as Int32Array)).toEqual(Array.from(want[1]!.dataSync() as Int32Array));
      expect(Array.from(got.rows!.data as Int32Array)).toEqual(Array.from(want[2]!.dataSync() as Int32Array));
      // The row with the repeated maximum keeps both, the lower index first; k = 50 orders every
      // value, the Relu's zeros (which tie) too.
      expect(Array.from(got.indices!.data as Int32Array).slice(0, 2)).toEqual([3, 17]);
      tf.dispose([t, ...want]);
      // A NaN ranks after every number (the Relu passes it on).
      x[60] = NaN;
      const withNaN = await s.run({ x: { data: x, shape: SHAPE } });
      expect(Array.from(withNaN.indices!.data as Int32Array)).toEqual(
        sortedIndices(
          x.map((v) => (v > 0 || Number.isNaN(v) ? v : 0)),
          50,
          50,
        ),
      );
      expect(Number.isNaN((withNaN.values!.data as Float32Array)[99]!)).toBe(true);
    } finally {
      s.dispose();
    }
  });

  it('stays in tfjs when k is not a constant, with the same results', async () => {
    const m = topKModel(4);
    const j = m.modelJson as { modelTopology: { node: { name: string; op: string; attr?: unknown }[] } };
    // k fed as a second input instead of a constant.
    j.modelTopology.node = j.modelTopology.node.map((n) =>
      n.name === 'k' ? { name: 'k', op: 'Placeholder', attr: { dtype: a.type('int32'), shape: a.shape([]) } } : n,
    );
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads: 1,
    });
    try {
      expect(s.plan.find((p) => p.node === 'top')!.placement).toBe('tfjs');
      const x = input();
      const got = await s.run({ x: { data: x, shape: SHAPE }, k: { data: Int32Array.of(4), shape: [] } });
      expect(Array.from(got.indices!.data as Int32Array).slice(0, 2)).toEqual([3, 17]);
    } finally {
      s.dispose();
    }
  });

  it('the native steps check their plan: dtypes, k, shapes, and an index outside the row at run time', async () => {
    const Ctor = native().RuntimeSession;
    // x [-1, 5] float → topk_f32 (k 2) → indices [-1, 2] int32 → take_f32 → values [-1, 2].
    const plan = () => ({
      buffers: [
        { dtype: 0 as const, shape: [-1, 5] },
        { dtype: 3 as const, shape: [-1, 2] },
        { dtype: 0 as const, shape: [-1, 2] },
      ],
      weights: [] as Int32Array[],
      inputs: [0],
      outputs: [2, 1],
      steps: [
        { op: 'topk_f32', inputs: [0], outputs: [1], ints: [2] },
        { op: 'take_f32', inputs: [0, 1], outputs: [2] },
      ],
    });
    const s = new Ctor(plan(), { threads: 1 });
    const [values, indices] = s.runSync([Float32Array.of(1, 9, 3, 9, 0, 4, 5, 6, 7, 8)], { batch: 2 });
    expect(Array.from(values as Float32Array)).toEqual([9, 9, 8, 7]);
    expect(Array.from(indices as Int32Array)).toEqual([1, 3, 4, 3]);
    s.dispose();
    const bad: [string, (p: ReturnType<typeof plan>) => void, RegExp][] = [
      ['k above the row', (p) => void (p.steps[0]!.ints = [6]), /k = 6 outside \[1, 5\]/],
      ['k not the last dimension', (p) => void (p.steps[0]!.ints = [1]), /last dimension must be k/],
      ['float indices', (p) => void (p.buffers[1]!.dtype = 0), /topk indices: wrong dtype/],
      ['rows differ', (p) => void (p.buffers[2]!.shape = [3, 2]), /does not match/],
    ];
    for (const [what, edit, msg] of bad) {
      const p = plan();
      edit(p);
      expect(() => new Ctor(p, { threads: 1 }), what).toThrow(msg);
    }
    // take_f32 alone, its indices fed from outside: one outside the row is refused as the step runs.
    const take = new Ctor(
      {
        buffers: [
          { dtype: 0, shape: [-1, 5] },
          { dtype: 3, shape: [-1, 2] },
          { dtype: 0, shape: [-1, 2] },
        ],
        weights: [],
        inputs: [0, 1],
        outputs: [2],
        steps: [{ op: 'take_f32', inputs: [0, 1], outputs: [2] }],
      },
      { threads: 1 },
    );
    expect(() => take.runSync([new Float32Array(5), Int32Array.of(0, 5)], { batch: 1 })).toThrow(
      /index 5 outside \[0, 5\)/,
    );
    await expect(take.run([new Float32Array(5), Int32Array.of(-1, 0)], { batch: 1 })).rejects.toThrow(/index -1/);
    take.dispose();
  });
});
