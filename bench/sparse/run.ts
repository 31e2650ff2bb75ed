// Sparse kernels: when is the sparse product of a pruned weight faster than
// the dense kernel the runtime would otherwise run? Dense vs sparse time for layer shapes of
// real models at M = 1, 8, 128 rows, unstructured 50–95%, 2:4, and blocks 4×4 / 1×8 / 4×1 at
// 75/90%, in float32 (dense: the runtime's matmul_f32 kernel) and int8 (dense: the packed
// int8 GEMM with the requantize epilogue, as matmul_i8); the crossover the runtime's 'auto'
// rule uses (src/sparse/select.ts); and whole-model latency of a pruned LeNet-300-100.
//
//   npx tsx bench/sparse/run.ts [--quick] [--reps N] [--min-time S] [--model-threads T] [--previous rule.json] [--model-only] [--out FILE]
//   (npm run bench:sparse)
//
// Kernel timings: one thread, process CPU time (time slices lost to other processes on a
// shared machine do not count), median of REPS interleaved rounds (dense, sparse₁, sparse₂, …,
// dense, …), so every speed-up compares figures taken side by side. Model latency: wall time,
// the pool's threads, sessions interleaved run by run.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativePackedWeights, NativeSparsePackedWeights } from '../../binding.js';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { packWeights } from '../../src/kernels/gemm.js';
import { loadModel, optimize, type Graph } from '../../src/model/index.js';
import { saveLayersToMemory } from '../../test/support/model-fixtures.js';
import { native } from '../../src/native/binding.js';
import { cpuInfo, getIsa, getThreads, setThreads } from '../../src/native/cpu.js';
import { magnitudePrune } from '../../src/prune/index.js';
import { quantize } from '../../src/quant/quantize.js';
import { toMarkdown, toText, median, type Column } from '../../src/report/table.js';
import { interleaved, lcg } from '../../src/report/timing.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { packSparse, type SparseWeights } from '../../src/sparse/index.js';
import { SPARSE_RULE_ROWS, SPARSE_RULES, SPARSE_SMALL_WEIGHT } from '../../src/sparse/select.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const REPS = opt('--reps', QUICK ? 3 : 7);
const MIN_TIME = opt('--min-time', QUICK ? 0.02 : 0.07);
const OUT = args.includes('--out')
  ? args[args.indexOf('--out') + 1]!
  : join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-sparse.md');
const MARGIN = 1.1; // "faster" for the rule: at least 10% less time than dense
// Sessions on one thread: on a shared 2-core machine a second thread's wake-ups add more noise than signal.
const MODEL_THREADS = opt('--model-threads', 1);

// ---------------------------------------------------------------- patterns

interface Pattern {
  key: string;
  label: string;
  kind: string;
  sparsity: number;
  make: (k: number, n: number, r: () => number) => Uint8Array;
}

function unstructured(s: number): Pattern {
  return {
    key: `u${Math.round(s * 100)}`,
    label: `${Math.round(s * 100)}%`,
    kind: 'csc',
    sparsity: s,
    make: (k, n, r) => Uint8Array.from({ length: k * n }, () => (r() >= s ? 1 : 0)),
  };
}
function blocks(br: number, bc: number, s: number): Pattern {
  return {
    key: `b${br}x${bc}_${Math.round(s * 100)}`,
    label: `${br}×${bc} ${Math.round(s * 100)}%`,
    kind: `block${br}x${bc}`,
    sparsity: s,
    make: (k, n, r) => {
      const m = new Uint8Array(k * n);
      for (let k0 = 0; k0 < k; k0 += br) {
        for (let n0 = 0; n0 < n; n0 += bc) {
          if (r() < s) continue;
          for (let kk = k0; kk < Math.min(k, k0 + br); kk++)
            for (let j = n0; j < Math.min(n, n0 + bc); j++) m[kk * n + j] = 1;
        }
      }
      return m;
    },
  };
}
const NM24: Pattern = {
  key: 'nm24',
  label: '2:4',
  kind: '2:4',
  sparsity: 0.5,
  make: (k, n, r) => {
    const m = new Uint8Array(k * n);
    for (let g = 0; g < k; g += 4) {
      for (let j = 0; j < n; j++) {
        const rows = [0, 1, 2, 3]
          .filter((t) => g + t < k)
          .sort(() => r() - 0.5)
          .slice(0, 2);
        for (const t of rows) m[(g + t) * n + j] = 1;
      }
    }
    return m;
  },
};
const PATTERNS: Pattern[] = [
  ...[0.5, 0.7, 0.8, 0.9, 0.95].map(unstructured),
  NM24,
  ...[
    [4, 4],
    [1, 8],
    [1, 4],
    [2, 4],
    [4, 1],
    [8, 1],
  ].flatMap(([br, bc]) => [blocks(br!, bc!, 0.75), blocks(br!, bc!, 0.9)]),
];

