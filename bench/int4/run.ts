// int4 benchmark: GEMV/GEMM GOPS of the 4-bit kernels against the packed int8
// GEMM side by side (quantized activations, dynamic float-in/float-out, weight-only), and
// the size/fidelity of dense models with 4-bit weights (per-group scales) vs float32.
//
//   npx tsx bench/int4/run.ts [--quick] [--gemm-only] [--reps N] [--min-time S] [--out FILE]
//   TFJS_QUANT_ADDON=/path/to/tfjs_quant.node npx tsx bench/int4/run.ts   (another build)
//
// Each figure is the median of REPS timed rounds; the kernels of one row are timed in
// interleaved rounds (a, b, c, a, b, c, …) so a noisy period hits them alike, and every ratio
// is between figures of the same run. GOPS = 2·M·K·N / wall time.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, evaluateAccuracy, loadMnist, trainModel } from '../../src/data/index.js';
import { dynamicGemm, gemm, packWeights } from '../../src/kernels/gemm.js';
import {
  dynamicGemmInt4,
  gemmInt4,
  int4DefaultIsa,
  packInt4Weights,
  weightOnlyGemmInt4,
} from '../../src/kernels/int4.js';
import { execute, loadModel, saveNative, type Graph } from '../../src/model/index.js';
import { randomizeWeights, saveLayersToMemory } from '../../test/support/model-fixtures.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import {
  chooseWeightBits,
  decodeScale,
  dequantizeWeightInt4,
  int4WeightStats,
  quantizeWeightInt4,
  superScaleFor,
} from '../../src/quant/int4.js';
import { quantizeWeight, weightedNodes } from '../../src/quant/weights.js';
import { formatBytes, toMarkdown, toText } from '../../src/report/table.js';
import { interleaved, lcg, type InterleavedTiming } from '../../src/report/timing.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const REPS = opt('--reps', QUICK ? 3 : 9);
const MIN_TIME = opt('--min-time', QUICK ? 0.05 : 0.25);
const GEMM_ONLY = args.includes('--gemm-only');
const OUT = args.includes('--out')
  ? args[args.indexOf('--out') + 1]!
  : join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-int4.md');

interface GemmRow {
  shape: string;
  m: number;
  threads: number;
  int8: number;
  int4: number;
  bestRatio: number;
  dyn8: number;
  dyn4: number;
  wo4?: number;
}

function gemmRows(): GemmRow[] {
  const rows: GemmRow[] = [];
  const shapes: [number, number][] = [
    [4096, 4096],
    [768, 3072],
  ];
  for (const [k, n] of shapes) {
    const r = lcg(k + n);
    const w8 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127);
    const w4 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 15) - 7);
    const p8 = packWeights(w8, { k, n });
    const groups = Math.ceil(k / 64);
    // Group scales as quantizeWeightInt4 makes them by default: a code × a per-column super-scale
    // (PackInt4 keeps 1-byte codes: 35 bytes per 64 weights and column + 4 per column).
    const scales = new Float32Array(groups * n);
    for (let j = 0; j < n; j++) {
      const d = superScaleFor(0.01 + r() * 0.01);
      for (let g = 0; g < groups; g++) scales[g * n + j] = decodeScale(1 + Math.floor(r() * 255), d);
    }
    const p4 = packInt4Weights(w4, { k, n, groupSize: 64, scales });
    const wScales = Float32Array.from({ length: n }, () => 0.01);
    for (const m of QUICK ? [1, 16] : [1, 16, 128]) {
      const a = Uint8Array.from({ length: m * k }, () => Math.floor(r() * 256));
      const x = Float32Array.from({ length: m * k }, () => r() * 2 - 1);
      const out = new Float32Array(m * n);
      for (const threads of [1, 2]) {
        const fns: (() => unknown)[] = [
          () => gemm(a, p8, { m, aZeroPoint: 128, output: 'float32', aScale: 0.02, wScales, out, threads }),
          () => gemmInt4(a, p4, { m, aZeroPoint: 128, aScale: 0.02, out, threads }),
          () => dynamicGemm(x, p8, { m, wScales, out, threads }),
          () => dynamicGemmInt4(x, p4, { m, out, threads }),
        ];
        if (m <= 16) fns.push(() => weightOnlyGemmInt4(x, p4, { m, out, threads }));
        const t = interleaved(fns, { cpu: threads === 1, reps: REPS, minTime: MIN_TIME });
        const gops = (s: InterleavedTiming) => (2 * m * k * n) / s.median / 1e9;
        rows.push({
          shape: `${k}×${n}`,
          m,
          threads,
          int8: gops(t[0]!),
          int4: gops(t[1]!),
          bestRatio: t[0]!.best / t[1]!.best,
          dyn8: gops(t[2]!),
          dyn4: gops(t[3]!),
          ...(t[4] ? { wo4: gops(t[4]) } : {}),
        });
        console.log(
          `  ${k}×${n} M=${m} T=${threads}: int8 ${gops(t[0]!).toFixed(1)}  int4 ${gops(t[1]!).toFixed(1)} GOPS`,
        );
      }
    }
    p8.dispose();
    p4.dispose();
  }
  return rows;
}

