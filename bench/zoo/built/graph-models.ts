// Built models written as TF.js graph models (tfjs-converter's JSON, GraphModelBuilder), for
// the constructs tfjs-layers cannot express: a transformer encoder (GELU via Erf, LayerNorm,
// BatchMatMul attention, Softmax), MobileNetV3 blocks (hard-swish, squeeze-excite with
// hard-sigmoid), and an SSD-style detector whose scores go through a TF1 while loop
// (Enter/Merge/Switch/LoopCond/NextIteration/Exit) and then non-max suppression.
import { attr, GraphModelBuilder } from '../../../test/support/model-fixtures.js';
import { bias, kernel } from './init.js';

const F = { T: attr.type('DT_FLOAT') };
const I32 = attr.type('DT_INT32');

function scalar(b: GraphModelBuilder, name: string, v: number): string {
  return b.const(name, [], Float32Array.of(v));
}

function layerNorm(b: GraphModelBuilder, name: string, x: string, d: number): string {
  const axis = b.ints(`${name}/axis`, [-1]);
  const mean = b.op(`${name}/mean`, 'Mean', [x, axis], { ...F, Tidx: I32, keep_dims: attr.b(true) });
  const diff = b.op(`${name}/sub`, 'Sub', [x, mean], F);
  const v = b.op(
    `${name}/variance`,
    'Mean',
    [b.op(`${name}/square`, 'Square', [diff], F), b.ints(`${name}/axis2`, [-1])],
    { ...F, Tidx: I32, keep_dims: attr.b(true) },
  );
  const rs = b.op(
    `${name}/rsqrt`,
    'Rsqrt',
    [b.op(`${name}/add_eps`, 'AddV2', [v, scalar(b, `${name}/eps`, 1e-5)], F)],
    F,
  );
  const gamma = b.const(`${name}/gamma`, [d], undefined, 'float32', 0.8, 1.2);
  const scaled = b.op(`${name}/mul`, 'Mul', [b.op(`${name}/norm`, 'Mul', [diff, rs], F), gamma], F);
  return b.op(`${name}/add`, 'AddV2', [scaled, bias(b, `${name}/beta`, d)], F);
}

function dense(b: GraphModelBuilder, name: string, x: string, k: number, n: number): string {
  const mm = b.op(`${name}/MatMul`, 'MatMul', [x, kernel(b, `${name}/kernel`, [k, n])], {
    ...F,
    transpose_a: attr.b(false),
    transpose_b: attr.b(false),
  });
  return b.op(`${name}/BiasAdd`, 'BiasAdd', [mm, bias(b, `${name}/bias`, n)], { ...F, data_format: attr.s('NHWC') });
}

/** GELU, exact form: 0.5·x·(1 + erf(x/√2)) — how TensorFlow exports tf.nn.gelu(approximate=False). */
function gelu(b: GraphModelBuilder, name: string, x: string): string {
  const erf = b.op(
    `${name}/Erf`,
    'Erf',
    [b.op(`${name}/mul_sqrt`, 'Mul', [x, scalar(b, `${name}/rsqrt2`, Math.SQRT1_2)], F)],
    F,
  );
  const onePlus = b.op(`${name}/add`, 'AddV2', [erf, scalar(b, `${name}/one`, 1)], F);
  return b.op(
    `${name}/mul`,
    'Mul',
    [b.op(`${name}/half_x`, 'Mul', [x, scalar(b, `${name}/half`, 0.5)], F), onePlus],
    F,
  );
}

/**
 * Tokens [1, 32] (vocabulary 1000) → embedding + positions → 2 pre-LN encoder layers (4 heads of
 * 16, FFN 64→128→64 with GELU) → final LN → mean over tokens → 4-class softmax. Outputs: the
 * class probabilities [1, 4] and the sequence encoding [1, 32, 64].
 */
