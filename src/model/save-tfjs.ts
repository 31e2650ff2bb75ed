// Writing the IR in stock TF.js format: a graph model (model.json + shards) that unmodified
// @tensorflow/tfjs loads with tf.loadGraphModel, or — for a layers-model source whose
// topology no pass changed — the original Keras topology with re-encoded weights
// (tf.loadLayersModel). Optional tfjs per-tensor quantized storage (uint8/uint16/float16).
// Output bytes are deterministic; writes are atomic and never touch the input files.
import { encodeAttrs, tfDtypeName } from './attrs.js';
import { ModelFormatError } from './errors.js';
import {
  isFiniteConstant,
  libraryConstantNames,
  outputName,
  parseTensorName,
  signatureOf,
  type Constant,
  type Graph,
  type Node,
} from './ir.js';
import { toolVersion, TOOL_NAME } from './version.js';
import { encodeWeights, shard, shardName, type EncodableWeight, type TfjsStorageDType } from '../io/weights.js';
import { writeFilesAtomic, type OutputFile } from '../io/atomic.js';
import { assertInt, assertOneOf } from '../native/validate.js';

export interface SaveTfjsOptions {
  /** 'graph' (default for graph sources and transformed graphs) or 'layers' (untransformed layers sources only). */
  format?: 'graph' | 'layers' | 'auto';
  /** tfjs quantized storage for float32 constants (per-constant storage in quantization.tfjs wins). */
  quantize?: TfjsStorageDType | 'none';
  /** Constants with fewer elements stay float32 (default 0: all). */
  quantizeMinElements?: number;
  /** Shard size (default 4 MiB, as tfjs). */
  shardBytes?: number;
  /** Extra userDefinedMetadata. */
  metadata?: Record<string, unknown>;
}

const STORAGE = ['uint8', 'uint16', 'float16', 'none'] as const;

function checkOptions(o: SaveTfjsOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if (o.format !== undefined) assertOneOf(o.format, ['graph', 'layers', 'auto'], 'options.format');
  if (o.quantize !== undefined) assertOneOf(o.quantize, STORAGE, 'options.quantize');
  if (o.quantizeMinElements !== undefined) assertInt(o.quantizeMinElements, 'options.quantizeMinElements', 0);
  if (o.shardBytes !== undefined) assertInt(o.shardBytes, 'options.shardBytes', 1);
}

function storageFor(c: Constant, o: SaveTfjsOptions): TfjsStorageDType | undefined {
  const own = c.quantization?.tfjs?.dtype;
  if (own) return c.dtype === 'float32' || (c.dtype === 'int32' && own !== 'float16') ? own : undefined;
  // int4 has no stock TF.js storage: the dequantized values go out as float16 unless asked otherwise.
  if (c.quantization?.affine?.dtype === 'int4' && c.dtype === 'float32' && (!o.quantize || o.quantize === 'none')) {
    process.emitWarning(
      `constant '${c.name}': int4 weights have no stock TF.js storage, saved as float16 (dequantized values)`,
      { code: 'TFJS_QUANT_INT4_FALLBACK' },
    );
    return 'float16';
  }
  if (!o.quantize || o.quantize === 'none' || c.dtype !== 'float32') return undefined;
  // NaN / ±Inf have no affine (uint8/uint16) code: such constants (legal data) stay float32.
  if (!isFiniteConstant(c)) return undefined;
  const n = c.shape.reduce((a, b) => a * b, 1);
  return n >= (o.quantizeMinElements ?? 0) ? o.quantize : undefined;
}

function manifestFiles(weights: EncodableWeight[], o: SaveTfjsOptions): { manifest: unknown[]; files: OutputFile[] } {
  const { entries, bytes } = encodeWeights(weights);
  const shards = shard(bytes, o.shardBytes);
  const names = shards.map((_, i) => shardName(1, i + 1, shards.length));
  return {
    manifest: entries.length ? [{ paths: names, weights: entries }] : [],
    files: shards.map((b, i) => ({ name: names[i]!, bytes: b })),
  };
}

