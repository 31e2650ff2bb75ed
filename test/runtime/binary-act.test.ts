// A float Add / Sub / Mul whose only reader is a ReLU / ReLU6 runs as one clamping binary step
// (src/runtime/binary-act.ts); every result is compared with stock tfjs-converter on the same
// JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const conv1x1 = {
  ...F,
  strides: a.ints([1, 1, 1, 1]),
  padding: a.s('VALID'),
  data_format: a.s('NHWC'),
  dilations: a.ints([1, 1, 1, 1]),
};
const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => Math.sin(i * f) * 0.8);

/**
 * x [1, 6, 7, 4] → 1×1 conv c → a1 = c + x → Relu r1 → m1 = r1 · x → Relu6 r6 → s1 = r6 − x,
 * read by Relu r2 and by Tanh t → out = r2 + t. `extra` names more outputs.
 */
function model(extra: string[] = []): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [1, 6, 7, 4]),
      { name: 'c', op: 'Conv2D', input: ['x', 'filter'], attr: conv1x1 },
      { name: 'a1', op: 'AddV2', input: ['c', 'x'], attr: F },
      { name: 'r1', op: 'Relu', input: ['a1'], attr: F },
      { name: 'm1', op: 'Mul', input: ['r1', 'x'], attr: F },
      { name: 'r6', op: 'Relu6', input: ['m1'], attr: F },
      { name: 's1', op: 'Sub', input: ['r6', 'x'], attr: F },
      { name: 'r2', op: 'Relu', input: ['s1'], attr: F },
      { name: 't', op: 'Tanh', input: ['s1'], attr: F },
      { name: 'out', op: 'AddV2', input: ['r2', 't'], attr: F },
    ],
    { filter: { dtype: 'float32', shape: [1, 1, 4, 4], values: wave(16, 0.9) } },
    extra.length
      ? { signature: { outputs: Object.fromEntries(['out', ...extra].map((o) => [o, { name: `${o}:0` }])) } }
      : {},
  );
}

// Scaled so that many sums pass 0 and some products pass 6: both clamps cut.
const input = () => tf.randomNormal([1, 6, 7, 4], 0, 3, 'float32', 7);

async function check(m: HandModel, names: string[]) {
  const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 1,
  });
  const x = input();
  try {
    const want = await stockRun(m, { x }, names);
    const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 6, 7, 4] } });
    for (const [k, name] of names.entries()) {
      const w = want[k]!.dataSync() as Float32Array;
      const got = res[name]!.data as Float32Array;
      expect(res[name]!.shape, name).toEqual(want[k]!.shape);
      // The same float operations: only the 1×1 conv's sum order differs from tfjs.
      for (let i = 0; i < w.length; i++)
        expect(Math.abs(got[i]! - w[i]!), `${name} element ${i}`).toBeLessThanOrEqual(1e-5);
    }
    tf.dispose(want);
    return new Map(s.plan.map((p) => [p.node, p]));
  } finally {
    x.dispose();
    s.dispose();
  }
}

describe('binary op → ReLU as one native step', () => {
  it('Add → Relu and Mul → Relu6 fuse; a binary read twice does not; outputs as stock tfjs', async () => {
    const where = await check(model(), ['out']);
    expect(where.get('r1')!.fusedInto).toBe('a1');
    expect(where.get('r6')!.fusedInto).toBe('m1');
    expect(where.get('r1')!.placement).toBe('native-float');
    // s1 is read by r2 and t: both run as written.
    expect(where.get('r2')!.fusedInto).toBeUndefined();
    expect(where.get('t')!.fusedInto).toBeUndefined();
    for (const p of where.values()) expect(p.placement, p.node).toBe('native-float');
  });

  it('a binary output that is also a graph output is not fused, and both outputs come back', async () => {
    const where = await check(model(['a1', 'm1']), ['out', 'a1', 'm1']);
    expect(where.get('r1')!.fusedInto).toBeUndefined();
    expect(where.get('r6')!.fusedInto).toBeUndefined();
  });
});
