// Hand-written graph models for the construct tests: node lists, attributes and function
// libraries spelled out as tfjs-converter emits them, weights packed here (little-endian
// float32 / int32, in manifest order), and the stock tfjs-converter run of the same JSON that
// the tests compare against.
import { tf } from '../../src/backend/float.js';

export type RawNode = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };
export interface ConstSpec {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  values: number[];
}
export interface HandModel {
  modelJson: Record<string, unknown>;
  weightData: Uint8Array;
}

const DT = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' } as const;

export const a = {
  type: (t: keyof typeof DT) => ({ type: DT[t] }),
  i: (v: number) => ({ i: String(v) }),
  f: (v: number) => ({ f: v }),
  b: (v: boolean) => ({ b: v }),
  s: (v: string) => ({ s: Buffer.from(v).toString('base64') }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  strs: (v: string[]) => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  types: (v: (keyof typeof DT)[]) => ({ list: { type: v.map((t) => DT[t]) } }),
  shape: (v: number[]) => ({ shape: { dim: v.map((d) => ({ size: String(d) })) } }),
  func: (name: string) => ({ func: { name } }),
};

/** The attributes of a float32 NHWC Conv2D / DepthwiseConv2dNative node. */
export function convAttrs(stride = 1, padding: 'SAME' | 'VALID' = 'SAME') {
  return {
    T: a.type('float32'),
    strides: a.ints([1, stride, stride, 1]),
    padding: a.s(padding),
    data_format: a.s('NHWC'),
    dilations: a.ints([1, 1, 1, 1]),
  };
}

/** A float32 NHWC pooling node over k × k windows. */
export function poolNode(
  op: 'MaxPool' | 'AvgPool',
  name: string,
  input: string,
  k: number,
  stride = 1,
  padding: 'SAME' | 'VALID' = 'SAME',
): RawNode {
  return {
    name,
    op,
    input: [input],
    attr: {
      T: a.type('float32'),
      ksize: a.ints([1, k, k, 1]),
      strides: a.ints([1, stride, stride, 1]),
      padding: a.s(padding),
      data_format: a.s('NHWC'),
    },
  };
}

/** A GatherV2 of float32 params by int32 indices along the axis held by constant `axis` (batch_dims 0). */
export function gatherNode(name: string, params: string, indices: string, axis: string): RawNode {
  return {
    name,
    op: 'GatherV2',
    input: [params, indices, axis],
    attr: { Tparams: a.type('float32'), Tindices: a.type('int32'), Taxis: a.type('int32'), batch_dims: a.i(0) },
  };
}

export function placeholder(name: string, dtype: keyof typeof DT, shape: number[]): RawNode {
  return { name, op: 'Placeholder', attr: { dtype: a.type(dtype), shape: a.shape(shape) } };
}

/** A graph model: Const nodes for `consts` (values in the weights), then `nodes`. */
export function handModel(
  nodes: RawNode[],
  consts: Record<string, ConstSpec & { control?: string[] }>,
  extra: { signature?: unknown; library?: unknown } = {},
): HandModel {
  const constNodes: RawNode[] = Object.entries(consts).map(([name, c]) => ({
    name,
    op: 'Const',
    ...(c.control ? { input: c.control.map((x) => `^${x}`) } : {}),
    attr: {
      value: { tensor: { dtype: DT[c.dtype], tensorShape: { dim: c.shape.map((d) => ({ size: String(d) })) } } },
      dtype: a.type(c.dtype),
    },
  }));
  const parts: Uint8Array[] = [];
  const weights = Object.entries(consts).map(([name, c]) => {
    const bytes =
      c.dtype === 'float32'
        ? new Uint8Array(Float32Array.from(c.values).buffer)
        : c.dtype === 'int32'
          ? new Uint8Array(Int32Array.from(c.values).buffer)
          : Uint8Array.from(c.values);
    parts.push(bytes);
    return { name, shape: c.shape, dtype: c.dtype };
  });
  const weightData = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    weightData.set(p, off);
    off += p.byteLength;
  }
  const modelJson: Record<string, unknown> = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology: { node: [...constNodes, ...nodes], library: extra.library ?? {}, versions: { producer: 1474 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
    ...(extra.signature ? { signature: extra.signature } : {}),
  };
  return { modelJson, weightData };
}

/** Stock tfjs-converter on the same JSON and bytes: executeAsync with the given outputs (default: the model's). */
export async function stockRun(
  m: HandModel,
  feed: Record<string, tf.Tensor>,
  outputs?: string[],
): Promise<tf.Tensor[]> {
  const j = m.modelJson as {
    modelTopology: unknown;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    signature?: unknown;
  };
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: j.modelTopology as never,
      weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
      weightData: m.weightData.slice().buffer,
      format: 'graph-model',
      signature: j.signature as never,
    }),
  );
  const r = await model.executeAsync(feed, outputs);
  // An output may be one of the model's weights (a loop run zero times returns its initial
  // constant): copy before the model frees them.
  const list = (Array.isArray(r) ? r : [r]).map((t) => t.clone());
  model.dispose();
  return list;
}

