// Opaque nodes (ops the IR does not know) run through stock tfjs: each becomes a one-node
// graph model (placeholders for its inputs, the node with its raw TF attrs), loaded once
// and executed with tfjs-converter, so every op tfjs supports keeps working. The common
// one-call ops are called directly, as that executor calls them (DIRECT).
import { tf } from '../backend/float.js';
import { native } from '../native/binding.js';
import { tfDtypeName } from './attrs.js';
import { ModelFormatError } from './errors.js';
import type { Node } from './ir.js';
import type { DType } from '../io/weights.js';

type Model = ReturnType<typeof tf.loadGraphModelSync>;
const cache = new WeakMap<Node, Map<string, Model>>();

/** A 'number' input as tfjs-converter reads it: the tensor's first value. */
const num = (t: tf.Tensor | undefined): number => (t ? (t.dataSync()[0] as number) : 0);
/** A 'dtype' attribute as tfjs-converter reads it (DT_INT32 → int32; float32 otherwise). */
function dtypeOf(n: Node, key: string): 'float32' | 'int32' | 'bool' {
  const t = (n.rawAttrs?.[key] as { type?: unknown } | undefined)?.type;
  return ['DT_INT32', 'DT_INT64', 'DT_INT8', 'DT_UINT8'].includes(t as string)
    ? 'int32'
    : t === 'DT_BOOL'
      ? 'bool'
      : 'float32';
}

/**
 * tf.argMax's values for float32 x, by the native kernel: tfjs-wasm transposes the axis last
 * and takes 0.4 ms on a pose model's [1, 2304, 17] heatmap, which the kernel scans in place.
 */
function argMax(x: tf.Tensor, axis: number): tf.Tensor {
  const rank = x.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (x.dtype !== 'float32' || a < 0 || a >= rank || x.size === 0) return tf.argMax(x, axis);
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const y = new Int32Array(outer * inner);
  native().opsArgMax(x.dataSync() as Float32Array, y, { outer, n: x.shape[a]!, inner });
  return tf.tensor(y, [...x.shape.slice(0, a), ...x.shape.slice(a + 1)], 'int32');
}

/**
 * tf.topk(x, k, sorted) for float32 x with sorted results, by the native kernel (one pass per
 * row with a heap of k): tfjs-wasm took 33 ms on a detector's 1.3 M heatmap scores, every run.
 * Unsorted results (sorted = false) are in an order tfjs leaves to its algorithm: tfjs makes them.
 */
function topK(x: tf.Tensor, k: number, sorted: boolean | undefined): tf.Tensor[] {
  const rank = x.shape.length;
  const n = x.shape[rank - 1] ?? 0;
  if (x.dtype !== 'float32' || sorted === false || rank === 0 || !Number.isInteger(k) || k < 0 || k > n) {
    const r = tf.topk(x, k, sorted);
    return [r.values, r.indices];
  }
  const rows = n === 0 ? 0 : x.size / n;
  const values = new Float32Array(rows * k),
    indices = new Int32Array(rows * k);
  native().opsTopK(x.dataSync() as Float32Array, values, indices, { rows, n, k });
  const shape = [...x.shape.slice(0, -1), k];
  return [tf.tensor(values, shape, 'float32'), tf.tensor(indices, shape, 'int32')];
}

/**
 * Ops whose tfjs-converter executor is one tfjs call on its inputs (operation_executor's
 * arithmetic, logical, reduction, slice_join, creation and evaluation cases): made here the
 * same call with the same arguments. The one-node graph model costs a GraphExecutor run per
 * call, about four times the op itself on small tensors — and a detector's or pose model's
 * post-processing is dozens of such ops on a few values, run every time.
 */
