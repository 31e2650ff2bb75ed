// Channel range equalization on a graph built here with the defect seen in published
// MobileNet-style nets: the stem convolution's channel 2 spans [0, ~0.02] beside channels that
// fill [0, 6], and the depthwise filter reading it is 300× larger. Checked: the equalized float
// graph computes the same function as the original (tfjs float), the factors follow the rule
// worked by hand (ReLU6 channels kept below the clip over the whole input range), and the int8 simulation of the
// equalized model tracks float far better than without equalization on inputs calibration
// never saw.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute } from '../../src/model/execute.js';
import { cloneGraph, type Graph } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';
import { optimize } from '../../src/model/passes/index.js';
import { GraphModelBuilder, writeModel } from '../support/model-fixtures.js';
import { calibrate } from '../../src/quant/calibrate.js';
import { equalizationChains, equalizationFactors, equalize } from '../../src/quant/equalize.js';
import { outputFidelity } from '../../src/quant/output-fidelity.js';
import { quantize } from '../../src/quant/quantize.js';
import { dequantizeSim, simulate } from '../../src/quant/simulate.js';
import { syntheticInputs } from '../../src/quant/synthetic-inputs.js';

let g: Graph;
const dir = mkdtempSync(join(tmpdir(), 'tfjq-equalize-'));
const C = 8;
const SMALL = 2;

function stem(): Float32Array {
  // 3×3×3×C, values in ±0.6 but channel SMALL in ±0.002 (an output span of a few hundredths).
  const w = new Float32Array(3 * 3 * 3 * C);
  let s = 7;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = (s / 2 ** 32) * 1.2 - 0.6;
    w[i] = i % C === SMALL ? v / 300 : v;
  }
  return w;
}

function depthwise(): Float32Array {
  const w = new Float32Array(3 * 3 * C);
  let s = 11;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = (s / 2 ** 32) * 0.8 - 0.4;
    w[i] = i % C === SMALL ? v * 300 : v;
  }
  return w;
}

