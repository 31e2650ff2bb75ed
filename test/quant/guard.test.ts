// 4-bit weights chosen per layer: thin layers and depthwise layers get 8-bit weights up front,
// the rest 4-bit; the accuracy guard widens 4-bit layers to 8 bits before it moves anything to
// float. Checked against float execution of the original graph on inputs the guard never saw,
// through the native session on the saved files.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute } from '../../src/model/execute.js';
import { loadModel } from '../../src/model/load.js';
import { saveNative } from '../../src/model/save-native.js';
import { guardNetGraphModel, writeModel } from '../support/model-fixtures.js';
import type { Graph } from '../../src/model/ir.js';
import { quantize, type AccuracyGuardOptions } from '../../src/quant/quantize.js';
import { outputFidelity, predictedCosine, predictedScore } from '../../src/quant/output-fidelity.js';
import { nativeEngine } from '../../src/convert/native-engine.js';
import { DYNAMIC_MIN_K, DYNAMIC_MIN_N } from '../../src/quant/params.js';
import { syntheticInputs } from '../../src/quant/synthetic-inputs.js';
import { dequantizeSim, simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/session.js';

let g: Graph;
const dir = mkdtempSync(join(tmpdir(), 'tfjq-guard-'));

beforeAll(async () => {
  await initFloatBackend();
  await writeModel(dir, guardNetGraphModel().build());
  g = await loadModel(join(dir, 'model.json'));
});

async function scoreOfSaved(q: Graph, out: string): Promise<number> {
  await saveNative(q, out, { mode: 'dynamic' });
  const s = await InferenceSession.create(join(out, 'model.json'), { threads: 1 });
  const inputs = syntheticInputs(g, 6, 99); // a seed neither calibration (1) nor the guard (3) used
  const ref: Float32Array[] = [],
    got: Float32Array[] = [];
  for (const x of inputs) {
    const [y] = execute(g, x);
    ref.push(Float32Array.from(y!.dataSync()));
    got.push(Float32Array.from((await s.run(x))[s.outputs[0]!.name]!.data as Float32Array));
    tf.dispose([y!, ...Object.values(x)]);
  }
  s.dispose();
  return outputFidelity('logits', ref, got).score;
}

/** The float outputs of `reference` (execute) and those of `q` saved to `out` and run in a session, on `samples`. */
async function savedAgainstFloat(reference: Graph, q: Graph, out: string, samples: Record<string, tf.Tensor>[]) {
  await saveNative(q, out, { mode: 'int8' });
  const s = await InferenceSession.create(join(out, 'model.json'), { threads: 1 });
  const ref: Float32Array[] = [],
    got: Float32Array[] = [];
  try {
    for (const x of samples) {
      const [y] = execute(reference, x);
      ref.push(Float32Array.from(y!.dataSync()));
      y!.dispose();
      got.push(Float32Array.from((await s.run(x))[s.outputs[0]!.name]!.data as Float32Array));
    }
  } finally {
    s.dispose();
  }
  return { ref, got };
}

/** int8 with the accuracy guard, calibrated on generated inputs of seed 1 and guarded on seed 3's. */
async function int8WithGuard(
  accuracyGuard: AccuracyGuardOptions,
  extra: { dynamicMinK?: number; dynamicMinN?: number } = {},
) {
  const calibration = syntheticInputs(g, 8, 1),
    validation = syntheticInputs(g, 8, 3);
  const r = await quantize(g, { mode: 'int8', calibration, validation, accuracyGuard, ...extra });
  const dispose = () => tf.dispose([...calibration, ...validation].flatMap((x) => Object.values(x)));
  return { r, validation, dispose };
}

describe('4-bit weights per layer (weightBitsPerLayer, as the CLI converts)', () => {
  it('thin and depthwise layers get 8-bit weights up front, the wide conv 4-bit', async () => {
    const r = await quantize(g, { mode: 'dynamic', weightBits: 4, weightBitsPerLayer: true, report: false });
    const widened = Object.fromEntries((r.report.widened ?? []).map((w) => [w.node, w.reason]));
    expect(widened.conv1).toMatch(/thin layer \(K = 27/);
    expect(widened.conv2).toMatch(/thin layer \(K = 16/);
    expect(widened.dw).toMatch(/depthwise/);
    expect(widened.logits).toMatch(/small layer \(640 weights\)/);
    expect(r.report.int4!.map((w) => w.node)).toEqual(['conv3']);
    const dtype = (n: string) =>
      r.graph.constants.get(r.graph.nodes.find((m) => m.name === n)!.inputs[1]!)!.quantization?.affine?.dtype;
    expect([dtype('conv1'), dtype('dw'), dtype('conv2'), dtype('conv3'), dtype('logits')]).toEqual([
      'int8',
      'int8',
      'int8',
      'int4',
      'int8',
    ]);
  });

  it('a tight tolerance widens the 4-bit conv to 8 bits before moving anything to float, and the saved model meets it', async () => {
    const calibration = syntheticInputs(g, 8, 1),
      validation = syntheticInputs(g, 8, 3);
    const r = await quantize(g, {
      mode: 'dynamic',
      weightBits: 4,
      weightBitsPerLayer: true,
      calibration,
      validation,
      accuracyGuard: { tolerance: 1e-4 },
    });
    const guard = r.report.guard!;
    expect(guard.initial).toBeLessThan(1 - 1e-4);
    expect(guard.widenedTo8Bit).toEqual(['conv3']);
    expect(guard.satisfied).toBe(true);
    expect(r.report.widened).toContainEqual({ node: 'conv3', reason: 'accuracy guard' });
    expect(r.report.int4 ?? []).toEqual([]);
    // Independent check on new inputs: within 10× the guard's allowed loss (it measured 8 other samples).
    expect(await scoreOfSaved(r.graph, join(dir, 'out-tight'))).toBeGreaterThan(1 - 1e-3);
    tf.dispose([...calibration, ...validation].flatMap((x) => Object.values(x)));
  });
});

describe('int8 with the guard: convolutions step back to dynamic before float', () => {
  it('a tight tolerance runs some Conv2D / MatMul dynamic; the saved files run natively as simulated and meet it on new inputs', async () => {
    // Every conv may step back to dynamic, however narrow.
    const { r, dispose } = await int8WithGuard({ tolerance: 2e-3 }, { dynamicMinK: 0, dynamicMinN: 0 });
    const guard = r.report.guard!;
    expect(guard.initial).toBeLessThan(1 - 2e-3);
    expect(guard.satisfied).toBe(true);
    expect(guard.movedToDynamic.length).toBeGreaterThan(0);
    const exec = new Map(r.report.nodes.map((n) => [n.name, n]));
    for (const name of guard.movedToDynamic) expect(exec.get(name)).toMatchObject({ execution: 'dynamic' });
    for (const name of guard.movedToDynamic) expect(['Conv2D', 'MatMul']).toContain(exec.get(name)!.op);
    // A dynamic node keeps its int8 weight in the file; a float one gets its float weight back.
    for (const name of guard.movedToDynamic) {
      const w = r.graph.constants.get(r.graph.nodes.find((n) => n.name === name)!.inputs[1]!)!;
      expect(w.quantization?.affine?.dtype).toBe('int8');
    }
    const out = join(dir, 'out-int8-dynamic');
    await saveNative(r.graph, out, { mode: 'int8' });
    const s = await InferenceSession.create(join(out, 'model.json'), { threads: 1 });
    expect(
      s.plan
        .filter((p) => p.placement === 'native-dynamic')
        .map((p) => p.node)
        .sort(),
    ).toEqual([...guard.movedToDynamic].sort());
    const x = syntheticInputs(g, 1, 77)[0]!;
    const sim = dequantizeSim(simulate(r.graph, x).outputs[0]!).data as Float32Array;
    const nat = (await s.run(x))[s.outputs[0]!.name]!.data as Float32Array;
    // int8 and dynamic steps are bit-exact with the simulation; the nodes kept float run native
    // float kernels that sum in another order than tfjs (a few ulp).
    for (let i = 0; i < sim.length; i++)
      expect(Math.abs(nat[i]! - sim[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(sim[i]!)));
    s.dispose();
    tf.dispose(Object.values(x));
    // Independent check on new inputs: within 5× the guard's allowed loss (it measured 8 other samples).
    expect(await scoreOfSaved(r.graph, join(dir, 'out-int8-dyn-score'))).toBeGreaterThan(1 - 1e-2);
    dispose();
  });
});

describe('the guard on the native runtime (as the CLI converts)', () => {
  it('judges exactly what the saved files compute: its final score is the session’s on the guard samples', async () => {
    const { r, validation, dispose } = await int8WithGuard({ tolerance: 2e-3, engine: nativeEngine });
    const guard = r.report.guard!;
    expect(guard.engine).toBe('native runtime');
    expect(guard.evaluations).toBeGreaterThan(1);
    const { ref, got } = await savedAgainstFloat(g, r.graph, join(dir, 'out-int8-native-guard'), validation);
    // logits has 10 values: a small output, judged by min(pooled score, predicted score).
    const expected = Math.min(outputFidelity('logits', ref, got).score, predictedScore('logits', ref, got));
    expect(guard.final).toBeCloseTo(expected, 6);
    expect(guard.outputs![0]!.predicted).toBeCloseTo(predictedScore('logits', ref, got), 6);
    expect(guard.satisfied).toBe(guard.final >= 1 - 2e-3);
    dispose();
  });
});

/**
 * int8 on `graph` with the guard, float its only step back, on three guard samples: too few for
 * the first search's half-and-half check, so one search runs, on all of them.
 */
function floatOnlyGuard(graph: Graph) {
  const calibration = syntheticInputs(graph, 8, 1),
    validation = syntheticInputs(graph, 3, 3);
  return {
    quantizeAt: (tolerance: number) =>
      quantize(graph, {
        mode: 'int8',
        calibration,
        validation,
        accuracyGuard: { tolerance, engine: nativeEngine },
        dynamicMinK: 1 << 30,
      }),
    dispose: () => tf.dispose([...calibration, ...validation].flatMap((x) => Object.values(x))),
  };
}

describe('the target the guard aims at', () => {
  it('a model scoring between the tolerance and the target (the tolerance less its margin) still gets layers moved to float', async () => {
    const search = floatOnlyGuard(g);
    const probe = await search.quantizeAt(0.9);
    const s0 = probe.report.guard!.initial;
    expect(probe.report.guard!.movedToFloat).toEqual([]);
    expect(s0).toBeLessThan(1 - 1e-4);
    // s0 lies in [1 − tolerance, 1 − 0.75·tolerance): within the tolerance, short of the target.
    const r = await search.quantizeAt((1 - s0) / 0.85);
    const guard = r.report.guard!;
    expect(guard.initial).toBeCloseTo(s0, 9);
    expect(guard.movedToFloat.length).toBeGreaterThan(0);
    expect(guard.final).toBeGreaterThan(s0);
    search.dispose();
  });
});

describe('an output of ≥ 16 values: its held-out prediction is held to the tolerance', () => {
  // The 64 pooled features of the guard net as the output: scored by cosine.
  const pooled = (): Graph => ({
    ...g,
    outputs: [g.nodes.find((n) => n.name === 'pool')!.outputs[0]!],
    signature: undefined,
  });

  it('the guard reports the prediction of the saved files on its samples, and judges by the lower of it and the pooled cosine', async () => {
    const p = pooled();
    const calibration = syntheticInputs(p, 8, 1),
      validation = syntheticInputs(p, 8, 3);
    const tolerance = 2e-3;
    const r = await quantize(p, {
      mode: 'int8',
      calibration,
      validation,
      accuracyGuard: { tolerance, engine: nativeEngine },
    });
    const guard = r.report.guard!;
    const { ref, got } = await savedAgainstFloat(p, r.graph, join(dir, 'out-int8-pooled'), validation);
    const cosine = outputFidelity('pool', ref, got).cosine;
    const heldOut = predictedCosine(ref, got);
    expect(heldOut).toBeLessThan(cosine);
    expect(guard.outputs![0]!.heldOut).toBeCloseTo(heldOut, 6);
    expect(guard.final).toBeCloseTo(Math.min(cosine, heldOut), 6);
    expect(guard.satisfied).toBe(guard.final >= 1 - tolerance);
    tf.dispose([...calibration, ...validation].flatMap((x) => Object.values(x)));
  });

  it('a model whose pooled cosine meets the target but whose prediction breaks the tolerance gets layers moved to float', async () => {
    const search = floatOnlyGuard(pooled());
    const probe = await search.quantizeAt(0.9);
    const o = probe.report.guard!.outputs![0]!;
    expect(probe.report.guard!.movedToFloat).toEqual([]);
    // A tolerance the pooled loss meets with the margin (loss ≤ 0.75·tolerance) and the
    // prediction's loss breaks: between the two.
    const pooledLoss = 1 - o.score,
      heldOutLoss = 1 - o.heldOut!;
    expect(heldOutLoss).toBeGreaterThan(pooledLoss / 0.75);
    const r = await search.quantizeAt((pooledLoss / 0.75 + heldOutLoss) / 2);
    const guard = r.report.guard!;
    expect(guard.initial).toBeCloseTo(o.heldOut!, 9);
    expect(guard.movedToFloat.length).toBeGreaterThan(0);
    expect(guard.final).toBeGreaterThan(guard.initial);
    search.dispose();
  });
});

describe('the first search, on half of the guard samples, checked on the other half', () => {
  it('is kept when it holds there, even with nothing run dynamic: the saved files score on those samples what the report says', async () => {
    // No layer may step back to dynamic: the first search can only move layers to float.
    const { r, validation, dispose } = await int8WithGuard(
      { tolerance: 2e-3, engine: nativeEngine },
      { dynamicMinK: 1 << 30 },
    );
    const guard = r.report.guard!;
    expect(guard.initial).toBeLessThan(1 - 2e-3);
    expect(guard.movedToDynamic).toEqual([]);
    expect(guard.movedToFloat.length).toBeGreaterThan(0);
    expect(guard.heldOut).toMatchObject({ samples: 4, kept: true });
    expect(guard.heldOut!.score).toBeGreaterThanOrEqual(1 - 2e-3);
    const { ref, got } = await savedAgainstFloat(g, r.graph, join(dir, 'out-int8-first-search'), validation.slice(4));
    const score = Math.min(outputFidelity('logits', ref, got).score, predictedScore('logits', ref, got));
    expect(score).toBeCloseTo(guard.heldOut!.score, 6);
    dispose();
  });
});

describe('layers too narrow for the dynamic kernel to pay (K < DYNAMIC_MIN_K or N < DYNAMIC_MIN_N)', () => {
  it('mode dynamic runs them float on their int8 weights, says why, and the session plans them float', async () => {
    const r = await quantize(g, { mode: 'dynamic', report: false });
    const reasons = Object.fromEntries(r.report.floatNodes.map((f) => [f.name, f.reason]));
    // conv1 3×3×3 (K = 27) and conv2 1×1×16 (K = 16) have too few products per output, logits
    // (K = 64, 10 outputs) too few outputs; conv3 3×3×64 → 64 (K = 576, N = 64) is wide enough.
    expect([DYNAMIC_MIN_K, DYNAMIC_MIN_N]).toEqual([64, 32]);
    expect(reasons.conv1).toMatch(/K = 27 < 64: float on its int8 weights/);
    expect(reasons.conv2).toMatch(/K = 16 < 64/);
    expect(reasons.logits).toMatch(/N = 10 < 32: float on its int8 weights/);
    const exec = new Map(r.report.nodes.map((n) => [n.name, n.execution]));
    expect([exec.get('conv1'), exec.get('conv2'), exec.get('conv3'), exec.get('logits')]).toEqual([
      'float',
      'float',
      'dynamic',
      'float',
    ]);
    // The narrow layers keep their int8 weights (weight-only int8): the file stays small.
    const w1 = r.graph.constants.get(r.graph.nodes.find((n) => n.name === 'conv1')!.inputs[1]!)!;
    expect(w1.quantization?.affine?.dtype).toBe('int8');
    const out = join(dir, 'out-narrow');
    await saveNative(r.graph, out, { mode: 'dynamic' });
    const s = await InferenceSession.create(join(out, 'model.json'), { threads: 1 });
    const placement = Object.fromEntries(s.plan.map((p) => [p.node, p.placement]));
    expect([placement.conv1, placement.conv2, placement.conv3, placement.logits]).toEqual([
      'native-float',
      'native-float',
      'native-dynamic',
      'native-float',
    ]);
    s.dispose();
    // As close to float as all-dynamic on inputs neither saw (measured 0.9972 against 0.9974).
    const all = await quantize(g, { mode: 'dynamic', report: false, dynamicMinK: 0, dynamicMinN: 0 });
    const narrow = await scoreOfSaved(r.graph, join(dir, 'out-narrow-score'));
    expect(narrow).toBeGreaterThan(0.99);
    expect(Math.abs(narrow - (await scoreOfSaved(all.graph, join(dir, 'out-all-dynamic-score'))))).toBeLessThan(2e-3);
  });

  it('the guard steps narrow layers back to float, never to dynamic', async () => {
    const { r, dispose } = await int8WithGuard({ tolerance: 2e-3 });
    for (const name of r.report.guard!.movedToDynamic) expect(['conv1', 'conv2', 'logits']).not.toContain(name);
    dispose();
  });

  it('dynamicMinK and dynamicMinN must be integers >= 0', async () => {
    await expect(quantize(g, { mode: 'dynamic', dynamicMinK: -1 })).rejects.toThrow(
      /dynamicMinK must be an integer >= 0/,
    );
    await expect(quantize(g, { mode: 'dynamic', dynamicMinN: 1.5 })).rejects.toThrow(
      /dynamicMinN must be an integer >= 0, got 1.5/,
    );
  });

  it('dynamicMinN: 0 lifts the limit on output channels (logits runs dynamic again)', async () => {
    const r = await quantize(g, { mode: 'dynamic', report: false, dynamicMinN: 0 });
    const exec = new Map(r.report.nodes.map((n) => [n.name, n.execution]));
    expect([exec.get('conv1'), exec.get('conv3'), exec.get('logits')]).toEqual(['float', 'dynamic', 'dynamic']);
  });
});
