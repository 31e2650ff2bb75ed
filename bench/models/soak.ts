// Soak: 10,000 InferenceSession.run calls with 8 in flight on one int8 session; every output
// is checked against the serial result for its input; RSS is sampled along the way (flat =
// no leak). Also compares the session's RSS cost with its reported weights + arena.
// Writes bench/models/RESULTS-soak.md.   Run: npx tsx bench/models/soak.ts [--runs N]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initFloatBackend } from '../../src/backend/float.js';
import { formatBytes } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';
import { mobileNetV2 } from './models.js';

const arg = process.argv.indexOf('--runs');
const RUNS = arg > 0 ? Number(process.argv[arg + 1]) : 10_000;
const IN_FLIGHT = 8;

function rss(): number {
  return process.memoryUsage().rss;
}

async function main(): Promise<void> {
  await initFloatBackend('wasm');
  const size = 96;
  const g = await quantized(await graphOf(mobileNetV2(size, 0.5, 100)), variedInput([8, size, size, 3], 1));
  const inputs = Array.from({ length: IN_FLIGHT }, (_, i) => {
    const t = variedInput([1, size, size, 3], 10 + i);
    const data = Float32Array.from(t.dataSync());
    t.dispose();
    return { input: { data, shape: [1, size, size, 3] } };
  });
  global.gc?.();
  const before = rss();
  const s = await InferenceSession.create(g, { threads: 0 });
  const out = s.outputs[0]!.name;
  const expected: number[][] = [];
  for (const x of inputs) expected.push(Array.from((await s.run(x))[out]!.data));
  const afterFirst = rss();
  const samples: { runs: number; rss: number }[] = [{ runs: 0, rss: afterFirst }];
  let done = 0,
    bad = 0,
    next = 0;
  const t0 = performance.now();
  async function worker(slot: number): Promise<void> {
    while (next < RUNS) {
      next++;
      const i = (slot + next) % IN_FLIGHT;
      const y = (await s.run(inputs[i]!))[out]!.data;
      const e = expected[i]!;
      for (let k = 0; k < e.length; k++)
        if (y[k] !== e[k]) {
          bad++;
          break;
        }
      done++;
      if (done % 500 === 0) samples.push({ runs: done, rss: rss() });
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => worker(i)));
  const seconds = (performance.now() - t0) / 1000;
  const mem = s.memory;
  s.dispose();
  const q = Math.floor(samples.length / 4);
  const ref = samples[q]!;
  const hi = Math.max(...samples.slice(q).map((x) => x.rss));
  const end = samples[samples.length - 1]!;
  const lines = [
    `# Soak: ${done} runs, ${IN_FLIGHT} in flight (bench/models/soak.ts)`,
    '',
    `Command: \`npx tsx bench/models/soak.ts${arg > 0 ? ` --runs ${RUNS}` : ''}\` — ${new Date().toISOString().slice(0, 10)}. Model: MobileNetV2-style ${size}×${size} width 0.5, int8, batch 1, one session, ${IN_FLIGHT} runs in flight.`,
    '',
    `- Runs: ${done} in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)} runs/s); outputs different from the serial result: **${bad}**.`,
    `- Session memory: weights ${formatBytes(mem.weightBytes)} (packed), arenas ${formatBytes(mem.arenaBytes)} (one per concurrent run).`,
    `- RSS before the session ${formatBytes(before)}, after creating it and the first runs ${formatBytes(afterFirst)} (+${formatBytes(afterFirst - before)}, i.e. ${((afterFirst - before) / (mem.weightBytes + mem.arenaBytes)).toFixed(2)}× the reported weights + arenas).`,
    `- RSS after ${ref.runs} runs ${formatBytes(ref.rss)}; highest afterwards ${formatBytes(hi)} (growth ${formatBytes(Math.max(0, hi - ref.rss))}); at the end ${formatBytes(end.rss)} (V8 may return heap pages, so RSS can drop).`,
    '',
    '| runs | RSS |',
    '| ---: | ---: |',
    ...samples
      .filter((_, i) => i % 2 === 0 || i === samples.length - 1)
      .map((x) => `| ${x.runs} | ${formatBytes(x.rss)} |`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-soak.md'), lines.join('\n'));
  if (bad) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