export function transformerEncoder(seed = 21): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const T = 32,
    D = 64,
    H = 4,
    DH = 16,
    V = 1000;
  const tokens = b.input('tokens', [1, T], 'DT_INT32');
  const emb = b.op(
    'embed/Gather',
    'GatherV2',
    [b.const('embed/table', [V, D], undefined, 'float32', -1, 1), tokens, b.ints('embed/axis', [0], [])],
    { Tparams: attr.type('DT_FLOAT'), Tindices: I32, Taxis: I32, batch_dims: attr.i(0) },
  );
  let x = b.op('embed/add_pos', 'AddV2', [emb, b.const('embed/positions', [T, D], undefined, 'float32', -0.5, 0.5)], F);
  x = b.op('embed/flatten', 'Reshape', [x, b.ints('embed/flat_shape', [T, D])], { ...F, Tshape: I32 });
  const heads = (name: string, t: string) =>
    b.op(
      `${name}/heads`,
      'Transpose',
      [
        b.op(`${name}/split`, 'Reshape', [t, b.ints(`${name}/split_shape`, [1, T, H, DH])], { ...F, Tshape: I32 }),
        b.ints(`${name}/perm`, [0, 2, 1, 3]),
      ],
      { ...F, Tperm: I32 },
    );
  for (let l = 0; l < 2; l++) {
    const p = `layer${l}`;
    const h = layerNorm(b, `${p}/ln1`, x, D);
    const q = heads(`${p}/q`, dense(b, `${p}/q`, h, D, D));
    const k = heads(`${p}/k`, dense(b, `${p}/k`, h, D, D));
    const v = heads(`${p}/v`, dense(b, `${p}/v`, h, D, D));
    const logits = b.op(`${p}/scores`, 'BatchMatMulV2', [q, k], { ...F, adj_x: attr.b(false), adj_y: attr.b(true) });
    const probs = b.op(
      `${p}/softmax`,
      'Softmax',
      [b.op(`${p}/scale`, 'Mul', [logits, scalar(b, `${p}/inv_sqrt_dh`, 1 / Math.sqrt(DH))], F)],
      F,
    );
    const ctx = b.op(`${p}/context`, 'BatchMatMulV2', [probs, v], { ...F, adj_x: attr.b(false), adj_y: attr.b(false) });
    const merged = b.op(
      `${p}/merge`,
      'Reshape',
      [
        b.op(`${p}/merge_t`, 'Transpose', [ctx, b.ints(`${p}/merge_perm`, [0, 2, 1, 3])], { ...F, Tperm: I32 }),
        b.ints(`${p}/merge_shape`, [T, D]),
      ],
      { ...F, Tshape: I32 },
    );
    x = b.op(`${p}/residual1`, 'AddV2', [x, dense(b, `${p}/out`, merged, D, D)], F);
    const f = dense(
      b,
      `${p}/ffn2`,
      gelu(b, `${p}/gelu`, dense(b, `${p}/ffn1`, layerNorm(b, `${p}/ln2`, x, D), D, 2 * D)),
      2 * D,
      D,
    );
    x = b.op(`${p}/residual2`, 'AddV2', [x, f], F);
  }
  const enc = layerNorm(b, 'final_ln', x, D);
  b.op('encoding', 'Reshape', [enc, b.ints('encoding/shape', [1, T, D])], { ...F, Tshape: I32 });
  const pooled = b.op('pool', 'Mean', [enc, b.ints('pool/axis', [0])], { ...F, Tidx: I32, keep_dims: attr.b(true) });
  b.op('classes', 'Softmax', [dense(b, 'classifier', pooled, D, 4)], F);
  return b.outputs('classes', 'encoding');
}

function conv(
  b: GraphModelBuilder,
  name: string,
  x: string,
  k: number,
  cin: number,
  cout: number,
  stride = 1,
  depthwise = false,
): string {
  const filter = depthwise
    ? kernel(b, `${name}/depthwise_kernel`, [k, k, cin, 1], k * k)
    : kernel(b, `${name}/kernel`, [k, k, cin, cout]);
  return b.fusedConv2d(name, x, filter, [bias(b, `${name}/bias`, depthwise ? cin : cout)], ['BiasAdd'], {
    strides: stride,
    depthwise,
  });
}

/** hard-swish x·relu6(x + 3)/6, as TensorFlow exports it (no fused op). */
function hardSwish(b: GraphModelBuilder, name: string, x: string): string {
  const r6 = b.op(`${name}/Relu6`, 'Relu6', [b.op(`${name}/add3`, 'AddV2', [x, scalar(b, `${name}/three`, 3)], F)], F);
  return b.op(`${name}/mul`, 'Mul', [x, b.op(`${name}/div6`, 'Mul', [r6, scalar(b, `${name}/sixth`, 1 / 6)], F)], F);
}

