// When the runtime runs a MatMul / 1×1 conv on its sparse weight instead of the dense
// kernel (docs/runtime.md "Sparse weights"). The thresholds come from bench/sparse (see
// RESULTS-sparse.md): for each weight type and structure, the least sparsity at which the
// sparse kernel beat the dense one at M = 1, 8 and 128 GEMM rows (Infinity: never did).
import type { RuntimePlanBuffer, RuntimePlanStep, SparseStructure } from '../../binding.js';
import { native } from '../native/binding.js';

export type SparseMode = 'auto' | 'never' | 'always';

/** Rows at which the thresholds were measured. */
export const SPARSE_RULE_ROWS = [1, 8, 128] as const;

/**
 * Least sparsity (fraction of zero weights) at which the sparse kernel is faster, per
 * structure, at SPARSE_RULE_ROWS. Derived from bench/sparse/RESULTS-sparse.md.
 */
export const SPARSE_RULES: Record<'float32' | 'int8', Record<string, readonly [number, number, number]>> = {
  // float32: the dense baseline (matmul_f32, native/train's GEMM) is weak at M = 1, so
  // even 50% unstructured sparsity pays there; at M = 128 only blocks do.
  float32: {
    'csc': [0.5, 0.9, Infinity],
    '2:4': [0.5, 0.5, Infinity],
    'block4x4': [0.75, 0.75, 0.9],
    'block1x8': [0.75, 0.75, 0.9],
    'block1x4': [0.75, 0.75, 0.9],
    'block2x4': [0.75, 0.75, 0.9],
    'block4x1': [0.75, 0.75, 0.75],
    'block8x1': [0.75, 0.75, 0.75],
  },
  // int8: the dense packed GEMM is hard to beat; only column blocks on VPMADDWD do.
  int8: {
    'csc': [Infinity, Infinity, Infinity],
    '2:4': [Infinity, Infinity, Infinity],
    'block4x4': [0.9, 0.9, 0.75],
    'block1x8': [0.9, 0.75, 0.75],
    'block1x4': [Infinity, 0.9, 0.9],
    'block2x4': [Infinity, Infinity, Infinity],
    'block4x1': [Infinity, Infinity, Infinity],
    'block8x1': [0.9, 0.9, Infinity],
  },
};

export interface SparseDecision {
  use: boolean;
  /** -1: sparse at every row count; else sparse only up to this many GEMM rows per run. */
  mMax: number;
  /** 'csc', '2:4' or 'block<r>x<c>'. */
  kind: string;
  sparsity: number;
}

export function structureKind(s: SparseStructure): string {
  if (s.format === 'block') return `block${s.blockRows}x${s.blockCols}`;
  return s.format;
}

/**
 * The rule: a weight runs sparse when its sparsity reaches its structure's threshold at the
 * measured row count nearest below the rows of one batch item (MatMul: the rows of x; 1×1
 * conv: H·W). mMax = the largest measured row count up to which it keeps winning without a
 * gap (-1: up to the largest measured, i.e. always), so bigger batches fall back to dense.
 */
export function sparseStepRule(s: SparseStructure, dtype: 'float32' | 'int8', rowsPerItem: number, mode: SparseMode): SparseDecision {
  const kind = structureKind(s);
  const base = { kind, sparsity: s.sparsity };
  if (mode !== 'auto') return { ...base, use: mode === 'always', mMax: -1 };
  const t = SPARSE_RULES[dtype][kind] ?? [Infinity, Infinity, Infinity];
  const wins = SPARSE_RULE_ROWS.map((_, i) => s.nnz < s.k * s.n && s.sparsity >= t[i]!);
  let b = 0;
  while (b + 1 < SPARSE_RULE_ROWS.length && SPARSE_RULE_ROWS[b + 1]! <= rowsPerItem) b++;
  if (!wins[b]) return { ...base, use: false, mMax: 0 };
  let j = b;
  while (j + 1 < wins.length && wins[j + 1]) j++;
  const mMax = j === wins.length - 1 ? -1 : SPARSE_RULE_ROWS[j]!;
  return { ...base, use: mMax === -1 || rowsPerItem <= mMax, mMax };
}

/** No rule uses sparse kernels below this sparsity. */
const MIN_SPARSITY = Math.min(...Object.values(SPARSE_RULES).flatMap((r) => Object.values(r).flat()));

function zeroFraction(w: Float32Array | Int8Array): number {
  let z = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) z++;
  return z / w.length;
}

const SPARSE_OPS: Record<string, { op: string; dtype: 'float32' | 'int8'; conv: boolean }> = {
  matmul_i8: { op: 'sparse_matmul_i8', dtype: 'int8', conv: false },
  conv_i8: { op: 'sparse_conv_i8', dtype: 'int8', conv: true },
  matmul_f32: { op: 'sparse_matmul_f32', dtype: 'float32', conv: false },
  conv_f32: { op: 'sparse_conv_f32', dtype: 'float32', conv: true },
};

/**
 * Rewrites the MatMul / 1×1-conv steps emitted for one node (steps[from..]) into their
 * sparse form when the rule says so; returns the label for session.plan ('csc 90.0% sparse,
 * rows ≤ 8'), or undefined when the node stays dense.
 */
export function selectSparseSteps(steps: RuntimePlanStep[], from: number, buffers: readonly RuntimePlanBuffer[],
  weights: readonly (Float32Array | Int8Array | Uint8Array | Int32Array)[], mode: SparseMode): string | undefined {
  if (mode === 'never') return undefined;
  let label: string | undefined;
  for (let i = from; i < steps.length; i++) {
    const st = steps[i]!;
    const spec = SPARSE_OPS[st.op];
    if (!spec || !st.weights || !st.ints) continue;
    if (spec.conv) {
      const g = st.ints;
      const direct = g[0] === 1 && g[1] === 1 && g[2] === 1 && g[3] === 1 && g.slice(6, 10).every((v) => v === 0);
      if (!direct) continue;
    }
    const w = weights[st.weights[0]!];
    const xShape = buffers[st.inputs[0]!]?.shape;
    const yShape = buffers[st.outputs[0]!]?.shape;
    if (!w || !xShape || !yShape || !(w instanceof Float32Array || w instanceof Int8Array)) continue;
    const k = xShape[xShape.length - 1]!, n = yShape[yShape.length - 1]!;
    if (k < 1 || k > 65536 || n < 1 || w.length !== k * n) continue;
    const rows = xShape.slice(0, -1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);
    if (mode === 'auto' && zeroFraction(w) < MIN_SPARSITY) continue;  // cheap pre-check before the structure scan
    const s = native().sparseAnalyze(w, k, n);
    const d = sparseStepRule(s, spec.dtype, rows, mode);
    if (!d.use) continue;
    steps[i] = { ...st, op: spec.op, ints: [...st.ints, d.mMax] };
    label = `${d.kind} ${(100 * d.sparsity).toFixed(1)}% sparse${d.mMax > 0 ? `, rows ≤ ${d.mMax}` : ''}`;
  }
  return label;
}
