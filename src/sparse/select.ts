// When the runtime runs a MatMul / 1×1 conv on its sparse weight instead of the dense
// kernel (docs/runtime.md "Sparse weights"). The thresholds come from bench/sparse (see
// RESULTS-sparse.md): for each weight type, structure and size class, the least sparsity at
// which the sparse kernel beat the dense one at M = 1, 8 and 128 GEMM rows (Infinity: never).
import type { RuntimePlanBuffer, RuntimePlanStep, SparseStructure } from '../../binding.js';
import { native } from '../native/binding.js';
import { getIsa } from '../native/cpu.js';

export type SparseMode = 'auto' | 'never' | 'always';

/** Rows at which the thresholds were measured. */
export const SPARSE_RULE_ROWS = [1, 8, 128] as const;
/** Weights with fewer values (K·N) use the 'small' thresholds: there the fixed costs dominate. */
export const SPARSE_SMALL_WEIGHT = 16384;

type Thresholds = readonly [number, number, number];
const never: Thresholds = [Infinity, Infinity, Infinity];

/**
 * Least sparsity (fraction of zero weights) at which the sparse kernel was at least 1.1×
 * faster than the dense one on every benchmarked shape of its size class, per weight type and
 * structure, at SPARSE_RULE_ROWS rows (Infinity: never). From bench/sparse/RESULTS-sparse.md
 * (large: LeNet-300-100 fc1/fc2, FFN 768×3072 / 3072×768; small: a 96→24 1×1 conv).
 * Measured again on 2026-11-27 after both dense paths changed (float32: weights packed once at
 * load, as the runtime holds them; int8: short-row packing, half panels): two full runs, the
 * second with `--previous` (each entry: the larger of the two runs' thresholds).
 */
export const SPARSE_RULES: Record<'float32' | 'int8', Record<string, { large: Thresholds; small: Thresholds }>> = {
  float32: {
    csc: { large: [0.8, 0.9, 0.8], small: [0.7, Infinity, Infinity] },
    '2:4': { large: [0.5, Infinity, Infinity], small: [0.5, 0.5, 0.5] },
    block4x4: { large: [0.75, 0.9, 0.9], small: [0.75, 0.75, 0.75] },
    block1x8: { large: [0.75, 0.9, 0.9], small: [0.75, 0.75, 0.75] },
    block1x4: { large: [0.9, 0.9, Infinity], small: [0.75, 0.9, 0.9] },
    block2x4: { large: [0.75, 0.9, 0.9], small: [0.75, 0.75, 0.9] },
    block4x1: { large: [0.75, 0.75, 0.9], small: [0.75, 0.75, 0.75] },
    block8x1: { large: [0.75, 0.75, 0.9], small: [0.75, 0.75, 0.75] },
  },
  int8: {
    csc: { large: [Infinity, Infinity, 0.9], small: [0.8, Infinity, Infinity] },
    '2:4': { large: [Infinity, Infinity, Infinity], small: [0.5, Infinity, Infinity] },
    block4x4: { large: [0.9, 0.75, 0.9], small: [0.75, 0.75, Infinity] },
    block1x8: { large: [Infinity, 0.9, 0.9], small: [0.75, 0.75, Infinity] },
    block1x4: { large: [Infinity, 0.9, Infinity], small: [0.75, Infinity, Infinity] },
    block2x4: { large: [Infinity, Infinity, Infinity], small: [0.9, Infinity, Infinity] },
    block4x1: { large: [Infinity, Infinity, Infinity], small: [0.9, Infinity, Infinity] },
    block8x1: { large: [Infinity, 0.9, 0.9], small: [0.75, Infinity, Infinity] },
  },
};

export interface SparseDecision {
  use: boolean;
  /** Runs with GEMM rows in [mMin, mMax] are sparse (mMax -1: no upper bound), others dense. */
  mMin: number;
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
 * The rule: a weight runs sparse for a range of GEMM rows per run. Its sparsity is checked
 * against its structure's thresholds (for its size class) at each measured row count M; the
 * range is the contiguous run of winning M's that holds the rows of one batch item (MatMul:
 * rows of x; 1×1 conv: H·W; the measured M nearest below), or else the run of the largest
 * winning M's: [its smallest M (1 for the first), its largest M (-1 for the last: no bound)].
 * Runs outside the range use the dense step (bench/sparse: sparse wins depend on the rows).
 */
