// Opaque ops called directly (src/model/opaque.ts DIRECT): each gives what stock tfjs-converter
// gives for the same graph JSON — dtype, shape and every value — including the inputs it reads
// as numbers (an axis, a count, a fill value) and the attributes it reads (a dtype, `sorted`).
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel } from '../../src/model/index.js';
import { DIRECT_OPAQUE_OPS } from '../../src/model/opaque.js';
import { a, expectSameTensors, handModel, placeholder, stockRun, type RawNode } from './graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const I = { T: a.type('int32') };
const ints = (shape: number[], values: number[]) => ({ dtype: 'int32' as const, shape, values });
const x = placeholder('x', 'float32', [2, 3, 4]);
const k = placeholder('k', 'int32', [2, 3, 4]);

// Each case: nodes after the placeholders, their constants, the outputs compared.
const cases: { name: string; nodes: RawNode[]; consts?: Record<string, ReturnType<typeof ints>>; outputs: string[] }[] =
  [
    {
      // The values repeat (ties: the first maximum wins); ArgMax over the last, a middle and
      // the first axis (the native kernel's inner, middle and outer cases) and a negative one.
      name: 'ArgMax / ArgMin over a constant axis',
      nodes: [
        { name: 'am', op: 'ArgMax', input: ['x', 'axis'], attr: { ...F, Tidx: a.type('int32') } },
        { name: 'am1', op: 'ArgMax', input: ['x', 'one'], attr: { ...F, Tidx: a.type('int32') } },
        { name: 'am0', op: 'ArgMax', input: ['x', 'zero'], attr: { ...F, Tidx: a.type('int32') } },
        { name: 'amn', op: 'ArgMax', input: ['x', 'minus2'], attr: { ...F, Tidx: a.type('int32') } },
        { name: 'ami', op: 'ArgMax', input: ['k', 'one'], attr: { ...I, Tidx: a.type('int32') } },
        { name: 'an', op: 'ArgMin', input: ['x', 'axis'], attr: { ...F, Tidx: a.type('int32') } },
      ],
      consts: { axis: ints([], [2]), one: ints([], [1]), zero: ints([], [0]), minus2: ints([], [-2]) },
      outputs: ['am', 'am1', 'am0', 'amn', 'ami', 'an'],
    },
    {
      name: 'FloorDiv, FloorMod (negative operands), Reciprocal',
      nodes: [
        { name: 'fd', op: 'FloorDiv', input: ['k', 'three'], attr: I },
        { name: 'fm', op: 'FloorMod', input: ['k', 'three'], attr: I },
        { name: 'rc', op: 'Reciprocal', input: ['x'], attr: F },
      ],
      consts: { three: ints([], [3]) },
      outputs: ['fd', 'fm', 'rc'],
    },
    {
      name: 'comparisons, logical ops and Select / SelectV2',
      nodes: [
        { name: 'eq', op: 'Equal', input: ['k', 'zero'], attr: I },
        { name: 'ne', op: 'NotEqual', input: ['k', 'zero'], attr: I },
        { name: 'lt', op: 'Less', input: ['k', 'zero'], attr: I },
        { name: 'le', op: 'LessEqual', input: ['k', 'zero'], attr: I },
        { name: 'gt', op: 'Greater', input: ['k', 'zero'], attr: I },
        { name: 'ge', op: 'GreaterEqual', input: ['k', 'zero'], attr: I },
        { name: 'and', op: 'LogicalAnd', input: ['ge', 'ne'] },
        { name: 'or', op: 'LogicalOr', input: ['lt', 'eq'] },
        { name: 'not', op: 'LogicalNot', input: ['and'] },
        { name: 'sel', op: 'Select', input: ['gt', 'k', 'zeros'], attr: I },
        { name: 'sel2', op: 'SelectV2', input: ['lt', 'x', 'x2'], attr: F },
        { name: 'x2', op: 'Mul', input: ['x', 'x'], attr: F },
      ],
      consts: { zero: ints([], [0]), zeros: ints([2, 3, 4], new Array(24).fill(-7)) },
      outputs: ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not', 'sel', 'sel2'],
    },
    {
      name: 'GatherNd, Fill (int32 and float32), Range (int32 and float32)',
      nodes: [
        {
          name: 'g',
          op: 'GatherNd',
          input: ['x', 'idx'],
          attr: { Tparams: a.type('float32'), Tindices: a.type('int32') },
        },
        { name: 'fi', op: 'Fill', input: ['dims', 'seven'], attr: { T: a.type('int32'), index_type: a.type('int32') } },
        {
          name: 'ff',
          op: 'Fill',
          input: ['dims', 'half'],
          attr: { T: a.type('float32'), index_type: a.type('int32') },
        },
        { name: 'ri', op: 'Range', input: ['one', 'ten', 'three'], attr: { Tidx: a.type('int32') } },
        { name: 'rf', op: 'Range', input: ['halff', 'twof', 'quarterf'], attr: { Tidx: a.type('float32') } },
      ],
      consts: {
        idx: ints([3, 2], [0, 1, 1, 2, 0, 0]),
        dims: ints([2], [2, 3]),
        seven: ints([], [7]),
        one: ints([], [1]),
        ten: ints([], [10]),
        three: ints([], [3]),
        half: { dtype: 'float32', shape: [], values: [0.5] } as never,
        halff: { dtype: 'float32', shape: [], values: [0.5] } as never,
        twof: { dtype: 'float32', shape: [], values: [2] } as never,
        quarterf: { dtype: 'float32', shape: [], values: [0.25] } as never,
      },
      outputs: ['g', 'fi', 'ff', 'ri', 'rf'],
    },
    {
      name: 'TopKV2 (values and indices), sorted and unsorted',
      nodes: [
        { name: 't', op: 'TopKV2', input: ['x', 'two'], attr: { ...F, sorted: a.b(true) } },
        { name: 'u', op: 'TopKV2', input: ['x', 'two'], attr: { ...F, sorted: a.b(false) } },
        // The indices as a graph reads them: through a consumer of output 1.
        { name: 'ti', op: 'Identity', input: ['t:1'], attr: I },
        { name: 'ui', op: 'Identity', input: ['u:1'], attr: I },
      ],
      consts: { two: ints([], [2]) },
      outputs: ['t', 'ti', 'u', 'ui'],
    },
    {
      // The native kernel on a long row (a detector's score map): many ties, k = 40 of 600 per
      // row, as tfjs orders them (larger first, equal values by lower index).
      name: 'TopKV2 on long rows with ties (the native kernel)',
      nodes: [
        { name: 'lr', op: 'Reshape', input: ['x', 'shape'], attr: { ...F, Tshape: a.type('int32') } },
        { name: 'tl', op: 'Tile', input: ['lr', 'reps'], attr: { ...F, Tmultiples: a.type('int32') } },
        { name: 'big', op: 'Mul', input: ['tl', 'ramp'], attr: F },
        { name: 'tk', op: 'TopKV2', input: ['big', 'forty'], attr: { ...F, sorted: a.b(true) } },
        { name: 'tki', op: 'Identity', input: ['tk:1'], attr: I },
      ],
      consts: {
        shape: ints([2], [2, 12]),
        reps: ints([2], [1, 50]),
        forty: ints([], [40]),
        // Values repeat every 12 columns and a step every 100 keeps ties among the largest.
        ramp: {
          dtype: 'float32',
          shape: [600],
          values: Array.from({ length: 600 }, (_, i) => 1 + Math.floor(i / 100)),
        } as never,
      },
      outputs: ['tk', 'tki'],
    },
  ];

