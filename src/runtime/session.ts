// InferenceSession (issue 5): runs a float or §12-quantized graph with the native runtime.
// Native segments run in one native call each (off the event loop, on the thread pool, with
// a preplanned arena); tfjs segments run through execute() (src/model/execute.ts).
//
//   const session = await InferenceSession.create('model.json', { threads: 2 });
//   const out = await session.run({ input: { data, shape: [1, 224, 224, 3] } });
//   session.dispose();
import type { RuntimeSessionNative } from '../../binding.js';
import { tf } from '../backend/float.js';
import { execute } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import { loadModel } from '../model/load.js';
import { dequantize, quantize } from '../kernels/quantize.js';
import type { QParams } from '../quant/scheme.js';
import { native } from '../native/binding.js';
import { compilePlan, elementsFor, type CompiledPlan, type PlannedNode, type Placement } from './plan.js';

export type { PlannedNode, Placement };

/** int8: the graph inputs of an inputType-int8 model and int8 outputs of an outputType-int8 one. */
export type TensorDType = 'float32' | 'int32' | 'bool' | 'int8';
type HostArray = Float32Array | Int32Array | Uint8Array | Int8Array;

export interface TensorSpec {
  name: string;
  /** -1 = free (the batch). */
  shape: number[];
  dtype: TensorDType;
  /** int8 tensors: real = scale × (q − zeroPoint) (docs/quantization.md §1). */
  quantization?: QParams;
}

export interface HostTensor {
  data: HostArray;
  shape: number[];
  dtype: TensorDType;
  quantization?: QParams;
}

export type RunInputs = Record<string, { data: ArrayLike<number> | HostArray; shape: readonly number[] } | tf.Tensor> | tf.Tensor | tf.Tensor[];

export interface SessionOptions {
  /** Threads a run uses from the shared pool (0 = the pool size; default 0). */
  threads?: number;
  /**
   * Sparse kernels for pruned MatMul / 1×1 conv weights: 'auto' (default) where the measured
   * rule says they are faster, 'never', or 'always' (every such step; docs/runtime.md).
   */
  sparse?: 'auto' | 'never' | 'always';
}

export interface RunOptions {
  /** Return tf.Tensors instead of typed arrays (the caller disposes them). */
  tensors?: boolean;
}

export interface SessionMemory {
  /** Weights held by the native segments (packed GEMM panels + other arrays). */
  weightBytes: number;
  /** Activation arenas (one per concurrent run, sized by liveness analysis). */
  arenaBytes: number;
}

const DTYPE_ARRAY: Record<TensorDType, new (n: number) => HostArray> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, int8: Int8Array };

/** A host tensor as float32 for tfjs (int8 values dequantized with their parameters). */
function toFloatTensor(v: HostTensor): tf.Tensor {
  if (v.dtype === 'int8') return tf.tensor(dequantize(v.data as Int8Array, v.quantization!), v.shape, 'float32');
  return tf.tensor(v.data as Float32Array | Int32Array | Uint8Array, v.shape, v.dtype as 'float32' | 'int32' | 'bool');
}

export class InferenceSession {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Which node runs where (native-int8 / native-dynamic / native-dynamic-int4 / native-float / tfjs). */
  readonly plan: readonly PlannedNode[];
  readonly mode: CompiledPlan['mode'];
  private natives: (RuntimeSessionNative | undefined)[];
  private disposed = false;
  /** Kept only when tfjs segments need it (the native segments own their weights). */
  private readonly graph: Graph | undefined;

  private readonly compiled: CompiledPlan;

