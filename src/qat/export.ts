// convertQat: a QatModel → the §12-annotated int8 graph (docs/quantization.md §12). The
// folded float model (BatchNorm layers removed from the topology, their statistics folded
// into the preceding kernels; kernels replaced by the exact dequantized values of their
// fake-quant) is lowered by the layers loader and optimized; then every quantization point of
// the QatModel is attached to the tensor that carries it in the optimized graph, and every
// quantized kernel gets its integer form (the same integers the fake-quant produced).
import { tf } from '../backend/float.js';
import { loadModel } from '../model/load.js';
import { consumers, type AffineQuantization, type Graph, type Node } from '../model/ir.js';
import { optimize } from '../model/passes/index.js';
import type { ActivationRange } from '../model/save-native.js';
import { channelLayout, type ChannelLayout } from '../kernels/scheme.js';
import { PASS_THROUGH_OPS } from '../quant/params.js';
import { quantizeValues, type FakeQuantParams } from './fake-quant.js';
import type { QatModel } from './model.js';
import type { Quantizer } from './quantizers.js';
import { shortName, type Step } from './topology.js';

type Json = Record<string, unknown>;

const ACTIVATION_OPS = new Set([
  'Relu',
  'Relu6',
  'Minimum',
  'Maximum',
  'ClipByValue',
  'Elu',
  'LeakyRelu',
  'Prelu',
  'Sigmoid',
  'Tanh',
]);
/** Ops folded into the preceding node by optimize() (their output becomes the producer's). */
const FOLDED_OPS = new Set(['BiasAdd', 'AddV2', 'FusedBatchNormV3', 'Identity', ...ACTIVATION_OPS]);
const WEIGHT_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul', 'Conv2DBackpropInput']);

export interface ConvertQatOptions {
  /** Graph name (default: the model's name). */
  name?: string;
}

interface KernelExport {
  data: Float32Array;
  q: Int32Array;
  params: FakeQuantParams[];
  layout: ChannelLayout;
  perChannel: boolean;
  shape: number[];
}

function allLayers(layers: tf.layers.Layer[]): tf.layers.Layer[] {
  return layers.flatMap((l) => (l instanceof tf.LayersModel ? allLayers(l.layers) : [l]));
}

/** The topology with folded BatchNormalization layers removed (readers re-pointed at the conv). */
function foldedTopology(qat: QatModel): Json {
  const topo = structuredClone(qat.model.toJSON(null, false)) as unknown as Json;
  const folded = qat.steps.filter((s) => s.kind === 'conv' && s.bn);
  if (!folded.length) return topo;
  const bnToConv = new Map(folded.map((s) => [s.bn!.name, s.name]));
  const convNames = new Set(folded.map((s) => s.name));
  const cfg = topo.config as Json | Json[];
  const layers = Array.isArray(cfg) ? cfg : (cfg.layers as Json[]);
  const kept = layers.filter((l) => !bnToConv.has(String(l.name ?? (l.config as Json).name)));
  for (const l of kept) {
    const c = l.config as Json;
    if (convNames.has(String(l.name ?? c.name))) c.use_bias = true;
    const repoint = (ref: unknown) => {
      const r = ref as unknown[];
      if (Array.isArray(r) && bnToConv.has(String(r[0]))) r[0] = bnToConv.get(String(r[0]));
    };
    for (const nd of (l.inbound_nodes as unknown[][] | undefined) ?? []) nd.forEach(repoint);
  }
  if (Array.isArray(cfg)) topo.config = kept;
  else {
    cfg.layers = kept;
    for (const ref of (cfg.output_layers as unknown[]) ?? []) {
      const r = ref as unknown[];
      if (bnToConv.has(String(r[0]))) r[0] = bnToConv.get(String(r[0]));
    }
  }
  return topo;
}

