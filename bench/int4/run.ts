// int4 (issue 10) benchmark: GEMV/GEMM GOPS of the 4-bit kernels against the packed int8
// GEMM side by side (quantized activations, dynamic float-in/float-out, weight-only), and
// the size/fidelity of dense models with 4-bit weights (per-group scales) vs float32.
//
//   npx tsx bench/int4/run.ts [--quick] [--reps N] [--min-time S] [--out FILE]
//   TFJS_QUANT_ADDON=/path/to/tfjs_quant.node npx tsx bench/int4/run.ts   (another build)
//
// Each figure is the median of REPS timed rounds; the kernels of one row are timed in
// interleaved rounds (a, b, c, a, b, c, …) so a noisy period hits them alike, and every ratio
// is between figures of the same run. GOPS = 2·M·K·N / wall time.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, evaluateAccuracy, loadMnist, trainModel } from '../../src/data/index.js';
import { dynamicGemm, gemm, packWeights } from '../../src/kernels/gemm.js';
import { dynamicGemmInt4, gemmInt4, int4DefaultIsa, packInt4Weights, weightOnlyGemmInt4 } from '../../src/kernels/int4.js';
import { execute, loadModel, saveNative, type Graph } from '../../src/model/index.js';
import { randomizeWeights, saveLayersToMemory } from '../../src/model/testing.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { chooseWeightBits, dequantizeWeightInt4, int4WeightStats, quantizeWeightInt4 } from '../../src/quant/int4.js';
import { quantizeWeight, weightedNodes } from '../../src/quant/weights.js';
import { formatBytes, median, toMarkdown, toText } from '../../src/report/table.js';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const REPS = opt('--reps', QUICK ? 3 : 9);
const MIN_TIME = opt('--min-time', QUICK ? 0.05 : 0.25);
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1]! : join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-int4.md');

interface Timing { median: number; best: number }
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/**
 * Seconds per call of each function, timed in interleaved rounds (f0, f1, …, f0, …): the
 * median and the best round. One-thread calls are timed in process CPU time (time slices
 * lost to other processes on a shared machine do not count), two-thread calls in wall time.
 */
function interleaved(fns: (() => unknown)[], cpu: boolean): Timing[] {
  const now = cpu ? cpuNow : () => performance.now() / 1000;
  const calls = fns.map((f) => {
    f();
    const t0 = performance.now();
    f();
    return Math.max(1, Math.round(MIN_TIME / REPS / Math.max(1e-6, (performance.now() - t0) / 1000)));
  });
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < REPS; r++) {
    fns.forEach((f, i) => {
      const t0 = now();
      for (let c = 0; c < calls[i]!; c++) f();
      times[i]!.push((now() - t0) / calls[i]!);
    });
  }
  return times.map((t) => ({ median: median(t), best: Math.min(...t) }));
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface GemmRow {
  shape: string; m: number; threads: number;
  int8: number; int4: number; bestRatio: number; dyn8: number; dyn4: number; wo4?: number;
}

function gemmRows(): GemmRow[] {
  const rows: GemmRow[] = [];
  const shapes: [number, number][] = [[4096, 4096], [768, 3072]];
  for (const [k, n] of shapes) {
    const r = lcg(k + n);
    const w8 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127);
    const w4 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 15) - 7);
    const p8 = packWeights(w8, { k, n });
    const groups = Math.ceil(k / 64);
    const p4 = packInt4Weights(w4, { k, n, groupSize: 64, scales: Float32Array.from({ length: groups * n }, () => 0.01 + r() * 0.01) });
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
        const t = interleaved(fns, threads === 1);
        const gops = (s: Timing) => (2 * m * k * n) / s.median / 1e9;
        rows.push({
          shape: `${k}×${n}`, m, threads, int8: gops(t[0]!), int4: gops(t[1]!), bestRatio: t[0]!.best / t[1]!.best,
          dyn8: gops(t[2]!), dyn4: gops(t[3]!), ...(t[4] ? { wo4: gops(t[4]) } : {}),
        });
        console.log(`  ${k}×${n} M=${m} T=${threads}: int8 ${gops(t[0]!).toFixed(1)}  int4 ${gops(t[1]!).toFixed(1)} GOPS`);
      }
    }
    p8.dispose();
    p4.dispose();
  }
  return rows;
}

// ---- models: size on disk and fidelity

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

interface LayerRow { model: string; layer: string; shape: string; bits: number; group: string; snr: number; note: string }
interface ModelRow { model: string; group: number; float: number; int4: number; ratio: number; cosine: number; top1: number; accFloat?: number; accInt4?: number }

