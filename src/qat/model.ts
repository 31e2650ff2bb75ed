// The QAT model: evaluates a tfjs-layers model's layer graph (topology.ts) with fake-quantized
// weights and activations at the int8 runtime's quantization points (quantizers.ts), and trains
// the model's own variables through them (fit), so the float model stays usable.
//
// Choices: weights are fake-quantized from their current min/max (per output channel,
// symmetric narrow range by default: TF-MOT's LastValueQuantizer); activations use
// moving-average ranges (first batch sets them, decay 0.99, optionally frozen after N steps).
// BatchNorm is folded with its frozen moving statistics (gamma and beta still train through
// the fold): W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β, the folded W' fake-quantized.
// Inference (predict/evaluate) evaluates conv/dense, binary ops and global pooling in the
// int8 runtime's integer arithmetic (integer-exact.ts), so the QAT model and the exported graph
// are one function.
import { tf } from '../backend/float.js';
import { assertFinite, assertInt, assertOneOf } from '../native/validate.js';
import type { ChannelLayout } from '../kernels/scheme.js';
import { permutation, seededRandom } from '../data/random.js';
import { checkLayerConfig, pickConfig, type QuantizeOptions } from './config.js';
import { KernelConstraints } from './constraints.js';
import { fakeQuant, fakeQuantParams, RangeTracker, weightParams, type FakeQuantParams } from './fake-quant.js';
import { IntegerExact, kernelLayout, type ExactMode } from './integer-exact.js';
import { assignQuantizers, type Quantizer } from './quantizers.js';
import {
  actName,
  buildLayerGraph,
  classifySteps,
  geometry,
  shortName,
  transposeConv,
  type ConvWeight,
  type QatReport,
  type Step,
} from './topology.js';

export interface ForwardMode {
  training: boolean;
  /** Fake quantization on (false: the float model with BatchNorm folded). */
  quantize: boolean;
  /** Range updates: moving average (training), min/max accumulation (calibrate), none. */
  observe: 'ema' | 'minmax' | 'none';
  /**
   * Integer-exact evaluation of conv/dense (integer accumulation, int32 bias, §7 requantize),
   * 2-input Add/Subtract/Multiply/Maximum/Minimum (§11.5), average pooling (§11.4) and
   * Concatenate (§11.7):
   * the int8 runtime's own arithmetic, bit for bit, instead of float ops followed by fake
   * quantization (equal up to rounding-boundary cases). Inference only.
   */
  exact?: boolean;
}

export interface FitOptions {
  epochs: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  /** Default 1e-4 for adam, 1e-3 for sgd (fine-tuning rates). */
  learningRate?: number;
  momentum?: number;
  seed?: number;
  /**
   * Loss on one-hot labels. Default: softmax cross-entropy on the logits — the input of the
   * output softmax when the model ends with one, else the model's output itself.
   * A function receives (labels, outputs) and returns a scalar.
   */
  loss?: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
  /** Fake quantization in the loop (default true); false fine-tunes the folded float model the same way (a baseline). */
  quantize?: boolean;
  onBatchEnd?: (p: { epoch: number; batch: number; batches: number; loss: number }) => void;
  onEpochEnd?: (p: { epoch: number; epochs: number; loss: number; seconds: number }) => void;
}

export class QatModel {
  readonly steps: Step[];
  /** Model input keys, in order. */
  readonly inputs: string[];
  readonly outputs: string[];
  /** Graph input names of the lowered model (same order as inputs). */
  readonly inputNames: string[];
  readonly quantizers: Quantizer[];
  /** Quantizer of each tensor key (shared by pass-through ops). */
  readonly tensorQuantizer: Map<string, Quantizer>;
  readonly report: QatReport = { quantized: [], folded: [], float: [] };
  readonly options: QuantizeOptions;
  /** Training steps taken. */
  step = 0;
  /** PQAT / CQAT structure of the quantized kernels. */
  private readonly constraints: KernelConstraints;
  private actLayers = new Map<string, tf.layers.Layer>();
  /** Logits of the output softmax of the last forward pass (for the training loss). */
  private logits: tf.Tensor | undefined;
  /** The integer-exact forms of the steps (mode.exact). */
  private readonly exact = new IntegerExact(this);

