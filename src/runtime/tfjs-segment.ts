// The tfjs segments of a session: nodes the native runtime does not run (unknown ops, int32 /
// bool arithmetic, control-flow regions), executed by the IR's tfjs executor on the values
// the earlier segments computed. Every tfjs segment goes through runTfjsSegment or
// runTfjsSegmentSync, so how the IR is executed is decided here only: executeAsync runs
// control-flow regions whole through tfjs-converter and every other node as execute() does.
// What a segment runs is planned once (planRun) and kept with the segment: walking the whole
// graph on every run cost about 0.4 ms per segment on a 150-node model, more than the
// segment's own ops.
import type { tf } from '../backend/float.js';
import { execute, executeAsync, planRun, type RunPlan } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import type { TfjsSegment } from './plan.js';

const plans = new WeakMap<TfjsSegment, { graph: Graph; key: string; plan: RunPlan }>();

function planFor(graph: Graph, segment: TfjsSegment, given: Record<string, tf.Tensor>): RunPlan {
  const names = Object.keys(given);
  const key = names.join('\n');
  const hit = plans.get(segment);
  if (hit && hit.graph === graph && hit.key === key) return hit.plan;
  const plan = planRun(graph, { nodes: segment.nodes, outputs: segment.outputs, available: names });
  plans.set(segment, { graph, key, plan });
  return plan;
}

/**
 * Runs a segment's nodes in tfjs from `given` (tensor name → value; constants come from the
 * graph). Returns the segment's outputs in segment.outputs order, with the dtype tfjs gives
 * them (int32 and bool stay int32 and bool). The caller owns the returned tensors; `given`
 * stays the caller's.
 */
export async function runTfjsSegment(
  graph: Graph,
  segment: TfjsSegment,
  given: Record<string, tf.Tensor>,
): Promise<tf.Tensor[]> {
  return executeAsync(graph, {}, { given, plan: planFor(graph, segment, given) });
}

/** runTfjsSegment on the calling thread (a segment without control flow). */
export function runTfjsSegmentSync(graph: Graph, segment: TfjsSegment, given: Record<string, tf.Tensor>): tf.Tensor[] {
  return execute(graph, {}, { given, plan: planFor(graph, segment, given) });
}
