// A max pool that TensorFlow wrote as a PadV2 by −Infinity followed by a VALID MaxPool (how
// Keras and TF1 detection models express a padded max pool), planned as the one max pool with
// explicit padding it computes. The native pool skips the taps outside its input, which is
// what a −Infinity pad does to a maximum as long as every window holds one real value (each
// pad narrower than the window). Unfused, the float path has no step for a non-finite pad:
// it ran in tfjs, a segment and two copies of the tensor through JavaScript (4 ms of a
// published 15 ms detector).
//
// Float only: an int8 pad by −Infinity is already native (it clamps to the lowest code), and
// fusing it would give the pool its input's parameters where the plan has the pad's.
import type { Graph } from '../model/ir.js';
import { attrInts, attrStr } from '../model/node-attrs.js';
import type { NodeExecution } from '../quant/params.js';
import { readersOf, type NodeFusion } from './node-fusions.js';

/** The padded max pools of g (the planning graph) outside `skip`, whose nodes run float. */
export function paddedMaxPools(
  g: Graph,
  skip: ReadonlySet<string>,
  exec: ReadonlyMap<string, NodeExecution>,
): NodeFusion[] {
  const readers = readersOf(g);
  const outputs = new Set(g.outputs);
  const found: NodeFusion[] = [];
  for (const pad of g.nodes) {
    if (pad.op !== 'PadV2' || pad.opaque || skip.has(pad.name) || exec.get(pad.name) === 'int8') continue;
    const value = g.constants.get(pad.inputs[2]!);
    if (!value || value.dtype !== 'float32' || value.data.length !== 1 || value.data[0] !== -Infinity) continue;
    const p = g.constants.get(pad.inputs[1]!);
    const pads = p && p.dtype === 'int32' ? Array.from(p.data as Int32Array) : undefined;
    // NHWC, spatial dimensions only.
    if (!pads || pads.length !== 8 || pads[0] || pads[1] || pads[6] || pads[7] || pads.some((v) => v < 0)) continue;
    const out = pad.outputs[0]!;
    const r = readers.get(out) ?? [];
    if (pad.outputs.length !== 1 || outputs.has(out) || r.length !== 1) continue;
    const pool = r[0]!;
    if (pool.op !== 'MaxPool' || pool.opaque || skip.has(pool.name) || exec.get(pool.name) === 'int8') continue;
    if (pool.inputs[0] !== out || attrStr(pool, 'padding').toUpperCase() !== 'VALID') continue;
    if (attrStr(pool, 'data_format', 'NHWC').toUpperCase() !== 'NHWC') continue;
    const [, kh, kw] = attrInts(pool, 'ksize', [1, 1, 1, 1]);
    const [, pt, pb, pl, pr] = [0, pads[2]!, pads[3]!, pads[4]!, pads[5]!];
    if (pt >= kh! || pb >= kh! || pl >= kw! || pr >= kw!) continue;
    found.push({
      replaced: [pad, pool],
      fused: {
        ...pool,
        inputs: [pad.inputs[0]!],
        attrs: { ...pool.attrs, padding: 'EXPLICIT', explicit_paddings: [0, 0, pt, pb, pl, pr, 0, 0] },
      },
    });
  }
  return found;
}
