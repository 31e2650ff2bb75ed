// The reference execution of a quantized graph (docs/quantization.md §12), node by node:
// int8 nodes through the bit-exact native kernels (src/kernels: im2col + packed GEMM with the
// requantize epilogue, depthwise, pooling, elementwise, tables, softmax, data movement), float
// nodes through tfjs (the same OPS table as execute()), conversions where a tensor is consumed
// (§12.2), `dynamic` Conv2D/MatMul through dynamicGemm (§12.4), or dynamicGemmInt4 when the
// weight is int4 (§12.5). The native runtime must equal
// this on every int8 tensor, bit for bit; reports compare it with float execution.
import { tf } from '../backend/float.js';
import { asModelError, ModelFormatError } from '../model/errors.js';
import { constantTensor, requiresAsync, type GraphInputs } from '../model/execute.js';
import { executionUnits, type ControlFlowRegion } from '../model/control-flow.js';
import { runRegion } from '../model/run-region.js';
import { parseTensorName, type Graph, type Node } from '../model/ir.js';
import { executeOpaque } from '../model/opaque.js';
import { OPS } from '../model/ops.js';
import { dequantize, quantize } from '../kernels/quantize.js';
import { activationTable, planExecution, preactName, quantizationInfo, type NodeExecution } from './params.js';
import { type QVal, type Val, runInt8, runDynamic } from './simulate-node.js';

/** A tensor of the simulation: int8 with its parameters, or plain data. */
export type SimTensor =
  | { dtype: 'int8'; shape: number[]; data: Int8Array; scale: number; zeroPoint: number }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'bool'; shape: number[]; data: Uint8Array };

export interface SimulateOptions {
  /** Keep every tensor (true) or these tensors (names) in `tensors`. */
  capture?: boolean | string[];
}

export interface SimulateResult {
  /** Graph outputs in order: float32 (dequantized, §12.2) unless outputType is int8. */
  outputs: SimTensor[];
  /** Captured tensors by name (node outputs and `<output>/preact`), as produced: int8 or float. */
  tensors: Map<string, SimTensor>;
  /** How each node ran. */
  plan: Map<string, NodeExecution>;
}

/** Simulation inputs: tf tensors (as execute()), or int8 SimTensors for inputType int8 graphs. */
export type SimulateInputs = GraphInputs | SimTensor | SimTensor[] | Record<string, SimTensor | tf.Tensor>;

function toSim(v: Val): SimTensor {
  if (v.kind === 'q')
    return { dtype: 'int8', shape: [...v.shape], data: v.data, scale: v.p.scale, zeroPoint: v.p.zeroPoint };
  const t = v.t;
  const shape = [...t.shape];
  if (t.dtype === 'int32') return { dtype: 'int32', shape, data: Int32Array.from(t.dataSync() as Int32Array) };
  if (t.dtype === 'bool') return { dtype: 'bool', shape, data: Uint8Array.from(t.dataSync() as Uint8Array) };
  if (t.dtype !== 'float32') throw new TypeError(`tensor of dtype ${t.dtype} cannot be captured`);
  return { dtype: 'float32', shape, data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** §3 on a SimTensor (int8 → float32); other tensors are returned as they are. */
export function dequantizeSim(t: SimTensor): SimTensor {
  if (t.dtype !== 'int8') return t;
  return { dtype: 'float32', shape: t.shape, data: dequantize(t.data, { scale: t.scale, zeroPoint: t.zeroPoint }) };
}

function isSimTensor(v: unknown): v is SimTensor {
  return (
    typeof v === 'object' && v !== null && !(v instanceof tf.Tensor) && 'data' in v && 'shape' in v && 'dtype' in v
  );
}

function bindSimInputs(g: Graph, inputs: SimulateInputs): Map<string, tf.Tensor | SimTensor> {
  const m = new Map<string, tf.Tensor | SimTensor>();
  const names = g.inputs.map((i) => i.name);
  if (inputs instanceof tf.Tensor || isSimTensor(inputs)) {
    if (names.length !== 1)
      throw new RangeError(
        `inputs: the model has ${names.length} inputs (${names.join(', ')}); pass an array or a name → tensor record`,
      );
    m.set(names[0]!, inputs);
  } else if (Array.isArray(inputs)) {
    if (inputs.length !== names.length)
      throw new RangeError(`inputs has ${inputs.length} tensors, the model takes ${names.length}`);
    inputs.forEach((t, i) => m.set(names[i]!, t));
  } else if (inputs && typeof inputs === 'object') {
    for (const [k, v] of Object.entries(inputs)) {
      if (!names.includes(k))
        throw new RangeError(`inputs: '${k}' is not an input of the model (inputs: ${names.join(', ')})`);
      m.set(k, v);
    }
  } else {
    throw new TypeError('inputs must be a tf.Tensor, a SimTensor, an array of them or a name → tensor record');
  }
  for (const spec of g.inputs) {
    const v = m.get(spec.name);
    if (v === undefined) throw new RangeError(`input '${spec.name}' was not given`);
    if (v instanceof tf.Tensor) {
      if (v.isDisposed) throw new TypeError(`inputs['${spec.name}'] is disposed`);
      if (v.dtype !== spec.dtype)
        throw new TypeError(`inputs['${spec.name}'] has dtype ${v.dtype}, the model expects ${spec.dtype}`);
    } else if (!isSimTensor(v)) {
      throw new TypeError(`inputs['${spec.name}'] must be a tf.Tensor or a SimTensor`);
    } else if (v.data.length !== v.shape.reduce((a, b) => a * b, 1)) {
      throw new RangeError(`inputs['${spec.name}'] has ${v.data.length} values for shape [${v.shape.join(', ')}]`);
    }
    const shape = v instanceof tf.Tensor ? v.shape : v.shape;
    if (spec.shape && !(shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]))) {
      throw new RangeError(
        `inputs['${spec.name}'] has shape [${shape.join(', ')}], the model expects [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`,
      );
    }
  }
  return m;
}

