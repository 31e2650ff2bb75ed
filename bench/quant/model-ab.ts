// MobileNetV2-style 224 at batch 1, 1 thread: int8 against dynamic mode (per tensor and per
// row) in process CPU time per run, optionally for two addon builds A/B in alternating child
// processes (one build per process), so a busy period of a shared machine hits both alike.
//
//   npx tsx bench/quant/model-ab.ts [--rounds 5] [--runs 60] [--addons old.node,new.node]
//
// Each child builds the three sessions (int8, dynamic per tensor, dynamic per row), warms
// them up, then times them interleaved in batches of --runs runs, 5 batches; a round's figure
// per session is its fastest batch (on a shared machine noise only adds time). The table
// gives per build the median over rounds with the min–max range, and dyn/int8 (time ratio,
// 1.3 = dynamic takes 30% longer) formed within each round.
import { fileURLToPath } from 'node:url';
import { isAbChild, reportToParent, runAlternated, spread } from './ab.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ROUNDS = Number(opt('rounds', '5'));
const RUNS = Number(opt('runs', '60'));

type Mode = 'int8' | 'dynTensor' | 'dynRow';
const MODES: Mode[] = ['int8', 'dynTensor', 'dynRow'];

async function child(): Promise<void> {
  const { initFloatBackend } = await import('../../src/backend/float.js');
  const { setThreads, getIsa } = await import('../../src/native/cpu.js');
  const { InferenceSession } = await import('../../src/runtime/index.js');
  const { graphOf, quantized, variedInput } = await import('../../test/runtime/helpers.js');
  const { mobileNetV2 } = await import('../models/models.js');
  await initFloatBackend('wasm');
  setThreads(1);
  const graph = await graphOf(mobileNetV2(224, 1, 1000));
  const calib = variedInput([8, 224, 224, 3], 3);
  const graphs: Record<Mode, Awaited<ReturnType<typeof quantized>>> = {
    int8: await quantized(graph, calib, 'int8'),
    dynTensor: await quantized(graph, calib, 'dynamic', 'tensor'),
    dynRow: await quantized(graph, calib, 'dynamic', 'row'),
  };
  const x = variedInput([1, 224, 224, 3], 1);
  const data = x.dataSync() as Float32Array;
  const runs: Record<Mode, () => Promise<unknown>> = {} as never;
  for (const mode of MODES) {
    const g = graphs[mode];
    const s = await InferenceSession.create(g, { threads: 1 });
    const feed = { [g.inputs[0]!.name]: { data, shape: [1, 224, 224, 3] } };
    runs[mode] = () => s.run(feed);
    for (let i = 0; i < 5; i++) await runs[mode]();
  }
  const best: Record<Mode, number> = { int8: Infinity, dynTensor: Infinity, dynRow: Infinity };
  for (let batch = 0; batch < 5; batch++) {
    for (const mode of MODES) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < RUNS; i++) await runs[mode]();
      const c = process.cpuUsage(c0);
      best[mode] = Math.min(best[mode], (c.user + c.system) / 1e3 / RUNS);
    }
  }
  reportToParent({ isa: getIsa(), ...best });
}

function parent(): void {
  const addons = opt('addons', '').split(',').filter(Boolean);
  const builds = addons.length ? addons : ['(default addon)'];
  const rounds = runAlternated<Record<Mode, number> & { isa: string }>(
    fileURLToPath(import.meta.url),
    args,
    addons,
    ROUNDS,
  );
  const fmt = (xs: number[]) => spread(xs, 2);
  console.log(
    `MobileNetV2-style 224, batch 1, 1 thread, isa ${rounds[0]![0]!.isa}; process CPU ms per run, ` +
      `best of 5 batches of ${RUNS} runs per round; median over ${ROUNDS} rounds (min–max)`,
  );
  builds.forEach((b, i) => console.log(`build ${String.fromCharCode(65 + i)}: ${b}`));
  const head = ['build', 'int8 ms', 'dyn tensor ms', 'dyn row ms', 'dyn tensor / int8', 'dyn row / int8'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  builds.forEach((_, bi) => {
    const rs = rounds[bi]!;
    console.log(
      `| ${[
        String.fromCharCode(65 + bi),
        fmt(rs.map((r) => r.int8)),
        fmt(rs.map((r) => r.dynTensor)),
        fmt(rs.map((r) => r.dynRow)),
        fmt(rs.map((r) => r.dynTensor / r.int8)),
        fmt(rs.map((r) => r.dynRow / r.int8)),
      ].join(' | ')} |`,
    );
  });
}

if (isAbChild()) await child();
else parent();
