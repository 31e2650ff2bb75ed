// Whole-model inference, side by side in one run: our runtime (int8, dynamic, float) against
// stock tfjs (wasm, and cpu for the small model), median batch-1 latency and batch-8
// throughput, 1 and 2 threads. Models: LeNet-5 (28×28), a MobileNetV2-style graph (224×224,
// inverted residual blocks, ≈0.3 GMAC), a ResNet-style block net (112×112). Random weights
// (seeded); int8/dynamic by the PTQ quantize() (src/quant) calibrated on 8 inputs.
// Writes bench/models/RESULTS-models.md.
//   Run: npx tsx bench/models/run.ts [--quick]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet5 } from '../../src/data/models.js';
import type { Graph } from '../../src/model/index.js';
import { cpuInfo, getIsa, getThreads } from '../../src/native/cpu.js';
import { formatBytes, median, toMarkdown, toText, type Table } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';
import { mobileNetV2, resNetBlocks } from './models.js';

const quick = process.argv.includes('--quick');
const BUDGET_MS = quick ? 300 : 2500;
const MIN_REPS = quick ? 3 : 9;
const MAX_ROUNDS = 200;

/** Median wall time of an async call (at least MIN_REPS runs, about BUDGET_MS in total). */
async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t: number[] = [];
  const start = performance.now();
  while (t.length < MIN_REPS || (performance.now() - start < BUDGET_MS && t.length < 200)) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

interface ModelCase {
  name: string;
  build: () => tf.LayersModel;
  shape: number[];
  gmac: number;
  tfjsCpu: boolean;
}

interface Row {
  model: string;
  engine: string;
  threads: number;
  b1: number;
  b8: number;
  vsWasm?: number;
  /** Process CPU time of a batch-1 call (1-thread rows: robust to other jobs' load). */
  cpu1?: number;
  vsWasm8?: number;
  weights?: number;
  arena?: number;
}

/** Multiply-accumulates of one image (conv/dense/depthwise nodes of the float graph). */
function countMacs(g: Graph): number {
  let macs = 0;
  for (const n of g.nodes) {
    const out = g.tensors.get(n.outputs[0]!)?.shape;
    const w = g.constants.get(n.inputs[1] ?? '');
    if (!out || !w) continue;
    const outElems = out.slice(1).reduce((a, b) => a * b, 1);
    if (n.op === 'Conv2D') macs += outElems * w.shape[0]! * w.shape[1]! * w.shape[2]!;
    else if (n.op === 'DepthwiseConv2dNative') macs += outElems * w.shape[0]! * w.shape[1]!;
    else if (n.op === 'MatMul') macs += outElems * w.shape[0]!;
  }
  return macs;
}