/**
 * Executes a §12-annotated graph (or a float graph: then every node runs float) on one batch.
 * Conversions happen where tensors are consumed, once per tensor (§12.2). A graph with
 * control-flow regions needs simulateAsync (decided up front).
 */
export function simulate(g: Graph, inputs: SimulateInputs, opts: SimulateOptions = {}): SimulateResult {
  if (requiresAsync(g)) {
    throw new ModelFormatError(
      'simulate: the graph has control-flow regions, which only tfjs-converter runs asynchronously: use simulateAsync',
    );
  }
  const run = startSimulation(g, inputs, opts);
  try {
    for (const n of g.nodes) run.node(n);
    return run.result();
  } finally {
    run.dispose();
  }
}

/**
 * simulate() for any graph: control-flow regions (kept in float by the quantizer: their nodes
 * are raw TF ops) run whole through tfjs-converter on their float inputs; every other node as
 * simulate() runs it.
 */
export async function simulateAsync(
  g: Graph,
  inputs: SimulateInputs,
  opts: SimulateOptions = {},
): Promise<SimulateResult> {
  const run = startSimulation(g, inputs, opts);
  try {
    for (const u of executionUnits(g)) {
      if (u.kind === 'node') run.node(u.node);
      else await run.region(u.region);
    }
    return run.result();
  } finally {
    run.dispose();
  }
}

interface Simulation {
  node(n: Node): void;
  region(r: ControlFlowRegion): Promise<void>;
  result(): SimulateResult;
  dispose(): void;
}

