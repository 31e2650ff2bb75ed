// bench/fidelity: converts published models with the CLI as a user would, then measures the
// WRITTEN files independently of the converter's own report: stock tfjs float (tfjs-backend-wasm,
// the cpu backend when wasm lacks a kernel of the model — decided by a trial run) against
// `InferenceSession.create(<written model.json>)`, on image-like evaluation inputs drawn from a
// seed the calibration never sees. Per model and mode: exit code, the report's status, min over
// outputs of the output score (cosine for outputs of ≥ 16 values, 1 − max |err| / max |ref| for
// smaller ones, max |ref| floored at 1), the worst output, the size ratio (input files / written files).
//
// Usage: tsx bench/fidelity/run.ts <models-dir> <work-dir> [modes=int8,dynamic4] [label] [-- extra convert flags]
//   <models-dir> holds one folder per model (model.json + its .bin).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, initFloatBackend } from '../../src/backend/float.js';
import { fileIO } from '../../src/io/files.js';
import { writeNpy } from '../../src/io/npy.js';
import { loadModel } from '../../src/model/load.js';
import { cpuInfo } from '../../src/native/cpu.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { syntheticInputs } from '../../src/quant/synthetic-inputs.js';
import { toMarkdown, type Table } from '../../src/report/table.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dash = process.argv.indexOf('--');
const args = dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2);
const extra = dash >= 0 ? process.argv.slice(dash + 1) : [];
const [modelsDir, work, modesArg = 'int8,dynamic4', label = 'run'] = args;
if (!modelsDir || !work)
  throw new Error('usage: tsx bench/fidelity/run.ts <models-dir> <work-dir> [modes] [label] [-- convert flags]');
const modes = modesArg.split(',');
const MODE_FLAGS: Record<string, string[]> = {
  int8: ['--mode', 'int8'],
  dynamic: ['--mode', 'dynamic'],
  dynamic4: ['--mode', 'dynamic', '--weight-bits', '4'],
  float16: ['--mode', 'float16'],
};
// Calibration and evaluation seeds differ from the converter's own so nothing here is tuned on them.
const CALIB_SEED = 101,
  EVAL_SEED = 202,
  CALIB_N = 8,
  EVAL_N = 6;

interface Row {
  model: string;
  mode: string;
  exit: number | null;
  status: string;
  minScore?: number;
  worst?: string;
  ratio?: number;
  reportScore?: string;
  seconds: number;
  refBackend?: string;
  note?: string;
}

function dirBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isFile())
    .reduce((a, f) => a + statSync(join(dir, f)).size, 0);
}

function score(ref: Float32Array[], got: Float32Array[]): number {
  let dot = 0,
    rr = 0,
    gg = 0,
    maxErr = 0,
    maxRef = 0;
  for (let s = 0; s < ref.length; s++) {
    const r = ref[s]!,
      q = got[s]!;
    for (let i = 0; i < r.length; i++) {
      dot += r[i]! * q[i]!;
      rr += r[i]! * r[i]!;
      gg += q[i]! * q[i]!;
      maxErr = Math.max(maxErr, Math.abs(r[i]! - q[i]!));
      maxRef = Math.max(maxRef, Math.abs(r[i]!));
      if (Number.isNaN(q[i]!) !== Number.isNaN(r[i]!)) return -Infinity;
    }
  }
  // Cosine unless the reference is all but zero (max |ref| < 1e-3): then the absolute error.
  if (ref[0]!.length >= 16 && maxRef >= 1e-3) return dot / Math.sqrt(rr * gg || 1);
  // A near-zero reference (a sigmoid score of 1e-9) makes a relative error meaningless: below
  // magnitude 1 the error is absolute.
  return 1 - maxErr / Math.max(maxRef, 1);
}

async function stockPredict(model: tf.GraphModel, x: Record<string, tf.Tensor>): Promise<Float32Array[]> {
  const names = model.outputs.map((o) => o.name);
  const out = await model.executeAsync(x, names);
  const list = Array.isArray(out) ? out : [out];
  const r = list.map((t) => Float32Array.from(t.dataSync() as ArrayLike<number>));
  list.forEach((t) => t.dispose());
  return r;
}

