// The LeNets trained briefly on MNIST (seeded split): float sessions against tfjs execute(),
// int8 sessions against simulate() bit for bit and against the float model: top-1
// agreement ≥ 99% on 1,000 test digits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, buildLeNet5, loadMnist, trainModel, type MnistSplit } from '../../src/data/index.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { registerNativeTrainingKernels } from '../../src/train/kernels.js';
import { quantized, floatOutputs, graphOf, relErr, top1Agreement } from './helpers.js';

let mnist: MnistSplit;
beforeAll(async () => {
  await initFloatBackend();
  registerNativeTrainingKernels();
  mnist = loadMnist({ trainSize: 3000, testSize: 1000, seed: 5 });
});
afterAll(() => mnist.dispose());

describe.each([
  ['LeNet-300-100', () => buildLeNet300100({ seed: 3 })],
  ['LeNet-5', () => buildLeNet5({ seed: 4 })],
])('%s', (_name, build) => {
  it('float session = execute (1e-5); int8 session = simulate (bit for bit), top-1 agreement with float ≥ 99%', async () => {
    const model = build();
    await trainModel(model, mnist.xTrain, mnist.yTrain, { epochs: 1, optimizer: 'adam', batchSize: 64 });
    const g = await graphOf(model);
    const x = mnist.xTest;
    const ref = floatOutputs(g, x)[0]!;
    const fs = await InferenceSession.create(g, { threads: 2 });
    expect(fs.plan.every((p) => p.placement === 'native-float')).toBe(true);
    const y = (await fs.run(x))[g.outputs[0]!]!;
    expect(y.shape).toEqual([1000, 10]);
    expect(relErr(y.data, ref)).toBeLessThan(1e-5);
    fs.dispose();

    const calib = tf.slice(mnist.xTrain, 0, 200);
    const q = await quantized(g, calib);
    calib.dispose();
    const qs = await InferenceSession.create(q, { threads: 2 });
    expect(qs.plan.every((p) => p.placement === 'native-int8')).toBe(true);
    const qo = (await qs.run(x))[q.outputs[0]!]!;
    const sim = simulate(q, x).outputs[0]!;
    expect(Array.from(qo.data)).toEqual(Array.from(sim.data));
    const agree = top1Agreement(qo.data, ref, 10);
    expect(agree.all).toBeGreaterThanOrEqual(0.99);
    qs.dispose();
  });
});