function hardSigmoid(b: GraphModelBuilder, name: string, x: string): string {
  const r6 = b.op(`${name}/Relu6`, 'Relu6', [b.op(`${name}/add3`, 'AddV2', [x, scalar(b, `${name}/three`, 3)], F)], F);
  return b.op(`${name}/div6`, 'Mul', [r6, scalar(b, `${name}/sixth`, 1 / 6)], F);
}

function bneck(
  b: GraphModelBuilder,
  name: string,
  x: string,
  cin: number,
  exp: number,
  cout: number,
  k: number,
  stride: number,
  se: boolean,
): string {
  let y = hardSwish(b, `${name}/expand_hs`, conv(b, `${name}/expand`, x, 1, cin, exp));
  y = hardSwish(b, `${name}/dw_hs`, conv(b, `${name}/dw`, y, k, exp, exp, stride, true));
  if (se) {
    const s = b.op(`${name}/se/mean`, 'Mean', [y, b.ints(`${name}/se/axes`, [1, 2])], {
      ...F,
      Tidx: I32,
      keep_dims: attr.b(true),
    });
    const r = b.fusedConv2d(
      `${name}/se/reduce`,
      s,
      kernel(b, `${name}/se/reduce_kernel`, [1, 1, exp, exp / 4]),
      [bias(b, `${name}/se/reduce_bias`, exp / 4)],
      ['BiasAdd', 'Relu'],
    );
    const e = hardSigmoid(b, `${name}/se/hsig`, conv(b, `${name}/se/expand`, r, 1, exp / 4, exp));
    y = b.op(`${name}/se/scale`, 'Mul', [y, e], F);
  }
  y = conv(b, `${name}/project`, y, 1, exp, cout);
  return stride === 1 && cin === cout ? b.op(`${name}/add`, 'AddV2', [x, y], F) : y;
}

/** Image [1, 96, 96, 3] → MobileNetV3-small-style stem, 3 bnecks (hard-swish, SE), head → 10-class softmax. */
export function mobilenetV3(seed = 22): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('image', [1, 96, 96, 3]);
  let y = hardSwish(b, 'stem_hs', conv(b, 'stem', x, 3, 3, 16, 2));
  y = bneck(b, 'bneck1', y, 16, 64, 24, 3, 2, true);
  y = bneck(b, 'bneck2', y, 24, 72, 24, 5, 1, true);
  y = bneck(b, 'bneck3', y, 24, 96, 40, 5, 2, false);
  y = hardSwish(b, 'head_hs', conv(b, 'head', y, 1, 40, 128));
  const pooled = b.op('gap', 'Mean', [y, b.ints('gap/axes', [1, 2])], { ...F, Tidx: I32, keep_dims: attr.b(false) });
  b.op('classes', 'Softmax', [dense(b, 'classifier', pooled, 128, 10)], F);
  return b.outputs('classes');
}

/**
 * Image [1, 64, 64, 3] → 3 strided convs → box and class heads on the 8×8 grid (one anchor
 * per cell) → decoded corner boxes [64, 4] and sigmoid scores [64] → a TF1 while loop (3
 * iterations of s ← s·√p, a loop variable times a loop invariant, so s = p^2.5) that sharpens
 * the scores → NonMaxSuppressionV5 (10 boxes, IoU 0.5) → the kept boxes
 * and scores. Outputs: boxes [64, 4], scores [64], selected boxes [n, 4], selected scores [n].
 */
