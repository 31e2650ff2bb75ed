// Opaque nodes (ops the IR does not know) run through stock tfjs: each becomes a one-node
// graph model (placeholders for its inputs, the node with its raw TF attrs), loaded once
// and executed with tfjs-converter, so every op tfjs supports keeps working.
import { tf } from '../backend/float.js';
import { tfDtypeName } from './attrs.js';
import { ModelFormatError } from './errors.js';
import type { Node } from './ir.js';
import type { DType } from '../io/weights.js';

type Model = ReturnType<typeof tf.loadGraphModelSync>;
const cache = new WeakMap<Node, Map<string, Model>>();

export function executeOpaque(n: Node, inputs: tf.Tensor[]): tf.Tensor[] {
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