async function evaluate(src: string, written: string): Promise<{ min: number; worst: string; backend: string }> {
  const g = await loadModel(join(src, 'model.json'));
  const inputs = syntheticInputs(g, EVAL_N, EVAL_SEED);
  let backend = 'wasm';
  await initFloatBackend('wasm');
  let model = await tf.loadGraphModel(fileIO(join(src, 'model.json')));
  let refs: Float32Array[][];
  try {
    refs = [];
    for (const x of inputs) refs.push(await stockPredict(model, x));
  } catch {
    // wasm lacks a kernel of this model: the reference runs on the cpu backend.
    model.dispose();
    backend = 'cpu';
    await initFloatBackend('cpu');
    model = await tf.loadGraphModel(fileIO(join(src, 'model.json')));
    refs = [];
    for (const x of inputs) refs.push(await stockPredict(model, x));
  }
  const names = model.outputs.map((o) => o.name);
  model.dispose();
  const s = await InferenceSession.create(join(written, 'model.json'), { threads: 1 });
  const got: Float32Array[][] = [];
  for (const x of inputs) {
    const o = await s.run(x, { tensors: true });
    got.push(
      s.outputs.map((spec) => {
        const t = o[spec.name]!;
        const d = Float32Array.from(t.dataSync() as ArrayLike<number>);
        return d;
      }),
    );
    Object.values(o).forEach((t) => t.dispose());
  }
  s.dispose();
  inputs.forEach((r) => Object.values(r).forEach((t) => t.dispose()));
  let min = Infinity,
    worst = '';
  names.forEach((n, i) => {
    const v = score(
      refs.map((r) => r[i]!),
      got.map((r) => r[i]!),
    );
    if (v < min) {
      min = v;
      worst = `${n} (${refs[0]![i]!.length})`;
    }
  });
  return { min, worst, backend };
}

const rows: Row[] = [];
const models = readdirSync(modelsDir)
  .filter((d) => existsSync(join(modelsDir, d, 'model.json')))
  .sort();
for (const m of models) {
  const src = join(modelsDir, m);
  const calib = join(work, 'calibration', m);
  if (!existsSync(calib)) {
    mkdirSync(calib, { recursive: true });
    const g = await loadModel(join(src, 'model.json'));
    syntheticInputs(g, CALIB_N, CALIB_SEED).forEach((rec, i) => {
      const [name, t] = Object.entries(rec)[0]!;
      void name;
      writeFileSync(join(calib, `sample${i}.npy`), writeNpy(t.dataSync() as Float32Array | Int32Array, t.shape));
      t.dispose();
    });
  }
  for (const mode of modes) {
    const out = join(work, label, mode, m);
    const flags = [
      ...MODE_FLAGS[mode]!,
      ...(mode === 'int8' ? ['--calibration', calib, '--samples', String(CALIB_N)] : []),
      '--eval-samples',
      '4',
      '--runs',
      '3',
      ...extra,
    ];
    const t0 = performance.now();
    // FIDELITY_REUSE=1: measure conversions an earlier run wrote (e.g. by another version of the tool) again.
    const reuse = process.env.FIDELITY_REUSE === '1' && existsSync(join(out, 'report.json'));
    const r = reuse
      ? { status: null }
      : spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/entry.ts', 'convert', src, '-o', out, ...flags], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, CI: '1' },
        });
    const row: Row = { model: m, mode, exit: r.status, status: '?', seconds: (performance.now() - t0) / 1000 };
    try {
      const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
        models: { status: string; error?: string; fidelity?: { cosine?: number; minScore?: number } }[];
      };
      const mr = rep.models[0]!;
      row.status = mr.status;
      row.note = mr.error?.slice(0, 90);
      const f = mr.fidelity;
      row.reportScore = f ? (f.minScore ?? f.cosine)?.toFixed(4) : '—';
    } catch (e) {
      row.note = `no report: ${(e as Error).message.slice(0, 60)}`;
    }
    if (existsSync(join(out, 'model.json'))) {
      row.ratio = dirBytes(src) / dirBytes(out);
      try {
        const ev = await evaluate(src, out);
        row.minScore = ev.min;
        row.worst = ev.worst;
        row.refBackend = ev.backend;
      } catch (e) {
        row.note = `evaluation failed: ${(e as Error).message.slice(0, 90)}`;
      }
    }
    rows.push(row);
    console.error(
      `${m} ${mode}: exit ${row.exit} ${row.status} min ${row.minScore?.toFixed(4)} (${row.worst}) ratio ${row.ratio?.toFixed(2)} ${row.note ?? ''} ${row.seconds.toFixed(0)} s`,
    );
  }
}
const table: Table<Row> = {
  columns: [
    { header: 'model', value: (r) => r.model },
    { header: 'mode', value: (r) => r.mode },
    { header: 'exit', value: (r) => r.exit ?? 'signal' },
    { header: 'status', value: (r) => r.status },
    { header: 'min score (written files)', value: (r) => r.minScore, digits: 4 },
    { header: 'worst output (values)', value: (r) => r.worst },
    { header: 'report says', value: (r) => r.reportScore },
    {
      header: 'size ratio',
      value: (r) => (r.ratio === undefined ? undefined : `${r.ratio.toFixed(2)}×`),
      align: 'right',
    },
    { header: 'float ref', value: (r) => r.refBackend },
    { header: 'convert s', value: (r) => r.seconds, digits: 0 },
    { header: 'note', value: (r) => r.note ?? '' },
  ],
  rows,
};
const info = cpuInfo();
console.log(
  `${label}: ${models.length} models; ${info.brand || info.vendor}; reference stock tfjs float (backend per row), converted: InferenceSession on the written files, 1 thread; convert flags ${extra.join(' ') || '(defaults)'}\n`,
);
console.log(toMarkdown(table));
