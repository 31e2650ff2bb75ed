// Every TF.js graph-model construct loads into the IR and executes in float exactly as stock
// tfjs does: each graph is hand-written as tfjs-converter emits it (test/model/graph-json.ts),
// loaded with loadModel and run with execute / executeAsync, and compared element for element
// with stock tf.loadGraphModel + executeAsync on the same JSON and bytes, every output.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, initFloatBackend } from '../../src/backend/float.js';
import { loadModel, ModelFormatError, isFiniteConstant, saveNative, type Graph } from '../../src/model/index.js';
import { execute, executeAsync, requiresAsync } from '../../src/model/execute.js';
import {
  a,
  convAttrs,
  expectSameTensors,
  handModel,
  placeholder,
  stockRun,
  whileConsts,
  whileNodes,
  type HandModel,
  type RawNode,
} from './graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const load = (m: HandModel, opts = {}): Promise<Graph> =>
  loadModel({ modelJson: m.modelJson, weightData: m.weightData }, opts);
const F = { T: a.type('float32') };

async function compare(m: HandModel, feed: Record<string, tf.Tensor>, sync: boolean): Promise<number> {
  const g = await load(m);
  const ours = sync ? execute(g, feed) : await executeAsync(g, feed);
  const ref = await stockRun(m, feed, g.outputs);
  return expectSameTensors(expect, ours, ref);
}

describe('non-finite constants are legal data', () => {
  // A -Inf PadV2 fill before a VALID max pool (how converters write SAME max pooling).
  const padPool = handModel(
    [
      placeholder('x', 'float32', [-1, 4, 4, 2]),
      {
        name: 'pad',
        op: 'PadV2',
        input: ['x', 'pad/paddings', 'pad/constant_values'],
        attr: { ...F, Tpaddings: a.type('int32') },
      },
      {
        name: 'pool',
        op: 'MaxPool',
        input: ['pad'],
        attr: {
          ...F,
          ksize: a.ints([1, 3, 3, 1]),
          strides: a.ints([1, 1, 1, 1]),
          padding: a.s('VALID'),
          data_format: a.s('NHWC'),
        },
      },
    ],
    {
      'pad/paddings': { dtype: 'int32', shape: [4, 2], values: [0, 0, 1, 1, 1, 1, 0, 0] },
      'pad/constant_values': { dtype: 'float32', shape: [], values: [-Infinity] },
    },
  );

  it('a -Inf PadV2 fill loads, is marked non-finite and runs as stock tfjs', async () => {
    const g = await load(padPool);
    const c = g.constants.get('pad/constant_values')!;
    expect(c.nonFinite).toBe(true);
    expect(isFiniteConstant(c)).toBe(false);
    expect(isFiniteConstant(g.constants.get('pad/paddings')!)).toBe(true);
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 3);
    expect(await compare(padPool, { x }, true)).toBe(1);
  });

  it('NMS v3 with a -Inf score threshold, its indices gathered: two outputs, dynamic length', async () => {
    const m = handModel(
      [
        placeholder('boxes', 'float32', [-1, 4]),
        placeholder('scores', 'float32', [-1]),
        {
          name: 'nms',
          op: 'NonMaxSuppressionV3',
          input: ['boxes', 'scores', 'nms/max', 'nms/iou', 'nms/score_threshold'],
          attr: { ...F, T_threshold: a.type('float32') },
        },
        {
          name: 'picked',
          op: 'GatherV2',
          input: ['boxes', 'nms', 'axis'],
          attr: { Tparams: a.type('float32'), Tindices: a.type('int32'), Taxis: a.type('int32'), batch_dims: a.i(0) },
        },
      ],
      {
        'nms/max': { dtype: 'int32', shape: [], values: [3] },
        'nms/iou': { dtype: 'float32', shape: [], values: [0.5] },
        'nms/score_threshold': { dtype: 'float32', shape: [], values: [-Infinity] },
        axis: { dtype: 'int32', shape: [], values: [0] },
      },
      { signature: { outputs: { selected: { name: 'nms:0' }, boxes: { name: 'picked:0' } } } },
    );
    const boxes = tf.tensor2d([
      [0, 0, 1, 1],
      [0, 0.1, 1, 1.1],
      [0, 2, 1, 3],
      [0, 0, 0.5, 0.5],
      [5, 5, 6, 6],
    ]);
    const scores = tf.tensor1d([0.9, 0.8, 0.7, -5, 0.1]);
    const g = await load(m);
    expect(g.tensors.get('nms')).toEqual({ dtype: 'int32', shape: [-1] });
    expect(await compare(m, { boxes, scores }, true)).toBe(2);
  });

  it('a non-finite trained parameter (a Conv2D filter) is corrupt: an error naming the weight unless allowNonFinite', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [-1, 3, 3, 1]),
        {
          name: 'conv',
          op: 'Conv2D',
          input: ['x', 'conv/filter'],
          attr: convAttrs(),
        },
      ],
      { 'conv/filter': { dtype: 'float32', shape: [1, 1, 1, 2], values: [1, NaN] } },
    );
    const e = await load(m).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).message).toMatch(
      /weight 'conv\/filter'.*element 1 is NaN: a trained parameter \(input 1 of Conv2D 'conv'\)/,
    );
    const x = tf.ones([1, 3, 3, 1]);
    const g = await load(m, { allowNonFinite: true });
    expect(g.constants.get('conv/filter')!.nonFinite).toBe(true);
    expectSameTensors(expect, execute(g, x), await stockRun(m, { x }));
  });
});

