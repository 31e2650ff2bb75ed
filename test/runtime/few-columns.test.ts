// Float convolutions and matmuls with few output channels (1 to 4: a segmentation or box head)
// take their own path in the AVX-512 float GEMM, a dot product per output instead of a
// register tile, the convolutions reading their input in place without im2col
// (native/float/gemm_f32_avx512vnni.cc); on other machines the tile path runs the same cases. Every result is compared with stock tfjs-converter on the same JSON; the shapes
// cross the path's edges (K below 16, not a multiple of 16, above 32; 5 channels takes tiles).
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, convAttrs, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const wave = (n: number, f: number, phase = 0) => Array.from({ length: n }, (_, i) => Math.sin(i * f + phase) * 0.5);

/** x [batch, h, w, c] → Conv2D k×k (SAME, stride s) to n channels → BiasAdd → Relu6. */
function convModel(h: number, w: number, c: number, k: number, n: number, stride: number, batch = 1): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [batch, h, w, c]),
      {
        name: 'conv',
        op: 'Conv2D',
        input: ['x', 'filter'],
        attr: convAttrs(stride),
      },
      { name: 'bias_add', op: 'BiasAdd', input: ['conv', 'bias'], attr: { ...F, data_format: a.s('NHWC') } },
      { name: 'out', op: 'Relu6', input: ['bias_add'], attr: F },
    ],
    {
      filter: { dtype: 'float32', shape: [k, k, c, n], values: wave(k * k * c * n, 0.37) },
      bias: { dtype: 'float32', shape: [n], values: wave(n, 1.1, 0.3) },
    },
  );
}

/** x [rows, k] → MatMul [k, n] → BiasAdd (a dense head, no activation). */
function denseModel(rows: number, k: number, n: number): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [rows, k]),
      { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { ...F, transpose_a: a.b(false), transpose_b: a.b(false) } },
      { name: 'out', op: 'BiasAdd', input: ['mm', 'bias'], attr: { ...F, data_format: a.s('NHWC') } },
    ],
    {
      w: { dtype: 'float32', shape: [k, n], values: wave(k * n, 0.23) },
      bias: { dtype: 'float32', shape: [n], values: wave(n, 0.9) },
    },
  );
}

async function expectStock(m: HandModel, shape: number[], what: string) {
  const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 2,
  });
  try {
    expect(s.summary.nativeNodes, what).toBe(s.plan.length);
    const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
    const [want] = await stockRun(m, { x }, ['out']);
    const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape } })).out!;
    expect(got.shape, what).toEqual(want!.shape);
    const w = want!.dataSync() as Float32Array;
    const g = got.data as Float32Array;
    // Float32 dot products of up to 200 terms summed in another order: rounding, no more.
    let worst = 0;
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!) / Math.max(1, Math.abs(w[i]!)));
    expect(worst, what).toBeLessThanOrEqual(2e-5);
    tf.dispose([x, want!]);
  } finally {
    s.dispose();
  }
}

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