  constructor(
    readonly model: tf.LayersModel,
    options: QuantizeOptions,
    annotated: boolean,
    disabled?: Set<string>,
  ) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkLayerConfig(pickConfig(options), 'options');
    const names = new Set(model.layers.map((l) => l.name));
    for (const [name, c] of Object.entries(options.layers ?? {})) {
      if (!names.has(name)) throw new RangeError(`options.layers names '${name}', which is not a layer of the model`);
      if (c !== false) checkLayerConfig(c, `options.layers['${name}']`);
    }
    if (options.emaDecay !== undefined) assertFinite(options.emaDecay, 'options.emaDecay');
    if (options.freezeRangesAfter !== undefined && options.freezeRangesAfter !== Infinity)
      assertInt(options.freezeRangesAfter, 'options.freezeRangesAfter', 0);
    for (const k of ['foldBatchNorm', 'preserveSparsity', 'preserveClusters'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean')
        throw new TypeError(`options.${k} must be a boolean`);
    }
    new RangeTracker(options.emaDecay ?? 0.99, options.freezeRangesAfter ?? Infinity); // validates
    this.options = options;
    // Layers the user disabled explicitly (never folded or fused into a quantized layer).
    const off =
      disabled ??
      new Set(
        Object.entries(options.layers ?? {})
          .filter(([, c]) => c === false)
          .map(([n]) => n),
      );
    const graph = buildLayerGraph(model);
    this.steps = graph.steps;
    this.inputs = graph.inputs;
    this.outputs = graph.outputs;
    this.inputNames = graph.inputNames;
    classifySteps(graph, options, annotated, off, this.report);
    const assigned = assignQuantizers(graph, options);
    this.quantizers = assigned.quantizers;
    this.tensorQuantizer = assigned.tensorQuantizer;
    this.constraints = new KernelConstraints(this.quantizedKernels(), options);
  }

  // -- structure

  /** Kernels of quantized conv steps. */
  quantizedKernels(): { step: Step; weight: ConvWeight }[] {
    return this.steps
      .filter((s) => s.kind === 'conv')
      .flatMap((s) => s.weights!.map((weight) => ({ step: s, weight })));
  }

  // -- evaluation

  /** A tfjs activation layer by name, made once (also for the integer-exact evaluation). */
  activationLayer(name: string): tf.layers.Layer {
    let l = this.actLayers.get(name);
    if (!l) {
      l = tf.layers.activation({ activation: name as 'relu' });
      this.actLayers.set(name, l);
    }
    return l;
  }

  private params(q: Quantizer): FakeQuantParams {
    if (q.fixed) return q.fixed;
    if (!q.tracker.initialized)
      throw new RangeError(`activation range of '${q.tensor}' is not initialised: call calibrate() or fit() first`);
    return fakeQuantParams(q.tracker.min, q.tracker.max, q.spec);
  }

  /** Current quantization parameters of an activation quantizer. */
  quantizerParams(q: Quantizer): FakeQuantParams {
    return this.params(q);
  }

  /** Fake-quantizes x with q (undefined: x as is), updating q's range as mode.observe says. */
  observe(q: Quantizer | undefined, x: tf.Tensor, mode: ExactMode): tf.Tensor {
    if (!q || !mode.quantize) return x;
    if (!q.fixed && mode.observe !== 'none' && !q.tracker.frozen) {
      const lo = tf.min(x),
        hi = tf.max(x);
      const l = lo.dataSync()[0]!,
        h = hi.dataSync()[0]!;
      tf.dispose([lo, hi]);
      if (mode.observe === 'ema') q.tracker.observe(l, h);
      else {
        q.calib = q.calib ? [Math.min(q.calib[0], l), Math.max(q.calib[1], h)] : [l, h];
        q.tracker.set(q.calib[0], q.calib[1]);
      }
    }
    return fakeQuant(x, [this.params(q)]);
  }