/** Quantizes every MatMul kernel to int4 (group size G, MSE search) or int8 when too small; returns per-layer rows. */
function toInt4(g: Graph, model: string, groupSize: number): LayerRow[] {
  const rows: LayerRow[] = [];
  for (const { node, weight: c } of weightedNodes(g)) {
    if (node.op !== 'MatMul' || c.shape.length !== 2) continue;
    const w = (c.data as Float32Array).slice();
    const choice = chooseWeightBits(c.shape, 1, { groupSize });
    if (choice.bits === 4) {
      const q = quantizeWeightInt4(w, c.shape, 1, { groupSize, search: 'mse' });
      c.data = dequantizeWeightInt4(q, c.shape);
      c.quantization = { affine: q };
    } else {
      quantizeWeight(c, node, 'channel');
    }
    const st = int4WeightStats(w, c.quantization!.affine!, c.shape);
    rows.push({ model, layer: c.name, shape: c.shape.join('×'), bits: st.bits, group: choice.bits === 4 ? String(st.groupSize) : 'channel', snr: st.snrDb, note: choice.bits === 4 ? '' : choice.reason });
  }
  return rows;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! ** 2; bb += b[i]! ** 2; }
  return ab / Math.sqrt(aa * bb);
}
function top1(a: ArrayLike<number>, b: ArrayLike<number>, classes: number): number {
  let same = 0;
  const rows = a.length / classes;
  const arg = (v: ArrayLike<number>, r: number) => { let best = 0; for (let j = 1; j < classes; j++) if (v[r * classes + j]! > v[r * classes + best]!) best = j; return best; };
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
      for (const groupSize of [64, 128]) {
        const gq = await loadModel(saved);
        layers.push(...toInt4(gq, name, groupSize));
        const qdir = join(dir, `${out.length}-q`);
        await saveNative(gq, qdir, { mode: 'dynamic-int4' });
        const back = await loadModel(qdir);
        const yq = execute(back, x as tf.Tensor)[0]!.dataSync() as Float32Array;
        const int4 = dirBytes(qdir);
        const row: ModelRow = { model: name, group: groupSize, float, int4, ratio: float / int4, cosine: cosine(yf, yq), top1: top1(yf, yq, 10) };
        if (labels) {
          row.accFloat = evaluateAccuracy(model as tf.LayersModel, x as tf.Tensor, labels);
          row.accInt4 = top1(yq, Float32Array.from({ length: yq.length }, (_, i) => (labels[Math.floor(i / 10)] === i % 10 ? 1 : 0)), 10);
        }
        out.push(row);
        console.log(`  ${name} G=${groupSize}: ${formatBytes(float)} → ${formatBytes(int4)} (${row.ratio.toFixed(2)}×), cosine ${row.cosine.toFixed(5)}`);
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
  const header = `Machine: ${cpu.brand} (${cpu.availableCores} cores available), int8 path ${getIsa()}, int4 path ${int4DefaultIsa()}; float backend ${describeFloatBackend()}; ${REPS} rounds, medians; load average at start ${loadavg().map((l) => l.toFixed(1)).join(' / ')}.`;
  console.log(header);
  const gr = gemmRows();
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
  const layers: LayerRow[] = [];
  const models = await modelRows(layers);
  const layerTable = {
    columns: [
      { header: 'model', value: (r: LayerRow) => r.model }, { header: 'layer', value: (r: LayerRow) => r.layer },
      { header: 'shape', value: (r: LayerRow) => r.shape }, { header: 'bits', value: (r: LayerRow) => r.bits },
      { header: 'group', value: (r: LayerRow) => r.group }, { header: 'weight SNR dB', value: (r: LayerRow) => r.snr, digits: 1 },
      { header: 'note', value: (r: LayerRow) => r.note },
    ],
    rows: layers,
  };
  const modelTable = {
    columns: [
      { header: 'model', value: (r: ModelRow) => r.model },
      { header: 'group', value: (r: ModelRow) => r.group },
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
  console.log('\n' + toText(gemmTable) + '\n' + toText(layerTable) + '\n' + toText(modelTable));
  const md = [
    '# int4 weights: kernels and models (issue 10)', '',
    `Command: \`npx tsx bench/int4/run.ts${QUICK ? ' --quick' : ''}\` (or \`npm run bench:int4\`).`, '', header, '',
    '## GEMV / GEMM throughput, 4-bit vs 8-bit weights', '',
    'GOPS = 2·M·K·N / time per call (median of the rounds; 1 thread: process CPU time, 2 threads: wall time). "best-round 4/8": ratio of the fastest rounds (least disturbed by other processes). ',
    '"int8"/"int4": activations already uint8 (float32 output); "dynamic": float32 in, §8 quantization per row included; ',
    '"weight-only": float32 activations × int4 weights dequantized in registers. int4: symmetric, group size 64.', '',
    toMarkdown(gemmTable), '',
    `Reading: a 4-bit GEMV reads 0.53 bytes per weight (nibbles + float16 scale and int16 sum per group of 64) against 1 byte for int8, so at M = 1, where the int8 GEMV is bound by memory, the 4-bit kernel is faster (${span(gr.filter((r) => r.m === 1 && r.threads === 1).map((r) => r.int4 / r.int8))}× on one thread in this run; it varies between runs with what the other jobs do to memory bandwidth and the caches); `,
    'from M = 16 both are bound by arithmetic (unpacking + VPMADDUBSW costs about what the int8 path pays per multiply-add) and run at about the same speed. ',
    'The machine is shared with other jobs (see the load average): two-thread figures are wall time and only indicative; rerun on a quiet machine for publishable figures. ',
    'The weight-only path keeps one float chain per output in K order (the exact order of §12.5), which bounds it well below the integer paths: use the dynamic path unless float activations must be kept.', '',
    '## Models: per-layer bits, weight SNR, size on disk and fidelity', '',
    'MatMul kernels with ≥ 16384 weights and K ≥ G → int4 (group G = 64 or 128, per-group MSE scale search, float16 scales); smaller ones stay int8 per channel (reported). ',
    'Sizes are the saved tfjs-quant directories (model.json + shards, float biases included); outputs compare float32 execution of the original and of the reloaded int4 model (weights dequantized: the weight-only arithmetic). ',
    'The FFN block has random weights and random inputs (near-tied logits make its top-1 agreement a harsh measure; cosine is the meaningful figure); LeNet-300-100 is trained on the seeded 8000-image MNIST split and evaluated on its 2000 test images.', '',
    toMarkdown(layerTable), '', toMarkdown(modelTable),
  ].join('\n');
  writeFileSync(OUT, md + '\n');
  console.log(`written ${OUT}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
