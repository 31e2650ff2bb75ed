// Float execution of the IR with tfjs: the float reference for quantization, calibration
// (an observer sees every node's outputs), per-layer error reports and the fallback
// segments of the native runtime (run a subset of nodes from precomputed tensors).
import { tf } from '../backend/float.js';
import { ModelFormatError, asModelError } from './errors.js';
import {
  controlFlowRegions,
  executionUnits,
  hasControlFlow,
  regionIndex,
  type ControlFlowRegion,
  type ExecutionUnit,
} from './control-flow.js';
import { parseTensorName, producers, type Constant, type Graph, type Node } from './ir.js';
import { runRegion } from './run-region.js';
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
  /**
   * What to run, from planRun() with the same outputs, nodes and available tensors: a caller
   * running one subset many times (a session's tfjs segments) walks the graph once, not per run.
   */
  plan?: RunPlan;
}

/** The static part of a run: what runs, in which order (planRun). */
export interface RunPlan {
  readonly graph: Graph;
  readonly wanted: readonly string[];
  /** Tensors the run is given (graph inputs and `given`), by name. */
  readonly available: ReadonlySet<string>;
  /** The nodes outside control-flow regions and the regions to run, in dependency order. */
  readonly units: readonly ExecutionUnit[];
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
    if (g.inputs.length !== 1)
      throw new RangeError(
        `inputs: the model has ${g.inputs.length} inputs (${g.inputs.map((i) => i.name).join(', ')}); pass an array or a name → tensor record`,
      );
    m.set(g.inputs[0]!.name, inputs);
  } else if (Array.isArray(inputs)) {
    if (inputs.length !== g.inputs.length)
      throw new RangeError(`inputs has ${inputs.length} tensors, the model takes ${g.inputs.length}`);
    inputs.forEach((t, i) => m.set(g.inputs[i]!.name, t));
  } else if (inputs && typeof inputs === 'object') {
    for (const [k, v] of Object.entries(inputs)) {
      if (!g.inputs.some((i) => i.name === k))
        throw new RangeError(
          `inputs: '${k}' is not an input of the model (inputs: ${g.inputs.map((i) => i.name).join(', ')})`,
        );
      m.set(k, v);
    }
  } else {
    throw new TypeError('inputs must be a tf.Tensor, an array of them or a name → tensor record');
  }
  for (const [k, t] of m) {
    if (!(t instanceof tf.Tensor)) throw new TypeError(`inputs['${k}'] must be a tf.Tensor`);
    if (t.isDisposed) throw new TypeError(`inputs['${k}'] is disposed`);
    const spec = g.inputs.find((i) => i.name === k)!;
    if (t.dtype !== spec.dtype)
      throw new TypeError(`inputs['${k}'] has dtype ${t.dtype}, the model expects ${spec.dtype}`);
    if (spec.shape) {
      const ok = t.shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === t.shape[i]);
      if (!ok)
        throw new RangeError(
          `inputs['${k}'] has shape [${t.shape.join(', ')}], the model expects [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`,
        );
    }
  }
  return m;
}

interface Bound {
  bound: Map<string, tf.Tensor>;
  given: Record<string, tf.Tensor>;
  plan: RunPlan;
}

/** Checks the arguments, then takes the caller's plan (checked against them) or makes one. */
function prepare(g: Graph, inputs: GraphInputs, opts: ExecuteOptions): Bound {
  if (opts === null || typeof opts !== 'object') throw new TypeError('options must be an object');
  const bound = bindInputs(g, inputs);
  const given = opts.given ?? {};
  for (const [k, v] of Object.entries(given)) {
    if (!(v instanceof tf.Tensor) || v.isDisposed) throw new TypeError(`given['${k}'] must be a live tf.Tensor`);
  }
  const names = [...bound.keys(), ...Object.keys(given)];
  if (!opts.plan)
    return { bound, given, plan: planRun(g, { outputs: opts.outputs, nodes: opts.nodes, available: names }) };
  const plan = opts.plan;
  if (plan.graph !== g) throw new TypeError('options.plan was made for another graph');
  if (names.length !== plan.available.size || names.some((n) => !plan.available.has(n))) {
    throw new RangeError(
      `options.plan was made for the tensors [${[...plan.available].join(', ')}], the run gives [${names.join(', ')}]`,
    );
  }
  return { bound, given, plan };
}

/**
 * What computing `outputs` (default: the graph outputs) from the `available` tensors runs, in
 * order: walks back from the outputs once (run only `nodes` when given).
 */