  /**
   * The effective (BatchNorm-folded) kernels and bias of a conv step, as tensors. With
   * `quantize`, kernels are fake-quantized; `params` receives their parameters and layouts.
   */
  foldedWeights(
    s: Step,
    quantize: boolean,
    params?: { params: FakeQuantParams[]; layout: ChannelLayout }[],
  ): { kernels: tf.Tensor[]; bias?: tf.Tensor } {
    let kernels = s.weights!.map((w) => w.variable.read() as tf.Tensor);
    let bias: tf.Tensor | undefined = s.bias?.read();
    if (s.bn) {
      const bw = (n: string) => s.bn!.layer.weights.find((v) => shortName(v) === n)?.read();
      const mean = bw('moving_mean')!,
        variance = bw('moving_variance')!;
      const eps = typeof s.bn.config.epsilon === 'number' ? s.bn.config.epsilon : 1e-3;
      const gamma = s.bn.config.scale === false ? undefined : bw('gamma');
      const beta = s.bn.config.center === false ? undefined : bw('beta');
      const inv = tf.rsqrt(tf.add(variance, eps));
      const scale = gamma ? tf.mul(inv, gamma) : inv;
      const last = kernels.length - 1;
      const k = kernels[last]!;
      const kind = s.weights![last]!.kind;
      const shaped =
        kind === 'depthwiseConv2d'
          ? tf.reshape(scale, [k.shape[2]!, k.shape[3]!])
          : kind === 'conv2dTranspose'
            ? tf.reshape(scale, [k.shape[2]!, 1])
            : scale;
      kernels = kernels.map((kk, i) => (i === last ? tf.mul(kk, shaped) : kk));
      const centered = bias ? tf.sub(bias, mean) : tf.neg(mean);
      bias = tf.mul(centered, scale);
      if (beta) bias = tf.add(bias, beta);
    }
    if (quantize) {
      kernels = kernels.map((k, i) => {
        const layout = kernelLayout(s, i, k.shape);
        const p = weightParams(k.dataSync() as Float32Array, layout, s.cfg!.weight);
        params?.push({ params: p, layout });
        return fakeQuant(k, p, layout);
      });
    }
    return { kernels, bias };
  }