function provenance(g: Graph, extra: Record<string, unknown> | undefined, mode: string): Record<string, unknown> {
  return {
    tfjsQuant: {
      tool: TOOL_NAME,
      version: toolVersion(),
      mode,
      ...(g.source ? { source: { format: g.source.format, sha256: g.source.sha256 } } : {}),
    },
    ...(extra ?? {}),
  };
}

function tfNodeName(t: string): string {
  const [n, i] = parseTensorName(t);
  return i === 0 ? n : `${n}:${i}`;
}

const ACT_OP: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
  sigmoid: 'Sigmoid',
};

/** One IR node → converter-format node JSON(s). */
function nodeJson(g: Graph, n: Node, extraConsts: Constant[]): Record<string, unknown>[] {
  const input = [...n.inputs.map(tfNodeName), ...(n.controlInputs ?? []).map((c) => `^${parseTensorName(c)[0]}`)];
  if (n.opaque) return [{ name: n.name, op: n.op, input, attr: n.rawAttrs ?? {} }];
  const fusable = n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative' || n.op === 'MatMul';
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  const attrs = { ...n.attrs };
  delete attrs.activation;
  delete attrs.keras_class;
  if (n.op !== 'Cast' && n.op !== 'Shape') attrs.T = attrs.T ?? 'float32';
  if (n.op === 'Cast') attrs.SrcT = g.tensors.get(n.inputs[0]!)?.dtype ?? 'float32';
  if (fusable && (n.inputs.length > 2 || act !== 'none')) {
    const args = n.inputs.slice(2);
    const [x, f] = [input[0]!, input[1]!];
    if (args.length === 0) {
      // TF's fused kernels need BiasAdd first: give them a zero bias.
      const fs = g.constants.get(n.inputs[1]!)?.shape ?? g.tensors.get(n.inputs[1]!)?.shape;
      const ch = !fs
        ? undefined
        : n.op === 'Conv2D'
          ? fs[3]
          : n.op === 'MatMul'
            ? n.attrs.transpose_b
              ? fs[0]
              : fs[fs.length - 1]
            : fs[2]! * fs[3]!;
      if (ch === undefined || ch < 0)
        throw new ModelFormatError('cannot size a zero bias for the fused activation', { node: n.name });
      const c: Constant = { name: `${n.name}/zero_bias`, dtype: 'float32', shape: [ch], data: new Float32Array(ch) };
      extraConsts.push(c);
      args.push(c.name);
    }
    const fusedAct = ACT_OP[act];
    const ops = ['BiasAdd', ...(fusedAct ? [fusedAct] : [])];
    delete attrs.leakyrelu_alpha;
    const a = encodeAttrs(attrs);
    a.fused_ops = { list: { s: ops.map((s) => Buffer.from(s).toString('base64')) } };
    a.num_args = { i: String(act === 'prelu' ? 2 : 1) };
    a.epsilon = { f: 0 };
    if (act === 'leakyrelu') a.leakyrelu_alpha = { f: (n.attrs.leakyrelu_alpha as number | undefined) ?? 0.2 };
    const op = n.op === 'Conv2D' ? '_FusedConv2D' : n.op === 'MatMul' ? '_FusedMatMul' : 'FusedDepthwiseConv2dNative';
    const argNames = act === 'prelu' ? [tfNodeName(args[0]!), tfNodeName(args[1]!)] : [tfNodeName(args[0]!)];
    if (act === 'tanh') {
      // tfjs's fused kernels have no tanh: fuse the bias, apply tanh after.
      const inner = `${n.name}/fused`;
      return [
        { name: inner, op, input: [x, f, ...argNames], attr: a },
        { name: n.name, op: 'Tanh', input: [inner], attr: encodeAttrs({ T: 'float32' }) },
      ];
    }
    return [{ name: n.name, op, input: [x, f, ...argNames, ...input.slice(n.inputs.length)], attr: a }];
  }
  if (fusable) delete attrs.leakyrelu_alpha;
  const os = n.op === 'Conv2DBackpropInput' ? g.constants.get(n.inputs[0]!) : undefined;
  if (os && (os.data as Int32Array)[0] === -1) {
    // Batch-free output shape: [Shape(x)[0], h, w, c] computed in the graph.
    const d = Array.from(os.data as Int32Array);
    const mk = (suffix: string, v: number[], shape: number[]): string => {
      const c: Constant = { name: `${n.name}/${suffix}`, dtype: 'int32', shape, data: Int32Array.from(v) };
      extraConsts.push(c);
      return c.name;
    };
    const pre = n.name;
    return [
      {
        name: `${pre}/x_shape`,
        op: 'Shape',
        input: [input[2]!],
        attr: encodeAttrs({ T: 'float32', out_type: 'int32' }),
      },
      {
        name: `${pre}/batch`,
        op: 'StridedSlice',
        input: [`${pre}/x_shape`, mk('begin', [0], [1]), mk('end', [1], [1]), mk('stride', [1], [1])],
        attr: encodeAttrs({
          T: 'int32',
          Index: 'int32',
          shrink_axis_mask: 1,
          begin_mask: 0,
          end_mask: 0,
          ellipsis_mask: 0,
          new_axis_mask: 0,
        }),
      },
      {
        name: `${pre}/output_shape`,
        op: 'Pack',
        input: [`${pre}/batch`, mk('h', [d[1]!], []), mk('w', [d[2]!], []), mk('c', [d[3]!], [])],
        attr: encodeAttrs({ T: 'int32', N: 4, axis: 0 }),
      },
      { name: n.name, op: n.op, input: [`${pre}/output_shape`, ...input.slice(1)], attr: encodeAttrs(attrs) },
    ];
  }
  return [{ name: n.name, op: n.op, input, attr: encodeAttrs(attrs) }];
}

