// TF.js layers models (Keras topology: Sequential, functional, nested models, shared layers)
// lowered into the graph IR: every Keras layer becomes the TF ops tfjs-layers runs for it
// at inference (same ops, same order, so execution is bit-identical to model.predict),
// with its weights as constants.
import { addConstant, createGraph, uniqueName, type Attrs, type FusedActivation, type Graph } from './ir.js';
import type { DType } from '../io/weights.js';
import { inferShapes } from './shape-inference.js';
import {
  activation,
  activationName,
  err,
  intConst,
  node,
  obj,
  scalarConst,
  shapeOf,
  weight,
  type Json,
  type LayersLoadContext,
  type Lowering,
} from './layers-lowering.js';
import { lowerBidirectional, lowerEmbedding, lowerRecurrent, RECURRENT_CLASSES } from './lower-recurrent.js';

export type { LayersLoadContext } from './layers-lowering.js';

interface LayerState {
  cfg: Json;
  className: string;
  name: string;
  /** Outputs of each application ("inbound node") of the layer, tfjs's node order. */
  nodes: string[][];
}

export function isLayersModelJson(json: Json): boolean {
  const t = json.modelTopology as Json | undefined;
  if (json.format === 'layers-model') return true;
  return (
    !!t &&
    typeof t === 'object' &&
    (typeof t.class_name === 'string' || typeof (t.model_config as Json | undefined)?.class_name === 'string')
  );
}

/** Lowers a layers-model topology into the IR. */
export function loadLayersModelIR(json: Json, ctx: LayersLoadContext): Graph {
  let topo = obj(json.modelTopology, 'modelTopology', ctx.file);
  if (topo.model_config !== undefined) topo = obj(topo.model_config, 'modelTopology.model_config', ctx.file);
  const cfg = obj(topo.config, 'modelTopology.config', ctx.file);
  const g = createGraph(typeof cfg.name === 'string' ? cfg.name : 'model');
  const L: Lowering = { g, ctx, weightConst: new Map(), shared: new Map(), masks: new Map() };
  const outs = lowerModel(L, String(topo.class_name), topo.config, undefined, '');
  g.outputs = outs;
  g.source = undefined;
  // Keras models have no signature; tfjs names their outputs by the output layers
  // (LayersModel.outputNames) and their inputs by the input layers: those are the keys a user
  // knows, the tensor names are what the IR computes.
  const outKeys = outputLayerNames(String(topo.class_name), topo.config, outs.length);
  g.signature = {
    inputs: g.inputs.map((i) => ({ key: i.name, name: i.name })),
    outputs: outs.map((o, i) => ({ key: outKeys[i] ?? o, name: o })),
  };
  return g;
}

