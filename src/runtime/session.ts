// InferenceSession: runs a float or quantized (docs/quantization.md §12) graph with the native
// runtime. Native segments run in one native call each (off the event loop, on the thread
// pool, with a preplanned arena); tfjs segments run through runTfjsSegment (tfjs-segment.ts).
// Inputs are bound and outputs collected by run-io.ts.
// A plan is made for the input shapes of a run (the free batch kept symbolic) and cached by
// those shapes: a run with new shapes beyond the batch plans again. What runs where is
// decided while planning; a native rejection of a plan is an internal error, not a re-plan.
//
//   const session = await InferenceSession.create('model.json', { threads: 2 });
//   const out = await session.run({ input: { data, shape: [1, 224, 224, 3] } });
//   const y = await session.predictAsync(x);   // tf.Tensor in, tf.Tensor out, as tfjs models
//   session.dispose();
import type { RuntimeSessionNative } from '../../binding.js';
import { tf } from '../backend/float.js';
import type { Graph } from '../model/ir.js';
import { describeValue, loadModel, MODEL_SOURCES, modelSourceKind, type ModelSource } from '../model/load.js';
import { activationTable, quantizationInfo } from '../quant/params.js';
import type { QParams } from '../quant/scheme.js';
import { native } from '../native/binding.js';
import {
  compilePlan,
  declaredInputShapes,
  type CompiledPlan,
  type NativeSegment,
  type PlannedNode,
  type Placement,
  type ReasonKind,
} from './plan.js';
import { modelNames, type Names } from './signature.js';
import { summarizePlan, type PlanSummary } from './summary.js';
import { uint8Params, type HostTensor, type TensorDType, type TensorSpec } from './host-tensor.js';
import { bindInputs, collectOutputs, type RunInputs } from './run-io.js';
import { asyncOnlyNode, runSegments, runSegmentsSync, type Prepared } from './run-segments.js';

export type { PlannedNode, Placement, ReasonKind };

export type { HostTensor, RunInputs, TensorDType, TensorSpec };

export interface SessionOptions {
  /** Threads a run uses from the shared pool (0 = the pool size; default 0). */
  threads?: number;
  /**
   * Sparse kernels for pruned MatMul / 1×1 conv weights: 'auto' (default) where the measured
   * rule says they are faster, 'never', or 'always' (every such step; docs/runtime.md).
   */
  sparse?: 'auto' | 'never' | 'always';
  /**
   * Shapes to plan for at creation, per input (by tensor name or signature key), for inputs
   * with unknown dimensions beyond the batch (e.g. an image input [-1, -1, -1, 3]); without
   * it such a model is planned at its first run, from that run's input shapes. −1 keeps
   * dimension 0 free.
   */
  inputShapes?: Record<string, readonly number[]>;
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

/** Distinct input shape sets whose plans are kept (each holds its packed weights). */
const MAX_PLANS = 8;

export class InferenceSession {
  /** Inputs in the signature's order (names: graph tensor names; -1 = a free dimension). */
  readonly inputs: readonly TensorSpec[];
  readonly mode: CompiledPlan['mode'];
  private readonly names: Names;
  private readonly plans = new Map<string, Prepared>();
  /** Concrete input shapes → the key of the plan learned from the region output shapes a run with them saw. */
  private readonly learned = new Map<string, string>();
  private current: Prepared | undefined;
  private disposed = false;
  /** int8 graph inputs (inputType-int8 or uint8 models) and their parameters as the graph runs them. */
  private readonly int8Inputs: ReadonlyMap<string, QParams>;
  /** outputType uint8: int8-produced graph outputs are returned as uint8 (u = q + 128). */
  private readonly uint8Outputs: boolean;

  /**
   * Kept while a later run may plan again (inputs with unknown dimensions) or tfjs segments
   * need it; otherwise released after planning (the native segments own their weights).
   */
  private graph: Graph | undefined;
  private readonly outputInfo: Map<string, { dtype: string; shape: number[] | null }>;

