// Model fixtures for tests, benchmarks and the built part of the zoo (not shipped: the package
// holds src/ only): graph models written exactly as
// tfjs-converter writes them (node ops, TF attr JSON, weights manifest, shards, quantized
// storage), layers models built with tfjs-layers, and helpers to run the originals in stock
// tfjs from the same bytes. Everything is seeded and generated locally.
import { tf } from '../../src/backend/float.js';
import { seededRandom as rng } from '../../src/data/random.js';
import {
  encodeWeights,
  shard,
  shardName,
  type DType,
  type EncodableWeight,
  type TfjsStorageDType,
  type WeightsManifestGroup,
} from '../../src/io/weights.js';
import { writeFilesAtomic, type OutputFile } from '../../src/io/atomic.js';
import { saveLayersToMemory } from '../../src/model/layers-memory.js';

export { saveLayersToMemory };

/** mulberry32: uniform floats in [0, 1) (the project's one seeded generator, data/random.ts). */
export { rng };

export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** A seeded random float32 tensor. */
export function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(
    randomFloats(
      shape.reduce((a, b) => a * b, 1),
      seed,
      lo,
      hi,
    ),
    shape,
    'float32',
  );
}

// ---- TF AttrValue JSON builders (what tfjs-converter writes)

export const attr = {
  i: (v: number) => ({ i: String(v) }),
  f: (v: number) => ({ f: v }),
  b: (v: boolean) => ({ b: v }),
  s: (v: string) => ({ s: Buffer.from(v, 'utf8').toString('base64') }),
  type: (v: 'DT_FLOAT' | 'DT_INT32' | 'DT_BOOL' | 'DT_STRING') => ({ type: v }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  strs: (v: string[]) => ({ list: { s: v.map((s) => Buffer.from(s, 'utf8').toString('base64')) } }),
  shape: (v: number[]) => ({ shape: { dim: v.map((d) => ({ size: String(d) })) } }),
};

export interface BuiltModel {
  /** model.json content. */
  modelJson: Record<string, unknown>;
  /** All shards concatenated (the in-memory form). */
  weightData: Uint8Array;
  /** model.json + shards as files. */
  files: OutputFile[];
}

export interface BuildOptions {
  /** Per-weight tfjs quantized storage. */
  quantize?: Record<string, TfjsStorageDType>;
  /** Shard size in bytes (default 4 MiB); small values give several shards. */
  shardBytes?: number;
  /** Split the weights into this many manifest groups (default 1). */
  groups?: number;
}

/** Builds a graph model in the exact tfjs-converter format. */
export class GraphModelBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly weights: EncodableWeight[] = [];
  private seed: number;
  private outputsList: string[] = [];

  constructor(seed = 1) {
    this.seed = seed;
  }

  input(name: string, shape: number[], dtype: 'DT_FLOAT' | 'DT_INT32' = 'DT_FLOAT'): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.type(dtype), shape: attr.shape(shape) } });
    return name;
  }

  /** A Const node whose value is stored in the weights (random float32 in [lo, hi] unless data given). */
  const(
    name: string,
    shape: number[],
    data?: Float32Array | Int32Array | Uint8Array | Uint8Array[],
    dtype: DType = 'float32',
    lo = -1,
    hi = 1,
  ): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = data ?? (dtype === 'int32' ? new Int32Array(n) : randomFloats(n, this.seed++, lo, hi));
    const tfType = ({ float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL', string: 'DT_STRING' } as const)[dtype];
    this.nodes.push({
      name,
      op: 'Const',
      attr: {
        value: { tensor: { dtype: tfType, tensorShape: { dim: shape.map((s) => ({ size: String(s) })) } } },
        dtype: attr.type(tfType),
      },
    });
    this.weights.push({ name, dtype, shape, data: d });
    return name;
  }

  ints(name: string, values: number[], shape: number[] = [values.length]): string {
    return this.const(name, shape, Int32Array.from(values), 'int32');
  }

  op(name: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input: inputs, attr: { ...attrs } });
    return name;
  }

  outputs(...names: string[]): this {
    this.outputsList = names;
    return this;
  }

  // Common converter node shapes.
  conv2d(
    name: string,
    x: string,
    filter: string,
    opts: { strides?: number; padding?: 'SAME' | 'VALID' | 'EXPLICIT'; explicit?: number[]; dilations?: number } = {},
  ): string {
    const s = opts.strides ?? 1;
    const d = opts.dilations ?? 1;
    return this.op(name, 'Conv2D', [x, filter], {
      T: attr.type('DT_FLOAT'),
      strides: attr.ints([1, s, s, 1]),
      padding: attr.s(opts.padding ?? 'SAME'),
      data_format: attr.s('NHWC'),
      dilations: attr.ints([1, d, d, 1]),
      use_cudnn_on_gpu: attr.b(true),
      explicit_paddings: attr.ints(opts.explicit ?? []),
    });
  }

  fusedConv2d(
    name: string,
    x: string,
    filter: string,
    args: string[],
    fusedOps: string[],
    opts: { strides?: number; padding?: 'SAME' | 'VALID'; depthwise?: boolean; leakyAlpha?: number } = {},
  ): string {
    const s = opts.strides ?? 1;
    const a: Record<string, unknown> = {
      T: attr.type('DT_FLOAT'),
      strides: attr.ints([1, s, s, 1]),
      padding: attr.s(opts.padding ?? 'SAME'),
      data_format: attr.s('NHWC'),
      dilations: attr.ints([1, 1, 1, 1]),
      fused_ops: attr.strs(fusedOps),
      num_args: attr.i(args.length),
      epsilon: attr.f(0),
      explicit_paddings: attr.ints([]),
    };
    if (opts.leakyAlpha !== undefined) a.leakyrelu_alpha = attr.f(opts.leakyAlpha);
    if (!opts.depthwise) a.use_cudnn_on_gpu = attr.b(true);
    return this.op(name, opts.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', [x, filter, ...args], a);
  }

  fusedMatMul(
    name: string,
    a: string,
    b: string,
    args: string[],
    fusedOps: string[],
    opts: { transposeB?: boolean } = {},
  ): string {
    return this.op(name, '_FusedMatMul', [a, b, ...args], {
      T: attr.type('DT_FLOAT'),
      transpose_a: attr.b(false),
      transpose_b: attr.b(opts.transposeB ?? false),
      fused_ops: attr.strs(fusedOps),
      num_args: attr.i(args.length),
      epsilon: attr.f(0),
    });
  }

  pool(
    name: string,
    op: 'MaxPool' | 'AvgPool',
    x: string,
    k: number,
    s: number,
    padding: 'SAME' | 'VALID' = 'VALID',
  ): string {
    return this.op(name, op, [x], {
      T: attr.type('DT_FLOAT'),
      ksize: attr.ints([1, k, k, 1]),
      strides: attr.ints([1, s, s, 1]),
      padding: attr.s(padding),
      data_format: attr.s('NHWC'),
    });
  }

  build(opts: BuildOptions = {}): BuiltModel {
    const ws = this.weights.map((w) => ({
      ...w,
      ...(opts.quantize?.[w.name] ? { storage: opts.quantize[w.name] } : {}),
    }));
    const groupCount = Math.max(1, Math.min(opts.groups ?? 1, ws.length || 1));
    const per = Math.ceil(ws.length / groupCount);
    const manifest: WeightsManifestGroup[] = [];
    const files: OutputFile[] = [];
    const all: Uint8Array[] = [];
    for (let gi = 0; gi < groupCount; gi++) {
      const part = ws.slice(gi * per, (gi + 1) * per);
      if (!part.length) continue;
      const { entries, bytes } = encodeWeights(part);
      const shards = shard(bytes, opts.shardBytes);
      const names = shards.map((_, i) => shardName(gi + 1, i + 1, shards.length));
      manifest.push({ paths: names, weights: entries });
      shards.forEach((b, i) => files.push({ name: names[i]!, bytes: b.slice() }));
      all.push(bytes);
    }
    const modelJson: Record<string, unknown> = {
      format: 'graph-model',
      generatedBy: '2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      signature: {},
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1645 } },
      weightsManifest: manifest,
    };
    if (this.outputsList.length) {
      modelJson.signature = {
        outputs: Object.fromEntries(this.outputsList.map((o) => [o, { name: o.includes(':') ? o : `${o}:0` }])),
      };
    }
    files.unshift({ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) });
    const total = all.reduce((a, b) => a + b.byteLength, 0);
    const weightData = new Uint8Array(total);
    let off = 0;
    for (const b of all) {
      weightData.set(b, off);
      off += b.byteLength;
    }
    return { modelJson, weightData, files };
  }
}

