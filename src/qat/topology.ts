// The layer graph QAT evaluates: the Keras topology of a tfjs-layers model (the same one the
// graph loader lowers) as steps, one per layer application, each classified as the int8 runtime
// will run it (docs/quantization.md §12): a quantized conv/dense with its BatchNorm folded and its
// ReLU/ReLU6 fused, an int8 op with its own range, a pass-through sharing its input's range, or
// float with the reason.
import { tf } from '../backend/float.js';
import type { WeightKind } from '../kernels/scheme.js';
import {
  pickConfig,
  resolveConfig,
  type LayerQuantizeConfig,
  type QuantizeOptions,
  type ResolvedConfig,
} from './config.js';
import type { Quantizer } from './quantizers.js';

export type Json = Record<string, unknown>;

// ---- the layer graph

/** Conv-like layers whose weights are fake-quantized. */
const CONV = new Set(['Dense', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Conv1D']);
/** Layers whose output the int8 runtime computes (own range). */
const INT8 = new Set([
  'Add',
  'Subtract',
  'Multiply',
  'Maximum',
  'Minimum',
  'Average',
  'Concatenate',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'Softmax',
]);
/** Layers that only move data: output range = input range. */
const PASS = new Set([
  'MaxPooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
  'Reshape',
  'Permute',
  'ZeroPadding2D',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);
/** Activation names the int8 runtime runs (fused or as tables). */
const INT8_ACT = new Set(['relu', 'relu6', 'elu', 'sigmoid', 'tanh', 'softmax']);

export type StepKind = 'conv' | 'int8' | 'pass' | 'float' | 'folded' | 'fused';

export interface ConvWeight {
  /** 'kernel' | 'depthwise_kernel' | 'pointwise_kernel'. */
  name: string;
  variable: tf.LayerVariable;
  kind: WeightKind | 'conv1d';
}

export interface Step {
  index: number;
  layer: tf.layers.Layer;
  className: string;
  name: string;
  /** Application index of the layer (0 for the first call). */
  app: number;
  /** Name prefix of the graph nodes lowered from this application. */
  prefix: string;
  config: Json;
  inputs: string[];
  output: string;
  kind: StepKind;
  /** Why a step stays float. */
  reason?: string;
  cfg?: ResolvedConfig;
  // conv steps
  weights?: ConvWeight[];
  bias?: tf.LayerVariable;
  bn?: Step;
  fusedAct?: Step;
  /** Effective activation of a conv step (own, or a fused ReLU/ReLU6 layer's). */
  act?: string;
  /** Quantizer before the activation (non-fusable activations) or before the bias (Conv1D, Conv2DTranspose). */
  pre?: Quantizer;
  /** SeparableConv2D: the depthwise output. */
  mid?: Quantizer;
}

export interface QatReport {
  /** Layers quantized (weights and/or output). */
  quantized: string[];
  /** BatchNormalization layers folded into the preceding layer. */
  folded: { layer: string; into: string }[];
  /** Layers left float, with the reason. */
  float: { layer: string; reason: string }[];
}

export function actName(c: Json): string {
  const a = c.activation;
  if (a === undefined || a === null) return 'linear';
  if (typeof a === 'string') return a;
  if (typeof a === 'object' && typeof (a as Json).class_name === 'string')
    return String((a as Json).class_name).toLowerCase();
  return 'unknown';
}

export function reluKind(s: Step): 'relu' | 'relu6' | undefined {
  if (s.className === 'Activation') {
    const a = actName(s.config);
    return a === 'relu' || a === 'relu6' ? a : undefined;
  }
  if (s.className === 'ReLU') {
    const c = s.config;
    if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return undefined;
    const mv = c.max_value;
    return mv === null || mv === undefined ? 'relu' : mv === 6 ? 'relu6' : undefined;
  }
  return undefined;
}

/** The original tfjs-layers topology as JSON (what model.save writes). */
function topology(model: tf.LayersModel): Json {
  return model.toJSON(null, false) as unknown as Json;
}

/** The steps of a model in evaluation order, with its input and output tensor keys (layer@application). */
export interface LayerGraph {
  readonly model: tf.LayersModel;
  readonly steps: Step[];
  /** Model input keys, in order. */
  readonly inputs: string[];
  readonly outputs: string[];
  /** Graph input names of the lowered model (same order as inputs). */
  readonly inputNames: string[];
}

export function buildLayerGraph(model: tf.LayersModel): LayerGraph {
  const g: LayerGraph = { model, steps: [], inputs: [], outputs: [], inputNames: [] };
  buildSteps(g, topology(model));
  return g;
}

function buildSteps(g: LayerGraph, topo: Json): void {
  const cls = String(topo.class_name);
  const cfg = topo.config as Json | Json[];
  if (cls === 'Sequential') {
    const layers = (Array.isArray(cfg) ? cfg : (cfg.layers as Json[])) ?? [];
    let cur: string | undefined;
    for (const [i, l] of layers.entries()) {
      const lc = (l.config ?? {}) as Json;
      const name = String(lc.name ?? `${String(l.class_name)}_${i}`);
      if (cur === undefined) {
        const inName = l.class_name === 'InputLayer' ? name : `${name}_input`;
        cur = `${inName}@0`;
        g.inputs.push(cur);
        g.inputNames.push(inName);
      }
      if (l.class_name === 'InputLayer') continue;
      cur = addStep(g, String(l.class_name), name, 0, name, lc, [cur]);
    }
    g.outputs.push(cur!);
    return;
  }
  // Functional: the loader's traversal (inbound nodes in config order, deferred until their inputs exist).
  const c = cfg as Json;
  const layers = c.layers as Json[];
  const apps = new Map<string, number>();
  const known = new Set<string>();
  for (const l of layers) {
    const name = String(l.name ?? (l.config as Json)?.name);
    const lcls = String(l.class_name);
    apps.set(name, lcls === 'InputLayer' || lcls === 'Sequential' || lcls === 'Model' || lcls === 'Functional' ? 1 : 0);
  }
  for (const ref of c.input_layers as unknown[][]) {
    const key = `${String(ref[0])}@0`;
    g.inputs.push(key);
    g.inputNames.push(String(ref[0]));
    known.add(key);
  }
  const queue: [Json, unknown[]][] = [];
  for (const l of layers) {
    if (l.class_name === 'InputLayer') continue;
    for (const nd of (l.inbound_nodes as unknown[][] | undefined) ?? []) queue.push([l, nd]);
  }
  let progress = true;
  while (queue.length && progress) {
    progress = false;
    for (let qi = 0; qi < queue.length; qi++) {
      const [l, nd] = queue[qi]!;
      const refs = nd.map((r) => r as unknown[]);
      if (refs.some((r) => Number(r[2]) !== 0))
        throw new RangeError(
          `layer '${String(l.name)}' reads output ${String(refs.find((r) => Number(r[2]) !== 0)![2])} of a multi-output layer: not supported`,
        );
      const ins = refs.map((r) => `${String(r[0])}@${Number(r[1])}`);
      if (!ins.every((k) => known.has(k))) continue;
      queue.splice(qi--, 1);
      progress = true;
      const name = String(l.name);
      const app = apps.get(name)!;
      apps.set(name, app + 1);
      const out = addStep(
        g,
        String(l.class_name),
        name,
        app,
        app ? `${name}_${app}` : name,
        (l.config ?? {}) as Json,
        ins,
      );
      known.add(out);
    }
  }
  if (queue.length)
    throw new RangeError(`the model's topology cannot be ordered (layer '${String(queue[0]![0].name)}')`);
  for (const ref of c.output_layers as unknown[][]) g.outputs.push(`${String(ref[0])}@${Number(ref[1])}`);
}

function addStep(
  g: LayerGraph,
  className: string,
  name: string,
  app: number,
  prefix: string,
  config: Json,
  inputs: string[],
): string {
  const output = `${name}@${app}`;
  g.steps.push({
    index: g.steps.length,
    layer: g.model.getLayer(name),
    className,
    name,
    app,
    prefix,
    config,
    inputs,
    output,
    kind: 'float',
  });
  return output;
}

/** The steps that read `key`. */
export function consumers(g: LayerGraph, key: string): Step[] {
  return g.steps.filter((s) => s.inputs.includes(key));
}

/**
 * Decides what each step becomes: a quantized conv (with its BatchNorm folded and its ReLU fused), an
 * int8 op, a pass-through, or float (with the reason, also recorded in `report`).
 */
export function classifySteps(
  g: LayerGraph,
  options: QuantizeOptions,
  annotated: boolean,
  disabled: Set<string>,
  report: QatReport,
): void {
  const base = pickConfig(options);
  const layerCfg = (s: Step): LayerQuantizeConfig | false | undefined => options.layers?.[s.name];
  const apps = new Map<string, number>();
  for (const s of g.steps) apps.set(s.name, (apps.get(s.name) ?? 0) + 1);
  const fold = options.foldBatchNorm ?? true;
  for (const s of g.steps) {
    if (s.kind !== 'float' || s.reason) continue;
    const over = layerCfg(s);
    if (over === false && !(annotated && PASS.has(s.className))) {
      s.reason = annotated ? 'not annotated' : 'disabled by options.layers';
      continue;
    }
    s.cfg = resolveConfig(base, over || undefined);
    if (CONV.has(s.className)) {
      const why = convSupport(s, apps);
      if (why) {
        s.reason = why;
        continue;
      }
      s.kind = 'conv';
      s.act = actName(s.config);
      const unfusedBias = s.className === 'Conv1D' || s.className === 'Conv2DTranspose';
      let tail = s.output;
      // BatchNormalization right after (the conv's sole reader, linear activation): fold it.
      const c1 = consumers(g, tail);
      if (
        fold &&
        s.act === 'linear' &&
        c1.length === 1 &&
        c1[0]!.className === 'BatchNormalization' &&
        !g.outputs.includes(tail) &&
        bnFoldable(c1[0]!, apps, disabled)
      ) {
        s.bn = c1[0]!;
        s.bn.kind = 'folded';
        s.bn.cfg = s.cfg;
        report.folded.push({ layer: s.bn.name, into: s.name });
        tail = s.bn.output;
      }
      // ReLU / ReLU6 right after: fused (no quantization point between).
      const c2 = consumers(g, tail);
      if (
        !unfusedBias &&
        s.act === 'linear' &&
        c2.length === 1 &&
        !g.outputs.includes(tail) &&
        reluKind(c2[0]!) &&
        apps.get(c2[0]!.name) === 1 &&
        !disabled.has(c2[0]!.name)
      ) {
        s.fusedAct = c2[0]!;
        s.fusedAct.kind = 'fused';
        s.fusedAct.cfg = s.cfg;
        s.act = reluKind(c2[0]!)!;
      }
      continue;
    }
    if (INT8.has(s.className) || (s.className === 'UpSampling2D' && s.config.interpolation === 'bilinear')) {
      s.kind = 'int8';
      continue;
    }
    if (s.className === 'Activation') {
      const a = actName(s.config);
      s.kind = a === 'linear' ? 'pass' : INT8_ACT.has(a) ? 'int8' : 'float';
      if (s.kind === 'float') s.reason = `activation '${a}' has no int8 kernel`;
      continue;
    }
    if (PASS.has(s.className) || s.className === 'UpSampling2D') {
      s.kind = 'pass';
      continue;
    }
    s.reason =
      s.className === 'BatchNormalization'
        ? 'BatchNormalization not after a linear conv/dense (cannot be folded)'
        : `layer class '${s.className}' has no int8 kernel`;
  }
  for (const s of g.steps) {
    if (s.kind === 'float') report.float.push({ layer: s.name, reason: s.reason ?? 'float' });
    else if (s.kind !== 'folded' && s.kind !== 'pass') report.quantized.push(s.name);
  }
}

function convSupport(s: Step, apps: Map<string, number>): string | undefined {
  const c = s.config;
  if (c.data_format !== undefined && c.data_format !== null && c.data_format !== 'channels_last')
    return 'channels_first data format';
  if (c.padding === 'causal') return 'causal padding';
  if (s.className === 'Dense') {
    const shape = s.layer.getInputAt(0) as tf.SymbolicTensor;
    if (shape.shape.length !== 2) return 'Dense on a rank > 2 input';
  }
  if (apps.get(s.name)! > 1) return 'shared layer (applied more than once)';
  const w = (n: string) => s.layer.weights.find((v) => shortName(v) === n);
  const kinds: Record<string, [string, WeightKind | 'conv1d'][]> = {
    Dense: [['kernel', 'dense']],
    Conv2D: [['kernel', 'conv2d']],
    Conv1D: [['kernel', 'conv1d']],
    DepthwiseConv2D: [['depthwise_kernel', 'depthwiseConv2d']],
    Conv2DTranspose: [['kernel', 'conv2dTranspose']],
    SeparableConv2D: [
      ['depthwise_kernel', 'depthwiseConv2d'],
      ['pointwise_kernel', 'conv2d'],
    ],
  };
  const ws: ConvWeight[] = [];
  for (const [n, kind] of kinds[s.className]!) {
    const v = w(n);
    if (!v) return `no weight '${n}'`;
    ws.push({ name: n, variable: v, kind });
  }
  s.weights = ws;
  s.bias = c.use_bias === false ? undefined : w('bias');
  return undefined;
}

function bnFoldable(bn: Step, apps: Map<string, number>, disabled: Set<string>): boolean {
  if (apps.get(bn.name) !== 1 || disabled.has(bn.name)) return false;
  const axis = bn.config.axis;
  const ax = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : 0) : (axis ?? -1);
  const rank = (bn.layer.getInputAt(0) as tf.SymbolicTensor).shape.length;
  return ax === -1 || ax === rank - 1;
}

export function pair(v: unknown, d: number): [number, number] {
  return v === undefined || v === null ? [d, d] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number];
}

/** Padding, strides and dilation of a conv layer config (Keras defaults). */
export function geometry(c: Json): { pad: 'same' | 'valid'; strides: [number, number]; dil: [number, number] } {
  return {
    pad: (c.padding ?? 'valid') as 'same' | 'valid',
    strides: pair(c.strides, 1),
    dil: pair(c.dilation_rate, 1),
  };
}

/** 'conv1/kernel' → 'kernel' (a tfjs uniquifying suffix such as 'kernel_1' is dropped). */
export function shortName(v: tf.LayerVariable): string {
  return (v.originalName ?? v.name).split('/').pop()!.replace(/_\d+$/, '');
}

/** Keras Conv2DTranspose: output size as tfjs-layers computes it. */
export function transposeConv(c: Json, x: tf.Tensor, k: tf.Tensor): tf.Tensor {
  const { pad, strides } = geometry(c);
  const [kh, kw] = pair(c.kernel_size, 1);
  const len = (d: number, st: number, kk: number) => (pad === 'same' ? d * st : d * st + Math.max(kk - st, 0));
  return tf.conv2dTranspose(
    x as tf.Tensor4D,
    k as tf.Tensor4D,
    [x.shape[0]!, len(x.shape[1]!, strides[0], kh), len(x.shape[2]!, strides[1], kw), k.shape[2]!],
    strides,
    pad,
  );
}
