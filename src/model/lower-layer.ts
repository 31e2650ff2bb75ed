// One Keras layer application lowered into graph ops, as tfjs-layers runs it at inference
// (same ops, same order: bit-identical to model.predict), with its weights as constants and
// Keras time masks carried on (load-layers.ts walks the model's topology and calls lowerLayer;
// recurrent layers and Embedding are in lower-recurrent.ts).
import { addConstant, type Attrs, type FusedActivation, type Graph } from './ir.js';
import { inferShapes } from './shape-inference.js';
import {
  activation,
  activationName,
  err,
  intConst,
  node,
  scalarConst,
  shapeOf,
  weight,
  type Json,
  type Lowering,
} from './layers-lowering.js';
import { lowerBidirectional, lowerEmbedding, lowerRecurrent, RECURRENT_CLASSES } from './lower-recurrent.js';

function pair(v: unknown, def: number, what: string, file: string, layer: string): [number, number] {
  if (v === undefined || v === null) return [def, def];
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length === 1) a.push(a[0]);
  if (a.length !== 2 || a.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0))
    err(`${what} must be an integer or a pair, got ${JSON.stringify(v)}`, file, layer);
  return [a[0] as number, a[1] as number];
}

function padding(c: Json, file: string, layer: string): 'SAME' | 'VALID' {
  const p = c.padding ?? 'valid';
  if (p === 'same') return 'SAME';
  if (p === 'valid') return 'VALID';
  err(`padding '${String(p)}' is not supported`, file, layer);
}

function channelsLast(c: Json, file: string, layer: string): void {
  if (c.data_format !== undefined && c.data_format !== null && c.data_format !== 'channels_last') {
    err(`data_format '${String(c.data_format)}' is not supported (channels_last only)`, file, layer);
  }
}

/** Fusable into the conv/matmul kernel exactly as tfjs-layers does (mapActivationToFusedKernel). */
function layersFused(act: string): FusedActivation | undefined {
  return act === 'relu' ? 'relu' : act === 'linear' ? 'none' : act === 'elu' ? 'elu' : undefined;
}

