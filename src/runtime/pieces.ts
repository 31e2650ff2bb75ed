// Split, SplitV, Unpack (several outputs) and Pack (several inputs stacked): which tensors
// they read and cut, along which axis and in which sizes — shared by placement and the emitter
// (src/runtime/emit-pieces.ts).
import { constInts, type Graph, type Node } from '../model/ir.js';
import { attrNum } from '../model/node-attrs.js';

/** The ops cut into or stacked from pieces. */
export const PIECE_OPS = new Set(['Split', 'SplitV', 'Unpack', 'Pack']);

/** The axis a piece op cuts or stacks along, non-negative for a tensor of `rank` dimensions (the stacked output for Pack). */
export function pieceAxis(g: Graph, n: Node, rank: number): number | undefined {
  const raw =
    n.op === 'Split'
      ? constInts(g, n.inputs[0])?.[0]
      : n.op === 'SplitV'
        ? constInts(g, n.inputs[2])?.[0]
        : attrNum(n, 'axis', 0);
  if (raw === undefined || raw < -rank || raw >= rank) return undefined;
  return raw < 0 ? raw + rank : raw;
}

/** The tensor a Split / SplitV / Unpack cuts (Split takes its axis first). */
export function piecesSource(n: Node): string {
  return n.op === 'Split' ? n.inputs[1]! : n.inputs[0]!;
}

/**
 * The length along the axis of each piece of a Split / SplitV / Unpack of `extent` values
 * (SplitV's one −1 takes what is left); undefined when the attributes do not divide it so.
 */
export function pieceSizes(g: Graph, n: Node, extent: number): number[] | undefined {
  if (n.op === 'Unpack') return Array.from({ length: attrNum(n, 'num', extent) }, () => 1);
  if (n.op === 'Split') {
    const k = attrNum(n, 'num_split', 0);
    return k > 0 && extent % k === 0 ? Array.from({ length: k }, () => extent / k) : undefined;
  }
  const given = constInts(g, n.inputs[1]);
  if (!given) return undefined;
  const rest = extent - given.filter((v) => v >= 0).reduce((a, v) => a + v, 0);
  const sizes = given.map((v) => (v < 0 ? rest : v));
  return sizes.every((v) => v >= 0) && sizes.reduce((a, v) => a + v, 0) === extent ? sizes : undefined;
}
