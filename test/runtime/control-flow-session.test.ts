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