const DIRECT: Record<string, (n: Node, x: tf.Tensor[]) => tf.Tensor[]> = {
  ArgMax: (_n, x) => [argMax(x[0]!, num(x[1]))],
  ArgMin: (_n, x) => [tf.argMin(x[0]!, num(x[1]))],
  FloorDiv: (_n, x) => [tf.floorDiv(x[0]!, x[1]!)],
  FloorMod: (_n, x) => [tf.mod(x[0]!, x[1]!)],
  Mod: (_n, x) => [tf.mod(x[0]!, x[1]!)],
  Reciprocal: (_n, x) => [tf.reciprocal(x[0]!)],
  Equal: (_n, x) => [tf.equal(x[0]!, x[1]!)],
  NotEqual: (_n, x) => [tf.notEqual(x[0]!, x[1]!)],
  Less: (_n, x) => [tf.less(x[0]!, x[1]!)],
  LessEqual: (_n, x) => [tf.lessEqual(x[0]!, x[1]!)],
  Greater: (_n, x) => [tf.greater(x[0]!, x[1]!)],
  GreaterEqual: (_n, x) => [tf.greaterEqual(x[0]!, x[1]!)],
  LogicalAnd: (_n, x) => [tf.logicalAnd(x[0]!, x[1]!)],
  LogicalOr: (_n, x) => [tf.logicalOr(x[0]!, x[1]!)],
  LogicalNot: (_n, x) => [tf.logicalNot(x[0]!)],
  Select: (_n, x) => [tf.where(x[0]!, x[1]!, x[2]!)],
  SelectV2: (_n, x) => [tf.where(x[0]!, x[1]!, x[2]!)],
  GatherNd: (_n, x) => [tf.gatherND(x[0]!, x[1]!)],
  Fill: (n, x) => [tf.fill(Array.from(x[0]!.dataSync()), num(x[1]), dtypeOf(n, 'T'))],
  Range: (n, x) => [tf.range(num(x[0]), num(x[1]), x[2] ? num(x[2]) : 0, dtypeOf(n, 'Tidx') as 'float32' | 'int32')],
  TopKV2: (n, x) => {
    const sorted = (n.rawAttrs?.sorted as { b?: unknown } | undefined)?.b;
    return topK(x[0]!, num(x[1]), sorted === undefined ? undefined : sorted === true);
  },
};

/** The opaque ops run by a direct tfjs call (the others run as a one-node graph model). */
export const DIRECT_OPAQUE_OPS: ReadonlySet<string> = new Set(Object.keys(DIRECT));

export function executeOpaque(n: Node, inputs: tf.Tensor[]): tf.Tensor[] {
  const direct = DIRECT[n.op];
  if (direct && inputs.length >= n.inputs.length) {
    try {
      return direct(n, inputs);
    } catch (e) {
      throw new ModelFormatError(`op ${n.op} failed in tfjs: ${(e as Error).message}`, { node: n.name });
    }
  }
  const key = inputs.map((t) => t.dtype).join(',');
  let per = cache.get(n);
  if (!per) cache.set(n, (per = new Map()));
  let model: Model | undefined = per.get(key);
  if (!model) {
    const nodes: Record<string, unknown>[] = inputs.map((t, i) => ({
      name: `in${i}`,
      op: 'Placeholder',
      attr: { dtype: { type: tfDtypeName(t.dtype as DType) } },
    }));
    nodes.push({ name: 'opaque', op: n.op, input: inputs.map((_, i) => `in${i}`), attr: n.rawAttrs ?? {} });
    const outs = n.outputs.map((_, i) => (i === 0 ? 'opaque' : `opaque:${i}`));
    try {
      model = tf.loadGraphModelSync({
        modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
        format: 'graph-model',
        weightSpecs: [],
        weightData: new ArrayBuffer(0),
        signature: { outputs: Object.fromEntries(outs.map((o) => [o, { name: o }])) },
      } as unknown as tf.io.ModelArtifacts);
    } catch (e) {
      throw new ModelFormatError(`op ${n.op} cannot run in tfjs: ${(e as Error).message}`, { node: n.name });
    }
    per.set(key, model!);
  }
  const feed: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (feed[`in${i}`] = t));
  try {
    const r = model!.execute(
      feed,
      n.outputs.map((_, i) => (i === 0 ? 'opaque' : `opaque:${i}`)),
    );
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    throw new ModelFormatError(`op ${n.op} failed in tfjs: ${(e as Error).message}`, { node: n.name });
  }
}