// ---- GEMV ceiling: the same kernels on a layer that stays in L2 (bound by arithmetic) and on
// large ones (int8 4096×4096 = 16 MiB of weights: streamed from L3/DRAM), with the weight bytes
// each call reads, so the ratio can be read against bandwidth.

interface CeilRow {
  shape: string;
  int8: number;
  int4: number;
  net8: number;
  net4: number;
  bytes8: number;
  bytes4: number;
  gbs8: number;
  gbs4: number;
}

let OVERHEAD: [number, number] = [0, 0];

function ceilingRows(): CeilRow[] {
  const rows: CeilRow[] = [];
  // Per-call overhead (JS wrapper, N-API, driver): a 64×8 GEMV of each kind, subtracted for the "net" columns.
  let over8 = 0,
    over4 = 0;
  for (const [k, n] of [
    [64, 8],
    [1024, 768],
    [768, 3072],
    [4096, 4096],
  ] as const) {
    const r = lcg(k * 7 + n);
    const p8 = packWeights(
      Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127),
      { k, n },
    );
    const groups = Math.ceil(k / 64);
    const scales = new Float32Array(groups * n);
    for (let j = 0; j < n; j++) {
      const d = superScaleFor(0.02);
      for (let g = 0; g < groups; g++) scales[g * n + j] = decodeScale(1 + Math.floor(r() * 255), d);
    }
    const p4 = packInt4Weights(
      Int8Array.from({ length: k * n }, () => Math.floor(r() * 15) - 7),
      { k, n, groupSize: 64, scales },
    );
    const a = Uint8Array.from({ length: k }, () => Math.floor(r() * 256));
    const out = new Float32Array(n),
      wScales = new Float32Array(n).fill(0.01);
    const t = interleaved(
      [
        () => gemm(a, p8, { m: 1, aZeroPoint: 128, output: 'float32', aScale: 0.02, wScales, out, threads: 1 }),
        () => gemmInt4(a, p4, { m: 1, aZeroPoint: 128, aScale: 0.02, out, threads: 1 }),
      ],
      { cpu: true, reps: REPS, minTime: MIN_TIME },
    );
    const bytes8 = p8.byteLength + 4 * n,
      bytes4 = p4.byteLength;
    p8.dispose();
    p4.dispose();
    if (k === 64) {
      over8 = t[0]!.median;
      over4 = t[1]!.median;
      console.log(
        `  per-call overhead (64×8 GEMV): int8 ${(over8 * 1e6).toFixed(2)} µs, int4 ${(over4 * 1e6).toFixed(2)} µs`,
      );
      continue;
    }
    const n8 = Math.max(1e-9, t[0]!.median - over8),
      n4 = Math.max(1e-9, t[1]!.median - over4);
    rows.push({
      shape: `${k}×${n}`,
      int8: (2 * k * n) / t[0]!.median / 1e9,
      int4: (2 * k * n) / t[1]!.median / 1e9,
      net8: (2 * k * n) / n8 / 1e9,
      net4: (2 * k * n) / n4 / 1e9,
      bytes8,
      bytes4,
      gbs8: bytes8 / n8 / 1e9,
      gbs4: bytes4 / n4 / 1e9,
    });
    console.log(
      `  ceiling ${k}×${n}: int8 ${rows.at(-1)!.net8.toFixed(1)} GOPS net (${rows.at(-1)!.gbs8.toFixed(1)} GB/s), int4 ${rows.at(-1)!.net4.toFixed(1)} GOPS net (${rows.at(-1)!.gbs4.toFixed(1)} GB/s)`,
    );
  }
  OVERHEAD = [over8, over4];
  return rows;
}

// ---- models: size on disk and fidelity

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

