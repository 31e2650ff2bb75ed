// trainModel's learning-rate decay reaches the optimizer (tfjs's SGD/momentum read their rate
// from a scalar that only setLearningRate replaces; assigning the field did nothing).
import { describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { trainModel } from '../../src/data/models.js';

describe('trainModel lrDecay', () => {
  it.each(['sgd', 'adam'] as const)(
    '%s: a decay to ~0 after the first epoch freezes the weights from then on',
    async (optimizer) => {
      await initFloatBackend();
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ units: 3, inputShape: [4], activation: 'softmax', kernelInitializer: 'glorotUniform' }),
        ],
      });
      const x = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
      const y = tf
        .oneHot(
          tf.tensor1d(
            Array.from({ length: 64 }, (_, i) => i % 3),
            'int32',
          ),
          3,
        )
        .toFloat();
      let afterFirst: Float32Array | undefined;
      await trainModel(model, x, y, {
        epochs: 3,
        optimizer,
        learningRate: optimizer === 'sgd' ? 0.1 : 0.01,
        momentum: 0,
        lrDecay: 1e-12,
        batchSize: 16,
        seed: 1,
        onProgress: (p) => {
          if (p.epoch === 1) afterFirst = Float32Array.from(model.getWeights()[0]!.dataSync());
        },
      });
      const final = model.getWeights()[0]!.dataSync();
      const moved = afterFirst!.reduce((m, v, i) => Math.max(m, Math.abs(v - final[i]!)), 0);
      expect(moved).toBeLessThan(1e-6);
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});
