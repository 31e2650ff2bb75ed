// Running a plan's segments in order: native segments through their RuntimeSession (off the
// event loop, or on the calling thread for synchronous runs), tfjs segments through the IR's
// executor, each reading the values earlier segments left and adding its own.
import type { RuntimeSessionNative } from '../../binding.js';
import type { tf } from '../backend/float.js';
import { requiresAsync } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import { resolveDim } from '../model/shape-inference.js';
import { DTYPE_ARRAY, toFloatTensor, type HostArray, type HostTensor, type TensorDType } from './host-tensor.js';
import type { CompiledPlan, NativeSegment, TfjsSegment } from './plan.js';
import type { PlanSummary } from './summary.js';
import { runTfjsSegment, runTfjsSegmentSync } from './tfjs-segment.js';

/** A compiled plan and its native sessions (one per native segment). */
export interface Prepared {
  compiled: Omit<CompiledPlan, 'graph'>;
  /** The plan's graph, kept only when tfjs segments run on it. */
  tfjsGraph: Graph | undefined;
  summary: PlanSummary;
  natives: (RuntimeSessionNative | undefined)[];
  /** Runs in flight on it (a busy plan is never evicted). */
  busy: number;
  /** The first node of a tfjs segment holding control flow, which runs only asynchronously (none: the plan can run synchronously). */
  asyncOnly: string | undefined;
}

/** The first node of a tfjs segment that only tfjs-converter's asynchronous executor can run. */
export function asyncOnlyNode(segments: CompiledPlan['segments'], tfjsGraph: Graph | undefined): string | undefined {
  if (!tfjsGraph) return undefined;
  return segments.find(
    (seg) => seg.kind === 'tfjs' && requiresAsync(tfjsGraph, { nodes: seg.nodes, outputs: seg.outputs }),
  )?.nodes[0];
}

export function shapeText(s: readonly number[]): string {
  return `[${s.map((d) => (d < 0 ? (d === -1 ? 'batch' : `${-d}·batch`) : d)).join(', ')}]`;
}

/**
 * A native segment of at most this much work at the run's batch (NativeSegment.work: about
 * 10–40 µs of compute) runs on the calling thread: handing it to a run-queue thread and back
 * costs 15–50 µs on an idle machine (native/common/run_queue.h) and up to a millisecond on a
 * busy one, which is more than the work. A pose model's post-processing alternates such small native
 * segments with tfjs ones.
 */
export const INLINE_WORK = 1 << 17;

/**
 * Runs the plan's segments in order. Returns false, having stopped, when a control-flow region
 * gave an output of another shape than the plan assumed (`compiled.assumedShapes`, learned
 * from an earlier run): the caller runs again on a plan without that assumption.
 */
export async function runSegments(
  prepared: Prepared,
  values: Map<string, HostTensor>,
  batch: number,
  check: () => void,
): Promise<boolean> {
  const assumed = prepared.compiled.assumedShapes;
  for (const [si, seg] of prepared.compiled.segments.entries()) {
    if (seg.kind === 'native') {
      const nat = nativeOf(prepared, si, check);
      const ins = nativeInputs(seg, values, batch);
      storeNative(
        seg,
        seg.work * batch <= INLINE_WORK ? nat.runSync(ins, { batch }) : await nat.run(ins, { batch }),
        values,
        batch,
      );
    } else {
      const given = tfjsInputs(seg, values);
      try {
        storeTfjs(seg, await runTfjsSegment(prepared.tfjsGraph!, seg, given), values);
      } finally {
        for (const t of Object.values(given)) t.dispose();
      }
      if (assumed.size && !seg.outputs.every((t) => sameShape(assumed.get(t), values.get(t)?.shape))) return false;
    }
  }
  return true;
}

/** True when no shape is assumed for the tensor or it has the assumed shape. */
function sameShape(assumed: readonly number[] | undefined, got: readonly number[] | undefined): boolean {
  return !assumed || (!!got && got.length === assumed.length && got.every((d, i) => d === assumed[i]));
}

function nativeOf(prepared: Prepared, si: number, check: () => void): RuntimeSessionNative {
  const nat = prepared.natives[si];
  if (!nat) check();
  return nat!;
}

