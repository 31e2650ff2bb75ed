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
  ];

describe('opaque ops called directly', () => {
  for (const c of cases) {
    it(`${c.name}: as stock tfjs-converter`, async () => {
      // The direct path is what runs (the others go through tfjs-converter itself).
      for (const n of c.nodes) if (n.op !== 'Identity' && n.op !== 'Mul') expect(DIRECT_OPAQUE_OPS).toContain(n.op);
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