describe('opaque ops called directly', () => {
  for (const c of cases) {
    it(`${c.name}: as stock tfjs-converter`, async () => {
      // The direct path is what runs (the others go through tfjs-converter itself).
      for (const n of c.nodes)
        if (!['Identity', 'Mul', 'Reshape', 'Tile'].includes(n.op)) expect(DIRECT_OPAQUE_OPS).toContain(n.op);
      const m = handModel([x, k, ...c.nodes], c.consts ?? {});
      const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
      const feed = {
        x: tf.tensor3d(
          Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) / 4 - 1.2),
          [2, 3, 4],
        ),
        k: tf.tensor3d(
          Array.from({ length: 24 }, (_, i) => ((i * 5) % 13) - 6),
          [2, 3, 4],
          'int32',
        ),
      };
      const want = await stockRun(m, feed, c.outputs);
      const got = execute(g, feed, { outputs: c.outputs });
      expect(expectSameTensors(expect, got, want)).toBe(c.outputs.length);
      tf.dispose([...want, ...got, ...Object.values(feed)]);
    });
  }
});

describe('the native TopK kernel refuses what it cannot do', () => {
  it('k above the row length, arrays of the wrong length, outputs over the input', async () => {
    const { native } = await import('../../src/native/binding.js');
    const x = new Float32Array(8);
    expect(() => native().opsTopK(x, new Float32Array(10), new Int32Array(10), { rows: 2, n: 4, k: 5 })).toThrow(
      /k \(5\) must be at most n \(4\)/,
    );
    expect(() => native().opsTopK(x, new Float32Array(3), new Int32Array(4), { rows: 2, n: 4, k: 2 })).toThrow(
      /values/,
    );
    expect(() => native().opsTopK(x, x.subarray(0, 4), new Int32Array(4), { rows: 2, n: 4, k: 2 })).toThrow(/overlap/);
    // NaN ranks below every number (tfjs leaves it unspecified).
    const v = new Float32Array(2),
      i = new Int32Array(2);
    native().opsTopK(Float32Array.from([NaN, 1, -3, NaN]), v, i, { rows: 1, n: 4, k: 2 });
    expect([...v]).toEqual([1, -3]);
    expect([...i]).toEqual([1, 2]);
  });
});
