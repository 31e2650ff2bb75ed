// Emitter of the steps where a model's outputs become indices and back (native/runtime/steps/
// index_ops.cc, select.cc): Cast float32 ↔ int32, ArgMax, GatherNd, GatherV2, TopKV2, reductions over any axes,
// float unary math, int32 arithmetic, and data movement of int32 tensors. Placement (dtypeObstacle) chose which nodes get here.
import type { Graph, Node } from '../model/ir.js';
import { concatAxis, emitMove } from './emit-common.js';
import { pieceAxis } from './pieces.js';
import type { SegmentBuilder } from './segment-builder.js';
import { constAxis, globalPool, reductionAxes } from './placement.js';
import { BINARY, DT, INT32_BINARY, INT32_MOVE, REDUCE, UNARY_MATH } from './step-codes.js';

/** Emits n when it is one of these ops (or int32 data movement); false for the float emitter's nodes. */
export function emitIndexOp(b: SegmentBuilder, g: Graph, n: Node): boolean {
  const out = n.outputs[0]!;
  const int32 = (t: string): boolean => b.dtypeOf(t) === 'int32';
  const get = (t: string): number => (int32(t) ? b.getI32(t) : b.getF32(t));
  const fresh = (t: string): number => b.buffer(int32(t) ? DT.i32 : DT.f32, b.shape(t));
  const set = (t: string, id: number): void => (int32(t) ? b.setI32(t, id) : b.setF32(t, id));
  const op = n.op;
  let y: number;
  if (op === 'Cast') {
    y = fresh(out);
    const x = get(n.inputs[0]!);
    if (int32(n.inputs[0]!) === int32(out)) b.emit('copy', { inputs: [x], output: y });
    else b.emit('cast', { inputs: [x], output: y });
  } else if (op === 'ArgMax') {
    y = fresh(out);
    const axis = constAxis(g, n.inputs[1], b.shape(n.inputs[0]!).length)!;
    b.emit('argmax_f32', { inputs: [b.getF32(n.inputs[0]!)], output: y, ints: { axis } });
  } else if (op === 'TopKV2') {
    // Two steps: the indices, then the values at them (a step has one output).
    const x = b.getF32(n.inputs[0]!);
    const indices = fresh(n.outputs[1]!);
    const k = (g.constants.get(n.inputs[1]!)!.data as Int32Array)[0]!;
    b.emit('topk_f32', { inputs: [x], output: indices, ints: { k } });
    b.setI32(n.outputs[1]!, indices);
    y = fresh(out);
    b.emit('take_f32', { inputs: [x, indices], output: y });
  } else if (op === 'GatherNd') {
    y = fresh(out);
    b.emit('gather_nd', { inputs: [get(n.inputs[0]!), b.getI32(n.inputs[1]!)], output: y });
  } else if (op === 'GatherV2') {
    y = fresh(out);
    const axis = constAxis(g, n.inputs[2], b.shape(n.inputs[0]!).length)!;
    b.emit('gather', { inputs: [get(n.inputs[0]!), b.getI32(n.inputs[1]!)], output: y, ints: { axis } });
  } else if (REDUCE[op] !== undefined && !globalPool(g, n, b.shape(n.inputs[0]!))) {
    y = fresh(out);
    const axes = reductionAxes(g, n, b.shape(n.inputs[0]!).length)!;
    b.emit('reduce_f32', {
      inputs: [b.getF32(n.inputs[0]!)],
      output: y,
      ints: { n: axes.length, axes, op: REDUCE[op]! },
    });
  } else if (UNARY_MATH[op] !== undefined) {
    y = fresh(out);
    b.emit('unary_f32', { inputs: [b.getF32(n.inputs[0]!)], output: y, ints: { op: UNARY_MATH[op]! } });
  } else if (int32(out) && INT32_BINARY.has(op)) {
    y = fresh(out);
    b.emit('binary_i32', {
      inputs: [b.getI32(n.inputs[0]!), b.getI32(n.inputs[1]!)],
      output: y,
      ints: { op: BINARY[op]! },
    });
  } else if (int32(out) && op === 'ConcatV2') {
    y = fresh(out);
    const axis = concatAxis(g, n, b.shape(out).length);
    b.emit('concat', { inputs: n.inputs.slice(0, -1).map((t) => b.getI32(t)), output: y, ints: { axis } });
  } else if (int32(out) && op === 'Pack') {
    // As the float Pack (emit-pieces.ts): each input given the stacked axis, then one concatenation.
    const ys = b.shape(out);
    const axis = pieceAxis(g, n, ys.length)!;
    const parts = n.inputs.map((t) => {
      const xs = b.shape(t);
      const part = b.buffer(DT.i32, [...xs.slice(0, axis), 1, ...xs.slice(axis)]);
      b.emit('copy', { inputs: [b.getI32(t)], output: part });
      return part;
    });
    y = b.buffer(DT.i32, ys);
    b.emit('concat', { inputs: parts, output: y, ints: { axis } });
  } else if (int32(out) && INT32_MOVE.has(op)) {
    y = fresh(out);
    emitMove(b, g, n, b.getI32(n.inputs[0]!), y, (v) => v);
  } else {
    return false;
  }
  set(out, y);
  return true;
}
