// The tfjs segments of a session: nodes the native runtime does not run (unknown ops, int32 /
// bool arithmetic, control-flow regions), executed by the IR's tfjs executor on the values
// the earlier segments computed. Every tfjs segment goes through runTfjsSegment, so how the
// IR is executed is decided here only: executeAsync runs control-flow regions whole through
// tfjs-converter and every other node as execute() does.
import { tf } from '../backend/float.js';
import { executeAsync } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import type { TfjsSegment } from './plan.js';

/**
 * Runs a segment's nodes in tfjs from `given` (tensor name → value; constants come from the
 * graph). Returns the segment's outputs in segment.outputs order, with the dtype tfjs gives
 * them (int32 and bool stay int32 and bool). The caller owns the returned tensors; `given`
 * stays the caller's.
 */
export async function runTfjsSegment(graph: Graph, segment: TfjsSegment, given: Record<string, tf.Tensor>): Promise<tf.Tensor[]> {
  return executeAsync(graph, {}, { nodes: segment.nodes, given, outputs: segment.outputs });
}