beforeAll(async () => {
  await initFloatBackend();
  const b = new GraphModelBuilder(5);
  const x = b.input('image', [-1, 12, 12, 3]);
  const c1 = b.fusedConv2d(
    'stem',
    x,
    b.const('stem/filter', [3, 3, 3, C], stem()),
    [b.const('stem/bias', [C], new Float32Array(C).fill(0.01))],
    ['BiasAdd', 'Relu6'],
  );
  const dw = b.fusedConv2d(
    'dw',
    c1,
    b.const('dw/filter', [3, 3, C, 1], depthwise()),
    [b.const('dw/bias', [C], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
    { depthwise: true },
  );
  b.fusedConv2d(
    'project',
    dw,
    b.const('project/filter', [1, 1, C, 16], undefined, 'float32', -0.5, 0.5),
    [b.const('project/bias', [16], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd'],
  );
  b.outputs('project');
  await writeModel(dir, b.build());
  g = optimize(await loadModel(join(dir, 'model.json')));
});

function run(graph: Graph, x: Record<string, tf.Tensor>): Float32Array {
  const [y] = execute(graph, x);
  const d = Float32Array.from(y!.dataSync() as Float32Array);
  y!.dispose();
  return d;
}

describe('channel range equalization', () => {
  it('finds the stem → depthwise chain (and not depthwise → projection: a Conv2D reader is left alone)', () => {
    const chains = equalizationChains(g);
    expect(chains.map((c) => [c.producer.name, c.consumer.name])).toEqual([['stem', 'dw']]);
    // A node the user keeps in float keeps its weights: no chain through it.
    expect(equalizationChains(g, new Set([chains[0]!.consumer.name])).length).toBe(0);
  });

  it('keeps the float function and scales the small channel by the hand-computed factor', async () => {
    const calib = syntheticInputs(g, 6, 1);
    const chains = equalizationChains(g);
    const cal = await calibrate(g, calib, { channelRanges: chains.flatMap((c) => c.tensors) });
    const r = cal.channelRanges.get(chains[0]!.tensors[0]!)!;
    const k = equalizationFactors(g, chains[0]!, cal.channelRanges, cal.ranges.get('image'))!;
    // k = min(0.5 · span / span_c, 256), and (ReLU6) k ≤ 6 / the channel's largest
    // pre-activation over the input's calibrated range: bias + Σ max(w·lo, w·hi); ≥ 1.
    const [lo, hi] = cal.ranges.get('image')!;
    const w = stem();
    let span = 0;
    for (let c = 0; c < C; c++) span = Math.max(span, r.hi[c]! - r.lo[c]!);
    for (let c = 0; c < C; c++) {
      let bound = 0.01;
      for (let i = c; i < w.length; i += C) bound += Math.max(w[i]! * lo, w[i]! * hi);
      const own = r.hi[c]! - r.lo[c]!;
      const want = own === 0 ? 1 : Math.max(1, Math.min((0.5 * span) / own, 256, 6 / bound));
      expect(k[c]).toBeCloseTo(want, 6);
    }
    expect(k[SMALL]).toBeGreaterThan(20);
    const eq = cloneGraph(g);
    const ranges = new Map(cal.ranges);
    const applied = equalize(eq, chains, cal.channelRanges, ranges);
    expect(applied.length).toBeGreaterThan(0);
    for (const x of syntheticInputs(g, 3, 77)) {
      const a = run(g, x),
        e = run(eq, x);
      let maxAbs = 0,
        maxRef = 0;
      for (let i = 0; i < a.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(a[i]! - e[i]!));
        maxRef = Math.max(maxRef, Math.abs(a[i]!));
      }
      expect(maxAbs).toBeLessThan(1e-5 * Math.max(1, maxRef));
      tf.dispose(Object.values(x));
    }
    calib.forEach((x) => tf.dispose(Object.values(x)));
  });

  it('makes the int8 model track float on held-out inputs where it did not', async () => {
    const calib = syntheticInputs(g, 8, 1);
    const held = syntheticInputs(g, 6, 123);
    const score = async (equalizeOn: boolean) => {
      const { graph, report } = await quantize(g, {
        mode: 'int8',
        calibration: calib,
        equalize: equalizeOn,
        report: false,
      });
      const ref: Float32Array[] = [],
        got: Float32Array[] = [];
      for (const x of held) {
        ref.push(run(g, x));
        got.push(Float32Array.from(dequantizeSim(simulate(graph, x).outputs[0]!).data as Float32Array));
      }
      return { cosine: outputFidelity('project', ref, got).cosine, equalized: report.equalization?.length ?? 0 };
    };
    const off = await score(false),
      on = await score(true);
    expect(off.equalized).toBe(0);
    expect(on.equalized).toBeGreaterThan(0);
    expect(1 - on.cosine).toBeLessThan((1 - off.cosine) / 4);
    [...calib, ...held].forEach((x) => tf.dispose(Object.values(x)));
  });

  it('gives a chain the guard moved wholly to float its original weights back', async () => {
    const calib = syntheticInputs(g, 6, 1);
    // Tolerance 0: nothing quantized holds it, so the guard moves every node to float.
    const { graph, report } = await quantize(g, {
      mode: 'int8',
      calibration: calib,
      equalize: true,
      accuracyGuard: { tolerance: 0 },
    });
    expect(report.equalization?.length).toBeGreaterThan(0);
    expect(report.nodes.every((n) => n.execution === 'float')).toBe(true);
    for (const t of ['stem/filter', 'stem/bias', 'dw/filter']) {
      const name = [...g.constants.keys()].find((k) => k.startsWith(t))!;
      expect(Array.from(graph.constants.get(name)!.data as Float32Array)).toEqual(
        Array.from(g.constants.get(name)!.data as Float32Array),
      );
    }
    calib.forEach((x) => tf.dispose(Object.values(x)));
  });

  it('refuses equalize together with biasCorrection', async () => {
    await expect(quantize(g, { mode: 'int8', calibration: [], equalize: true, biasCorrection: true })).rejects.toThrow(
      /equalize and biasCorrection/,
    );
  });
});
