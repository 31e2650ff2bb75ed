// Built models expressed in tfjs-layers (saved with tf.io handlers as layers models):
// an LSTM + GRU text classifier, a UNet (Conv2DTranspose, UpSampling2D, skip concatenations)
// and EfficientNet-lite blocks (MBConv: expand, depthwise, project, BatchNorm, ReLU6, residual).
import { tf } from '../../../src/backend/float.js';
import { initLayers } from './init.js';

type S = tf.SymbolicTensor;
const apply = (l: tf.layers.Layer, x: S | S[]) => l.apply(x) as S;

/** Tokens [1, 32] (vocabulary 1000) → Embedding → LSTM (sequences) → GRU → Dense softmax (4 classes). */
export function textRnn(seed = 11): tf.LayersModel {
  const x = tf.input({ shape: [32], dtype: 'int32', name: 'tokens' });
  let y = apply(tf.layers.embedding({ inputDim: 1000, outputDim: 32, name: 'embed' }), x);
  y = apply(tf.layers.lstm({ units: 48, returnSequences: true, name: 'lstm' }), y);
  y = apply(tf.layers.gru({ units: 48, name: 'gru' }), y);
  y = apply(tf.layers.dense({ units: 4, activation: 'softmax', name: 'classes' }), y);
  const m = tf.model({ inputs: x, outputs: y, name: 'text_rnn' });
  initLayers(m, seed);
  return m;
}

function convBlock(x: S, filters: number, name: string): S {
  let y = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', name: `${name}_a` }), x);
  y = apply(tf.layers.batchNormalization({ name: `${name}_a_bn` }), y);
  y = apply(tf.layers.reLU({ name: `${name}_a_relu` }), y);
  y = apply(tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `${name}_b` }), y);
  return y;
}

/** Image [1, 64, 64, 3] → two-level UNet → per-pixel 3-class softmax [1, 64, 64, 3]. */
export function unet(seed = 12): tf.LayersModel {
  const x = tf.input({ shape: [64, 64, 3], name: 'image' });
  const e1 = convBlock(x, 16, 'enc1');
  const p1 = apply(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }), e1);
  const e2 = convBlock(p1, 32, 'enc2');
  const p2 = apply(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }), e2);
  const mid = convBlock(p2, 64, 'mid');
  const u2 = apply(
    tf.layers.conv2dTranspose({ filters: 32, kernelSize: 2, strides: 2, padding: 'same', name: 'up2' }),
    mid,
  );
  const d2 = convBlock(apply(tf.layers.concatenate({ name: 'skip2' }), [u2, e2]), 32, 'dec2');
  const u1 = apply(tf.layers.upSampling2d({ size: [2, 2], name: 'up1' }), d2);
  const d1 = convBlock(apply(tf.layers.concatenate({ name: 'skip1' }), [u1, e1]), 16, 'dec1');
  const y = apply(tf.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'softmax', name: 'mask' }), d1);
  const m = tf.model({ inputs: x, outputs: y, name: 'unet' });
  initLayers(m, seed);
  return m;
}

function mbconv(x: S, cin: number, cout: number, expand: number, k: number, stride: number, name: string): S {
  let y = apply(tf.layers.conv2d({ filters: cin * expand, kernelSize: 1, useBias: false, name: `${name}_expand` }), x);
  y = apply(tf.layers.batchNormalization({ name: `${name}_expand_bn` }), y);
  y = apply(tf.layers.reLU({ maxValue: 6, name: `${name}_expand_relu6` }), y);
  y = apply(
    tf.layers.depthwiseConv2d({ kernelSize: k, strides: stride, padding: 'same', useBias: false, name: `${name}_dw` }),
    y,
  );
  y = apply(tf.layers.batchNormalization({ name: `${name}_dw_bn` }), y);
  y = apply(tf.layers.reLU({ maxValue: 6, name: `${name}_dw_relu6` }), y);
  y = apply(tf.layers.conv2d({ filters: cout, kernelSize: 1, useBias: false, name: `${name}_project` }), y);
  y = apply(tf.layers.batchNormalization({ name: `${name}_project_bn` }), y);
  return stride === 1 && cin === cout ? apply(tf.layers.add({ name: `${name}_add` }), [x, y]) : y;
}

/** Image [1, 128, 128, 3] → EfficientNet-lite stem, 4 MBConv blocks, head → 10-class softmax. */
export function efficientnetLite(seed = 13): tf.LayersModel {
  const x = tf.input({ shape: [128, 128, 3], name: 'image' });
  let y = apply(
    tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem' }),
    x,
  );
  y = apply(tf.layers.batchNormalization({ name: 'stem_bn' }), y);
  y = apply(tf.layers.reLU({ maxValue: 6, name: 'stem_relu6' }), y);
  y = mbconv(y, 32, 16, 1, 3, 1, 'b1');
  y = mbconv(y, 16, 24, 6, 3, 2, 'b2');
  y = mbconv(y, 24, 24, 6, 3, 1, 'b3');
  y = mbconv(y, 24, 40, 6, 5, 2, 'b4');
  y = apply(tf.layers.conv2d({ filters: 128, kernelSize: 1, useBias: false, name: 'head' }), y);
  y = apply(tf.layers.batchNormalization({ name: 'head_bn' }), y);
  y = apply(tf.layers.reLU({ maxValue: 6, name: 'head_relu6' }), y);
  y = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), y);
  y = apply(tf.layers.dense({ units: 10, activation: 'softmax', name: 'classes' }), y);
  const m = tf.model({ inputs: x, outputs: y, name: 'efficientnet_lite' });
  initLayers(m, seed);
  return m;
}
