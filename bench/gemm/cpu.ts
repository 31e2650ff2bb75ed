// CPU-time A/B benchmark of the AVX2 int8 GEMM on the shapes that matter for int8 CNNs
// (MobileNetV2's pointwise convolutions: small K) and on transformer / large shapes. On a shared,
// loaded machine wall time is meaningless; process CPU time of a fixed workload is not
// (time slices lost to other jobs are not counted). Compare two builds by running this
// script alternately with each (TFJS_QUANT_ADDON=...), e.g.
//
//   for i in 1 2; do for b in base new; do
//     TFJS_QUANT_ADDON=/tmp/$b/tfjs_quant.node npx tsx bench/gemm/cpu.ts --tag $b; done; done
//
// Columns: µs of CPU per call (median of rounds) for 1-thread int8-out GEMM ("int8"),
// 2-thread int8-out GEMM (total CPU of both threads: "2T cpu"; ≈ int8 when the split adds
// no work), and 1-thread dynamic float-in/float-out GEMM ("dyn").
import { dynamicGemm, gemm, packWeights } from '../../src/kernels/gemm.js';
import { rand8 } from './data.js';
import { median } from '../../src/report/table.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const TAG = opt('--tag', 'build');
const REPS = Number(opt('--reps', '7'));
const BUDGET = Number(opt('--budget', '0.04')); // CPU seconds per function per round
const ONLY = opt('--only', ''); // e.g. --only 3136x576x64 (one shape)

// MobileNetV2 (224×224) pointwise convolutions as GEMMs (M = H·W, K = Cin, N = Cout), the
// stem convolution (im2col, K = 27), then transformer / large shapes.
const SHAPES: [number, number, number][] = [
  [12544, 27, 32],
  [12544, 32, 16],
  [12544, 16, 96],
  [3136, 96, 24],
  [3136, 24, 144],
  [3136, 144, 24],
  [784, 144, 32],
  [784, 32, 192],
  [196, 192, 64],
  [196, 64, 384],
  [196, 384, 96],
  [49, 960, 320],
  [1, 768, 768],
  [1, 4096, 4096],
  [16, 768, 3072],
  [128, 768, 768],
  [512, 1024, 1024],
  [3136, 576, 64],
  [784, 1152, 128],
];

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Median CPU and wall seconds per call of each function, timed in interleaved rounds. */
function timeMany(fns: (() => void)[]): { cpu: number; wall: number }[] {
  const inner = fns.map((fn) => {
    fn();
    const c0 = cpuNow();
    fn();
    return Math.max(1, Math.round(BUDGET / Math.max(1e-6, cpuNow() - c0)));
  });
  const cpu: number[][] = fns.map(() => []),
    wall: number[][] = fns.map(() => []);
  for (let r = 0; r < REPS; r++) {
    fns.forEach((fn, f) => {
      const c0 = cpuNow(),
        t0 = performance.now();
      for (let i = 0; i < inner[f]; i++) fn();
      cpu[f].push((cpuNow() - c0) / inner[f]);
      wall[f].push((performance.now() - t0) / 1000 / inner[f]);
    });
  }
  return fns.map((_, f) => ({ cpu: median(cpu[f]), wall: median(wall[f]) }));
}

console.log(['tag', 'M', 'K', 'N', 'int8 µs', 'int8 GOPS', '2T cpu µs', '2T wall µs', 'dyn µs', 'dyn GOPS'].join('\t'));
for (const [m, k, n] of SHAPES) {
  if (ONLY && ONLY !== `${m}x${k}x${n}`) continue;
  const ops = 2 * m * k * n;
  const a = rand8(m * k, 0, 255, Uint8Array) as Uint8Array;
  const b = rand8(k * n, -127, 127, Int8Array) as Int8Array;
  const x = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i) * 3);
  const p = packWeights(b, { k, n, isa: 'avx2' });
  const out = new Int8Array(m * n),
    fout = new Float32Array(m * n);
  const o = { m, aZeroPoint: 3, output: 'int8' as const, multiplier: 0.001, outZeroPoint: 0, out };
  const o1 = { ...o, threads: 1 },
    o2 = { ...o, threads: 2 };
  const od = { m, wScales: new Float32Array(n).fill(0.01), out: fout, threads: 1 };
  const [t1, t2, td] = timeMany([() => gemm(a, p, o1), () => gemm(a, p, o2), () => dynamicGemm(x, p, od)]);
  p.dispose();
  console.log(
    [
      TAG,
      m,
      k,
      n,
      (t1.cpu * 1e6).toFixed(1),
      (ops / t1.cpu / 1e9).toFixed(1),
      (t2.cpu * 1e6).toFixed(1),
      (t2.wall * 1e6).toFixed(1),
      (td.cpu * 1e6).toFixed(1),
      (ops / td.cpu / 1e9).toFixed(1),
    ].join('\t'),
  );
}