/** Lowers one application of a layer; returns its output tensors. */
function applyLayer(L: Lowering, cls: string, c: Json, ins: string[], base: string, layer: string): string[] {
  const file = L.ctx.file;
  const one = (): string => {
    if (ins.length !== 1) err(`${cls} takes one input, got ${ins.length}`, file, layer);
    return ins[0]!;
  };
  // Keep shape information current so later layers (Flatten, Dense on rank > 2) can use it.
  const out = (t: string): string[] => {
    refreshShapes(L.g);
    return [t];
  };
  switch (cls) {
    case 'Dense': {
      const x = one();
      const k = weight(L, layer, 'kernel')!;
      const useBias = c.use_bias !== false;
      const b = useBias ? weight(L, layer, 'bias') : undefined;
      const act = activationName(c, file, layer);
      const fused = layersFused(act);
      const xs = shapeOf(L, x);
      const rank = xs?.length ?? 2;
      let a = x;
      const kShape = L.g.constants.get(k)!.shape;
      if (rank > 2) {
        if (!xs || xs.slice(1).some((d) => d < 0))
          err('Dense on a rank > 2 input needs known non-batch dimensions', file, layer);
        a = node(L, `${base}/Reshape_in`, 'Reshape', [x, intConst(L, `${base}/shape_in`, [-1, xs[xs.length - 1]!])]);
      }
      let y: string;
      if (fused !== undefined) {
        y = node(L, `${base}/MatMul`, 'MatMul', b ? [a, k, b] : [a, k], {
          transpose_a: false,
          transpose_b: false,
          activation: fused,
        });
      } else {
        y = node(L, `${base}/MatMul`, 'MatMul', [a, k], { transpose_a: false, transpose_b: false, activation: 'none' });
      }
      if (rank > 2)
        y = node(L, `${base}/Reshape_out`, 'Reshape', [
          y,
          intConst(L, `${base}/shape_out`, [-1, ...xs!.slice(1, -1), kShape[1]!]),
        ]);
      if (fused === undefined) {
        if (b) y = node(L, `${base}/BiasAdd`, 'BiasAdd', [y, b]);
        y = activation(L, act, y, base);
      }
      return out(y);
    }
    case 'Conv2D':
    case 'Conv1D': {
      channelsLast(c, file, layer);
      let x = one();
      const is1d = cls === 'Conv1D';
      let k = weight(L, layer, 'kernel')!;
      const useBias = c.use_bias !== false;
      const b = useBias ? weight(L, layer, 'bias') : undefined;
      const act = activationName(c, file, layer);
      const [sh, sw] = is1d
        ? [1, pair(c.strides, 1, 'strides', file, layer)[0]]
        : pair(c.strides, 1, 'strides', file, layer);
      const [dh, dw] = is1d
        ? [1, pair(c.dilation_rate, 1, 'dilation_rate', file, layer)[0]]
        : pair(c.dilation_rate, 1, 'dilation_rate', file, layer);
      if (c.padding === 'causal') err('causal padding is not supported', file, layer);
      const attrs: Attrs = {
        strides: [1, sh, sw, 1],
        padding: padding(c, file, layer),
        dilations: [1, dh, dw, 1],
        data_format: 'NHWC',
      };
      if (is1d) {
        // tfc.conv1d: reshape to [b, 1, w, c] and a [1, k, in, out] filter, conv2d, reshape back.
        const kc = L.g.constants.get(k)!;
        k = addConstant(L.g, `${k}_2d`, 'float32', [1, ...kc.shape], kc.data);
        x = node(L, `${base}/ExpandDims`, 'ExpandDims', [x, intConst(L, `${base}/axis1`, [1])]);
        let y = node(L, `${base}/Conv2D`, 'Conv2D', [x, k], { ...attrs, activation: 'none' });
        y = node(L, `${base}/Squeeze`, 'Squeeze', [y], { squeeze_dims: [1] });
        if (b) y = node(L, `${base}/BiasAdd`, 'BiasAdd', [y, b]);
        return out(activation(L, act, y, base));
      }
      const fused = layersFused(act);
      let y = node(L, `${base}/Conv2D`, 'Conv2D', b ? [x, k, b] : [x, k], { ...attrs, activation: fused ?? 'none' });
      if (fused === undefined) y = activation(L, act, y, base);
      return out(y);
    }
    case 'DepthwiseConv2D': {
      channelsLast(c, file, layer);
      const x = one();
      const k = weight(L, layer, 'depthwise_kernel')!;
      const b = c.use_bias !== false ? weight(L, layer, 'bias') : undefined;
      const [sh, sw] = pair(c.strides, 1, 'strides', file, layer);
      // tfjs-layers passes no dilation to the depthwise conv.
      let y = node(L, `${base}/depthwise`, 'DepthwiseConv2dNative', [x, k], {
        strides: [1, sh, sw, 1],
        padding: padding(c, file, layer),
        dilations: [1, 1, 1, 1],
        data_format: 'NHWC',
        activation: 'none',
      });
      if (b) y = node(L, `${base}/BiasAdd`, 'BiasAdd', [y, b]);
      return out(activation(L, activationName(c, file, layer), y, base));
    }
    case 'SeparableConv2D': {
      channelsLast(c, file, layer);
      const x = one();
      const dk = weight(L, layer, 'depthwise_kernel')!;
      const pk = weight(L, layer, 'pointwise_kernel')!;
      const b = c.use_bias !== false ? weight(L, layer, 'bias') : undefined;
      const [sh, sw] = pair(c.strides, 1, 'strides', file, layer);
      const [dh, dw] = pair(c.dilation_rate, 1, 'dilation_rate', file, layer);
      let y = node(L, `${base}/depthwise`, 'DepthwiseConv2dNative', [x, dk], {
        strides: [1, sh, sw, 1],
        padding: padding(c, file, layer),
        dilations: [1, dh, dw, 1],
        data_format: 'NHWC',
        activation: 'none',
      });
      y = node(L, `${base}/pointwise`, 'Conv2D', [y, pk], {
        strides: [1, 1, 1, 1],
        padding: 'VALID',
        dilations: [1, 1, 1, 1],
        data_format: 'NHWC',
        activation: 'none',
      });
      if (b) y = node(L, `${base}/BiasAdd`, 'BiasAdd', [y, b]);
      return out(activation(L, activationName(c, file, layer), y, base));
    }
    case 'Conv2DTranspose': {
      channelsLast(c, file, layer);
      const x = one();
      const k = weight(L, layer, 'kernel')!;
      const b = c.use_bias !== false ? weight(L, layer, 'bias') : undefined;
      const [sh, sw] = pair(c.strides, 1, 'strides', file, layer);
      const [kh, kw] = pair(c.kernel_size, 1, 'kernel_size', file, layer);
      const pad = padding(c, file, layer);
      const xs = shapeOf(L, x);
      if (!xs || xs.length !== 4 || xs[1]! < 0 || xs[2]! < 0)
        err('Conv2DTranspose needs a known input height and width', file, layer);
      const len = (d: number, s: number, kk: number) => (pad === 'SAME' ? d * s : d * s + Math.max(kk - s, 0));
      const filters = L.g.constants.get(k)!.shape[2]!;
      const shape = intConst(L, `${base}/output_shape`, [-1, len(xs[1]!, sh, kh), len(xs[2]!, sw, kw), filters]);
      let y = node(L, `${base}/conv2d_transpose`, 'Conv2DBackpropInput', [shape, k, x], {
        strides: [1, sh, sw, 1],
        padding: pad,
        data_format: 'NHWC',
      });
      if (b) y = node(L, `${base}/BiasAdd`, 'BiasAdd', [y, b]);
      return out(activation(L, activationName(c, file, layer), y, base));
    }
    case 'BatchNormalization': {
      const x = one();
      const xs = shapeOf(L, x);
      const axis =
        typeof c.axis === 'number' ? c.axis : Array.isArray(c.axis) && c.axis.length === 1 ? (c.axis[0] as number) : -1;
      if (xs && axis !== -1 && axis !== xs.length - 1)
        err(`BatchNormalization over axis ${axis} is not supported (last axis only)`, file, layer);
      if (xs && (xs.length < 2 || xs.length > 4))
        err(`BatchNormalization on rank ${xs.length} is not supported`, file, layer);
      const mean = weight(L, layer, 'moving_mean')!;
      const variance = weight(L, layer, 'moving_variance')!;
      const n = L.g.constants.get(mean)!.shape[0]!;
      const gamma =
        c.scale !== false
          ? weight(L, layer, 'gamma')!
          : addConstant(L.g, `${layer}/gamma_ones`, 'float32', [n], new Float32Array(n).fill(1));
      const beta =
        c.center !== false
          ? weight(L, layer, 'beta')!
          : addConstant(L.g, `${layer}/beta_zeros`, 'float32', [n], new Float32Array(n));
      const eps = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
      return out(
        node(L, `${base}/FusedBatchNormV3`, 'FusedBatchNormV3', [x, gamma, beta, mean, variance], {
          epsilon: eps,
          data_format: 'NHWC',
        }),
      );
    }
    case 'Activation':
      return out(activation(L, activationName(c, file, layer), one(), base));
    case 'ReLU': {
      let y = node(L, `${base}/Relu`, 'Relu', [one()]);
      if (typeof c.max_value === 'number')
        y = node(L, `${base}/clip`, 'ClipByValue', [
          y,
          scalarConst(L, `${base}/lo`, 0),
          scalarConst(L, `${base}/hi`, c.max_value),
        ]);
      return out(y);
    }
    case 'LeakyReLU':
      return out(
        node(L, `${base}/LeakyRelu`, 'LeakyRelu', [one()], { alpha: typeof c.alpha === 'number' ? c.alpha : 0.3 }),
      );
    case 'PReLU':
      return out(node(L, `${base}/Prelu`, 'Prelu', [one(), weight(L, layer, 'alpha')!]));
    case 'ELU': {
      if (c.alpha !== undefined && c.alpha !== 1)
        err('ELU with alpha ≠ 1 is not supported (tfjs-layers does not support it either)', file, layer);
      return out(node(L, `${base}/Elu`, 'Elu', [one()]));
    }
    case 'Softmax': {
      const axis = c.axis ?? -1;
      if (axis !== -1) err('Softmax over an axis other than the last is not supported', file, layer);
      return out(node(L, `${base}/Softmax`, 'Softmax', [one()]));
    }
    case 'Add':
    case 'Multiply':
    case 'Maximum':
    case 'Minimum':
    case 'Average': {
      if (ins.length < 2) err(`${cls} needs at least 2 inputs, got ${ins.length}`, file, layer);
      const op = cls === 'Multiply' ? 'Mul' : cls === 'Maximum' ? 'Maximum' : cls === 'Minimum' ? 'Minimum' : 'AddV2';
      let y = ins[0]!;
      for (let i = 1; i < ins.length; i++) y = node(L, `${base}/${op}${i > 1 ? `_${i - 1}` : ''}`, op, [y, ins[i]!]);
      if (cls === 'Average') y = node(L, `${base}/mean`, 'Mul', [scalarConst(L, `${base}/inv_n`, 1 / ins.length), y]);
      return out(y);
    }
    case 'Subtract': {
      if (ins.length !== 2) err('Subtract needs exactly 2 inputs', file, layer);
      return out(node(L, `${base}/Sub`, 'Sub', [ins[0]!, ins[1]!]));
    }
    case 'Concatenate': {
      if (ins.length < 2) err(`Concatenate needs at least 2 inputs, got ${ins.length}`, file, layer);
      const axis = typeof c.axis === 'number' ? c.axis : -1;
      return out(
        node(L, `${base}/concat`, 'ConcatV2', [...ins, intConst(L, `${base}/axis`, [axis])], { N: ins.length }),
      );
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast(c, file, layer);
      const [ph, pw] = pair(c.pool_size, 2, 'pool_size', file, layer);
      const [sh, sw] =
        c.strides === null || c.strides === undefined ? [ph, pw] : pair(c.strides, ph, 'strides', file, layer);
      return out(
        node(
          L,
          `${base}/${cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool'}`,
          cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool',
          [one()],
          {
            ksize: [1, ph, pw, 1],
            strides: [1, sh, sw, 1],
            padding: padding(c, file, layer),
            data_format: 'NHWC',
          },
        ),
      );
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
    case 'GlobalAveragePooling1D':
    case 'GlobalMaxPooling1D': {
      channelsLast(c, file, layer);
      const axes = cls.endsWith('2D') ? [1, 2] : [1];
      const op = cls.startsWith('GlobalAverage') ? 'Mean' : 'Max';
      return out(node(L, `${base}/${op}`, op, [one(), intConst(L, `${base}/axes`, axes)], { keep_dims: false }));
    }
    case 'Flatten': {
      const x = one();
      const xs = shapeOf(L, x);
      if (!xs || xs.slice(1).some((d) => d < 0)) err('Flatten needs known non-batch dimensions', file, layer);
      return out(
        node(L, `${base}/Reshape`, 'Reshape', [
          x,
          intConst(L, `${base}/shape`, [-1, xs.slice(1).reduce((a, b) => a * b, 1)]),
        ]),
      );
    }
    case 'Reshape': {
      const x = one();
      const ts = c.target_shape;
      if (!Array.isArray(ts) || ts.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < -1))
        err(`target_shape ${JSON.stringify(ts)} is invalid`, file, layer);
      const xs = shapeOf(L, x);
      let target = [...(ts as number[])];
      const neg = target.indexOf(-1);
      if (neg >= 0) {
        if (!xs || xs.slice(1).some((d) => d < 0))
          err('Reshape with -1 needs known non-batch input dimensions', file, layer);
        const total = xs.slice(1).reduce((a, b) => a * b, 1);
        const rest = target.reduce((a, b, i) => (i === neg ? a : a * b), 1);
        if (rest === 0 || total % rest !== 0) err(`cannot reshape [${xs.slice(1)}] to [${target}]`, file, layer);
        target = target.map((d, i) => (i === neg ? total / rest : d));
      }
      return out(node(L, `${base}/Reshape`, 'Reshape', [x, intConst(L, `${base}/shape`, [-1, ...target])]));
    }
    case 'Permute': {
      const dims = c.dims;
      if (!Array.isArray(dims)) err('Permute needs dims', file, layer);
      return out(
        node(L, `${base}/transpose`, 'Transpose', [one(), intConst(L, `${base}/perm`, [0, ...(dims as number[])])]),
      );
    }
    case 'ZeroPadding2D': {
      channelsLast(c, file, layer);
      const p = c.padding ?? 1;
      let tb: [number, number];
      let lr: [number, number];
      if (typeof p === 'number') tb = lr = [p, p];
      else if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'number') {
        tb = [p[0] as number, p[0] as number];
        lr = [p[1] as number, p[1] as number];
      } else if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0])) {
        tb = pair(p[0], 0, 'padding', file, layer);
        lr = pair(p[1], 0, 'padding', file, layer);
      } else err(`padding ${JSON.stringify(p)} is invalid`, file, layer);
      return out(
        node(L, `${base}/Pad`, 'Pad', [
          one(),
          intConst(L, `${base}/paddings`, [0, 0, tb[0], tb[1], lr[0], lr[1], 0, 0], [4, 2]),
        ]),
      );
    }
    case 'UpSampling2D': {
      channelsLast(c, file, layer);
      const x = one();
      const xs = shapeOf(L, x);
      const [sh, sw] = pair(c.size, 2, 'size', file, layer);
      if (!xs || xs.length !== 4 || xs[1]! < 0 || xs[2]! < 0)
        err('UpSampling2D needs a known input height and width', file, layer);
      const nearest = (c.interpolation ?? 'nearest') === 'nearest';
      return out(
        node(
          L,
          `${base}/resize`,
          nearest ? 'ResizeNearestNeighbor' : 'ResizeBilinear',
          [x, intConst(L, `${base}/size`, [xs[1]! * sh, xs[2]! * sw])],
          {
            align_corners: false,
            half_pixel_centers: false,
          },
        ),
      );
    }
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      return out(node(L, `${base}/Identity`, 'Identity', [one()], { keras_class: cls }));
    case 'Embedding':
      return out(lowerEmbedding(L, c, one(), base, layer));
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU':
    case 'Bidirectional': {
      const outs =
        cls === 'Bidirectional'
          ? lowerBidirectional(L, c, one(), base, layer)
          : lowerRecurrent(L, cls, c, one(), base, layer);
      refreshShapes(L.g);
      return outs;
    }
    case 'InputLayer':
      return ins;
    default:
      err(`layer class '${cls}' cannot be lowered to graph ops`, file, layer);
  }
}

