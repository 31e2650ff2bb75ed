// Resource safety and load: long runs that must keep RSS
// flat and every answer right.
//   1. kernels: N calls mixing packed GEMM (int8 out), dynamic GEMM, quantize/dequantize,
//      weight packing + dispose, and a softmax op;
//   2. (10,000 runs of one session with 8 in flight: bench/models/soak.ts)
//   3. churn: sessions created and disposed (and some only dropped, for the finalizers);
//   4. load: W worker threads, each with its own sessions, running concurrently; every
//      output compared with the sequential answer; a bad-input run in between must throw and
//      leave the session usable.
// RSS is sampled after a GC (node --expose-gc) at 10 points; "growth" compares the last
// sample with the one at 10% (after warm-up). Usage:
//   node --expose-gc --import tsx bench/soak/run.ts [kernelCalls=100000] [sessionRuns=10000]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { dynamicGemm, gemm, packWeights } from '../../src/kernels/gemm.js';
import { dequantize, quantize } from '../../src/kernels/quantize.js';
import { softmax } from '../../src/kernels/ops.js';
import { loadModel } from '../../src/model/load.js';
import { saveLayersToMemory } from '../../test/support/model-fixtures.js';
import { buildLeNet5 } from '../../src/data/models.js';
import { quantize as quantizeModel } from '../../src/quant/quantize.js';
import { InferenceSession } from '../../src/runtime/session.js';
import type { Graph } from '../../src/model/ir.js';
import { toMarkdown, formatBytes, type Table } from '../../src/report/table.js';
import { seededRandom } from '../../src/data/random.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rss = () => {
  gc();
  gc();
  return process.memoryUsage().rss;
};
/** RSS after the pending native finalizers had their turn (they run after GC, on later ticks). */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss;
}

async function int8LeNet(): Promise<Graph> {
  const m = buildLeNet5({ seed: 3 });
  const mem = await saveLayersToMemory(m);
  m.dispose();
  const g = await loadModel({ modelJson: mem.modelJson, weightData: mem.weightData });
  const rng = seededRandom(5);
  const calibration = Array.from({ length: 4 }, () =>
    tf.tensor(
      Float32Array.from({ length: 8 * 784 }, () => rng()),
      [8, 28, 28, 1],
    ),
  );
  const q = await quantizeModel(g, { mode: 'int8', calibration });
  calibration.forEach((t) => t.dispose());
  return q.graph;
}

function inputs(n: number, seed: number): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n * 784 }, () => rng());
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

interface Row {
  part: string;
  work: string;
  rssStart: number;
  rssEnd: number;
  growth: number;
  mismatches: number;
  seconds: number;
}

async function kernels(calls: number): Promise<Row> {
  const rng = seededRandom(1);
  const k = 256,
    n = 64,
    m = 8;
  const w = Int8Array.from({ length: k * n }, () => Math.floor(rng() * 255) - 127);
  const a = Uint8Array.from({ length: m * k }, () => Math.floor(rng() * 256));
  const x = Float32Array.from({ length: m * k }, () => rng() * 2 - 1);
  const packed = packWeights(w, { k, n });
  const ref = gemm(a, packed, { m, aZeroPoint: 128 });
  const samples: number[] = [];
  let mismatches = 0;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    switch (i % 5) {
      case 0:
        if (!same(gemm(a, packed, { m, aZeroPoint: 128 }), ref)) mismatches++;
        break;
      case 1:
        dynamicGemm(x, packed, { m, wScales: 0.01 });
        break;
      case 2:
        dequantize(quantize(x, 'int8', { scale: 0.01, zeroPoint: 3 }), { scale: 0.01, zeroPoint: 3 });
        break;
      case 3:
        packWeights(w, { k, n }).dispose();
        break;
      default:
        softmax(x, [m, k]);
    }
    if (i % Math.max(1, Math.floor(calls / 10)) === 0) samples.push(rss());
  }
  packed.dispose();
  samples.push(rss());
  return row(
    'kernels',
    `${calls.toLocaleString('en-US')} calls (gemm, dynamic gemm, (de)quantize, pack+dispose, softmax)`,
    samples,
    mismatches,
    t0,
  );
}

