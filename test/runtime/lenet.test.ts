// Whole-model runs of the LeNets: float sessions against tfjs execute(), int8 sessions
// against simulate() (bit for bit) and against the float model (top-1 agreement).
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, buildLeNet5 } from '../../src/data/models.js';
import { randomTensor } from '../../src/model/testing.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { agreement, annotate, argmaxRows, floatOutputs, graphOf, relErr } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe.each([
  ['LeNet-300-100', () => buildLeNet300100({ seed: 3 })],
  ['LeNet-5', () => buildLeNet5({ seed: 4 })],
])('%s', (_name, build) => {
  it('float session equals tfjs execute within 1e-5 relative; int8 session equals simulate bit for bit', async () => {
    const g = await graphOf(build());
    const x = randomTensor([16, 28, 28, 1], 7, 0, 1);
    const ref = floatOutputs(g, x)[0]!;
    const fs = await InferenceSession.create(g, { threads: 2 });
    expect(fs.plan.every((p) => p.placement === 'native-float')).toBe(true);
    const fo = await fs.run(x);
    const y = fo[g.outputs[0]!]!;
    expect(y.shape).toEqual([16, 10]);
    expect(relErr(y.data, ref)).toBeLessThan(1e-5);
    fs.dispose();

    const q = annotate(g, randomTensor([32, 28, 28, 1], 8, 0, 1));
    const qs = await InferenceSession.create(q, { threads: 2 });
    expect(qs.plan.every((p) => p.placement === 'native-int8')).toBe(true);
    const qo = (await qs.run(x))[q.outputs[0]!]!;
    const sim = simulate(q, x).outputs[0]!;
    expect(Array.from(qo.data)).toEqual(Array.from(sim.data));
    const qref = floatOutputs(q, x)[0]!;
    expect(agreement(argmaxRows(qo.data, 10), argmaxRows(qref, 10))).toBeGreaterThanOrEqual(0.9);
    qs.dispose();
    x.dispose();
  });
});