/** Writes a built model into dir (atomic). */
export async function writeModel(dir: string, m: BuiltModel): Promise<void> {
  await writeFilesAtomic(dir, m.files);
}

/** Stock-tfjs artifacts of a model.json + concatenated weights (for tf.io.fromMemory / loadGraphModel). */
export function memoryArtifacts(modelJson: Record<string, unknown>, weightData: Uint8Array): tf.io.ModelArtifacts {
  const { weightsManifest, ...rest } = modelJson as { weightsManifest?: WeightsManifestGroup[] };
  const specs = (weightsManifest ?? []).flatMap((g) => g.weights);
  return {
    ...(rest as tf.io.ModelArtifacts),
    weightSpecs: specs as tf.io.WeightsManifestEntry[],
    weightData: weightData.slice().buffer,
  };
}

/** Loads files (model.json + shards as written) into stock tfjs: a graph or layers model. */
export async function loadStock(files: readonly OutputFile[]): Promise<tf.GraphModel | tf.LayersModel> {
  const mj = files.find((f) => f.name === 'model.json');
  if (!mj) throw new Error('no model.json among the files');
  const json = JSON.parse(new TextDecoder().decode(mj.bytes)) as Record<string, unknown>;
  const manifest = (json.weightsManifest as WeightsManifestGroup[] | undefined) ?? [];
  const parts = manifest.flatMap((g) =>
    g.paths.map((p) => {
      const f = files.find((x) => x.name === p);
      if (!f) throw new Error(`missing shard ${p}`);
      return f.bytes;
    }),
  );
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.byteLength;
  }
  const art = memoryArtifacts(json, data);
  const handler = tf.io.fromMemory(art);
  return json.format === 'layers-model' ? tf.loadLayersModel(handler) : tf.loadGraphModel(handler);
}