interface LayerRow {
  model: string;
  layer: string;
  shape: string;
  bits: number;
  group: string;
  scales: string;
  bitsPerWeight: number;
  snr: number;
  note: string;
}
interface ModelRow {
  model: string;
  group: number;
  scaleBits: number;
  float: number;
  int4: number;
  ratio: number;
  cosine: number;
  top1: number;
  accFloat?: number;
  accInt4?: number;
}

/** Quantizes every MatMul kernel to int4 (group size G, MSE search, scaleBits) or int8 when too small; returns per-layer rows. */
function toInt4(g: Graph, model: string, groupSize: number, scaleBits: 8 | 16): LayerRow[] {
  const rows: LayerRow[] = [];
  for (const { node, weight: c } of weightedNodes(g)) {
    if (node.op !== 'MatMul' || c.shape.length !== 2) continue;
    const w = (c.data as Float32Array).slice();
    const choice = chooseWeightBits(c.shape, 1, { groupSize });
    if (choice.bits === 4) {
      const q = quantizeWeightInt4(w, c.shape, 1, { groupSize, search: 'mse', scaleBits });
      c.data = dequantizeWeightInt4(q, c.shape);
      c.quantization = { affine: q };
    } else {
      quantizeWeight(c, node, 'channel');
    }
    const st = int4WeightStats(w, c.quantization!.affine!, c.shape);
    rows.push({
      model,
      layer: c.name,
      shape: c.shape.join('×'),
      bits: st.bits,
      group: choice.bits === 4 ? String(st.groupSize) : 'channel',
      scales: st.scaleStorage === 'uint8' ? 'uint8 × f32/channel' : st.scaleStorage,
      bitsPerWeight: st.bitsPerWeight,
      snr: st.snrDb,
      note: choice.bits === 4 ? '' : choice.reason,
    });
  }
  return rows;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
function top1(a: ArrayLike<number>, b: ArrayLike<number>, classes: number): number {
  let same = 0;
  const rows = a.length / classes;
  const arg = (v: ArrayLike<number>, r: number) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (v[r * classes + j]! > v[r * classes + best]!) best = j;
    return best;
  };
  for (let r = 0; r < rows; r++) if (arg(a, r) === arg(b, r)) same++;
  return same / rows;
}