export function planRun(
  g: Graph,
  opts: { outputs?: string[]; nodes?: Iterable<string>; available: Iterable<string> },
): RunPlan {
  const wanted = opts.outputs ?? g.outputs;
  if (!Array.isArray(wanted) || wanted.some((w) => typeof w !== 'string'))
    throw new TypeError('outputs must be an array of tensor names');
  const available = new Set(opts.available);
  const allRegions = hasControlFlow(g) ? controlFlowRegions(g) : [];
  const prod = producers(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const regionOf = regionIndex(allRegions);
  const subset = opts.nodes ? new Set(opts.nodes) : undefined;
  if (subset) {
    for (const s of subset) if (!byName.has(s)) throw new RangeError(`nodes: '${s}' is not a node of the graph`);
    for (const r of allRegions) {
      const inside = r.nodes.filter((n) => subset.has(n)).length;
      if (inside > 0 && inside < r.nodes.length) {
        throw new RangeError(
          `nodes: holds ${inside} of the ${r.nodes.length} nodes of the control-flow region starting at '${r.nodes[0]}'; a region runs whole`,
        );
      }
    }
  }
  const need = new Set<Node>();
  const regions = new Set<ControlFlowRegion>();
  const stack = [...wanted];
  const seen = new Set<string>();
  const addNode = (n: Node): void => {
    const r = regionOf.get(n.name);
    if (r !== undefined) {
      const region = allRegions[r]!;
      if (regions.has(region)) return;
      regions.add(region);
      stack.push(...region.inputs);
      for (const c of region.controlInputs) addControl(c);
    } else if (!need.has(n)) {
      need.add(n);
      stack.push(...n.inputs);
      for (const c of n.controlInputs ?? []) addControl(c);
    }
  };
  // A control input only orders execution: its node runs first when it is part of this run.
  const addControl = (name: string): void => {
    const n = byName.get(name);
    if (n && (!subset || subset.has(name))) addNode(n);
  };
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (available.has(t) || g.constants.has(t)) continue;
    const p = prod.get(t);
    if (!p) {
      if (g.inputs.some((i) => i.name === t)) throw new RangeError(`input '${t}' is needed but was not given`);
      throw new RangeError(`tensor '${t}' is not produced by the graph`);
    }
    if (subset && !subset.has(p[0].name))
      throw new RangeError(
        `tensor '${t}' is needed but its node '${p[0].name}' is outside the subset and it was not given`,
      );
    addNode(p[0]);
  }
  const units = regions.size
    ? executionUnits(g, allRegions).filter((u) => (u.kind === 'node' ? need.has(u.node) : regions.has(u.region)))
    : g.nodes.filter((n) => need.has(n)).map((node) => ({ kind: 'node' as const, node }));
  return { graph: g, wanted: [...wanted], available, units };
}

function runNode(n: Node, ins: tf.Tensor[]): tf.Tensor[] {
  try {
    const spec = OPS[n.op];
    return n.opaque || !spec ? executeOpaque(n, ins) : spec.execute(n, ins);
  } catch (e) {
    throw asModelError(e, { node: n.name });
  }
}

function isCachedConstant(g: Graph, t: tf.Tensor): boolean {
  for (const c of g.constants.values()) if (constCache.get(c)?.t === t) return true;
  return false;
}

/**
 * True when computing the outputs asked for (default: the graph outputs) runs a control-flow
 * region, which only executeAsync can do.
 */
export function requiresAsync(g: Graph, opts: Pick<ExecuteOptions, 'outputs' | 'nodes'> = {}): boolean {
  if (!hasControlFlow(g)) return false;
  const regions = controlFlowRegions(g);
  const subset = opts.nodes ? new Set(opts.nodes) : undefined;
  if (subset) return regions.some((r) => r.nodes.some((n) => subset.has(n)));
  const prod = producers(g);
  const regionOf = regionIndex(regions);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const stack = [...(opts.outputs ?? g.outputs)];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = prod.get(t)?.[0] ?? byName.get(t);
    if (!n) continue;
    if (regionOf.has(n.name)) return true;
    stack.push(...n.inputs, ...(n.controlInputs ?? []));
  }
  return false;
}

/**
 * Executes the graph (or the part asked for); returns the requested tensors in order (caller
 * disposes). Synchronous: a run that needs a control-flow region is refused before anything
 * runs (use executeAsync).
 */