/** Files of a saved layers model (model.json + weights.bin), for writing to disk. */
export function layersFiles(m: { modelJson: Record<string, unknown>; weightData: Uint8Array }): OutputFile[] {
  return [
    { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(m.modelJson)) },
    { name: 'weights.bin', bytes: m.weightData },
  ];
}

/** Gives every weight of a layers model seeded random values (BN variances positive). */
export function randomizeWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const w of model.weights) {
    const lo = /variance/.test(w.name) ? 0.5 : -1;
    const hi = /variance/.test(w.name) ? 1.5 : 1;
    const v = tf.tensor(randomFloats(w.shape.reduce((a, b) => a! * b!, 1) as number, s++, lo, hi), w.shape as number[]);
    w.write(v);
    v.dispose();
  }
}

// ---- layers model zoo

export function sequentialMlp(seed = 1): tf.Sequential {
  const m = tf.sequential({ name: 'mlp' });
  m.add(tf.layers.dense({ units: 16, inputShape: [8], activation: 'relu', name: 'fc1' }));
  m.add(tf.layers.dropout({ rate: 0.5, name: 'drop' }));
  m.add(tf.layers.dense({ units: 12, activation: 'tanh', name: 'fc2' }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', name: 'fc3' }));
  randomizeWeights(m, seed);
  return m;
}

export function sequentialCnn(seed = 2): tf.Sequential {
  const m = tf.sequential({ name: 'cnn' });
  m.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, activation: 'relu', name: 'conv1' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'sigmoid', name: 'conv2' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, name: 'pool2' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 4, name: 'logits' }));
  randomizeWeights(m, seed);
  return m;
}

