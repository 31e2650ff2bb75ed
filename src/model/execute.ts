// Float execution of the IR with tfjs: the float reference for quantization, calibration
// (an observer sees every node's outputs), per-layer error reports and the fallback
// segments of the native runtime (run a subset of nodes from precomputed tensors).
import { tf } from '../backend/float.js';
import { ModelFormatError, asModelError } from './errors.js';
import { producers, type Constant, type Graph, type Node } from './ir.js';
import { OPS } from './ops.js';
import { executeOpaque } from './opaque.js';

export type GraphInputs = tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;

export interface ExecuteOptions {
  /** Tensors to compute (default: the graph outputs). */
  outputs?: string[];
  /** Precomputed tensors by name (e.g. from the native runtime); their producers do not run. */
  given?: Record<string, tf.Tensor>;
  /** Run only these nodes; every other tensor needed must be an input, a constant or given. */
  nodes?: Iterable<string>;
  /** Called after each node with its outputs (valid during the call only: clone to keep). */
  observer?: (node: Node, outputs: tf.Tensor[]) => void;
}

const constCache = new WeakMap<Constant, { data: Constant['data']; t: tf.Tensor }>();

/** The tfjs tensor of a constant (cached while the constant's data is unchanged). */
export function constantTensor(c: Constant): tf.Tensor {
  const hit = constCache.get(c);
  if (hit && hit.data === c.data && !hit.t.isDisposed) return hit.t;
  const t = tf.keep(tf.tensor(c.data as never, c.shape, c.dtype));
  constCache.set(c, { data: c.data, t });
  return t;
}

/** Frees the tfjs tensors cached for the graph's constants. */
export function disposeConstants(g: Graph): void {
  for (const c of g.constants.values()) {
    const hit = constCache.get(c);
    if (hit) {
      hit.t.dispose();
      constCache.delete(c);
    }
  }
}

function bindInputs(g: Graph, inputs: GraphInputs): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  if (inputs instanceof tf.Tensor) {
    if (g.inputs.length !== 1) throw new RangeError(`inputs: the model has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}); pass an array or a name → tensor record`);
    m.set(g.inputs[0]!.name, inputs);
  } else if (Array.isArray(inputs)) {
    if (inputs.length !== g.inputs.length) throw new RangeError(`inputs has ${inputs.length} tensors, the model takes ${g.inputs.length}`);
    inputs.forEach((t, i) => m.set(g.inputs[i]!.name, t));
  } else if (inputs && typeof inputs === 'object') {
    for (const [k, v] of Object.entries(inputs)) {
      if (!g.inputs.some((i) => i.name === k)) throw new RangeError(`inputs: '${k}' is not an input of the model (inputs: ${g.inputs.map((i) => i.name).join(', ')})`);
      m.set(k, v);
    }
  } else {
    throw new TypeError('inputs must be a tf.Tensor, an array of them or a name → tensor record');
  }
  for (const [k, t] of m) {
    if (!(t instanceof tf.Tensor)) throw new TypeError(`inputs['${k}'] must be a tf.Tensor`);
    if (t.isDisposed) throw new TypeError(`inputs['${k}'] is disposed`);
    const spec = g.inputs.find((i) => i.name === k)!;
    if (t.dtype !== spec.dtype) throw new TypeError(`inputs['${k}'] has dtype ${t.dtype}, the model expects ${spec.dtype}`);
    if (spec.shape) {
      const ok = t.shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === t.shape[i]);
      if (!ok) throw new RangeError(`inputs['${k}'] has shape [${t.shape.join(', ')}], the model expects [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
    }
  }
  return m;
}

/** Executes the graph (or the part asked for); returns the requested tensors in order (caller disposes). */
export function execute(g: Graph, inputs: GraphInputs, opts: ExecuteOptions = {}): tf.Tensor[] {
  const wanted = opts.outputs ?? g.outputs;
  if (!Array.isArray(wanted) || wanted.some((w) => typeof w !== 'string')) throw new TypeError('outputs must be an array of tensor names');
  const bound = bindInputs(g, inputs);
  const given = opts.given ?? {};
  for (const [k, v] of Object.entries(given)) {
    if (!(v instanceof tf.Tensor) || v.isDisposed) throw new TypeError(`given['${k}'] must be a live tf.Tensor`);
  }
  const prod = producers(g);
  const subset = opts.nodes ? new Set(opts.nodes) : undefined;
  if (subset) for (const s of subset) if (!g.nodes.some((n) => n.name === s)) throw new RangeError(`nodes: '${s}' is not a node of the graph`);
  // Nodes needed, walking back from the outputs.
  const need = new Set<Node>();
  const stack = [...wanted];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t in given || bound.has(t) || g.constants.has(t)) continue;
    const p = prod.get(t);
    if (!p) {
      if (g.inputs.some((i) => i.name === t)) throw new RangeError(`input '${t}' is needed but was not given`);
      throw new RangeError(`tensor '${t}' is not produced by the graph`);
    }
    if (subset && !subset.has(p[0].name)) throw new RangeError(`tensor '${t}' is needed but its node '${p[0].name}' is outside the subset and it was not given`);
    if (!need.has(p[0])) {
      need.add(p[0]);
      stack.push(...p[0].inputs);
    }
  }
  const external = new Set<tf.Tensor>([...bound.values(), ...Object.values(given)]);
  const result = tf.tidy(() => {
    const values = new Map<string, tf.Tensor>([...bound, ...Object.entries(given)]);
    const get = (t: string, node: Node): tf.Tensor => {
      const v = values.get(t);
      if (v) return v;
      const c = g.constants.get(t);
      if (c) return constantTensor(c);
      throw new ModelFormatError(`input '${t}' has no value`, { node: node.name });
    };
    for (const n of g.nodes) {
      if (!need.has(n)) continue;
      const ins = n.inputs.map((t) => get(t, n));
      let outs: tf.Tensor[];
      try {
        const spec = OPS[n.op];
        outs = n.opaque || !spec ? executeOpaque(n, ins) : spec.execute(n, ins);
      } catch (e) {
        throw asModelError(e, { node: n.name });
      }
      n.outputs.forEach((o, i) => {
        if (outs[i]) values.set(o, outs[i]!);
      });
      if (opts.observer) opts.observer(n, outs);
    }
    return wanted.map((w) => {
      const v = values.get(w) ?? (g.constants.has(w) ? constantTensor(g.constants.get(w)!) : undefined);
      if (!v) throw new ModelFormatError(`output '${w}' was not computed`);
      return v;
    });
  });
  // Never hand back a tensor the caller or the constant cache owns.
  return result.map((t) => (external.has(t) || [...g.constants.values()].some((c) => constCache.get(c)?.t === t) ? t.clone() : t));
}

/** execute(), returning a name → tensor record. */
export function executeNamed(g: Graph, inputs: GraphInputs, opts: ExecuteOptions = {}): Record<string, tf.Tensor> {
  const names = opts.outputs ?? g.outputs;
  const r = execute(g, inputs, opts);
  return Object.fromEntries(names.map((n, i) => [n, r[i]!]));
}
