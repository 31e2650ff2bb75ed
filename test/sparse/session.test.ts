// Sparse steps in InferenceSession: a LeNet-300-100-size MLP pruned by src/prune's one-shot
// magnitude prune (unstructured, 4×4 blocks, 2:4), quantized by src/quant: the session with
// sparse 'auto' / 'always' equals the dense session ('never') bit for bit in int8 and within
// 1e-5 in float, at batch 1 and 160 (on either side of the rule's row ranges, so both the
// sparse kernels and the dense fallback run); a pruned 1×1 conv likewise; session.plan names
// the sparse nodes; the rule's logic.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { magnitudePrune, type MagnitudePruneOptions } from '../../src/prune/index.js';
import { getIsa } from '../../src/native/cpu.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { SPARSE_RULES, sparseStepRule, type SparseStructure } from '../../src/sparse/index.js';
import { graphOf, quantized, relErr, variedInput } from '../runtime/helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

async function runAll(
  g: Parameters<typeof InferenceSession.create>[0],
  x: tf.Tensor,
  sparse: 'auto' | 'never' | 'always',
) {
  const s = await InferenceSession.create(g, { threads: 2, sparse });
  const out = (await s.run(x))[s.outputs[0]!.name]!;
  const plan = s.plan;
  s.dispose();
  return { data: out.data as Float32Array, plan };
}

const PRUNINGS: [string, MagnitudePruneOptions][] = [
  ['unstructured 95%', { sparsity: 0.95 }],
  ['blocks 4×4 90%', { sparsity: 0.9, blockSize: [4, 4] }],
  ['2:4', { sparsity: 0.5, nm: { n: 2, m: 4 } }],
];

describe.each(PRUNINGS)('pruned LeNet-300-100 (%s)', (_name, prune) => {
  it('int8 and float sessions: sparse auto/always = dense', async () => {
    const model = buildLeNet300100({ seed: 21 });
    magnitudePrune(model, prune);
    const g = await graphOf(model);
    const x1 = variedInput([1, 28, 28, 1], 1);
    const x64 = variedInput([160, 28, 28, 1], 2); // 160 rows: above every rule row limit
    const calib = variedInput([64, 28, 28, 1], 3);
    const q = await quantized(g, calib);
    for (const x of [x1, x64]) {
      const dense = await runAll(q, x, 'never');
      expect(dense.plan.some((p) => p.sparse)).toBe(false);
      for (const mode of ['auto', 'always'] as const) {
        const sp = await runAll(q, x, mode);
        expect(Array.from(sp.data)).toEqual(Array.from(dense.data));
        if (mode === 'always') expect(sp.plan.filter((p) => p.op === 'MatMul').every((p) => p.sparse)).toBe(true);
      }
      const fd = await runAll(g, x, 'never');
      for (const mode of ['auto', 'always'] as const) {
        const fs = await runAll(g, x, mode);
        expect(relErr(fs.data, fd.data)).toBeLessThanOrEqual(1e-5);
      }
    }
    // The rule picks the sparse kernel for the most pruned (unstructured 95%) float layers at
    // batch 1 (where its AVX2-measured thresholds apply).
    if (prune.sparsity === 0.95 && ['avx2', 'avxvnni', 'avx512vnni'].includes(getIsa())) {
      const p = await runAll(g, x1, 'auto');
      expect(p.plan.find((n) => n.node.includes('fc1'))?.sparse).toMatch(/csc 95\.0% sparse/);
    }
    [x1, x64, calib].forEach((t) => t.dispose());
  });
});