/** The state of one simulation run: values by tensor name, conversions made once per tensor. */
function startSimulation(g: Graph, inputs: SimulateInputs, opts: SimulateOptions): Simulation {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
  const cap = opts.capture ?? false;
  if (typeof cap !== 'boolean' && !(Array.isArray(cap) && cap.every((c) => typeof c === 'string'))) {
    throw new TypeError('options.capture must be a boolean or an array of tensor names');
  }
  const want = (t: string) => cap === true || (Array.isArray(cap) && cap.includes(t));
  const info = quantizationInfo(g);
  const acts = activationTable(g);
  const plan = planExecution(g);
  const bound = bindSimInputs(g, inputs);

  const values = new Map<string, Val>();
  const floatOf = new Map<string, tf.Tensor>(); // dequantized int8 tensors (§3), once per tensor
  const int8Of = new Map<string, QVal>(); // quantized float tensors (§2), once per tensor
  const owned = new Set<tf.Tensor>();
  const external = new Set<tf.Tensor>();
  const tensors = new Map<string, SimTensor>();

  for (const spec of g.inputs) {
    const v = bound.get(spec.name)!;
    if (v instanceof tf.Tensor) {
      external.add(v);
      if (info && info.inputType !== 'float32' && acts[spec.name]) {
        const a = acts[spec.name]!;
        const p = { scale: a.scale, zeroPoint: a.zeroPoint };
        values.set(spec.name, {
          kind: 'q',
          data: quantize(v.dataSync() as Float32Array, 'int8', p),
          shape: [...v.shape],
          p,
        });
      } else values.set(spec.name, { kind: 'f', t: v });
    } else if (v.dtype === 'int8') {
      const a = acts[spec.name];
      if (!a) throw new RangeError(`input '${spec.name}' is int8 but has no activation parameters`);
      values.set(spec.name, {
        kind: 'q',
        data: v.data,
        shape: [...v.shape],
        p: { scale: a.scale, zeroPoint: a.zeroPoint },
      });
    } else {
      const t = tf.tensor(v.data as Float32Array, v.shape, v.dtype);
      owned.add(t);
      values.set(spec.name, { kind: 'f', t });
    }
  }

  const asFloat = (t: string, n: Node): tf.Tensor => {
    const c = g.constants.get(t);
    if (c) {
      const ct = constantTensor(c);
      external.add(ct);
      return ct;
    }
    const v = values.get(t);
    if (!v) throw new ModelFormatError(`input '${t}' has no value`, { node: n.name });
    if (v.kind === 'f') return v.t;
    let f = floatOf.get(t);
    if (!f) {
      f = tf.tensor(dequantize(v.data, v.p), v.shape, 'float32');
      owned.add(f);
      floatOf.set(t, f);
    }
    return f;
  };
  const asInt8 = (t: string, n: Node): QVal => {
    const v = values.get(t);
    if (!v) throw new ModelFormatError(`input '${t}' has no value`, { node: n.name });
    if (v.kind === 'q') return v;
    let q = int8Of.get(t);
    if (!q) {
      const a = acts[t];
      if (!a) throw new ModelFormatError(`tensor '${t}' has no activation parameters`, { node: n.name });
      if (v.t.dtype !== 'float32')
        throw new ModelFormatError(`tensor '${t}' has dtype ${v.t.dtype}: only float32 tensors are quantized`, {
          node: n.name,
        });
      const p = { scale: a.scale, zeroPoint: a.zeroPoint };
      q = { kind: 'q', data: quantize(v.t.dataSync() as Float32Array, 'int8', p), shape: [...v.t.shape], p };
      int8Of.set(t, q);
    }
    return q;
  };

  const node = (n: Node): void => {
    const how = plan.get(n.name)!;
    try {
      if (how === 'int8') {
        const r = runInt8(g, n, (t) => asInt8(t, n), acts);
        values.set(n.outputs[0]!, r.y);
        if (r.preact && want(preactName(n.outputs[0]!))) tensors.set(preactName(n.outputs[0]!), toSim(r.preact));
      } else if (how === 'dynamic') {
        const xt = asFloat(n.inputs[0]!, n);
        // tfjs-backend-cpu keeps an int32 → float32 Cast's values in their Int32Array.
        const xd = xt.dataSync();
        const r = runDynamic(
          g,
          n,
          xd instanceof Float32Array ? xd : Float32Array.from(xd as ArrayLike<number>),
          [...xt.shape],
          info?.dynamic?.granularity === 'row',
        );
        const t = tf.tensor(r.data, r.shape, 'float32');
        owned.add(t);
        values.set(n.outputs[0]!, { kind: 'f', t });
      } else {
        const ins = n.inputs.map((t) => asFloat(t, n));
        const spec = OPS[n.op];
        const outs = tf.tidy(() => (n.opaque || !spec ? executeOpaque(n, ins) : spec.execute(n, ins)));
        n.outputs.forEach((o, i) => {
          const t = outs[i];
          if (!t) return;
          if (!ins.includes(t)) owned.add(t);
          values.set(o, { kind: 'f', t });
        });
      }
    } catch (e) {
      throw asModelError(e, { node: n.name });
    }
    for (const o of n.outputs) if (want(o) && values.has(o)) tensors.set(o, toSim(values.get(o)!));
  };

  const region = async (r: ControlFlowRegion): Promise<void> => {
    const ins = r.inputs.map((t) =>
      asFloat(
        t,
        g.nodes.find((n) => n.name === r.nodes[0])!,
      ),
    );
    const outs = await runRegion(g, r, ins, r.outputs);
    r.outputs.forEach((o, i) => {
      const t = outs[i]!;
      owned.add(t);
      values.set(o, { kind: 'f', t });
      if (want(o)) tensors.set(o, toSim(values.get(o)!));
    });
  };

  const result = (): SimulateResult => {
    const outputs = g.outputs.map((o): SimTensor => {
      const v = values.get(o);
      if (!v) {
        const c = g.constants.get(o);
        if (c) return toSim({ kind: 'f', t: asFloat(o, g.nodes[0]!) });
        const [producer] = parseTensorName(o);
        throw new ModelFormatError(`output '${o}' was not computed`, { node: producer });
      }
      if (v.kind === 'q' && info && info.outputType !== 'float32') return toSim(v);
      return dequantizeSim(toSim(v));
    });
    return { outputs, tensors, plan };
  };

  const dispose = (): void => {
    for (const t of owned) if (!external.has(t) && !t.isDisposed) t.dispose();
  };
  return { node, region, result, dispose };
}