async function main(): Promise<void> {
  const backend = await initFloatBackend('wasm');
  const loadStart = loadavg()[0]!;
  const poolThreads = getThreads();
  const threadCounts = [1, ...(poolThreads >= 2 ? [2] : [])];
  const cpu = cpuInfo();
  const cases: ModelCase[] = [
    { name: 'LeNet-5', build: () => buildLeNet5({ seed: 1 }), shape: [28, 28, 1], gmac: 0, tfjsCpu: true },
    {
      name: 'MobileNetV2-style 224',
      build: () => mobileNetV2(224, 1, 1000),
      shape: [224, 224, 3],
      gmac: 0,
      tfjsCpu: false,
    },
    {
      name: 'ResNet-style 112',
      build: () => resNetBlocks(112, [32, 64, 128, 256], 1000),
      shape: [112, 112, 3],
      gmac: 0,
      tfjsCpu: false,
    },
  ];
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const c of cases) {
    const model = c.build();
    const gFloat = await graphOf(model);
    c.gmac = countMacs(gFloat) / 1e9;
    const x1 = variedInput([1, ...c.shape], 1);
    const x8 = variedInput([8, ...c.shape], 2);
    const calib = variedInput([8, ...c.shape], 3);
    const gInt8 = await quantized(await graphOf(model), calib, 'int8');
    const gDyn = await quantized(await graphOf(model), calib, 'dynamic');
    calib.dispose();
    const feed = (x: tf.Tensor) => ({
      [gFloat.inputs[0]!.name]: { data: x.dataSync() as Float32Array, shape: x.shape },
    });
    const f1 = feed(x1),
      f8 = feed(x8);
    process.stdout.write(`${c.name}: ${c.gmac.toFixed(3)} GMAC/image\n`);

    const predict = async (x: tf.Tensor) => {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    };
    // tfjs-cpu (small models only) on its own: switching backends moves the inputs.
    if (c.tfjsCpu) {
      await initFloatBackend('cpu');
      const b1 = await timeIt(() => predict(x1));
      const b8 = await timeIt(() => predict(x8));
      rows.push({ model: c.name, engine: 'tfjs-cpu float32', threads: 1, b1, b8 });
      await initFloatBackend('wasm');
    }
    // tfjs-wasm and every configuration of ours, interleaved round by round so that their
    // ratios are measured side by side even when the machine's load changes.
    interface Engine {
      engine: string;
      threads: number;
      run: (x: 1 | 8) => Promise<unknown>;
      session?: InferenceSession;
      t1: number[];
      t8: number[];
      cpu1: number[];
    }
    const engines: Engine[] = [
      { engine: 'tfjs-wasm float32', threads: 1, run: (b) => predict(b === 1 ? x1 : x8), t1: [], t8: [], cpu1: [] },
    ];
    for (const [engine, g] of [
      ['ours int8', gInt8],
      ['ours dynamic', gDyn],
      ['ours float32', gFloat],
    ] as const) {
      for (const threads of threadCounts) {
        const session = await InferenceSession.create(g, { threads });
        const tfjsNodes = session.plan.filter((p) => p.placement === 'tfjs');
        if (tfjsNodes.length && threads === 1)
          notes.push(
            `${c.name} ${engine}: ${tfjsNodes.length} node(s) in tfjs (${[...new Set(tfjsNodes.map((p) => p.op))].join(', ')})`,
          );
        engines.push({
          engine,
          threads,
          session,
          run: (b) => session.run(b === 1 ? f1 : f8),
          t1: [],
          t8: [],
          cpu1: [],
        });
      }
    }
    const t0 = performance.now();
    for (
      let round = 0;
      round < MAX_ROUNDS && (round < MIN_REPS || performance.now() - t0 < BUDGET_MS * engines.length);
      round++
    ) {
      for (const e of engines) {
        // The pool keeps its size; a 1-thread row is a session created with {threads: 1}, which
        // runs every native step on the calling thread (resizing the pool each round would
        // restart the worker and time its start-up in the 2-thread rows).
        if (round === 0) {
          await e.run(1);
          await e.run(8);
        }
        // Steady state for each row: a 1-thread row waits until the pool's worker has stopped
        // spinning after the previous 2-thread engine (so its process CPU time is its own); a
        // 2-thread row is timed right after an untimed run, as in a stream of requests (the
        // worker is awake; an idle vCPU here can take a fraction of a millisecond to wake).
        if (e.threads === 1) await new Promise((r) => setTimeout(r, 3));
        else await e.run(1);
        const c0 = process.cpuUsage();
        let t = performance.now();
        await e.run(1);
        e.t1.push(performance.now() - t);
        const c = process.cpuUsage(c0);
        e.cpu1.push((c.user + c.system) / 1000);
        t = performance.now();
        await e.run(8);
        e.t8.push(performance.now() - t);
      }
    }
    // Where an int8 batch-1 run spends its native time (per step kind).
    const prof = engines.find((e) => e.engine === 'ours int8' && e.threads === 1)?.session;
    if (prof) {
      prof.profile(true);
      for (let i = 0; i < 5; i++) await prof.run(f1);
      const by = new Map<string, number>();
      for (const p of prof.profile(false)) by.set(p.op, (by.get(p.op) ?? 0) + p.seconds / 5);
      const total = [...by.values()].reduce((a, b) => a + b, 0);
      notes.push(
        `${c.name} int8 1 thread, native time per batch-1 run by step kind: ${[...by]
          .sort((a, b) => b[1] - a[1])
          .map(([op, t]) => `${op} ${(t * 1000).toFixed(2)} ms (${((100 * t) / total).toFixed(0)}%)`)
          .join(', ')}.`,
      );
    }
    const wasm1 = median(engines[0]!.t1),
      wasm8 = median(engines[0]!.t8);
    for (const e of engines) {
      const b1 = median(e.t1),
        b8 = median(e.t8);
      const m = e.session?.memory;
      rows.push({
        model: c.name,
        engine: e.engine,
        threads: e.threads,
        b1,
        b8,
        ...(e.threads === 1 ? { cpu1: median(e.cpu1) } : {}),
        ...(e.session
          ? { vsWasm: wasm1 / b1, vsWasm8: wasm8 / b8, weights: m!.weightBytes, arena: m!.arenaBytes }
          : {}),
      });
      process.stdout.write(
        `  ${e.engine} ${e.threads}T: ${b1.toFixed(2)} ms, b8 ${b8.toFixed(1)} ms (${e.t1.length} rounds)\n`,
      );
      e.session?.dispose();
    }
    tf.dispose([x1, x8]);
    model.dispose();
  }

  const table: Table<Row> = {
    columns: [
      { header: 'model', value: (r) => r.model },
      { header: 'engine', value: (r) => r.engine },
      { header: 'threads', value: (r) => r.threads },
      { header: 'batch 1 ms (median)', value: (r) => r.b1, digits: 2 },
      { header: 'batch 1 CPU ms (1T)', value: (r) => r.cpu1, digits: 2 },
      { header: 'batch 8 img/s', value: (r) => 8000 / r.b8, digits: 0 },
      { header: '× wasm b1', value: (r) => r.vsWasm, digits: 1 },
      { header: '× wasm b8', value: (r) => r.vsWasm8, digits: 1 },
      {
        header: 'GOPS b1',
        value: (r) => (2 * (cases.find((c) => c.name === r.model)?.gmac ?? 0)) / (r.b1 / 1000),
        digits: 1,
      },
      { header: 'weights', value: (r) => (r.weights === undefined ? undefined : formatBytes(r.weights)) },
      { header: 'arena (b8)', value: (r) => (r.arena === undefined ? undefined : formatBytes(r.arena)) },
    ],
    rows,
  };
  process.stdout.write('\n' + toText(table));
  // The issue's targets on the MobileNetV2-class model, as measured here.
  const mb = cases[1]!.name;
  const get = (engine: string, threads: number) =>
    rows.find((r) => r.model === mb && r.engine === engine && r.threads === threads);
  const w = rows.find((r) => r.model === mb && r.engine === 'tfjs-wasm float32')!;
  const i1 = get('ours int8', 1),
    i2 = get('ours int8', 2),
    d1 = get('ours dynamic', 1),
    d2 = get('ours dynamic', 2);
  const best = (a?: Row, b?: Row) => Math.min(a?.b1 ?? Infinity, b?.b1 ?? Infinity);
  const targets = [
    `- int8 batch-1 vs tfjs-wasm (target ≥ 13×): ${(w.b1 / (i1?.b1 ?? NaN)).toFixed(1)}× with 1 thread, ${(w.b1 / best(i1, i2)).toFixed(1)}× best (${best(i1, i2).toFixed(2)} ms; target ≤ 2.4 ms).`,
    `- second thread (target ≥ 1.5×): int8 batch 1 ${i1 && i2 ? (i1.b1 / i2.b1).toFixed(2) : '—'}×, batch 8 ${i1 && i2 ? (i1.b8 / i2.b8).toFixed(2) : '—'}×.`,
    `- int8 batch-8 throughput vs tfjs-wasm (target ≥ 12×): ${(w.b8 / Math.min(i1?.b8 ?? Infinity, i2?.b8 ?? Infinity)).toFixed(1)}×.`,
    `- dynamic batch-1 vs tfjs-wasm (target ≥ 5×): ${(w.b1 / best(d1, d2)).toFixed(1)}×.`,
    `- on process CPU time of 1-thread batch-1 calls (insensitive to the load): int8 ${i1?.cpu1?.toFixed(2)} ms = ${((w.cpu1 ?? NaN) / (i1?.cpu1 ?? NaN)).toFixed(1)}× tfjs-wasm (${w.cpu1?.toFixed(2)} ms), dynamic ${d1?.cpu1?.toFixed(2)} ms = ${((w.cpu1 ?? NaN) / (d1?.cpu1 ?? NaN)).toFixed(1)}×.`,
  ];
  process.stdout.write('\n' + targets.join('\n') + '\n');
  const machine = `${cpu.brand || cpu.vendor} (${cpu.availableCores} cores, kernel path ${getIsa()})`;
  const md = [
    '# Whole-model inference (bench/models)',
    '',
    `Command: \`npx tsx bench/models/run.ts${quick ? ' --quick' : ''}\` — ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Load average (1 min) at start / end: ${loadStart.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} on ${cpu.availableCores} cores — other jobs shared the machine, so absolute times are inflated and the 2-thread rows especially; the interleaved ratios are the figures to read.`,
    '',
    `Machine: ${machine}. Float backend of the tfjs rows: ${describeFloatBackend(backend)} (tfjs-node does not install here); tfjs-cpu only for the small model.`,
    '',
    `Models (random seeded weights; int8 = PTQ quantize() calibrated on 8 inputs, per-channel weights; dynamic = §12.4): ${cases.map((c) => `${c.name} ${c.gmac.toFixed(3)} GMAC/image`).join('; ')}.`,
    `Median wall time per call (including the N-API call and the promise: inputs are read in place, outputs written into the result arrays); batch-8 column is images per second. "threads" is the session option (the shared pool has ${poolThreads} threads throughout; a 1-thread session runs every step on the calling thread). Each timed 2-thread batch-1 call follows an untimed one (steady state of a request stream: the pool worker is awake); each 1-thread row starts after the worker has stopped spinning. tfjs-wasm and all our configurations run interleaved round by round (one batch-1 and one batch-8 call each per round), so the ratios compare like with like on a shared machine; tfjs-cpu is timed on its own.`,
    '',
    toMarkdown(table),
    `Targets (int8 against tfjs and ONNX Runtime) on ${mb}:`,
    '',
    ...targets,
    '',
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-models.md'), md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