  private constructor(
    graph: Graph,
    private readonly threads: number,
    private readonly sparse: 'auto' | 'never' | 'always',
    initial: Map<string, number[] | null>,
  ) {
    this.graph = graph;
    this.names = modelNames(graph);
    this.outputInfo = new Map(
      graph.outputs.map((o) => [
        o,
        { dtype: graph.tensors.get(o)?.dtype ?? 'float32', shape: graph.tensors.get(o)?.shape ?? null },
      ]),
    );
    const info = quantizationInfo(graph);
    const acts = activationTable(graph);
    const int8 = new Map<string, QParams>();
    // The same rule as compilePlan (§12.1): inputs of an inputType-int8 (or uint8) model arrive
    // as int8; a uint8 one is shown as uint8 (u = q + 128) and shifted on the way in.
    if (info?.mode === 'int8' && info.inputType !== 'float32') {
      for (const i of graph.inputs)
        if (acts[i.name]) int8.set(i.name, { scale: acts[i.name]!.scale, zeroPoint: acts[i.name]!.zeroPoint });
    }
    this.int8Inputs = int8;
    this.uint8Outputs = info?.mode === 'int8' && info.outputType === 'uint8';
    const byName = new Map(graph.inputs.map((i) => [i.name, i]));
    this.inputs = this.names.inputs.map(({ tensor }) => {
      const i = byName.get(tensor)!;
      const q = int8.get(tensor);
      const shape = i.shape ? [...i.shape] : [];
      if (q && info?.inputType === 'uint8')
        return { name: tensor, shape, dtype: 'uint8', quantization: uint8Params(q) };
      return q
        ? { name: tensor, shape, dtype: 'int8', quantization: { ...q } }
        : { name: tensor, shape, dtype: i.dtype as TensorDType };
    });
    this.mode = info?.mode ?? 'float';
    // Planned now when every input shape is known (beyond the batch); else at the first run.
    if ([...initial.values()].every((s) => s !== null)) {
      this.current = this.prepare(initial);
      // Every run then has these shapes (the batch aside): no other plan will be made (the tfjs
      // segments run on the plan's own graph) unless a control-flow region's output shapes
      // are learned from the runs.
      if (!this.current.compiled.unknownRegionOutputs.length) this.graph = undefined;
    }
  }

