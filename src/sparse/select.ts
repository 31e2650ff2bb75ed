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
  float32: {
    'csc': [0.7, 0.8, 0.95],
    '2:4': [Infinity, Infinity, Infinity],
    'block4x4': [0.5, 0.6, 0.75],
    'block1x8': [0.5, 0.6, 0.75],
    'block8x1': [0.6, 0.7, 0.9],
    'block2x4': [0.6, 0.7, 0.8],
    'block1x4': [0.6, 0.7, 0.8],
    'block4x1': [0.7, 0.8, 0.9],
  },
  int8: {
    'csc': [0.8, 0.9, Infinity],
    '2:4': [Infinity, Infinity, Infinity],
    'block4x4': [0.7, 0.8, 0.9],
    'block1x8': [0.7, 0.8, 0.9],
    'block8x1': [0.8, 0.9, Infinity],
    'block2x4': [0.8, 0.9, Infinity],
    'block1x4': [0.8, 0.9, Infinity],
    'block4x1': [0.8, 0.9, Infinity],
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
 * The rule: sparse when the weight's sparsity reaches the threshold of its structure at the
 * row count of one batch item; mMax = the largest measured row count at which it still
 * does (-1 when it does at all of them), so bigger batches fall back to dense.
 */
export function sparseStepRule(s: SparseStructure, dtype: 'float32' | 'int8', rowsPerItem: number, mode: SparseMode): SparseDecision {
  const kind = structureKind(s);
  const base = { kind, sparsity: s.sparsity };
  if (mode !== 'auto') return { ...base, use: mode === 'always', mMax: -1 };
  const t = SPARSE_RULES[dtype][kind] ?? [Infinity, Infinity, Infinity];
  let mMax = 0;
  SPARSE_RULE_ROWS.forEach((m, i) => { if (s.sparsity >= t[i]!) mMax = m; });
  if (mMax === SPARSE_RULE_ROWS[SPARSE_RULE_ROWS.length - 1]) mMax = -1;
  // Between measured row counts the dense kernel is assumed to win.
  const use = mMax === -1 || rowsPerItem <= mMax;
  return { ...base, use, mMax };
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