describe('sparse 1×1 convolutions', () => {
  it('a pruned 1×1 conv (int8 and float) equals the dense session', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({
        inputShape: [14, 14, 96],
        filters: 24,
        kernelSize: 1,
        activation: 'relu6',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
        name: 'pw',
      }),
    );
    m.add(
      tf.layers.conv2d({
        filters: 40,
        kernelSize: 1,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        name: 'pw2',
      }),
    );
    magnitudePrune(m, { sparsity: 0.8 });
    const g = await graphOf(m);
    const x = variedInput([2, 14, 14, 96], 7);
    const q = await quantized(g, x);
    const dense = await runAll(q, x, 'never');
    const sp = await runAll(q, x, 'always');
    expect(sp.plan.filter((p) => p.op === 'Conv2D').every((p) => p.sparse)).toBe(true);
    expect(Array.from(sp.data)).toEqual(Array.from(dense.data));
    const fd = await runAll(g, x, 'never');
    const fs = await runAll(g, x, 'always');
    expect(relErr(fs.data, fd.data)).toBeLessThanOrEqual(1e-5);
    x.dispose();
  });

  it('options.sparse is validated', async () => {
    const model = buildLeNet300100({ seed: 1 });
    const g = await graphOf(model);
    await expect(InferenceSession.create(g, { sparse: 'sometimes' as 'auto' })).rejects.toThrow(RangeError);
  });
});

describe('the auto rule', () => {
  const st = (format: SparseStructure['format'], sparsity: number, br = 1, bc = 1, kn = 10000): SparseStructure => ({
    k: 100,
    n: kn / 100,
    nnz: Math.round(kn * (1 - sparsity)),
    sparsity,
    nm24: format === '2:4',
    blockRows: br,
    blockCols: bc,
    blockFill: 1,
    format,
  });
  it('uses the thresholds of the structure and size class at the rows of one batch item, with a row limit for larger runs', () => {
    const saved = { ...SPARSE_RULES.float32 };
    try {
      // Logic on fixed thresholds: wins from 50% at M = 1, from 90% at M = 8, never at M = 128.
      SPARSE_RULES.float32.csc = { large: [0.5, 0.9, Infinity], small: [Infinity, Infinity, Infinity] };
      SPARSE_RULES.float32.block4x4 = { large: [Infinity, 0.9, 0.75], small: [0.9, 0.9, 0.9] };
      expect(sparseStepRule(st('csc', 0.92, 1, 1, 20000), 'float32', 1, 'auto')).toMatchObject({
        use: true,
        mMin: 1,
        mMax: 8,
        kind: 'csc',
      });
      expect(sparseStepRule(st('csc', 0.6, 1, 1, 20000), 'float32', 1, 'auto')).toMatchObject({
        use: true,
        mMin: 1,
        mMax: 1,
      });
      expect(sparseStepRule(st('csc', 0.6, 1, 1, 20000), 'float32', 8, 'auto')).toMatchObject({
        use: true,
        mMin: 1,
        mMax: 1,
      });
      expect(sparseStepRule(st('csc', 0.4, 1, 1, 20000), 'float32', 1, 'auto').use).toBe(false);
      expect(sparseStepRule(st('csc', 0.99, 1, 1, 2000), 'float32', 1, 'auto').use).toBe(false); // small weight: its own thresholds
      // Loses at M = 1, wins from 8 (at 95%) or only at 128 (at 80%): a lower row bound.
      expect(sparseStepRule(st('block', 0.95, 4, 4, 20000), 'float32', 1, 'auto')).toMatchObject({
        use: true,
        mMin: 8,
        mMax: -1,
        kind: 'block4x4',
      });
      expect(sparseStepRule(st('block', 0.8, 4, 4, 20000), 'float32', 1, 'auto')).toMatchObject({
        use: true,
        mMin: 128,
        mMax: -1,
      });
      expect(sparseStepRule(st('block', 0.7, 4, 4, 20000), 'float32', 3136, 'auto').use).toBe(false);
    } finally {
      Object.assign(SPARSE_RULES.float32, saved);
    }
    // Modes.
    expect(sparseStepRule(st('csc', 0.1), 'int8', 1, 'always')).toMatchObject({ use: true, mMin: 1, mMax: -1 });
    expect(sparseStepRule(st('block', 0.99, 4, 4), 'float32', 1, 'never').use).toBe(false);
    expect(sparseStepRule(st('csc', 0), 'float32', 1, 'auto').use).toBe(false);
    // The measured table: thresholds are sparsities in (0, 1) or Infinity (never), for both weight types.
    for (const d of ['float32', 'int8'] as const) {
      for (const t of Object.values(SPARSE_RULES[d])) {
        for (const v of [...t.large, ...t.small]) expect(v === Infinity || (v > 0 && v < 1)).toBe(true);
      }
    }
  });
});
