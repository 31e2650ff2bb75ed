// A user's own TF.js model objects go straight into loadModel / postTrainingQuantize: a
// tf.LayersModel built in the test and a tf.GraphModel loaded by stock tfjs. References are
// tfjs itself (model.predict / GraphModel.execute on the same object) and, for int8,
// simulate() (the documented arithmetic) against the native session.
import { beforeAll, describe, expect, it } from 'vitest';
import * as userTf from '@tensorflow/tfjs';
import { initFloatBackend } from '../../src/backend/float.js';
import { isTfjsModel } from '../../src/io/from-tfjs.js';
import { execute, loadModel } from '../../src/model/index.js';
import { convNetGraphModel, memoryArtifacts, sequentialCnn } from '../support/model-fixtures.js';
import { quantize as postTrainingQuantize } from '../../src/quant/quantize.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { relErr } from '../runtime/helpers.js';
import { dynamicTolerance, toleranceRatio } from '../support/dynamic-tolerance.js';

beforeAll(async () => {
  await initFloatBackend('cpu');
});

function weightsOf(model: userTf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
}

describe('a tf.LayersModel object', () => {
  it('loads into a graph that computes what model.predict computes, and the model is left unchanged', async () => {
    const model = sequentialCnn(7);
    const before = weightsOf(model);
    const g = await loadModel(model);
    expect(g.source?.format).toBe('layers-model');
    const x = userTf.randomUniform([3, 12, 12, 3], -1, 1, 'float32', 3);
    const [y] = execute(g, [x]);
    const ref = model.predict(x) as userTf.Tensor;
    expect(y!.shape).toEqual(ref.shape);
    expect(relErr(y!.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    expect(weightsOf(model)).toEqual(before);
  });

  it('passes to postTrainingQuantize: int8 session equals simulate() bit for bit and follows model.predict', async () => {
    const model = sequentialCnn(8);
    const calibration = [0, 1, 2, 3].map((i) => userTf.randomUniform([8, 12, 12, 3], -1, 1, 'float32', 20 + i));
    const { graph } = await postTrainingQuantize(model, { mode: 'int8', calibration, report: false });
    const x = userTf.randomUniform([16, 12, 12, 3], -1, 1, 'float32', 30);
    const session = await InferenceSession.create(graph, { threads: 1 });
    const out = (await session.run(x))[graph.outputs[0]!]!;
    session.dispose();
    const sim = simulate(graph, x).outputs[0]!;
    expect(Array.from(out.data)).toEqual(Array.from(sim.data));
    // Float outputs of the dynamic form against tfjs: int8 weights, so close but not equal.
    const dyn = await postTrainingQuantize(model, { mode: 'dynamic', report: false });
    const ds = await InferenceSession.create(dyn.graph, { threads: 1 });
    const dy = (await ds.run(x))[dyn.graph.outputs[0]!]!;
    ds.dispose();
    const ref = (model.predict(x) as userTf.Tensor).dataSync();
    expect(relErr(dy.data as Float32Array, ref)).toBeGreaterThan(0);
    // Within the scheme's noise of float (support/dynamic-tolerance.ts: measured 0.11 of it).
    expect(toleranceRatio(dy.data as Float32Array, dynamicTolerance(model, x))).toBeLessThanOrEqual(1);
  });

  it('is recognised by its shape, not by instanceof (a model of another tfjs copy)', async () => {
    const model = sequentialCnn(9);
    // Only what a LayersModel of any copy exposes; the prototype chain is not tfjs's.
    const foreign = {
      save: (h: userTf.io.IOHandler) => model.save(h),
      predict: (x: userTf.Tensor) => model.predict(x),
      fit: () => Promise.reject(new Error('not used')),
      layers: model.layers,
      inputs: model.inputs,
    };
    expect(foreign instanceof userTf.LayersModel).toBe(false);
    expect(isTfjsModel(foreign)).toBe(true);
    const g = await loadModel(foreign);
    const x = userTf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 4);
    expect(relErr(execute(g, [x])[0]!.dataSync(), (model.predict(x) as userTf.Tensor).dataSync())).toBeLessThan(1e-5);
  });
});

describe('a tf.GraphModel object', () => {
  it('loads into a graph that computes what GraphModel.execute computes', async () => {
    const built = convNetGraphModel(11).build();
    const gm = await userTf.loadGraphModel(userTf.io.fromMemory(memoryArtifacts(built.modelJson, built.weightData)));
    expect(isTfjsModel(gm)).toBe(true);
    const g = await loadModel(gm);
    expect(g.source?.format).toBe('graph-model');
    const x = userTf.randomUniform([2, 12, 12, 3], -1, 1, 'float32', 5);
    const ref = gm.execute(x) as userTf.Tensor;
    const [y] = execute(g, [x]);
    expect(y!.shape).toEqual(ref.shape);
    expect(relErr(y!.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
  });
});

describe('what is not a model', () => {
  it.each([
    ['a plain object', { layers: [] }],
    ['a tensor', userTf.zeros([1])],
    ['a model-like object without save()', { predict() {}, fit() {}, layers: [], inputs: [] }],
  ])('%s gets a TypeError naming the accepted sources', async (_label, value) => {
    expect(isTfjsModel(value)).toBe(false);
    await expect(loadModel(value as never)).rejects.toThrow(/tf\.LayersModel \/ tf\.GraphModel/);
  });
});
