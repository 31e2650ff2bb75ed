// Models of the runtime benchmark and tests (random weights, seeded): a MobileNetV2-style
// network (inverted residual blocks: 1×1 expand + BN + ReLU6, 3×3 depthwise + BN + ReLU6,
// 1×1 project + BN, residual Add), a ResNet-style block net, and a graph model whose middle
// op is unknown to the runtime (forces native / tfjs partitioning).
import { tf } from '../../src/backend/float.js';
import { attr, GraphModelBuilder, randomizeWeights } from '../../test/support/model-fixtures.js';
import { MOBILENET_V2_BLOCKS } from './mobilenet-v2-blocks.js';

function bnRelu6(y: tf.SymbolicTensor, name: string, relu = true): tf.SymbolicTensor {
  y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as tf.SymbolicTensor;
  return relu ? (tf.layers.reLU({ maxValue: 6, name: `${name}_relu` }).apply(y) as tf.SymbolicTensor) : y;
}

/**
 * MobileNetV2-style: stem conv 3×3/2, inverted residual blocks (expansion t, channels c,
 * repeats n, stride s), 1×1 head conv, global average pooling, dense softmax.
 * width 1, 224×224: ≈ 0.3 GMAC (MobileNetV2 1.0 is 0.30).
 */
export function mobileNetV2(size = 224, width = 1, classes = 1000, seed = 11): tf.LayersModel {
  const ch = (c: number) => Math.max(8, Math.round((c * width) / 8) * 8);
  const x = tf.input({ shape: [size, size, 3], name: 'input' });
  let y = tf.layers
    .conv2d({ filters: ch(32), kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem' })
    .apply(x) as tf.SymbolicTensor;
  y = bnRelu6(y, 'stem');
  let inC = ch(32);
  let b = 0;
  for (const [t, c, n, s] of MOBILENET_V2_BLOCKS) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const outC = ch(c);
      const name = `block${b++}`;
      let h = y;
      if (t !== 1)
        h = bnRelu6(
          tf.layers
            .conv2d({ filters: inC * t, kernelSize: 1, useBias: false, name: `${name}_expand` })
            .apply(h) as tf.SymbolicTensor,
          `${name}_expand`,
        );
      h = bnRelu6(
        tf.layers
          .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${name}_dw` })
          .apply(h) as tf.SymbolicTensor,
        `${name}_dw`,
      );
      h = bnRelu6(
        tf.layers
          .conv2d({ filters: outC, kernelSize: 1, useBias: false, name: `${name}_project` })
          .apply(h) as tf.SymbolicTensor,
        `${name}_project`,
        false,
      );
      y =
        stride === 1 && inC === outC ? (tf.layers.add({ name: `${name}_add` }).apply([y, h]) as tf.SymbolicTensor) : h;
      inC = outC;
    }
  }
  y = bnRelu6(
    tf.layers
      .conv2d({ filters: width > 1 ? ch(1280) : 1280, kernelSize: 1, useBias: false, name: 'head' })
      .apply(y) as tf.SymbolicTensor,
    'head',
  );
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: classes, activation: 'softmax', name: 'predictions' }).apply(y) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: y, name: 'mobilenetv2' });
  randomizeWeights(m, seed);
  scaleForStability(m);
  return m;
}

/** ResNet-style: stem conv + max pool, basic blocks (conv-BN-ReLU ×2 + identity or 1×1 projection), concat of two heads, GAP, dense. */
export function resNetBlocks(size = 32, widths: number[] = [16, 32, 64], classes = 10, seed = 12): tf.LayersModel {
  const x = tf.input({ shape: [size, size, 3], name: 'input' });
  let y = tf.layers
    .conv2d({ filters: widths[0]!, kernelSize: 3, padding: 'same', useBias: false, name: 'stem' })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.activation({ activation: 'relu', name: 'stem_relu' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(y) as tf.SymbolicTensor;
  let inC = widths[0]!;
  widths.forEach((c, i) => {
    const stride = i === 0 ? 1 : 2;
    const name = `res${i}`;
    let h = tf.layers
      .conv2d({ filters: c, kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${name}_a` })
      .apply(y) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `${name}_a_bn` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu', name: `${name}_a_relu` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({ filters: c, kernelSize: 3, padding: 'same', useBias: false, name: `${name}_b` })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `${name}_b_bn` }).apply(h) as tf.SymbolicTensor;
    const skip =
      stride === 1 && inC === c
        ? y
        : (tf.layers
            .conv2d({ filters: c, kernelSize: 1, strides: stride, name: `${name}_proj` })
            .apply(y) as tf.SymbolicTensor);
    y = tf.layers.add({ name: `${name}_add` }).apply([h, skip]) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu', name: `${name}_relu` }).apply(y) as tf.SymbolicTensor;
    inC = c;
  });
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  const gmp = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(y) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([gap, gmp]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: classes, activation: 'softmax', name: 'predictions' })
    .apply(cat) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: out, name: 'resnet_blocks' });
  randomizeWeights(m, seed);
  scaleForStability(m);
  return m;
}

