// A float Equal whose only reader is a Cast to float32 computes a 0 / 1 mask: keypoint heads
// find their peaks this way (heat == MaxPool(heat), cast to float, times heat). The runtime
// has no bool buffers, so the pair ran in tfjs — on CenterNet's 128 × 128 × 80 heatmap a
// 6.8 ms detour through JavaScript for a comparison. Planned here as one binary_f32 step
// (ops::BinaryOp::kEqual) writing the Cast's float output: 1 where the inputs are equal, 0
// elsewhere (NaN equals nothing), the values the Cast of tfjs's bool gives.
//
// Done after placement, like the binary → ReLU fusion: both nodes were placed in tfjs (no bool
// buffers), and the fused node (the Equal's name, the Cast's output) is placed anew; when it
// cannot run natively either (shapes unknown before the run, a control-flow region) the pair
// stays as it was.
import type { Node } from '../model/ir.js';
import { attrStr } from '../model/node-attrs.js';
import type { NodeExecution } from '../quant/params.js';
import { chains, type Fusion } from './fusion.js';
import { decide, type PlacementContext, type PlannedNode } from './placement.js';

export interface EqualMask extends Fusion {
  replaced: [Node, Node];
  /** The fused node's placement (native float). */
  decided: PlannedNode;
}

/** The Equal → Cast(float32) pairs of `order` (placed as `decided`, same indices) that run natively as one step. */
export function equalMasks(
  ctx: PlacementContext,
  order: readonly Node[],
  decided: readonly PlannedNode[],
  exec: ReadonlyMap<string, NodeExecution>,
): EqualMask[] {
  // The Cast is the Equal's one reader, both without control inputs, the bool no graph output.
  const { next } = chains(order, decided, ctx.g.outputs, 'tfjs');
  const found: EqualMask[] = [];
  for (const eq of order) {
    if (eq.op !== 'Equal' || (exec.get(eq.name) ?? 'float') !== 'float') continue;
    const cast = next(eq);
    if (cast?.op !== 'Cast' || ctx.region.has(cast.name)) continue;
    if (attrStr(cast, 'DstT', 'float32') !== 'float32' || cast.outputs.length !== 1) continue;
    // Placement checks what the step needs: float32 inputs and output, known shapes, a batch that flows through.
    const fused: Node = { ...eq, outputs: [cast.outputs[0]!] };
    const placed = decide(ctx, fused, 'float');
    if (placed.placement !== 'native-float') continue;
    found.push({ replaced: [eq, cast], fused, decided: placed });
  }
  return found;
}