async function modelRows(layers: LayerRow[]): Promise<ModelRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjq-int4-bench-'));
  const out: ModelRow[] = [];
  try {
    // 1. LeNet-300-100 trained briefly on the seeded MNIST split; 2. a BERT-base-sized FFN block (random weights).
    const mnist = loadMnist();
    const lenet = buildLeNet300100({ seed: 1 });
    await trainModel(lenet, mnist.xTrain, mnist.yTrain, { epochs: QUICK ? 1 : 3, optimizer: 'adam' });
    const ffn = tf.sequential();
    ffn.add(tf.layers.dense({ units: 3072, inputShape: [768], activation: 'relu', name: 'ffn_in' }));
    ffn.add(tf.layers.dense({ units: 768, name: 'ffn_out' }));
    ffn.add(tf.layers.dense({ units: 10, name: 'head' }));
    randomizeWeights(ffn, 3);
    for (const [name, model, x, labels] of [
      ['LeNet-300-100 (MNIST)', lenet, mnist.xTest, mnist.labelsTest],
      ['FFN 768-3072-768-10', ffn, tf.randomNormal([512, 768], 0, 1, 'float32', 5), undefined],
    ] as const) {
      const saved = await saveLayersToMemory(model as tf.LayersModel);
      const g = await loadModel(saved);
      const fdir = join(dir, `${out.length}-f`);
      await saveNative(g, fdir);
      const float = dirBytes(fdir);
      const yf = execute(g, x as tf.Tensor)[0]!.dataSync() as Float32Array;
      for (const [groupSize, scaleBits] of [
        [64, 8],
        [64, 16],
        [128, 8],
        [128, 16],
      ] as const) {
        const gq = await loadModel(saved);
        layers.push(...toInt4(gq, name, groupSize, scaleBits));
        const qdir = join(dir, `${out.length}-q`);
        await saveNative(gq, qdir, { mode: 'dynamic-int4' });
        const back = await loadModel(qdir);
        const yq = execute(back, x as tf.Tensor)[0]!.dataSync() as Float32Array;
        const int4 = dirBytes(qdir);
        const row: ModelRow = {
          model: name,
          group: groupSize,
          scaleBits,
          float,
          int4,
          ratio: float / int4,
          cosine: cosine(yf, yq),
          top1: top1(yf, yq, 10),
        };
        if (labels) {
          row.accFloat = evaluateAccuracy(model as tf.LayersModel, x as tf.Tensor, labels);
          row.accInt4 = top1(
            yq,
            Float32Array.from({ length: yq.length }, (_, i) => (labels[Math.floor(i / 10)] === i % 10 ? 1 : 0)),
            10,
          );
        }
        out.push(row);
        console.log(
          `  ${name} G=${groupSize} ${scaleBits}-bit scales: ${formatBytes(float)} → ${formatBytes(int4)} (${row.ratio.toFixed(2)}×), cosine ${row.cosine.toFixed(5)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main() {
  await initFloatBackend();
  const cpu = cpuInfo();
  const header = `Machine: ${cpu.brand} (${cpu.availableCores} cores available), int8 path ${getIsa()}, int4 path ${int4DefaultIsa()}; float backend ${describeFloatBackend()}; ${REPS} rounds, medians; load average at start ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}.`;
  console.log(header);
  const gr = gemmRows();
  const ceil = ceilingRows();
  const ratio = (a: number, b: number) => a / b;
  const span = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const gemmTable = {
    columns: [
      { header: 'K×N', value: (r: GemmRow) => r.shape },
      { header: 'M', value: (r: GemmRow) => r.m },
      { header: 'threads', value: (r: GemmRow) => r.threads },
      { header: 'int8 GOPS', value: (r: GemmRow) => r.int8, digits: 1 },
      { header: 'int4 GOPS', value: (r: GemmRow) => r.int4, digits: 1 },
      { header: 'int4/int8', value: (r: GemmRow) => ratio(r.int4, r.int8), digits: 2 },
      { header: 'best-round 4/8', value: (r: GemmRow) => r.bestRatio, digits: 2 },
      { header: 'dynamic int8', value: (r: GemmRow) => r.dyn8, digits: 1 },
      { header: 'dynamic int4', value: (r: GemmRow) => r.dyn4, digits: 1 },
      { header: 'dyn 4/8', value: (r: GemmRow) => ratio(r.dyn4, r.dyn8), digits: 2 },
      { header: 'weight-only int4', value: (r: GemmRow) => r.wo4, digits: 1 },
    ],
    rows: gr,
  };
  const ceilTable = {
    columns: [
      { header: 'K×N (M = 1)', value: (r: CeilRow) => r.shape },
      { header: 'int8 GOPS', value: (r: CeilRow) => r.int8, digits: 1 },
      { header: 'int4 GOPS', value: (r: CeilRow) => r.int4, digits: 1 },
      { header: 'int4/int8', value: (r: CeilRow) => r.int4 / r.int8, digits: 2 },
      { header: 'int8 GOPS net', value: (r: CeilRow) => r.net8, digits: 1 },
      { header: 'int4 GOPS net', value: (r: CeilRow) => r.net4, digits: 1 },
      { header: 'net 4/8', value: (r: CeilRow) => r.net4 / r.net8, digits: 2 },
      { header: 'int8 weight bytes', value: (r: CeilRow) => formatBytes(r.bytes8), align: 'right' as const },
      { header: 'int4 weight bytes', value: (r: CeilRow) => formatBytes(r.bytes4), align: 'right' as const },
      { header: 'int8 GB/s read (net)', value: (r: CeilRow) => r.gbs8, digits: 1 },
      { header: 'int4 GB/s read (net)', value: (r: CeilRow) => r.gbs4, digits: 1 },
    ],
    rows: ceil,
  };
  const layers: LayerRow[] = [];
  const models = GEMM_ONLY ? [] : await modelRows(layers);
  const layerTable = {
    columns: [
      { header: 'model', value: (r: LayerRow) => r.model },
      { header: 'layer', value: (r: LayerRow) => r.layer },
      { header: 'shape', value: (r: LayerRow) => r.shape },
      { header: 'bits', value: (r: LayerRow) => r.bits },
      { header: 'group', value: (r: LayerRow) => r.group },
      { header: 'scales', value: (r: LayerRow) => r.scales },
      { header: 'bits/weight (with scales)', value: (r: LayerRow) => r.bitsPerWeight, digits: 3 },
      { header: 'weight SNR dB', value: (r: LayerRow) => r.snr, digits: 1 },
      { header: 'note', value: (r: LayerRow) => r.note },
    ],
    rows: layers,
  };
  const modelTable = {
    columns: [
      { header: 'model', value: (r: ModelRow) => r.model },
      { header: 'group', value: (r: ModelRow) => r.group },
      { header: 'scales', value: (r: ModelRow) => (r.scaleBits === 8 ? 'uint8 × f32/channel' : 'float16') },
      { header: 'float32 size', value: (r: ModelRow) => formatBytes(r.float), align: 'right' as const },
      { header: 'int4 size', value: (r: ModelRow) => formatBytes(r.int4), align: 'right' as const },
      { header: 'ratio', value: (r: ModelRow) => r.ratio, digits: 2 },
      { header: 'output cosine', value: (r: ModelRow) => r.cosine, digits: 5 },
      { header: 'top-1 agreement', value: (r: ModelRow) => r.top1, digits: 4 },
      { header: 'acc float', value: (r: ModelRow) => r.accFloat, digits: 4 },
      { header: 'acc int4', value: (r: ModelRow) => r.accInt4, digits: 4 },
    ],
    rows: models,
  };
  console.log(
    '\n' + toText(gemmTable) + '\n' + toText(ceilTable) + '\n' + toText(layerTable) + '\n' + toText(modelTable),
  );
  const small = ceil[0]!,
    big = ceil.at(-1)!;
  const m1 = gr.filter((r) => r.m === 1 && r.threads === 1);
  const md = [
    '# int4 weights: kernels and models',
    '',
    `Command: \`npx tsx bench/int4/run.ts${QUICK ? ' --quick' : ''}\` (or \`npm run bench:int4\`).`,
    '',
    header,
    '',
    '## GEMV / GEMM throughput, 4-bit vs 8-bit weights',
    '',
    'GOPS = 2·M·K·N / time per call (median of the rounds; 1 thread: process CPU time, 2 threads: wall time). "best-round 4/8": ratio of the fastest rounds (least disturbed by other processes). ',
    '"int8"/"int4": activations already uint8 (float32 output); "dynamic": float32 in, §8 quantization per row included; ',
    '"weight-only": float32 activations × int4 weights dequantized in registers. int4: symmetric, group size 64, double-quantized group scales (packed as 1-byte codes).',
    '',
    toMarkdown(gemmTable),
    '',
    `Reading: a 4-bit GEMV reads 35 bytes per 64 weights and column (nibbles, a 1-byte scale code, an int16 sum) + 4 bytes per column (super-scale): 0.55 bytes per weight against 1 byte for int8. At M = 1 the 4-bit GEMV is ${span(m1.map((r) => r.int4 / r.int8))}× the 8-bit one through the JS API on one thread in this run (process CPU time; it varies between runs with what the other jobs do to memory bandwidth and the caches; kernels alone: see the native section below); `,
    'from M = 16 both are bound by arithmetic (unpacking + VPMADDUBSW costs about what the int8 path pays per multiply-add) and run at about the same speed. ',
    'The machine is shared with other jobs (see the load average): two-thread figures are wall time and only indicative; rerun on a quiet machine for publishable figures. ',
    'The weight-only path keeps one float chain per output in K order (the exact order of §12.5), which bounds it well below the integer paths: use the dynamic path unless float activations must be kept.',
    '',
    '### Where the GEMV time goes (M = 1, one thread)',
    '',
    toMarkdown(ceilTable),
    '',
    `"net" = time per call minus the time of a 64×8 GEMV of the same kind (int8 ${(OVERHEAD[0] * 1e6).toFixed(1)} µs, int4 ${(OVERHEAD[1] * 1e6).toFixed(1)} µs in this run: JS checks, N-API, driver), an estimate of the kernels alone. `,
    `Reading: on ${small.shape} the int4 weights (${formatBytes(small.bytes4)}) stay in the 512 KiB L2 of a core, so the int4 GEMV there is bound by arithmetic: ${small.net4.toFixed(0)} GOPS net in this run `,
    '(its best rounds reach ≈ 110–120 GOPS when the machine is quiet: per 128 multiply-adds and 4 columns it issues 2 shifts + 4 ANDs to unpack the nibbles, 4 VPMADDUBSW, 3 16-bit adds, 1 VPMADDWD and 1 add, plus a per-group epilogue; no VNNI on this CPU). ',
    `At ${big.shape} the int8 weights (${formatBytes(big.bytes8)}) do not stay in the shared 32 MiB L3 next to the other jobs: the int8 GEMV streams them at ${big.gbs8.toFixed(1)} GB/s (a plain AVX2 read loop: see the native section below), `,
    `so it runs at ${big.net8.toFixed(0)} GOPS net; the int4 one reads ${formatBytes(big.bytes4)} for ${big.net4.toFixed(0)} GOPS net (${(big.net4 / big.net8).toFixed(2)}×). `,
    "So 2× at M = 1 needs the int8 GEMV to be bound by memory below half the int4 kernel's arithmetic rate (≈ 55–60 GOPS, ≈ 28–30 GB/s of int8 weights on a quiet core); when the int8 weights stream faster (a quiet L3, or a layer that fits it like 768×3072 = 2.4 MB) both kernels are bound by arithmetic and the ratio is that of their arithmetic rates. ",
    'The per-call figures of the JS API (tables above) also include each wrapper\'s own cost: about 5 µs for int4 and, for the int8 `gemm` wrapper, a cost that grows with n (its scale checks: ≈ 20% of a 768×3072 call in a CPU profile), which flatters the 4/8 ratio at M = 1; the section "GEMV in the native drivers only" below compares the two kernels without it. ',
    'The tables next to the nibbles (scale code + int16 sum: 3 bytes per 32 bytes of nibbles) cost at most ≈ 9% of a bandwidth-bound rate (the float16 scales they replace cost ≈ 12%).',
    '',
    '## Models: per-layer bits, weight SNR, size on disk and fidelity',
    '',
    'MatMul kernels with ≥ 16384 weights and K ≥ G → int4 (group G = 64 or 128, per-group MSE search over the representable scales); smaller ones stay int8 per channel (reported). ',
    'Group scales: "uint8 × f32/channel" = double quantization (the default, `scaleBits: 8`: an 8-bit code per group times a float32 super-scale per output channel, ≈ 0.125 bit per weight at G = 64), "float16" = one float16 scale per group (`scaleBits: 16`, 0.25 bit per weight at G = 64); zero points (asymmetric only) are nibbles. ',
    '"bits/weight" = stored bits of the entry per weight, scales (and super-scales, padding) included. ',
    'Sizes are the saved tfjs-quant directories (model.json + shards, float biases included); outputs compare float32 execution of the original and of the reloaded int4 model (weights dequantized: the weight-only arithmetic). ',
    'The FFN block has random weights and random inputs (near-tied logits make its top-1 agreement a harsh measure; cosine is the meaningful figure); LeNet-300-100 is trained on the seeded 8000-image MNIST split and evaluated on its 2000 test images.',
    '',
    toMarkdown(layerTable),
    '',
    toMarkdown(modelTable),
    '',
    `Reading (size): the issue's goal is ≥ 7.5× vs float32 at the default group size 64. ${models.map((r) => `${r.model}, G ${r.group}, ${r.scaleBits === 8 ? 'double-quantized' : 'float16'} scales: ${r.ratio.toFixed(2)}×`).join('; ')}. ` +
      'Double quantization halves the cost of the group scales (8 bits per group + 32 bits per channel instead of 16 bits per group). ' +
      'What a saved model holds beyond 4 bits per weight: the scale codes and super-scales (the bits/weight column), the layers left at 8 bits, the float32 biases and model.json; ' +
      'for LeNet-300-100 (1 MB) the last three are ≈ 5.7 KB of its ≈ 141 KiB (model.json ≈ 3 KB, biases 1.6 KB, fc3 1 KB), which keeps it below 7.5× at G = 64 although its int4 layers alone are at ≈ 7.6× (32 / 4.17 and 32 / 4.24 bits); ' +
      'the FFN, whose weights are 99.9% of its bytes, is past 7.5× at G = 64 only with double-quantized scales.',
  ].join('\n');
  if (GEMM_ONLY && !args.includes('--out')) {
    console.log('--gemm-only: results not written (pass --out FILE to write them)');
    return;
  }
  // Keep the sections bench/int4/gemv-native.sh and bench/models/int4.ts write between their markers.
  let kept = '';
  try {
    const old = readFileSync(OUT, 'utf8');
    for (const name of ['native-gemv', 'runtime-int4']) {
      const b = old.indexOf(`<!-- ${name}:begin -->`),
        e = old.indexOf(`<!-- ${name}:end -->`);
      if (b >= 0 && e > b) kept += '\n' + old.slice(b, e + `<!-- ${name}:end -->`.length) + '\n';
    }
  } catch {
    // no previous file
  }
  writeFileSync(OUT, md + '\n' + kept);
  console.log(`written ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
