// Transposes around layout-free ops, as PyTorch → ONNX → TensorFlow exports write them (NHWC
// for the convolutions, NCHW for everything else), are sunk and cancelled by optimize()
// (src/model/passes/transpose.ts): the graph computes what stock tfjs computes on the original
// JSON, with the transposes gone, the activation fused and the pad folded.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, optimize } from '../../src/model/index.js';
import { a, convAttrs, handModel, placeholder, stockRun, type HandModel } from './graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => Math.sin(i * f + 0.4) * 0.5);
const I = (shape: number[], values: number[]) => ({ dtype: 'int32' as const, shape, values });
const W = (shape: number[], f: number) => ({
  dtype: 'float32' as const,
  shape,
  values: wave(
    shape.reduce((p, d) => p * d, 1),
    f,
  ),
});
const TO_NCHW = [0, 3, 1, 2],
  TO_NHWC = [0, 2, 3, 1];

/**
 * x [1, 6, 7, 4] → conv1 → to NCHW → LeakyRelu, read by two branches:
 *   Pad (H, W by 1) → to NHWC → conv2 (VALID) → a;
 *   ConcatV2 on axis 1 with conv3(x) in NCHW → × 0.5 → to NHWC → conv4 → b;
 * and x → to NCHW → Reshape → c (a Reshape depends on the layout: that transpose stays).
 */
function exported(): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [1, 6, 7, 4]),
      { name: 'conv1', op: 'Conv2D', input: ['x', 'w1'], attr: convAttrs() },
      { name: 'nchw1', op: 'Transpose', input: ['conv1', 'to_nchw'], attr: { ...F, Tperm: a.type('int32') } },
      { name: 'leaky', op: 'LeakyRelu', input: ['nchw1'], attr: { ...F, alpha: a.f(0.1) } },
      { name: 'pad', op: 'Pad', input: ['leaky', 'pads'], attr: { ...F, Tpaddings: a.type('int32') } },
      { name: 'nhwc2', op: 'Transpose', input: ['pad', 'to_nhwc'], attr: { ...F, Tperm: a.type('int32') } },
      { name: 'a', op: 'Conv2D', input: ['nhwc2', 'w2'], attr: convAttrs(1, 'VALID') },
      { name: 'conv3', op: 'Conv2D', input: ['x', 'w3'], attr: convAttrs() },
      { name: 'nchw3', op: 'Transpose', input: ['conv3', 'to_nchw'], attr: { ...F, Tperm: a.type('int32') } },
      { name: 'cat', op: 'ConcatV2', input: ['leaky', 'nchw3', 'axis'], attr: { ...F, N: a.i(2) } },
      { name: 'half', op: 'Mul', input: ['cat', 'half_c'], attr: F },
      { name: 'nhwc4', op: 'Transpose', input: ['half', 'to_nhwc'], attr: { ...F, Tperm: a.type('int32') } },
      { name: 'b', op: 'Conv2D', input: ['nhwc4', 'w4'], attr: convAttrs() },
      { name: 'nchw5', op: 'Transpose', input: ['x', 'to_nchw'], attr: { ...F, Tperm: a.type('int32') } },
      { name: 'c', op: 'Reshape', input: ['nchw5', 'flat'], attr: { ...F, Tshape: a.type('int32') } },
    ],
    {
      w1: W([3, 3, 4, 6], 0.31),
      w2: W([3, 3, 6, 5], 0.17),
      w3: W([1, 1, 4, 2], 0.53),
      w4: W([1, 1, 8, 3], 0.29),
      to_nchw: I([4], TO_NCHW),
      to_nhwc: I([4], TO_NHWC),
      pads: I([4, 2], [0, 0, 0, 0, 1, 1, 1, 1]),
      axis: I([], [1]),
      half_c: { dtype: 'float32', shape: [], values: [0.5] },
      flat: I([2], [1, -1]),
    },
    {
      signature: {
        outputs: { a: { name: 'a:0' }, b: { name: 'b:0' }, c: { name: 'c:0' } },
      },
    },
  );
}

describe('sinking and cancelling transposes', () => {
  it('cancels the pairs around LeakyRelu, Pad, ConcatV2 and a scalar Mul, and computes what stock tfjs computes', async () => {
    const m = exported();
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    const o = optimize(g);
    const ops = o.nodes.map((n) => n.op);
    // Only the transpose the Reshape reads is left; the pad went into conv2, the LeakyRelu into conv1.
    expect(ops.filter((op) => op === 'Transpose')).toHaveLength(1);
    expect(o.nodes.find((n) => n.op === 'Transpose')!.outputs).toEqual(['nchw5']);
    expect(ops).not.toContain('Pad');
    expect(ops).not.toContain('LeakyRelu');
    expect(o.outputs).toEqual(g.outputs);
    const x = tf.randomNormal([1, 6, 7, 4], 0, 1, 'float32', 7);
    const want = await stockRun(m, { x }, ['a', 'b', 'c']);
    const got = execute(o, x);
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      expect(got[i]!.shape, name).toEqual(want[i]!.shape);
      const w = want[i]!.dataSync() as Float32Array,
        v = got[i]!.dataSync() as Float32Array;
      for (let j = 0; j < w.length; j++)
        expect(Math.abs(v[j]! - w[j]!), `${name}[${j}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[j]!)));
    }
    tf.dispose([x, ...want, ...got]);
  });

  it('leaves a transpose that meets no inverse where it was (sinking it would not remove any)', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [1, 3, 4, 2]),
        { name: 't', op: 'Transpose', input: ['x', 'to_nchw'], attr: { ...F, Tperm: a.type('int32') } },
        { name: 'r', op: 'Relu', input: ['t'], attr: F },
        { name: 'y', op: 'Reshape', input: ['r', 'flat'], attr: { ...F, Tshape: a.type('int32') } },
      ],
      { to_nchw: I([4], TO_NCHW), flat: I([2], [1, -1]) },
    );
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    const o = optimize(g);
    expect(o.nodes.map((n) => [n.name, n.op])).toEqual([
      ['t', 'Transpose'],
      ['r', 'Relu'],
      ['y', 'Reshape'],
    ]);
    const x = tf.randomNormal([1, 3, 4, 2], 0, 1, 'float32', 8);
    const [want] = await stockRun(m, { x });
    expect(Array.from(execute(o, x)[0]!.dataSync())).toEqual(Array.from(want!.dataSync()));
  });

  it('a transposed tensor that is a graph output keeps its name and value', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [1, 3, 4, 2]),
        { name: 't', op: 'Transpose', input: ['x', 'to_nchw'], attr: { ...F, Tperm: a.type('int32') } },
        { name: 'r', op: 'Sigmoid', input: ['t'], attr: F },
        { name: 'back', op: 'Transpose', input: ['r', 'to_nhwc'], attr: { ...F, Tperm: a.type('int32') } },
      ],
      { to_nchw: I([4], TO_NCHW), to_nhwc: I([4], TO_NHWC) },
      { signature: { outputs: { back: { name: 'back:0' }, r: { name: 'r:0' } } } },
    );
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    const o = optimize(g);
    expect(o.outputs).toEqual(g.outputs);
    const x = tf.randomNormal([1, 3, 4, 2], 0, 1, 'float32', 9);
    const want = await stockRun(m, { x }, ['back', 'r']);
    const got = execute(o, x);
    const byName = new Map(g.outputs.map((t, i) => [t, got[i]!]));
    for (const [i, t] of ['back', 'r'].entries())
      expect(Array.from(byName.get(t)!.dataSync()), t).toEqual(Array.from(want[i]!.dataSync()));
  });
});