describe('control inputs and TF1 conditionals', () => {
  // tf.cond as TF1 writes it: Switch on the predicate gives the pivots; the branch nodes and
  // their constants hang on the pivots through control inputs (^cond/switch_f), Merge joins.
  const cond = handModel(
    [
      placeholder('x', 'float32', [-1, 3]),
      placeholder('flag', 'bool', []),
      { name: 'pre', op: 'Relu', input: ['x'], attr: F },
      { name: 'cond/Switch', op: 'Switch', input: ['flag', 'flag'], attr: { T: a.type('bool') } },
      { name: 'cond/switch_t', op: 'Identity', input: ['cond/Switch:1'], attr: { T: a.type('bool') } },
      { name: 'cond/switch_f', op: 'Identity', input: ['cond/Switch'], attr: { T: a.type('bool') } },
      { name: 'cond/Switch_1', op: 'Switch', input: ['pre', 'flag'], attr: F },
      { name: 'cond/mul', op: 'Mul', input: ['cond/Switch_1:1', 'cond/two'], attr: F },
      { name: 'cond/neg', op: 'Neg', input: ['cond/Switch_1'], attr: F },
      {
        name: 'cond/fill',
        op: 'Fill',
        input: ['cond/dims', 'cond/value', '^cond/switch_f'],
        attr: { ...F, index_type: a.type('int32') },
      },
      { name: 'cond/add', op: 'AddV2', input: ['cond/neg', 'cond/fill'], attr: F },
      { name: 'cond/Merge', op: 'Merge', input: ['cond/add', 'cond/mul'], attr: { ...F, N: a.i(2) } },
      { name: 'out', op: 'Sigmoid', input: ['cond/Merge'], attr: F },
      // A control input between ordinary nodes: 'side' waits for 'pre'.
      { name: 'side', op: 'Tanh', input: ['x', '^pre'], attr: F },
    ],
    {
      'cond/two': { dtype: 'float32', shape: [], values: [2], control: ['cond/switch_t'] },
      'cond/dims': { dtype: 'int32', shape: [1], values: [3], control: ['cond/switch_f'] },
      'cond/value': { dtype: 'float32', shape: [], values: [0.25], control: ['cond/switch_f'] },
    },
    {
      signature: {
        inputs: { x: { name: 'x:0' }, flag: { name: 'flag:0' } },
        outputs: { y: { name: 'out:0' }, side: { name: 'side:0' } },
      },
    },
  );

  it('loads with its control inputs kept, runs both branches as stock tfjs (a bool input)', async () => {
    const g = await load(cond);
    expect(g.nodes.find((n) => n.name === 'cond/fill')!.controlInputs).toEqual(['cond/switch_f']);
    expect(g.nodes.find((n) => n.name === 'side')!.controlInputs).toEqual(['pre']);
    const x = tf.tensor2d([
      [1, -2, 3],
      [0.5, 4, -1],
    ]);
    let checked = 0;
    for (const flag of [true, false]) checked += await compare(cond, { x, flag: tf.scalar(flag, 'bool') }, false);
    expect(checked).toBe(4);
  });

  it('execute() refuses the conditional up front and names executeAsync; a run outside it stays synchronous', async () => {
    const g = await load(cond);
    const feed = { x: tf.ones([1, 3]), flag: tf.scalar(true, 'bool') };
    expect(requiresAsync(g)).toBe(true);
    expect(() => execute(g, feed)).toThrow(/control-flow region.*use executeAsync/);
    expect(requiresAsync(g, { outputs: ['side'] })).toBe(false);
    expectSameTensors(expect, execute(g, feed, { outputs: ['side'] }), await stockRun(cond, feed, ['side']));
  });
});

