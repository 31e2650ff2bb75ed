// Mutated plans (ids, shapes, parameters, weight lengths, dtypes) are either rejected by the
// native session with an error or run without fault (run under ASan by scripts/sanitize.sh
// with TFJS_QUANT_ADDON pointing at a sanitizer build).
import { beforeAll, describe, expect, it } from 'vitest';
import type { RuntimePlan } from '../../binding.js';
import { initFloatBackend } from '../../src/backend/float.js';
import { loadModel, optimize } from '../../src/model/index.js';
import { rng } from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { compilePlan } from '../../src/runtime/index.js';
import { movementGraphModel, opsCoverageGraphModel } from '../../bench/models/models.js';
import { quantized, tryMutatedPlan, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

function clonePlan(p: RuntimePlan): RuntimePlan {
  return {
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
    inputs: [...p.inputs],
    outputs: [...p.outputs],
  };
}

describe('native plan validation under mutation', () => {
  it.each([
    ['op coverage', opsCoverageGraphModel, [10, 10, 4]],
    ['movement', movementGraphModel, [6, 6, 8]],
  ] as const)('%s: mutated plans (300, or FUZZ_N) are rejected or run, never fault', async (_n, build, shape) => {
    const m = build().build();
    const g = optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
    // float, int8 and dynamic with int4 weights (conv_dyn4 / matmul_dyn4 steps, §12.5).
    const g4 = (await quantize(g, { mode: 'dynamic', weightBits: 4, groupSize: 32, report: false, optimize: false }))
      .graph;
    const plans = [compilePlan(g), compilePlan(await quantized(g, variedInput([8, ...shape], 1))), compilePlan(g4)].map(
      (c) => {
        const s = c.segments[0]!;
        if (s.kind !== 'native') throw new Error('expected a native segment');
        return s.plan;
      },
    );
    expect(plans[2]!.steps.some((st) => st.op.endsWith('_dyn4'))).toBe(true);
    // Unmutated, every plan the planner made is accepted and runs.
    for (const [i, p] of plans.entries()) expect(await tryMutatedPlan(clonePlan(p), i)).toBe(true);
    const r = rng(7);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    let accepted = 0,
      rejected = 0;
    for (let i = 0; i < Number(process.env.FUZZ_N ?? 300); i++) {
      const p = clonePlan(pick(plans));
      const st = pick(p.steps);
      const nb = p.buffers.length;
      const kind = Math.floor(r() * 8);
      switch (kind) {
        case 0:
          if (st.ints!.length) st.ints![Math.floor(r() * st.ints!.length)]! += pick([-2, -1, 1, 2, 7]);
          break;
        case 1:
          st.inputs[0] = Math.floor(r() * nb);
          break;
        case 2:
          st.outputs[0] = Math.floor(r() * nb);
          break;
        case 3: {
          const b = pick(p.buffers);
          if (b.shape.length > 1) b.shape[1 + Math.floor(r() * (b.shape.length - 1))]! += pick([-1, 1, 3]);
          break;
        }
        case 4: {
          const w = st.weights!.filter((x) => x >= 0);
          if (w.length) {
            const k = pick(w);
            p.weights[k] = p.weights[k]!.subarray(0, Math.max(0, p.weights[k]!.length - 1));
          }
          break;
        }
        case 5: {
          const b = pick(p.buffers);
          b.dtype = pick([0, 1, 2, 3] as const);
          break;
        }
        case 6:
          if (st.floats!.length) st.floats![Math.floor(r() * st.floats!.length)] = pick([0, -1, 1e30, 0.5]);
          break;
        case 7: {
          const j = p.steps.indexOf(st);
          p.steps.splice(j, 1);
          break;
        }
      }
      // int4 steps: also out-of-range weight values, scales and zero points, group sizes.
      if (st.op.endsWith('_dyn4') && r() < 0.5) {
        const slot = Math.floor(r() * 3),
          k = st.weights![slot]!;
        if (k >= 0 && p.weights[k]!.length)
          p.weights[k]![Math.floor(r() * p.weights[k]!.length)] = pick([8, -9, 0, 127, -1]);
        if (r() < 0.3) st.ints![st.ints!.length - 1] = pick([0, 4, 8, 12, 64, 65536, 1 << 20]);
      }
      // An edit of one step's own integers, first input or floats can only be caught at that
      // step; the other kinds change buffers, weights or order that several steps share.
      const localTo = kind === 0 || kind === 1 || kind === 6 ? p.steps.indexOf(st) : undefined;
      if (await tryMutatedPlan(p, i, localTo)) accepted++;
      else rejected++;
    }
    expect(rejected).toBeGreaterThan(50);
    expect(accepted).toBeGreaterThan(10);
  });
});
