// 4-bit weights through the runtime (whole models): whole dense-dominated models in
// the InferenceSession, dynamic int8 weights vs dynamic int4 weights (§12.5, group 64, per-row
// activations) vs stock tfjs-wasm float32, batch 1 and 8, one thread, interleaved round by
// round so the ratios are measured side by side. Random seeded weights, varied inputs.
// Writes (or replaces) the "Runtime" section of bench/int4/RESULTS-int4.md.
//   Run: npx tsx bench/models/int4.ts [--quick]
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100 } from '../../src/data/models.js';
import { cpuInfo, getIsa, setThreads } from '../../src/native/cpu.js';
import { quantize } from '../../src/quant/quantize.js';
import { formatBytes, median, toMarkdown, toText, type Table } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { argmaxRows, floatOutputs, graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 40;

function ffn(): tf.Sequential {
  const init = (i: number) => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: 100 + i }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 200 + i }),
  });
  const m = tf.sequential({ name: 'ffn' });
  m.add(tf.layers.dense({ inputShape: [768], units: 3072, activation: 'relu', name: 'ffn_in', ...init(0) }));
  m.add(tf.layers.dense({ units: 768, name: 'ffn_out', ...init(1) }));
  m.add(tf.layers.dense({ units: 10, name: 'head', ...init(2) }));
  return m;
}

