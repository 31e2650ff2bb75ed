// bench/zoo/run.ts: every zoo model (bench/zoo/layout.ts and build.ts lay them out) through
// `tfjs-quant inspect`, `tfjs-quant convert` in each mode (spawned CLI, as a user runs it), and
// the written files run in InferenceSession (1 thread) against stock TF.js float on the same
// held-out image-like inputs. Each step is a child process with a time limit. Writes
// bench/zoo/RESULTS-zoo.md (tables and summary against the targets) and RESULTS-zoo.json.
//
//   npx tsx bench/zoo/run.ts [--models a,b] [--modes dynamic,int8,float16,int4] [--timeout 900]
//     [--jobs 1] [--eval 4] [--calib 8] [--runs 1000] [--seconds 4] [--cache DIR] [--work DIR]
//     [--out bench/zoo/RESULTS-zoo.md] [--resume] [--note TEXT] [--render] [--pictures photos]
// --pictures photos feeds the published image models crops of real photographs of people
// (bench/zoo/photos.ts: calibration from three photos, evaluation from three others) instead of
// the synthetic pictures (bench/zoo/inputs.ts); built models always get synthetic ones.
// --remeasure runs the float reference and the sessions of the written conversions again (timing
// on a quieter machine or after a kernel change; --rounds N alternates them N times and reports
// the median speed-up of the rounds with their range: a shared host's load moves a single
// measurement of either engine by up to 2×); --render rewrites the Markdown from the JSON
// without running anything; --merge a.json,b.json
// (with --render) first adds the rows and modes of other runs' JSON (runs split over processes);
// --note adds a line to the header (what the run is, e.g. a baseline before some change).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runChild } from './child.js';
import { sceneFor, writeInputSet } from './inputs.js';
import { photoCropFor, type PhotoSplit } from './photos.js';
import { defaultCache, readManifest, verifyModel, type ZooModel } from './manifest.js';
import type { MeasureResult } from './measure.js';
import type { ReferenceResult } from './reference.js';
import { codeVersion, writeResults } from './results.js';
import { MODE_FLAGS, ZOO_MODES, type ConvertOutcome, type ModeRow, type ModelRow, type ZooMode } from './row.js';
import { float32Bytes, folderBytes } from './sizes.js';
import { minCosine } from './summary.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values: opt } = parseArgs({
  options: {
    models: { type: 'string' },
    modes: { type: 'string' },
    timeout: { type: 'string', default: '900' },
    jobs: { type: 'string', default: '1' },
    eval: { type: 'string', default: '4' },
    calib: { type: 'string', default: '8' },
    guard: { type: 'string', default: '8' },
    // Timed runs per engine, within --seconds: a cap of 10 timed a millisecond model over 10 ms,
    // whose median one hiccup of a shared machine moved; 1000 lets --seconds decide.
    runs: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '4' },
    cache: { type: 'string' },
    work: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench/zoo/RESULTS-zoo.md') },
    resume: { type: 'boolean' },
    note: { type: 'string' },
    render: { type: 'boolean' },
    merge: { type: 'string' },
    remeasure: { type: 'boolean' },
    // --remeasure: float reference and sessions timed this many times, alternated (the
    // speed-up is the median of the rounds', with their range).
    rounds: { type: 'string', default: '1' },
    pictures: { type: 'string', default: 'synthetic' },
  },
});
const cache = resolve(opt.cache ?? defaultCache());
const work = resolve(opt.work ?? join(cache, '..', 'zoo-work'));
const modes = (opt.modes?.split(',') ?? [...ZOO_MODES]) as ZooMode[];
for (const m of modes)
  if (!ZOO_MODES.includes(m)) throw new Error(`--modes: '${m}' is not one of ${ZOO_MODES.join(', ')}`);
