// RESULTS-zoo.md and RESULTS-zoo.json: a header naming the machine, ISA, float backend and
// commit; the summary against the targets (summary.ts), published and built models apart; one
// table per mode with one row per model; per-output figures in a details block.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { cpuSpeedup, measured, minCosine, speedup, speedupRange, summaryLines } from './summary.js';
import { ZOO_MODES, type ModeRow, type ModelRow, type ZooMode } from './row.js';

interface RunMeta {
  started: Date;
  command: string;
  modes: readonly ZooMode[];
  note?: string;
  version: string;
  /** What the image inputs were (run.ts --pictures). */
  pictures: 'synthetic' | 'photos';
}

// null: a NaN or infinity that went through JSON.
const f = (v: number | null | undefined, d: number) =>
  v === undefined ? '—' : v === null || !Number.isFinite(v) ? 'NaN/∞' : v.toFixed(d);
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (s: string | undefined, n = 140) => (s === undefined ? '' : s.length > n ? `${s.slice(0, n)}…` : s);

/** The commits of the code measured (src/, native/) and of the harness, as `git log` names them. */
export function codeVersion(): string {
  const last = (paths: string[]) =>
    execFileSync('git', ['log', '-1', '--format=%h', '--', ...paths], { encoding: 'utf8' }).trim() || 'uncommitted';
  return `product code (src/, native/) at ${last(['src', 'native'])}, harness (bench/zoo) at ${last(['bench/zoo'])}`;
}

function note(m: ModelRow, r: ModeRow): string {
  if (r.convert.error) return `convert: ${short(r.convert.error)}`;
  if (r.measure?.error) return `session: ${short(r.measure.error)}`;
  const renamed = r.measure?.outputs?.filter((o) => o.matchedBy === 'position').length ?? 0;
  const parts: string[] = [];
  if (renamed) parts.push(`${renamed} output(s) under other names`);
  const nearZero = r.measure?.outputs?.filter((o) => o.nearZeroReference).map((o) => o.reference) ?? [];
  if (nearZero.length) parts.push(`reference all but zero on these inputs (not scored): ${nearZero.join(', ')}`);
  if (r.measure?.flops?.notNative.length) parts.push(`tfjs: ${short(r.measure.flops.notNative[0], 100)}`);
  if (!m.reference.backend) parts.push(`no float reference: ${short(m.reference.error)}`);
  return parts.join('; ');
}

function modeTable(rows: ModelRow[], mode: ZooMode): string[] {
  const out = [
    '| model | loads | convert | native MACs | min cosine | max abs err (outputs < 16 values) | top-1 | size × vs f32 | size × vs files | speed-up (wall) | speed-up (CPU) | float ref | notes |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const m of rows) {
    const r = m.modes.find((x) => x.mode === mode);
    if (!r) continue;
    const top = r.measure?.outputs?.map((o) => o.top1).filter((v): v is number => v !== undefined);
    const small = r.measure?.outputs?.filter((o) => o.cosine === undefined).map((o) => o.maxAbsError);
    const w = r.convert.writtenBytes;
    const sx = (v: number | undefined, range?: [number, number]) =>
      v === undefined ? '—' : `${f(v, 2)}×${range ? ` (${f(range[0], 1)}–${f(range[1], 1)})` : ''}`;
    out.push(
      `| ${cell(m.id)} | ${m.inspect.ok ? 'yes' : 'no'} | ${r.convert.status} | ${r.measure?.flops?.share === undefined ? '—' : `${(100 * r.measure.flops.share).toFixed(1)}%`} | ${measured(r) ? f(minCosine(r), 4) : '—'} | ${measured(r) && small?.length ? f(Math.max(...small), 4) : '—'} | ${top?.length ? `${(100 * Math.min(...top)).toFixed(0)}%` : '—'} | ${w ? `${(m.float32Bytes / w).toFixed(2)}×` : '—'} | ${w ? `${(m.inputBytes / w).toFixed(2)}×` : '—'} | ${measured(r) ? sx(speedup(m, r), speedupRange(r, 'wall')) : '—'} | ${measured(r) ? sx(cpuSpeedup(m, r), speedupRange(r, 'cpu')) : '—'} | ${m.reference.backend ?? 'none'} | ${cell(note(m, r))} |`,
    );
  }
  return out;
}