export function ssdWhile(seed = 23): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('image', [1, 64, 64, 3]);
  let y = x;
  for (const [i, cin, cout] of [
    [1, 3, 16],
    [2, 16, 32],
    [3, 32, 32],
  ] as const) {
    y = b.fusedConv2d(
      `backbone/conv${i}`,
      y,
      kernel(b, `backbone/conv${i}/kernel`, [3, 3, cin, cout]),
      [bias(b, `backbone/conv${i}/bias`, cout)],
      ['BiasAdd', 'Relu'],
      { strides: 2 },
    );
  }
  const deltas = b.op(
    'box_head/flat',
    'Reshape',
    [conv(b, 'box_head', y, 3, 32, 4), b.ints('box_head/shape', [64, 4])],
    { ...F, Tshape: I32 },
  );
  const logits = b.op(
    'class_head/flat',
    'Reshape',
    [conv(b, 'class_head', y, 3, 32, 1), b.ints('class_head/shape', [64])],
    { ...F, Tshape: I32 },
  );
  // Anchors: one 0.25×0.25 box centred on each cell of the 8×8 grid, as corners [ymin, xmin, ymax, xmax].
  const anchors = new Float32Array(64 * 4);
  for (let i = 0; i < 64; i++) {
    const cy = (Math.floor(i / 8) + 0.5) / 8,
      cx = ((i % 8) + 0.5) / 8;
    anchors.set([cy - 0.125, cx - 0.125, cy + 0.125, cx + 0.125], i * 4);
  }
  const boxes = b.op(
    'decode/boxes',
    'AddV2',
    [
      b.const('decode/anchors', [64, 4], anchors),
      b.op('decode/scale', 'Mul', [deltas, scalar(b, 'decode/variance', 0.1)], F),
    ],
    F,
  );
  const prob = b.op('scores/sigmoid', 'Sigmoid', [logits], F);

  // while (i < 3) { s = s * sqrt(prob); i = i + 1 }: scores sharpened by repeated products.
  const frame = { frame_name: attr.s('refine/while_context'), parallel_iterations: attr.i(10) };
  const enterVar = (name: string, v: string, dtype: 'DT_FLOAT' | 'DT_INT32') =>
    b.op(name, 'Enter', [v], { T: attr.type(dtype), ...frame, is_constant: attr.b(false) });
  const enterConst = (name: string, v: string, dtype: 'DT_FLOAT' | 'DT_INT32') =>
    b.op(name, 'Enter', [v], { T: attr.type(dtype), ...frame, is_constant: attr.b(true) });
  const i0 = b.ints('refine/i0', [0], []);
  const iEnter = enterVar('refine/Enter_i', i0, 'DT_INT32');
  const sEnter = enterVar('refine/Enter_s', prob, 'DT_FLOAT');
  const limit = enterConst('refine/Enter_limit', b.ints('refine/limit', [3], []), 'DT_INT32');
  const one = enterConst('refine/Enter_one', b.ints('refine/one', [1], []), 'DT_INT32');
  const sqrtProb = enterConst('refine/Enter_sqrt_prob', b.op('refine/sqrt_prob', 'Sqrt', [prob], F), 'DT_FLOAT');
  const iMerge = b.op('refine/Merge_i', 'Merge', [iEnter, 'refine/NextIteration_i'], { T: I32, N: attr.i(2) });
  const sMerge = b.op('refine/Merge_s', 'Merge', [sEnter, 'refine/NextIteration_s'], { ...F, N: attr.i(2) });
  const cond = b.op('refine/LoopCond', 'LoopCond', [b.op('refine/Less', 'Less', [iMerge, limit], { T: I32 })]);
  const iSwitch = b.op('refine/Switch_i', 'Switch', [iMerge, cond], { T: I32 });
  const sSwitch = b.op('refine/Switch_s', 'Switch', [sMerge, cond], F);
  const iBody = b.op('refine/Identity_i', 'Identity', [`${iSwitch}:1`], { T: I32 });
  const sBody = b.op('refine/Identity_s', 'Identity', [`${sSwitch}:1`], F);
  b.op('refine/NextIteration_i', 'NextIteration', [b.op('refine/add_i', 'AddV2', [iBody, one], { T: I32 })], {
    T: I32,
  });
  b.op('refine/NextIteration_s', 'NextIteration', [b.op('refine/mul_s', 'Mul', [sBody, sqrtProb], F)], F);
  const refined = b.op('refine/Exit_s', 'Exit', [`${sSwitch}:0`], F);

  b.op('boxes', 'Identity', [boxes], F);
  b.op('scores', 'Identity', [refined], F);
  const nms = b.op(
    'nms',
    'NonMaxSuppressionV5',
    [
      boxes,
      refined,
      b.ints('nms/max_boxes', [10], []),
      scalar(b, 'nms/iou', 0.5),
      scalar(b, 'nms/score_threshold', 0.01),
      scalar(b, 'nms/sigma', 0),
    ],
    { ...F, pad_to_max_output_size: attr.b(false) },
  );
  b.op('selected_boxes', 'GatherV2', [boxes, `${nms}:0`, b.ints('selected_boxes/axis', [0], [])], {
    Tparams: attr.type('DT_FLOAT'),
    Tindices: I32,
    Taxis: I32,
    batch_dims: attr.i(0),
  });
  b.op('selected_scores', 'Identity', [`${nms}:1`], F);
  return b.outputs('boxes', 'scores', 'selected_boxes', 'selected_scores');
}
