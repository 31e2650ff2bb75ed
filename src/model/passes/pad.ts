// Folds a zero Pad of the spatial dimensions into the following convolution's padding
// (VALID or EXPLICIT → EXPLICIT with the pad added).
import { constInts, type Graph } from '../ir.js';
import { context, removeNode, scalarValue } from './common.js';

export function foldPad(g: Graph): boolean {
  let changed = false;
  for (const pad of [...g.nodes]) {
    if (pad.opaque || (pad.op !== 'Pad' && pad.op !== 'PadV2')) continue;
    if (pad.op === 'Pad' && (pad.attrs.constant_value ?? 0) !== 0) continue;
    if (pad.op === 'PadV2' && scalarValue(g, pad.inputs[2]) !== 0) continue;
    const p = constInts(g, pad.inputs[1]);
    if (!p || p.length !== 8 || p[0] !== 0 || p[1] !== 0 || p[6] !== 0 || p[7] !== 0) continue;
    const c = context(g);
    const out = pad.outputs[0]!;
    const readers = c.cons.get(out) ?? [];
    if (g.outputs.includes(out) || readers.length === 0) continue;
    const ok = readers.every(
      (r) =>
        !r.opaque &&
        (r.op === 'Conv2D' || r.op === 'DepthwiseConv2dNative') &&
        r.inputs[0] === out &&
        r.inputs.indexOf(out) === 0 &&
        ['VALID', 'EXPLICIT'].includes(String(r.attrs.padding).toUpperCase()),
    );
    if (!ok) continue;
    for (const r of readers) {
      const prev =
        String(r.attrs.padding).toUpperCase() === 'EXPLICIT'
          ? (r.attrs.explicit_paddings as number[])
          : [0, 0, 0, 0, 0, 0, 0, 0];
      r.attrs.padding = 'EXPLICIT';
      r.attrs.explicit_paddings = prev.map((v, i) => v + p[i]!);
      r.inputs[0] = pad.inputs[0]!;
    }
    removeNode(g, pad);
    changed = true;
  }
  return changed;
}