  private constructor(graph: Graph, threads: number, sparse: 'auto' | 'never' | 'always' = 'auto') {
    const ctor = native().RuntimeSession;
    // A native segment whose plan the native side rejects (a shape or parameter the planner
    // got wrong) falls back to tfjs with the reason in the plan, so the model still runs.
    const forced = new Map<string, string>();
    for (;;) {
      const compiled = compilePlan(graph, { tfjs: forced, sparse });
      const natives: (RuntimeSessionNative | undefined)[] = [];
      let failed: string[] | undefined;
      for (const s of compiled.segments) {
        if (s.kind !== 'native') { natives.push(undefined); continue; }
        try {
          natives.push(new ctor(s.plan, threads));
        } catch (e) {
          if (!(e instanceof RangeError) || !/invalid plan/.test(e.message)) { natives.forEach((n) => n?.dispose()); throw e; }
          failed = s.nodes;
          for (const n of s.nodes) forced.set(n, `native plan rejected: ${e.message}`);
          break;
        }
      }
      if (failed) { natives.forEach((n) => n?.dispose()); continue; }
      for (const s of compiled.segments) if (s.kind === 'native') s.plan.weights = []; // copied (and packed) natively
      this.natives = natives;
      this.compiled = compiled;
      break;
    }
    const compiled = this.compiled;
    this.graph = compiled.segments.some((s) => s.kind === 'tfjs') ? graph : undefined;
    // int8 graph IO: what the native segments take and give (plan.ts decides, §12.1).
    const int8 = new Map<string, QParams>();
    for (const s of compiled.segments) {
      if (s.kind !== 'native') continue;
      for (const t of [...s.inputs, ...s.outputs]) if (t.dtype === 'int8') int8.set(t.tensor, t.quantization!);
    }
    const spec = (name: string, shape: readonly number[] | null | undefined, dtype: string): TensorSpec => {
      const q = int8.get(name);
      return q ? { name, shape: shape ? [...shape] : [], dtype: 'int8', quantization: { ...q } } : { name, shape: shape ? [...shape] : [], dtype: dtype as TensorDType };
    };
    this.inputs = graph.inputs.map((i) => spec(i.name, i.shape, i.dtype));
    this.outputs = graph.outputs.map((o) => {
      const info = graph.tensors.get(o);
      return spec(o, info?.shape, info?.dtype ?? 'float32');
    });
    this.plan = compiled.nodes;
    this.mode = compiled.mode;
  }

