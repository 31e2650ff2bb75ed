// Hard-swish chains as TF graphs write them (x + 3 → Relu6 → products with x and a scale) run as
// one native float activation step in the graph's own rounding order
// (src/runtime/hard-swish.ts): every result equals stock tfjs-converter's on the same JSON bit
// for bit (element-wise float operations, nothing summed in another order).
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const S = (v: number) => ({ dtype: 'float32' as const, shape: [], values: [v] });
const SHAPE = [2, 5, 6, 7];
const OUTS = (twice: boolean) => (twice ? ['p', 'q', 'r', 's', 'r_t'] : ['p', 'q', 'r', 's']);

/**
 * Three chains on x, each an output: p = x · Relu6(x + 3) · (1/6) (product, then a scale),
 * q = x · (Relu6(3 + x) · (1/6)) (scaled gate, operands swapped), r = Relu6(x + 3) · x with no
 * scale, s = (c · x) · Relu6(x + 3) with c = 1/6 rounded to float16 (scaled input, as TF-slim's
 * MobileNetV3 writes it). `twice`: r's Relu6 is also read by a Tanh, another output (then r runs
 * as written).
 */
function model(twice = false): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', SHAPE),
      { name: 'p_add', op: 'AddV2', input: ['x', 'three'], attr: F },
      { name: 'p_r6', op: 'Relu6', input: ['p_add'], attr: F },
      { name: 'p_mul', op: 'Mul', input: ['x', 'p_r6'], attr: F },
      { name: 'p', op: 'Mul', input: ['p_mul', 'sixth'], attr: F },
      { name: 'q_add', op: 'AddV2', input: ['three', 'x'], attr: F },
      { name: 'q_r6', op: 'Relu6', input: ['q_add'], attr: F },
      { name: 'q_gate', op: 'Mul', input: ['sixth', 'q_r6'], attr: F },
      { name: 'q', op: 'Mul', input: ['q_gate', 'x'], attr: F },
      { name: 'r_add', op: 'AddV2', input: ['x', 'three'], attr: F },
      { name: 'r_r6', op: 'Relu6', input: ['r_add'], attr: F },
      { name: 'r', op: 'Mul', input: ['r_r6', 'x'], attr: F },
      { name: 's_scaled', op: 'Mul', input: ['sixth16', 'x'], attr: F },
      { name: 's_add', op: 'AddV2', input: ['x', 'three'], attr: F },
      { name: 's_r6', op: 'Relu6', input: ['s_add'], attr: F },
      { name: 's', op: 'Mul', input: ['s_scaled', 's_r6'], attr: F },
      ...(twice ? [{ name: 'r_t', op: 'Tanh', input: ['r_r6'], attr: F }] : []),
    ],
    { three: S(3), sixth: S(1 / 6), sixth16: S(0.1666259765625) },
    { signature: { outputs: Object.fromEntries(OUTS(twice).map((o) => [o, { name: `${o}:0` }])) } },
  );
}

async function run(m: HandModel, outs: string[], exact = true) {
  const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 1,
  });
  // −8…8: below −3 (zero), between, above 3 (x itself).
  const x = tf.randomUniform(SHAPE, -8, 8, 'float32', 3);
  try {
    const want = await stockRun(m, { x }, outs);
    const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: SHAPE } });
    for (const [k, name] of outs.entries()) {
      const g = res[name]!.data as Float32Array,
        w = want[k]!.dataSync() as Float32Array;
      // Our tanh is not tfjs's (a few ulps apart); the rest is the graph's own arithmetic.
      if (exact || name !== 'r_t') expect(Array.from(g), name).toEqual(Array.from(w));
      else for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `${name} ${i}`).toBeLessThan(1e-6);
    }
    tf.dispose(want);
    return new Map(s.plan.map((p) => [p.node, p]));
  } finally {
    x.dispose();
    s.dispose();
  }
}

describe('hard-swish chains as one native step', () => {
  it('product (with and without a scale), scaled gate and scaled input fuse, and equal stock tfjs bit for bit', async () => {
    const where = await run(model(), OUTS(false));
    for (const [node, into] of [
      ['p_add', 'p'],
      ['p_r6', 'p'],
      ['p_mul', 'p'],
      ['q_add', 'q'],
      ['q_r6', 'q'],
      ['q_gate', 'q'],
      ['r_add', 'r'],
      ['r_r6', 'r'],
      ['s_scaled', 's'],
      ['s_add', 's'],
      ['s_r6', 's'],
    ] as const)
      expect(where.get(node)!.fusedInto, node).toBe(into);
    for (const p of where.values()) expect(p.placement, p.node).toBe('native-float');
  });

  it('a Relu6 read twice leaves its chain as written (its add still fuses with it as a clamp), as stock tfjs', async () => {
    const where = await run(model(true), OUTS(true), false);
    expect(where.get('r_r6')!.fusedInto).toBe('r_add');
    expect(where.get('r')!.fusedInto).toBeUndefined();
    expect(where.get('p_mul')!.fusedInto).toBe('p');
  });
});