/** Functional: two branches joined by Concatenate and Add, a shared Dense, a nested Sequential. */
export function functionalBranches(seed = 3): tf.LayersModel {
  const x = tf.input({ shape: [8, 8, 4], name: 'image' });
  const a = tf.layers
    .conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'branch_a' })
    .apply(x) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'branch_b' }).apply(x) as tf.SymbolicTensor;
  const b2 = tf.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }).apply(b) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([a, b2]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([sum, a]) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tf.SymbolicTensor;
  const shared = tf.layers.dense({ units: 12, activation: 'relu', name: 'shared' });
  const inner = tf.sequential({ name: 'inner' });
  inner.add(tf.layers.dense({ units: 12, inputShape: [12], activation: 'elu', name: 'inner_fc' }));
  inner.add(tf.layers.batchNormalization({ name: 'inner_bn' }));
  const h1 = shared.apply(gap) as tf.SymbolicTensor;
  const h2 = inner.apply(h1) as tf.SymbolicTensor;
  const h3 = shared.apply(h2) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(h3) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: out, name: 'branches' });
  randomizeWeights(m, seed);
  return m;
}

/** MobileNet-style blocks: ZeroPadding + depthwise stride 2, BatchNorm, ReLU6, pointwise conv. */
export function mobilenetBlocks(seed = 4): tf.LayersModel {
  const x = tf.input({ shape: [16, 16, 3], name: 'input' });
  let y = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization({ name: 'conv1_bn' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU({ maxValue: 6, name: 'conv1_relu' }).apply(y) as tf.SymbolicTensor;
  for (const [i, stride] of [
    [1, 1],
    [2, 2],
  ] as const) {
    if (stride === 2)
      y = tf.layers
        .zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
          name: `pad_${i}`,
        })
        .apply(y) as tf.SymbolicTensor;
    y = tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: stride === 2 ? 'valid' : 'same',
        useBias: false,
        name: `dw_${i}`,
      })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: `dw_${i}_bn` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.activation({ activation: 'relu6', name: `dw_${i}_relu` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers
      .conv2d({ filters: 8 * (i + 1), kernelSize: 1, useBias: false, name: `pw_${i}` })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.batchNormalization({ name: `pw_${i}_bn` }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.reLU({ maxValue: 6, name: `pw_${i}_relu` }).apply(y) as tf.SymbolicTensor;
  }
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }).apply(y) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: y, name: 'mobilenet_blocks' });
  randomizeWeights(m, seed);
  return m;
}