const rounds = Number(opt.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be an integer >= 1, got ${opt.rounds}`);
const timeout = Number(opt.timeout),
  jobs = Number(opt.jobs),
  evalCount = Number(opt.eval),
  calibCount = Number(opt.calib),
  guardCount = Number(opt.guard);
// The converter holds out this many of the calibration folder's samples for its own evaluation.
const CONVERTER_EVAL = 2;
const runs = opt.runs!,
  seconds = opt.seconds!;
if (opt.pictures !== 'synthetic' && opt.pictures !== 'photos')
  throw new Error(`--pictures must be 'synthetic' or 'photos', got '${opt.pictures}'`);
const outMd = resolve(opt.out!);
const outJson = outMd.replace(/\.md$/, '.json');

const manifest = readManifest(cache);
if (!manifest.models.length)
  throw new Error(`no zoo in ${cache}: run bench/zoo/layout.ts and bench/zoo/build.ts first`);
const wanted = opt.models?.split(',');
const models = manifest.models.filter((m) => !wanted || wanted.some((w) => m.id === w || m.id.endsWith(`/${w}`)));
if (wanted && models.length === 0) throw new Error(`--models: none of ${wanted.join(', ')} is in the zoo`);

const tsx = (script: string, args: string[]) => [process.execPath, ['--import', 'tsx', script, ...args]] as const;
const cli = (args: string[]) => tsx('src/cli/entry.ts', args);
const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';
const childError = (r: { timedOut: boolean; code: number | null; signal: string | null; stderrTail: string }) =>
  r.timedOut ? `timed out after ${timeout} s` : `exit ${r.code ?? r.signal}: ${lastLine(r.stderrTail).slice(0, 400)}`;
const log = (s: string) => process.stderr.write(`[zoo ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function convert(m: ZooModel, mode: ZooMode, modelJson: string, dir: string): Promise<ConvertOutcome> {
  const out = join(dir, `out-${mode}`);
  rmSync(out, { recursive: true, force: true });
  // Every mode gets the model's inputs as a user has them (int8 calibrates on them; the guard and
  // the converter's own evaluation use them in every mode): generated ones cannot know that a
  // ratio input must not be 0 or a recurrent state is a scalar.
  const flags = [
    ...MODE_FLAGS[mode],
    '--calibration',
    join(dir, 'calib'),
    '--samples',
    String(calibCount),
    '--guard-samples',
    String(guardCount),
  ];
  const [cmd, args] = cli([
    'convert',
    modelJson,
    '-o',
    out,
    ...flags,
    '--eval-samples',
    String(CONVERTER_EVAL),
    '--runs',
    '1',
  ]);
  const r = await runChild(cmd, args, { cwd: ROOT, timeoutSeconds: timeout, env: { ...process.env, CI: '1' } });
  const reportPath = join(out, 'report.json');
  if (r.timedOut || !existsSync(reportPath))
    return { status: r.timedOut ? 'timeout' : 'crashed', error: childError(r), seconds: r.seconds };
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
    models: { status: string; error?: string; output: string; fidelity?: { cosine?: number } }[];
  };
  const res = report.models[0];
  if (!res) return { status: 'crashed', error: 'the report lists no model', seconds: r.seconds };
  const c: ConvertOutcome = {
    status: res.status,
    error: res.error,
    seconds: r.seconds,
    reportedCosine: res.fidelity?.cosine,
  };
  if (res.status !== 'failed' && existsSync(join(res.output, 'model.json'))) {
    c.output = res.output;
    c.writtenBytes = folderBytes(res.output);
  }
  return c;
}

async function measure(m: ZooModel, out: string, dir: string): Promise<ModeRow['measure']> {
  const [cmd, args] = tsx('bench/zoo/measure.ts', [
    join(out, 'model.json'),
    join(dir, 'inputs.json'),
    join(dir, 'eval'),
    join(dir, 'ref'),
    m.task,
    runs,
    seconds,
  ]);
  const r = await runChild(cmd, args, { cwd: ROOT, timeoutSeconds: timeout });
  const line = lastLine(r.stdout);
  if (r.code === 0 && line.startsWith('{')) return { ...(JSON.parse(line) as MeasureResult), seconds: r.seconds };
  return { loads: false, error: childError(r), timedOut: r.timedOut, seconds: r.seconds };
}

async function inspectModel(m: ZooModel, modelJson: string): Promise<ModelRow['inspect']> {
  const [icmd, iargs] = cli(['inspect', modelJson, '--json']);
  const ins = await runChild(icmd, iargs, { cwd: ROOT, timeoutSeconds: timeout });
  const inspect = { ok: ins.code === 0, ...(ins.code === 0 ? {} : { error: childError(ins) }), seconds: ins.seconds };
  log(`${m.id}: inspect ${inspect.ok ? 'ok' : `FAILED (${inspect.error})`}`);
  return inspect;
}

async function floatReference(m: ZooModel, modelJson: string, dir: string): Promise<ModelRow['reference']> {
  const refDir = join(dir, 'ref');
  rmSync(refDir, { recursive: true, force: true });
  mkdirSync(refDir, { recursive: true });
  const [rcmd, rargs] = tsx('bench/zoo/reference.ts', [
    modelJson,
    m.format,
    join(dir, 'inputs.json'),
    join(dir, 'eval'),
    refDir,
    runs,
    seconds,
  ]);
  const rr = await runChild(rcmd, rargs, { cwd: ROOT, timeoutSeconds: timeout });
  const refFile = join(refDir, 'reference.json');
  const reference: ModelRow['reference'] = existsSync(refFile)
    ? { ...(JSON.parse(readFileSync(refFile, 'utf8')) as ReferenceResult), seconds: rr.seconds }
    : { rejected: {}, outputs: [], error: childError(rr), seconds: rr.seconds };
  log(
    `${m.id}: float reference ${reference.backend ? `on ${reference.backend}, ${reference.timing?.medianMs.toFixed(1)} ms` : `FAILED (${reference.error})`}`,
  );
  return reference;
}

/** Runs the steps of one model; with --resume, only the modes its previous row lacks. */
async function runModel(m: ZooModel, previous?: ModelRow): Promise<ModelRow> {
  const toRun = previous ? modes.filter((mode) => !previous.modes.some((x) => x.mode === mode)) : modes;
  const dir = join(work, m.id);
  const modelJson = join(cache, m.id, 'model.json');
  const bad = verifyModel(cache, m);
  if (bad) throw new Error(bad);
  rmSync(join(dir, 'calib'), { recursive: true, force: true });
  rmSync(join(dir, 'eval'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'inputs.json'), JSON.stringify(m.inputs));
  // Disjoint seeds: calibration and held-out evaluation never share a picture. The calibration
  // folder holds what the converter splits three ways: the samples that calibrate, the guard's
  // (apart from them), and its own held-out evaluation.
  const crop = pictures === 'photos' && m.origin === 'published' ? photoCropFor(m.task) : undefined;
  const photos = (split: PhotoSplit) => (crop ? { cache, crop, split } : undefined);
  const scene = sceneFor(m.task);
  writeInputSet(
    join(dir, 'calib'),
    m.inputs,
    calibCount + guardCount + CONVERTER_EVAL,
    1000,
    scene,
    photos('calibration'),
  );
  writeInputSet(join(dir, 'eval'), m.inputs, evalCount, 2000, scene, photos('evaluation'));

  // A resumed model keeps its inspect result and float reference (same seeded inputs, same files).
  const refDir = join(dir, 'ref');
  const reuse = previous?.reference.backend !== undefined && existsSync(join(refDir, 'reference.json'));
  const inspect = reuse ? previous!.inspect : await inspectModel(m, modelJson);
  const reference = reuse ? previous!.reference : await floatReference(m, modelJson, dir);

  const row: ModelRow = {
    id: m.id,
    origin: m.origin,
    source: m.source,
    format: m.format,
    family: m.family,
    task: m.task,
    constructs: m.constructs,
    inspect,
    reference,
    inputBytes: m.bytes,
    float32Bytes: float32Bytes(modelJson),
    modes: previous?.modes.filter((x) => !toRun.includes(x.mode)) ?? [],
  };
  for (const mode of toRun) {
    const c = await convert(m, mode, modelJson, dir);
    const mr: ModeRow = { mode, convert: c };
    if (c.output && reference.backend) mr.measure = await measure(m, c.output, dir);
    const cos = minCosine(mr);
    log(
      `${m.id} ${mode}: convert ${c.status}${c.error ? ` (${c.error.slice(0, 160)})` : ''}; session ${mr.measure ? (mr.measure.loads && !mr.measure.error ? `min cosine ${cos === undefined ? '—' : cos.toFixed(4)}, ${mr.measure.timing?.medianMs.toFixed(1)} ms` : `FAILED (${mr.measure.error?.slice(0, 160)})`) : 'not run'}`,
    );
    row.modes.push(mr);
  }
  row.modes.sort((a, b) => ZOO_MODES.indexOf(a.mode) - ZOO_MODES.indexOf(b.mode));
  return row;
}

interface SavedRun {
  rows: ModelRow[];
  started?: string;
  command?: string;
  note?: string;
  version?: string;
  pictures?: 'synthetic' | 'photos';
}
const saved: SavedRun | undefined = existsSync(outJson)
  ? (JSON.parse(readFileSync(outJson, 'utf8')) as SavedRun)
  : undefined;
const note = opt.note ?? saved?.note;
// A saved run keeps the pictures it was made with (before this flag existed: synthetic).
const pictures = (opt.render || opt.remeasure ? (saved?.pictures ?? 'synthetic') : opt.pictures) as
  'synthetic' | 'photos';
if (opt.resume && saved && (saved.pictures ?? 'synthetic') !== pictures)
  throw new Error(`--resume: ${outJson} was made with --pictures ${saved.pictures ?? 'synthetic'}, not ${pictures}`);
const version = (opt.render || opt.resume) && saved?.version ? saved.version : codeVersion();
if (opt.render) {
  if (!saved) throw new Error(`--render: ${outJson} does not exist`);
  for (const other of opt.merge?.split(',') ?? []) {
    const o = JSON.parse(readFileSync(other, 'utf8')) as SavedRun;
    for (const r of o.rows) {
      const mine = saved.rows.find((x) => x.id === r.id);
      if (!mine) saved.rows.push(r);
      else
        mine.modes = [...mine.modes.filter((m) => !r.modes.some((x) => x.mode === m.mode)), ...r.modes].sort(
          (a, b) => ZOO_MODES.indexOf(a.mode) - ZOO_MODES.indexOf(b.mode),
        );
    }
    saved.command = `${saved.command}, and ${o.command}`;
  }
  writeResults(outMd, outJson, saved.rows, {
    started: new Date(saved.started ?? Date.now()),
    command: saved.command ?? '',
    modes: [],
    note,
    version,
    pictures,
  });
  log(`rendered ${outMd} from ${outJson}`);
  process.exit(0);
}
if (opt.remeasure) {
  // Timing again on a quieter machine (or after a kernel change that does not touch the
  // converter): the float reference and the session of every written conversion are run again
  // on the same held-out inputs; conversions are not redone.
  if (!saved) throw new Error(`--remeasure: ${outJson} does not exist`);
  for (const m of models) {
    const row = saved.rows.find((r) => r.id === m.id);
    if (!row) continue;
    const dir = join(work, m.id);
    if (!existsSync(join(dir, 'eval'))) continue;
    const timed = (mr: ModeRow) =>
      modes.includes(mr.mode) &&
      !!mr.convert.output &&
      existsSync(join(mr.convert.output, 'model.json')) &&
      !!row.reference.backend;
    for (const mr of row.modes) if (modes.includes(mr.mode)) delete mr.speedupRounds;
    for (let round = 1; round <= rounds; round++) {
      row.reference = await floatReference(m, join(cache, m.id, 'model.json'), dir);
      for (const mr of row.modes) {
        if (!timed(mr)) continue;
        const again = await measure(m, mr.convert.output!, dir);
        mr.measure = again;
        const f = row.reference.timing,
          q = again?.timing;
        if (rounds > 1 && f && q)
          (mr.speedupRounds ??= []).push({ wall: f.medianMs / q.medianMs, cpu: f.cpuMsPerRun / q.cpuMsPerRun });
        log(
          `${m.id} ${mr.mode}: re-measured${rounds > 1 ? ` (round ${round} of ${rounds})` : ''}, ${q?.medianMs.toFixed(1) ?? '—'} ms vs float ${f?.medianMs.toFixed(1) ?? '—'} ms`,
        );
      }
    }
    writeResults(outMd, outJson, saved.rows, {
      started: new Date(saved.started ?? Date.now()),
      command: saved.command ?? '',
      modes: [],
      note,
      version: saved.version ?? version,
      pictures,
    });
  }
  saved.command = `${saved.command}; timing re-measured by \`npx tsx bench/zoo/run.ts ${process.argv.slice(2).join(' ')}\` at ${new Date().toISOString().slice(0, 16)} UTC with ${codeVersion()}`;
  writeResults(outMd, outJson, saved.rows, {
    started: new Date(saved.started ?? Date.now()),
    command: saved.command,
    modes: [],
    note,
    version: saved.version ?? version,
    pictures,
  });
  log(`re-measured: ${outMd}`);
  process.exit(0);
}
const previous: ModelRow[] = opt.resume && saved ? saved.rows : [];
const rows = new Map(previous.map((r) => [r.id, r]));
const todo = models.filter((m) => {
  const p = rows.get(m.id);
  return !p || modes.some((mode) => !p.modes.some((x) => x.mode === mode));
});
log(`${models.length} models selected, ${todo.length} to run; modes ${modes.join(', ')}; work ${work}`);
// A resumed run keeps the start time and command of the run it completes.
const started = opt.resume && saved?.started ? new Date(saved.started) : new Date();
const thisCommand = `\`npx tsx bench/zoo/run.ts ${process.argv.slice(2).join(' ')}\``;
const command = opt.resume && saved?.command ? `${saved.command}, then ${thisCommand}` : thisCommand;
let next = 0;
async function worker(): Promise<void> {
  while (next < todo.length) {
    const m = todo[next++]!;
    log(`(${next}/${todo.length}) ${m.id}`);
    try {
      rows.set(m.id, await runModel(m, opt.resume ? rows.get(m.id) : undefined));
    } catch (e) {
      log(`${m.id}: harness error ${(e as Error).message}`);
      throw e;
    }
    writeResults(outMd, outJson, [...rows.values()], { started, command, modes, note, version, pictures });
  }
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
writeResults(outMd, outJson, [...rows.values()], { started, command, modes, note, version, pictures });
log(`done: ${outMd}`);
