// Recognizes PReLU written out in elementary ops, as TF-slim exports it (MobileFaceNet and other
// face models), since x − |x| is 2·min(x, 0):
//   Relu(x) + a·(x − |x|) = Prelu(x, 2a) — exact in float32: for x < 0, x − |x| = 2x exactly
//     and fl(2x·a) = fl(x·2a) (2a is exact); for x ≥ 0 both sides are x;
//   x + a·(x − |x|) = Prelu(x, 1 + 2a) — for x < 0 within one rounding (x + fl(2x·a) is
//     rounded twice, x·fl(1 + 2a) once); for x ≥ 0 exact;
//   and when x comes out of a ReLU already (the exporter fused the Relu into the convolution
//     before the pattern), x − |x| = 0 exactly: the whole pattern is x, and goes. Left as it is, the Abs has no native kernel and splits
// every block into a tfjs segment (73 of 86 ms of a MobileFaceNet run); as Prelu it fuses into
// the convolution before it.
import type { Graph, Node } from '../ir.js';
import {
  absorbNode,
  activation,
  context,
  floatConst,
  isConvLike,
  newConst,
  removeNode,
  soleProducer,
  type PassContext,
} from './common.js';

/** The node producing t when t has that one reader (and is not a graph output). */
function only(c: PassContext, t: string | undefined, op: string): Node | undefined {
  if (t === undefined) return undefined;
  const p = soleProducer(c, t);
  return p && p.op === op && p.outputs.length === 1 ? p : undefined;
}

export function fusePrelu(g: Graph): boolean {
  let changed = false;
  for (const add of [...g.nodes]) {
    if (add.opaque || add.op !== 'AddV2' || add.inputs.length !== 2 || !g.nodes.includes(add)) continue;
    const c = context(g);
    for (const side of [0, 1]) {
      const mul = only(c, add.inputs[1 - side], 'Mul');
      if (!mul) continue;
      // The positive part: Relu(x), or x itself.
      const relu = only(c, add.inputs[side], 'Relu');
      const x = relu ? relu.inputs[0]! : add.inputs[side]!;
      const plusOne = relu ? 0 : 1;
      // Mul(Sub(x, Abs(x)), a) with the constant on either side.
      const kSide = floatConst(g, mul.inputs[1]) ? 1 : floatConst(g, mul.inputs[0]) ? 0 : -1;
      if (kSide < 0) continue;
      const k = floatConst(g, mul.inputs[kSide])!;
      const sub = only(c, mul.inputs[1 - kSide], 'Sub');
      const abs = sub && sub.inputs[0] === x ? only(c, sub.inputs[1], 'Abs') : undefined;
      if (!sub || !abs || abs.inputs[0] !== x) continue;
      const C = g.tensors.get(x)?.shape?.at(-1);
      const a = k.data as Float32Array;
      if (
        C === undefined ||
        C < 1 ||
        !(a.length === 1 || (a.length === C && k.shape.at(-1) === C)) ||
        !a.every(Number.isFinite)
      )
        continue;
      const p = c.prod.get(x);
      const nonNegative =
        !!p &&
        p[1] === 0 &&
        !p[0].opaque &&
        (p[0].op === 'Relu' ||
          p[0].op === 'Relu6' ||
          (isConvLike(p[0]) && ['relu', 'relu6'].includes(activation(p[0]))));
      if (!relu && nonNegative) {
        for (const n of [mul, sub, abs]) removeNode(g, n);
        add.inputs = [x];
        absorbNode(g, add, p[0]);
        changed = true;
        break;
      }
      const alpha = newConst(g, `${add.name}/prelu_alpha`, {
        dtype: 'float32',
        shape: [C],
        data: Float32Array.from({ length: C }, (_, i) => plusOne + 2 * a[a.length === 1 ? 0 : i]!),
      });
      for (const n of [relu, mul, sub, abs]) if (n) removeNode(g, n);
      add.op = 'Prelu';
      add.inputs = [x, alpha];
      add.attrs = {};
      changed = true;
      break;
    }
  }
  return changed;
}