/** Converts a trained QatModel to the int8 graph of docs/quantization.md §12. */
export async function convertQat(qat: QatModel, options: ConvertQatOptions = {}): Promise<Graph> {
  if (!qat || !Array.isArray((qat as QatModel).steps) || typeof (qat as QatModel).forward !== 'function') {
    throw new TypeError('convertQat takes a QatModel from quantizeModel() or quantizeApply()');
  }
  for (const q of qat.quantizers) {
    if (q.fixed) continue;
    if (q.spec.bits !== 8)
      throw new RangeError(
        `convertQat: activation '${q.tensor}' uses ${q.spec.bits}-bit fake quantization; the int8 graph needs 8-bit activations`,
      );
    if (!q.tracker.initialized)
      throw new RangeError(
        `convertQat: activation range of '${q.tensor}' is not initialised: call calibrate() or fit() first`,
      );
  }
  const convs = qat.steps.filter((s) => s.kind === 'conv');
  for (const s of convs) {
    if (!s.cfg!.weight.symmetric)
      throw new RangeError(
        `convertQat: layer '${s.name}' has asymmetric weights; the int8 graph stores symmetric weights (zero point 0)`,
      );
  }

  // 1. Weights of the folded float model; quantized kernels are their dequantized fake-quant values.
  const kernels = new Map<string, KernelExport>();
  const weightValues = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const s of convs) {
    const params: { params: FakeQuantParams[]; layout: ChannelLayout }[] = [];
    const { kernels: ks, bias } = tf.tidy(() => {
      const w = qat.foldedWeights(s, true, params);
      // Clones: without BatchNorm the bias is the layer's own variable.
      return { kernels: w.kernels.map((k) => tf.keep(k.clone())), bias: w.bias ? tf.keep(w.bias.clone()) : undefined };
    });
    ks.forEach((k, i) => {
      const name = `${s.name}/${s.weights![i]!.name}`;
      const data = k.dataSync() as Float32Array;
      const raw = tf.tidy(() => qat.foldedWeights(s, false).kernels[i]!.dataSync() as Float32Array);
      const p = params[i]!;
      kernels.set(name, {
        data,
        q: quantizeValues(raw, p.layout, p.params),
        params: p.params,
        layout: p.layout,
        perChannel: s.cfg!.perChannel,
        shape: k.shape.slice(),
      });
      weightValues.set(name, { shape: k.shape.slice(), data });
    });
    if (bias) weightValues.set(`${s.name}/bias`, { shape: bias.shape.slice(), data: bias.dataSync() as Float32Array });
    tf.dispose([...ks, ...(bias ? [bias] : [])]);
  }
  const foldedBn = new Set(convs.filter((s) => s.bn).map((s) => s.bn!.name));
  for (const l of allLayers(qat.model.layers)) {
    if (foldedBn.has(l.name)) continue;
    for (const v of l.weights) {
      const name = `${l.name}/${shortName(v)}`;
      if (!weightValues.has(name))
        weightValues.set(name, { shape: v.read().shape.slice(), data: v.read().dataSync() as Float32Array });
    }
  }
  const specs = [...weightValues].map(([name, w]) => ({ name, shape: w.shape, dtype: 'float32' }));
  const total = [...weightValues.values()].reduce((n, w) => n + w.data.length, 0);
  const buf = new Float32Array(total);
  let off = 0;
  for (const w of weightValues.values()) {
    buf.set(w.data, off);
    off += w.data.length;
  }

  // 2. Lower (U: unoptimized) and optimize (O).
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'tfjs-quant convertQat',
    modelTopology: foldedTopology(qat),
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  const U = await loadModel({ modelJson, weightData: buf.buffer });
  const O = optimize(U);
  if (options.name !== undefined) O.name = options.name;

  // 3. Quantization points on U's tensors.
  const uCons = consumers(U);
  const prefixNodes = (prefix: string) => U.nodes.filter((n) => n.name.startsWith(`${prefix}/`));
  const keyTensor = new Map<string, string>();
  if (U.inputs.length !== qat.inputs.length)
    throw new Error(`convertQat: the lowered model has ${U.inputs.length} inputs, expected ${qat.inputs.length}`);
  qat.inputs.forEach((k, i) => keyTensor.set(k, U.inputs[i]!.name));
  for (const s of qat.steps) {
    if (s.kind === 'folded') continue;
    const own = prefixNodes(s.prefix);
    const inside = new Set(own.map((n) => n.name));
    let out: string | undefined;
    for (const n of own) {
      for (const t of n.outputs) {
        const readers = uCons.get(t) ?? [];
        if (U.outputs.includes(t) || readers.some((r) => !inside.has(r.name))) out = t;
      }
    }
    keyTensor.set(s.output, out ?? keyTensor.get(s.inputs[0]!)!);
  }
  for (const s of convs) if (s.bn) keyTensor.set(s.bn.output, keyTensor.get(s.output)!);

  const uParams = new Map<string, Quantizer>();
  const prePreact = new Map<string, Quantizer>();
  for (const [key, q] of qat.tensorQuantizer) {
    const t = keyTensor.get(key);
    if (t !== undefined) uParams.set(t, q);
  }
  for (const s of convs) {
    const own = prefixNodes(s.prefix);
    const boundary = keyTensor.get(s.output)!;
    if (s.mid) {
      const d = own.find((n) => n.op === 'DepthwiseConv2dNative');
      if (d) uParams.set(d.outputs[0]!, s.mid);
    }
    if (!s.pre) continue;
    if (s.className === 'Conv1D' || s.className === 'Conv2DTranspose') {
      for (const n of own)
        if (n.op === 'Conv2D' || n.op === 'Conv2DBackpropInput' || n.op === 'Squeeze')
          uParams.set(n.outputs[0]!, s.pre);
      continue;
    }
    const core = [...own].reverse().find((n) => WEIGHT_OPS.has(n.op));
    if (!core) continue;
    let biasOut = core.outputs[0]!;
    const next = uCons.get(biasOut) ?? [];
    if (next.length === 1 && next[0]!.op === 'BiasAdd' && next[0]!.name.startsWith(`${s.prefix}/`))
      biasOut = next[0]!.outputs[0]!;
    if (biasOut !== boundary) uParams.set(biasOut, s.pre);
    else prePreact.set(boundary, s.pre);
  }

  // 4. Carry them over to O's tensors (fused nodes keep their first node's output name).
  const oNodes = new Set(O.nodes.map((n) => n.name));
  const activations: Record<string, ActivationRange> = {};
  const entry = (q: Quantizer): ActivationRange => {
    const p = qat.quantizerParams(q);
    return q.fixed
      ? {
          min: (p.qmin - p.zeroPoint) * p.scale,
          max: (p.qmax - p.zeroPoint) * p.scale,
          scale: p.scale,
          zeroPoint: p.zeroPoint,
          dtype: 'int8',
        }
      : { min: q.tracker.min, max: q.tracker.max, scale: p.scale, zeroPoint: p.zeroPoint, dtype: 'int8' };
  };
  for (const i of O.inputs) {
    const q = uParams.get(i.name);
    if (q) activations[i.name] = entry(q);
  }
  for (const n of O.nodes) {
    n.outputs.forEach((t, oi) => {
      let cur = t;
      let preact: string | undefined;
      for (;;) {
        const readers = uCons.get(cur) ?? [];
        if (readers.length !== 1 || U.outputs.includes(cur)) break;
        const m = readers[0]!;
        if (oNodes.has(m.name) || !FOLDED_OPS.has(m.op)) break;
        if (ACTIVATION_OPS.has(m.op) && preact === undefined) preact = cur;
        cur = m.outputs[0]!;
      }
      const q = uParams.get(cur) ?? uParams.get(t);
      if (q) activations[t] = entry(q);
      const act = (n.attrs.activation as string | undefined) ?? 'none';
      if (oi === 0 && WEIGHT_OPS.has(n.op) && !['none', 'relu', 'relu6'].includes(act)) {
        const pq = (preact !== undefined ? uParams.get(preact) : undefined) ?? prePreact.get(cur);
        if (pq) activations[`${t}/preact`] = entry(pq);
      }
    });
  }

  // Pass-through ops inside a layer's lowering (Conv1D's ExpandDims/Squeeze, Dense's reshapes)
  // carry their input's parameters, as §12.3 prescribes for the quantizer.
  for (const n of O.nodes) {
    const [i0, o0] = [n.inputs[0], n.outputs[0]];
    if (PASS_THROUGH_OPS.includes(n.op) && i0 !== undefined && o0 !== undefined && activations[i0] && !activations[o0])
      activations[o0] = activations[i0]!;
  }

  // 5. Integer kernels; float nodes.
  const stepOf = (n: Node): Step | undefined => qat.steps.find((s) => n.name.startsWith(`${s.prefix}/`));
  const floatNodes: string[] = [];
  for (const n of O.nodes) {
    const s = stepOf(n);
    if (s?.kind === 'float') floatNodes.push(n.name);
    if (!s || s.kind !== 'conv' || !WEIGHT_OPS.has(n.op)) continue;
    const wname =
      s.className === 'SeparableConv2D'
        ? n.op === 'DepthwiseConv2dNative'
          ? 'depthwise_kernel'
          : 'pointwise_kernel'
        : s.weights![0]!.name;
    const k = kernels.get(`${s.name}/${wname}`);
    const c = O.constants.get(n.inputs[1]!);
    if (!k || !c) throw new Error(`convertQat: cannot find the kernel of node '${n.name}'`);
    const cd = c.data as Float32Array;
    if (cd.length !== k.data.length || cd.some((v, i) => v !== k.data[i]))
      throw new Error(`convertQat: kernel of node '${n.name}' does not hold the fake-quantized values`);
    const kind = s.weights!.find((w) => w.name === wname)!.kind;
    // §5 axes in the constant's own shape (a Conv1D kernel is lowered as [1, k, in, out]).
    const axis = !k.perChannel
      ? -1
      : kind === 'dense'
        ? 1
        : kind === 'conv2dTranspose'
          ? 2
          : kind === 'depthwiseConv2d'
            ? 2
            : c.shape.length - 1;
    const affine: AffineQuantization = {
      dtype: 'int8',
      axis,
      ...(kind === 'depthwiseConv2d' && k.perChannel ? { axisCount: 2 } : {}),
      scales: Float32Array.from(k.params, (p) => p.scale),
      zeroPoints: Int32Array.from(k.params, (p) => p.zeroPoint),
      values: Int8Array.from(k.q),
      narrowRange: true,
    };
    if (k.perChannel && kind !== 'depthwiseConv2d' && channelLayout(c.shape, axis).channels !== k.params.length) {
      throw new Error(`convertQat: node '${n.name}': ${k.params.length} scales for axis ${axis} of [${c.shape}]`);
    }
    c.quantization = { ...(c.quantization ?? {}), affine };
  }
  O.metadata.activations = activations;
  O.metadata.quantization = { mode: 'int8', floatNodes, inputType: 'float32', outputType: 'float32' };
  O.metadata.qat = {
    quantized: qat.report.quantized,
    folded: qat.report.folded,
    float: qat.report.float,
    weightBits: [...new Set(convs.map((s) => s.cfg!.weight.bits))],
    steps: qat.step,
  };
  return O;
}
