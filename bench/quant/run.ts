// Throughput of the quantization kernels on every kernel path of this machine, side by side.
//   npx tsx bench/quant/run.ts [--repeats 7] [--sizes 65536,4194304] [--threads 1]
// GB/s counts bytes read + bytes written once. Each cell is the median over `repeats` rounds;
// within a round every path runs the same batch back to back, so ratios are measured under the
// same machine load. The default uses 1 thread so the paths compare per core; --threads 0
// uses the whole pool.
import { cpuInfo, getIsa, getThreads, setIsa, setThreads, supportedIsas } from '../../src/native/cpu.js';
import { dequantize, dynamicQuantizeU8, quantize, requantize } from '../../src/kernels/quantize.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/kernels/float16.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
const repeats = Number(arg('repeats', '7'));
const sizes = arg('sizes', '65536,4194304').split(',').map(Number);
const threadsArg = Number(arg('threads', '1'));

const isas = supportedIsas();
const prevIsa = getIsa(),
  prevThreads = getThreads();
if (threadsArg > 0) setThreads(threadsArg);

interface Case {
  name: string;
  bytes: number;
  run: () => void;
}

function cases(n: number): Case[] {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = Float32Array.from({ length: n }, () => (rnd() - 0.4) * 6);
  const C = 64;
  const scales = Float32Array.from({ length: C }, () => 0.01 + rnd() * 0.05);
  const zps = new Int32Array(C);
  const q8 = quantize(x, 'int8', { scale: 0.05, zeroPoint: 0 });
  const acc = Int32Array.from(q8, (v, i) => v * 1000 + (i % 777));
  const h = float32ToFloat16(x);
  const outI8 = new Int8Array(n),
    outF = new Float32Array(n),
    outH = new Uint16Array(n);
  const k = 1024,
    m = n / k;
  return [
    {
      name: 'quantize f32→i8 per-tensor',
      bytes: 5 * n,
      run: () => quantize(x, 'int8', { scale: 0.05, zeroPoint: 3 }, { out: outI8 }),
    },
    {
      name: `quantize f32→i8 per-channel [${n / C},${C}] axis 1`,
      bytes: 5 * n,
      run: () =>
        quantize(
          x,
          'int8',
          { scale: scales, zeroPoint: zps },
          { shape: [n / C, C], axis: 1, out: outI8, narrowRange: true },
        ),
    },
    {
      name: 'dequantize i8→f32',
      bytes: 5 * n,
      run: () => dequantize(q8, { scale: 0.05, zeroPoint: 0 }, { out: outF }),
    },
    {
      name: 'dequantize i32→f32',
      bytes: 8 * n,
      run: () => dequantize(acc, { scale: 1e-3, zeroPoint: 0 }, { out: outF }),
    },
    {
      name: `requantize i32→i8 per-channel [${n / C},${C}]`,
      bytes: 5 * n,
      run: () =>
        requantize(acc, 'int8', { multiplier: scales, outZeroPoint: -5 }, { shape: [n / C, C], axis: 1, out: outI8 }),
    },
    { name: 'float32→float16', bytes: 6 * n, run: () => float32ToFloat16(x, outH) },
    { name: 'float16→float32', bytes: 6 * n, run: () => float16ToFloat32(h, outF) },
    { name: `dynamicQuantizeU8 per-row ${m}×${k}`, bytes: 5 * n, run: () => dynamicQuantizeU8(x, m, k, true) },
    { name: `dynamicQuantizeU8 per-tensor ${m}×${k}`, bytes: 5 * n, run: () => dynamicQuantizeU8(x, m, k, false) },
  ];
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Calls per timed batch so one batch takes ~20 ms on the ref path. */
function calibrate(c: Case): number {
  setIsa('ref');
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) c.run();
    const dt = performance.now() - t0;
    if (dt > 20 || reps > 1 << 16) return reps;
    reps *= 2;
  }
}

const info = cpuInfo();
console.log(`# tfjs-quant quantization kernels`);
console.log(`machine: ${info.brand} (${info.availableCores} cores available), node ${process.version}`);
console.log(`paths: ${isas.join(', ')}; threads: ${getThreads()}; repeats: ${repeats} (median)`);
console.log('note: a shared machine gives noisy timings; ratios are measured side by side in each round.\n');

const header = ['kernel', 'n', ...isas.map((i) => `${i} GB/s`), ...isas.slice(1).map((i) => `${i}/ref`)];
const rows: string[][] = [];
for (const n of sizes) {
  for (const c of cases(n)) {
    const reps = calibrate(c);
    const times: Record<string, number[]> = Object.fromEntries(isas.map((i) => [i, []]));
    for (let r = 0; r < repeats; r++) {
      for (const isa of isas) {
        setIsa(isa);
        c.run(); // warm
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) c.run();
        times[isa].push((performance.now() - t0) / reps);
      }
    }
    const gbs = isas.map((i) => c.bytes / (median(times[i]) * 1e-3) / 1e9);
    rows.push([
      c.name,
      String(n),
      ...gbs.map((g) => g.toFixed(2)),
      ...gbs.slice(1).map((g) => `${(g / gbs[0]).toFixed(1)}×`),
    ]);
    process.stderr.write('.');
  }
}
process.stderr.write('\n');
const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
const line = (r: string[]) =>
  `| ${r.map((v, j) => (j < 1 ? v.padEnd(widths[j]) : v.padStart(widths[j]))).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w, j) => (j < 1 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
for (const r of rows) console.log(line(r));

setIsa(prevIsa);
setThreads(prevThreads);
