// Integer-exact evaluation of a QAT model's steps: conv/dense with integer accumulation, int32
// bias and the §7 requantize, 2-input binary ops, average pooling and Concatenate (§11.4,
// §11.5, §11.7), table activations and the int8 softmax (§11.5, §11.6) — the int8 runtime's
// arithmetic (docs/quantization.md) on fake-quantized tensors, so the QAT model and the
// exported graph are one function (QatModel.forward with mode.exact).
import { tf } from '../backend/float.js';
import {
  activationBounds,
  channelLayout,
  dequantizeValue,
  fl32,
  perTensorLayout,
  requantizeMultiplier,
  weightLayout,
  type ChannelLayout,
} from '../kernels/scheme.js';
import { int32Bias, requantMultipliers } from '../quant/params.js';
import { buildLut, softmax as softmaxInt8 } from '../kernels/ops.js';
import { quantizeValues, weightParams, type FakeQuantParams } from './fake-quant.js';
import { SOFTMAX_OUT, type Quantizer } from './quantizers.js';
import { actName, geometry, pair, reluKind, transposeConv, type Step } from './topology.js';

/** What the integer-exact evaluation reads from the QAT model it evaluates. */
export interface ExactModel {
  readonly tensorQuantizer: Map<string, Quantizer>;
  quantizerParams(q: Quantizer): FakeQuantParams;
  foldedWeights(s: Step, quantize: boolean): { kernels: tf.Tensor[]; bias?: tf.Tensor };
  /** Fake-quantizes x with q, updating q's range as the forward mode says. */
  observe(q: Quantizer | undefined, x: tf.Tensor, mode: ExactMode): tf.Tensor;
  activationLayer(name: string): tf.layers.Layer;
}

/** The part of a forward mode (QatModel's ForwardMode) the exact evaluation reads. */
export interface ExactMode {
  quantize: boolean;
  observe: 'ema' | 'minmax' | 'none';
}

/** The channel layout of kernel `i` of a conv step (per tensor unless the step's config says per channel). */
export function kernelLayout(s: Step, i: number, shape: number[]): ChannelLayout {
  const w = s.weights![i]!;
  const n = shape.reduce((a, b) => a * b, 1);
  return !s.cfg!.perChannel
    ? perTensorLayout(n)
    : w.kind === 'conv1d'
      ? channelLayout(shape, shape.length - 1)
      : weightLayout(w.kind, shape);
}

/** The integer-exact forms of a QAT model's steps; undefined where a step has none (it then runs in float). */
export class IntegerExact {
  constructor(private readonly model: ExactModel) {}

  /** Integer view of a fake-quantized tensor: q − zero point (exact integers in float32). */
  private ints(x: tf.Tensor, p: FakeQuantParams): tf.Tensor {
    return tf.round(tf.div(x, p.scale));
  }

  /** §7 requantize of an integer accumulator (channels last): q − zo, as integers. */
  private requantize(
    acc: tf.Tensor,
    mult: Float32Array,
    out: FakeQuantParams,
    act: 'none' | 'relu' | 'relu6',
  ): tf.Tensor {
    const [lo, hi] = activationBounds('int8', out.zeroPoint, out.scale, act);
    const y = tf.mul(acc, mult.length === 1 ? mult[0]! : tf.tensor1d(mult));
    return tf.round(tf.clipByValue(y, lo - out.zeroPoint, hi - out.zeroPoint));
  }

  private dequantizeInts(q: tf.Tensor, p: FakeQuantParams): tf.Tensor {
    return tf.add(tf.mul(q, p.scale), 0);
  }

