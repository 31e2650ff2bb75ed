// Float32 emitter of the ops that cut a tensor into pieces or stack pieces into one — Split,
// SplitV, Unpack (several outputs) and Pack — as the movement steps the runtime has: one
// strided slice per piece, and a concatenation of the pieces each given the stacked axis.
// A recurrent cell splits its gates and a detector's box decoder unstacks and restacks its
// coordinates; in tfjs each such op cost a segment of its own between native ones.
import { parseTensorName, type Graph, type Node } from '../model/ir.js';
import { pieceAxis, pieceSizes, piecesSource } from './pieces.js';
import type { SegmentBuilder } from './segment-builder.js';
import { DT } from './step-codes.js';

export function emitPieces(b: SegmentBuilder, g: Graph, n: Node): void {
  if (n.op === 'Pack') {
    const y = b.shape(n.outputs[0]!);
    const axis = pieceAxis(g, n, y.length)!;
    const parts = n.inputs.map((t) => {
      const x = b.shape(t);
      const part = b.buffer(DT.f32, [...x.slice(0, axis), 1, ...x.slice(axis)]);
      b.emit('copy', { inputs: [b.getF32(t)], output: part });
      return part;
    });
    const out = b.buffer(DT.f32, y);
    b.emit('concat', { inputs: parts, output: out, ints: { axis } });
    b.setF32(n.outputs[0]!, out);
    return;
  }
  const src = piecesSource(n);
  const xs = b.shape(src);
  const rank = xs.length;
  const axis = pieceAxis(g, n, rank)!;
  const x = b.getF32(src);
  // Every dimension but the axis is taken whole (masks); the axis from the piece's offset.
  const whole = ((1 << rank) - 1) & ~(1 << axis);
  const unpack = n.op === 'Unpack';
  const sizes = pieceSizes(g, n, xs[axis]!)!;
  for (const t of n.outputs) {
    // An output's index is in its name (outputs nobody reads may be missing from the list).
    const k = parseTensorName(t)[1];
    const at = sizes.slice(0, k).reduce((a, v) => a + v, 0);
    const begin = xs.map((_, i) => (i === axis ? at : 0));
    const end = xs.map((_, i) => (i === axis ? at + sizes[k]! : 0));
    const y = b.buffer(DT.f32, b.shape(t));
    b.emit('strided_slice', {
      inputs: [x],
      output: y,
      ints: {
        n: rank,
        begin,
        end,
        strides: xs.map(() => 1),
        begin_mask: whole,
        end_mask: whole,
        ellipsis_mask: 0,
        new_axis_mask: 0,
        shrink_axis_mask: unpack ? 1 << axis : 0,
      },
    });
    b.setF32(t, y);
  }
}
