// Where the time of one model goes: per-step native time of an int8 (or dynamic / float)
// session of the MobileNetV2-style 224 graph at batch 1 (--batch N: N), with each step's op, shapes and
// GOPS, slowest first. A developer tool for kernel work (the table against the targets is run.ts).
//   Run: npx tsx bench/models/profile.ts [--mode int8|dynamic|float] [--threads N] [--runs N] [--model mobilenet|resnet] [--batch N] [--min]
// --threads 1,2: each count in turn on the same graph, then where the second count's time goes:
// the steps whose per-step minimum is furthest from the first count's divided by the ratio of
// the counts (implies --min; the per-step minima are what survive a shared machine's noise).
import { initFloatBackend } from '../../src/backend/float.js';
import { getIsa, setThreads } from '../../src/native/cpu.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';
import { mobileNetV2, resNetBlocks } from './models.js';
import { quantize } from '../../src/quant/quantize.js';
import { toText, type Table } from '../../src/report/table.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};

interface StepTime {
  i: number;
  op: string;
  ms: number;
  node: string;
}

async function main(): Promise<void> {
  await initFloatBackend('wasm');
  const mode = arg('mode', 'int8');
  const counts = arg('threads', '1').split(',').map(Number);
  const runs = Number(arg('runs', '30'));
  const which = arg('model', 'mobilenet');
  setThreads(Math.max(...counts, 1));
  const model = which === 'resnet' ? resNetBlocks(112, [32, 64, 128, 256], 1000) : mobileNetV2(224, 1, 1000);
  const shape = which === 'resnet' ? [112, 112, 3] : [224, 224, 3];
  const calib = variedInput([8, ...shape], 3);
  // Dynamic as a conversion makes it (quantize's defaults: per-row ranges, narrow layers float),
  // the graph bench/models/peers.ts times.
  const g =
    mode === 'float'
      ? await graphOf(model)
      : mode === 'dynamic'
        ? (await quantize(await graphOf(model), { mode: 'dynamic', report: false, optimize: false })).graph
        : await quantized(await graphOf(model), calib, 'int8');
  const x = variedInput([Number(arg('batch', '1')), ...shape], 1);
  const feed = { [g.inputs[0]!.name]: { data: x.dataSync() as Float32Array, shape: x.shape } };
  // --min: each step's quickest run instead of the mean (steadier on a machine shared with
  // other jobs: a step that another process interrupted is not the step's cost).
  const min = process.argv.includes('--min') || counts.length > 1;
  const label = `${which} ${mode}`;
  const results = [];
  for (const threads of counts) results.push(await profileOnce(g, feed, threads, runs, min, label));
  if (counts.length > 1) compareCounts(counts, results);
}

