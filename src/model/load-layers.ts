// TF.js layers models (Keras topology: Sequential, functional, nested models, shared layers)
// lowered into the graph IR: every Keras layer becomes the TF ops tfjs-layers runs for it
// at inference (same ops, same order, so execution is bit-identical to model.predict),
// with its weights as constants.
import { createGraph, uniqueName, type Graph } from './ir.js';
import type { DType } from '../io/weights.js';
import { err, obj, type Json, type LayersLoadContext, type Lowering } from './layers-lowering.js';
import { lowerLayer } from './lower-layer.js';

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
