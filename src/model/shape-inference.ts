// Shape and dtype inference over the IR (unknown dimensions stay -1, unknown ranks null).
import { asModelError } from './errors.js';
import { constInts, type Graph, type TensorInfo } from './ir.js';
import { OPS } from './ops.js';
import type { DType } from '../io/weights.js';

/** Fills g.tensors for every input, constant and node output (nodes must be in topological order). */
export function inferShapes(g: Graph): void {
  const t = new Map<string, TensorInfo>();
  for (const i of g.inputs) t.set(i.name, { dtype: i.dtype, shape: i.shape ? [...i.shape] : null });
  for (const c of g.constants.values()) t.set(c.name, { dtype: c.dtype, shape: [...c.shape] });
  for (const n of g.nodes) {
    const ins = n.inputs.map((x) => t.get(x) ?? { dtype: 'float32' as DType, shape: null });
    let outs: TensorInfo[];
    const spec = OPS[n.op];
    if (!spec || n.opaque) {
      const d = (n.attrs.T ?? n.attrs.dtype ?? n.attrs.DstT ?? ins[0]?.dtype ?? 'float32') as DType;
      outs = n.outputs.map(() => ({ dtype: ['float32', 'int32', 'bool', 'string'].includes(d) ? d : 'float32', shape: null }));
    } else {
      try {
        outs = spec.infer(n, ins, (i) => constInts(g, n.inputs[i]));
      } catch (e) {
        throw asModelError(e, { node: n.name });
      }
    }
    n.outputs.forEach((o, i) => t.set(o, outs[i] ?? { dtype: outs[0]?.dtype ?? 'float32', shape: null }));
  }
  g.tensors = t;
}
