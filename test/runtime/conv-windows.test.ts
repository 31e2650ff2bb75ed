// Float convolutions with K = k_h·k_w·in_c ≤ 256 read their windows in place on AVX-512 (no
// im2col copy; native/float/gemm_f32_avx512vnni.cc ConvWindowsAvx512), border windows
// assembled zero-padded; other machines run im2col and the GEMM on the same cases. Every result
// is compared with stock tfjs-converter on the same JSON; the shapes cross the path's edges.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { convModel, expectStock } from './float-conv-fixtures.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe('float convolutions reading their windows in place, as stock tfjs', () => {
  it.each([
    // [h, w, c, k, n, stride]
    [37, 35, 3, 3, 24, 2], // a 3 × 3 × 3 stem: K = 27, 24 channels (the second panel masked)
    [29, 31, 3, 5, 24, 2], // BlazeFace's 5 × 5 × 3 stem shape: K = 75
    [13, 14, 16, 3, 40, 1], // K = 144, 40 channels: a panel pair and a single panel
    [8, 9, 28, 3, 33, 1], // K = 252, just under the limit; 33 channels: a one-lane third panel
    [8, 9, 29, 3, 16, 1], // K = 261: above the limit, im2col and the GEMM
    [5, 4, 6, 5, 20, 1], // a picture smaller than the window: every window assembled
  ] as const)('conv %i×%i×%i, %i-wide filter → %i channels, stride %i', async (h, w, c, k, n, stride) => {
    await expectStock(convModel(h, w, c, k, n, stride), [1, h, w, c], `conv ${h}x${w}x${c} k${k} n${n}`);
  });

  it.each([
    // [h, w, c, k, n, act, NaN inputs]: tiles of up to four 16-column panels, split evenly
    [13, 11, 3, 3, 64, 'Relu', true], // a 3 × 3 stem to 64 channels: one 4-panel tile
    [9, 7, 3, 3, 50, 'Relu6', false], // 4 panels, the last two lanes wide
    [7, 9, 16, 1, 96, 'Relu', true], // pointwise (A rows in place): 6 panels as 3 + 3
    [5, 11, 24, 1, 70, 'Relu6', false], // pointwise, 5 panels as 3 + 2, the last masked
  ] as const)(
    'fused conv %i×%i×%i, %i-wide filter → %i channels, %s in the epilogue (NaN inputs: %s)',
    async (h, w, c, k, n, act, nans) => {
      // NaN in a few input values: every output whose window holds one is NaN after a fused Relu,
      // as in stock tfjs (a maximum written with its bound as the second operand would turn it
      // into 0). Stock tfjs-wasm's Relu6 maps NaN to 0 where the runtime's passes it (the scalar
      // ActRow's rule on every path), so Relu6 is checked on numbers only.
      const nan = nans ? [0, 5 * c + 1, Math.floor((h * w * c) / 2), h * w * c - 1] : [];
      await expectStock(
        convModel(h, w, c, k, n, 1, 1, act, true),
        [1, h, w, c],
        `conv ${h}x${w}x${c} k${k} n${n} ${act}`,
        nan,
      );
    },
  );

  it.each(['Relu6', 'Relu'] as const)(
    'a %s in the epilogue gives the bits of the separate BiasAdd and activation steps, NaN included',
    async (act) => {
      // The runtime's activations pass NaN through (v < 0 ? 0 : (v > 6 ? 6 : v)); the fused
      // epilogue must agree with the separate steps on every output, on tiles of 4 and 3 panels.
      for (const [h, w, c, k, n] of [
        [9, 7, 3, 3, 50],
        [7, 9, 16, 1, 96],
      ] as const) {
        const shape = [1, h, w, c];
        const x = Float32Array.from({ length: h * w * c }, (_, i) => (i % 17 === 3 ? NaN : Math.sin(i * 0.7) * 3));
        const outputs: Float32Array[] = [];
        for (const fused of [true, false]) {
          const m = convModel(h, w, c, k, n, 1, 1, act, fused);
          const s = await InferenceSession.create(
            await loadModel({ modelJson: m.modelJson, weightData: m.weightData }),
          );
          try {
            expect(s.summary.nativeNodes).toBe(s.plan.length);
            outputs.push((await s.run({ x: { data: x, shape } })).out!.data as Float32Array);
          } finally {
            s.dispose();
          }
        }
        const [f, u] = outputs;
        expect(f!.some(Number.isNaN), `${act} ${h}x${w}x${c} n${n}: NaN outputs`).toBe(true);
        expect(Buffer.from(f!.buffer).equals(Buffer.from(u!.buffer)), `${act} ${h}x${w}x${c} n${n}`).toBe(true);
      }
    },
  );

  it('a batch of 3 pictures: each window reads its own picture (pixel blocks cross pictures)', async () => {
    await expectStock(convModel(11, 13, 3, 3, 20, 2, 3), [3, 11, 13, 3], 'conv batch 3 k3 n20');
  });
});
