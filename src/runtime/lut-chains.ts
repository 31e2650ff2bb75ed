// Chains of int8 elementwise steps that read one int8 tensor — lookups (activations) and binary
// ops whose other operands are that tensor, the chain's own results or one-value constants —
// compute a function of each byte of that tensor. A hard-swish, x · relu6(x + 3) / 6, is four
// such steps (two scalar binary ops, a ReLU6 lookup, a product of the two branches), each a
// pass over the whole tensor; it is one 256-entry lookup. The table is what the chain's own
// kernels give for the 256 bytes (the native ops the steps run), so the fused step writes the
// bytes the chain wrote, requantization between the steps included.
import type { RuntimePlanBuffer, RuntimePlanStep } from '../../binding.js';
import type { OpsBinaryOp } from '../kernels/ops.js';
import { native } from '../native/binding.js';
import { BINARY } from './step-codes.js';
import type { Typed } from './segment-builder.js';

const INT8 = 1;
const BINARY_OP: Record<number, OpsBinaryOp> = {
  [BINARY.AddV2!]: 'add',
  [BINARY.Sub!]: 'sub',
  [BINARY.Mul!]: 'mul',
  [BINARY.Maximum!]: 'maximum',
  [BINARY.Minimum!]: 'minimum',
};

const elements = (b: RuntimePlanBuffer): number => b.shape.reduce((a, d) => a * Math.abs(d), 1);
const sameShape = (a: RuntimePlanBuffer, b: RuntimePlanBuffer): boolean =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * Replaces each chain of two or more such steps by one 'lut' step (its table appended to
 * `weights`); `kept`: buffers read after the steps (segment outputs), which stay written.
 * Returns the new step list and, per new step, the index of the step it stands for (a fused
 * step: the chain's last).
 */
export function fuseLutChains(
  steps: readonly RuntimePlanStep[],
  buffers: readonly RuntimePlanBuffer[],
  weights: Typed[],
  kept: ReadonlySet<number>,
): { steps: RuntimePlanStep[]; from: number[] } {
  const isConst1 = (id: number): boolean => (buffers[id]!.constIndex ?? -1) >= 0 && elements(buffers[id]!) === 1;
  // Steps the fusion understands: an int8 lookup, or an int8 binary op (of the five the table
  // evaluation runs) whose operands are the output's shape or one-value constants.
  const fusible = (s: RuntimePlanStep): boolean => {
    const y = buffers[s.outputs[0]!]!;
    if (y.dtype !== INT8 || (y.constIndex ?? -1) >= 0) return false;
    if (s.op === 'lut') return buffers[s.inputs[0]!]!.dtype === INT8 && sameShape(buffers[s.inputs[0]!]!, y);
    if (s.op !== 'binary_i8' || BINARY_OP[s.ints![0]!] === undefined) return false;
    return s.inputs.every((i) => isConst1(i) || (buffers[i]!.dtype === INT8 && sameShape(buffers[i]!, y)));
  };
  const producer = new Map<number, number>();
  const readers = new Map<number, number[]>();
  steps.forEach((s, i) => {
    for (const o of s.outputs) producer.set(o, i);
    for (const b of [...s.inputs, ...(s.temps ?? [])]) readers.set(b, [...(readers.get(b) ?? []), i]);
  });
  const removed = new Set<number>();
  const fusedAt = new Map<number, RuntimePlanStep>();
  for (let last = steps.length - 1; last >= 0; last--) {
    const s = steps[last]!;
    if (removed.has(last) || !fusible(s)) continue;
    // The steps between the chain's source and its output: back through fusible producers
    // whose outputs nothing outside the chain reads; a buffer read outside is a source.
    const sources = new Set<number>();
    let chain = new Set<number>();
    for (let settled = false; !settled;) {
      settled = true;
      chain = new Set([last]);
      const stack = [last];
      while (stack.length) {
        const i = stack.pop()!;
        for (const b of steps[i]!.inputs) {
          if (isConst1(b) || sources.has(b)) continue;
          const p = producer.get(b);
          if (p === undefined || removed.has(p) || !fusible(steps[p]!) || kept.has(b)) {
            sources.add(b);
          } else if (!chain.has(p)) {
            chain.add(p);
            stack.push(p);
          }
        }
      }
      for (const i of chain) {
        if (i === last) continue;
        const out = steps[i]!.outputs[0]!;
        if ((readers.get(out) ?? []).some((r) => !chain.has(r))) {
          sources.add(out);
          settled = false;
        }
      }
    }
    if (chain.size < 2 || sources.size !== 1) continue;
    const x = [...sources][0]!;
    const ordered = [...chain].sort((a, b) => a - b);
    const table = chainTable(
      ordered.map((i) => steps[i]!),
      x,
      buffers,
      weights,
    );
    weights.push(table);
    for (const i of ordered) removed.add(i);
    fusedAt.set(last, { op: 'lut', inputs: [x], outputs: [s.outputs[0]!], weights: [weights.length - 1] });
  }
  const from = steps.flatMap((_, i) => (fusedAt.has(i) || !removed.has(i) ? [i] : []));
  return { steps: from.map((i) => fusedAt.get(i) ?? steps[i]!), from };
}

/** The chain's output byte for each of the 256 bytes of x, as a lookup table (index = x's byte as uint8). */
function chainTable(
  chain: readonly RuntimePlanStep[],
  x: number,
  buffers: readonly RuntimePlanBuffer[],
  weights: readonly Typed[],
): Uint8Array {
  const values = new Map<number, Int8Array>([[x, Int8Array.from({ length: 256 }, (_, i) => i - 128)]]);
  const operand = (id: number): { v: Int8Array; shape: number[] } => {
    const b = buffers[id]!;
    if ((b.constIndex ?? -1) >= 0) return { v: weights[b.constIndex!] as Int8Array, shape: [1] };
    return { v: values.get(id)!, shape: [256] };
  };
  for (const s of chain) {
    const y = new Int8Array(256);
    if (s.op === 'lut') {
      native().opsApplyLut(weights[s.weights![0]!] as Uint8Array, values.get(s.inputs[0]!)!, y);
    } else {
      const [op, za, zb, zy, qmin, qmax] = s.ints!;
      const [sa, sb, sy] = s.floats!;
      const a = operand(s.inputs[0]!),
        b = operand(s.inputs[1]!);
      native().opsBinary(a.v, b.v, y, {
        op: BINARY_OP[op!]!,
        aShape: a.shape,
        bShape: b.shape,
        q: {
          aScale: sa!,
          aZeroPoint: za!,
          bScale: sb!,
          bZeroPoint: zb!,
          yScale: sy!,
          yZeroPoint: zy!,
          yMin: qmin!,
          yMax: qmax!,
        },
      });
    }
    values.set(s.outputs[0]!, y);
  }
  const out = values.get(chain.at(-1)!.outputs[0]!)!;
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) table[(i - 128) & 255] = out[i]! & 255;
  return table;
}