/** A graph model in converter format covering the fused and plain op forms. */
export function convNetGraphModel(seed = 5): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('input', [-1, 12, 12, 3]);
  const pads = b.ints('pad/paddings', [0, 0, 1, 1, 1, 1, 0, 0], [4, 2]);
  const p = b.op('pad', 'Pad', [x, pads], { T: attr.type('DT_FLOAT'), Tpaddings: attr.type('DT_INT32') });
  const c1 = b.fusedConv2d(
    'conv1',
    p,
    b.const('conv1/filter', [3, 3, 3, 8]),
    [b.const('conv1/bias', [8])],
    ['BiasAdd', 'Relu'],
    { padding: 'VALID' },
  );
  const dw = b.fusedConv2d(
    'dw',
    c1,
    b.const('dw/filter', [3, 3, 8, 1]),
    [b.const('dw/bias', [8])],
    ['BiasAdd', 'Relu6'],
    { depthwise: true, strides: 2 },
  );
  const c2 = b.conv2d('conv2', dw, b.const('conv2/filter', [1, 1, 8, 6]), { padding: 'SAME' });
  const ba = b.op('conv2/BiasAdd', 'BiasAdd', [c2, b.const('conv2/bias', [6])], {
    T: attr.type('DT_FLOAT'),
    data_format: attr.s('NHWC'),
  });
  const r6 = b.op('conv2/Relu6', 'Relu6', [ba], { T: attr.type('DT_FLOAT') });
  const mp = b.pool('maxpool', 'MaxPool', r6, 2, 1, 'SAME');
  const ap = b.pool('avgpool', 'AvgPool', r6, 2, 1, 'SAME');
  const cat = b.op('concat', 'ConcatV2', [mp, ap, b.ints('concat/axis', [3])], {
    T: attr.type('DT_FLOAT'),
    N: attr.i(2),
    Tidx: attr.type('DT_INT32'),
  });
  const rs = b.op('resize', 'ResizeBilinear', [cat, b.ints('resize/size', [8, 8])], {
    T: attr.type('DT_FLOAT'),
    align_corners: attr.b(false),
    half_pixel_centers: attr.b(true),
  });
  const mean = b.op('mean', 'Mean', [rs, b.ints('mean/axes', [1, 2])], {
    T: attr.type('DT_FLOAT'),
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  const fc = b.fusedMatMul('fc', mean, b.const('fc/kernel', [12, 10]), [b.const('fc/bias', [10])], ['BiasAdd', 'Relu']);
  const mm = b.op('fc2/MatMul', 'MatMul', [fc, b.const('fc2/kernel', [10, 4])], {
    T: attr.type('DT_FLOAT'),
    transpose_a: attr.b(false),
    transpose_b: attr.b(false),
  });
  const add = b.op('fc2/add', 'AddV2', [mm, b.const('fc2/bias', [4])], { T: attr.type('DT_FLOAT') });
  const rsh = b.op('reshape', 'Reshape', [add, b.ints('reshape/shape', [-1, 2, 2])], {
    T: attr.type('DT_FLOAT'),
    Tshape: attr.type('DT_INT32'),
  });
  const sm = b.op('softmax', 'Softmax', [rsh], { T: attr.type('DT_FLOAT') });
  b.op('Identity', 'Identity', [sm], { T: attr.type('DT_FLOAT') });
  b.outputs('Identity');
  return b;
}

/**
 * The accuracy guard's test net (graph model): a 3 × 3 stem, a depthwise layer, a 1 × 1 widening
 * to 64 channels, a strided 3 × 3 convolution, a global mean and a dense head of 10 logits.
 */
export function guardNetGraphModel(seed = 21): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('image', [-1, 16, 16, 3]);
  const c1 = b.fusedConv2d(
    'conv1',
    x,
    b.const('conv1/filter', [3, 3, 3, 16], undefined, 'float32', -0.4, 0.4),
    [b.const('conv1/bias', [16], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
  );
  const dw = b.fusedConv2d(
    'dw',
    c1,
    b.const('dw/filter', [3, 3, 16, 1], undefined, 'float32', -0.4, 0.4),
    [b.const('dw/bias', [16], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu6'],
    { depthwise: true },
  );
  const c2 = b.fusedConv2d(
    'conv2',
    dw,
    b.const('conv2/filter', [1, 1, 16, 64], undefined, 'float32', -0.3, 0.3),
    [b.const('conv2/bias', [64], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
  );
  const c3 = b.fusedConv2d(
    'conv3',
    c2,
    b.const('conv3/filter', [3, 3, 64, 64], undefined, 'float32', -0.08, 0.08),
    [b.const('conv3/bias', [64], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
    { strides: 2 },
  );
  const m = b.op('pool', 'Mean', [c3, b.ints('pool/axes', [1, 2])], {
    T: attr.type('DT_FLOAT'),
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  b.fusedMatMul('logits', m, b.const('logits/kernel', [64, 10]), [b.const('logits/bias', [10])], ['BiasAdd']);
  b.outputs('logits');
  return b;
}
