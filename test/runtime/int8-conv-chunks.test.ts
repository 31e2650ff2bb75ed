// int8 k×k convolutions whose im2col rows are made and multiplied a chunk at a time (1536 rows
// for K < 86), by each thread on its own, when the picture gives every thread two chunks or
// more; smaller pictures make the matrix whole and split the GEMM. Either way the output must
// equal simulate() bit for bit — chunks that end inside an output row and inside a batch's
// image, a last chunk that is partial, stride 2 and padding, one and two threads.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const cases = [
  // 90² 3×3 same on 8 channels: 8100 pixels, K = 72 → five whole chunks and a partial one.
  { name: '90×90×8, 3×3 stride 1 same', size: 90, channels: 8, kernel: 3, strides: 1, padding: 'same' as const },
  // An RGB stem: 160² → 80² pixels, K = 27: four whole chunks and a partial one.
  {
    name: '160×160×3, 3×3 stride 2 same (a stem)',
    size: 160,
    channels: 3,
    kernel: 3,
    strides: 2,
    padding: 'same' as const,
  },
  // Small: the whole-matrix path.
  { name: '20×20×16, 3×3 stride 1 valid', size: 20, channels: 16, kernel: 3, strides: 1, padding: 'valid' as const },
];

describe('int8 convolutions made a chunk of im2col rows at a time equal simulate() bit for bit', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [c.size, c.size, c.channels],
            filters: 24,
            kernelSize: c.kernel,
            strides: c.strides,
            padding: c.padding,
            activation: 'relu6',
            kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
            biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
          }),
        ],
      });
      const q = await quantized(await graphOf(model), variedInput([2, c.size, c.size, c.channels], 1));
      model.dispose();
      for (const threads of [1, 2]) {
        const s = await InferenceSession.create(q, { threads });
        try {
          expect(s.plan.filter((p) => p.op === 'Conv2D').map((p) => p.placement)).toEqual(['native-int8']);
          for (const batch of [1, 3]) {
            const x = variedInput([batch, c.size, c.size, c.channels], 5 + batch);
            const got = (await s.run(x))[q.outputs[0]!]!;
            const want = simulate(q, x).outputs[0]!;
            expect(new Set(got.data).size, 'distinct outputs').toBeGreaterThan(20);
            expect(Array.from(got.data)).toEqual(Array.from(want.data));
            x.dispose();
          }
        } finally {
          s.dispose();
        }
      }
    });
  }
});
