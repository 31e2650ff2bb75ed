// Operator-kernel throughput for MobileNet-like shapes: native ref vs AVX2 (int8) vs the tfjs
// float backend (wasm in Node without tfjs-node), median of repeats. Writes
// bench/ops/RESULTS-ops.md.   Run: npx tsx bench/ops/run.ts [--quick]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import {
  applyLut,
  avgPool,
  binary,
  buildLut,
  depthwiseConv2d,
  depthwiseConv2dInt8,
  meanHW,
  softmax,
} from '../../src/kernels/ops.js';
import { cpuInfo, getIsa, getThreads, setIsa, setThreads, supportedIsas } from '../../src/native/cpu.js';

const quick = process.argv.includes('--quick');
const REPEATS = quick ? 5 : 15;

function median(fn: () => void, minMs = quick ? 20 : 60): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    let iters = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      fn();
      iters++;
      t = performance.now();
    } while (t - t0 < minMs / REPEATS && iters < 1000);
    times.push((t - t0) / iters);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function rnd(n: number, seed: number): Int8Array {
  const a = new Int8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = (s >>> 16) & 255;
  }
  return a;
}

interface Row {
  kernel: string;
  shape: string;
  work: number;
  unit: string;
  ms: Record<string, number>;
}
const rows: Row[] = [];
const isas = supportedIsas();
const threadsAll = getThreads();

function nativeTimes(fn: () => void): Record<string, number> {
  const out: Record<string, number> = {};
  const prev = getIsa();
  for (const isa of isas) {
    setIsa(isa);
    setThreads(1);
    out[`${isa} 1T`] = median(fn);
    if (threadsAll > 1) {
      setThreads(threadsAll);
      out[`${isa} ${threadsAll}T`] = median(fn);
    }
  }
  setIsa(prev);
  setThreads(threadsAll);
  return out;
}

