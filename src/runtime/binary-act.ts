// A float element-wise Add / Sub / Mul whose only reader is a ReLU or ReLU6, both planned as
// native float steps, runs as one binary step that clamps as it stores (binary_f32's `act`)
// instead of a second pass over the tensor. Residual blocks end this way (x + f(x) → ReLU):
// BlazeFace runs 31 of them, each ReLU a full read and write of a 128 × 128 × 24 or smaller
// tensor (about a tenth of its native time).
//
// Done on the planning copy after placement, like the atrous fusion: the file keeps its nodes,
// and the fused node is the binary node (its name, its placement) writing the activation's
// output tensor. Exact: the clamp is the ReLU's own comparison on the same float sum.
import type { Node } from '../model/ir.js';
import { floatChains, type Fusion } from './fusion.js';
import type { PlannedNode } from './placement.js';

/** The binary ops binary_f32 runs with a fused clamp (float emitter's default case). */
const FUSABLE_BINARY = new Set(['AddV2', 'Add', 'Sub', 'Mul']);
/** Activation op → the fused `activation` attribute binary_f32 reads. */
const CLAMPS: Record<string, 'relu' | 'relu6'> = { Relu: 'relu', Relu6: 'relu6' };

/** replaced: the binary node and the activation after it; fused: the binary node with `activation` set, writing the activation's output. */
export interface BinaryActivation extends Fusion {
  replaced: [Node, Node];
}

/**
 * The binary → ReLU pairs of `order` (nodes in execution order, `decided` their placements, same
 * indices) that can run as one step: both native float, the activation the binary's only
 * reader, the binary's output no graph output, neither taking control inputs (floatChains).
 */
export function binaryActivations(
  order: readonly Node[],
  decided: readonly PlannedNode[],
  graphOutputs: readonly string[],
): BinaryActivation[] {
  const { floatNative, next } = floatChains(order, decided, graphOutputs);
  const found: BinaryActivation[] = [];
  for (const bin of order) {
    if (!FUSABLE_BINARY.has(bin.op) || !floatNative.has(bin.name)) continue;
    if (((bin.attrs.activation as string | undefined) ?? 'none') !== 'none') continue;
    const act = next(bin);
    if (!act || !CLAMPS[act.op] || act.inputs.length !== 1 || act.outputs.length !== 1) continue;
    found.push({
      replaced: [bin, act],
      fused: { ...bin, attrs: { ...bin.attrs, activation: CLAMPS[act.op]! }, outputs: [act.outputs[0]!] },
    });
  }
  return found;
}