const SHAPES: { name: string; k: number; n: number; ms: number[] }[] = [
  { name: 'LeNet fc1 784×300', k: 784, n: 300, ms: [1, 8, 128] },
  { name: 'LeNet fc2 300×100', k: 300, n: 100, ms: [1, 8, 128] },
  { name: 'FFN 768×3072', k: 768, n: 3072, ms: [1, 8, 128] },
  { name: 'FFN 3072×768', k: 3072, n: 768, ms: [1, 8, 128] },
  { name: '1×1 conv 96→24', k: 96, n: 24, ms: [1, 8, 128, 3136] },
];

// ---------------------------------------------------------------- kernels

interface KRow {
  dtype: 'float32' | 'int8';
  shape: string;
  m: number;
  denseUs: number;
  speedup: Record<string, number>;
  formats: Record<string, string>;
}

function benchKernels(): KRow[] {
  const rows: KRow[] = [];
  const nat = native();
  for (const dtype of ['float32', 'int8'] as const) {
    for (const sh of SHAPES) {
      const r = lcg(sh.k * 31 + sh.n);
      const { k, n } = sh;
      const wf = Float32Array.from({ length: k * n }, () => (r() - 0.5) * 0.2 || 0.01);
      const wi = Int8Array.from({ length: k * n }, () => Math.floor(r() * 254) - 127 || 1);
      const sparse: { p: Pattern; w: SparseWeights }[] = PATTERNS.map((p) => {
        const keep = p.make(k, n, r);
        const w = dtype === 'float32' ? wf.map((v, i) => (keep[i] ? v : 0)) : wi.map((v, i) => (keep[i] ? v : 0));
        return { p, w: packSparse(w, { k, n }) };
      });
      const dense: NativePackedWeights | undefined = dtype === 'int8' ? packWeights(wi, { k, n }).handle : undefined;
      // float32 dense: the weights packed once, as the runtime's matmul_f32 / conv_f32 steps hold them.
      const denseF = dtype === 'float32' ? new nat.FloatPackedWeights(wf, { k, n }) : undefined;
      const bias = Int32Array.from({ length: n }, () => Math.floor(r() * 2000) - 1000);
      const mult = Float32Array.from({ length: n }, () => 0.001 + r() * 0.002);
      for (const m of sh.ms) {
        const xf = Float32Array.from({ length: m * k }, () => r() - 0.5);
        const xi = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
        const of = new Float32Array(m * n),
          oi = new Int8Array(m * n);
        // The kernels exactly as the runtime steps call them (native, no wrapper checks).
        const gp = {
          m,
          lda: k,
          ldc: n,
          threads: 1,
          aZeroPoints: Int32Array.of(5),
          output: 'int8' as const,
          bias,
          multipliers: mult,
          outZeroPoint: -3,
          qmin: -128,
          qmax: 127,
          aScales: null,
          wScales: null,
          biasF32: null,
          activation: 'linear' as const,
          clampMin: 0,
          clampMax: 0,
        };
        const ip = { m, aZeroPoint: 5, outZeroPoint: -3, qmin: -128, qmax: 127, threads: 1, bias, multipliers: mult };
        const denseFn =
          dtype === 'float32'
            ? () => nat.floatMatMul(xf, denseF!, of, { m, n, k, threads: 1 })
            : () => nat.gemm(xi, dense!, oi, gp);
        const fns = [
          denseFn,
          ...sparse.map(({ w }) => {
            const h: NativeSparsePackedWeights = w.handle;
            return dtype === 'float32'
              ? () => nat.sparseMatmulF32(h, xf, of, { m, threads: 1 })
              : () => nat.sparseMatmulI8(h, xi, oi, ip);
          }),
        ];
        const t = interleaved(fns, { cpu: true, reps: REPS, minTime: MIN_TIME }).map((x) => x.median);
        const row: KRow = { dtype, shape: sh.name, m, denseUs: t[0]! * 1e6, speedup: {}, formats: {} };
        sparse.forEach(({ p, w }, i) => {
          row.speedup[p.key] = t[0]! / t[i + 1]!;
          const inf = w.info!;
          row.formats[p.key] = inf.format === 'block' ? `block${inf.blockRows}x${inf.blockCols}` : inf.format;
        });
        rows.push(row);
        process.stdout.write(
          `  ${dtype} ${sh.name} M=${m}: dense ${(t[0]! * 1e6).toFixed(1)} µs, best ×${Math.max(...Object.values(row.speedup)).toFixed(2)}\n`,
        );
      }
      sparse.forEach(({ w }) => w.dispose());
      denseF?.dispose();
    }
  }
  return rows;
}