describe('TF1 while loops', () => {
  const loop = handModel(whileNodes, whileConsts, {
    signature: { outputs: { y: { name: 'out:0' }, iterations: { name: 'w/Exit:0' } } },
  });

  it('the NextIteration → Merge back edge is no cycle: loads, and runs 0, 1 and 5 iterations as stock tfjs (an int32 input)', async () => {
    const x = tf.tensor2d([[1, -2, 3]]);
    let checked = 0;
    for (const n of [0, 1, 5]) checked += await compare(loop, { x, n: tf.scalar(n, 'int32') }, false);
    expect(checked).toBe(6);
  });

  it('a tensor array written in the loop and gathered after it', async () => {
    // ta = TensorArray(n); each iteration writes acc at i; after the loop, gather(range(n)).
    const nodes: RawNode[] = [
      ...whileNodes.filter((r) => !['w/Merge_1', 'w/NextIteration_1', 'out'].includes(r.name)),
      {
        name: 'ta',
        op: 'TensorArrayV3',
        input: ['n'],
        attr: {
          dtype: a.type('float32'),
          element_shape: a.shape([-1, 3]),
          dynamic_size: a.b(false),
          clear_after_read: a.b(true),
          identical_element_shapes: a.b(true),
          tensor_array_name: a.s(''),
        },
      },
      {
        name: 'w/Enter_4',
        op: 'Enter',
        input: ['ta:1'],
        attr: { ...F, frame_name: a.s('w/while_context'), is_constant: a.b(false), parallel_iterations: a.i(10) },
      },
      {
        name: 'w/Enter_5',
        op: 'Enter',
        input: ['ta'],
        attr: { ...F, frame_name: a.s('w/while_context'), is_constant: a.b(true), parallel_iterations: a.i(10) },
      },
      { name: 'w/Merge_1', op: 'Merge', input: ['w/Enter_1', 'w/NextIteration_1'], attr: { ...F, N: a.i(2) } },
      { name: 'w/Merge_2', op: 'Merge', input: ['w/Enter_4', 'w/NextIteration_2'], attr: { ...F, N: a.i(2) } },
      { name: 'w/Switch_2', op: 'Switch', input: ['w/Merge_2', 'w/LoopCond'], attr: F },
      { name: 'w/Identity_2', op: 'Identity', input: ['w/Switch_2:1'], attr: F },
      {
        name: 'w/write',
        op: 'TensorArrayWriteV3',
        input: ['w/Enter_5', 'w/Identity', 'w/add_1', 'w/Identity_2'],
        attr: F,
      },
      { name: 'w/NextIteration_1', op: 'NextIteration', input: ['w/add_1'], attr: F },
      { name: 'w/NextIteration_2', op: 'NextIteration', input: ['w/write'], attr: F },
      { name: 'w/Exit_2', op: 'Exit', input: ['w/Switch_2'], attr: F },
      { name: 'range', op: 'Range', input: ['i0', 'n', 'step'], attr: { Tidx: a.type('int32') } },
      {
        name: 'gather',
        op: 'TensorArrayGatherV3',
        input: ['ta', 'range', 'w/Exit_2'],
        attr: { dtype: a.type('float32'), element_shape: a.shape([-1, 3]) },
      },
      { name: 'out', op: 'Relu', input: ['gather'], attr: F },
    ];
    const m = handModel(
      nodes,
      { ...whileConsts, step: { dtype: 'int32', shape: [], values: [1] } },
      { signature: { outputs: { stacked: { name: 'out:0' } } } },
    );
    const x = tf.tensor2d([
      [1, -2, 3],
      [4, 0.5, -6],
    ]);
    expect(await compare(m, { x, n: tf.scalar(4, 'int32') }, false)).toBe(1);
  });
});