interface Row {
  model: string;
  engine: string;
  b1: number;
  b8: number;
  /** Process CPU time per call (robust to the other jobs' load: one thread does the work). */
  c1: number;
  c8: number;
  vsWasm1?: number;
  vsInt8_1?: number;
  vsInt8_8?: number;
  /** Native step time per call (session.profile), batch 1 and 8: the kernels without the per-call overhead. */
  n1?: number;
  n8?: number;
  weights?: number;
  cosine?: number;
  top1?: number;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

/** The figures the issue asks about, computed from this run's rows. */
function reading(rows: Row[]): string {
  const int4 = rows.filter((r) => r.engine.includes('int4'));
  const int8 = (r: Row) => rows.find((x) => x.model === r.model && x.engine.includes('int8'))!;
  const per = int4.map(
    (r) =>
      `${r.model}: ${r.vsInt8_1!.toFixed(2)}× the int8 session at batch 1, ${r.vsInt8_8!.toFixed(2)}× at batch 8 on CPU time ` +
      `(native step time: ${(int8(r).n1! / r.n1!).toFixed(2)}× and ${(int8(r).n8! / r.n8!).toFixed(2)}×), ` +
      `${r.vsWasm1!.toFixed(1)}× tfjs-wasm at batch 1 (CPU time), weights ${formatBytes(r.weights!)} (${(r.weights! / int8(r).weights!).toFixed(2)}× int8)`,
  );
  return (
    `Reading: ${per.join('; ')}. ` +
    'The ratios (× columns) are on process CPU time per call; the native columns (time inside the steps, from session.profile) isolate the kernels: ' +
    'the wall-clock medians include the per-call overhead (a libuv worker hop) and swing with the other jobs on this 2-core machine (load above). ' +
    'At batch 1 the layers are GEMVs bound by reading the weights (the 4.6 MB of int8 weights of the FFN fit the 32 MiB L3, so they come from L3, not DRAM), ' +
    'where 0.55 bytes per weight (nibbles + a 1-byte scale code and an int16 sum per group of 64, + a float32 super-scale per column) against about 1 byte for int8 pays off; ' +
    'at batch 8 both kernels are bound by arithmetic and the int4 one also unpacks nibbles, so the gain shrinks. ' +
    'LeNet-300-100 is small: its 235 KB of int8 weights stay in the 512 KiB L2 of a core, so its GEMV is not bound by memory and int4 gains little or nothing; ' +
    'its wall times are mostly per-call overhead. Session outputs equal simulate() bit for bit (test/runtime/int4.test.ts).'
  );
}

async function main(): Promise<void> {
  const backend = await initFloatBackend('wasm');
  const load0 = loadavg()[0]!;
  setThreads(1);
  const cases = [
    { name: 'FFN 768-3072-768-10', build: ffn, shape: [768], classes: 10 },
    { name: 'LeNet-300-100', build: () => buildLeNet300100({ seed: 1 }), shape: [28, 28, 1], classes: 10 },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    const model = c.build();
    const g = await graphOf(model);
    const calib = variedInput([8, ...c.shape], 3);
    const g8 = await quantized(await graphOf(model), calib, 'dynamic', 'row');
    const g4 = (
      await quantize(await graphOf(model), {
        mode: 'dynamic',
        weightBits: 4,
        groupSize: 64,
        dynamicGranularity: 'row',
        report: false,
      })
    ).graph;
    calib.dispose();
    const x1 = variedInput([1, ...c.shape], 1),
      x8 = variedInput([8, ...c.shape], 2),
      xe = variedInput([256, ...c.shape], 4);
    const feed = (x: tf.Tensor) => ({ [g.inputs[0]!.name]: { data: x.dataSync() as Float32Array, shape: x.shape } });
    const f1 = feed(x1),
      f8 = feed(x8);
    const predict = async (x: tf.Tensor) => {
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      y.dispose();
    };
    const s8 = await InferenceSession.create(g8, { threads: 1 });
    const s4 = await InferenceSession.create(g4, { threads: 1 });
    if (!s4.plan.filter((p) => p.op === 'MatMul').every((p) => p.placement === 'native-dynamic-int4'))
      throw new Error(`${c.name}: int4 layers not native-dynamic-int4`);
    const engines = [
      {
        engine: 'tfjs-wasm float32',
        run: (b: 1 | 8) => predict(b === 1 ? x1 : x8),
        t1: [] as number[],
        t8: [] as number[],
        c1: [] as number[],
        c8: [] as number[],
      },
      {
        engine: 'ours dynamic int8',
        session: s8,
        run: (b: 1 | 8) => s8.run(b === 1 ? f1 : f8),
        t1: [] as number[],
        t8: [] as number[],
        c1: [] as number[],
        c8: [] as number[],
      },
      {
        engine: 'ours dynamic int4 (G 64)',
        session: s4,
        run: (b: 1 | 8) => s4.run(b === 1 ? f1 : f8),
        t1: [] as number[],
        t8: [] as number[],
        c1: [] as number[],
        c8: [] as number[],
      },
    ];
    for (const e of engines) {
      await e.run(1);
      await e.run(8);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const e of engines) {
        for (const b of [1, 8] as const) {
          const reps = b === 1 ? 5 : 1;
          const c0 = process.cpuUsage();
          const t = performance.now();
          for (let i = 0; i < reps; i++) await e.run(b);
          (b === 1 ? e.t1 : e.t8).push((performance.now() - t) / reps);
          const cu = process.cpuUsage(c0);
          (b === 1 ? e.c1 : e.c8).push((cu.user + cu.system) / 1000 / reps);
        }
      }
    }
    // Native time per call (sum of the steps' times), batch 1 and 8.
    const nativeMs = async (s: InferenceSession, feedB: typeof f1): Promise<number> => {
      const reps = quick ? 10 : 100;
      s.profile(true);
      for (let i = 0; i < reps; i++) await s.run(feedB);
      return (s.profile(false).reduce((t, p) => t + p.seconds, 0) * 1000) / reps;
    };
    const native = new Map<InferenceSession, [number, number]>();
    for (const s of [s8, s4]) native.set(s, [await nativeMs(s, f1), await nativeMs(s, f8)]);
    const ref = floatOutputs(g, xe)[0]!;
    const outName = s4.outputs[0]!.name;
    // Ratios on CPU time (the wall clock of a loaded 2-core machine mostly measures the other jobs).
    const w1 = median(engines[0]!.c1);
    const [i1, i8] = [median(engines[1]!.c1), median(engines[1]!.c8)];
    for (const e of engines) {
      const b1 = median(e.t1),
        b8 = median(e.t8),
        c1 = median(e.c1),
        c8 = median(e.c8);
      const row: Row = { model: c.name, engine: e.engine, b1, b8, c1, c8 };
      if (e.session) {
        const y = (await e.session.run(xe))[outName]!.data as Float32Array;
        const a = argmaxRows(y, c.classes),
          bref = argmaxRows(ref, c.classes);
        const [n1, n8] = native.get(e.session)!;
        Object.assign(row, {
          n1,
          n8,
          vsWasm1: w1 / c1,
          vsInt8_1: i1 / c1,
          vsInt8_8: i8 / c8,
          weights: e.session.memory.weightBytes,
          cosine: cosine(y, ref),
          top1: a.filter((v, i) => v === bref[i]).length / a.length,
        });
      } else {
        Object.assign(row, { vsWasm1: 1 });
      }
      rows.push(row);
      process.stdout.write(
        `${c.name} ${e.engine}: b1 ${b1.toFixed(3)} ms (CPU ${c1.toFixed(3)}), b8 ${b8.toFixed(3)} ms (CPU ${c8.toFixed(3)})\n`,
      );
    }
    s8.dispose();
    s4.dispose();
    tf.dispose([x1, x8, xe]);
    model.dispose();
  }
  const table: Table<Row> = {
    columns: [
      { header: 'model', value: (r) => r.model },
      { header: 'engine', value: (r) => r.engine },
      { header: 'batch 1 ms', value: (r) => r.b1, digits: 3 },
      { header: 'batch 8 ms', value: (r) => r.b8, digits: 3 },
      { header: 'b1 CPU ms', value: (r) => r.c1, digits: 3 },
      { header: 'b8 CPU ms', value: (r) => r.c8, digits: 3 },
      { header: '× wasm b1', value: (r) => r.vsWasm1, digits: 1 },
      { header: '× int8 b1', value: (r) => r.vsInt8_1, digits: 2 },
      { header: '× int8 b8', value: (r) => r.vsInt8_8, digits: 2 },
      { header: 'native b1 ms', value: (r) => r.n1, digits: 3 },
      { header: 'native b8 ms', value: (r) => r.n8, digits: 3 },
      { header: 'weights', value: (r) => (r.weights === undefined ? undefined : formatBytes(r.weights)) },
      { header: 'cosine vs float', value: (r) => r.cosine, digits: 5 },
      { header: 'top-1 vs float', value: (r) => r.top1, digits: 3 },
    ],
    rows,
  };
  process.stdout.write('\n' + toText(table));
  const cpu = cpuInfo();
  const load1 = loadavg()[0]!;
  const section = [
    '<!-- runtime-int4:begin -->',
    '## Runtime: int4 models in the InferenceSession (bench/models/int4.ts)',
    '',
    `Machine: ${cpu.brand.trim()} (${cpu.availableCores} cores), ISA ${getIsa()}, 1 thread; float reference ${describeFloatBackend(backend)} (model.predict). ` +
      `Load average ${load0.toFixed(1)} → ${load1.toFixed(1)} during the run (shared machine: absolute times inflated, ratios interleaved round by round). ` +
      `Median of ${ROUNDS} rounds (batch 1: mean of 5 calls per round), wall and process CPU time. Dynamic sessions quantize activations per row (§8); ` +
      "int4 = `quantize(g, {mode: 'dynamic', weightBits: 4, groupSize: 64})` (double-quantized group scales, the default), every MatMul as `matmul_dyn4` (weights packed once by PackInt4, scales as 1-byte codes). " +
      'Fidelity on 256 varied inputs against float32 execution (random weights: near-tied logits make top-1 harsh; cosine is the meaningful figure). ' +
      'Weights = session.memory.weightBytes (packed weights + float biases).',
    '',
    toMarkdown(table),
    '',
    reading(rows),
    '',
    'Command: `npx tsx bench/models/int4.ts`.',
    '<!-- runtime-int4:end -->',
    '',
  ].join('\n');
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'int4', 'RESULTS-int4.md');
  const old = readFileSync(path, 'utf8');
  const re = /<!-- runtime-int4:begin -->[\s\S]*<!-- runtime-int4:end -->\n?/;
  writeFileSync(path, re.test(old) ? old.replace(re, section) : `${old.trimEnd()}\n\n${section}`);
  process.stdout.write(`\nwrote ${path}\n`);
}

await main();