export function execute(g: Graph, inputs: GraphInputs, opts: ExecuteOptions = {}): tf.Tensor[] {
  const { bound, given, plan } = prepare(g, inputs, opts);
  const regions = plan.units.filter((u) => u.kind === 'region');
  if (regions.length) {
    throw new Error(
      `execute: this run needs ${regions.length} control-flow region(s) (the first starts at node '${regions[0]!.region.nodes[0]}'), which only tfjs-converter runs asynchronously: use executeAsync`,
    );
  }
  const external = new Set<tf.Tensor>([...bound.values(), ...Object.values(given)]);
  const result = tf.tidy(() => {
    const values = new Map<string, tf.Tensor>([...bound, ...Object.entries(given)]);
    for (const u of plan.units) {
      const n = (u as { node: Node }).node;
      const outs = runNode(
        n,
        n.inputs.map((t) => valueOf(g, values, t, n)),
      );
      n.outputs.forEach((o, i) => {
        if (outs[i]) values.set(o, outs[i]!);
      });
      if (opts.observer) opts.observer(n, outs);
    }
    return plan.wanted.map((w) => resultOf(g, values, w));
  });
  // Never hand back a tensor the caller or the constant cache owns.
  return result.map((t) => (external.has(t) || isCachedConstant(g, t) ? t.clone() : t));
}

function valueOf(g: Graph, values: Map<string, tf.Tensor>, t: string, node: Node): tf.Tensor {
  const v = values.get(t);
  if (v) return v;
  const c = g.constants.get(t);
  if (c) return constantTensor(c);
  throw new ModelFormatError(`input '${t}' has no value`, { node: node.name });
}

function resultOf(g: Graph, values: Map<string, tf.Tensor>, w: string): tf.Tensor {
  const v = values.get(w) ?? (g.constants.has(w) ? constantTensor(g.constants.get(w)!) : undefined);
  if (!v) throw new ModelFormatError(`output '${w}' was not computed`);
  return v;
}

/**
 * execute() for any graph: control-flow regions run as a whole in tfjs-converter
 * (src/model/run-region.ts), every other node as execute() runs it. The observer sees the
 * nodes outside regions only.
 */
export async function executeAsync(g: Graph, inputs: GraphInputs, opts: ExecuteOptions = {}): Promise<tf.Tensor[]> {
  const { bound, given, plan } = prepare(g, inputs, opts);
  const wanted = plan.wanted;
  const values = new Map<string, tf.Tensor>([...bound, ...Object.entries(given)]);
  // Tensors this run created (an op may hand back one of its inputs, a constant or a caller's tensor: those are not ours).
  const owned = new Set<tf.Tensor>();
  const known = new Set<tf.Tensor>(values.values());
  const keep = (t: tf.Tensor): void => {
    if (!known.has(t)) owned.add(t);
    known.add(t);
  };
  // Constants read are known too: an op handing one back does not make it ours.
  const read = (t: string, n: Node): tf.Tensor => {
    const v = valueOf(g, values, t, n);
    known.add(v);
    return v;
  };
  try {
    for (const u of plan.units) {
      if (u.kind === 'node') {
        const n = u.node;
        const ins = n.inputs.map((t) => read(t, n));
        const outs = tf.tidy(() => runNode(n, ins));
        outs.forEach(keep);
        n.outputs.forEach((o, i) => {
          if (outs[i]) values.set(o, outs[i]!);
        });
        if (opts.observer) opts.observer(n, outs);
      } else {
        const r = u.region;
        const ins = r.inputs.map((t) => read(t, { name: r.nodes[0]! } as Node));
        const names = r.outputs.concat(
          wanted.filter((w) => !r.outputs.includes(w) && r.nodes.includes(parseTensorName(w)[0])),
        );
        const outs = await runRegion(g, r, ins, names);
        outs.forEach((t, i) => {
          keep(t);
          values.set(names[i]!, t);
        });
      }
    }
    const result = wanted.map((w) => resultOf(g, values, w));
    const kept = new Set(result);
    for (const t of owned) if (!kept.has(t)) t.dispose();
    return result.map((t) => (owned.has(t) ? t : t.clone()));
  } catch (e) {
    for (const t of owned) t.dispose();
    throw e;
  }
}

/** execute(), returning a name → tensor record. */
export function executeNamed(g: Graph, inputs: GraphInputs, opts: ExecuteOptions = {}): Record<string, tf.Tensor> {
  const names = opts.outputs ?? g.outputs;
  const r = execute(g, inputs, opts);
  return Object.fromEntries(names.map((n, i) => [n, r[i]!]));
}
