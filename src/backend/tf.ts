// The TensorFlow.js API this package uses, from the peer packages a TF.js library declares
// (@tensorflow/tfjs-core, -layers, -converter, -backend-cpu): the same module instances the
// user's own code loads, so tensors, models and registered backends are shared with it.
//
// @tensorflow/tfjs is imported for its side effects only: in Node, its bundle is what
// registers the chained tensor methods (`x.reshape()`, `x.sum()`) and the gradients
// (training, QAT) on the shared tfjs-core; tfjs-core's own Node bundle registers neither.
// tfjs-node depends on it, so every Node project using TF.js has it already.
import '@tensorflow/tfjs';
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
export * from '@tensorflow/tfjs-converter';
export * from '@tensorflow/tfjs-backend-cpu';