  /**
   * Loads a model (a path or file:// URL, in-memory {modelJson, weightData}, a tfjs IOHandler,
   * a tf.LayersModel / tf.GraphModel: loadModel) or takes a graph, compiles the plan and
   * creates the native segments.
   */
  static async create(model: ModelSource | Graph, options: SessionOptions = {}): Promise<InferenceSession> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0 || threads > 256)
      throw new RangeError(`options.threads must be an integer in [0, 256], got ${String(threads)}`);
    const sparse = options.sparse ?? 'auto';
    if (sparse !== 'auto' && sparse !== 'never' && sparse !== 'always')
      throw new RangeError(`options.sparse must be 'auto', 'never' or 'always', got ${String(sparse)}`);
    if (
      options.inputShapes !== undefined &&
      (options.inputShapes === null || typeof options.inputShapes !== 'object' || Array.isArray(options.inputShapes))
    ) {
      throw new TypeError('options.inputShapes must be an input name → shape record');
    }
    let g: Graph;
    if (
      model &&
      typeof model === 'object' &&
      Array.isArray((model as Graph).nodes) &&
      (model as Graph).constants instanceof Map
    )
      g = model as Graph;
    else if (modelSourceKind(model) !== undefined) g = await loadModel(model as ModelSource);
    else throw new TypeError(`model must be ${MODEL_SOURCES}, or a Graph; got ${describeValue(model)}`);
    for (const i of g.inputs) {
      // Native segments take float32; int32/bool inputs feed tfjs segments.
      if (i.dtype !== 'float32' && i.dtype !== 'int32' && i.dtype !== 'bool')
        throw new RangeError(`input '${i.name}' has dtype ${i.dtype}; the runtime takes float32, int32 or bool inputs`);
    }
    const initial = declaredInputShapes(g);
    if (options.inputShapes !== undefined) {
      const names = modelNames(g);
      for (const [k, s] of Object.entries(options.inputShapes)) {
        const entry = names.inputs.find((e) => e.tensor === k || e.key === k);
        if (!entry)
          throw new RangeError(
            `options.inputShapes: '${k}' is not an input of the model (inputs: ${names.inputs.map((e) => e.key).join(', ')})`,
          );
        const declared = g.inputs.find((i) => i.name === entry.tensor)!.shape;
        const ok =
          Array.isArray(s) &&
          s.every((d, i) => Number.isInteger(d) && (d >= 1 || (d === -1 && i === 0))) &&
          (!declared || (declared.length === s.length && declared.every((d, i) => d < 0 || d === s[i])));
        if (!ok)
          throw new RangeError(
            `options.inputShapes['${k}'] must be positive integers (-1 only for dimension 0) matching the declared [${declared?.map((d) => (d < 0 ? '?' : d)).join(', ') ?? '?'}], got ${JSON.stringify(s)}`,
          );
        initial.set(entry.tensor, declared?.[0] === -1 ? [-1, ...s.slice(1)] : [...s]);
      }
    }
    return new InferenceSession(g, threads, sparse, initial);
  }

  /** Input names in the signature's order (signature keys; the graph names without a signature). */
  get inputNames(): string[] {
    return this.names.inputs.map((e) => e.key);
  }

  /** Output names in the signature's order (signature keys; the graph names without a signature). */
  get outputNames(): string[] {
    return this.names.outputs.map((e) => e.key);
  }

  /** Outputs in the signature's order, as the current plan produces them (int8 for int8-produced outputs of outputType-int8 models). */
  get outputs(): readonly TensorSpec[] {
    const produced = new Map<string, NativeSegment['outputs'][number]>();
    for (const s of this.current?.compiled.segments ?? [])
      if (s.kind === 'native') for (const t of s.outputs) produced.set(t.tensor, t);
    return this.names.outputs.map(({ tensor }) => {
      const info = this.outputInfo.get(tensor);
      const p = produced.get(tensor);
      const shape = info?.shape ? [...info.shape] : [];
      if (p?.dtype === 'int8')
        return this.uint8Outputs
          ? { name: tensor, shape, dtype: 'uint8', quantization: uint8Params(p.quantization!) }
          : { name: tensor, shape, dtype: 'int8', quantization: { ...p.quantization! } };
      return { name: tensor, shape, dtype: (info?.dtype ?? 'float32') as TensorDType };
    });
  }

  /**
   * Which node runs where (native-int8 / native-dynamic / native-dynamic-int4 / native-float /
   * tfjs, with the reason) in the plan of the latest run, or of creation when the input
   * shapes were known then.
   */
  get plan(): readonly PlannedNode[] {
    return this.requirePlan().compiled.nodes;
  }

  /** Share of nodes and of conv / matmul FLOPs the current plan runs natively (src/runtime/summary.ts). */
  get summary(): PlanSummary {
    return { ...this.requirePlan().summary };
  }

  /** The input shapes the current plan was made for (-1: the free batch). */
  get plannedInputShapes(): Record<string, number[]> {
    return Object.fromEntries([...this.requirePlan().compiled.inputShapes].map(([k, v]) => [k, v ? [...v] : []]));
  }

  private requirePlan(): Prepared {
    this.check();
    if (!this.current) {
      const open = this.inputs
        .filter((i) => i.shape.length === 0 || i.shape.slice(1).some((d) => d < 0))
        .map((i) => `'${i.name}' [${i.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
      throw new Error(
        `InferenceSession: no plan yet: input ${open.join(', ')} has unknown dimensions; the plan is made at the first run, or at creation with options.inputShapes`,
      );
    }
    return this.current;
  }

  /** Compiles the plan for these input shapes and creates its native sessions. */
  private static planKey(inputShapes: Map<string, number[] | null>, regionShapes?: Map<string, number[]>): string {
    return JSON.stringify(regionShapes?.size ? [[...inputShapes], [...regionShapes]] : [...inputShapes]);
  }

  private prepare(inputShapes: Map<string, number[] | null>, regionShapes?: Map<string, number[]>): Prepared {
    const key = InferenceSession.planKey(inputShapes, regionShapes);
    const have = this.plans.get(key);
    if (have) return have;
    if (!this.graph) throw new Error(`internal: no plan for input shapes ${key}`);
    const compiled = compilePlan(this.graph, { sparse: this.sparse, inputShapes, regionShapes });
    const ctor = native().RuntimeSession;
    const natives: (RuntimeSessionNative | undefined)[] = [];
    for (const [si, s] of compiled.segments.entries()) {
      if (s.kind !== 'native') {
        natives.push(undefined);
        continue;
      }
      try {
        natives.push(new ctor(s.plan, { threads: this.threads }));
      } catch (e) {
        natives.forEach((n) => n?.dispose());
        // The planner decided every step from the shapes and rules the native validator
        // checks: a rejection is a planner bug, reported with the node it concerns.
        const step = /steps\[(\d+)\]/.exec((e as Error).message)?.[1];
        const node = step !== undefined ? s.stepNodes[Number(step)] : undefined;
        throw new Error(
          `internal: the native runtime rejected native segment ${si}${node ? ` at node '${node}'` : ''}: ${(e as Error).message}`,
        );
      }
      s.plan.weights = []; // copied (and packed) natively
    }
    const { graph: planGraph, ...rest } = compiled;
    const tfjsGraph = compiled.segments.some((s) => s.kind === 'tfjs') ? planGraph : undefined;
    const prepared = {
      compiled: rest,
      tfjsGraph,
      summary: summarizePlan(this.graph, compiled),
      natives,
      busy: 0,
      asyncOnly: asyncOnlyNode(compiled.segments, tfjsGraph),
    };
    if (this.plans.size >= MAX_PLANS) {
      const idle = [...this.plans].find(([, p]) => p.busy === 0 && p !== this.current);
      if (idle) {
        idle[1].natives.forEach((n) => n?.dispose());
        this.plans.delete(idle[0]);
      }
    }
    this.plans.set(key, prepared);
    return prepared;
  }

  /** Weight and arena bytes of the native segments of every plan kept. */
  get memory(): SessionMemory {
    this.check();
    let weightBytes = 0,
      arenaBytes = 0;
    for (const p of this.plans.values()) {
      for (const n of p.natives) {
        if (!n) continue;
        const m = n.memory();
        weightBytes += m.weightBytes;
        arenaBytes += m.arenaBytes;
      }
    }
    return { weightBytes, arenaBytes };
  }

  /** Segments of the current plan (native step counts / tfjs node lists), for inspection. */
  get segments(): { kind: 'native' | 'tfjs'; nodes: string[]; steps?: number }[] {
    return this.requirePlan().compiled.segments.map((s) =>
      s.kind === 'native'
        ? { kind: s.kind, nodes: s.nodes, steps: s.plan.steps.length }
        : { kind: s.kind, nodes: s.nodes },
    );
  }

  /**
   * Native per-step wall time of the current plan, summed over runs since profiling was
   * enabled: profile(true) starts (and resets), profile() reads, profile(false) reads and stops.
   */
  profile(enable?: boolean): { segment: number; op: string; seconds: number }[] {
    this.check();
    if (enable !== undefined && typeof enable !== 'boolean') throw new TypeError('profile: enable must be a boolean');
    return this.requirePlan().natives.flatMap((n, segment) =>
      n ? n.profile(enable).map((p) => ({ segment, ...p })) : [],
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.plans.values()) for (const n of p.natives) n?.dispose();
    this.plans.clear();
    this.learned.clear();
    this.current = undefined;
  }

  private check(): void {
    if (this.disposed) throw new Error('InferenceSession: the session has been disposed');
  }

  /**
   * Runs the model on one batch; outputs by name as typed arrays (or tf.Tensors with {tensors: true}).
   * Inputs are named by tensor name or signature key; outputs come back under the graph's
   * output names, and also (not enumerable) under their signature keys when those differ.
   * int8 inputs (inputType-int8 models) take Int8Array data (or float32 values, quantized with
   * the input's parameters); int8 outputs are Int8Array with their `quantization`.
   * The native part reads the input arrays in place off the event loop: do not modify them until
   * the promise settles. (A native segment too small to be worth a thread hand-off, about
   * 10–40 µs of work, runs on the calling thread: src/runtime/run-segments.ts INLINE_WORK.)
   */
  async run(inputs: RunInputs, options: { tensors: true }): Promise<Record<string, tf.Tensor>>;
  async run(inputs: RunInputs, options?: RunOptions): Promise<Record<string, HostTensor>>;
  async run(
    inputs: RunInputs,
    options: RunOptions = {},
  ): Promise<Record<string, HostTensor> | Record<string, tf.Tensor>> {
    const { prepared, values, batch } = this.begin(inputs);
    const learned = this.learned.size ? this.plans.get(this.learned.get(this.inputKey(values)) ?? '') : undefined;
    // The inputs alone, for a run that starts over on the plain plan.
    const fed = learned ? new Map(values) : undefined;
    // A learned plan is made for the concrete input shapes: no symbolic batch.
    if (learned && (await this.runOn(learned, values, 1))) {
      this.current = learned;
      this.learn(learned, values);
      return this.finish(values, options);
    }
    // No plan learned for these inputs yet, or a region gave other shapes this time: the plan
    // that assumes nothing about region outputs.
    const plain = fed ?? values;
    await this.runOn(prepared, plain, batch);
    this.learn(prepared, plain);
    return this.finish(plain, options);
  }

  private async runOn(p: Prepared, values: Map<string, HostTensor>, batch: number): Promise<boolean> {
    p.busy++;
    try {
      return await runSegments(p, values, batch, () => this.check());
    } finally {
      p.busy--;
    }
  }

  /** The concrete input shapes of a run, as the key of the plans learned for them. */
  private inputKey(values: Map<string, HostTensor>): string {
    return JSON.stringify(this.inputs.map((i) => [i.name, values.get(i.name)!.shape]));
  }

  /**
   * After a run on a plan that left region outputs of unknown shape (and what they feed) to
   * tfjs: plans again with the shapes this run saw, for the next runs with these input shapes.
   */
  private learn(p: Prepared, values: Map<string, HostTensor>): void {
    const unknown = p.compiled.unknownRegionOutputs;
    if (!unknown.length || this.disposed) return;
    // Outputs read only inside tfjs segments are not kept between segments: nothing native
    // waits for their shapes.
    const seen = unknown.flatMap((t) => {
      const v = values.get(t);
      return v ? [[t, [...v.shape]] as [string, number[]]] : [];
    });
    if (!seen.length) return;
    const regionShapes = new Map([...p.compiled.assumedShapes, ...seen]);
    const inputShapes = new Map(this.inputs.map((i) => [i.name, [...values.get(i.name)!.shape]] as [string, number[]]));
    const key = InferenceSession.planKey(inputShapes, regionShapes);
    this.prepare(inputShapes, regionShapes);
    this.learned.set(this.inputKey(values), key);
  }

  /**
   * run() on the calling thread, blocking it for the run's length: for callers that cannot
   * await (tf.InferenceModel's predict / execute). Plans whose tfjs segments hold control flow
   * cannot run this way (tfjs-converter runs it only asynchronously): decided from the plan
   * before anything runs, with an error naming run().
   */
  runSync(inputs: RunInputs, options: { tensors: true }): Record<string, tf.Tensor>;
  runSync(inputs: RunInputs, options?: RunOptions): Record<string, HostTensor>;
  runSync(inputs: RunInputs, options: RunOptions = {}): Record<string, HostTensor> | Record<string, tf.Tensor> {
    const { prepared, values, batch } = this.begin(inputs);
    prepared.busy++;
    try {
      runSegmentsSync(prepared, values, batch, () => this.check());
    } finally {
      prepared.busy--;
    }
    return this.finish(values, options);
  }

  /** Checks and binds the inputs and picks (or makes) the plan for their shapes. */
  private begin(inputs: RunInputs): { prepared: Prepared; values: Map<string, HostTensor>; batch: number } {
    this.check();
    const values = bindInputs(inputs, this.inputs, this.names, this.int8Inputs);
    const batches = this.inputs.filter((i) => i.shape[0] === -1).map((i) => values.get(i.name)!.shape[0]!);
    if (new Set(batches).size > 1)
      throw new RangeError(`run: inputs disagree on the batch size (${batches.join(', ')})`);
    const batch = batches[0] ?? 1;
    // The plan for these shapes: dimension 0 of an input declared with a free batch stays symbolic.
    const shapes = new Map(
      this.inputs.map((i) => {
        const s = values.get(i.name)!.shape;
        return [i.name, i.shape[0] === -1 ? [-1, ...s.slice(1)] : [...s]] as [string, number[]];
      }),
    );
    const prepared = this.prepare(shapes);
    this.current = prepared;
    return { prepared, values, batch };
  }

  /** The outputs by name (typed arrays, or tf.Tensors with {tensors: true}), signature keys too. */
  private finish(
    values: Map<string, HostTensor>,
    options: RunOptions,
  ): Record<string, HostTensor> | Record<string, tf.Tensor> {
    return collectOutputs(values, this.outputs, this.names, this.uint8Outputs, Boolean(options.tensors));
  }

  // tf.InferenceModel. tfjs's predict/execute are synchronous: here they run the plan on the
  // calling thread (runSync), blocking it for the run's length as tfjs-node's predict does —
  // servers should prefer predictAsync/executeAsync, which run off the event loop. A model
  // whose tfjs segments hold control flow cannot run synchronously (tfjs-converter runs it only
  // asynchronously): predict/execute then throw, naming the async forms, as tfjs's own
  // GraphModel.predict does for such a model.

  /** As tfjs's GraphModel.predict, synchronously (see predictAsync for the contract). */
  predict(inputs: RunInputs, config?: tf.ModelPredictConfig): tf.Tensor | tf.Tensor[] {
    if (config !== undefined && (config === null || typeof config !== 'object'))
      throw new TypeError('predict: config must be an object ({batchSize?, verbose?})');
    return this.execute(inputs);
  }

  /** As tfjs's GraphModel.execute, synchronously (see executeAsync for the contract). */
  execute(inputs: RunInputs, outputs?: string | string[]): tf.Tensor | tf.Tensor[] {
    this.check();
    return this.pick(this.runSync(inputs, { tensors: true }), this.outputTensorNames(outputs));
  }

  /**
   * As tfjs's GraphModel.predictAsync: a tf.Tensor (one-input models), an array in input order
   * or a name → tensor map; returns one tf.Tensor for a one-output model, else an array in
   * output order. The whole batch runs at once (config.batchSize is ignored, as GraphModel does).
   * int8 outputs (outputType-int8 models) come back as int32 tensors of their int8 values.
   * The caller disposes the returned tensors; the inputs are neither disposed nor changed.
   */
  async predictAsync(inputs: RunInputs, config?: tf.ModelPredictConfig): Promise<tf.Tensor | tf.Tensor[]> {
    if (config !== undefined && (config === null || typeof config !== 'object'))
      throw new TypeError('predictAsync: config must be an object ({batchSize?, verbose?})');
    return this.executeAsync(inputs);
  }

  /**
   * As tfjs's GraphModel.executeAsync: `outputs` names the outputs to return (tensor names or
   * signature keys; default every output), one tensor when one is asked for, else an array in
   * the order asked. Only the model's outputs can be fetched: the native runtime does not keep
   * intermediate tensors.
   */
  async executeAsync(inputs: RunInputs, outputs?: string | string[]): Promise<tf.Tensor | tf.Tensor[]> {
    this.check();
    const wanted = this.outputTensorNames(outputs);
    return this.pick(await this.run(inputs, { tensors: true }), wanted);
  }

  /** The wanted outputs of a run, one tensor or an array; the others are disposed. */
  private pick(res: Record<string, tf.Tensor>, wanted: string[]): tf.Tensor | tf.Tensor[] {
    const picked: tf.Tensor[] = [];
    const used = new Set<string>();
    for (const name of wanted) {
      // The same output asked for twice: each entry its own tensor, so each can be disposed.
      picked.push(used.has(name) ? res[name]!.clone() : res[name]!);
      used.add(name);
    }
    for (const [name, t] of Object.entries(res)) if (!used.has(name)) t.dispose();
    return picked.length === 1 ? picked[0]! : picked;
  }

  /** Graph output names for executeAsync's `outputs` (tensor names or signature keys). */
  private outputTensorNames(outputs: string | string[] | undefined): string[] {
    if (outputs === undefined) return this.names.outputs.map((e) => e.tensor);
    const list = typeof outputs === 'string' ? [outputs] : outputs;
    if (!Array.isArray(list) || list.length === 0 || list.some((o) => typeof o !== 'string')) {
      throw new TypeError('executeAsync: outputs must be an output name or a non-empty array of them');
    }
    return list.map((o) => {
      // tfjs node names may carry an output index ('name:0'): the first output of a node is the node.
      const e = this.names.outputs.find((x) => x.tensor === o || x.key === o || `${x.tensor}:0` === o);
      if (!e)
        throw new RangeError(
          `executeAsync: '${o}' is not an output of the model (outputs: ${this.outputNames.join(', ')}); the native runtime does not keep intermediate tensors`,
        );
      return e.tensor;
    });
  }
}
