// End to end: gradients of a small conv net (conv + bias + ReLU, depthwise with multiplier
// 2 + ReLU6, batch norm, max/avg pooling, dense, softmax cross-entropy) computed with
// tf.grads on wasm + native kernels equal the stock cpu backend's; a few Adam steps of a
// tfjs-layers conv net on wasm run and reduce the loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { tf, availableFloatBackends } from '../../src/backend/float.js';
import { registerNativeTrainingKernels, unregisterNativeTrainingKernels } from '../../src/train/kernels.js';
import { randn, relErr, rng, size } from './helpers.js';

beforeAll(() => {
  expect(availableFloatBackends()).toContain('wasm');
});
afterAll(() => {
  unregisterNativeTrainingKernels();
});

const shapes = {
  x: [3, 12, 12, 3],
  w1: [3, 3, 3, 8],
  b1: [8],
  dw: [3, 3, 8, 2],
  gamma: [16],
  beta: [16],
  w2: [3, 3, 16, 6],
  dense: [3 * 3 * 6, 5],
  labels: [3, 5],
};

function data(seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [k, s] of Object.entries(shapes)) out[k] = randn(size(s), r).map((v) => v * 0.5);
  out.labels = new Float32Array(15);
  for (let i = 0; i < 3; i++) out.labels[i * 5 + ((i * 2) % 5)] = 1;
  return out;
}

/** Loss of the small net and its gradients wrt input and every weight, on `backend`. */
async function gradsOn(backend: string, d: Record<string, Float32Array>): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const t = Object.fromEntries(
      Object.entries(d).map(([k, v]) => [k, tf.tensor(v, shapes[k as keyof typeof shapes])]),
    );
    const f = (
      x: Tensor,
      w1: Tensor,
      b1: Tensor,
      dw: Tensor,
      gamma: Tensor,
      beta: Tensor,
      w2: Tensor,
      dense: Tensor,
    ) => {
      let h: Tensor = tf.fused.conv2d({ x: x as Tensor4D, filter: w1 as Tensor4D, strides: 1, pad: 'same', bias: b1 });
      h = tf.relu(h);
      h = tf.relu6(tf.depthwiseConv2d(h as Tensor4D, dw as Tensor4D, 2, 'same')); // [3,6,6,16]
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm(h, mean, variance, beta, gamma, 1e-3);
      h = tf.conv2d(h as Tensor4D, w2 as Tensor4D, 1, 'same'); // [3,6,6,6]
      h = tf.maxPool(h as Tensor4D, 2, 2, 'valid'); // [3,3,3,6]
      h = tf.avgPool(h as Tensor4D, 3, 1, 'same');
      const logits = tf.matMul(tf.reshape(h, [3, -1]), dense);
      return tf.losses.softmaxCrossEntropy(t.labels, logits) as Tensor;
    };
    const names = ['x', 'w1', 'b1', 'dw', 'gamma', 'beta', 'w2', 'dense'];
    const g = tf.grads(f as (...a: Tensor[]) => Tensor)(names.map((n) => t[n]));
    return g.map((v) => v.dataSync() as Float32Array);
  });
}

describe('gradients of a small conv net', () => {
  it('wasm without native kernels cannot differentiate a conv net', async () => {
    unregisterNativeTrainingKernels();
    await expect(gradsOn('wasm', data(1))).rejects.toThrow(
      /Conv2DBackpropFilter.*not registered|not registered.*Conv2DBackpropFilter/,
    );
  });

  it('wasm + native and cpu + native equal the stock cpu backend', async () => {
    const d = data(2);
    unregisterNativeTrainingKernels();
    const ref = await gradsOn('cpu', d);
    registerNativeTrainingKernels({ backends: ['wasm', 'cpu'] });
    const wasm = await gradsOn('wasm', d);
    const cpu = await gradsOn('cpu', d);
    const names = ['x', 'w1', 'b1', 'dw', 'gamma', 'beta', 'w2', 'dense'];
    for (let i = 0; i < ref.length; i++) {
      expect(Math.max(...Array.from(ref[i], Math.abs)), `${names[i]} gradient is not trivially zero`).toBeGreaterThan(
        1e-6,
      );
      expect(relErr(wasm[i], ref[i]), `wasm d${names[i]}`).toBeLessThan(1e-4);
      expect(relErr(cpu[i], ref[i]), `cpu d${names[i]}`).toBeLessThan(1e-4);
    }
  });
});

describe('training a tiny tfjs-layers conv net on wasm', () => {
  it('runs and reduces the loss', async () => {
    registerNativeTrainingKernels();
    await tf.setBackend('wasm');
    // Task: is the bright 3x3 blob in the left or the right half of a noisy 12x12 image?
    const r = rng(42);
    const n = 64;
    const xs = new Float32Array(n * 12 * 12);
    const ys = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const right = i % 2;
      const cx = right ? 7 + Math.floor(r() * 3) : Math.floor(r() * 3),
        cy = Math.floor(r() * 10);
      for (let p = 0; p < 144; p++) xs[i * 144 + p] = r() * 0.3;
      for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) xs[i * 144 + (cy + dy) * 12 + cx + dx] += 1;
      ys[i * 2 + right] = 1;
    }
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 12, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.batchNormalization(),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.depthwiseConv2d({
          kernelSize: 3,
          depthMultiplier: 2,
          strides: 2,
          padding: 'same',
          depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
        tf.layers.activation({ activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const x = tf.tensor4d(xs, [n, 12, 12, 1]);
    const y = tf.tensor2d(ys, [n, 2]);
    const evalLoss = () => tf.tidy(() => (model.evaluate(x, y, { batchSize: n }) as Tensor).dataSync()[0]);
    const before = evalLoss();
    const h = await model.fit(x, y, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
    const after = evalLoss();
    const losses = h.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(after).toBeLessThan(before * 0.7);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    tf.dispose([x, y]);
    model.dispose();
  });
});
