// Native session runs flush denormal floats to zero (native/common/fp_mode.h): a float kernel
// fed values below 1.2e-38 took a microcode assist per instruction, 25× slower. Values in that
// range read as 0 and results in it come out as 0, on every thread of the run; the JavaScript
// thread keeps IEEE denormals once the run returns.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { convAttrs, handModel, placeholder } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const H = 12,
  W = 12,
  C = 32;

/** x [1, 12, 12, 32] → 3×3 depthwise (SAME), every weight 0.5. */
function depthwiseModel() {
  return handModel(
    [
      placeholder('x', 'float32', [1, H, W, C]),
      {
        name: 'y',
        op: 'DepthwiseConv2dNative',
        input: ['x', 'w'],
        attr: convAttrs(),
      },
    ],
    { w: { dtype: 'float32', shape: [3, 3, C, 1], values: new Array(9 * C).fill(0.5) } },
  );
}

describe('denormal floats in native runs', () => {
  it.each([1, 2])('read and come out as zero (%i threads), and JavaScript keeps its denormals', async (threads) => {
    const m = depthwiseModel();
    const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
      threads,
    });
    try {
      expect(s.plan.find((p) => p.node === 'y')!.placement).toBe('native-float');
      // Even channels hold 1e-39 (denormal; a sum of nine halves of it is 4.5e-39, denormal
      // too), odd channels 1: IEEE arithmetic gives 4.5e-39 and 4.5 in the interior.
      const x = new Float32Array(H * W * C);
      for (let i = 0; i < x.length; i++) x[i] = i % 2 ? 1 : 1e-39;
      expect(x[0]).toBeGreaterThan(0); // stored as a float32 denormal, not 0
      const y = (await s.run({ x: { data: x, shape: [1, H, W, C] } })).y!.data as Float32Array;
      const interior = ((H >> 1) * W + (W >> 1)) * C;
      expect(y[interior + 1]).toBe(4.5);
      for (let i = 0; i < y.length; i += 2) expect(y[i], `value ${i}`).toBe(0);
      // The run restored the thread's mode: a double denormal survives arithmetic here.
      const tiny = new Float64Array([5e-324, 3]);
      expect((tiny[0]! * tiny[1]!) / tiny[1]!).toBe(5e-324);
      expect(Math.fround(1e-39)).toBeGreaterThan(0);
    } finally {
      s.dispose();
    }
  });
});