  /** Loads (a path: loadModel) or takes a graph, compiles the plan and creates the native segments. */
  static async create(model: string | Graph, options: SessionOptions = {}): Promise<InferenceSession> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0 || threads > 256) throw new RangeError(`options.threads must be an integer in [0, 256], got ${String(threads)}`);
    const sparse = options.sparse ?? 'auto';
    if (sparse !== 'auto' && sparse !== 'never' && sparse !== 'always') throw new RangeError(`options.sparse must be 'auto', 'never' or 'always', got ${String(sparse)}`);
    let g: Graph;
    if (typeof model === 'string') g = await loadModel(model);
    else if (model && typeof model === 'object' && Array.isArray((model as Graph).nodes) && (model as Graph).constants instanceof Map) g = model;
    else throw new TypeError('model must be a path to model.json or a Graph');
    for (const i of g.inputs) {
      // Native segments take float32; int32/bool inputs feed tfjs segments.
      if (i.dtype !== 'float32' && i.dtype !== 'int32' && i.dtype !== 'bool') throw new RangeError(`input '${i.name}' has dtype ${i.dtype}; the runtime takes float32, int32 or bool inputs`);
    }
    return new InferenceSession(g, threads, sparse);
  }

  /** Weight and arena bytes of the native segments. */
  get memory(): SessionMemory {
    this.check();
    let weightBytes = 0, arenaBytes = 0;
    for (const n of this.natives) {
      if (!n) continue;
      const m = n.memory();
      weightBytes += m.weightBytes;
      arenaBytes += m.arenaBytes;
    }
    return { weightBytes, arenaBytes };
  }

  /** Segments (native step counts / tfjs node lists), for inspection. */
  get segments(): { kind: 'native' | 'tfjs'; nodes: string[]; steps?: number }[] {
    return this.compiled.segments.map((s) => (s.kind === 'native' ? { kind: s.kind, nodes: s.nodes, steps: s.plan.steps.length } : { kind: s.kind, nodes: s.nodes }));
  }

  /**
   * Native per-step wall time, summed over runs since profiling was enabled: profile(true)
   * starts (and resets), profile() reads, profile(false) reads and stops.
   */
  profile(enable?: boolean): { segment: number; op: string; seconds: number }[] {
    this.check();
    if (enable !== undefined && typeof enable !== 'boolean') throw new TypeError('profile: enable must be a boolean');
    return this.natives.flatMap((n, segment) => (n ? n.profile(enable).map((p) => ({ segment, ...p })) : []));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const n of this.natives) n?.dispose();
    this.natives = [];
  }

  private check(): void {
    if (this.disposed) throw new Error('InferenceSession: the session has been disposed');
  }

  private bind(inputs: RunInputs): Map<string, HostTensor> {
    const names = this.inputs.map((i) => i.name);
    const entries: [string, unknown][] = [];
    if (inputs instanceof tf.Tensor) {
      if (names.length !== 1) throw new RangeError(`run: the model has ${names.length} inputs (${names.join(', ')}); pass an array or a name → tensor record`);
      entries.push([names[0]!, inputs]);
    } else if (Array.isArray(inputs)) {
      if (inputs.length !== names.length) throw new RangeError(`run: got ${inputs.length} tensors, the model takes ${names.length}`);
      inputs.forEach((t, i) => entries.push([names[i]!, t]));
    } else if (inputs && typeof inputs === 'object') {
      for (const [k, v] of Object.entries(inputs)) {
        if (!names.includes(k)) throw new RangeError(`run: '${k}' is not an input of the model (inputs: ${names.join(', ')})`);
        entries.push([k, v]);
      }
    } else {
      throw new TypeError('run: inputs must be a name → {data, shape} record, a tf.Tensor or an array of tf.Tensors');
    }
    const m = new Map<string, HostTensor>();
    for (const [k, v] of entries) {
      const spec = this.inputs.find((i) => i.name === k)!;
      let data: HostArray, shape: number[];
      if (v instanceof tf.Tensor) {
        if (v.isDisposed) throw new TypeError(`run: inputs['${k}'] is disposed`);
        // An int8 input also takes float32 values, quantized with its parameters (§2).
        const ok = v.dtype === spec.dtype || (spec.dtype === 'int8' && v.dtype === 'float32');
        if (!ok) throw new TypeError(`run: inputs['${k}'] has dtype ${v.dtype}, the model expects ${spec.dtype}`);
        data = v.dataSync() as HostArray;
        shape = [...v.shape];
      } else {
        if (!v || typeof v !== 'object') throw new TypeError(`run: inputs['${k}'] must be {data, shape} or a tf.Tensor`);
        const o = v as { data?: unknown; shape?: unknown };
        if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
          throw new TypeError(`run: inputs['${k}'].shape must be an array of non-negative integers`);
        }
        shape = [...(o.shape as number[])];
        const Arr = DTYPE_ARRAY[spec.dtype];
        if (o.data instanceof Arr) data = o.data;
        else if (spec.dtype === 'int8' && o.data instanceof Float32Array) data = o.data;
        else if (Array.isArray(o.data)) { data = new Arr(o.data.length); data.set(o.data as number[]); }
        else throw new TypeError(`run: inputs['${k}'].data must be a ${Arr.name}${spec.dtype === 'int8' ? ' (or Float32Array values to quantize)' : ''} (dtype ${spec.dtype})${o.data && ArrayBuffer.isView(o.data) ? `, got ${(o.data as object).constructor.name}` : ''}`);
      }
      const want = spec.shape;
      if (want.length && !(shape.length === want.length && want.every((d, i) => d < 0 || d === shape[i]))) {
        throw new RangeError(`run: inputs['${k}'] has shape [${shape.join(', ')}], the model expects [${want.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
      }
      const n = shape.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw new RangeError(`run: inputs['${k}'] has ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
      if (spec.dtype === 'int8') {
        if (Array.isArray((v as { data?: unknown }).data) && !(data as Int8Array).every((q, i) => q === ((v as { data: number[] }).data[i]))) {
          throw new RangeError(`run: inputs['${k}'].data has values outside the int8 range [-128, 127]`);
        }
        if (data instanceof Float32Array) data = quantize(data, 'int8', spec.quantization!);
        m.set(k, { data, shape, dtype: 'int8', quantization: spec.quantization });
        continue;
      }
      m.set(k, { data, shape, dtype: spec.dtype });
    }
    for (const n of names) if (!m.has(n)) throw new RangeError(`run: input '${n}' was not given`);
    return m;
  }

  /**
   * Runs the model on one batch; outputs by name as typed arrays (or tf.Tensors with {tensors: true}).
   * int8 inputs (inputType-int8 models) take Int8Array data (or float32 values, quantized with
   * the input's parameters); int8 outputs are Int8Array with their `quantization`.
   * The native part reads the input arrays in place off the event loop: do not modify them until
   * the promise settles.
   */
  async run(inputs: RunInputs, options: { tensors: true }): Promise<Record<string, tf.Tensor>>;
  async run(inputs: RunInputs, options?: RunOptions): Promise<Record<string, HostTensor>>;
  async run(inputs: RunInputs, options: RunOptions = {}): Promise<Record<string, HostTensor> | Record<string, tf.Tensor>> {
    this.check();
    const values = this.bind(inputs);
    const batches = this.inputs.filter((i) => i.shape[0] === -1).map((i) => values.get(i.name)!.shape[0]!);
    if (new Set(batches).size > 1) throw new RangeError(`run: inputs disagree on the batch size (${batches.join(', ')})`);
    for (const [si, seg] of this.compiled.segments.entries()) {
      if (seg.kind === 'native') {
        const nat = this.natives[si];
        if (!nat) this.check();
        let batch = 1;
        const arrays = seg.inputs.map((t) => {
          const v = values.get(t.tensor);
          if (!v) throw new Error(`internal: tensor '${t.tensor}' has no value`);
          const want = t.dtype === 'int8' ? Int8Array : Float32Array;
          if (!(v.data instanceof want)) throw new TypeError(`tensor '${t.tensor}' must be ${t.dtype}`);
          if (t.shape[0] === -1) batch = v.shape[0]!;
          return v;
        });
        for (const [i, t] of seg.inputs.entries()) {
          const v = arrays[i]!;
          const ok = v.shape.length === t.shape.length && t.shape.every((d, j) => (d < 0 ? v.shape[j] === batch : d === v.shape[j]));
          if (!ok) throw new RangeError(`run: tensor '${t.tensor}' has shape [${v.shape.join(', ')}], the plan expects [${t.shape.join(', ')}] with batch ${batch}`);
        }
        const outs = await nat!.run(batch, arrays.map((a) => a.data as Float32Array | Int8Array));
        seg.outputs.forEach((t, i) => {
          const data = outs[i] as Float32Array | Int8Array;
          const shape = t.shape.map((d) => (d < 0 ? batch : d));
          if (data.length !== elementsFor(t.shape, batch)) throw new Error(`internal: output '${t.tensor}' size`);
          values.set(t.tensor, t.dtype === 'int8' ? { data, shape, dtype: 'int8', quantization: t.quantization } : { data, shape, dtype: 'float32' });
        });
      } else {
        const given: Record<string, tf.Tensor> = {};
        for (const t of seg.inputs) {
          const v = values.get(t);
          if (v) given[t] = toFloatTensor(v);
        }
        try {
          const res = execute(this.graph!, {}, { nodes: seg.nodes, given, outputs: seg.outputs });
          seg.outputs.forEach((t, i) => {
            const r = res[i]!;
            const dtype = (r.dtype === 'int32' || r.dtype === 'bool' ? r.dtype : 'float32') as TensorDType;
            const data = new DTYPE_ARRAY[dtype](r.size);
            data.set(r.dataSync() as HostArray);
            values.set(t, { data, shape: [...r.shape], dtype });
            r.dispose();
          });
        } finally {
          for (const t of Object.values(given)) t.dispose();
        }
      }
    }
    const out: Record<string, HostTensor> = {};
    for (const o of this.outputs) {
      const v = values.get(o.name);
      if (!v) throw new Error(`internal: output '${o.name}' was not computed`);
      out[o.name] = v;
    }
    if (!options.tensors) return out;
    // tfjs has no int8 dtype: int8 outputs come back as int32 tensors of the same values.
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.dtype === 'int8' ? tf.tensor(Int32Array.from(v.data), v.shape, 'int32') : toFloatTensor(v)]));
  }
}
