// Depthwise (int8 and float32) and int8 transposed-convolution steps of the native runtime on
// the shapes of published detectors (BlazeFace, MobileNet-style blocks, a palm detector's
// upsampling), one thread, before/after two addons:
//
//   npx tsx bench/ops/dw-deconv.ts --before /path/old.node [--after /path/new.node] [--rounds 5] [--only SUBSTR]
//
// The driver runs each addon in its own child process (TFJS_QUANT_ADDON), alternating
// before/after for --rounds rounds; a child builds a one-step RuntimeSession per shape
// (weights packed at load, as in a model) and times its runs in process CPU time (which
// includes the fixed cost of a run call) and, from session.profile, the step's wall time.
// The table gives the median over the rounds and the spread (min–max of the per-round
// medians; each round's value is the median of 7 batches of runs). --out FILE writes it there.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Shape {
  name: string;
  kind: 'dw_i8' | 'dw_f32' | 'deconv_i8';
  x: [number, number, number, number]; // dw: input; deconv: dy
  y: [number, number, number, number]; // output
  k: number;
  s: number;
  pad: 'same' | 'valid';
  macs: number;
}

function same(n: number, k: number, s: number): [number, number, number] {
  const o = Math.ceil(n / s),
    t = Math.max((o - 1) * s + k - n, 0);
  return [o, Math.floor(t / 2), t - Math.floor(t / 2)];
}

function dwShape(kind: 'dw_i8' | 'dw_f32', x: [number, number, number, number], k: number, s: number): Shape {
  const [oh] = same(x[1], k, s),
    [ow] = same(x[2], k, s);
  return {
    name: `${kind === 'dw_i8' ? 'depthwise int8' : 'depthwise f32'} ${x.join('×')} ${k}×${k} s${s} SAME`,
    kind,
    x,
    y: [x[0], oh, ow, x[3]],
    k,
    s,
    pad: 'same',
    macs: oh * ow * x[3] * k * k,
  };
}

const SHAPES: Shape[] = [];
for (const kind of ['dw_i8', 'dw_f32'] as const) {
  SHAPES.push(dwShape(kind, [1, 128, 128, 24], 3, 1));
  SHAPES.push(dwShape(kind, [1, 64, 64, 40], 3, 2));
  SHAPES.push(dwShape(kind, [1, 56, 56, 144], 3, 1));
  SHAPES.push(dwShape(kind, [1, 28, 28, 72], 5, 1));
}
// deconv: dy → y; the forward conv maps y → dy.
SHAPES.push({
  name: 'deconv int8 [1,16,16,256]→[1,32,32,256] k2 s2',
  kind: 'deconv_i8',
  x: [1, 16, 16, 256],
  y: [1, 32, 32, 256],
  k: 2,
  s: 2,
  pad: 'valid',
  macs: 16 * 16 * 256 * 4 * 256,
});
SHAPES.push({
  name: 'deconv int8 [1,8,8,128]→[1,16,16,64] k4 s2 SAME',
  kind: 'deconv_i8',
  x: [1, 8, 8, 128],
  y: [1, 16, 16, 64],
  k: 4,
  s: 2,
  pad: 'same',
  macs: 8 * 8 * 128 * 16 * 64,
});

function rnd(n: number, seed: number): Int8Array {
  const a = new Int8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = Math.max(-127, ((s >>> 16) & 255) - 128);
  }
  return a;
}

// ---------------------------------------------------------------- child: one addon

// --only SUBSTR: the shapes whose name contains SUBSTR.
function selected(): Shape[] {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? SHAPES.filter((s) => s.name.includes(process.argv[i + 1]!)) : SHAPES;
}

