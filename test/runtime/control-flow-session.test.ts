// A session on a graph with a TF1 while loop: the nodes before the loop run natively, the
// loop runs whole in tfjs (executeAsync through tfjs-converter), and every output equals stock
// tf.loadGraphModel + executeAsync on the same JSON, under the signature's names.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { handModel, stockRun, whileConsts, whileNodes } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe('a session around a control-flow region', () => {
  const loop = handModel(whileNodes, whileConsts, { signature: { outputs: { y: { name: 'out:0' }, iterations: { name: 'w/Exit:0' } } } });

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
        const [y, count] = await stockRun(loop, { x: tf.tensor2d(xv, [2, 3]), n: tf.scalar(iters, 'int32') }, ['out', 'w/Exit']);
        const want = y!.dataSync() as Float32Array;
        const got = out.out!.data as Float32Array;
        expect(got.length).toBe(want.length);
        // Relu natively, the rest in tfjs: float32 rounding, no more.
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `iterations ${iters}, element ${i}`).toBeLessThanOrEqual(2e-6);
        expect(out['w/Exit']!.dtype).toBe('int32');
        expect(Array.from(out['w/Exit']!.data)).toEqual(Array.from(count!.dataSync()));
        // The signature key reaches the same output as the tensor name.
        expect((out as Record<string, unknown>).y).toBe(out.out);
        expect((out as Record<string, unknown>).iterations).toBe(out['w/Exit']);
        tf.dispose([y!, count!]);
      }
      // The loop runs in tfjs-converter, which runs it only asynchronously: the synchronous
      // forms refuse before running anything and name the async ones.
      expect(() => s.runSync({ x: { data: xv, shape: [2, 3] }, n: { data: Int32Array.of(1), shape: [] } })).toThrow(/control flow .*only asynchronously: use run\(\), predictAsync\(\) or executeAsync\(\)/);
      expect(() => s.predict({ x: tf.tensor2d(xv, [2, 3]), n: tf.scalar(1, 'int32') })).toThrow(/only asynchronously/);
    } finally {
      s.dispose();
    }
  });
});
