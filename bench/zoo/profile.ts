// Where a converted zoo model's time goes: the written files in an InferenceSession, each
// native step's minimum over the runs (InferenceSession.profile), summed per step kind, the
// slowest steps with their shapes, the plan's placements, and the run's wall time beside the
// steps' sum (the rest: tfjs segments, the thread hand-off, JavaScript). Per-step minima are
// steadier than wall times on a shared machine: they are what kernel changes are judged by.
//
//   npx tsx bench/zoo/profile.ts <work dir>/<group>/<model> [--mode int8] [--threads 1] [--runs 100] [--steps 15]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initFloatBackend } from '../../src/backend/float.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { readInputSet } from './inputs.js';
import type { ZooInput } from './manifest.js';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: 'string', default: 'int8' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '100' },
    steps: { type: 'string', default: '15' },
  },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: bench/zoo/profile.ts <work dir>/<group>/<model> [--mode int8] …');
const runs = Number(opt.runs),
  threads = Number(opt.threads),
  top = Number(opt.steps);

interface PlanStep {
  op: string;
  inputs: number[];
  outputs: number[];
}
interface NativeSegmentPlan {
  kind: 'native';
  plan: { steps: PlanStep[]; buffers: { shape: number[] }[] };
}

await initFloatBackend();
const out = join(dir, `out-${opt.mode}`);
const folder = readdirSync(out).find((f) => !f.includes('.'));
if (!folder) throw new Error(`no converted model in ${out}`);
const s = await InferenceSession.create(join(out, folder, 'model.json'), { threads });
const inputs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as ZooInput[];
const feed = readInputSet(join(dir, 'eval'), inputs)[0]!;
for (let i = 0; i < 5; i++) await s.run(feed);
let best: { op: string; seconds: number }[] = [];
const walls: number[] = [];
for (let r = 0; r < runs; r++) {
  s.profile(true);
  const t0 = performance.now();
  await s.run(feed);
  walls.push(performance.now() - t0);
  const p = s.profile(false);
  best = best.length ? best.map((b, k) => ({ ...b, seconds: Math.min(b.seconds, p[k]!.seconds) })) : p;
}
walls.sort((a, b) => a - b);
const ms = (v: number) => v.toFixed(3);
const total = best.reduce((a, b) => a + b.seconds * 1000, 0);
console.log(
  `${dir} ${opt.mode}, ${threads} thread(s), ${runs} runs: wall median ${ms(walls[runs >> 1]!)} ms, min ${ms(walls[0]!)} ms; native steps (sum of per-step minima) ${ms(total)} ms`,
);
const byOp = new Map<string, { ms: number; n: number }>();
for (const p of best) {
  const e = byOp.get(p.op) ?? { ms: 0, n: 0 };
  e.ms += p.seconds * 1000;
  e.n++;
  byOp.set(p.op, e);
}
console.log('\n| step | count | ms | share |\n| --- | ---: | ---: | ---: |');
for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms))
  console.log(`| ${op} | ${e.n} | ${ms(e.ms)} | ${((100 * e.ms) / total).toFixed(1)}% |`);
// The plan's steps in profile order (one list per native segment, in segment order).
const segments = (s as unknown as { requirePlan(): { compiled: { segments: NativeSegmentPlan[] } } })
  .requirePlan()
  .compiled.segments.filter((g) => g.kind === 'native');
const rows: [number, string][] = [];
let k = 0;
for (const seg of segments)
  for (const st of seg.plan.steps) {
    const p = best[k++]!;
    const shape = (b: number) => seg.plan.buffers[b]?.shape.join('×') ?? '?';
    rows.push([
      p.seconds,
      `| ${p.op} | ${(p.seconds * 1e6).toFixed(1)} | ${st.inputs.map(shape).join(', ')} | ${st.outputs.map(shape).join(', ')} |`,
    ]);
  }
console.log(`\nSlowest ${top} steps:\n\n| step | µs | inputs | outputs |\n| --- | ---: | --- | --- |`);
for (const [, line] of rows.sort((a, b) => b[0] - a[0]).slice(0, top)) console.log(line);
const placements = new Map<string, number>();
for (const n of s.plan) {
  const key = n.placement + (n.placement === 'tfjs' && n.reason ? ` (${n.reason})` : '');
  placements.set(key, (placements.get(key) ?? 0) + 1);
}
console.log(`\nPlacements: ${[...placements].map(([p, c]) => `${c} ${p}`).join('; ')}`);
s.dispose();
