// Small graph models for the fidelity tests of `tfjs-quant convert`, written in the exact
// tfjs-converter format (GraphModelBuilder), each holding one thing the converter must handle:
//   heads:       three outputs — a scalar sigmoid score FIRST, a 64-value embedding, and a
//                4-value box regression decoded by Exp (an exp-fed head int8 cannot hold);
//   nonFinite:   a PadV2 filling with −Infinity before a max pool (legal data, no int8 form);
//   int32Matmul: an int32 BatchMatMul (no tfjs-backend-wasm kernel) before a float head;
//   unrunnable:  an op no tfjs backend knows, after a quantizable MatMul.
import { attr, GraphModelBuilder, writeModel } from '../support/model-fixtures.js';

const T = { T: attr.type('DT_FLOAT') };

function trunk(b: GraphModelBuilder): string {
  const x = b.input('image', [-1, 16, 16, 3]);
  const c1 = b.fusedConv2d(
    'conv1',
    x,
    b.const('conv1/filter', [3, 3, 3, 16], undefined, 'float32', -0.5, 0.5),
    [b.const('conv1/bias', [16], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
  );
  const c2 = b.fusedConv2d(
    'conv2',
    c1,
    b.const('conv2/filter', [3, 3, 16, 32], undefined, 'float32', -0.3, 0.3),
    [b.const('conv2/bias', [32], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
    { strides: 2 },
  );
  return b.op('pool', 'Mean', [c2, b.ints('pool/axes', [1, 2])], {
    ...T,
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
}

/** Outputs: score [1] (first), embedding [64], box [4] = exp(4 · (feat · W + b)). */
export function headsModel(): GraphModelBuilder {
  const b = new GraphModelBuilder(11);
  const feat = trunk(b);
  const s = b.fusedMatMul(
    'score/logit',
    feat,
    b.const('score/kernel', [32, 1]),
    [b.const('score/bias', [1])],
    ['BiasAdd'],
  );
  b.op('score', 'Sigmoid', [s], T);
  b.fusedMatMul(
    'embedding',
    feat,
    b.const('embedding/kernel', [32, 64]),
    [b.const('embedding/bias', [64])],
    ['BiasAdd'],
  );
  const r = b.fusedMatMul(
    'box/regress',
    feat,
    b.const('box/kernel', [32, 4]),
    [b.const('box/bias', [4], undefined, 'float32', -0.2, 0.2)],
    ['BiasAdd'],
  );
  const scaled = b.op('box/scale', 'Mul', [r, b.const('box/scale/y', [], Float32Array.of(4))], T);
  b.op('box', 'Exp', [scaled], T);
  return b.outputs('score', 'embedding', 'box');
}

export function nonFiniteModel(): GraphModelBuilder {
  const b = new GraphModelBuilder(12);
  const x = b.input('image', [-1, 8, 8, 3]);
  const c1 = b.fusedConv2d(
    'conv1',
    x,
    b.const('conv1/filter', [3, 3, 3, 8]),
    [b.const('conv1/bias', [8])],
    ['BiasAdd', 'Relu'],
  );
  const pad = b.op(
    'pad',
    'PadV2',
    [
      c1,
      b.ints('pad/paddings', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2]),
      b.const('pad/value', [], Float32Array.of(-Infinity)),
    ],
    { ...T, Tpaddings: attr.type('DT_INT32') },
  );
  const mp = b.pool('pool', 'MaxPool', pad, 3, 2, 'VALID');
  const c2 = b.fusedConv2d(
    'conv2',
    mp,
    b.const('conv2/filter', [1, 1, 8, 16]),
    [b.const('conv2/bias', [16])],
    ['BiasAdd'],
  );
  b.op('out', 'Identity', [c2], T);
  return b.outputs('out');
}

/** Einsum, which tfjs-backend-wasm has no kernel for (tfjs-backend-cpu has), before a dense layer. */
export function einsumModel(): GraphModelBuilder {
  const b = new GraphModelBuilder(13);
  const x = b.input('x', [-1, 4, 4]);
  const mix = b.op('mix', 'Einsum', [x, b.const('mix/w', [4, 4])], {
    ...T,
    equation: attr.s('bij,jk->bik'),
    N: attr.i(2),
  });
  const flat = b.op('flat', 'Reshape', [mix, b.ints('flat/shape', [-1, 16])], { ...T, Tshape: attr.type('DT_INT32') });
  b.fusedMatMul('dense', flat, b.const('dense/kernel', [16, 24]), [b.const('dense/bias', [24])], ['BiasAdd']);
  return b.outputs('dense');
}

export function unrunnableModel(): GraphModelBuilder {
  const b = new GraphModelBuilder(14);
  const x = b.input('x', [-1, 16]);
  const d = b.fusedMatMul('dense', x, b.const('dense/kernel', [16, 24]), [b.const('dense/bias', [24])], ['BiasAdd']);
  b.op('mystery', 'NoSuchTfOp', [d], T);
  return b.outputs('mystery');
}

export async function writeFidelityModels(dir: string): Promise<void> {
  await writeModel(`${dir}/heads`, headsModel().build());
  await writeModel(`${dir}/non-finite`, nonFiniteModel().build());
  await writeModel(`${dir}/einsum`, einsumModel().build());
  await writeModel(`${dir}/unrunnable`, unrunnableModel().build());
}