function outputDetails(rows: ModelRow[], mode: ZooMode): string[] {
  const out = [
    '<details><summary>per-output figures</summary>',
    '',
    '| model | output (reference → session) | values | cosine | max abs err | top-1 |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const m of rows) {
    const r = m.modes.find((x) => x.mode === mode);
    for (const o of r?.measure?.outputs ?? []) {
      const name = o.matchedBy === 'name' ? o.reference : `${o.reference} → ${o.session ?? '(none)'}`;
      out.push(
        `| ${cell(m.id)} | ${cell(name + (o.sizeMismatch ? ` (${o.sizeMismatch})` : '') + (o.discrete ? ' (discrete: after a selection)' : ''))} | ${o.size} | ${f(o.cosine, 5)} | ${f(o.maxAbsError, 4)} | ${o.top1 === undefined ? '—' : `${(100 * o.top1).toFixed(0)}%`} |`,
      );
    }
  }
  out.push('', '</details>');
  return out;
}

export function writeResults(mdPath: string, jsonPath: string, rows: ModelRow[], meta: RunMeta): void {
  rows = [...rows].sort((a, b) =>
    a.origin === b.origin ? a.id.localeCompare(b.id) : a.origin === 'published' ? -1 : 1,
  );
  const info = cpuInfo();
  // Every mode some row has (a resumed run may add modes to rows of an earlier one).
  const modes = ZOO_MODES.filter((m) => meta.modes.includes(m) || rows.some((r) => r.modes.some((x) => x.mode === m)));
  const published = rows.filter((r) => r.origin === 'published');
  const built = rows.filter((r) => r.origin === 'built');
  const md: string[] = [
    '# The model zoo: load, convert, run, compare with float (bench/zoo)',
    '',
    `Run started ${meta.started.toISOString().replace('T', ' ').slice(0, 16)} UTC, ${meta.version}; ${meta.command}.`,
    `Machine: ${info.brand || info.vendor}, ${info.availableCores} cores (shared with other jobs: wall times are noisy, CPU-time speed-ups are steadier), int8 kernels ${getIsa()}.`,
    'Session: InferenceSession on the files written by `tfjs-quant convert`, 1 thread. Float reference: the original files in stock TF.js (`tf.loadGraphModel` + `executeAsync` / `tf.loadLayersModel` + `predict`) on tfjs-backend-wasm (SIMD, single-threaded in Node), or on tfjs-backend-cpu when the wasm backend cannot run the model (column "float ref"); each engine timed alone in its own process, steady-state median.',
    meta.pictures === 'photos'
      ? "Inputs: crops of real photographs of people for the published image models (bench/zoo/photos.ts: the six demo photos of @vladmandic/face-api, calibration from photos 1–3, evaluation from photos 4–6), synthetic pictures for the built ones (bench/zoo/inputs.ts), in each model's pixel range. Columns: bench/zoo/README.md."
      : "Inputs: image-like pictures (bench/zoo/inputs.ts) in each model's pixel range; calibration (int8) and evaluation sets from disjoint seeds. Columns: bench/zoo/README.md.",
    ...(meta.note ? ['', `**${meta.note}**`] : []),
    '',
    '## Summary: published models',
    '',
    ...summaryLines(published, modes),
    '',
  ];
  if (built.length) md.push('## Summary: models built here (bench/zoo/built)', '', ...summaryLines(built, modes), '');
  for (const mode of modes) {
    md.push(`## ${mode}`, '', ...modeTable(rows, mode), '', ...outputDetails(rows, mode), '');
  }
  mkdirSync(dirname(mdPath), { recursive: true });
  writeFileSync(mdPath, md.join('\n'));
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        machine: { ...info, isa: getIsa() },
        started: meta.started.toISOString(),
        command: meta.command,
        note: meta.note,
        version: meta.version,
        pictures: meta.pictures,
        modes,
        rows,
      },
      null,
      1,
    ) + '\n',
  );
}