/** Layers that read a time mask in Keras and are not lowered with one (their results would differ). */
const MASK_READERS_NOT_LOWERED = new Set([
  'GlobalAveragePooling1D',
  'GlobalMaxPooling1D',
  'Attention',
  'MultiHeadAttention',
  'TimeDistributed',
]);

/**
 * Lowers one layer application and carries Keras time masks (Embedding mask_zero): recurrent
 * layers consume them, every other lowered layer passes its input's mask on to its outputs
 * (tfjs-layers refuses to build a model where a layer that does not support masks gets one).
 */
export function lowerLayer(L: Lowering, cls: string, c: Json, ins: string[], base: string, layer: string): string[] {
  const masks = [...new Set(ins.map((t) => L.masks.get(t)).filter((m) => m !== undefined))];
  // A merge of inputs masked by different Embeddings carries their AND in tfjs: not lowered.
  if (masks.length > 1)
    err(
      `${cls} merges inputs masked by different Embeddings (${masks.map((m) => `'${m.layer}'`).join(', ')}), which is not lowered`,
      L.ctx.file,
      layer,
    );
  const mask = masks[0];
  if (mask && MASK_READERS_NOT_LOWERED.has(cls)) {
    err(
      `${cls} reads the mask of Embedding '${mask.layer}' (mask_zero: true), which is not lowered for this layer`,
      L.ctx.file,
      layer,
    );
  }
  const outs = applyLayer(L, cls, c, ins, base, layer);
  if (mask && !RECURRENT_CLASSES.has(cls)) for (const o of outs) if (!L.masks.has(o)) L.masks.set(o, mask);
  return outs;
}

function refreshShapes(g: Graph): void {
  inferShapes(g);
}
