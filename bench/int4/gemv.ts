// Quick int8 vs int4 GEMV/GEMM A/B: one thread, process CPU time, interleaved
// rounds, medians; prints GOPS and the int4/int8 ratio per shape and M. The full table (with
// dynamic and weight-only paths, two threads and the models) is bench/int4/run.ts.
//   npx tsx bench/int4/gemv.ts [--reps N] [--m 1,16,128] [--group 64] [--scales code8|f16|f32]
// --scales: how the int4 group scales are packed — 'code8' (default: double-quantized, what
// quantizeWeightInt4 makes), 'f16' (scaleBits 16) or 'f32' (arbitrary float32 scales).
import { loadavg } from 'node:os';
import { gemm, packWeights } from '../../src/kernels/gemm.js';
import { gemmInt4, packInt4Weights } from '../../src/kernels/int4.js';
import { decodeScale, float16Scale, superScaleFor } from '../../src/quant/int4.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);
const REPS = Number(opt('--reps', '15'));
const MS = opt('--m', '1,16,128').split(',').map(Number);
const G = Number(opt('--group', '64'));
const SCALES = opt('--scales', 'code8');
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

console.log(`int4 scales ${SCALES}, group ${G}; 1 thread, process CPU time, median of ${REPS} interleaved rounds`);
console.log(
  `load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const [k, n] of [
  [4096, 4096],
  [768, 3072],
] as const) {
  const r = lcg(k + n);
  const w8 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127);
  const w4 = Int8Array.from({ length: k * n }, () => Math.floor(r() * 15) - 7);
  const p8 = packWeights(w8, { k, n });
  const groups = Math.ceil(k / G);
  const scales = Float32Array.from({ length: groups * n }, () =>
    (SCALES === 'f16' ? float16Scale : Math.fround)(0.01 + r() * 0.01),
  );
  if (SCALES === 'code8') {
    const d = superScaleFor(0.02);
    for (let i = 0; i < scales.length; i++) scales[i] = decodeScale(128 + Math.floor(r() * 128), d);
  }
  const p4 = packInt4Weights(w4, { k, n, groupSize: G, scales });
  const wScales = Float32Array.from({ length: n }, () => 0.01);
  for (const m of MS) {
    const a = Uint8Array.from({ length: m * k }, () => Math.floor(r() * 256));
    const out = new Float32Array(m * n);
    const fns = [
      () => gemm(a, p8, { m, aZeroPoint: 128, output: 'float32', aScale: 0.02, wScales, out, threads: 1 }),
      () => gemmInt4(a, p4, { m, aZeroPoint: 128, aScale: 0.02, out, threads: 1 }),
    ];
    const calls = fns.map((f) => {
      f();
      const t0 = performance.now();
      f();
      return Math.max(1, Math.round(0.02 / Math.max(1e-6, (performance.now() - t0) / 1000)));
    });
    const t: number[][] = [[], []];
    for (let rep = 0; rep < REPS; rep++) {
      fns.forEach((f, i) => {
        const t0 = cpuNow();
        for (let c = 0; c < calls[i]!; c++) f();
        t[i]!.push((cpuNow() - t0) / calls[i]!);
      });
    }
    const g8 = (2 * m * k * n) / median(t[0]!) / 1e9,
      g4 = (2 * m * k * n) / median(t[1]!) / 1e9;
    const best = Math.min(...t[0]!) / Math.min(...t[1]!);
    console.log(
      `${k}x${n} M=${m}: int8 ${g8.toFixed(1)} GOPS  int4 ${g4.toFixed(1)} GOPS  int4/int8 ${(g4 / g8).toFixed(2)} (best rounds ${best.toFixed(2)})`,
    );
  }
  p8.dispose();
  p4.dispose();
}
console.log(
  `load average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