/**
 * Random weights in [−1, 1] make activations explode through deep nets; scale every kernel
 * by 1/sqrt(fan_in) (He-like) and keep BN close to identity so the logits stay meaningful.
 */
function scaleForStability(m: tf.LayersModel): void {
  for (const w of m.weights) {
    const shape = w.shape as number[];
    let v: tf.Tensor | undefined;
    const cur = w.read();
    if (/kernel/.test(w.name)) {
      const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * (/depthwise/.test(w.name) ? 1 : shape[2]!) : shape[0]!;
      v = tf.mul(cur, Math.sqrt(3 / fanIn));
    } else if (/gamma/.test(w.name)) v = tf.add(tf.mul(cur, 0.2), 1);
    else if (/beta|bias/.test(w.name)) v = tf.mul(cur, 0.1);
    else if (/moving_mean/.test(w.name)) v = tf.mul(cur, 0.1);
    else if (/moving_variance/.test(w.name)) v = tf.onesLike(cur);
    if (v) {
      w.write(v);
      v.dispose();
    }
  }
}

/**
 * A graph model with an op unknown to the IR (Sin, kept opaque and run by tfjs) between two
 * native parts: conv → relu → Sin → depthwise conv → mean → dense → softmax.
 */
export function partitionedGraphModel(seed = 13): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('input', [-1, 12, 12, 3]);
  const c1 = b.fusedConv2d(
    'conv1',
    x,
    b.const('conv1/filter', [3, 3, 3, 8], undefined, 'float32', -0.4, 0.4),
    [b.const('conv1/bias', [8], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
    { padding: 'SAME' },
  );
  const sin = b.op('sin', 'Sin', [c1], { T: attr.type('DT_FLOAT') });
  const dw = b.fusedConv2d(
    'dw',
    sin,
    b.const('dw/filter', [3, 3, 8, 1], undefined, 'float32', -0.5, 0.5),
    [b.const('dw/bias', [8], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu6'],
    { depthwise: true, strides: 2 },
  );
  const mean = b.op('mean', 'Mean', [dw, b.ints('mean/axes', [1, 2])], {
    T: attr.type('DT_FLOAT'),
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  const fc = b.fusedMatMul(
    'fc',
    mean,
    b.const('fc/kernel', [8, 6]),
    [b.const('fc/bias', [6], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd'],
  );
  const sm = b.op('softmax', 'Softmax', [fc], { T: attr.type('DT_FLOAT') });
  b.outputs(sm);
  return b;
}

/**
 * Op coverage for the runtime tests: fused conv with PReLU / LeakyReLU / sigmoid, explicit Pad,
 * strided VALID conv, Transpose, ResizeNearest, binary ops with constants (Mul, Sub, Maximum,
 * Minimum), standalone Sigmoid / Tanh / Elu / LeakyRelu, AvgPool SAME, Concat of tensors with
 * different parameters, Mean keep_dims, a 1×1 conv. (transpose_b MatMul: test/runtime/session.test.ts — tfjs-wasm's fused
 * transposed MatMul gives wrong rows for batch > 1 here, so it cannot be the float reference.)
 */
export function opsCoverageGraphModel(seed = 14): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const f = { T: attr.type('DT_FLOAT') };
  const x = b.input('input', [-1, 10, 10, 4]);
  const w = (name: string, shape: number[], r = 0.5) => b.const(name, shape, undefined, 'float32', -r, r);
  const pad = b.op('pad', 'Pad', [x, b.ints('pad/p', [0, 0, 1, 2, 2, 1, 0, 0], [4, 2])], {
    ...f,
    Tpaddings: attr.type('DT_INT32'),
  });
  const c1 = b.fusedConv2d(
    'c1',
    pad,
    w('c1/w', [3, 3, 4, 8]),
    [w('c1/b', [8], 0.1), b.const('c1/alpha', [8], undefined, 'float32', 0.05, 0.3)],
    ['BiasAdd', 'Prelu'],
    { padding: 'VALID' },
  );
  const c2 = b.fusedConv2d('c2', c1, w('c2/w', [3, 3, 8, 8]), [w('c2/b', [8], 0.1)], ['BiasAdd', 'LeakyRelu'], {
    strides: 2,
    padding: 'VALID',
    leakyAlpha: 0.15,
  });
  const c3 = b.fusedConv2d('c3', c1, w('c3/w', [1, 1, 8, 8]), [w('c3/b', [8], 0.1)], ['BiasAdd', 'Sigmoid'], {
    padding: 'SAME',
  });
  const tr = b.op('tr', 'Transpose', [c3, b.ints('tr/perm', [0, 2, 1, 3])], { ...f, Tperm: attr.type('DT_INT32') });
  const rn = b.op('rn', 'ResizeNearestNeighbor', [c2, b.ints('rn/size', [11, 11])], {
    ...f,
    align_corners: attr.b(false),
    half_pixel_centers: attr.b(true),
  });
  const mul = b.op('mul', 'Mul', [rn, w('mul/c', [8], 1)], f);
  const sub = b.op('sub', 'Sub', [tr, mul], f);
  const mx = b.op('mx', 'Maximum', [sub, w('mx/c', [1, 1, 1, 8], 0.2)], f);
  const mn = b.op('mn', 'Minimum', [mx, rn], f);
  const th = b.op('th', 'Tanh', [mn], f);
  const el = b.op('el', 'Elu', [sub], f);
  const lr = b.op('lr', 'LeakyRelu', [mx], { ...f, alpha: attr.f(0.3) });
  const sg = b.op('sg', 'Sigmoid', [lr], f);
  const cat = b.op('cat', 'ConcatV2', [th, el, sg, b.ints('cat/axis', [-1])], {
    ...f,
    N: attr.i(3),
    Tidx: attr.type('DT_INT32'),
  });
  const ap = b.pool('ap', 'AvgPool', cat, 3, 2, 'SAME');
  const mean = b.op('mean', 'Mean', [ap, b.ints('mean/axes', [1, 2])], {
    ...f,
    keep_dims: attr.b(true),
    Tidx: attr.type('DT_INT32'),
  });
  const rs = b.op('rs', 'Reshape', [mean, b.ints('rs/shape', [-1, 24])], { ...f, Tshape: attr.type('DT_INT32') });
  const fc = b.fusedMatMul('fc', rs, w('fc/w', [24, 5]), [w('fc/b', [5], 0.1)], ['BiasAdd']);
  const sm = b.op('sm', 'Softmax', [fc], f);
  b.outputs(sm);
  return b;
}

/** Data movement and transposed convolution: Conv2DBackpropInput (stride 2, SAME), DepthToSpace, StridedSlice (masks, strides), Slice (size −1), Reshape, MatMul, Softmax. */
export function movementGraphModel(seed = 15): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const f = { T: attr.type('DT_FLOAT') };
  const x = b.input('input', [-1, 6, 6, 8]);
  const up = b.op(
    'up',
    'Conv2DBackpropInput',
    [b.ints('up/shape', [-1, 12, 12, 8]), b.const('up/w', [3, 3, 8, 8], undefined, 'float32', -0.4, 0.4), x],
    {
      ...f,
      strides: attr.ints([1, 2, 2, 1]),
      padding: attr.s('SAME'),
      data_format: attr.s('NHWC'),
      dilations: attr.ints([1, 1, 1, 1]),
      explicit_paddings: attr.ints([]),
    },
  );
  const d2s = b.op('d2s', 'DepthToSpace', [up], { ...f, block_size: attr.i(2), data_format: attr.s('NHWC') });
  const ss = b.op(
    'ss',
    'StridedSlice',
    [d2s, b.ints('ss/b', [0, 2, 1, 0]), b.ints('ss/e', [0, 22, 23, 2]), b.ints('ss/s', [1, 2, 3, 1])],
    {
      ...f,
      Index: attr.type('DT_INT32'),
      begin_mask: attr.i(1),
      end_mask: attr.i(1),
      ellipsis_mask: attr.i(0),
      new_axis_mask: attr.i(0),
      shrink_axis_mask: attr.i(0),
    },
  );
  const sl = b.op('sl', 'Slice', [ss, b.ints('sl/b', [0, 1, 1, 0]), b.ints('sl/s', [-1, 5, 4, -1])], {
    ...f,
    Index: attr.type('DT_INT32'),
  });
  const rs = b.op('rs', 'Reshape', [sl, b.ints('rs/shape', [-1, 40])], { ...f, Tshape: attr.type('DT_INT32') });
  const fc = b.fusedMatMul(
    'fc',
    rs,
    b.const('fc/w', [40, 6], undefined, 'float32', -0.5, 0.5),
    [b.const('fc/b', [6], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd'],
  );
  b.outputs(b.op('sm', 'Softmax', [fc], f));
  return b;
}

/** Convolution geometry: dilation 2 (SAME), stride 3 (VALID), explicit padding, stride 4 average pooling, global mean, dense. */
export function geometryGraphModel(seed = 16): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const f = { T: attr.type('DT_FLOAT') };
  const x = b.input('input', [-1, 23, 23, 3]);
  const d = b.conv2d('dil', x, b.const('dil/w', [3, 3, 3, 8], undefined, 'float32', -0.4, 0.4), {
    padding: 'SAME',
    dilations: 2,
  });
  const s3 = b.conv2d('s3', d, b.const('s3/w', [3, 3, 8, 8], undefined, 'float32', -0.3, 0.3), {
    strides: 3,
    padding: 'VALID',
  });
  const ex = b.conv2d('ex', d, b.const('ex/w', [2, 2, 8, 8], undefined, 'float32', -0.3, 0.3), {
    padding: 'EXPLICIT',
    explicit: [0, 0, 1, 0, 0, 2, 0, 0],
  });
  const ap = b.pool('ap', 'AvgPool', ex, 4, 4, 'VALID');
  const m1 = b.op('m1', 'Mean', [s3, b.ints('m1/axes', [1, 2])], {
    ...f,
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  const m2 = b.op('m2', 'Mean', [ap, b.ints('m2/axes', [1, 2])], {
    ...f,
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  const cat = b.op('cat', 'ConcatV2', [m1, m2, b.ints('cat/axis', [1])], {
    ...f,
    N: attr.i(2),
    Tidx: attr.type('DT_INT32'),
  });
  const fc = b.fusedMatMul(
    'fc',
    cat,
    b.const('fc/w', [16, 5], undefined, 'float32', -0.5, 0.5),
    [b.const('fc/b', [5], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd'],
  );
  b.outputs(b.op('sm', 'Softmax', [fc], f));
  return b;
}
