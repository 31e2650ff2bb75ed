// Output fidelity on hand-computed vectors, and the generated inputs' kinds and ranges on
// graphs whose first ops say the range (built here).
import { describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/load.js';
import { attr, GraphModelBuilder, writeModel } from '../support/model-fixtures.js';
import {
  guardFidelity,
  guardScore,
  modelFidelity,
  outputFidelity,
  predictedCosine,
  predictedScore,
  TAIL_SIGMAS,
} from '../../src/quant/output-fidelity.js';
import { describeInputs, syntheticInputs } from '../../src/quant/synthetic-inputs.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const f = (...v: number[]) => Float32Array.from(v);

describe('outputFidelity', () => {
  it('≥ 16 values: cosine over all samples; score = cosine', () => {
    const ref = [new Float32Array(16).fill(1), new Float32Array(16).fill(2)];
    const got = [new Float32Array(16).fill(1), new Float32Array(16).fill(-2)];
    // dot = 16·1 − 16·4 = −48; |ref|² = |got|² = 16 + 64 = 80 → cosine −0.6.
    const o = outputFidelity('y', ref, got);
    expect(o.metric).toBe('cosine');
    expect(o.cosine).toBeCloseTo(-0.6, 12);
    expect(o.score).toBe(o.cosine);
    expect(o.maxAbsError).toBe(4);
  });

  it('< 16 values: 1 − max |err| / max(max |ref|, 1): relative above magnitude 1, absolute below', () => {
    const o = outputFidelity('s', [f(0.5, -2), f(1, 0)], [f(0.45, -1.9), f(1.2, 0)]);
    // max |err| = 0.2 (1 → 1.2), max |ref| = 2 → 1 − 0.1.
    expect(o.metric).toBe('relative error');
    expect(o.score).toBeCloseTo(0.9, 6);
    // A probability of 1e-9 returned as 0.004 is off by 0.004.
    const tiny = outputFidelity('p', [f(1e-9)], [f(0.004)]);
    expect(tiny.score).toBeCloseTo(1 - (0.004 - 1e-9), 9);
  });

  it('a ≥ 16-value output that is all but zero (max |ref| < 1e-3) is scored by its absolute error, not a cosine of noise', () => {
    const ref = [Float32Array.from({ length: 32 }, (_, i) => (i % 3) * 1e-5)];
    const got = [Float32Array.from({ length: 32 }, (_, i) => ((i + 1) % 3) * 1e-5)];
    const o = outputFidelity('mask', ref, got);
    expect(o.cosine).toBeLessThan(0.5);
    expect(o.metric).toBe('relative error');
    expect(o.score).toBeCloseTo(1 - 2e-5, 9);
  });

  it('NaN where float is finite scores −∞; top-1 agreement per row', () => {
    expect(outputFidelity('n', [f(1, 2)], [f(1, NaN)]).score).toBe(-Infinity);
    const t = outputFidelity('c', [f(0, 1, 0, 2, 0, 0)], [f(0, 1, 0, 0, 0, 3)], 3);
    expect(t.top1Agreement).toBe(0.5);
  });

  it('modelFidelity: the headline is the minimum over outputs, even when the first output is perfect', () => {
    const m = modelFidelity(
      [{ name: 'score' }, { name: 'emb' }],
      [[f(0.7), new Float32Array(16).fill(1)]],
      [[f(0.7), Float32Array.from({ length: 16 }, (_, i) => (i % 2 ? 1 : -1))]],
    );
    expect(m.outputs[0]!.score).toBe(1);
    expect(m.outputs[1]!.cosine).toBeCloseTo(0, 12);
    expect(m.minScore).toBe(m.outputs[1]!.score);
    expect(m.worstOutput).toBe('emb');
  });
});

describe('predictedScore (the guard, small outputs)', () => {
  it('the mean loss plus three standard deviations, when that is worse than the worst sample', () => {
    // Per-sample losses 0.001, 0.002, 0.003: mean 0.002, sd 0.001 → predicted loss 0.005.
    const ref = [f(0.5), f(0.5), f(0.5)];
    const got = [f(0.501), f(0.498), f(0.503)];
    expect(TAIL_SIGMAS).toBe(3);
    expect(predictedScore('p', ref, got)).toBeCloseTo(1 - 0.005, 6);
    // The pooled score is the worst sample's alone: 1 − 0.003.
    expect(outputFidelity('p', ref, got).score).toBeCloseTo(1 - 0.003, 6);
  });

  it('the worst sample when the losses hardly vary; one sample is its own prediction; NaN is −∞', () => {
    // Losses 0.004, 0.004, 0.004: sd 0 → the worst, 0.004.
    expect(predictedScore('p', [f(1), f(1), f(1)], [f(1.004), f(0.996), f(1.004)])).toBeCloseTo(1 - 0.004, 6);
    expect(predictedScore('p', [f(3)], [f(3.3)])).toBeCloseTo(1 - 0.1, 6);
    expect(predictedScore('p', [f(1), f(1)], [f(1), f(NaN)])).toBe(-Infinity);
  });
});

describe('predictedCosine (the guard, outputs of ≥ 16 values)', () => {
  // A sample of energy c² whose output is turned by an angle θ: cosine cos θ, loss 1 − cos θ.
  const turned = (c: number, loss: number) => {
    const cos = 1 - loss,
      sin = Math.sqrt(1 - cos * cos);
    const r = new Float32Array(16),
      q = new Float32Array(16);
    r[0] = c;
    q[0] = c * cos;
    q[1] = c * sin;
    return { r, q };
  };

  it('the pooled loss plus three standard deviations of the energy-weighted deviations, times √(2/n)', () => {
    // Energies 1, 4, 1 (mean 2), losses 0.01, 0.001, 0.004: pooled loss (0.01 + 0.004 + 0.004) / 6
    // = 0.003; deviations ê·(l − L) = 0.5·0.007, 2·(−0.002), 0.5·0.001 = 0.0035, −0.004, 0.0005
    // (mean 0), sd √(28.5e-6 / 2) = 0.0037749; predicted loss 0.003 + 3·0.0037749·√(2/3) = 0.0122466.
    const s = [turned(1, 0.01), turned(2, 0.001), turned(1, 0.004)];
    const ref = s.map((x) => x.r),
      got = s.map((x) => x.q);
    expect(outputFidelity('o', ref, got).cosine).toBeCloseTo(1 - 0.003, 5);
    expect(predictedCosine(ref, got)).toBeCloseTo(1 - 0.0122466, 5);
  });

  it('equal losses at equal energies predict the pooled cosine; one sample, or none with energy, is the pooled value', () => {
    const same = [turned(1, 0.004), turned(1, 0.004), turned(1, 0.004)];
    expect(
      predictedCosine(
        same.map((x) => x.r),
        same.map((x) => x.q),
      ),
    ).toBeCloseTo(1 - 0.004, 6);
    const one = turned(3, 0.02);
    expect(predictedCosine([one.r], [one.q])).toBeCloseTo(1 - 0.02, 6);
    // A sample whose reference is all zero carries no weight in the pooled cosine: left out.
    const z = new Float32Array(16);
    expect(predictedCosine([one.r, z], [one.q, z])).toBeCloseTo(1 - 0.02, 6);
  });

  it('guardFidelity holds the held-out prediction to the tolerance: guardScore gives it the allowance the search’s target takes off', () => {
    const s = [turned(1, 0.01), turned(2, 0.001), turned(1, 0.004)];
    const { fidelity, score } = guardFidelity(
      [{ name: 'o', classes: 1 }],
      s.map((x) => [x.r]),
      s.map((x) => [x.q]),
      0.0025,
    );
    const p = fidelity.outputs[0]!;
    expect(p.heldOut).toBeCloseTo(1 - 0.0122466, 5);
    expect(p.predicted).toBeUndefined();
    expect(score).toBeCloseTo(1 - 0.0122466 + 0.0025, 5);
    expect(guardScore(p)).toBeCloseTo(1 - 0.0122466, 5);
  });
});

describe('generated inputs', () => {
  it('reads [0, 255] from a 1/127.5 scale, assumes [0, 1] otherwise, finds token ids below the embedding size', async () => {
    await initFloatBackend();
    const dir = mkdtempSync(join(tmpdir(), 'tfjq-synth-'));
    const b = new GraphModelBuilder(3);
    const x = b.input('pixels', [-1, 16, 16, 3]);
    const s = b.op('scale', 'Mul', [x, b.const('scale/y', [], Float32Array.of(1 / 127.5))], {
      T: attr.type('DT_FLOAT'),
    });
    const y = b.op('shift', 'Sub', [s, b.const('shift/y', [], Float32Array.of(1))], { T: attr.type('DT_FLOAT') });
    const ids = b.input('ids', [-1, 6], 'DT_INT32');
    const e = b.op('embed', 'GatherV2', [b.const('embed/table', [50, 4]), ids, b.ints('embed/axis', [0], [])], {
      Tparams: attr.type('DT_FLOAT'),
      Tindices: attr.type('DT_INT32'),
      Taxis: attr.type('DT_INT32'),
      batch_dims: attr.i(0),
    });
    const raw = b.input('raw', [-1, 8, 8, 3]);
    b.outputs(y, e, b.op('raw_out', 'Relu', [raw], { T: attr.type('DT_FLOAT') }));
    await writeModel(dir, b.build());
    const g = await loadModel(join(dir, 'model.json'));
    const a = Object.fromEntries(describeInputs(g).map((d) => [d.input, d]));
    expect(a.pixels).toMatchObject({ kind: 'image', range: [0, 255], source: 'graph' });
    expect(a.ids).toMatchObject({ kind: 'tokens', range: [0, 49], source: 'graph' });
    expect(a.raw).toMatchObject({ kind: 'image', range: [0, 1], source: 'assumed' });
    const [sample] = syntheticInputs(g, 1, 5);
    const px = sample!.pixels!.dataSync(),
      tok = sample!.ids!.dataSync();
    expect(Math.min(...px)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...px)).toBeLessThanOrEqual(255);
    expect(Math.max(...px)).toBeGreaterThan(1); // not a [0, 1] image
    expect(tok.every((v) => Number.isInteger(v) && v >= 0 && v < 50)).toBe(true);
    // Smooth: neighbouring pixels differ far less than random pixels would (uniform: mean |Δ| = 255/3).
    let d = 0;
    for (let i = 3; i < px.length; i += 3) d += Math.abs(px[i]! - px[i - 3]!);
    expect(d / (px.length / 3)).toBeLessThan(25);
    tf.dispose(Object.values(sample!));
    // Different seeds give different sets (calibration and evaluation are disjoint).
    const [s2] = syntheticInputs(g, 1, 6);
    expect(Array.from(s2!.pixels!.dataSync().slice(0, 8))).not.toEqual(Array.from(px.slice(0, 8)));
    tf.dispose(Object.values(s2!));
  });
});