describe('TF2 functional control flow and tensor lists', () => {
  const fn = (
    name: string,
    inputs: [string, string][],
    outputs: [string, string][],
    nodeDef: RawNode[],
    ret: Record<string, string>,
  ) => ({
    signature: {
      name,
      inputArg: inputs.map(([n, t]) => ({ name: n, type: t })),
      outputArg: outputs.map(([n, t]) => ({ name: n, type: t })),
    },
    nodeDef,
    ret,
  });
  const library = {
    function: [
      fn(
        'then_fn',
        [['x', 'DT_FLOAT']],
        [['y', 'DT_FLOAT']],
        [
          {
            name: 'two',
            op: 'Const',
            attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {} } }, dtype: a.type('float32') },
          },
          { name: 'mul', op: 'Mul', input: ['x', 'two:output:0'], attr: F },
        ],
        { y: 'mul:z:0' },
      ),
      fn('else_fn', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [{ name: 'neg', op: 'Neg', input: ['x'], attr: F }], {
        y: 'neg:y:0',
      }),
      fn(
        'cond_fn',
        [
          ['i', 'DT_INT32'],
          ['acc', 'DT_FLOAT'],
          ['n', 'DT_INT32'],
        ],
        [['ok', 'DT_BOOL']],
        [{ name: 'less', op: 'Less', input: ['i', 'n'], attr: { T: a.type('int32') } }],
        { ok: 'less:z:0' },
      ),
      fn(
        'body_fn',
        [
          ['i', 'DT_INT32'],
          ['acc', 'DT_FLOAT'],
          ['n', 'DT_INT32'],
        ],
        [
          ['i_next', 'DT_INT32'],
          ['acc_next', 'DT_FLOAT'],
          ['n_same', 'DT_INT32'],
        ],
        [
          {
            name: 'one',
            op: 'Const',
            attr: { value: { tensor: { dtype: 'DT_INT32', tensorShape: {} } }, dtype: a.type('int32') },
          },
          { name: 'inc', op: 'AddV2', input: ['i', 'one:output:0'], attr: { T: a.type('int32') } },
          { name: 'sq', op: 'Mul', input: ['acc', 'acc'], attr: F },
          { name: 'acc_new', op: 'Sigmoid', input: ['sq:z:0'], attr: F },
          { name: 'n_id', op: 'Identity', input: ['n'], attr: { T: a.type('int32') } },
        ],
        { i_next: 'inc:z:0', acc_next: 'acc_new:y:0', n_same: 'n_id:output:0' },
      ),
    ],
  };
  const functional = handModel(
    [
      placeholder('x', 'float32', [-1, 3]),
      placeholder('flag', 'bool', []),
      placeholder('n', 'int32', []),
      { name: 'pre', op: 'Relu6', input: ['x'], attr: F },
      {
        name: 'if',
        op: 'StatelessIf',
        input: ['flag', 'pre'],
        attr: {
          Tcond: a.type('bool'),
          Tin: a.types(['float32']),
          Tout: a.types(['float32']),
          then_branch: a.func('then_fn'),
          else_branch: a.func('else_fn'),
        },
      },
      {
        name: 'while',
        op: 'StatelessWhile',
        input: ['i0', 'if', 'n'],
        attr: {
          T: a.types(['int32', 'float32', 'int32']),
          cond: a.func('cond_fn'),
          body: a.func('body_fn'),
          parallel_iterations: a.i(10),
        },
      },
      { name: 'out', op: 'Tanh', input: ['while:1'], attr: F },
    ],
    {
      i0: { dtype: 'int32', shape: [], values: [0] },
      // Values of the Const nodes inside the functions (tfjs-converter reads them from the weights by name).
      two: { dtype: 'float32', shape: [], values: [2] },
      one: { dtype: 'int32', shape: [], values: [1] },
    },
    { library, signature: { outputs: { result: { name: 'out:0' }, count: { name: 'while:0' } } } },
  );

  it('If and While with the function library load and run as stock tfjs', async () => {
    const g = await load(functional);
    expect(g.library?.function).toHaveLength(4);
    const x = tf.tensor2d([
      [1, -2, 3],
      [7, 0.5, -1],
    ]);
    let checked = 0;
    for (const [flag, n] of [
      [true, 3],
      [false, 0],
      [false, 2],
    ] as const) {
      checked += await compare(functional, { x, flag: tf.scalar(flag, 'bool'), n: tf.scalar(n, 'int32') }, false);
    }
    expect(checked).toBe(6);
  });

  it('an If naming a function the library lacks is a clear load error', async () => {
    const j = structuredClone(functional.modelJson) as {
      modelTopology: { library: { function: { signature: { name: string } }[] } };
    };
    j.modelTopology.library.function = j.modelTopology.library.function.filter((f) => f.signature.name !== 'else_fn');
    const e = await load({ modelJson: j, weightData: functional.weightData }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as Error).message).toMatch(
      /node 'if'.*else_branch names the function "else_fn", which modelTopology.library.function lacks/,
    );
  });

  it('the native format keeps the function library and its constants: the reloaded graph runs as stock tfjs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-quant-functional-'));
    try {
      await saveNative(await load(functional), dir);
      const back = await loadModel(dir);
      expect(back.library?.function).toHaveLength(4);
      expect(back.signature!.outputs.map((o) => o.key)).toEqual(['result', 'count']);
      const feed = { x: tf.tensor2d([[1, -2, 3]]), flag: tf.scalar(true, 'bool'), n: tf.scalar(2, 'int32') };
      expect(expectSameTensors(expect, await executeAsync(back, feed), await stockRun(functional, feed))).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tensor list ops (from tensor, get, set, stack) run as one region', async () => {
    const L = { element_dtype: a.type('float32') };
    const m = handModel(
      [
        placeholder('x', 'float32', [4, 2]),
        {
          name: 'list',
          op: 'TensorListFromTensor',
          input: ['x', 'elem_shape'],
          attr: { ...L, shape_type: a.type('int32') },
        },
        { name: 'item', op: 'TensorListGetItem', input: ['list', 'idx1', 'elem_shape'], attr: L },
        { name: 'twice', op: 'Mul', input: ['item', 'two'], attr: F },
        { name: 'list2', op: 'TensorListSetItem', input: ['list', 'idx0', 'twice'], attr: L },
        { name: 'stack', op: 'TensorListStack', input: ['list2', 'elem_shape'], attr: { ...L, num_elements: a.i(-1) } },
        { name: 'out', op: 'Relu', input: ['stack'], attr: F },
      ],
      {
        elem_shape: { dtype: 'int32', shape: [1], values: [2] },
        idx0: { dtype: 'int32', shape: [], values: [0] },
        idx1: { dtype: 'int32', shape: [], values: [1] },
        two: { dtype: 'float32', shape: [], values: [2] },
      },
    );
    const x = tf.tensor2d([
      [1, -2],
      [3, 4],
      [-5, 6],
      [7, -8],
    ]);
    expect(await compare(m, { x }, false)).toBe(1);
  });
});

