// The steps where a model's outputs become indices and back (native/runtime/steps/index_ops.cc):
// a keypoint decoding as MoveNet writes it — ArgMax over a flattened heatmap, FloorDiv / FloorMod
// / Mul / Sub into rows and columns, Pack into index pairs, GatherNd of offsets, Cast back to
// float, Sqrt / Rsqrt / Square / Floor, ConcatV2 of int32 — runs as one native segment and
// equals stock tfjs-converter on the same JSON. Edge values of the int32 arithmetic and of the
// float → int32 cast are checked against hand-computed vectors.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const I = { T: a.type('int32') };
const OUTPUTS = ['gathered', 'pairs', 'cols', 'dist', 'code', 'both'];

function decodeModel(): HandModel {
  return handModel(
    [
      placeholder('heat', 'float32', [1, 6, 7, 3]),
      placeholder('offsets', 'float32', [1, 6, 7, 2]),
      { name: 'flat', op: 'Reshape', input: ['heat', 'flat_shape'], attr: { ...F, Tshape: a.type('int32') } },
      {
        name: 'am',
        op: 'ArgMax',
        input: ['flat', 'axis1'],
        attr: { ...F, Tidx: a.type('int32'), output_type: a.type('int32') },
      },
      { name: 'row', op: 'FloorDiv', input: ['am', 'seven'], attr: I },
      { name: 'cols', op: 'FloorMod', input: ['am', 'seven'], attr: I },
      { name: 'rowx7', op: 'Mul', input: ['row', 'seven'], attr: I },
      { name: 'col', op: 'Sub', input: ['am', 'rowx7'], attr: I },
      { name: 'rr', op: 'Reshape', input: ['row', 'three'], attr: { ...I, Tshape: a.type('int32') } },
      { name: 'cc', op: 'Reshape', input: ['col', 'three'], attr: { ...I, Tshape: a.type('int32') } },
      { name: 'pairs', op: 'Pack', input: ['rr', 'cc'], attr: { ...I, N: a.i(2), axis: a.i(1) } },
      { name: 'offs', op: 'Reshape', input: ['offsets', 'offs_shape'], attr: { ...F, Tshape: a.type('int32') } },
      {
        name: 'gathered',
        op: 'GatherNd',
        input: ['offs', 'pairs'],
        attr: { Tparams: a.type('float32'), Tindices: a.type('int32') },
      },
      { name: 'rf', op: 'Cast', input: ['rr'], attr: { SrcT: a.type('int32'), DstT: a.type('float32') } },
      { name: 'sq', op: 'Square', input: ['rf'], attr: F },
      { name: 'sq1', op: 'AddV2', input: ['sq', 'half'], attr: F },
      { name: 'root', op: 'Sqrt', input: ['sq1'], attr: F },
      { name: 'inv', op: 'Rsqrt', input: ['sq1'], attr: F },
      { name: 'dist', op: 'Mul', input: ['root', 'inv'], attr: F },
      { name: 'scaled', op: 'Mul', input: ['root', 'ten'], attr: F },
      { name: 'fl', op: 'Floor', input: ['scaled'], attr: F },
      { name: 'code', op: 'Cast', input: ['fl'], attr: { SrcT: a.type('float32'), DstT: a.type('int32') } },
      {
        name: 'both',
        op: 'ConcatV2',
        input: ['pairs', 'pairs', 'axis0'],
        attr: { ...I, N: a.i(2), Tidx: a.type('int32') },
      },
    ],
    {
      flat_shape: { dtype: 'int32', shape: [3], values: [1, 42, 3] },
      offs_shape: { dtype: 'int32', shape: [3], values: [6, 7, 2] },
      axis1: { dtype: 'int32', shape: [], values: [1] },
      axis0: { dtype: 'int32', shape: [], values: [0] },
      seven: { dtype: 'int32', shape: [], values: [7] },
      three: { dtype: 'int32', shape: [1], values: [3] },
      half: { dtype: 'float32', shape: [], values: [0.5] },
      ten: { dtype: 'float32', shape: [], values: [10] },
    },
    { signature: { outputs: Object.fromEntries(OUTPUTS.map((o) => [o, { name: `${o}:0` }])) } },
  );
}

