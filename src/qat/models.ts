// A small MobileNet-style network for QAT tests and benchmarks (28×28×1 digits): a strided
// stem conv, depthwise-separable blocks (depthwise 3×3 + BN + ReLU6, pointwise 1×1 + BN +
// ReLU6), one residual Add, global average pooling and a dense classifier. Seeded.
import { tf } from '../backend/float.js';
import { assertInt } from '../native/validate.js';

export interface MiniMobileNetOptions {
  /** Seed of the initializers (default 1). */
  seed?: number;
  /** Channels of the stem (default 8); blocks use 2× and 4×. */
  width?: number;
  /** End with softmax (default true) or output logits. */
  softmax?: boolean;
}

export function buildMiniMobileNet(options: MiniMobileNetOptions = {}): tf.LayersModel {
  const seed = options.seed ?? 1;
  const w = options.width ?? 8;
  assertInt(seed, 'seed', 0, 2 ** 31 - 100);
  assertInt(w, 'width', 1, 1024);
  let i = 0;
  const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i++ }) });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
  const bnRelu6 = (x: tf.SymbolicTensor, name: string, layerRelu: boolean) => {
    const y = apply(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9 }), x);
    return apply(
      layerRelu
        ? tf.layers.reLU({ maxValue: 6, name: `${name}_relu6` })
        : tf.layers.activation({ activation: 'relu6', name: `${name}_relu6` }),
      y,
    );
  };
  const block = (x: tf.SymbolicTensor, name: string, out: number, stride: number) => {
    let y = apply(
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        name: `${name}_dw`,
        depthwiseInitializer: tf.initializers.glorotUniform({ seed: seed + i++ }),
      }),
      x,
    );
    y = bnRelu6(y, `${name}_dw`, true);
    y = apply(tf.layers.conv2d({ filters: out, kernelSize: 1, useBias: false, name: `${name}_pw`, ...init() }), y);
    return bnRelu6(y, `${name}_pw`, false);
  };
  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  let x = apply(
    tf.layers.conv2d({
      filters: w,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      name: 'stem',
      ...init(),
    }),
    input,
  );
  x = bnRelu6(x, 'stem', true);
  x = block(x, 'b1', 2 * w, 1);
  x = block(x, 'b2', 4 * w, 2);
  const r = block(x, 'b3', 4 * w, 1);
  x = apply(tf.layers.add({ name: 'residual' }), [x, r]);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  x = apply(
    tf.layers.dense({
      units: 10,
      activation: options.softmax === false ? 'linear' : 'softmax',
      name: 'classifier',
      ...init(),
    }),
    x,
  );
  return tf.model({ inputs: input, outputs: x, name: 'mini_mobilenet' });
}
