// Step time by op kind in int8-converted published models (session.profile, one thread),
// before/after two addons, each in its own child process, alternated over rounds:
//
//   npx tsx bench/ops/dw-deconv-models.ts --before OLD.node [--after NEW.node] [--rounds 3]
//        [--kinds dw_i8,dw_f32,deconv_i8] DIR...
//
// DIR: a converted model's folder (tfjs-quant convert --mode int8). Prints, per model and
// addon, the median over rounds of the per-run wall time of the steps of each kind (default:
// dw_i8, dw_f32, deconv_i8) and of every step, with the min–max over rounds.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const KINDS = (arg('--kinds') ?? 'dw_i8,dw_f32,deconv_i8').split(',');

async function child(dir: string): Promise<void> {
  const { InferenceSession } = await import('../../src/runtime/index.js');
  const { setThreads } = await import('../../src/native/cpu.js');
  setThreads(1);
  const s = await InferenceSession.create(dir, { threads: 1 });
  const inputs: Record<string, { data: Float32Array | Int32Array | Uint8Array; shape: number[] }> = {};
  for (const i of s.inputs) {
    const shape = i.shape.map((d) => (d < 0 ? 1 : d));
    const n = shape.reduce((a, b) => a * b, 1);
    // A picture-like input in the model's own dtype (an int32 image: pixel values).
    const wave = (k: number) => 0.5 + 0.4 * Math.sin(k * 0.37);
    const data =
      i.dtype === 'int32'
        ? Int32Array.from({ length: n }, (_, k) => Math.round(255 * wave(k)))
        : i.dtype === 'uint8' || i.dtype === 'int8' || i.dtype === 'bool'
          ? Uint8Array.from({ length: n }, (_, k) => Math.round((i.dtype === 'bool' ? 1 : 255) * wave(k)))
          : Float32Array.from({ length: n }, (_, k) => wave(k));
    inputs[i.name] = { data, shape } as (typeof inputs)[string];
  }
  for (let i = 0; i < 3; i++) await s.run(inputs);
  const runs = 20;
  s.profile(true);
  for (let i = 0; i < runs; i++) await s.run(inputs);
  const prof = s.profile(false);
  const out: Record<string, number> = { all: 0 };
  for (const k of KINDS) out[k] = 0;
  for (const p of prof) {
    out.all! += p.seconds;
    if (KINDS.includes(p.op)) out[p.op]! += p.seconds;
  }
  for (const k of Object.keys(out)) out[k] = (out[k]! / runs) * 1000;
  s.dispose();
  process.stdout.write(JSON.stringify(out));
}

function driver(): void {
  const dirs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const addons: [string, string | undefined][] = [];
  if (arg('--before')) addons.push(['before', arg('--before')]);
  addons.push(['after', arg('--after')]);
  const rounds = Number(arg('--rounds') ?? 3);
  const self = fileURLToPath(import.meta.url);
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(`| model | addon | ${KINDS.map((k) => `${k} ms/run`).join(' | ')} | all steps ms/run |`);
  console.log(`| --- | --- | ${KINDS.map(() => '---').join(' | ')} | --- |`);
  for (const dir of dirs) {
    const res: Record<string, Record<string, number[]>> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [label, path] of r % 2 ? [...addons].reverse() : addons) {
        const env = { ...process.env, ...(path ? { TFJS_QUANT_ADDON: path } : {}) };
        const p = spawnSync(process.execPath, ['--import', 'tsx', self, '--kinds', KINDS.join(','), '--child', dir], {
          env,
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        });
        if (p.status !== 0) throw new Error(`child (${label}, ${dir}) failed: ${p.stderr}`);
        for (const [k, v] of Object.entries(JSON.parse(p.stdout) as Record<string, number>))
          ((res[label] ??= {})[k] ??= []).push(v);
      }
    }
    for (const [label] of addons) {
      const cell = (k: string) => {
        const a = res[label]![k]!;
        return `${med(a).toFixed(2)} (${Math.min(...a).toFixed(2)}–${Math.max(...a).toFixed(2)})`;
      };
      console.log(
        `| ${dir.split('/').filter(Boolean).pop()} | ${label} | ${KINDS.map(cell).join(' | ')} | ${cell('all')} |`,
      );
    }
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1]!);
else driver();