/** Converter-format model.json object + shards for the graph (no files written). */
export function graphModelFiles(g: Graph, o: SaveTfjsOptions = {}): OutputFile[] {
  checkOptions(o);
  const extra: Constant[] = [];
  const nodes: Record<string, unknown>[] = [];
  for (const i of g.inputs) {
    nodes.push({
      name: i.name,
      op: 'Placeholder',
      attr: {
        dtype: { type: tfDtypeName(i.dtype) },
        shape: { shape: i.shape ? { dim: i.shape.map((d) => ({ size: String(d) })) } : { unknownRank: true } },
      },
    });
  }
  const body: Record<string, unknown>[] = [];
  for (const n of g.nodes) body.push(...nodeJson(g, n, extra));
  // Outputs that are not node outputs (an input or constant returned directly) need an Identity.
  const outNames: string[] = [];
  const prodNames = new Set(g.nodes.flatMap((n) => n.outputs));
  g.outputs.forEach((t, k) => {
    if (prodNames.has(t)) outNames.push(tfNodeName(t));
    else {
      const id = `output_identity_${k}`;
      body.push({
        name: id,
        op: 'Identity',
        input: [tfNodeName(t)],
        attr: encodeAttrs({ T: g.tensors.get(t)?.dtype ?? 'float32' }),
      });
      outNames.push(id);
    }
  });
  // Constants in first-use order (deterministic), then extras.
  const used: Constant[] = [];
  const seen = new Set<string>();
  for (const n of g.nodes)
    for (const t of n.inputs) {
      const c = g.constants.get(t);
      if (c && !seen.has(c.name)) {
        seen.add(c.name);
        used.push(c);
      }
    }
  // Const nodes inside library functions are read by name from the weights, with no top-level node.
  for (const t of [...g.outputs, ...libraryConstantNames(g.library)]) {
    const c = g.constants.get(t);
    if (c && !seen.has(c.name)) {
      seen.add(c.name);
      used.push(c);
    }
  }
  const all = [...used, ...extra];
  const constNodes = all.map((c) => ({
    name: c.name,
    op: 'Const',
    attr: {
      value: {
        tensor: { dtype: tfDtypeName(c.dtype), tensorShape: { dim: c.shape.map((d) => ({ size: String(d) })) } },
      },
      dtype: { type: tfDtypeName(c.dtype) },
    },
  }));
  const weights: EncodableWeight[] = all.map((c) => {
    const s = storageFor(c, o);
    return { name: c.name, dtype: c.dtype, shape: c.shape, data: c.data, ...(s ? { storage: s } : {}) };
  });
  const { manifest, files } = manifestFiles(weights, o);
  const sig = signatureOf(g);
  const modelJson = {
    format: 'graph-model',
    generatedBy: String(g.source?.json.generatedBy ?? TOOL_NAME),
    convertedBy: `${TOOL_NAME} ${toolVersion()}`,
    signature: {
      inputs: Object.fromEntries(
        g.inputs.map((i, k) => [
          sig.inputs[k]!.key,
          {
            name: `${i.name}:0`,
            dtype: tfDtypeName(i.dtype),
            tensorShape: i.shape ? { dim: i.shape.map((d) => ({ size: String(d) })) } : { unknownRank: true },
          },
        ]),
      ),
      outputs: Object.fromEntries(
        outNames.map((n, k) => [sig.outputs[k]!.key, { name: n.includes(':') ? n : `${n}:0` }]),
      ),
    },
    modelTopology: { node: [...nodes, ...constNodes, ...body], library: g.library ?? {}, versions: {} },
    weightsManifest: manifest,
    userDefinedMetadata: provenance(
      g,
      o.metadata,
      `tfjs-graph${o.quantize && o.quantize !== 'none' ? `-${o.quantize}` : ''}`,
    ),
  };
  return [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) }, ...files];
}