/** Element-wise identical (same dtype, shape and values; NaN equal to NaN). */
export function expectSameTensors(
  expect: (v: unknown) => { toEqual(x: unknown): void },
  ours: tf.Tensor[],
  ref: tf.Tensor[],
): number {
  expect(ours.length).toEqual(ref.length);
  ref.forEach((r, i) => {
    const o = ours[i]!;
    expect({ dtype: o.dtype, shape: o.shape }).toEqual({ dtype: r.dtype, shape: r.shape });
    expect(Array.from(o.dataSync() as Float32Array)).toEqual(Array.from(r.dataSync() as Float32Array));
  });
  return ref.length;
}

const F = { T: a.type('float32') };

/** A TF1 while loop: i counts to n while acc ← acc × 0.5 + scale, with scale computed outside the frame. */
export const whileNodes: RawNode[] = [
  placeholder('x', 'float32', [-1, 3]),
  placeholder('n', 'int32', []),
  { name: 'pre', op: 'Relu', input: ['x'], attr: F },
  { name: 'scale', op: 'Mul', input: ['x', 'c'], attr: F },
  {
    name: 'w/Enter',
    op: 'Enter',
    input: ['i0'],
    attr: {
      T: a.type('int32'),
      frame_name: a.s('w/while_context'),
      is_constant: a.b(false),
      parallel_iterations: a.i(10),
    },
  },
  {
    name: 'w/Enter_1',
    op: 'Enter',
    input: ['pre'],
    attr: { ...F, frame_name: a.s('w/while_context'), is_constant: a.b(false), parallel_iterations: a.i(10) },
  },
  {
    name: 'w/Enter_2',
    op: 'Enter',
    input: ['n'],
    attr: {
      T: a.type('int32'),
      frame_name: a.s('w/while_context'),
      is_constant: a.b(true),
      parallel_iterations: a.i(10),
    },
  },
  {
    name: 'w/Enter_3',
    op: 'Enter',
    input: ['scale'],
    attr: { ...F, frame_name: a.s('w/while_context'), is_constant: a.b(true), parallel_iterations: a.i(10) },
  },
  { name: 'w/Merge', op: 'Merge', input: ['w/Enter', 'w/NextIteration'], attr: { T: a.type('int32'), N: a.i(2) } },
  { name: 'w/Merge_1', op: 'Merge', input: ['w/Enter_1', 'w/NextIteration_1'], attr: { ...F, N: a.i(2) } },
  { name: 'w/Less', op: 'Less', input: ['w/Merge', 'w/Enter_2'], attr: { T: a.type('int32') } },
  { name: 'w/LoopCond', op: 'LoopCond', input: ['w/Less'] },
  { name: 'w/Switch', op: 'Switch', input: ['w/Merge', 'w/LoopCond'], attr: { T: a.type('int32') } },
  { name: 'w/Switch_1', op: 'Switch', input: ['w/Merge_1', 'w/LoopCond'], attr: F },
  { name: 'w/Identity', op: 'Identity', input: ['w/Switch:1'], attr: { T: a.type('int32') } },
  { name: 'w/Identity_1', op: 'Identity', input: ['w/Switch_1:1'], attr: F },
  { name: 'w/add', op: 'AddV2', input: ['w/Identity', 'w/one'], attr: { T: a.type('int32') } },
  { name: 'w/mul', op: 'Mul', input: ['w/Identity_1', 'w/half'], attr: F },
  { name: 'w/add_1', op: 'AddV2', input: ['w/mul', 'w/Enter_3'], attr: F },
  { name: 'w/NextIteration', op: 'NextIteration', input: ['w/add'], attr: { T: a.type('int32') } },
  { name: 'w/NextIteration_1', op: 'NextIteration', input: ['w/add_1'], attr: F },
  { name: 'w/Exit', op: 'Exit', input: ['w/Switch'], attr: { T: a.type('int32') } },
  { name: 'w/Exit_1', op: 'Exit', input: ['w/Switch_1'], attr: F },
  { name: 'out', op: 'Tanh', input: ['w/Exit_1'], attr: F },
];
export const whileConsts = {
  c: { dtype: 'float32' as const, shape: [], values: [0.75] },
  i0: { dtype: 'int32' as const, shape: [], values: [0] },
  'w/one': { dtype: 'int32' as const, shape: [], values: [1], control: ['w/Identity'] },
  'w/half': { dtype: 'float32' as const, shape: [], values: [0.5], control: ['w/Identity'] },
};
