// A session on a graph with a TF1 while loop: the nodes before the loop run natively, the
// loop runs whole in tfjs (executeAsync through tfjs-converter), and every output equals stock
// tf.loadGraphModel + executeAsync on the same JSON, under the signature's names.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, whileConsts, whileNodes } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe('a session around a control-flow region', () => {
  const loop = handModel(whileNodes, whileConsts, {
    signature: { outputs: { y: { name: 'out:0' }, iterations: { name: 'w/Exit:0' } } },
  });

  it('runs the loop in tfjs, what precedes it natively, and matches stock tfjs for 0, 1 and 5 iterations', async () => {
    const g = await loadModel({ modelJson: loop.modelJson, weightData: loop.weightData });
    const s = await InferenceSession.create(g, { threads: 1 });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('pre')!.placement).toBe('native-float');
      // A loop's result may change shape per iteration, so what reads it is planned in tfjs
      // with that reason (the shape is unknown until the run).
      expect(where.get('out')!.placement).toBe('tfjs');
      expect(where.get('out')!.reasonKind).toBe('shape-unknown');
      for (const n of ['w/Merge', 'w/Switch_1', 'w/add_1', 'w/Exit_1']) {
        expect(where.get(n)!.placement, n).toBe('tfjs');
        expect(where.get(n)!.reasonKind, n).toBe('control-flow');
      }
      expect([...s.outputNames]).toEqual(['y', 'iterations']); // the signature's keys, in its order
      const xv = Float32Array.of(1, -2, 3, 0.5, 4, -1);
      for (const iters of [0, 1, 5]) {
        const out = await s.run({ x: { data: xv, shape: [2, 3] }, n: { data: Int32Array.of(iters), shape: [] } });
        const [y, count] = await stockRun(loop, { x: tf.tensor2d(xv, [2, 3]), n: tf.scalar(iters, 'int32') }, [
          'out',
          'w/Exit',
        ]);
        const want = y!.dataSync() as Float32Array;
        const got = out.out!.data as Float32Array;
        expect(got.length).toBe(want.length);
        // Relu natively, the rest in tfjs: float32 rounding, no more.
        for (let i = 0; i < want.length; i++)
          expect(Math.abs(got[i]! - want[i]!), `iterations ${iters}, element ${i}`).toBeLessThanOrEqual(2e-6);
        expect(out['w/Exit']!.dtype).toBe('int32');
        expect(Array.from(out['w/Exit']!.data)).toEqual(Array.from(count!.dataSync()));
        // The signature key reaches the same output as the tensor name.
        expect((out as Record<string, unknown>).y).toBe(out.out);
        expect((out as Record<string, unknown>).iterations).toBe(out['w/Exit']);
        tf.dispose([y!, count!]);
      }
      // The loop runs in tfjs-converter, which runs it only asynchronously: the synchronous
      // forms refuse before running anything and name the async ones.
      expect(() => s.runSync({ x: { data: xv, shape: [2, 3] }, n: { data: Int32Array.of(1), shape: [] } })).toThrow(
        /control flow .*only asynchronously: use run\(\), predictAsync\(\) or executeAsync\(\)/,
      );
      expect(() => s.predict({ x: tf.tensor2d(xv, [2, 3]), n: tf.scalar(1, 'int32') })).toThrow(/only asynchronously/);
    } finally {
      s.dispose();
    }
  });

  // A region whose output shape no rule gives (a tensor list stacked with element shape -1, as
  // the TF Object Detection API's preprocessing map writes it) feeding a convolution.
  const F = { T: a.type('float32') };
  const L = { element_dtype: a.type('float32') };
  const conv = {
    ...F,
    strides: a.ints([1, 1, 1, 1]),
    padding: a.s('SAME'),
    data_format: a.s('NHWC'),
    dilations: a.ints([1, 1, 1, 1]),
  };
  const listConv = handModel(
    [
      placeholder('x', 'float32', [2, 6, 6, 3]),
      {
        name: 'list',
        op: 'TensorListFromTensor',
        input: ['x', 'elem_shape'],
        attr: { ...L, shape_type: a.type('int32') },
      },
      { name: 'stack', op: 'TensorListStack', input: ['list', 'elem_shape'], attr: { ...L, num_elements: a.i(-1) } },
      { name: 'conv', op: 'Conv2D', input: ['stack', 'filter'], attr: conv },
      { name: 'out', op: 'Relu', input: ['conv'], attr: F },
      // The stacked tensor is also an output, through an Identity: one tfjs tensor answers for
      // two names of the segment.
      { name: 'stacked', op: 'Identity', input: ['stack'], attr: F },
    ],
    {
      elem_shape: { dtype: 'int32', shape: [], values: [-1] },
      filter: {
        dtype: 'float32',
        shape: [3, 3, 3, 4],
        values: Array.from({ length: 108 }, (_, i) => Math.sin(i) * 0.5),
      },
    },
    { signature: { outputs: { y: { name: 'out:0' }, stacked: { name: 'stacked:0' } } } },
  );

  it('learns the shapes a region gave at the first run: the convolution after it runs natively from the second run on, as stock tfjs', async () => {
    const g = await loadModel({ modelJson: listConv.modelJson, weightData: listConv.weightData });
    const s = await InferenceSession.create(g, { threads: 1 });
    try {
      const placement = () => new Map(s.plan.map((p) => [p.node, p.placement]));
      expect(placement().get('conv')).toBe('tfjs');
      const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 7);
      const [want] = await stockRun(listConv, { x }, ['out']);
      const wantData = want!.dataSync() as Float32Array;
      for (let run = 0; run < 3; run++) {
        const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [2, 6, 6, 3] } });
        expect(Array.from(res.stacked!.data), `run ${run}`).toEqual(Array.from(x.dataSync()));
        const got = res.out!.data as Float32Array;
        expect(got.length).toBe(wantData.length);
        // A 27-term float32 dot product, natively or in tfjs: rounding of the sum, no more.
        for (let i = 0; i < got.length; i++)
          expect(Math.abs(got[i]! - wantData[i]!), `run ${run}, element ${i}`).toBeLessThanOrEqual(
            1e-5 * (1 + Math.abs(wantData[i]!)),
          );
        expect(placement().get('conv'), `run ${run}`).toBe(run === 0 ? 'tfjs' : 'native-float');
      }
      expect(s.summary.nativeGemmShare).toBe(1);
      tf.dispose([x, want!]);
    } finally {
      s.dispose();
    }
  });

  // cond → network → cond, as a video-matting model writes it: the first conditional may
  // halve the image (its output shape is known only after a run), the network reads it, and
  // the second conditional reads both the network's result and the first conditional's.
  const condNetCond = (() => {
    const pool = {
      ...F,
      ksize: a.ints([1, 2, 2, 1]),
      strides: a.ints([1, 2, 2, 1]),
      padding: a.s('VALID'),
      data_format: a.s('NHWC'),
    };
    return handModel(
      [
        placeholder('x', 'float32', [1, 8, 8, 3]),
        placeholder('flag', 'bool', []),
        // The second conditional's switch on the image comes first in the file (as the
        // converter wrote the model this mimics): the regions are kept whole by their members.
        { name: 'b/Switch_2', op: 'Switch', input: ['x', 'flag'], attr: F },
        { name: 'a/Switch', op: 'Switch', input: ['x', 'flag'], attr: F },
        { name: 'a/pool', op: 'AvgPool', input: ['a/Switch:1'], attr: pool },
        { name: 'a/keep', op: 'Identity', input: ['a/Switch'], attr: F },
        { name: 'a/Merge', op: 'Merge', input: ['a/keep', 'a/pool'], attr: { ...F, N: a.i(2) } },
        { name: 'net/conv', op: 'Conv2D', input: ['a/Merge', 'filter'], attr: conv },
        { name: 'net/relu', op: 'Relu', input: ['net/conv'], attr: F },
        { name: 'b/Switch', op: 'Switch', input: ['net/relu', 'flag'], attr: F },
        { name: 'b/Switch_1', op: 'Switch', input: ['a/Merge', 'flag'], attr: F },
        {
          name: 'b/sum',
          op: 'Sum',
          input: ['b/Switch_1:1', 'channels'],
          attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(true) },
        },
        { name: 'b/add', op: 'AddV2', input: ['b/Switch:1', 'b/sum'], attr: F },
        {
          name: 'b/total',
          op: 'Sum',
          input: ['b/Switch_2:1', 'all'],
          attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(true) },
        },
        { name: 'b/add_1', op: 'AddV2', input: ['b/add', 'b/total'], attr: F },
        { name: 'b/neg', op: 'Neg', input: ['b/Switch'], attr: F },
        { name: 'b/Merge', op: 'Merge', input: ['b/neg', 'b/add_1'], attr: { ...F, N: a.i(2) } },
        { name: 'out', op: 'Tanh', input: ['b/Merge'], attr: F },
      ],
      {
        channels: { dtype: 'int32', shape: [1], values: [3] },
        all: { dtype: 'int32', shape: [3], values: [1, 2, 3] },
        filter: {
          dtype: 'float32',
          shape: [3, 3, 3, 4],
          values: Array.from({ length: 108 }, (_, i) => Math.cos(i) * 0.4),
        },
      },
    );
  })();

  it('cond → network → cond: the network runs natively once the shapes of the first region are learned, each region whole, as stock tfjs', async () => {
    const g = await loadModel({ modelJson: condNetCond.modelJson, weightData: condNetCond.weightData });
    const s = await InferenceSession.create(g, { threads: 1 });
    try {
      const where = () => new Map(s.plan.map((p) => [p.node, p]));
      // Before any run the first region's output shape is unknown: the network waits in tfjs.
      expect(where().get('net/conv')!.placement).toBe('tfjs');
      expect(where().get('net/conv')!.reasonKind).toBe('shape-unknown');
      const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 11);
      const flags = [true, true, true, false, false, true, true];
      for (const [k, flag] of flags.entries()) {
        const feed = {
          x: { data: x.dataSync() as Float32Array, shape: [1, 8, 8, 3] },
          flag: { data: Uint8Array.of(+flag), shape: [] },
        };
        const got = (await s.run(feed)).out!;
        const [want] = await stockRun(condNetCond, { x, flag: tf.scalar(flag, 'bool') }, ['out']);
        expect(got.shape, `run ${k}`).toEqual(want!.shape);
        const w = want!.dataSync() as Float32Array;
        // A 27-term float32 dot product natively or in tfjs, then tanh: rounding, no more.
        for (let i = 0; i < w.length; i++)
          expect(Math.abs((got.data as Float32Array)[i]! - w[i]!), `run ${k}, element ${i}`).toBeLessThanOrEqual(1e-5);
        want!.dispose();
        // A run whose first region gives the shape the previous run learned runs on the learned
        // plan (the network native); a change of shape runs on the plan that assumes nothing.
        const learnedHeld = k > 0 && flags[k - 1] === flag;
        expect(where().get('net/conv')!.placement, `run ${k}`).toBe(learnedHeld ? 'native-float' : 'tfjs');
      }
      // The last plan: each region in one tfjs segment, the network between them native.
      const segments = (s as unknown as { current: { compiled: { segments: { kind: string; nodes: string[] }[] } } })
        .current.compiled.segments;
      const segmentOf = (n: string) => segments.findIndex((seg) => seg.nodes.includes(n));
      expect(new Set(['a/Switch', 'a/pool', 'a/keep', 'a/Merge'].map(segmentOf)).size).toBe(1);
      expect(
        new Set(['b/Switch_2', 'b/Switch', 'b/Switch_1', 'b/sum', 'b/total', 'b/neg', 'b/Merge'].map(segmentOf)).size,
      ).toBe(1);
      expect(segments[segmentOf('net/conv')]!.kind).toBe('native');
      x.dispose();
    } finally {
      s.dispose();
    }
  });

  it('a region that gives another shape than the one learned (Where: as many rows as positive values) runs on a plan without the assumption', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [2, 3]),
        { name: 'positive', op: 'Greater', input: ['x', 'zero'], attr: F },
        { name: 'where', op: 'Where', input: ['positive'], attr: { T: a.type('bool') } },
        {
          name: 'rows',
          op: 'Cast',
          input: ['where'],
          attr: { SrcT: a.type('int32'), DstT: a.type('float32'), Truncate: a.b(false) },
        },
        {
          name: 'proj',
          op: 'MatMul',
          input: ['rows', 'w'],
          attr: { ...F, transpose_a: a.b(false), transpose_b: a.b(false) },
        },
        { name: 'out', op: 'Tanh', input: ['proj'], attr: F },
      ],
      {
        zero: { dtype: 'float32', shape: [], values: [0] },
        w: { dtype: 'float32', shape: [2, 3], values: [0.5, -1, 0.25, 2, 0.125, -0.75] },
      },
    );
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    const s = await InferenceSession.create(g, { threads: 1 });
    try {
      // 3, 5, 3 and 1 positive values: the learned row count is wrong on every change.
      const inputs = [
        [1, -2, 3, -4, 5, -6],
        [1, 2, 3, 4, 5, -6],
        [-1, 2, -3, 4, -5, 6],
        [-1, -2, -3, -4, -5, 6],
      ];
      for (const v of inputs) {
        const x = tf.tensor2d(v, [2, 3]);
        const [want] = await stockRun(m, { x }, ['out']);
        const got = (await s.run({ x: { data: Float32Array.from(v), shape: [2, 3] } })).out!;
        expect(got.shape).toEqual(want!.shape);
        const w = want!.dataSync() as Float32Array;
        for (let i = 0; i < w.length; i++)
          expect(Math.abs((got.data as Float32Array)[i]! - w[i]!), `${v}`).toBeLessThanOrEqual(1e-6);
        tf.dispose([x, want!]);
      }
      // The last run was a change of shape: the next identical run uses the plan learned from it.
      await s.run({ x: { data: Float32Array.from(inputs[3]!), shape: [2, 3] } });
      expect(new Map(s.plan.map((p) => [p.node, p.placement])).get('proj')).toBe('native-float');
    } finally {
      s.dispose();
    }
  });
});