async function profileOnce(
  g: Awaited<ReturnType<typeof graphOf>>,
  feed: Record<string, { data: Float32Array; shape: number[] }>,
  threads: number,
  runs: number,
  min: boolean,
  label: string,
): Promise<{ rows: StepTime[]; wall: number }> {
  const session = await InferenceSession.create(g, { threads });
  for (let i = 0; i < 5; i++) await session.run(feed);
  session.profile(true);
  const t0 = performance.now(),
    c0 = process.cpuUsage();
  let prof: { op: string; seconds: number }[] = [];
  for (let i = 0; i < runs; i++) {
    await session.run(feed);
    if (!min) continue;
    const p = session.profile(false).map((q) => ({ op: q.op, seconds: q.seconds * runs }));
    prof = prof.length === 0 ? p : prof.map((q, k) => (p[k]!.seconds < q.seconds ? p[k]! : q));
    session.profile(true);
  }
  const wall = (performance.now() - t0) / runs;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1000 / runs;
  if (!min) prof = session.profile(false);
  else session.profile(false);
  // Step shapes from the compiled plan (internal: a developer tool may look inside).
  const segs = (
    session as unknown as {
      current: {
        compiled: {
          segments: {
            kind: string;
            plan?: {
              steps: { inputs: number[]; outputs: number[]; ints?: number[] }[];
              buffers: { shape: number[] }[];
            };
          }[];
        };
      };
    }
  ).current.compiled.segments;
  const steps = segs.flatMap((s) =>
    s.kind === 'native' && s.plan ? s.plan.steps.map((st) => ({ st, plan: s.plan! })) : [],
  );
  const describe = (i: number) => {
    const e = steps[i];
    if (!e) return '';
    const shp = (id: number) => `[${e.plan.buffers[id]?.shape.join(',')}]`;
    const geom =
      e.st.ints && /conv|dw/.test(prof[i]?.op ?? '') ? ` k${e.st.ints[0]}x${e.st.ints[1]}/s${e.st.ints[2]}` : '';
    return `${e.st.inputs.map(shp).join(' ')} -> ${e.st.outputs.map(shp).join(' ')}${geom}`;
  };
  const rows: StepTime[] = prof.map((p, i) => ({ i, op: p.op, ms: (p.seconds * 1000) / runs, node: describe(i) }));
  const total = rows.reduce((a, r) => a + r.ms, 0);
  const byOp = new Map<string, number>();
  for (const r of rows) byOp.set(r.op, (byOp.get(r.op) ?? 0) + r.ms);
  console.log(
    `${label}, ${threads} thread(s), ISA ${getIsa()}: wall ${wall.toFixed(2)} ms, process CPU ${cpu.toFixed(2)} ms per run, native steps ${total.toFixed(2)} ms (${runs} runs)`,
  );
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]))
    console.log(`  ${op.padEnd(14)} ${ms.toFixed(3).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
  console.log('slowest steps:');
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, Number(arg('top', '25'))))
    console.log(`  #${String(r.i).padEnd(4)} ${r.op.padEnd(12)} ${r.ms.toFixed(3).padStart(7)} ms  ${r.node}`);
  session.dispose();
  return { rows, wall };
}

/** Per step: the first count's minimum, the last's, their ratio, and the time lost against perfect scaling. */
function compareCounts(counts: number[], results: { rows: StepTime[]; wall: number }[]): void {
  const [a, b] = [results[0]!, results[results.length - 1]!];
  const scale = counts[counts.length - 1]! / counts[0]!;
  const sum = (r: StepTime[]) => r.reduce((t, x) => t + x.ms, 0);
  console.log(
    `\n${counts[0]} → ${counts[counts.length - 1]} threads: wall ${a.wall.toFixed(3)} → ${b.wall.toFixed(3)} ms ` +
      `(${(a.wall / b.wall).toFixed(2)}×), native steps ${sum(a.rows).toFixed(3)} → ${sum(b.rows).toFixed(3)} ms ` +
      `(${(sum(a.rows) / sum(b.rows)).toFixed(2)}×)`,
  );
  const rows = a.rows.map((r, k) => ({ ...r, ms2: b.rows[k]!.ms, lost: b.rows[k]!.ms - r.ms / scale }));
  const table: Table<(typeof rows)[number]> = {
    columns: [
      { header: 'step', value: (r) => `#${r.i} ${r.op}` },
      { header: `µs, ${counts[0]}T`, value: (r) => r.ms * 1000, digits: 1 },
      { header: `µs, ${counts[counts.length - 1]}T`, value: (r) => r.ms2 * 1000, digits: 1 },
      { header: 'speed-up', value: (r) => r.ms / r.ms2, digits: 2 },
      { header: 'µs lost', value: (r) => r.lost * 1000, digits: 1 },
      { header: 'shapes', value: (r) => r.node },
    ],
    rows: [...rows].sort((p, q) => q.lost - p.lost).slice(0, Number(arg('top', '25'))),
  };
  console.log(`steps losing the most against ${scale}× (the first count's time / ${scale}):\n${toText(table)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