async function session(m: HandModel): Promise<InferenceSession> {
  return InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 1,
  });
}

describe('a keypoint decoding (ArgMax → FloorDiv / FloorMod / Mul / Sub → Pack → GatherNd → Cast)', () => {
  it('runs as one native segment, every output equal to stock tfjs with its dtype', async () => {
    const m = decodeModel();
    const s = await session(m);
    try {
      expect(s.plan.filter((p) => p.placement === 'tfjs')).toEqual([]);
      expect(s.segments.map((g) => g.kind)).toEqual(['native']);
      for (const seed of [1, 2, 3]) {
        const heat = tf.randomNormal([1, 6, 7, 3], 0, 1, 'float32', seed);
        const offsets = tf.randomUniform([1, 6, 7, 2], -3, 3, 'float32', seed + 10);
        const want = await stockRun(m, { heat, offsets }, OUTPUTS);
        const got = await s.run({
          heat: { data: heat.dataSync() as Float32Array, shape: [1, 6, 7, 3] },
          offsets: { data: offsets.dataSync() as Float32Array, shape: [1, 6, 7, 2] },
        });
        OUTPUTS.forEach((o, i) => {
          expect(got[o]!.data, o).toBeInstanceOf(want[i]!.dtype === 'int32' ? Int32Array : Float32Array);
          expect(got[o]!.shape, o).toEqual(want[i]!.shape);
          expect(Array.from(got[o]!.data as ArrayLike<number>), o).toEqual(Array.from(want[i]!.dataSync()));
        });
        tf.dispose([heat, offsets, ...want]);
      }
    } finally {
      s.dispose();
    }
  });
});

describe('int32 arithmetic and the float → int32 cast at their edges', () => {
  const model = handModel(
    [
      placeholder('p', 'int32', [8]),
      placeholder('q', 'int32', [8]),
      placeholder('f', 'float32', [9]),
      { name: 'div', op: 'FloorDiv', input: ['p', 'q'], attr: I },
      { name: 'mod', op: 'FloorMod', input: ['p', 'q'], attr: I },
      { name: 'mul', op: 'Mul', input: ['p', 'q'], attr: I },
      { name: 'add', op: 'AddV2', input: ['p', 'big'], attr: I },
      { name: 'cast', op: 'Cast', input: ['f'], attr: { SrcT: a.type('float32'), DstT: a.type('int32') } },
    ],
    { big: { dtype: 'int32', shape: [], values: [2147483647] } },
    {
      signature: {
        outputs: Object.fromEntries(['div', 'mod', 'mul', 'add', 'cast'].map((o) => [o, { name: `${o}:0` }])),
      },
    },
  );
  const p = Int32Array.of(7, -7, 7, -7, 5, -2147483648, 2147483647, 3);
  const q = Int32Array.of(2, 2, -2, -2, 0, -1, 2, 0);
  const f = Float32Array.of(1.7, -1.7, NaN, Infinity, -Infinity, 3e9, -3e9, 2147483647.5, -0.5);

  it('floor division and modulo (sign of the divisor), wrapping products and sums, 0 for a zero divisor; casts as JavaScript’s ToInt32', async () => {
    const s = await session(model);
    try {
      expect(s.plan.filter((x) => x.placement === 'tfjs')).toEqual([]);
      const got = await s.run({ p: { data: p, shape: [8] }, q: { data: q, shape: [8] }, f: { data: f, shape: [9] } });
      const v = (k: string) => Array.from(got[k]!.data as Int32Array);
      expect(v('div')).toEqual([3, -4, -4, 3, 0, -2147483648, 1073741823, 0]);
      expect(v('mod')).toEqual([1, 1, -1, -1, 0, 0, 1, 0]);
      expect(v('mul')).toEqual([14, -14, -14, 14, 0, -2147483648, -2, 0]);
      expect(v('add')).toEqual([-2147483642, 2147483640, -2147483642, 2147483640, -2147483644, -1, -2, -2147483646]);
      // float32(2147483647.5) is 2^31, which wraps; NaN and ±Inf give 0, as tfjs's cast does.
      expect(v('cast')).toEqual([1, -1, 0, 0, 0, -1294967296, 1294967296, -2147483648, 0]);
    } finally {
      s.dispose();
    }
  });
});

