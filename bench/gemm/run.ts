// int8 GEMM benchmark: GOPS per kernel path at 1 and 2 threads, % of the path's measured
// peak, dynamic-quantization path vs plain int8, and float32 matMul in the best tfjs backend.
//
//   npx tsx bench/gemm/run.ts [--quick] [--reps N] [--min-time S] [--no-ref] [--no-onednn] [--out FILE]
//   TFJS_QUANT_ADDON=/path/to/tfjs_quant.node npx tsx bench/gemm/run.ts   (another build)
//
// oneDNN column (optional): when Debian's libdnnl-dev is installed (apt-get install -y
// libdnnl-dev), bench/gemm/onednn_mm.cc is built with g++ at start and run once per shape in
// its own process (OMP_NUM_THREADS=1), right after our kernels for that shape, so the two
// engines alternate shape by shape and never share a process; it is timed the same way (median
// process CPU time per call over REPS rounds). Without the library the column says why.
//
// Every figure is the median of repeated timed runs (after a warm-up), and every ratio is
// taken between figures measured in the same run. On a shared machine the absolute numbers
// are noisy; rerun on a quiet machine (and with --reps 15) for publishable figures.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { dynamicGemm, gemm, measurePeak, packWeights } from '../../src/kernels/gemm.js';
import { cpuInfo, getThreads, supportedIsas } from '../../src/native/cpu.js';
import { rand8 } from './data.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const QUICK = flag('--quick');
const REPS = value('--reps', QUICK ? 3 : 7);
const MIN_TIME = value('--min-time', QUICK ? 0.05 : 0.2);
const outFile = (() => {
  const i = args.indexOf('--out');
  return i >= 0 ? args[i + 1] : join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-gemm.md');
})();