async function main(): Promise<void> {
  const backend = await initFloatBackend();
  const p = { scale: 0.05, zeroPoint: -3 };

  for (const [h, c, s] of [
    [112, 32, 1],
    [112, 64, 2],
    [56, 128, 1],
    [28, 256, 1],
    [14, 512, 1],
    [7, 1024, 1],
  ] as const) {
    const xs = [1, h, h, c],
      ks = [3, 3, c, 1];
    const x = rnd(h * h * c, 1),
      w = rnd(9 * c, 2).map((v) => Math.max(v, -127)) as Int8Array;
    const bias = new Int32Array(c).fill(100);
    const args = {
      x,
      xShape: xs,
      xParams: p,
      filter: w,
      filterShape: ks,
      filterScales: 0.01,
      bias,
      yParams: { scale: 0.1, zeroPoint: 0 },
      activation: 'relu6' as const,
    };
    const opts = { strides: s, padding: 'same' as const };
    const ms = nativeTimes(() => depthwiseConv2dInt8(args, opts));
    const xf = Float32Array.from(x, (v) => v * 0.05),
      wf = Float32Array.from(w, (v) => v * 0.01);
    ms['native f32 (ref)'] = median(() => depthwiseConv2d(xf, xs, wf, ks, { ...opts, activation: 'relu6' }));
    const xt = tf.tensor4d(xf, xs as never),
      wt = tf.tensor4d(wf, ks as never);
    ms[`tfjs ${backend} f32`] = median(() => {
      const y = tf.relu6(tf.depthwiseConv2d(xt, wt, s, 'same'));
      y.dataSync();
      y.dispose();
    });
    const oh = Math.ceil(h / s);
    rows.push({
      kernel: 'depthwise 3×3 + relu6',
      shape: `${h}×${h}×${c} s${s}`,
      work: oh * oh * c * 9,
      unit: 'MAC',
      ms,
    });
  }

  {
    const xs = [1, 7, 7, 1024],
      x = rnd(7 * 7 * 1024, 3);
    const ms = nativeTimes(() => avgPool(x, xs, { filterSize: 7, padding: 'valid', xParams: p }));
    const msMean = nativeTimes(() => meanHW(x, xs, { xParams: p }));
    const xt = tf.tensor4d(Float32Array.from(x), xs as never);
    ms[`tfjs ${backend} f32`] = median(() => {
      const y = tf.avgPool(xt, 7, 1, 'valid');
      y.dataSync();
      y.dispose();
    });
    rows.push({ kernel: 'avgPool 7×7 (global)', shape: '7×7×1024', work: 7 * 7 * 1024, unit: 'elem', ms });
    rows.push({ kernel: 'mean over H,W', shape: '7×7×1024', work: 7 * 7 * 1024, unit: 'elem', ms: msMean });
  }

  {
    const s = [1, 56, 56, 24],
      n = 56 * 56 * 24;
    const a = rnd(n, 4),
      b = rnd(n, 5);
    const q = { a: p, b: { scale: 0.07, zeroPoint: 5 }, y: { scale: 0.1, zeroPoint: 1 } };
    const ms = nativeTimes(() => binary('add', a, s, b, s, q));
    const at = tf.tensor(Float32Array.from(a), s),
      bt = tf.tensor(Float32Array.from(b), s);
    ms[`tfjs ${backend} f32`] = median(() => {
      const y = tf.add(at, bt);
      y.dataSync();
      y.dispose();
    });
    rows.push({ kernel: 'add (same shape)', shape: '56×56×24', work: n, unit: 'elem', ms });
    const bias = rnd(24, 6);
    const ms2 = nativeTimes(() => binary('mul', a, s, bias, [24], q));
    rows.push({ kernel: 'mul (channel broadcast)', shape: '56×56×24 · 24', work: n, unit: 'elem', ms: ms2 });
  }

  {
    const n = 56 * 56 * 144,
      x = rnd(n, 7);
    const table = buildLut('hardSwish', {
      x: { type: 'int8', ...p },
      y: { type: 'int8', scale: 0.05, zeroPoint: -100 },
    });
    const ms = nativeTimes(() => applyLut(table, x));
    const xt = tf.tensor1d(Float32Array.from(x));
    ms[`tfjs ${backend} f32 (sigmoid)`] = median(() => {
      const y = tf.sigmoid(xt);
      y.dataSync();
      y.dispose();
    });
    rows.push({ kernel: 'LUT activation (scalar table)', shape: '56×56×144', work: n, unit: 'elem', ms });
  }

  {
    const x = rnd(8 * 1001, 8);
    const ms = nativeTimes(() => softmax(x, [8, 1001], { xScale: 0.1 }));
    const xt = tf.tensor2d(Float32Array.from(x), [8, 1001]);
    ms[`tfjs ${backend} f32`] = median(() => {
      const y = tf.softmax(xt);
      y.dataSync();
      y.dispose();
    });
    rows.push({ kernel: 'softmax int8', shape: '8×1001', work: 8 * 1001, unit: 'elem', ms });
  }

  const cols = [...new Set(rows.flatMap((r) => Object.keys(r.ms)))];
  const fmt = (r: Row, k: string) => {
    const t = r.ms[k];
    if (t === undefined) return '';
    const rate = r.work / (t * 1e-3);
    const u = r.unit === 'MAC' ? `${(rate / 1e9).toFixed(2)} GMAC/s` : `${(rate / 1e9).toFixed(2)} G/s`;
    return `${t < 1 ? t.toFixed(3) : t.toFixed(2)} ms (${u})`;
  };
  const info = cpuInfo();
  const lines = [
    '# Operator kernels: throughput',
    '',
    `Generated by \`npx tsx bench/ops/run.ts${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}.`,
    `CPU: ${info.brand} (${info.availableCores} cores available); ISA paths: ${isas.join(', ')}; float backend: ${describeFloatBackend(backend)}.`,
    `Median of ${REPEATS} repeats per cell; “1T” = one thread, “${threadsAll}T” = the pool. Times include the TypeScript`,
    'validation and output allocation (the runtime calls the C++ kernels directly, without either).',
    'The tfjs column is the float32 op on the same shape (a reference point, not the same arithmetic).',
    '',
    `| kernel | shape | ${cols.join(' | ')} |`,
    `| --- | --- | ${cols.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.kernel} | ${r.shape} | ${cols.map((k) => fmt(r, k)).join(' | ')} |`),
    '',
  ];
  const out = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-ops.md');
  writeFileSync(out, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