function row(part: string, work: string, samples: number[], mismatches: number, t0: number): Row {
  const base = samples[Math.min(1, samples.length - 1)]!;
  const end = samples[samples.length - 1]!;
  return {
    part,
    work,
    rssStart: base,
    rssEnd: end,
    growth: end - base,
    mismatches,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function churn(g: Graph, count: number): Promise<Row> {
  const samples: number[] = [rss()];
  const t0 = performance.now();
  const x = inputs(2, 4);
  for (let i = 0; i < count; i++) {
    const s = await InferenceSession.create(g, { threads: 1 });
    await s.run({ [s.inputs[0]!.name]: { data: x, shape: [2, 28, 28, 1] } });
    if (i % 2 === 0) s.dispose(); // the others are only dropped: their finalizers free them
    if (i % Math.max(1, Math.floor(count / 10)) === 0) samples.push(await settledRss());
  }
  samples.push(await settledRss());
  return row(
    'session churn',
    `${count} sessions created and run; half disposed, half left to the finalizers`,
    samples,
    0,
    t0,
  );
}

// ---- load: worker threads

interface LoadJob {
  modelJson: string;
  seeds: number[];
  runs: number;
}

async function load(dir: string, workers: number, runs: number): Promise<Row> {
  const seeds = [11, 12, 13, 14, 15];
  const g = await loadModel(dir);
  const ref = await InferenceSession.create(g, { threads: 1 });
  const expected: number[][] = [];
  for (const seed of seeds) {
    const out = await ref.run({ [ref.inputs[0]!.name]: { data: inputs(2, seed), shape: [2, 28, 28, 1] } });
    expected.push(Array.from(out[ref.outputs[0]!.name]!.data as Float32Array));
  }
  ref.dispose();
  const t0 = performance.now();
  const samples = [rss()];
  const results = await Promise.all(
    Array.from(
      { length: workers },
      (_, w) =>
        new Promise<{ outputs: number[][]; badInputErrors: number }>((resolve, reject) => {
          const worker = new Worker(
            `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`,
            {
              eval: true,
              workerData: {
                modelJson: dir,
                seeds: seeds.slice(w % seeds.length).concat(seeds.slice(0, w % seeds.length)),
                runs,
              },
            },
          );
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  samples.push(rss());
  let mismatches = 0,
    badInputs = 0;
  results.forEach((r, w) => {
    badInputs += r.badInputErrors;
    const order = seeds.slice(w % seeds.length).concat(seeds.slice(0, w % seeds.length));
    r.outputs.forEach((o, i) => {
      if (!same(o, expected[seeds.indexOf(order[i % order.length]!)]!)) mismatches++;
    });
  });
  const expectBad = workers * Math.floor((runs + 3) / 7);
  if (badInputs !== expectBad) mismatches += Math.abs(expectBad - badInputs);
  return row(
    'load',
    `${workers} worker threads × 2 sessions × ${runs} runs (+ ${badInputs} bad-input runs that threw)`,
    samples,
    mismatches,
    t0,
  );
}

if (!isMainThread && workerData) {
  // Worker: load the model from its directory and run.
  const job = workerData as LoadJob;
  await initFloatBackend();
  const g = await loadModel(job.modelJson);
  const ss = await Promise.all([0, 1].map(() => InferenceSession.create(g, { threads: 1 })));
  const outputs: number[][] = [];
  let badInputErrors = 0;
  for (let r = 0; r < job.runs; r++) {
    const s = ss[r % 2]!;
    if (r % 7 === 3) {
      try {
        await s.run({ [s.inputs[0]!.name]: { data: new Float32Array(5), shape: [1, 28, 28, 1] } });
      } catch {
        badInputErrors++;
      }
    }
    const out = await s.run({
      [s.inputs[0]!.name]: { data: inputs(2, job.seeds[r % job.seeds.length]!), shape: [2, 28, 28, 1] },
    });
    outputs.push(Array.from(out[s.outputs[0]!.name]!.data as Float32Array));
  }
  ss.forEach((s) => s.dispose());
  parentPort!.postMessage({ outputs, badInputErrors });
} else if (isMainThread) {
  const kernelCalls = Number(process.argv[2] ?? 100_000);
  const sessionCount = Number(process.argv[3] ?? 500);
  await initFloatBackend();
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { saveNative } = await import('../../src/model/save-native.js');
  const g = await int8LeNet();
  const dir = await mkdtemp(join(tmpdir(), 'tfjq-soak-'));
  await saveNative(g, dir, { mode: 'int8' });
  const rows: Row[] = [];
  rows.push(await kernels(kernelCalls));
  console.error(`kernels done`);
  rows.push(await churn(g, sessionCount));
  console.error(`churn done`);
  rows.push(await load(dir, 4, Math.max(14, Math.floor(sessionCount / 2))));
  await rm(dir, { recursive: true, force: true });
  const info = cpuInfo();
  const table: Table<Row> = {
    columns: [
      { header: 'part', value: (r) => r.part },
      { header: 'work', value: (r) => r.work },
      { header: 'RSS after warm-up', value: (r) => formatBytes(r.rssStart), align: 'right' },
      { header: 'RSS at end', value: (r) => formatBytes(r.rssEnd), align: 'right' },
      { header: 'growth', value: (r) => formatBytes(r.growth), align: 'right' },
      { header: 'mismatches', value: (r) => r.mismatches },
      { header: 'seconds', value: (r) => r.seconds, digits: 1 },
    ],
    rows,
  };
  console.log(
    `${info.brand || info.vendor}, ${info.availableCores} cores, int8 path ${getIsa()}, Node ${process.version}${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for exact RSS)'}\n`,
  );
  console.log(toMarkdown(table));
  if (rows.some((r) => r.mismatches)) process.exitCode = 1;
}
