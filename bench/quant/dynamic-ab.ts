// Dynamic-quantization GEMM against plain int8 on one kernel path, 1 thread, process CPU time;
// optionally two addon builds A/B in alternating child processes (one addon per process,
// never two engines in one), so a busy period of a shared machine hits both alike.
//
//   npx tsx bench/quant/dynamic-ab.ts [--isa avx512vnni] [--rounds 5] [--time 0.3]
//        [--addons old.node,new.node] [--shapes 12544x27x32,3136x576x64]
//
// Per round, each child times every shape as int8 GEMM (uint8 A, requantize-to-int8
// epilogue), dynamic per row and dynamic per tensor (float32 in, float32 out), interleaved
// call by call in batches; a round's figure is the median batch. The table gives, per build,
// the median over rounds with the min–max range, and dyn/int8 = int8 time / dyn time (speed
// ratio, 1 = as fast as int8) computed within each round, then the median over rounds.
import { fileURLToPath } from 'node:url';
import { isAbChild, median, reportToParent, runAlternated, spread } from './ab.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const ISA = opt('isa', 'avx512vnni');
const ROUNDS = Number(opt('rounds', '5'));
const TIME = Number(opt('time', '0.3'));
const SHAPES = opt('shapes', '1x768x768,128x768x768,3136x576x64,12544x27x32,784x1152x128,12544x16x96')
  .split(',')
  .map((s) => s.split('x').map(Number) as [number, number, number]);

type Mode = 'int8' | 'dynRow' | 'dynTensor';
const MODES: Mode[] = ['int8', 'dynRow', 'dynTensor'];
type RoundResult = Record<string, Record<Mode, number>>; // shape → mode → µs per call

async function child(): Promise<void> {
  const { dynamicGemm, gemm, packWeights } = await import('../../src/kernels/gemm.js');
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system; // µs
  };
  const result: RoundResult = {};
  for (const [m, k, n] of SHAPES) {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const b = Int8Array.from({ length: k * n }, () => Math.floor(rnd() * 255) - 127);
    const p = packWeights(b, { k, n, isa: ISA as 'avx512vnni' });
    const a = Uint8Array.from({ length: m * k }, () => Math.floor(rnd() * 256));
    // Activations like a network's: mostly small, some larger, a few negative.
    const x = Float32Array.from({ length: m * k }, () => (rnd() - 0.3) * 4 * rnd());
    const wScales = new Float32Array(n).fill(0.01);
    const bias = Float32Array.from({ length: n }, () => rnd() - 0.5);
    const fout = new Float32Array(m * n);
    const out = new Int8Array(m * n);
    const fns: Record<Mode, () => void> = {
      int8: () => gemm(a, p, { m, aZeroPoint: 3, output: 'int8', multiplier: 0.001, outZeroPoint: 0, out, threads: 1 }),
      dynRow: () =>
        dynamicGemm(x, p, { m, wScales, biasF32: bias, activation: 'relu6', out: fout, threads: 1, perRow: true }),
      dynTensor: () =>
        dynamicGemm(x, p, { m, wScales, biasF32: bias, activation: 'relu6', out: fout, threads: 1, perRow: false }),
    };
    const reps: Record<Mode, number> = { int8: 1, dynRow: 1, dynTensor: 1 };
    for (const mode of MODES) {
      fns[mode]();
      const t0 = performance.now();
      fns[mode]();
      reps[mode] = Math.max(1, Math.round(TIME / 15 / Math.max(1e-6, (performance.now() - t0) / 1e3)));
    }
    const samples: Record<Mode, number[]> = { int8: [], dynRow: [], dynTensor: [] };
    for (let batch = 0; batch < 5; batch++) {
      for (const mode of MODES) {
        const c0 = cpu();
        for (let i = 0; i < reps[mode]; i++) fns[mode]();
        samples[mode].push((cpu() - c0) / reps[mode]);
      }
    }
    result[`${m}x${k}x${n}`] = {
      int8: median(samples.int8),
      dynRow: median(samples.dynRow),
      dynTensor: median(samples.dynTensor),
    };
    p.dispose();
  }
  reportToParent(result);
}

function parent(): void {
  const addons = opt('addons', '').split(',').filter(Boolean);
  const builds = addons.length ? addons : ['(default addon)'];
  const rounds = runAlternated<RoundResult>(fileURLToPath(import.meta.url), args, addons, ROUNDS);
  console.log(`isa ${ISA}, 1 thread, process CPU µs per call: median over ${ROUNDS} rounds (min–max)`);
  builds.forEach((b, i) => console.log(`build ${String.fromCharCode(65 + i)}: ${b}`));
  const head = ['shape', 'build', 'int8 µs', 'dyn row µs', 'dyn tensor µs', 'dyn/int8 row', 'dyn/int8 tensor'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const [m, k, n] of SHAPES) {
    const key = `${m}x${k}x${n}`;
    builds.forEach((_, bi) => {
      const rs = rounds[bi]!.map((r) => r[key]!);
      const col = (mode: Mode) =>
        spread(
          rs.map((r) => r[mode]),
          0,
        );
      const ratio = (mode: Mode) =>
        spread(
          rs.map((r) => r.int8 / r[mode]),
          2,
        );
      const row = [key, String.fromCharCode(65 + bi), col('int8'), col('dynRow'), col('dynTensor')];
      console.log(`| ${[...row, ratio('dynRow'), ratio('dynTensor')].join(' | ')} |`);
    });
  }
}

if (isAbChild()) await child();
else parent();
