// The shape of one canonical op's entry (src/model/ops.ts) and the small helpers its execute
// and infer functions share.
import type { tf } from '../backend/float.js';
import type { DType } from '../io/weights.js';
import type { Node, TensorInfo } from './ir.js';

type T = tf.Tensor;

export interface OpSpec {
  /** Number of outputs (default 1); a function of the node for Split/Unpack. */
  outputs?: number | ((n: Node) => number);
  /** Indices of inputs that must be compile-time int lists for shape inference / lowering. */
  execute(n: Node, x: T[]): T[];
  infer(n: Node, x: TensorInfo[], ints: (i: number) => number[] | undefined): TensorInfo[];
}

export function ints(t: T): number[] {
  return Array.from(t.dataSync() as Int32Array | Float32Array);
}

export function info(dtype: DType, shape: number[] | null): TensorInfo {
  return { dtype, shape };
}
export const same = (_n: Node, x: TensorInfo[]): TensorInfo[] => [
  info(x[0]?.dtype ?? 'float32', x[0]?.shape ? [...x[0].shape] : null),
];

export function broadcast(a: number[] | null, b: number[] | null): number[] | null {
  if (!a || !b) return null;
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : y === -1 ? x : x === y ? x : NaN);
    if (Number.isNaN(out[i])) return null;
  }
  return out;
}