  /**
   * A conv step in the int8 runtime's arithmetic: integer convolution of (q − zx) and the
   * weight integers, int32 bias, §7 requantize (with the fused ReLU/ReLU6 bounds).
   * Undefined when the input is not quantized.
   */
  conv(s: Step, x: tf.Tensor, mode: ExactMode): tf.Tensor | undefined {
    const qin = this.model.tensorQuantizer.get(s.inputs[0]!);
    const out = this.model.tensorQuantizer.get(s.fusedAct?.output ?? s.bn?.output ?? s.output)!;
    if (!qin) return undefined;
    const pin = this.model.quantizerParams(qin);
    const { kernels, bias } = this.model.foldedWeights(s, false);
    const wp = kernels.map((k, i) => {
      const layout = kernelLayout(s, i, k.shape);
      const params = weightParams(k.dataSync() as Float32Array, layout, s.cfg!.weight);
      const ints = tf.tensor(
        Float32Array.from(quantizeValues(k.dataSync() as Float32Array, layout, params)),
        k.shape,
        'float32',
      );
      return { ints, scales: Float32Array.from(params, (p) => p.scale) };
    });
    const c = s.config;
    const { pad, strides, dil } = geometry(c);
    let xi = this.ints(x, pin);
    let sx = pin.scale;
    let acc: tf.Tensor;
    const last = wp[wp.length - 1]!;
    switch (s.className) {
      case 'Dense':
        acc = tf.matMul(xi as tf.Tensor2D, last.ints as tf.Tensor2D);
        break;
      case 'Conv2D':
        acc = tf.conv2d(xi as tf.Tensor4D, last.ints as tf.Tensor4D, strides, pad, 'NHWC', dil);
        break;
      case 'DepthwiseConv2D':
        acc = tf.depthwiseConv2d(xi as tf.Tensor4D, last.ints as tf.Tensor4D, strides, pad, 'NHWC', [1, 1]);
        break;
      case 'Conv1D':
        acc = tf.conv1d(xi as tf.Tensor3D, last.ints as tf.Tensor3D, strides[0], pad, 'NWC', dil[0]);
        break;
      case 'Conv2DTranspose':
        acc = transposeConv(c, xi, last.ints);
        break;
      case 'SeparableConv2D': {
        const d = tf.depthwiseConv2d(xi as tf.Tensor4D, wp[0]!.ints as tf.Tensor4D, strides, pad, 'NHWC', dil);
        const pm = this.model.quantizerParams(s.mid!);
        const C = d.shape[3]!;
        xi = this.requantize(d, requantMultipliers(sx, wp[0]!.scales, pm.scale, C), pm, 'none');
        if (mode.observe !== 'none') this.model.observe(s.mid, this.dequantizeInts(xi, pm), mode);
        sx = pm.scale;
        acc = tf.conv2d(xi as tf.Tensor4D, last.ints as tf.Tensor4D, 1, 'valid');
        break;
      }
      default:
        return undefined;
    }
    const C = acc.shape[acc.shape.length - 1]!;
    if (s.className === 'Conv1D' || s.className === 'Conv2DTranspose') {
      // The int8 node has no bias (it stays a float BiasAdd): requantize to the pre-bias parameters.
      const pt = this.model.quantizerParams(s.pre ?? out);
      let y = this.dequantizeInts(
        this.requantize(acc, requantMultipliers(sx, last.scales, pt.scale, C), pt, 'none'),
        pt,
      );
      if (!s.pre) return y;
      if (bias) y = tf.add(y, bias);
      if (s.act !== 'linear') y = this.model.activationLayer(s.act!).apply(y) as tf.Tensor;
      return this.model.observe(out, y, mode);
    }
    if (bias) acc = tf.add(acc, tf.tensor1d(Float32Array.from(int32Bias(bias.dataSync(), sx, last.scales))));
    const target = s.pre ?? out;
    const pt = this.model.quantizerParams(target);
    const act = s.pre ? 'none' : s.act === 'relu' || s.act === 'relu6' ? s.act : 'none';
    let y = this.dequantizeInts(this.requantize(acc, requantMultipliers(sx, last.scales, pt.scale, C), pt, act), pt);
    if (s.pre) {
      if (out.fixed === SOFTMAX_OUT) return this.softmax(y, pt);
      const lut = out.fixed ? undefined : this.lutKind(s);
      if (lut) return this.lut(lut.kind, lut.alpha, y, pt, out);
      y = this.model.activationLayer(s.act!).apply(y) as tf.Tensor;
      y = this.model.observe(out, y, mode);
    }
    return y;
  }

  /**
   * §11.5 table activation: the runtime's own 256-entry table (built by the native library)
   * from the input's to the output's parameters, applied to the input's integers.
   */
  private lut(
    kind: 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh',
    alpha: number,
    x: tf.Tensor,
    pin: FakeQuantParams,
    out: Quantizer,
  ): tf.Tensor {
    const po = this.model.quantizerParams(out);
    const table = buildLut(kind, {
      x: { scale: pin.scale, zeroPoint: pin.zeroPoint, type: 'int8' },
      y: { scale: po.scale, zeroPoint: po.zeroPoint, type: 'int8' },
      alpha,
    });
    const values = Float32Array.from(table, (b) => dequantizeValue((b << 24) >> 24, po.scale, po.zeroPoint));
    // Raw byte of q = (x / sx) + zx, as the runtime indexes the table.
    const idx = tf.cast(tf.mod(tf.add(this.ints(x, pin), pin.zeroPoint + 256), 256), 'int32');
    return tf.gather(tf.tensor1d(values), idx);
  }

  /** §11.6 int8 softmax (the runtime's integer algorithm) of a fake-quantized tensor; output scale 1/256, zero point −128. */
  private softmax(x: tf.Tensor, pin: FakeQuantParams): tf.Tensor {
    const q = Int8Array.from(this.ints(x, pin).dataSync(), (v) => v + pin.zeroPoint);
    const y = softmaxInt8(q, x.shape, { xScale: pin.scale, yType: 'int8' }) as Int8Array;
    return tf.tensor(
      Float32Array.from(y, (v) => dequantizeValue(v, SOFTMAX_OUT.scale, SOFTMAX_OUT.zeroPoint)),
      x.shape,
      'float32',
    );
  }

