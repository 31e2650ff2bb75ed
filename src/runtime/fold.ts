// Plan-time folding: what a plan can compute once, before any run, becomes constants of a
// planning copy of the graph, and its nodes run nowhere (placement 'folded').
//
// - Known values: shape arithmetic whose result shape inference knows for the planned input
//   shapes (Shape → StridedSlice → Pack, ...), so that what reads it (a Reshape's shape, a
//   resize size, a transposed convolution's output shape) is planned with constant parameters.
// - Constant subgraphs: nodes all of whose inputs are constants (given, or folded here), run
//   once in tfjs as a run would run them. A detector's anchor grid (Fill, meshgrid, Pack, Tile
//   over sizes that shape folding just made constant) would otherwise run every time, in a
//   string of small tfjs segments between native ones.
//
// Graph outputs, control-flow nodes and ops whose value changes per run are never folded.
import { tf } from '../backend/float.js';
import { hasNonFiniteValues, type Constant, type Graph, type Node } from '../model/ir.js';
import { runNode, type PlanShapes } from '../model/shape-inference.js';
import { CONTROL_FLOW_OPS } from './placement.js';

/** Above this many elements an output of a constant subgraph is left to run time (memory held by the plan). */
const MAX_FOLDED_ELEMENTS = 1 << 20;
/** Ops whose result is not a function of their inputs alone. */
const UNFOLDABLE = /Random|Multinomial|Shuffle|Assert|Print|Variable|Placeholder|HashTable|LookupTable/;

export function foldPlanGraph(
  g: Graph,
  shapes: PlanShapes,
  order: Node[],
  region: Set<string>,
): { graph: Graph; folded: Set<string> } {
  const folded = new Set<string>();
  const outputs = new Set(g.outputs);
  const constants = new Map(g.constants);
  for (const n of order) {
    if (region.has(n.name) || CONTROL_FLOW_OPS.has(n.op) || n.outputs.some((o) => outputs.has(o))) continue;
    const values = knownValues(n, shapes) ?? evaluateConstant(n, constants);
    if (!values) continue;
    folded.add(n.name);
    values.forEach((c) => constants.set(c.name, c));
  }
  if (folded.size === 0) return { graph: g, folded };
  return { graph: { ...g, constants, nodes: g.nodes.filter((n) => !folded.has(n.name)) }, folded };
}

/** The node's outputs as constants when shape inference knows every value, else undefined. */
function knownValues(n: Node, shapes: PlanShapes): Constant[] | undefined {
  const known = n.outputs.map((o) => shapes.get(o));
  const all = known.every(
    (k) =>
      k?.value !== undefined &&
      k.shape &&
      k.shape.every((d) => d >= 0) &&
      (k.dtype === 'int32' || k.dtype === 'float32'),
  );
  if (!all) return undefined;
  return n.outputs.map((o, i) => {
    const k = known[i]!;
    return {
      name: o,
      dtype: k.dtype,
      shape: [...k.shape!],
      data: k.dtype === 'int32' ? Int32Array.from(k.value!) : Float32Array.from(k.value!),
    };
  });
}

/**
 * The node run once in tfjs when every input is a constant; undefined otherwise. A constant's
 * data are its float values however it is stored, as a tfjs segment would read them.
 */
function evaluateConstant(n: Node, constants: ReadonlyMap<string, Constant>): Constant[] | undefined {
  if (UNFOLDABLE.test(n.op) || n.inputs.length === 0 || n.outputs.length === 0) return undefined;
  const ins = n.inputs.map((t) => constants.get(t));
  if (ins.some((c) => !c || c.quantization?.encoded || c.dtype === 'string')) return undefined;
  const feeds = ins.map((c) => tf.tensor(c!.data as Float32Array, c!.shape, c!.dtype as 'float32'));
  let res: tf.Tensor[] = [];
  try {
    res = runNode(n, feeds);
    if (
      res.length < n.outputs.length ||
      res.some((r) => r.size > MAX_FOLDED_ELEMENTS || !['float32', 'int32', 'bool'].includes(r.dtype))
    )
      return undefined;
    return n.outputs.map((o, i) => {
      const r = res[i]!;
      const v = r.dataSync();
      const data =
        r.dtype === 'float32' ? Float32Array.from(v) : r.dtype === 'int32' ? Int32Array.from(v) : Uint8Array.from(v);
      return {
        name: o,
        dtype: r.dtype as 'float32' | 'int32' | 'bool',
        shape: [...r.shape],
        data,
        ...(hasNonFiniteValues(data) ? { nonFinite: true } : {}),
      };
    });
  } catch {
    // The op rejects these values in tfjs: left to run time, where the error names the node.
    return undefined;
  } finally {
    tf.dispose(feeds);
    tf.dispose(res);
  }
}