  private convForward(s: Step, x: tf.Tensor, mode: ForwardMode): tf.Tensor {
    const c = s.config;
    const { kernels, bias } = this.foldedWeights(s, mode.quantize);
    const { pad, strides, dil } = geometry(c);
    let y: tf.Tensor;
    switch (s.className) {
      case 'Dense':
        y = tf.matMul(x as tf.Tensor2D, kernels[0] as tf.Tensor2D);
        break;
      case 'Conv2D':
        y = tf.conv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, strides, pad, 'NHWC', dil);
        break;
      case 'Conv1D':
        y = tf.conv1d(x as tf.Tensor3D, kernels[0] as tf.Tensor3D, strides[0], pad, 'NWC', dil[0]);
        break;
      case 'DepthwiseConv2D':
        y = tf.depthwiseConv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, strides, pad, 'NHWC', [1, 1]);
        break;
      case 'SeparableConv2D': {
        const d = this.observe(
          s.mid,
          tf.depthwiseConv2d(x as tf.Tensor4D, kernels[0] as tf.Tensor4D, strides, pad, 'NHWC', dil),
          mode,
        );
        y = tf.conv2d(d as tf.Tensor4D, kernels[1] as tf.Tensor4D, 1, 'valid');
        break;
      }
      case 'Conv2DTranspose':
        y = transposeConv(c, x, kernels[0]!);
        break;
      default:
        throw new Error(`unreachable: ${s.className}`);
    }
    const act = s.act!;
    const unfusedBias = s.className === 'Conv1D' || s.className === 'Conv2DTranspose';
    if (unfusedBias) y = this.observe(s.pre, y, mode);
    if (bias) y = tf.add(y, bias);
    if (!unfusedBias && s.pre) {
      const logits = this.observe(s.pre, y, mode);
      y = this.activationLayer(act).apply(logits) as tf.Tensor;
      if (act === 'softmax') this.logits = logits;
    } else if (act !== 'linear') {
      y =
        act === 'relu' ? tf.relu(y) : act === 'relu6' ? tf.relu6(y) : (this.activationLayer(act).apply(y) as tf.Tensor);
    }
    return y;
  }

  /** Runs the model. Returns the outputs in order. */
  forward(xs: tf.Tensor[], mode: ForwardMode): tf.Tensor[] {
    if (xs.length !== this.inputs.length)
      throw new RangeError(`the model takes ${this.inputs.length} inputs, got ${xs.length}`);
    this.logits = undefined;
    const env = new Map<string, tf.Tensor>();
    this.inputs.forEach((k, i) => env.set(k, this.observe(this.tensorQuantizer.get(k), xs[i]!, mode)));
    for (const s of this.steps) {
      if (s.kind === 'folded' || s.kind === 'fused') continue;
      const ins = s.inputs.map((k) => env.get(k)!);
      let y: tf.Tensor;
      let out = s.output;
      const exact =
        mode.exact && mode.quantize
          ? s.kind === 'conv'
            ? this.exact.conv(s, ins[0]!, mode)
            : s.kind === 'int8'
              ? this.exact.int8Op(s, ins)
              : undefined
          : undefined;
      if (exact) {
        out = s.kind === 'conv' ? (s.fusedAct?.output ?? s.bn?.output ?? s.output) : s.output;
        env.set(out, exact);
        continue;
      }
      if (s.kind === 'conv') {
        y = this.convForward(s, ins[0]!, mode);
        out = s.fusedAct?.output ?? s.bn?.output ?? s.output;
        if (s.fusedAct) env.set(s.output, y);
        if (s.bn) env.set(s.bn.output, y);
      } else {
        const training = mode.training && s.className !== 'BatchNormalization';
        const arg = ins.length === 1 ? ins[0]! : ins;
        if (s.className === 'Softmax' || (s.className === 'Activation' && actName(s.config) === 'softmax'))
          this.logits = ins[0];
        y = s.layer.apply(arg, { training }) as tf.Tensor;
      }
      if (s.kind !== 'pass' || this.tensorQuantizer.get(out) !== this.tensorQuantizer.get(s.inputs[0]!)) {
        y = this.observe(this.tensorQuantizer.get(out), y, mode);
      }
      env.set(out, y);
    }
    return this.outputs.map((k) => env.get(k)!);
  }

  /**
   * Inference with fake quantization (the int8 model's numerics), in batches. `exact`
   * (default true) evaluates conv/dense, binary ops and global pooling in the int8 runtime's
   * integer arithmetic; false uses the float ops of training followed by fake quantization.
   */
  predict(x: tf.Tensor, options: { batchSize?: number; quantize?: boolean; exact?: boolean } = {}): tf.Tensor {
    const bs = options.batchSize ?? 256;
    assertInt(bs, 'batchSize', 1);
    const mode: ForwardMode = {
      training: false,
      quantize: options.quantize ?? true,
      observe: 'none',
      exact: options.exact ?? true,
    };
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < x.shape[0]!; s += bs) {
      parts.push(tf.tidy(() => this.forward([x.slice(s, Math.min(bs, x.shape[0]! - s))], mode)[0]!));
    }
    const out = parts.length === 1 ? parts[0]! : tf.concat(parts);
    if (parts.length > 1) tf.dispose(parts);
    return out;
  }

  /** Sets every activation range to the min/max over `x` (post-training calibration; used before fit too). */
  calibrate(x: tf.Tensor, options: { batchSize?: number } = {}): void {
    const bs = options.batchSize ?? 256;
    assertInt(bs, 'batchSize', 1);
    for (const q of this.quantizers) q.calib = undefined;
    const mode: ForwardMode = { training: false, quantize: true, observe: 'minmax' };
    for (let s = 0; s < x.shape[0]!; s += bs) {
      tf.tidy(() => {
        this.forward([x.slice(s, Math.min(bs, x.shape[0]! - s))], mode);
      });
    }
  }

  /** The trainable variables (the model's own). */
  trainableVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** One training step on a batch (categorical cross-entropy on one-hot y); returns the loss. */
  trainStep(xb: tf.Tensor, yb: tf.Tensor, optimizer: tf.Optimizer, loss?: FitOptions['loss'], quantize = true): number {
    const vars = this.trainableVariables();
    const { value, grads } = tf.variableGrads(() => {
      const p = this.forward([xb], { training: true, quantize, observe: 'ema' })[0]!;
      if (loss) return loss(yb, p);
      return tf.losses.softmaxCrossEntropy(yb, this.logits ?? p) as tf.Scalar;
    }, vars);
    this.logits = undefined;
    optimizer.applyGradients(grads);
    const l = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    this.constraints.apply();
    this.step++;
    return l;
  }

  /** Quantization-aware fine-tuning (seeded shuffles). Returns the mean loss of each epoch. */
  async fit(x: tf.Tensor, y: tf.Tensor, options: FitOptions): Promise<number[]> {
    assertInt(options.epochs, 'epochs', 0, 10_000);
    const batchSize = options.batchSize ?? 64;
    assertInt(batchSize, 'batchSize', 1, 1 << 20);
    const opt = options.optimizer ?? 'adam';
    assertOneOf(opt, ['adam', 'sgd'] as const, 'optimizer');
    const lr = options.learningRate ?? (opt === 'adam' ? 1e-4 : 1e-3);
    assertFinite(lr, 'learningRate');
    if (x.shape[0] !== y.shape[0]) throw new RangeError(`x has ${x.shape[0]} examples but y has ${y.shape[0]}`);
    if (options.loss !== undefined && typeof options.loss !== 'function')
      throw new TypeError('options.loss must be a function (yTrue, yPred) => scalar');
    if (options.quantize !== undefined && typeof options.quantize !== 'boolean')
      throw new TypeError('options.quantize must be a boolean');
    const optimizer = opt === 'adam' ? tf.train.adam(lr) : tf.train.momentum(lr, options.momentum ?? 0.9);
    const rng = seededRandom(options.seed ?? 1);
    const n = x.shape[0]!;
    const batches = Math.ceil(n / batchSize);
    const losses: number[] = [];
    this.constraints.apply();
    try {
      for (let epoch = 0; epoch < options.epochs; epoch++) {
        const t0 = performance.now();
        const perm = permutation(n, rng);
        let sum = 0;
        for (let b = 0; b < batches; b++) {
          const idx = tf.tensor1d(perm.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize)), 'int32');
          const xb = tf.gather(x, idx),
            yb = tf.gather(y, idx);
          try {
            sum += this.trainStep(xb, yb, optimizer, options.loss, options.quantize ?? true);
          } finally {
            tf.dispose([idx, xb, yb]);
          }
          options.onBatchEnd?.({ epoch: epoch + 1, batch: b + 1, batches, loss: sum / (b + 1) });
          if (b % 16 === 15) await new Promise((r) => setImmediate(r));
        }
        losses.push(sum / batches);
        options.onEpochEnd?.({
          epoch: epoch + 1,
          epochs: options.epochs,
          loss: sum / batches,
          seconds: (performance.now() - t0) / 1000,
        });
      }
    } finally {
      optimizer.dispose();
    }
    return losses;
  }

  /** Top-1 accuracy of the fake-quantized (or float, quantize: false) model. */
  evaluate(
    x: tf.Tensor,
    labels: ArrayLike<number>,
    options: { quantize?: boolean; batchSize?: number; exact?: boolean } = {},
  ): number {
    const p = this.predict(x, options);
    const am = p.argMax(-1);
    const a = am.dataSync();
    tf.dispose([p, am]);
    let ok = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === labels[i]) ok++;
    return a.length ? ok / a.length : 0;
  }
}