  /** The table kind of an activation step or a conv step's non-clamp activation (undefined: none). */
  private lutKind(s: Step): { kind: 'relu' | 'leakyRelu' | 'elu' | 'sigmoid' | 'tanh'; alpha: number } | undefined {
    const named = (a: string) =>
      a === 'relu' || a === 'elu' || a === 'sigmoid' || a === 'tanh' ? ({ kind: a, alpha: 0.2 } as const) : undefined;
    if (s.kind === 'conv') return s.pre ? named(s.act!) : undefined;
    if (s.className === 'Activation') return named(actName(s.config));
    if (s.className === 'ELU' && (s.config.alpha ?? 1) === 1) return { kind: 'elu', alpha: 0.2 };
    if (s.className === 'LeakyReLU')
      return { kind: 'leakyRelu', alpha: typeof s.config.alpha === 'number' ? s.config.alpha : 0.3 };
    if (
      s.className === 'ReLU' &&
      reluKind(s) === 'relu' &&
      (s.config.max_value === null || s.config.max_value === undefined)
    )
      return { kind: 'relu', alpha: 0.2 };
    return undefined;
  }

  /** 2-input Add/Subtract/Multiply/Maximum/Minimum, average pooling (§11.5, §11.4) and Concatenate (§11.7) in integer arithmetic. */
  int8Op(s: Step, ins: tf.Tensor[]): tf.Tensor | undefined {
    const out = this.model.tensorQuantizer.get(s.output);
    const qs = s.inputs.map((k) => this.model.tensorQuantizer.get(k));
    if (!out || qs.some((q) => !q)) return undefined;
    if (out.fixed)
      return out.fixed === SOFTMAX_OUT && ins.length === 1
        ? this.softmax(ins[0]!, this.model.quantizerParams(qs[0]!))
        : undefined;
    const po = this.model.quantizerParams(out);
    const pi = qs.map((q) => this.model.quantizerParams(q!));
    const lut = this.lutKind(s);
    if (lut) return this.lut(lut.kind, lut.alpha, ins[0]!, pi[0]!, out);
    const d = ins.map((t, i) => this.ints(t, pi[i]!));
    const finish = (v: tf.Tensor) =>
      this.dequantizeInts(tf.round(tf.clipByValue(v, -128 - po.zeroPoint, 127 - po.zeroPoint)), po);
    const m = (si: number) => fl32(fl32(si) / fl32(po.scale));
    if (s.className === 'GlobalAveragePooling2D' && d.length === 1) {
      const n = d[0]!.shape[1]! * d[0]!.shape[2]!;
      return finish(tf.mul(tf.sum(d[0]!, [1, 2]), fl32(m(pi[0]!.scale) / n)));
    }
    if (s.className === 'Concatenate') {
      // §11.7: inputs with the output's parameters are copied, the others rescaled.
      const same = (p: FakeQuantParams) => p.scale === po.scale && p.zeroPoint === po.zeroPoint;
      const parts = d.map((di, i) => (same(pi[i]!) ? ins[i]! : finish(tf.mul(di, m(pi[i]!.scale)))));
      return tf.concat(parts, typeof s.config.axis === 'number' ? s.config.axis : -1);
    }
    if (s.className === 'AveragePooling2D' && d.length === 1 && d[0]!.rank === 4) {
      // §11.4: S = Σ (q − zx) over the in-bounds window (exact integer sums), n in-bounds elements.
      const { pad } = geometry(s.config);
      const pool = pair(s.config.pool_size, 2);
      const strides = s.config.strides === null || s.config.strides === undefined ? pool : pair(s.config.strides, 1);
      const ones = tf.ones([pool[0], pool[1], d[0]!.shape[3]!, 1]) as tf.Tensor4D;
      const S = tf.depthwiseConv2d(d[0]! as tf.Tensor4D, ones, strides, pad);
      const n = tf.depthwiseConv2d(tf.onesLike(d[0]!) as tf.Tensor4D, ones, strides, pad);
      return finish(tf.mul(S, tf.div(m(pi[0]!.scale), n)));
    }
    if (d.length !== 2) return undefined;
    const [a, b] = [tf.mul(d[0]!, m(pi[0]!.scale)), tf.mul(d[1]!, m(pi[1]!.scale))];
    switch (s.className) {
      case 'Add':
        return finish(tf.add(a, b));
      case 'Subtract':
        return finish(tf.sub(a, b));
      case 'Maximum':
        return finish(tf.maximum(a, b));
      case 'Minimum':
        return finish(tf.minimum(a, b));
      case 'Multiply':
        return finish(tf.mul(tf.mul(d[0]!, d[1]!), requantizeMultiplier(pi[0]!.scale, pi[1]!.scale, po.scale)));
      default:
        return undefined;
    }
  }
}
