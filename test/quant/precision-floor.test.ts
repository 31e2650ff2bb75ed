// The accuracy guard's precision floor (src/quant/precision-floor.ts): what the stored weights
// alone cost, checked against the float graph run with its weights rounded here, independently
// (symmetric int8 per output channel, scale = max |w| / 127, docs/quantization.md §4–5), on the
// guard tests' net; and the float model's own change under half an 8-bit step of input noise.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { disposeConstants, execute } from '../../src/model/execute.js';
import type { Constant, Graph } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';
import { guardFidelity, tensorSpec } from '../../src/quant/output-fidelity.js';
import { quantize } from '../../src/quant/quantize.js';
import { syntheticInputs } from '../../src/quant/synthetic-inputs.js';
import { guardNetGraphModel, writeModel } from '../support/model-fixtures.js';

let g: Graph;
const dir = mkdtempSync(join(tmpdir(), 'tfjq-floor-'));
/** The heavy nodes' weights and the axis of their output channels' values (innermost `channels` values). */
const WEIGHTS: Record<string, (shape: number[]) => number> = {
  'conv1/filter': (s) => s[3]!,
  'dw/filter': (s) => s[2]! * s[3]!,
  'conv2/filter': (s) => s[3]!,
  'conv3/filter': (s) => s[3]!,
  'logits/kernel': (s) => s[1]!,
};

beforeAll(async () => {
  await initFloatBackend();
  await writeModel(dir, guardNetGraphModel().build());
  g = await loadModel(join(dir, 'model.json'));
});

/** Symmetric int8 per output channel, dequantized (float32 arithmetic). */
function roundInt8(d: Float32Array, channels: number): Float32Array {
  const max = new Float32Array(channels);
  d.forEach((v, i) => (max[i % channels] = Math.max(max[i % channels]!, Math.abs(v))));
  return d.map((v, i) => {
    const s = Math.fround(max[i % channels]! / 127);
    return Math.fround(Math.max(-127, Math.min(127, Math.round(v / s))) * s);
  });
}

async function int8(tolerance: number) {
  const calibration = syntheticInputs(g, 8, 1),
    validation = syntheticInputs(g, 8, 3);
  const r = await quantize(g, { mode: 'int8', calibration, validation, accuracyGuard: { tolerance } });
  return { r, validation, dispose: () => tf.dispose([...calibration, ...validation].flatMap((x) => Object.values(x))) };
}

describe('the guard’s precision floor', () => {
  it('measures the stored int8 weights alone as the float graph with its weights rounded independently scores, and a small input noise as a small loss', async () => {
    const { r, validation, dispose } = await int8(1e-6);
    try {
      const floor = r.report.guard!.floor!;
      expect(floor).toBeDefined();
      // Independently: the original graph, its four weights rounded here, on the guard samples.
      const rounded = new Map<string, Constant>();
      for (const [name, channels] of Object.entries(WEIGHTS)) {
        const c = g.constants.get(name)!;
        rounded.set(name, { ...c, data: roundInt8(c.data as Float32Array, channels(c.shape)) });
      }
      const w: Graph = { ...g, constants: new Map([...g.constants, ...rounded]) };
      const run = (graph: Graph, x: Record<string, tf.Tensor>) => {
        const [y] = execute(graph, x);
        const d = Float32Array.from(y!.dataSync() as Float32Array);
        y!.dispose();
        return [d];
      };
      const ref = validation.map((x) => run(g, x));
      const got = validation.map((x) => run(w, x));
      disposeConstants({ ...g, constants: rounded });
      const want = guardFidelity([tensorSpec(g, 'logits')], ref, got).score;
      expect(want).toBeLessThan(1 - 1e-6); // the rounding moved the logits
      expect(floor.weightsOnly).toBeCloseTo(want, 6);
      // Half an 8-bit step of noise on a smooth net: a loss, and a small one.
      expect(floor.inputNoise).toBeLessThan(1);
      expect(floor.inputNoise).toBeGreaterThan(0.99);
    } finally {
      dispose();
    }
  });

  it('is not measured when the quantized model already meets the tolerance', async () => {
    const { r, dispose } = await int8(0.5);
    try {
      expect(r.report.guard!.satisfied).toBe(true);
      expect(r.report.guard!.floor).toBeUndefined();
    } finally {
      dispose();
    }
  });
});
