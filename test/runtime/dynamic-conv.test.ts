// Dynamic-mode convolutions (§12.4) whose A matrix is an im2col: per tensor, the native step
// quantizes the input once and copies bytes when the windows reach every input value, and
// quantizes the float32 matrix otherwise. Both must equal simulate() bit for bit. The inputs
// put an outlier (±1000) on values no window reads where a geometry leaves some, so taking
// the input's range instead of the matrix's would change every output.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import type { Graph } from '../../src/model/index.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

interface Case {
  name: string;
  size: number; // input height = width
  kernel: number;
  strides: number;
  padding: 'same' | 'valid';
  dilation?: number;
  uncovered: number[]; // input rows (= columns) no window reads
}

const CASES: Case[] = [
  { name: '3×3 stride 2 same (a stem)', size: 12, kernel: 3, strides: 2, padding: 'same', uncovered: [] },
  { name: '3×3 stride 1 same', size: 9, kernel: 3, strides: 1, padding: 'same', uncovered: [] },
  {
    name: '3×3 stride 2 valid, last row and column unread',
    size: 8,
    kernel: 3,
    strides: 2,
    padding: 'valid',
    uncovered: [7],
  },
  {
    name: '1×1 stride 2, every other row and column unread',
    size: 7,
    kernel: 1,
    strides: 2,
    padding: 'valid',
    uncovered: [1, 3, 5],
  },
  {
    name: '2×2 stride 3 valid, gaps between windows',
    size: 8,
    kernel: 2,
    strides: 3,
    padding: 'valid',
    uncovered: [2, 5, 6, 7],
  },
  { name: '3×3 dilation 2 same', size: 7, kernel: 3, strides: 1, padding: 'same', dilation: 2, uncovered: [] },
];

async function convGraph(c: Case, channels: number): Promise<Graph> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [c.size, c.size, channels],
        filters: 5,
        kernelSize: c.kernel,
        strides: c.strides,
        padding: c.padding,
        dilationRate: c.dilation ?? 1,
        activation: 'relu6',
        kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
        biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
      }),
    ],
  });
  return graphOf(model);
}

/** Varied input with ±1000 on every value of an unread row or column. */
function input(c: Case, batch: number, channels: number, seed: number): tf.Tensor {
  const x = variedInput([batch, c.size, c.size, channels], seed);
  const d = (x.dataSync() as Float32Array).slice();
  x.dispose();
  const skip = new Set(c.uncovered);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < c.size; i++)
      for (let j = 0; j < c.size; j++)
        if (skip.has(i) || skip.has(j))
          for (let ch = 0; ch < channels; ch++)
            d[((b * c.size + i) * c.size + j) * channels + ch] = (i + j) % 2 ? 1000 : -1000;
  return tf.tensor4d(d, [batch, c.size, c.size, channels]);
}

describe('dynamic-mode convolutions over im2col equal simulate() bit for bit', () => {
  for (const c of CASES) {
    it.each(['tensor', 'row'] as const)(`${c.name} (granularity %s)`, async (granularity) => {
      const channels = 3;
      const g = await convGraph(c, channels);
      const q = await quantized(g, input(c, 4, channels, 1), 'dynamic', granularity);
      const s = await InferenceSession.create(q, { threads: 1 });
      expect(s.plan.filter((p) => p.op === 'Conv2D').map((p) => p.placement)).toEqual(['native-dynamic']);
      for (const batch of [1, 3]) {
        const x = input(c, batch, channels, 2 + batch);
        const out = q.outputs[0]!;
        const got = (await s.run(x))[out]!;
        const want = simulate(q, x).outputs[0]!;
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
        x.dispose();
      }
      s.dispose();
    });
  }
});

describe('per-row dynamic convolutions made a chunk of im2col rows at a time', () => {
  it('many chunks over two threads (40×40×24, 3×3: 303 rows a chunk) equal simulate() bit for bit', async () => {
    const c: Case = { name: 'large', size: 40, kernel: 3, strides: 1, padding: 'same', uncovered: [] };
    const channels = 24;
    const g = await convGraph(c, channels);
    const q = await quantized(g, input(c, 2, channels, 1), 'dynamic', 'row');
    const s = await InferenceSession.create(q, { threads: 2 });
    try {
      expect(s.plan.filter((p) => p.op === 'Conv2D').map((p) => p.placement)).toEqual(['native-dynamic']);
      for (const batch of [1, 3]) {
        const x = input(c, batch, channels, 7 + batch);
        const got = (await s.run(x))[q.outputs[0]!]!;
        const want = simulate(q, x).outputs[0]!;
        expect(Array.from(got.data)).toEqual(Array.from(want.data));
        x.dispose();
      }
    } finally {
      s.dispose();
    }
  });
});
