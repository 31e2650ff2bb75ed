// Helpers shared by the int8 and float emitters.
import type { Graph, Node } from '../model/ir.js';
import { attrBool, attrNum } from '../model/node-attrs.js';
import { convGeomInts, windowGeometry } from './geometry.js';
import { constAxis, floatConst } from './placement.js';
import type { SegmentBuilder } from './segment-builder.js';

/** [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr] of a conv (dilated) or pooling window on x [N, H, W, C]. */
export function geometry(n: Node, xShape: readonly number[], k: [number, number], pool: boolean): number[] {
  return convGeomInts(windowGeometry(n, xShape, k, pool));
}

/** A float32 bias of `channels` values; a single value is repeated (tfjs broadcasts it). */
export function biasConst(g: Graph, t: string | undefined, channels: number): Float32Array | undefined {
  const b = floatConst(g, t);
  if (!b || b.length === channels) return b;
  return new Float32Array(channels).fill(b[0]!);
}

/** Transposes a row-major [r, c] matrix. */
export function transpose2<T extends Float32Array | Int8Array>(x: T, r: number, c: number): T {
  const y = new (x.constructor as new (n: number) => T)(x.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[j * r + i] = x[i * c + j]!;
  return y;
}

export function convWeightsKN(
  g: Graph,
  n: Node,
  values: Float32Array | Int8Array,
): { w: Float32Array | Int8Array; k: number; nOut: number } {
  const c = g.constants.get(n.inputs[1]!)!;
  if (n.op === 'MatMul') {
    const tb = attrBool(n, 'transpose_b');
    const [r, cc] = c.shape as [number, number];
    return tb ? { w: transpose2(values, r, cc), k: cc, nOut: r } : { w: values, k: r, nOut: cc };
  }
  const [kh, kw, ci, co] = c.shape as [number, number, number, number];
  return { w: values, k: kh * kw * ci, nOut: co };
}

/** im2col temporary of a k×k conv, or none for a direct (1×1, stride 1, unpadded) one. */
export function im2colTemp(b: SegmentBuilder, geo: number[], yShape: number[], k: number, dtype: number): number[] {
  const direct = geo[0] === 1 && geo[1] === 1 && geo[2] === 1 && geo[3] === 1 && geo.slice(6).every((v) => v === 0);
  if (direct) return [];
  return [b.buffer(dtype, [yShape[0]!, yShape[1]! * yShape[2]! * k])];
}

export function ints(g: Graph, t: string): number[] {
  return Array.from(g.constants.get(t)!.data as Int32Array);
}

export function concatAxis(g: Graph, n: Node, rank: number): number {
  return constAxis(g, n.inputs[n.inputs.length - 1], rank)!;
}

/** Copy / Pad / Transpose / ResizeNearest on any dtype; padValue maps the float pad value to the element type. */
export function emitMove(
  b: SegmentBuilder,
  g: Graph,
  n: Node,
  x: number,
  y: number,
  padValue: (v: number) => number,
): void {
  switch (n.op) {
    case 'Pad':
    case 'PadV2': {
      const flat = Array.from(g.constants.get(n.inputs[1]!)!.data as Int32Array);
      const before = flat.filter((_, i) => i % 2 === 0),
        after = flat.filter((_, i) => i % 2 === 1);
      const v = padValue(n.op === 'PadV2' ? floatConst(g, n.inputs[2])![0]! : attrNum(n, 'constant_value', 0));
      // A plan's floats are finite: a float pad by ±Infinity (before a max pool) says so apart.
      const infinite = v === -Infinity ? -1 : v === Infinity ? 1 : 0;
      b.emit('pad', { inputs: [x], output: y, ints: { before, after, infinite }, floats: { value: infinite ? 0 : v } });
      return;
    }
    case 'Transpose':
      b.emit('transpose', { inputs: [x], output: y, ints: { perm: ints(g, n.inputs[1]!) } });
      return;
    case 'ResizeNearestNeighbor':
      b.emit('resize_nearest', {
        inputs: [x],
        output: y,
        ints: { align_corners: +attrBool(n, 'align_corners'), half_pixel_centers: +attrBool(n, 'half_pixel_centers') },
      });
      return;
    case 'StridedSlice': {
      const [begin, end, strides] = [1, 2, 3].map((i) => ints(g, n.inputs[i]!));
      const mask = (k: string): number => attrNum(n, k, 0);
      b.emit('strided_slice', {
        inputs: [x],
        output: y,
        ints: {
          n: begin!.length,
          begin: begin!,
          end: end!,
          strides: strides!,
          begin_mask: mask('begin_mask'),
          end_mask: mask('end_mask'),
          ellipsis_mask: mask('ellipsis_mask'),
          new_axis_mask: mask('new_axis_mask'),
          shrink_axis_mask: mask('shrink_axis_mask'),
        },
      });
      return;
    }
    case 'Slice': {
      // Slice(begin, size) = StridedSlice with stride 1, end = begin + size (size −1: to the end, via end_mask).
      const begin = ints(g, n.inputs[1]!),
        size = ints(g, n.inputs[2]!);
      const endMask = size.reduce((m, v, i) => (v === -1 ? m | (1 << i) : m), 0);
      b.emit('strided_slice', {
        inputs: [x],
        output: y,
        ints: {
          n: begin.length,
          begin,
          end: size.map((v, i) => (v === -1 ? 0 : begin[i]! + v)),
          strides: begin.map(() => 1),
          begin_mask: 0,
          end_mask: endMask,
          ellipsis_mask: 0,
          new_axis_mask: 0,
          shrink_axis_mask: 0,
        },
      });
      return;
    }
    case 'DepthToSpace':
      b.emit('depth_to_space', { inputs: [x], output: y, ints: { block_size: attrNum(n, 'block_size') } });
      return;
    default:
      b.emit('copy', { inputs: [x], output: y });
  }
}
