// Runs one control-flow region with stock tfjs-converter: the region's raw nodes (as the source
// model.json had them) become a graph model of their own — a placeholder for each tensor the
// region reads from outside, the function library for TF2 control flow — loaded once per
// region and input dtypes, and executed with executeAsync, so every construct tfjs supports
// runs exactly as stock tfjs runs it.
import { tf } from '../backend/float.js';
import { tfDtypeName } from './attrs.js';
import type { ControlFlowRegion } from './control-flow.js';
import { ModelFormatError } from './errors.js';
import { libraryConstantNames, type Graph, type Node } from './ir.js';
import { encodeWeights, type DType } from '../io/weights.js';

type Model = ReturnType<typeof tf.loadGraphModelSync>;
const models = new WeakMap<Graph, Map<string, Model>>();

/** Placeholder name of the region's i-th outside input (a tensor name like 'x:1' is no node name). */
function placeholderName(i: number): string {
  return `__region_input_${i}`;
}

function regionTopology(g: Graph, r: ControlFlowRegion, dtypes: string[]): Record<string, unknown> {
  const members = new Set(r.nodes);
  const external = new Map(r.inputs.map((t, i) => [t, placeholderName(i)]));
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const nodes: Record<string, unknown>[] = r.inputs.map((_, i) => ({
    name: placeholderName(i),
    op: 'Placeholder',
    attr: { dtype: { type: tfDtypeName(dtypes[i] as DType) } },
  }));
  for (const name of r.nodes) {
    const n: Node = byName.get(name)!;
    if (!n.opaque || !n.rawAttrs) {
      throw new ModelFormatError(
        'a node inside a control-flow region must keep its raw form (opaque, with its TF attrs)',
        { node: n.name },
      );
    }
    nodes.push({
      name: n.name,
      op: n.op,
      // Control inputs from outside are satisfied before the region runs; those inside order it.
      input: [
        ...n.inputs.map((t) => external.get(t) ?? t),
        ...(n.controlInputs ?? []).filter((c) => members.has(c)).map((c) => `^${c}`),
      ],
      attr: n.rawAttrs,
    });
  }
  return { node: nodes, library: g.library ?? {}, versions: { producer: 1 } };
}

function modelFor(g: Graph, r: ControlFlowRegion, inputs: tf.Tensor[]): Model {
  const dtypes = inputs.map((t) => t.dtype);
  const key = `${r.nodes.join('\n')}\n--\n${dtypes.join(',')}`;
  let per = models.get(g);
  if (!per) models.set(g, (per = new Map()));
  let model = per.get(key);
  if (!model) {
    try {
      // Const nodes inside library functions read their values from the model's weights by name.
      const fnConsts = libraryConstantNames(g.library).map((name) => {
        const c = g.constants.get(name);
        if (!c)
          throw new ModelFormatError(`function constant '${name}' is missing from the graph's constants`, {
            node: r.nodes[0],
          });
        return { name, dtype: c.dtype, shape: c.shape, data: c.data };
      });
      const { entries, bytes } = encodeWeights(fnConsts);
      model = tf.loadGraphModelSync({
        modelTopology: regionTopology(g, r, dtypes),
        format: 'graph-model',
        weightSpecs: entries,
        weightData: bytes.slice().buffer,
      } as unknown as tf.io.ModelArtifacts);
    } catch (e) {
      throw new ModelFormatError(`the control-flow region cannot be loaded by tfjs: ${(e as Error).message}`, {
        node: r.nodes[0],
      });
    }
    per.set(key, model);
  }
  return model;
}

/**
 * Runs region r of g on its outside inputs (aligned with r.inputs) and returns the tensors
 * named by `outputs` (tensors of region nodes), owned by the caller.
 */
export async function runRegion(
  g: Graph,
  r: ControlFlowRegion,
  inputs: tf.Tensor[],
  outputs: string[],
): Promise<tf.Tensor[]> {
  if (inputs.length !== r.inputs.length)
    throw new RangeError(`region ${r.id} reads ${r.inputs.length} tensors, got ${inputs.length}`);
  const model = modelFor(g, r, inputs);
  const feed: Record<string, tf.Tensor> = {};
  inputs.forEach((t, i) => (feed[placeholderName(i)] = t));
  let result: tf.Tensor | tf.Tensor[];
  try {
    result = await model.executeAsync(feed, outputs);
  } catch (e) {
    throw new ModelFormatError(`control-flow region failed in tfjs: ${(e as Error).message}`, { node: r.nodes[0] });
  }
  const list = Array.isArray(result) ? result : [result];
  // Never hand back a tensor the caller owns (an output that is an input passed through).
  return list.map((t) => (inputs.includes(t) ? t.clone() : t));
}