export function sparseStepRule(
  s: SparseStructure,
  dtype: 'float32' | 'int8',
  rowsPerItem: number,
  mode: SparseMode,
): SparseDecision {
  const kind = structureKind(s);
  const base = { kind, sparsity: s.sparsity };
  if (mode !== 'auto') return { ...base, use: mode === 'always', mMin: 1, mMax: -1 };
  const r = SPARSE_RULES[dtype][kind];
  const t = r ? (s.k * s.n < SPARSE_SMALL_WEIGHT ? r.small : r.large) : never;
  const rows = SPARSE_RULE_ROWS;
  const wins = rows.map((_, i) => s.nnz < s.k * s.n && s.sparsity >= t[i]!);
  if (!wins.some(Boolean)) return { ...base, use: false, mMin: 0, mMax: 0 };
  let b = 0;
  while (b + 1 < rows.length && rows[b + 1]! <= rowsPerItem) b++;
  if (!wins[b]) b = wins.lastIndexOf(true);
  let lo = b,
    hi = b;
  while (lo > 0 && wins[lo - 1]) lo--;
  while (hi + 1 < wins.length && wins[hi + 1]) hi++;
  return { ...base, use: true, mMin: lo === 0 ? 1 : rows[lo]!, mMax: hi === wins.length - 1 ? -1 : rows[hi]! };
}

/** No rule uses sparse kernels below this sparsity. */
const MIN_SPARSITY = Math.min(
  ...Object.values(SPARSE_RULES).flatMap((r) => Object.values(r).flatMap((t) => [...t.large, ...t.small])),
);

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
 * rows ≤ 8', 'csc 92.0% sparse, rows ≥ 128'), or undefined when the node stays dense.
 */
export function selectSparseSteps(
  steps: RuntimePlanStep[],
  from: number,
  buffers: readonly RuntimePlanBuffer[],
  weights: readonly (Float32Array | Int8Array | Uint8Array | Int32Array)[],
  mode: SparseMode,
): string | undefined {
  if (mode === 'never') return undefined;
  // The thresholds were measured with the AVX2 sparse kernels against the AVX2 dense ones:
  // 'auto' keeps float dense where the sparse kernels are not AVX2 (ref, ARM), and int8 dense
  // unless the dense int8 path is AVX2 too (VNNI GEMMs are faster than what was measured).
  const isa = getIsa();
  const avx2Sparse = isa === 'avx2' || isa === 'avxvnni' || isa === 'avx512vnni';
  if (mode === 'auto' && !avx2Sparse) return undefined;
  let label: string | undefined;
  for (let i = from; i < steps.length; i++) {
    const st = steps[i]!;
    const spec = SPARSE_OPS[st.op];
    if (!spec || !st.weights || !st.ints) continue;
    if (mode === 'auto' && spec.dtype === 'int8' && isa !== 'avx2') continue;
    if (spec.conv) {
      const g = st.ints;
      const direct = g[0] === 1 && g[1] === 1 && g[2] === 1 && g[3] === 1 && g.slice(6, 10).every((v) => v === 0);
      if (!direct) continue;
    }
    const w = weights[st.weights[0]!];
    const xShape = buffers[st.inputs[0]!]?.shape;
    const yShape = buffers[st.outputs[0]!]?.shape;
    if (!w || !xShape || !yShape || !(w instanceof Float32Array || w instanceof Int8Array)) continue;
    const k = xShape[xShape.length - 1]!,
      n = yShape[yShape.length - 1]!;
    if (k < 1 || k > 65536 || n < 1 || w.length !== k * n) continue;
    const rows = xShape.slice(0, -1).reduce((a, d) => a * (d < 0 ? 1 : d), 1);
    if (mode === 'auto' && zeroFraction(w) < MIN_SPARSITY) continue; // cheap pre-check before the structure scan
    const s = native().sparseAnalyze(w, { k, n });
    const d = sparseStepRule(s, spec.dtype, rows, mode);
    if (!d.use) continue;
    steps[i] = { ...st, op: spec.op, ints: [...st.ints, d.mMin, d.mMax] };
    const range =
      d.mMin === 1
        ? d.mMax < 0
          ? ''
          : `, rows ≤ ${d.mMax}`
        : d.mMax < 0
          ? `, rows ≥ ${d.mMin}`
          : `, rows ${d.mMin}–${d.mMax}`;
    label = `${d.kind} ${(100 * d.sparsity).toFixed(1)}% sparse${range}`;
  }
  return label;
}
