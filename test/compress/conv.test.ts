// Convolution kernels through prune (N:M) → cluster → encode → decode. Conv training needs
// Conv2DBackpropFilter, which tfjs-backend-wasm lacks: this file uses the (slow) cpu backend
// and a tiny model until native training kernels are registered (src/train/kernels.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { clusterModel } from '../../src/cluster/index.js';
import { encodeModel, loadCompressedInto } from '../../src/codec/index.js';
import { seededRandom } from '../../src/data/random.js';
import { constantSparsity, prunableWeights, prune, stripPruning } from '../../src/prune/index.js';

function build(seed: number): tf.Sequential {
  const m = tf.sequential();
  m.add(
    tf.layers.conv2d({
      inputShape: [8, 8, 4],
      filters: 8,
      kernelSize: 3,
      activation: 'relu',
      name: 'conv',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(
    tf.layers.depthwiseConv2d({
      kernelSize: 3,
      depthMultiplier: 1,
      name: 'dw',
      depthwiseInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  m.add(tf.layers.flatten());
  m.add(
    tf.layers.dense({
      units: 3,
      activation: 'softmax',
      name: 'fc',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }),
    }),
  );
  return m;
}

describe('conv and depthwise kernels (cpu backend)', () => {
  beforeAll(async () => {
    await initFloatBackend('cpu');
  });

  it('keeps a 2:4 pattern through training, then encodes losslessly', async () => {
    const m = build(1);
    expect(prunableWeights(m).map((w) => `${w.layerName}/${w.weightName}`)).toEqual([
      'conv/kernel',
      'dw/depthwise_kernel',
      'fc/kernel',
    ]);
    const h = prune(m, {
      schedule: constantSparsity(0.5, 0, -1, 4),
      layers: { conv: { nm: { n: 2, m: 4 }, schedule: constantSparsity(0, 0, -1, 4) } },
    });
    const rng = seededRandom(4);
    const x = tf.tensor4d(
      Float32Array.from({ length: 48 * 256 }, () => rng()),
      [48, 8, 8, 4],
    );
    const y = tf
      .oneHot(
        tf.tensor1d(
          Array.from({ length: 48 }, (_, i) => i % 3),
          'int32',
        ),
        3,
      )
      .toFloat();
    m.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [h.callback()] });
    stripPruning(m);
    const k = m.getLayer('conv').getWeights()[0].dataSync(); // [3, 3, 4, 8]: rows 36, cols 8
    for (let c = 0; c < 8; c++) {
      for (let g = 0; g < 36; g += 4) {
        let nz = 0;
        for (let r = g; r < g + 4; r++) if (k[r * 8 + c] !== 0) nz++;
        expect(nz).toBeLessThanOrEqual(2);
      }
    }
    const dw = m.getLayer('dw').getWeights()[0].dataSync();
    expect(Array.from(dw).filter((v) => v === 0).length).toBe(Math.round(dw.length * 0.5));

    const clustering = clusterModel(m, { biasBits: 4 });
    expect(clustering.weights.find((w) => w.name === 'conv/kernel')!.kind).toBe('conv');
    const before = (m.predict(x) as tf.Tensor).dataSync();
    const compressed = encodeModel(m, clustering);
    const fresh = build(9);
    loadCompressedInto(fresh, compressed);
    const after = (fresh.predict(x) as tf.Tensor).dataSync();
    expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    tf.dispose([x, y]);
  });
});
