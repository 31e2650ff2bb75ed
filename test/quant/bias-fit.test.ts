// An int32 bias that does not fit: a convolution channel whose weights are all but zero (1e-7,
// as batch-norm folding leaves a dead channel) under a bias of −4 needs bias / (sx · sw) ≈ −10¹¹
// at the channel's own weight scale. Clamped to −2³¹, any negative product added overflows
// int32 and the channel comes out large and positive where float says 0. The weight scale of
// such a channel is raised (TFLite's rule) so the bias takes half the int32 range. Checked
// against tfjs float on inputs calibration never saw, and against the hand-computed scale.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute } from '../../src/model/execute.js';
import type { Graph } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';
import { GraphModelBuilder, writeModel } from '../support/model-fixtures.js';
import { activationTable } from '../../src/quant/params.js';
import { quantize } from '../../src/quant/quantize.js';
import { dequantizeSim, simulate } from '../../src/quant/simulate.js';
import { syntheticInputs } from '../../src/quant/synthetic-inputs.js';

const C = 4;
const DEAD = 1;
let g: Graph;
const dir = mkdtempSync(join(tmpdir(), 'tfjq-biasfit-'));

beforeAll(async () => {
  await initFloatBackend();
  const w = new Float32Array(3 * 3 * 3 * C);
  let s = 3;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = (s / 2 ** 32) * 1.2 - 0.6;
    w[i] = i % C === DEAD ? v * 1e-6 : v;
  }
  const b = new GraphModelBuilder(9);
  const x = b.input('image', [-1, 10, 10, 3]);
  b.fusedConv2d(
    'conv',
    x,
    b.const('conv/filter', [3, 3, 3, C], w),
    [b.const('conv/bias', [C], Float32Array.from([0.1, -4, 0.2, 0.05]))],
    ['BiasAdd', 'Relu'],
  );
  b.outputs('conv');
  await writeModel(dir, b.build());
  g = await loadModel(join(dir, 'model.json'));
});

describe('int32 bias fit', () => {
  it('raises the dead channel scale to |bias| / (0.5 · (2³¹ − 1) · sx) and keeps that channel at 0', async () => {
    const { graph, report } = await quantize(g, { mode: 'int8', calibration: syntheticInputs(g, 4, 1), report: false });
    for (const x of syntheticInputs(g, 4, 55)) {
      const [ref] = execute(g, x);
      const r = ref!.dataSync() as Float32Array;
      const q = dequantizeSim(simulate(graph, x).outputs[0]!).data as Float32Array;
      let deadMax = 0,
        maxErr = 0,
        maxRef = 0;
      for (let i = 0; i < r.length; i++) {
        if (i % C === DEAD) deadMax = Math.max(deadMax, Math.abs(q[i]!));
        maxErr = Math.max(maxErr, Math.abs(q[i]! - r[i]!));
        maxRef = Math.max(maxRef, Math.abs(r[i]!));
      }
      expect(deadMax).toBe(0);
      expect(maxErr).toBeLessThan(0.02 * maxRef);
      tf.dispose([ref!, ...Object.values(x)]);
    }
    expect(report.biasScaleFits).toEqual([{ node: 'conv', channels: 1 }]);
    const w = [...graph.constants.values()].find((c) => c.quantization?.affine && c.shape.length === 4)!;
    const sx = activationTable(graph)[graph.inputs[0]!.name]!.scale;
    expect(w.quantization!.affine!.scales[DEAD]).toBeCloseTo(4 / (0.5 * (2 ** 31 - 1) * sx), 12);
  });
});