/** A native segment's input arrays, checked against the plan. */
function nativeInputs(
  seg: NativeSegment,
  values: Map<string, HostTensor>,
  batch: number,
): (Float32Array | Int8Array | Int32Array)[] {
  return seg.inputs.map((t) => {
    const v = values.get(t.tensor);
    if (!v) throw new Error(`internal: tensor '${t.tensor}' has no value`);
    const want = t.dtype === 'int8' ? Int8Array : t.dtype === 'int32' ? Int32Array : Float32Array;
    if (!(v.data instanceof want)) throw new TypeError(`tensor '${t.tensor}' must be ${t.dtype}`);
    const shape = t.shape.map((d) => resolveDim(d, batch));
    if (v.shape.length !== shape.length || v.shape.some((d, j) => d !== shape[j])) {
      throw new Error(
        `internal: tensor '${t.tensor}' has shape [${v.shape.join(', ')}], the plan expects ${shapeText(t.shape)} = [${shape.join(', ')}]`,
      );
    }
    return v.data as Float32Array | Int8Array | Int32Array;
  });
}

function storeNative(
  seg: NativeSegment,
  outs: (Float32Array | Int8Array | Uint8Array | Int32Array)[],
  values: Map<string, HostTensor>,
  batch: number,
): void {
  seg.outputs.forEach((t, i) => {
    const data = outs[i]!;
    const shape = t.shape.map((d) => resolveDim(d, batch));
    if (data.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`internal: output '${t.tensor}' size`);
    values.set(
      t.tensor,
      t.dtype === 'int8'
        ? { data: data as Int8Array, shape, dtype: 'int8', quantization: t.quantization }
        : t.dtype === 'int32'
          ? { data: data as Int32Array, shape, dtype: 'int32' }
          : { data: data as Float32Array, shape, dtype: 'float32' },
    );
  });
}

function tfjsInputs(seg: TfjsSegment, values: Map<string, HostTensor>): Record<string, tf.Tensor> {
  const given: Record<string, tf.Tensor> = {};
  try {
    for (const t of seg.inputs) {
      const v = values.get(t);
      if (v) given[t] = toFloatTensor(v);
    }
  } catch (e) {
    for (const t of Object.values(given)) t.dispose();
    throw e;
  }
  return given;
}

function storeTfjs(seg: TfjsSegment, res: tf.Tensor[], values: Map<string, HostTensor>): void {
  seg.outputs.forEach((t, i) => {
    const r = res[i]!;
    const dtype = (r.dtype === 'int32' || r.dtype === 'bool' ? r.dtype : 'float32') as TensorDType;
    const data = new DTYPE_ARRAY[dtype](r.size);
    data.set(r.dataSync() as HostArray);
    values.set(t, { data, shape: [...r.shape], dtype });
  });
  // One tensor may answer for two names (a region output and the Identity of it): freed once.
  for (const r of new Set(res)) r.dispose();
}

/** A tfjs segment run synchronously by `exec`. */
function runTfjs(
  seg: TfjsSegment,
  values: Map<string, HostTensor>,
  exec: (given: Record<string, tf.Tensor>) => tf.Tensor[],
): void {
  const given = tfjsInputs(seg, values);
  try {
    storeTfjs(seg, exec(given), values);
  } finally {
    for (const t of Object.values(given)) t.dispose();
  }
}

/**
 * The segments on the calling thread (native ones through RuntimeSession.runSync, tfjs ones
 * through the synchronous executor). A plan whose tfjs segments hold control flow cannot run
 * this way (tfjs-converter runs it only asynchronously): decided when the plan was made.
 */
export function runSegmentsSync(
  prepared: Prepared,
  values: Map<string, HostTensor>,
  batch: number,
  check: () => void,
): void {
  const g = prepared.tfjsGraph;
  if (prepared.asyncOnly !== undefined) {
    throw new Error(
      `InferenceSession: this model runs control flow (from node '${prepared.asyncOnly}') in tfjs, which runs only asynchronously: use run(), predictAsync() or executeAsync()`,
    );
  }
  // A plan assuming region output shapes holds control flow in tfjs: refused above.
  for (const [si, seg] of prepared.compiled.segments.entries()) {
    if (seg.kind === 'native')
      storeNative(
        seg,
        nativeOf(prepared, si, check).runSync(nativeInputs(seg, values, batch), { batch }),
        values,
        batch,
      );
    else runTfjs(seg, values, (given) => runTfjsSegmentSync(g!, seg, given));
  }
}