type Tier = 'large' | 'small';
const tierOf = (shape: string): Tier => {
  const sh = SHAPES.find((x) => x.name === shape)!;
  return sh.k * sh.n < SPARSE_SMALL_WEIGHT ? 'small' : 'large';
};
interface Cross {
  dtype: string;
  kind: string;
  tier: Tier;
  thresholds: number[];
}

/** Least tested sparsity of each structure from which the sparse kernel is ≥ MARGIN faster on every shape of a size class. */
function crossover(rows: KRow[]): Cross[] {
  const out: Cross[] = [];
  const kinds = [...new Set(PATTERNS.map((p) => p.kind))];
  for (const dtype of ['float32', 'int8']) {
    for (const kind of kinds) {
      for (const tier of ['large', 'small'] as const) {
        const pats = PATTERNS.filter((p) => p.kind === kind).sort((a, b) => a.sparsity - b.sparsity);
        const thresholds = SPARSE_RULE_ROWS.map((m) => {
          const rs = rows.filter((r) => r.dtype === dtype && r.m === m && tierOf(r.shape) === tier);
          const wins = pats.map((p) => rs.every((r) => r.speedup[p.key]! >= MARGIN && r.formats[p.key] === kind));
          // Least sparsity from which every more-pruned tested level also wins.
          let t = Infinity;
          for (let i = pats.length - 1; i >= 0 && wins[i]; i--) t = pats[i]!.sparsity;
          return t;
        });
        out.push({ dtype, kind, tier, thresholds });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- whole model

interface MRow {
  model: string;
  batch: number;
  dense: number;
  sparse: number;
  sparseNodes: string;
}

async function benchModel(): Promise<MRow[]> {
  await initFloatBackend();
  const model = buildLeNet300100({ seed: 1 });
  // Deep Compression's LeNet-300-100 pruning (Han et al., Table 4): 8% / 9% / 26% of the weights kept.
  magnitudePrune(model, { sparsity: { fc1: 0.92, fc2: 0.91, fc3: 0.74 } });
  const g: Graph = optimize(await loadModel(await saveLayersToMemory(model)));
  const calib = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 3);
  const q = (await quantize(g, { mode: 'int8', calibration: [calib], report: false, optimize: false })).graph;
  calib.dispose();
  const rows: MRow[] = [];
  for (const [name, graph] of [
    ['float32', g],
    ['int8', q],
  ] as const) {
    const dense = await InferenceSession.create(graph, { sparse: 'never', threads: MODEL_THREADS });
    const sparse = await InferenceSession.create(graph, { sparse: 'auto', threads: MODEL_THREADS });
    const label =
      sparse.plan
        .filter((p) => p.sparse)
        .map((p) => `${p.node}: ${p.sparse}`)
        .join('; ') || 'none';
    for (const batch of [1, 128]) {
      const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 5);
      const data = x.dataSync() as Float32Array;
      const input = { [dense.inputs[0]!.name]: { data, shape: [batch, 28, 28, 1] } };
      const runs = QUICK ? 200 : 1000;
      const td: number[] = [],
        ts: number[] = [];
      for (let i = 0; i < 20; i++) {
        await dense.run(input);
        await sparse.run(input);
      }
      for (let i = 0; i < runs; i++) {
        let t0 = performance.now();
        await dense.run(input);
        td.push(performance.now() - t0);
        t0 = performance.now();
        await sparse.run(input);
        ts.push(performance.now() - t0);
      }
      rows.push({
        model: `LeNet-300-100 pruned (${name})`,
        batch,
        dense: median(td) * 1000,
        sparse: median(ts) * 1000,
        sparseNodes: label,
      });
      x.dispose();
    }
    dense.dispose();
    sparse.dispose();
  }
  return rows;
}

function modelColumns(): Column<MRow>[] {
  return [
    { header: 'model', value: (r) => r.model },
    { header: 'batch', value: (r) => r.batch },
    { header: 'dense µs', value: (r) => r.dense, digits: 1 },
    { header: 'sparse auto µs', value: (r) => r.sparse, digits: 1 },
    { header: 'speed-up', value: (r) => `${(r.dense / r.sparse).toFixed(2)}×`, align: 'right' },
    { header: 'sparse nodes (session.plan)', value: (r) => r.sparseNodes },
  ];
}

function modelSection(mrows: MRow[], note: string): string {
  return [
    '## Whole model: pruned LeNet-300-100 in InferenceSession',
    '',
    'Deep Compression pruning (8% / 9% / 26% of fc1 / fc2 / fc3 kept, one-shot magnitude prune), float32 and int8 (PTQ). ' +
      `Wall time per run (median of ${QUICK ? 200 : 1000} runs, the two sessions alternating), ${MODEL_THREADS} thread(s); ` +
      `${note}. A node runs sparse only for runs whose rows are in its range (session.plan); other runs take its dense fallback.`,
    '',
    toMarkdown({ columns: modelColumns(), rows: mrows }),
  ].join('\n');
}

type RuleJson = Record<string, Record<string, Record<'large' | 'small', (number | null)[]>>>;

/** Installs a rule (JSON form, null = never) into the runtime's table for this process. */
function installRule(rule: RuleJson): void {
  const conv = (a: (number | null)[]) =>
    a.map((v) => (v === null ? Infinity : v)) as unknown as readonly [number, number, number];
  for (const [d, kinds] of Object.entries(rule)) {
    for (const [kind, tiers] of Object.entries(kinds)) {
      SPARSE_RULES[d as 'float32' | 'int8'][kind] = { large: conv(tiers.large), small: conv(tiers.small) };
    }
  }
}

// ---------------------------------------------------------------- main

const cpu = cpuInfo();
const loadStart = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ');
const threads0 = getThreads();
console.log(`sparse bench: ${cpu.brand}, isa ${getIsa()}, ${REPS} rounds, load ${loadStart}`);

// --model-only: keep the kernel sections of the existing results file and redo the
// whole-model section with the runtime's rule as committed.
if (args.includes('--model-only')) {
  const mrows = await benchModel();
  const loadEnd = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  console.log(toText({ columns: modelColumns(), rows: mrows }));
  const old = readFileSync(OUT, 'utf8');
  const cut = old.indexOf('## Whole model');
  if (cut < 0) throw new Error(`${OUT} has no whole-model section to replace`);
  writeFileSync(
    OUT,
    old.slice(0, cut) +
      modelSection(
        mrows,
        `rerun alone (\`--model-only\`, load average ${loadStart} at start, ${loadEnd} at end) with the rule of src/sparse/select.ts`,
      ) +
      '\n',
  );
  console.log(`updated the whole-model section of ${OUT}`);
  process.exit(0);
}

setThreads(1);
const krows = benchKernels();
setThreads(threads0);
const cross = crossover(krows);

const kcols: Column<KRow>[] = [
  { header: 'dtype', value: (r) => r.dtype },
  { header: 'shape K×N', value: (r) => r.shape },
  { header: 'M', value: (r) => r.m },
  { header: 'dense µs', value: (r) => r.denseUs, digits: 1 },
  ...PATTERNS.map((p): Column<KRow> => ({
    header: p.label,
    value: (r) => `${r.speedup[p.key]!.toFixed(2)}×`,
    align: 'right',
  })),
];
const ccols: Column<Cross>[] = [
  { header: 'dtype', value: (r) => r.dtype },
  { header: 'structure', value: (r) => r.kind },
  {
    header: 'weights',
    value: (r) => (r.tier === 'large' ? `K·N ≥ ${SPARSE_SMALL_WEIGHT}` : `K·N < ${SPARSE_SMALL_WEIGHT}`),
  },
  ...SPARSE_RULE_ROWS.map((m, i): Column<Cross> => ({
    header: `M = ${m}`,
    value: (r) => (Number.isFinite(r.thresholds[i]!) ? `≥ ${Math.round(r.thresholds[i]! * 100)}%` : 'never'),
    align: 'right',
  })),
];
console.log('\n' + toText({ columns: kcols, rows: krows }));
console.log(toText({ columns: ccols, rows: cross }));
const ruleOf = (c: Cross[]): RuleJson =>
  Object.fromEntries(
    ['float32', 'int8'].map((d) => [
      d,
      Object.fromEntries(
        [...new Set(c.map((x) => x.kind))].map((kind) => [
          kind,
          {
            large: c
              .find((x) => x.dtype === d && x.kind === kind && x.tier === 'large')!
              .thresholds.map((v) => (Number.isFinite(v) ? v : null)),
            small: c
              .find((x) => x.dtype === d && x.kind === kind && x.tier === 'small')!
              .thresholds.map((v) => (Number.isFinite(v) ? v : null)),
          },
        ]),
      ),
    ]),
  );
const rule = ruleOf(cross);
console.log('rule (SPARSE_RULES):', JSON.stringify(rule));
// --previous FILE: the rule JSON of an earlier full run; the proposed rule is the elementwise
// maximum (the more conservative threshold) of both, since single thresholds near the 1.1×
// margin flip between runs on a shared machine.
const PREV = args.includes('--previous')
  ? (JSON.parse(readFileSync(args[args.indexOf('--previous') + 1]!, 'utf8')) as RuleJson)
  : undefined;
const proposed: RuleJson = JSON.parse(JSON.stringify(rule)) as RuleJson;
if (PREV) {
  for (const [d, kinds] of Object.entries(proposed)) {
    for (const [kind, tiers] of Object.entries(kinds)) {
      for (const tier of ['large', 'small'] as const) {
        const prev = PREV[d]?.[kind]?.[tier];
        tiers[tier] = tiers[tier].map((v, i) => {
          const m = Math.max(v ?? Infinity, prev?.[i] ?? Infinity);
          return Number.isFinite(m) ? m : null;
        });
      }
    }
  }
  console.log('proposed rule (max with --previous):', JSON.stringify(proposed));
}
const committed = JSON.stringify(
  Object.fromEntries(
    Object.entries(SPARSE_RULES).map(([d, r]) => [
      d,
      Object.fromEntries(Object.entries(r).filter(([k]) => k in rule[d]!)),
    ]),
  ),
);
console.log(
  committed === JSON.stringify(proposed)
    ? 'the committed rule (src/sparse/select.ts) matches this run'
    : `the committed rule differs from this run: ${committed}`,
);

// The model section runs with the rule this run proposes.
installRule(proposed);
const mrows = await benchModel();
const loadEnd = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ');
console.log(toText({ columns: modelColumns(), rows: mrows }));

const md = [
  '# Sparse kernels for pruned weights',
  '',
  `Command: \`npx tsx bench/sparse/run.ts${args.length ? ' ' + args.map((a) => a.replace(/^.*\//, '')).join(' ') : ''}\` (or \`npm run bench:sparse\`)` +
    (PREV ? '; `--previous` names the rule JSON printed by the previous full run.' : '.'),
  '',
  `Machine: ${cpu.brand} (${cpu.availableCores} cores available), kernel path ${getIsa()} (the sparse kernels: AVX2 + FMA); ` +
    `load average at start ${loadStart}, at end ${loadEnd} (shared machine).`,
  '',
  '## Kernels: speed-up of the sparse product over the dense kernel',
  '',
  `One thread, process CPU time, median of ${REPS} interleaved rounds (dense and every sparse variant of a row side by side). ` +
    "Cells: dense time / sparse time (> 1: sparse is faster). float32 dense = the runtime's matmul_f32 kernel (AVX2/FMA GEMM); " +
    'int8 dense = the packed int8 GEMM with the requantize epilogue (matmul_i8). Column headers: unstructured sparsity, 2:4, ' +
    'blocks (rows along K × columns along N) at a sparsity. The format the packer picked is the one named by the structure ' +
    '(CSC for unstructured).',
  '',
  toMarkdown({ columns: kcols, rows: krows }),
  "## Crossover: the rule of `sparse: 'auto'`",
  '',
  `Least tested sparsity from which the sparse kernel was at least ${MARGIN}× faster than dense on every shape above of the ` +
    `size class (K·N ≥ ${SPARSE_SMALL_WEIGHT}: the LeNet and FFN layers; smaller: the 1×1 conv), at M = 1, 8, 128 ` +
    '(the 1×1-conv row with M = 3136 is shown for reference). A node runs sparse for the range of rows around its batch-1 rows ' +
    'where it wins (src/sparse/select.ts), and its dense fallback otherwise.',
  '',
  toMarkdown({ columns: ccols, rows: cross }),
  '```json',
  JSON.stringify(rule),
  '```',
  ...(PREV
    ? [
        '',
        'Elementwise maximum with the previous full run (`--previous`; single thresholds near the margin flip between runs ' +
          'on a shared machine, so the runtime takes the more conservative one):',
        '',
        '```json',
        JSON.stringify(proposed),
        '```',
      ]
    : []),
  '',
  "The runtime's rule (SPARSE_RULES in src/sparse/select.ts) is set from the last JSON above (null = never) of the run recorded here.",
  '',
  modelSection(mrows, 'the sparse sessions use the rule proposed above'),
].join('\n');
writeFileSync(OUT, md + '\n');
console.log(`wrote ${OUT}`);