const SHAPES: [number, number, number][] = [
  [1, 768, 768],
  [1, 4096, 4096],
  [16, 768, 3072],
  [128, 768, 768],
  [128, 768, 3072],
  [512, 1024, 1024],
  [1024, 1024, 1024],
  [3136, 576, 64],
  [12544, 27, 32],
  [784, 1152, 128],
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Timing {
  wall: number;
  cpu: number;
}
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Median seconds per call of each function, wall clock and process CPU time (CPU time is
 * what a 1-thread call costs even when other jobs steal time slices: on a shared machine it
 * is the stable figure). The functions are timed in interleaved rounds (f0, f1, f2, f0, …)
 * so that a noisy period hits all of them alike and their ratios stay meaningful. Each
 * round runs a function enough times to last about MIN_TIME / REPS.
 */
function timeMany(fns: (() => void)[], budgetScale = 1): Timing[] {
  const inner = fns.map((fn) => {
    fn(); // warm-up (page faults, pool wake-up, caches)
    const t0 = performance.now();
    fn();
    const once = Math.max(1e-6, (performance.now() - t0) / 1000);
    return Math.max(1, Math.round((MIN_TIME * budgetScale) / REPS / once));
  });
  const wall: number[][] = fns.map(() => []),
    cpu: number[][] = fns.map(() => []);
  for (let r = 0; r < REPS; r++) {
    fns.forEach((fn, f) => {
      const c0 = cpuNow();
      const t0 = performance.now();
      for (let i = 0; i < inner[f]; i++) fn();
      wall[f].push((performance.now() - t0) / 1000 / inner[f]);
      cpu[f].push((cpuNow() - c0) / inner[f]);
    });
  }
  return fns.map((_, f) => ({ wall: median(wall[f]), cpu: median(cpu[f]) }));
}
const timeIt = (fn: () => void, budgetScale = 1): Timing => timeMany([fn], budgetScale)[0];

/**
 * Compiles one of this folder's C++ harnesses (`name`.cc, with `flags` after the source) into
 * dir; returns the executable's path, or why the column it feeds is skipped.
 */
function buildHarness(dir: string, name: string, flags: string[]): { exe?: string; why?: string } {
  const exe = join(dir, name);
  const src = join(dirname(fileURLToPath(import.meta.url)), `${name}.cc`);
  try {
    execFileSync('g++', ['-O2', '-std=c++17', src, ...flags, '-o', exe], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return {
      why: `skipped: building ${name}.cc failed (${String((e as { stderr?: Buffer }).stderr ?? e).split('\n')[0]})`,
    };
  }
  return { exe };
}

/** Builds the oneDNN harness; returns its path, or the reason the column is skipped. */
function buildOneDnn(): { exe?: string; why?: string; dir?: string } {
  if (flag('--no-onednn')) return { why: 'skipped (--no-onednn)' };
  if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) return { why: 'skipped: libdnnl-dev not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'tfjq-onednn-'));
  const built = buildHarness(dir, 'onednn_mm', ['-ldnnl']);
  if (!built.exe) rmSync(dir, { recursive: true, force: true });
  return built.exe ? { ...built, dir } : built;
}

/**
 * Builds ours_mm.cc (our int8 GEMM timed in a C++ loop, as onednn_mm.cc times oneDNN) into dir
 * against the core library the install built with the addon (build/libtfjq_core.a: an addon
 * built elsewhere, or given by TFJS_QUANT_ADDON, may hold other kernels); returns its path, or
 * the reason the column is skipped.
 */
function buildOurs(dir: string): { exe?: string; why?: string } {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const lib = join(root, 'build', 'libtfjq_core.a');
  if (!existsSync(lib)) return { why: `skipped: ${lib} not built (npm install builds it)` };
  return buildHarness(dir, 'ours_mm', [`-I${join(root, 'native')}`, lib, '-lpthread']);
}

/** Our int8 GEMM's process CPU seconds per call in a C++ loop (ours_mm.cc). */
function runOurs(exe: string, m: number, k: number, n: number): { isa: string; cpu: number } {
  const r = JSON.parse(execFileSync(exe, [m, k, n, REPS, MIN_TIME].map(String)).toString()) as {
    isa: string;
    cpu: number;
    check: boolean;
  };
  if (!r.check) throw new Error(`ours_mm returned a wrong value for ${m}x${k}x${n}`);
  return r;
}

interface OneDnnResult {
  version: string;
  s32: { impl: string; cpu: number; check: boolean };
  s8: { impl: string; cpu: number };
}
function runOneDnn(exe: string, m: number, k: number, n: number): OneDnnResult {
  const out = execFileSync(exe, [m, k, n, REPS, MIN_TIME].map(String), {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  }).toString();
  const r = JSON.parse(out) as OneDnnResult;
  if (!r.s32.check) throw new Error(`oneDNN returned a wrong value for ${m}x${k}x${n}`);
  return r;
}

async function main() {
  const info = cpuInfo();
  const isas = supportedIsas().filter((i) => !(flag('--no-ref') && i === 'ref'));
  const backend = await initFloatBackend();
  const poolThreads = getThreads();
  const fastIsas = isas.filter((i) => i !== 'ref');
  console.log(`CPU: ${info.brand} (${info.availableCores} cores available; pool ${poolThreads} threads)`);
  console.log(
    `paths: ${isas.join(', ')}; float backend: ${describeFloatBackend(backend)}; reps ${REPS}, min time ${MIN_TIME}s`,
  );

  // The peak is a capability: noise (other jobs, SMT siblings, clock changes) only lowers a
  // sample, so it is sampled throughout the run and the maximum is used.
  const peakSamples: Record<string, number[]> = {};
  const samplePeaks = (count: number) => {
    for (const isa of isas) for (let i = 0; i < count; i++) (peakSamples[isa] ??= []).push(measurePeak(isa, 0.1));
  };
  samplePeaks(5);
  const onednn = buildOneDnn();
  let onednnVersion = '';
  const onednnImpls = new Set<string>();
  console.log(onednn.exe ? 'oneDNN column: on' : `oneDNN column: ${onednn.why}`);
  const ours = onednn.dir ? buildOurs(onednn.dir) : { why: 'skipped (no oneDNN column to compare with)' };
  if (!ours.exe) console.log(`C++-loop column: ${ours.why}`);
  let oursIsa = '';

  const rows: string[][] = [];
  const header = [
    'M',
    'K',
    'N',
    'path',
    'GOPS 1T (cpu)',
    '% peak',
    'GOPS 1T (wall)',
    'GOPS 2T (wall)',
    '2T/1T',
    'dyn GOPS 1T (cpu)',
    'dyn/int8',
    'dyn/int8 (per tensor)',
    `f32 GFLOPS (${backend}, wall)`,
    'oneDNN s32 GOPS 1T (cpu)',
    'oneDNN s8 GOPS 1T (cpu)',
    'ours int8 (JS call) / oneDNN best',
    'ours int8 GOPS 1T (C++ loop, cpu)',
    'ours (C++ loop) / oneDNN best',
  ];
  for (const [m, k, n] of SHAPES) {
    const ops = 2 * m * k * n;
    const a = rand8(m * k, 0, 255, Uint8Array) as Uint8Array;
    const b = rand8(k * n, -127, 127, Int8Array) as Int8Array;
    const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i) * 3);
    const wScales = new Float32Array(n).fill(0.01);
    // float32 reference: tfjs matMul of the same shape.
    const xa = tf.tensor2d(x, [m, k]);
    const wb = tf.randomNormal([k, n], 0, 1, 'float32', 1);
    const fSec = timeIt(() => {
      tf.tidy(() => tf.matMul(xa, wb).dataSync());
    }, 0.5).wall;
    xa.dispose();
    wb.dispose();
    for (const isa of isas) {
      if (isa === 'ref' && ops > 2e9 && !flag('--all-ref')) continue; // the scalar oracle is slow
      const p = packWeights(b, { k, n, isa });
      const out = new Int8Array(m * n);
      const opts = { m, aZeroPoint: 3, output: 'int8' as const, multiplier: 0.001, outZeroPoint: 0, out };
      const scale = isa === 'ref' ? 0.3 : 1;
      const fout = new Float32Array(m * n);
      const o1 = { ...opts, threads: 1 },
        o2 = { ...opts, threads: 2 };
      const od = { m, wScales, out: fout, threads: 1 };
      const odt = { ...od, perRow: false };
      const [t1, t2, td, tdt] = timeMany(
        [() => gemm(a, p, o1), () => gemm(a, p, o2), () => dynamicGemm(x, p, od), () => dynamicGemm(x, p, odt)],
        scale,
      );
      p.dispose();
      const g1c = ops / t1.cpu / 1e9,
        g1 = ops / t1.wall / 1e9,
        g2 = ops / t2.wall / 1e9,
        gdc = ops / td.cpu / 1e9;
      const gdtc = ops / tdt.cpu / 1e9;
      const row = [
        String(m),
        String(k),
        String(n),
        isa,
        g1c.toFixed(1),
        String(g1c),
        g1.toFixed(1),
        g2.toFixed(1),
        (g2 / g1).toFixed(2),
        gdc.toFixed(1),
        (gdc / g1c).toFixed(2),
        (gdtc / g1c).toFixed(2),
        (ops / fSec / 1e9).toFixed(1),
      ];
      rows.push(row);
    }
    // oneDNN in its own process, once per shape, beside the fastest path's row.
    const last = rows[rows.length - 1];
    if (onednn.exe && last[3] !== 'ref') {
      const d = runOneDnn(onednn.exe, m, k, n);
      onednnVersion = d.version;
      onednnImpls.add(`${d.s32.impl} (s32)`).add(`${d.s8.impl} (s8)`);
      const s32 = ops / d.s32.cpu / 1e9,
        s8 = ops / d.s8.cpu / 1e9;
      last.push(s32.toFixed(1), s8.toFixed(1), (Number(last[4]) / Math.max(s32, s8)).toFixed(2));
      if (ours.exe) {
        const o = runOurs(ours.exe, m, k, n);
        oursIsa = o.isa;
        const g = ops / o.cpu / 1e9;
        last.push(g.toFixed(1), (g / Math.max(s32, s8)).toFixed(2));
      }
    }
    for (const r of rows.slice(-isas.length)) {
      while (r.length < header.length) r.push('–');
      console.log(r.join('\t'));
    }
    samplePeaks(1);
  }
  const peaks: Record<string, number> = {};
  for (const isa of isas) peaks[isa] = Math.max(...peakSamples[isa]);
  for (const row of rows) row[5] = `${((100 * Number(row[5])) / peaks[row[3]]).toFixed(0)}%`;
  console.log(
    'peak (1 thread, dependency-free MAC loop, max of samples): ' +
      isas
        .map((i) => `${i} ${peaks[i].toFixed(1)} GOPS (median sample ${median(peakSamples[i]).toFixed(1)})`)
        .join(', '),
  );
  const md = [
    `# int8 GEMM benchmark (bench/gemm/run.ts)`,
    '',
    `- Machine: ${info.brand} (${info.vendor}), ${info.availableCores} cores available to the process.`,
    `- Paths: ${isas.join(', ')} (best: ${isas[isas.length - 1]}); peaks (1 thread, dependency-free MAC loop, ` +
      `thread CPU time, max of ${peakSamples[isas[0]].length} samples taken through the run): ` +
      isas
        .map(
          (i) =>
            `${i} ${peaks[i].toFixed(1)} GOPS (samples ${Math.min(...peakSamples[i]).toFixed(1)}–` +
            `${peaks[i].toFixed(1)}, median ${median(peakSamples[i]).toFixed(1)})`,
        )
        .join(', ') +
      '. "% peak" uses the ' +
      'maximum, so it is conservative; a wide sample range means the clock or the core share changed during the run.',
    `- int8 GEMM = uint8 A × packed int8 B with the requantize-to-int8 epilogue; "dyn" = float32 in → per-row dynamic ` +
      `uint8 quantization → int8 GEMM → float32 out, in one native call (1 thread; the API's default); "per tensor" = ` +
      `the same with one range for the whole input (the runtime's default granularity, §12.4); GOPS = 2·M·K·N / time.`,
    `- "cpu" columns divide by the process CPU time of 1-thread calls (stable when other jobs steal time slices); ` +
      `the peak is timed in thread CPU time too, so "% peak" compares like with like. "wall" columns are elapsed time ` +
      `(1 and 2 threads); 2T/1T is their ratio.`,
    `- float32 = tf.matMul in ${describeFloatBackend(backend)} (same M, K, N; its own threading).`,
    onednn.exe
      ? `- oneDNN ${onednnVersion} (Debian libdnnl-dev, OMP_NUM_THREADS=1), bench/gemm/onednn_mm.cc run in its own process once ` +
        `per shape right after ours: u8 A (zero point 3) × s8 B reordered once to its preferred layout, int32 out ("s32") ` +
        `and per-column scaled int8 out ("s8"); median process CPU time per call, same rounds as ours. Implementations ` +
        `chosen: ${[...onednnImpls].join(', ')}. The "JS call" ratio divides our int8-out figure (fastest path, ` +
        `timed from JavaScript: it includes the N-API call and the argument checks) by oneDNN's faster variant.`
      : `- oneDNN column ${onednn.why}.`,
    ours.exe
      ? `- "C++ loop": the same int8 call (${oursIsa}) timed in a C++ loop by bench/gemm/ours_mm.cc (linked to ` +
        `build/libtfjq_core.a) with the timing code of onednn_mm.cc (timing.h), in its own process after oneDNN's: ` +
        `its ratio to oneDNN compares the kernels alone.`
      : `- C++-loop column ${ours.why}.`,
    `- Median of ${REPS} timed rounds after a warm-up; 1-thread, 2-thread and dynamic calls alternate round by round, ` +
      `so their ratios are measured side by side.` +
      ` The ref path (scalar oracle) is skipped above 2 GOP per call.`,
    `- Command: \`npx tsx bench/gemm/run.ts${args.length ? ' ' + args.join(' ') : ''}\`` +
      (process.env.TFJS_QUANT_ADDON ? ` with TFJS_QUANT_ADDON=${process.env.TFJS_QUANT_ADDON}` : ''),
    `- Date: ${new Date().toISOString()}. The machine was shared with other jobs while this ran: absolute figures are noisy.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  if (onednn.dir) rmSync(onednn.dir, { recursive: true, force: true });
  if (!fastIsas.length) console.warn('only the ref path is available here');
  writeFileSync(outFile, md);
  console.log(`\nwrote ${outFile}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
