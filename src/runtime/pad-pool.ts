// A max pool that TensorFlow wrote as a PadV2 by −Infinity followed by a VALID MaxPool (how
// Keras and TF1 detection models express a padded max pool), planned as the one max pool with
// explicit padding it computes. The native pool skips the taps outside its input, which is
// what a −Infinity pad does to a maximum as long as every window holds one real value (each
// pad narrower than the window). Unfused, the pad is a step of its own that copies the whole
// tensor to add a border the pool then skips.
//
// Float only: an int8 pool runs on the parameters of the tensor it reads, which fused would be
// the pad's input's instead of the pad output's that calibration gave.
import type { Graph } from '../model/ir.js';
import { attrInts, attrStr } from '../model/node-attrs.js';
import type { NodeExecution } from '../quant/params.js';
import { readersOf, spatialPad, type NodeFusion } from './node-fusions.js';

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
    if (pad.op !== 'PadV2' || skip.has(pad.name) || exec.get(pad.name) === 'int8') continue;
    const spatial = spatialPad(g, pad);
    if (!spatial || spatial.value !== -Infinity || spatial.pads.some((v) => v < 0)) continue;
    const out = pad.outputs[0]!;
    const r = readers.get(out) ?? [];
    if (pad.outputs.length !== 1 || outputs.has(out) || r.length !== 1) continue;
    const pool = r[0]!;
    if (pool.op !== 'MaxPool' || pool.opaque || skip.has(pool.name) || exec.get(pool.name) === 'int8') continue;
    if (pool.inputs[0] !== out || attrStr(pool, 'padding').toUpperCase() !== 'VALID') continue;
    if (attrStr(pool, 'data_format', 'NHWC').toUpperCase() !== 'NHWC') continue;
    const [, kh, kw] = attrInts(pool, 'ksize', [1, 1, 1, 1]) as [number, number, number, number];
    const [pt, pb, pl, pr] = spatial.pads;
    if (pt >= kh || pb >= kh || pl >= kw || pr >= kw) continue;
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