describe('GatherV2, reductions over any axes, Abs, Erf', () => {
  const R = { ...{ T: a.type('float32') }, Tidx: a.type('int32') };
  const names = ['picked', 'sum1', 'max02', 'min1', 'prod2', 'absv', 'meanc', 'mean01', 'erfv'];
  const model = handModel(
    [
      placeholder('x', 'float32', [2, 5, 4]),
      {
        name: 'picked',
        op: 'GatherV2',
        input: ['x', 'which', 'axis1'],
        attr: { Tparams: a.type('float32'), Tindices: a.type('int32'), Taxis: a.type('int32'), batch_dims: a.i(0) },
      },
      { name: 'sum1', op: 'Sum', input: ['x', 'axis1'], attr: { ...R, keep_dims: a.b(true) } },
      { name: 'max02', op: 'Max', input: ['x', 'axes02'], attr: { ...R, keep_dims: a.b(false) } },
      { name: 'min1', op: 'Min', input: ['x', 'axis1'], attr: { ...R, keep_dims: a.b(false) } },
      { name: 'prod2', op: 'Prod', input: ['x', 'axism1'], attr: { ...R, keep_dims: a.b(true) } },
      { name: 'absv', op: 'Abs', input: ['x'], attr: { T: a.type('float32') } },
      // A LayerNorm's Mean over the channels, and one over two leading axes.
      { name: 'meanc', op: 'Mean', input: ['x', 'axism1'], attr: { ...R, keep_dims: a.b(true) } },
      { name: 'mean01', op: 'Mean', input: ['x', 'axes01'], attr: { ...R, keep_dims: a.b(false) } },
      { name: 'erfv', op: 'Erf', input: ['x'], attr: { T: a.type('float32') } },
    ],
    {
      which: { dtype: 'int32', shape: [3], values: [4, 0, 4] },
      axis1: { dtype: 'int32', shape: [], values: [1] },
      axism1: { dtype: 'int32', shape: [], values: [-1] },
      axes02: { dtype: 'int32', shape: [2], values: [0, 2] },
      axes01: { dtype: 'int32', shape: [2], values: [0, 1] },
    },
    { signature: { outputs: Object.fromEntries(names.map((o) => [o, { name: `${o}:0` }])) } },
  );

  it('run natively and equal stock tfjs to the bit (sums and products in tfjs’s order), ties and negatives included', async () => {
    const s = await session(model);
    try {
      expect(s.plan.filter((p) => p.placement === 'tfjs')).toEqual([]);
      for (const seed of [4, 5]) {
        const x = tf.randomNormal([2, 5, 4], 0, 2, 'float32', seed);
        const want = await stockRun(model, { x }, names);
        const got = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [2, 5, 4] } });
        names.forEach((o, i) => {
          expect(got[o]!.shape, o).toEqual(want[i]!.shape);
          expect(Array.from(got[o]!.data as Float32Array), o).toEqual(Array.from(want[i]!.dataSync()));
        });
        tf.dispose([x, ...want]);
      }
    } finally {
      s.dispose();
    }
  });

  it('an index outside the gathered axis is an error naming it, as in tfjs, not a read out of bounds', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [2, 5]),
        {
          name: 'picked',
          op: 'GatherV2',
          input: ['x', 'which', 'axis1'],
          attr: { Tparams: a.type('float32'), Tindices: a.type('int32'), Taxis: a.type('int32'), batch_dims: a.i(0) },
        },
      ],
      {
        which: { dtype: 'int32', shape: [2], values: [1, 5] },
        axis1: { dtype: 'int32', shape: [], values: [1] },
      },
    );
    const s = await session(m);
    try {
      expect(s.plan.find((p) => p.node === 'picked')!.placement).toBe('native-float');
      await expect(s.run({ x: { data: new Float32Array(10), shape: [2, 5] } })).rejects.toThrow(
        /gather: index 5 outside \[0, 5\)/,
      );
    } finally {
      s.dispose();
    }
  });
});
