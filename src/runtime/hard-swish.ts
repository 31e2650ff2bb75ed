// Hard-swish as TF graphs spell it — x + 3 → Relu6 → products with x (and a scale) — planned as
// one float activation step when every node of it runs native float: MobileNetV3's blocks
// write it after most convolutions, and spelled out it is three or four passes over the tensor
// (in a dynamic-mode MobileNetV3 more than a quarter of the native time).
//
// Two rounding orders occur, and each runs as written (so the result is the graph's, bit for
// bit):
//   - product:     y = x · Relu6(x + 3), then · c when a scalar product follows (c = 1 when
//                  the converter folded the 1/6 into the next layer);
//   - scaled gate: y = x · (Relu6(x + 3) · c);
//   - scaled input: y = (c · x) · Relu6(x + 3) (TF-slim's MobileNetV3 graphs).
// Done on the planning copy after placement, like the atrous and binary → ReLU fusions; the
// fused node takes the name and placement of the last node it replaces.
import type { Graph, Node } from '../model/ir.js';
import { floatChains, type Fusion } from './fusion.js';
import type { PlannedNode } from './placement.js';

/** replaced: the add, the Relu6, the products; fused: `_HardSwish` {form, alpha} named as the last product, reading x. */
export type HardSwish = Fusion;

/** The op of a fused hard-swish node (emit-float.ts runs it as act_f32). */
export const HARD_SWISH_OP = '_HardSwish';

function scalar(g: Graph, t: string | undefined): number | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'float32' && c.data.length === 1 ? (c.data[0] as number) : undefined;
}

/** The input of a commutative binary node other than `t`, or undefined when neither input is `t`. */
function other(n: Node, t: string): string | undefined {
  if (n.inputs.length !== 2) return undefined;
  return n.inputs[0] === t ? n.inputs[1] : n.inputs[1] === t ? n.inputs[0] : undefined;
}

/**
 * The hard-swish chains of `order` (execution order; `decided` the placements, same indices)
 * in which every node is native float and every intermediate tensor has one reader and is no
 * graph output.
 */
export function hardSwishes(g: Graph, order: readonly Node[], decided: readonly PlannedNode[]): HardSwish[] {
  const { floatNative, next } = floatChains(order, decided, g.outputs);
  const producer = new Map<string, Node>();
  for (const n of order) for (const o of n.outputs) producer.set(o, n);
  const found: HardSwish[] = [];
  const used = new Set<string>();
  for (const add of order) {
    if ((add.op !== 'AddV2' && add.op !== 'Add') || !floatNative.has(add.name) || used.has(add.name)) continue;
    if (((add.attrs.activation as string | undefined) ?? 'none') !== 'none') continue;
    const x = add.inputs.find((t) => scalar(g, t) === undefined);
    if (x === undefined || scalar(g, other(add, x)) !== 3) continue;
    const relu6 = next(add);
    if (!relu6 || relu6.op !== 'Relu6') continue;
    const mul = next(relu6);
    if (!mul || mul.op !== 'Mul') continue;
    const gateOther = other(mul, relu6.outputs[0]!);
    let form: 'product' | 'scaledGate' | 'scaledInput';
    let alpha = 1;
    let chain: Node[];
    if (gateOther === x) {
      // x · Relu6(x + 3), then perhaps · c.
      form = 'product';
      chain = [add, relu6, mul];
      const scale = next(mul);
      const c = scale && scale.op === 'Mul' ? scalar(g, other(scale, mul.outputs[0]!)) : undefined;
      if (scale && c !== undefined) {
        alpha = c;
        chain.push(scale);
      }
    } else if (scalar(g, gateOther) === undefined) {
      // (c · x) · Relu6(x + 3): the other factor a product of x with a scalar, read only here.
      const s = gateOther === undefined ? undefined : producer.get(gateOther);
      const c = s && s.op === 'Mul' ? scalar(g, other(s, x)) : undefined;
      if (!s || c === undefined || next(s) !== mul || used.has(s.name)) continue;
      form = 'scaledInput';
      alpha = c;
      chain = [s, add, relu6, mul];
    } else {
      // x · (Relu6(x + 3) · c).
      const c = scalar(g, gateOther);
      const last = c === undefined ? undefined : next(mul);
      if (!last || last.op !== 'Mul' || other(last, mul.outputs[0]!) !== x) continue;
      form = 'scaledGate';
      alpha = c!;
      chain = [add, relu6, mul, last];
    }
    const end = chain[chain.length - 1]!;
    chain.forEach((n) => used.add(n.name));
    found.push({
      replaced: chain,
      fused: { name: end.name, op: HARD_SWISH_OP, inputs: [x], outputs: [end.outputs[0]!], attrs: { form, alpha } },
    });
  }
  return found;
}