describe('shapes, dtypes and several outputs', () => {
  it('Where (a data-dependent output size tfjs only computes asynchronously) runs as its own region', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [-1, 3]),
        { name: 'positive', op: 'Greater', input: ['x', 'zero'], attr: F },
        { name: 'where', op: 'Where', input: ['positive'], attr: { T: a.type('bool') } },
        {
          name: 'values',
          op: 'GatherNd',
          input: ['x', 'where'],
          attr: { Tparams: a.type('float32'), Tindices: a.type('int32') },
        },
      ],
      { zero: { dtype: 'float32', shape: [], values: [0] } },
      { signature: { outputs: { indices: { name: 'where:0' }, values: { name: 'values:0' } } } },
    );
    const g = await load(m);
    expect(() => execute(g, tf.ones([1, 3]))).toThrow(/use executeAsync/);
    expect(
      await compare(
        m,
        {
          x: tf.tensor2d([
            [1, -2, 3],
            [-4, 5, 0],
          ]),
        },
        false,
      ),
    ).toBe(2);
  });

  it('unknown height, width and batch: shapes stay unknown, two sizes run as stock tfjs', async () => {
    const m = handModel(
      [
        placeholder('img', 'float32', [-1, -1, -1, 3]),
        {
          name: 'conv',
          op: 'Conv2D',
          input: ['img', 'filter'],
          attr: {
            ...F,
            strides: a.ints([1, 2, 2, 1]),
            padding: a.s('SAME'),
            data_format: a.s('NHWC'),
            dilations: a.ints([1, 1, 1, 1]),
          },
        },
        {
          name: 'mean',
          op: 'Mean',
          input: ['conv', 'axes'],
          attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(false) },
        },
      ],
      {
        filter: { dtype: 'float32', shape: [3, 3, 3, 2], values: Array.from({ length: 54 }, (_, i) => Math.sin(i)) },
        axes: { dtype: 'int32', shape: [2], values: [1, 2] },
      },
    );
    const g = await load(m);
    expect(g.tensors.get('conv')!.shape).toEqual([-1, -1, -1, 2]);
    let checked = 0;
    for (const shape of [
      [1, 5, 7, 3],
      [2, 8, 4, 3],
    ])
      checked += await compare(m, { img: tf.randomUniform(shape, 0, 1, 'float32', 5) }, true);
    expect(checked).toBe(2);
  });

  it('an int32 image input cast to float, NMS v4 (padded) and v5 (scores): every output as stock tfjs', async () => {
    const m = handModel(
      [
        placeholder('pixels', 'int32', [-1, 4]),
        {
          name: 'cast',
          op: 'Cast',
          input: ['pixels'],
          attr: { SrcT: a.type('int32'), DstT: a.type('float32'), Truncate: a.b(false) },
        },
        { name: 'boxes', op: 'Mul', input: ['cast', 'scale'], attr: F },
        {
          name: 'scores',
          op: 'Sum',
          input: ['cast', 'axis1'],
          attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(false) },
        },
        {
          name: 'nms4',
          op: 'NonMaxSuppressionV4',
          input: ['boxes', 'scores', 'max', 'iou', 'thr'],
          attr: { ...F, T_threshold: a.type('float32'), pad_to_max_output_size: a.b(true) },
        },
        {
          name: 'nms5',
          op: 'NonMaxSuppressionV5',
          input: ['boxes', 'scores', 'max', 'iou', 'thr', 'sigma'],
          attr: { ...F, pad_to_max_output_size: a.b(false) },
        },
      ],
      {
        scale: { dtype: 'float32', shape: [], values: [0.01] },
        axis1: { dtype: 'int32', shape: [], values: [1] },
        max: { dtype: 'int32', shape: [], values: [4] },
        iou: { dtype: 'float32', shape: [], values: [0.3] },
        thr: { dtype: 'float32', shape: [], values: [2] },
        sigma: { dtype: 'float32', shape: [], values: [0.5] },
      },
      {
        signature: {
          outputs: {
            idx4: { name: 'nms4:0' },
            valid4: { name: 'nms4:1' },
            idx5: { name: 'nms5:0' },
            scores5: { name: 'nms5:1' },
          },
        },
      },
    );
    const g = await load(m);
    expect(g.signature!.outputs.map((o) => o.key)).toEqual(['idx4', 'valid4', 'idx5', 'scores5']);
    const pixels = tf.tensor2d(
      [
        [10, 20, 110, 120],
        [12, 22, 112, 118],
        [200, 200, 255, 255],
        [0, 0, 30, 30],
        [50, 60, 90, 100],
      ],
      undefined,
      'int32',
    );
    expect(await compare(m, { pixels }, true)).toBe(4);
  });

  it('an int32 matrix product (tf.repeat as TF writes it) equals stock tfjs on the cpu backend, the one with an int32 kernel', async () => {
    const m = handModel(
      [
        placeholder('idx', 'int32', [-1, 1]),
        {
          name: 'mm',
          op: 'MatMul',
          input: ['idx', 'ones'],
          attr: { T: a.type('int32'), transpose_a: a.b(false), transpose_b: a.b(false) },
        },
        {
          name: 'bmm',
          op: 'BatchMatMulV2',
          input: ['mm3', 'eye'],
          attr: { T: a.type('int32'), adj_x: a.b(false), adj_y: a.b(true) },
        },
        { name: 'mm3', op: 'ExpandDims', input: ['mm', 'axis0'], attr: { T: a.type('int32'), Tdim: a.type('int32') } },
      ],
      {
        ones: { dtype: 'int32', shape: [1, 3], values: [1, 1, 1] },
        eye: { dtype: 'int32', shape: [2, 3, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 0, 0, -3, 0, 0, 0, 70000] },
        axis0: { dtype: 'int32', shape: [], values: [0] },
      },
      { signature: { outputs: { repeated: { name: 'mm:0' }, batched: { name: 'bmm:0' } } } },
    );
    const idx = tf.tensor2d([[4], [-7], [40000]], undefined, 'int32');
    const ours = execute(await load(m), { idx });
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      expect(expectSameTensors(expect, ours, await stockRun(m, { idx }))).toBe(2);
    } finally {
      await tf.setBackend(backend);
    }
  });
});