async function child(): Promise<void> {
  const { native } = await import('../../src/native/binding.js');
  const { getIsa, setThreads } = await import('../../src/native/cpu.js');
  const { makeStep } = await import('../../src/runtime/step-schema.js');
  setThreads(1);
  const out: Record<string, number> = {};
  for (const sh of selected()) {
    const dw = sh.kind !== 'deconv_i8';
    // geometry of the forward window: dw over x; deconv: the conv y → dy.
    const inp = dw ? sh.x : sh.y;
    const [, pt, pb] = sh.pad === 'same' ? same(inp[1], sh.k, sh.s) : [0, 0, 0];
    const [, pl, pr] = sh.pad === 'same' ? same(inp[2], sh.k, sh.s) : [0, 0, 0];
    const geom = [sh.k, sh.k, sh.s, sh.s, 1, 1, pt, pb, pl, pr];
    const ci = sh.y[3],
      cin = sh.x[3];
    const f32 = sh.kind === 'dw_f32';
    const wlen = dw ? sh.k * sh.k * cin : sh.k * sh.k * ci * cin;
    const w = f32 ? Float32Array.from(rnd(wlen, 2), (v) => v / 128) : rnd(wlen, 2);
    const step =
      sh.kind === 'dw_i8'
        ? makeStep('dw_i8', {
            inputs: [0],
            output: 1,
            ints: { geom, multiplier: 1, x_zero_point: -3, y_zero_point: 2, qmin: -128, qmax: 127 },
            weights: { w: 0, bias: 1, multipliers: 2 },
          })
        : sh.kind === 'dw_f32'
          ? makeStep('dw_f32', {
              inputs: [0],
              output: 1,
              ints: { geom, multiplier: 1, act: 2 },
              floats: { alpha: 0.2 },
              weights: { w: 0, bias: 1 },
            })
          : makeStep('deconv_i8', {
              inputs: [0],
              output: 1,
              ints: { geom, dy_zero_point: -3, y_zero_point: 2, qmin: -128, qmax: 127 },
              weights: { w: 0, bias: 1, multipliers: 2 },
            });
    const weights = f32
      ? [w, new Float32Array(ci).fill(0.1)]
      : [w, new Int32Array(ci).fill(100), new Float32Array(ci).fill(dw ? 0.004 : 0.0005)];
    const dt = f32 ? 0 : 1;
    const plan = {
      buffers: [
        { dtype: dt, shape: [-1, ...sh.x.slice(1)] },
        { dtype: dt, shape: [-1, ...sh.y.slice(1)] },
      ],
      weights,
      steps: [step],
      inputs: [0],
      outputs: [1],
    };
    const s = new (native().RuntimeSession)(plan as never, { threads: 1 });
    const xn = sh.x.reduce((a, b) => a * b);
    const x = f32 ? Float32Array.from(rnd(xn, 1), (v) => v / 64) : rnd(xn, 1);
    const run = () => s.run([x], { batch: 1 });
    // Warm up, then size the batch of runs to ~40 ms of CPU time; median of 7 batches.
    const t0 = process.cpuUsage();
    let warm = 0;
    while (warm < 3 || process.cpuUsage(t0).user + process.cpuUsage(t0).system < 20_000) {
      await run();
      warm++;
    }
    const per = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / warm;
    const iters = Math.max(3, Math.round(40_000 / per));
    const cpu: number[] = [],
      wall: number[] = [];
    for (let b = 0; b < 7; b++) {
      s.profile(true);
      const c0 = process.cpuUsage();
      for (let i = 0; i < iters; i++) await run();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / iters / 1000);
      wall.push((s.profile()[0]!.seconds / iters) * 1000);
    }
    const mid = (a: number[]) => [...a].sort((x, y) => x - y)[3]!;
    out[sh.name] = mid(cpu);
    out[`${sh.name}|wall`] = mid(wall);
    s.dispose();
  }
  process.stdout.write(JSON.stringify({ isa: getIsa(), ms: out }));
}

// ---------------------------------------------------------------- driver

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function driver(): void {
  const before = arg('--before');
  const after = arg('--after');
  const rounds = Number(arg('--rounds') ?? 5);
  const addons: [string, string | undefined][] = [];
  if (before) addons.push(['before', before]);
  addons.push(['after', after]);
  const self = fileURLToPath(import.meta.url);
  const res: Record<string, Record<string, number[]>> = {};
  let isa = '';
  for (let r = 0; r < rounds; r++) {
    for (const [label, path] of r % 2 ? [...addons].reverse() : addons) {
      const env = { ...process.env, ...(path ? { TFJS_QUANT_ADDON: path } : {}) };
      const only = process.argv.indexOf('--only');
      const p = spawnSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', ...(only >= 0 ? ['--only', process.argv[only + 1]!] : [])],
        { env, encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      if (p.status !== 0) throw new Error(`child (${label}) failed: ${p.stderr}`);
      const o = JSON.parse(p.stdout) as { isa: string; ms: Record<string, number> };
      isa = o.isa;
      for (const [k, v] of Object.entries(o.ms)) ((res[k] ??= {})[label] ??= []).push(v);
      process.stderr.write(`round ${r + 1}/${rounds} ${label} done\n`);
    }
  }
  const med = (a: number[]) => {
    const s = [...a].sort((x, y) => x - y);
    return s[Math.floor(s.length / 2)]!;
  };
  const fmt = (a: number[] | undefined, macs: number) => {
    if (!a) return '';
    const m = med(a);
    return `${m.toFixed(3)} ms (${Math.min(...a).toFixed(3)}–${Math.max(...a).toFixed(3)}), ${(macs / m / 1e6).toFixed(2)} GMAC/s`;
  };
  const lines = [
    `ISA path: ${isa} (ops kernels: AVX2; GEMM: ${isa}), one thread, process CPU time per run; ${rounds} rounds, before/after alternated, each addon in its own process.`,
    '',
    '| step | shape | before (CPU/run) | after (CPU/run) | speed-up | before (step wall) | after (step wall) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const sh of selected()) {
    const r = res[sh.name]!;
    const [kind, ...rest] = sh.name.split(' ');
    const label = kind === 'depthwise' ? `${kind} ${rest.shift()}` : `${kind} ${rest.shift()}`;
    const speed = r.before && r.after ? `${(med(r.before) / med(r.after)).toFixed(2)}×` : '';
    const w = res[`${sh.name}|wall`]!;
    const wfmt = (a: number[] | undefined) =>
      a ? `${med(a).toFixed(3)} ms (${Math.min(...a).toFixed(3)}–${Math.max(...a).toFixed(3)})` : '';
    lines.push(
      `| ${label} | ${rest.join(' ')} | ${fmt(r.before, sh.macs)} | ${fmt(r.after, sh.macs)} | ${speed} | ${wfmt(w.before)} | ${wfmt(w.after)} |`,
    );
  }
  const table = lines.join('\n');
  console.log(table);
  const out = arg('--out');
  if (out) writeFileSync(out, table + '\n');
}

if (process.argv.includes('--child')) await child();
else driver();
