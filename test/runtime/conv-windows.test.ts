// Float convolutions with K = k_h·k_w·in_c ≤ 256 read their windows in place on AVX-512 (no
// im2col copy; native/float/gemm_f32_avx512vnni.cc ConvWindowsAvx512), border windows
// assembled zero-padded; other machines run im2col and the GEMM on the same cases. Every result
// is compared with stock tfjs-converter on the same JSON; the shapes cross the path's edges.
import { beforeAll, describe, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { convModel, expectStock } from './float-conv-fixtures.js';

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

  it('a batch of 3 pictures: each window reads its own picture (pixel blocks cross pictures)', async () => {
    await expectStock(convModel(11, 13, 3, 3, 20, 2, 3), [3, 11, 13, 3], 'conv batch 3 k3 n20');
  });
});