/** Files of the original layers topology with the graph's (possibly re-encoded) weights. */
export function layersModelFiles(g: Graph, o: SaveTfjsOptions = {}): OutputFile[] {
  checkOptions(o);
  const src = g.source;
  if (!src || src.format !== 'layers-model' || !src.layerWeights)
    throw new ModelFormatError('layers format needs a layers-model source', { file: src?.file });
  if (g.transformed)
    throw new ModelFormatError(
      'the graph was transformed: its layers topology no longer matches; save as a graph model',
      { file: src.file },
    );
  const weights: EncodableWeight[] = [];
  for (const [cname, kname] of src.layerWeights) {
    const c = g.constants.get(cname);
    if (!c)
      throw new ModelFormatError(`constant of Keras weight '${kname}' is gone`, { file: src.file, weight: kname });
    const s = storageFor(c, o);
    weights.push({ name: kname, dtype: c.dtype, shape: c.shape, data: c.data, ...(s ? { storage: s } : {}) });
  }
  const { manifest, files } = manifestFiles(weights, o);
  const modelJson = {
    modelTopology: src.json.modelTopology,
    format: 'layers-model',
    generatedBy: String(src.json.generatedBy ?? TOOL_NAME),
    convertedBy: `${TOOL_NAME} ${toolVersion()}`,
    weightsManifest: manifest,
    userDefinedMetadata: provenance(
      g,
      o.metadata,
      `tfjs-layers${o.quantize && o.quantize !== 'none' ? `-${o.quantize}` : ''}`,
    ),
  };
  return [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) }, ...files];
}

/** The files saveTfjs would write (format chosen as documented there). */
export function tfjsFiles(g: Graph, o: SaveTfjsOptions = {}): OutputFile[] {
  checkOptions(o);
  const fmt = o.format ?? 'auto';
  const layers = fmt === 'layers' || (fmt === 'auto' && g.source?.format === 'layers-model' && !g.transformed);
  return layers ? layersModelFiles(g, o) : graphModelFiles(g, o);
}

/**
 * Saves the graph in stock TF.js format into `dir` (atomic; never over the source files).
 * format 'auto' keeps an untransformed layers model a layers model, else writes a graph model.
 */
export async function saveTfjs(g: Graph, dir: string, o: SaveTfjsOptions = {}): Promise<string[]> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty string');
  const files = tfjsFiles(g, o);
  try {
    return await writeFilesAtomic(dir, files, { protect: g.source?.files ?? [] });
  } catch (e) {
    throw new ModelFormatError(`cannot write the model: ${(e as Error).message}`, { file: dir });
  }
}

export { outputName };
