// Float convolutions and matmuls with few output channels (1 to 4: a segmentation or box head)
// take their own path in the AVX-512 float GEMM, a dot product per output instead of a
// register tile, the convolutions reading their input in place without im2col
// (native/float/gemm_f32_avx512vnni.cc); on other machines the tile path runs the same cases. Every result is compared with stock tfjs-converter on the same JSON; the shapes
// cross the path's edges (K below 16, not a multiple of 16, above 32; 5 channels takes tiles).
import { beforeAll, describe, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { convModel, denseModel, expectStock } from './float-conv-fixtures.js';

beforeAll(async () => {
  await initFloatBackend();
});

describe('float convolutions and matmuls with few output channels, as stock tfjs', () => {
  it.each([
    // [h, w, c, k, n, stride]
    [33, 30, 8, 3, 1, 1], // K = 72: two 16-lane steps, one masked; one channel: four pixels at a time
    [21, 22, 6, 3, 1, 2], // one channel, stride 2: the four pixels' runs two pixels apart
    [20, 21, 1, 3, 2, 1], // K = 9: the masked step only
    [17, 19, 16, 1, 3, 1], // pointwise, K = 16: one full step, A read in place
    [24, 24, 3, 5, 4, 2], // K = 75, stride 2
    [12, 13, 40, 3, 4, 1], // K = 360: the two-accumulator loop
    [16, 16, 8, 3, 5, 1], // 5 channels: the tile path
  ] as const)('conv %i×%i×%i, %i-wide filter → %i channels, stride %i', async (h, w, c, k, n, stride) => {
    await expectStock(convModel(h, w, c, k, n, stride), [1, h, w, c], `conv ${h}x${w}x${c} k${k} n${n}`);
  });

  it('a batch of 3 pictures (each pixel finds its own picture), 7×7 filter wider than the border', async () => {
    await expectStock(convModel(9, 11, 5, 7, 2, 1, 3), [3, 9, 11, 5], 'conv batch 3 k7 n2');
  });

  it.each([
    [7, 200, 1],
    [1, 33, 2],
    [50, 15, 4],
  ] as const)('dense %i rows × K %i → %i', async (rows, k, n) => {
    await expectStock(denseModel(rows, k, n), [rows, k], `dense ${rows}x${k} n${n}`);
  });
});
