// Evaluates nodes whose inputs are all constants (with tfjs, as execution would) into constants.
import { tf } from '../../backend/float.js';
import { constantTensor } from '../execute.js';
import { hasNonFiniteValues, type Graph } from '../ir.js';
import { OPS } from '../ops.js';
import { removeNode } from './common.js';

const MAX_ELEMENTS = 1 << 24;

export function foldConstants(g: Graph): boolean {
  let changed = false;
  for (const n of [...g.nodes]) {
    const spec = OPS[n.op];
    if (n.opaque || !spec || n.outputs.length !== 1 || n.controlInputs?.length || n.inputs.length === 0) continue;
    if (!n.inputs.every((t) => g.constants.has(t) && !g.constants.get(t)!.quantization?.encoded)) continue;
    if (g.outputs.includes(n.outputs[0]!)) continue;
    let value: { data: Float32Array | Int32Array | Uint8Array; shape: number[]; dtype: string } | undefined;
    try {
      value = tf.tidy(() => {
        const [y] = spec.execute(
          n,
          n.inputs.map((t) => constantTensor(g.constants.get(t)!)),
        );
        if (!y || y.size > MAX_ELEMENTS || y.dtype === 'string' || y.dtype === 'complex64') return undefined;
        return { data: y.dataSync() as Float32Array | Int32Array | Uint8Array, shape: [...y.shape], dtype: y.dtype };
      });
    } catch {
      continue; // left for run time, where the error will name the node
    }
    if (!value) continue;
    const name = n.outputs[0]!;
    removeNode(g, n);
    const dtype = value.dtype as 'float32' | 'int32' | 'bool';
    const data = dtype === 'bool' ? Uint8Array.from(value.data) : value.data.slice();
    g.constants.set(name, {
      name,
      dtype,
      shape: value.shape,
      data,
      ...(hasNonFiniteValues(data) ? { nonFinite: true } : {}),
    });
    g.tensors.set(name, { dtype, shape: value.shape });
    changed = true;
  }
  return changed;
}
