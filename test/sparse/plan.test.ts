// Bad sparse plans are errors, never crashes: the sparse steps of a compiled plan (sparse
// 'always') with their row range, geometry, dtypes, weights and ids mutated are rejected at
// creation or run; plus the specific checks (m_min/m_max, 1×1 only) by name.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuntimePlan } from '../../binding.js';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { rng } from '../support/model-fixtures.js';
import { native } from '../../src/native/binding.js';
import { magnitudePrune } from '../../src/prune/index.js';
import { compilePlan } from '../../src/runtime/index.js';
import { graphOf, quantized, tryMutatedPlan, variedInput } from '../runtime/helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

function clone(p: RuntimePlan): RuntimePlan {
  return {
    ...p,
    buffers: p.buffers.map((b) => ({ ...b, shape: [...b.shape] })),
    weights: p.weights.map((w) => w.slice()),
    steps: p.steps.map((s) => ({
      ...s,
      inputs: [...s.inputs],
      outputs: [...s.outputs],
      temps: [...(s.temps ?? [])],
      ints: [...(s.ints ?? [])],
      floats: [...(s.floats ?? [])],
      weights: [...(s.weights ?? [])],
    })),
  };
}

async function plans(): Promise<RuntimePlan[]> {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [6, 6, 12],
      filters: 16,
      kernelSize: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({ units: 20, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  );
  magnitudePrune(m, { sparsity: 0.8 });
  const g = await graphOf(m);
  const q = await quantized(g, variedInput([4, 6, 6, 12], 1));
  return [compilePlan(g, { sparse: 'always' }), compilePlan(q, { sparse: 'always' })].map((c) => {
    const s = c.segments[0]!;
    if (s.kind !== 'native') throw new Error('expected a native segment');
    expect(s.plan.steps.filter((st) => st.op.startsWith('sparse_')).length).toBe(2);
    return s.plan;
  });
}

describe('sparse plans', () => {
  it('named checks: row range, 1×1 only', async () => {
    const Ctor = native().RuntimeSession;
    for (const p0 of await plans()) {
      const bad = (mutate: (p: RuntimePlan, i: number) => void, re: RegExp) => {
        const p = clone(p0);
        const i = p.steps.findIndex((s) => s.op.startsWith('sparse_'));
        mutate(p, i);
        expect(() => new Ctor(p, { threads: 1 })).toThrow(RangeError);
        expect(() => new Ctor(p, { threads: 1 })).toThrow(re);
      };
      bad((p, i) => p.steps[i]!.ints!.splice(-2, 2), /\(sparse_\w+\): expects \d+ int parameters, got \d+$/);
      bad((p, i) => {
        p.steps[i]!.ints![p.steps[i]!.ints!.length - 2] = 0;
      }, /m_min/);
      bad((p, i) => {
        const n = p.steps[i]!.ints!.length;
        p.steps[i]!.ints![n - 2] = 8;
        p.steps[i]!.ints![n - 1] = 4;
      }, /m_max/);
      const conv = p0.steps.findIndex((s) => s.op.startsWith('sparse_conv'));
      bad((p) => {
        p.steps[conv]!.ints![2] = 2;
      }, /output shape \[1, 6, 6, 16\] does not match the geometry/); // stride 2: the declared output no longer fits
      bad((p) => {
        p.steps[conv]!.op = 'sparse_conv_x';
      }, /unknown op/);
      // A valid range: runs, with the dense fallback on either side.
      const p = clone(p0);
      for (const s of p.steps) if (s.op.startsWith('sparse_')) s.ints!.splice(-2, 2, 2, 3);
      const sess = new Ctor(p, { threads: 1 });
      const x = variedInput([5, 6, 6, 12], 3).dataSync() as Float32Array;
      for (const b of [1, 2, 3, 5]) await sess.run([x.subarray(0, b * 432)], { batch: b });
      sess.dispose();
    }
  });

  it('mutated sparse plans (200) are rejected or run, never fault', async () => {
    const all = await plans();
    const r = rng(11);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    let accepted = 0,
      rejected = 0;
    for (let i = 0; i < 200; i++) {
      const p = clone(pick(all));
      const st = pick(p.steps.filter((s) => s.op.startsWith('sparse_')));
      const kind = Math.floor(r() * 6);
      switch (kind) {
        case 0:
          st.ints![Math.floor(r() * st.ints!.length)]! += pick([-2, -1, 1, 2, 7]);
          break;
        case 1:
          st.inputs[0] = Math.floor(r() * p.buffers.length);
          break;
        case 2: {
          const k = pick(st.weights!.filter((x) => x >= 0));
          p.weights[k] = p.weights[k]!.subarray(0, Math.max(0, p.weights[k]!.length - 1));
          break;
        }
        case 3: {
          const b = pick(p.buffers);
          b.dtype = pick([0, 1, 2, 3] as const);
          break;
        }
        case 4: {
          const k = st.weights![0]!;
          const w = p.weights[k]!;
          w[Math.floor(r() * w.length)] = pick([0, 0, 127, -128, 1]);
          break;
        }
        case 5:
          st.ints![st.ints!.length - pick([1, 2])] = pick([-5, -1, 0, 1, 2 ** 40]);
          break;
      }
      // Edits of the step's own integers or first input can only be caught at that step.
      const localTo = kind === 0 || kind === 1 || kind === 5 ? p.steps.indexOf(st) : undefined;
      if (await tryMutatedPlan(p, i, localTo)) accepted++;
      else rejected++;
    }
    expect(rejected).toBeGreaterThan(20);
    expect(accepted).toBeGreaterThan(20);
  });
});