/** The names tfjs gives a layers model's outputs: its output layers' names, made unique as tfjs-layers does. */
function outputLayerNames(className: string, config: unknown, count: number): string[] {
  let names: string[] = [];
  if (className === 'Sequential') {
    const layers = Array.isArray(config) ? config : ((config as Json | undefined)?.layers as unknown[] | undefined);
    const last = Array.isArray(layers) ? (layers[layers.length - 1] as Json | undefined) : undefined;
    const n = (last?.config as Json | undefined)?.name;
    if (typeof n === 'string') names = [n];
  } else {
    const refs = (config as Json | undefined)?.output_layers;
    if (Array.isArray(refs)) names = refs.map((r) => (Array.isArray(r) ? String(r[0]) : ''));
  }
  if (names.length !== count || names.some((n) => !n)) return [];
  // A layer output twice gets '_1', '_2', … on its later uses (tfjs-layers' Container does the same).
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k}`;
  });
}

function isModelClass(c: string): boolean {
  return c === 'Sequential' || c === 'Model' || c === 'Functional';
}

/**
 * Lowers a (possibly nested) model. `inputs` are the tensors feeding it (undefined at top
 * level: its InputLayers become graph inputs). Returns its output tensors.
 */
function lowerModel(
  L: Lowering,
  className: string,
  config: unknown,
  inputs: string[] | undefined,
  prefix: string,
): string[] {
  const file = L.ctx.file;
  if (className === 'Sequential') {
    const layers = Array.isArray(config) ? config : (obj(config, 'Sequential config', file).layers as unknown);
    if (!Array.isArray(layers) || layers.length === 0) err('Sequential model has no layers', file);
    let cur: string[] | undefined = inputs;
    for (const [i, raw] of layers.entries()) {
      const l = obj(raw, `layers[${i}]`, file);
      const cls = String(l.class_name);
      const lc = obj(l.config ?? {}, `layers[${i}].config`, file);
      const name = typeof lc.name === 'string' ? lc.name : `${cls}_${i}`;
      if (cur === undefined) {
        const bis =
          lc.batch_input_shape ??
          (Array.isArray(lc.input_shape) ? [null, ...(lc.input_shape as unknown[])] : undefined);
        if (!Array.isArray(bis)) err('the first layer of a Sequential model needs batch_input_shape', file, name);
        const inName = cls === 'InputLayer' ? name : `${name}_input`;
        cur = [addInput(L, prefix + inName, bis, lc.dtype, name)];
        if (cls === 'InputLayer') continue;
      }
      if (cls === 'InputLayer') continue;
      cur = lowerLayer(L, cls, lc, cur, prefix + name, name);
    }
    return cur!;
  }
  if (className === 'Model' || className === 'Functional') {
    const c = obj(config, `${className} config`, file);
    if (!Array.isArray(c.layers)) err('functional model config has no layers array', file);
    const states = new Map<string, LayerState>();
    for (const [i, raw] of (c.layers as unknown[]).entries()) {
      const l = obj(raw, `layers[${i}]`, file);
      const cls = String(l.class_name);
      const name = typeof l.name === 'string' ? l.name : String((l.config as Json | undefined)?.name ?? '');
      if (!name) err(`layers[${i}] has no name`, file);
      if (states.has(name)) err('duplicate layer name', file, name);
      const st: LayerState = { cfg: l, className: cls, name, nodes: [] };
      // tfjs numbering: an InputLayer, or a nested model built standalone, owns node 0.
      if (cls === 'InputLayer' || (isModelClass(cls) && builtStandalone(l))) st.nodes.push([]);
      states.set(name, st);
    }
    const inputLayers = (c.input_layers as unknown[][] | undefined) ?? [];
    if (!Array.isArray(inputLayers) || inputLayers.length === 0) err('functional model has no input_layers', file);
    if (inputs !== undefined && inputs.length !== inputLayers.length)
      err(`nested model takes ${inputLayers.length} inputs, got ${inputs.length}`, file);
    inputLayers.forEach((ref, i) => {
      if (!Array.isArray(ref)) err('input_layers entries must be [name, node, tensor]', file);
      const st = states.get(String(ref[0]));
      if (!st || st.className !== 'InputLayer')
        err(`input layer '${String(ref[0])}' is not an InputLayer of the model`, file);
      const lc = obj(st.cfg.config, 'InputLayer config', file, st.name);
      st.nodes[0] = [inputs ? inputs[i]! : addInput(L, prefix + st.name, lc.batch_input_shape, lc.dtype, st.name)];
    });
    // Process inbound nodes in config order, deferring those whose inputs do not exist yet.
    const queue: [LayerState, unknown][] = [];
    for (const st of states.values()) {
      const inbound = st.cfg.inbound_nodes;
      if (inbound === undefined || st.className === 'InputLayer') continue;
      if (!Array.isArray(inbound)) err('inbound_nodes must be an array', file, st.name);
      for (const nd of inbound) queue.push([st, nd]);
    }
    let progress = true;
    while (queue.length && progress) {
      progress = false;
      for (let qi = 0; qi < queue.length; qi++) {
        const [st, nd] = queue[qi]!;
        const ins = resolveRefs(states, nd, file, st.name);
        if (!ins) continue;
        queue.splice(qi--, 1);
        progress = true;
        const suffix = st.nodes.length ? `_${st.nodes.length}` : '';
        const out = isModelClass(st.className)
          ? lowerModel(L, st.className, st.cfg.config, ins, `${prefix}${st.name}${suffix}/`)
          : lowerLayer(
              L,
              st.className,
              obj(st.cfg.config ?? {}, 'layer config', file, st.name),
              ins,
              prefix + st.name + suffix,
              st.name,
            );
        st.nodes.push(out);
      }
    }
    if (queue.length)
      err(
        `inbound nodes of layer '${queue[0]![0].name}' reference layers that never produce them (a cycle or a missing layer)`,
        file,
        queue[0]![0].name,
      );
    const outputLayers = c.output_layers as unknown[][] | undefined;
    if (!Array.isArray(outputLayers) || outputLayers.length === 0) err('functional model has no output_layers', file);
    return outputLayers.map((ref) => {
      const t = refTensor(states, ref, file, '(output_layers)');
      if (t === undefined) err(`output layer reference ${JSON.stringify(ref)} does not exist`, file);
      return t;
    });
  }
  err(`unknown model class '${className}'`, file);
}

function builtStandalone(l: Json): boolean {
  if (l.class_name !== 'Sequential') return true;
  const c = l.config as Json | unknown[] | undefined;
  const layers = Array.isArray(c) ? c : (c as Json | undefined)?.layers;
  const first = Array.isArray(layers) ? (layers[0] as Json | undefined) : undefined;
  const fc = first?.config as Json | undefined;
  return first?.class_name === 'InputLayer' || Array.isArray(fc?.batch_input_shape) || Array.isArray(fc?.input_shape);
}

function refTensor(states: Map<string, LayerState>, ref: unknown, file: string, node: string): string | undefined {
  if (!Array.isArray(ref) || ref.length < 3)
    err(`layer reference ${JSON.stringify(ref)} must be [name, node, tensor]`, file, node);
  const st = states.get(String(ref[0]));
  if (!st) err(`references unknown layer '${String(ref[0])}'`, file, node);
  const ni = Number(ref[1]);
  const ti = Number(ref[2]);
  if (!Number.isInteger(ni) || ni < 0 || !Number.isInteger(ti) || ti < 0)
    err(`bad layer reference ${JSON.stringify(ref)}`, file, node);
  const outs = st.nodes[ni];
  if (!outs || outs.length === 0) return undefined;
  if (ti >= outs.length) err(`layer '${st.name}' has no output ${ti}`, file, node);
  return outs[ti];
}

function resolveRefs(states: Map<string, LayerState>, nd: unknown, file: string, node: string): string[] | undefined {
  if (!Array.isArray(nd)) err('inbound node must be an array of references', file, node);
  const out: string[] = [];
  for (const ref of nd) {
    const t = refTensor(states, ref, file, node);
    if (t === undefined) return undefined;
    out.push(t);
  }
  return out;
}

function addInput(L: Lowering, name: string, shape: unknown, dtype: unknown, layer: string): string {
  if (!Array.isArray(shape)) err('batch_input_shape must be an array', L.ctx.file, layer);
  const dims = shape.map((d) =>
    d === null || d === undefined ? -1 : typeof d === 'number' && Number.isInteger(d) && d >= 0 ? d : NaN,
  );
  if (dims.some((d) => Number.isNaN(d)))
    err(`batch_input_shape ${JSON.stringify(shape)} is invalid`, L.ctx.file, layer);
  const dt = (dtype ?? 'float32') as DType;
  if (!['float32', 'int32', 'bool'].includes(dt))
    err(`input dtype '${String(dtype)}' is not supported`, L.ctx.file, layer);
  const n = uniqueName(L.g, name);
  L.g.inputs.push({ name: n, dtype: dt, shape: dims });
  L.g.tensors.set(n, { dtype: dt, shape: dims });
  return n;
}

// ---- per-layer lowering

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
function lowerLayer(L: Lowering, cls: string, c: Json, ins: string[], base: string, layer: string): string[] {
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
