// Two zoo runs of the same models side by side, one calibrated and evaluated on synthetic
// pictures and one on real photographs (run.ts --pictures photos), int8: what the accuracy guard
// kept in float (its report in each conversion's folder), the guard's own score, the held-out
// min cosine and the speed-up over the float reference. Writes a Markdown table and the medians
// (--out; printed too).
//
//   npx tsx bench/zoo/compare-pictures.ts --synthetic bench/zoo/RESULTS-zoo-zen5.json \
//     --photos bench/zoo/RESULTS-zoo-photos.json [--mode int8] [--out bench/zoo/RESULTS-pictures.md] [--note TEXT]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../../src/report/table.js';
import { photoCropFor } from './photos.js';
import type { ModeRow, ModelRow } from './row.js';
import { minCosine, minScore, speedup } from './summary.js';

const { values: opt } = parseArgs({
  options: {
    synthetic: { type: 'string' },
    photos: { type: 'string' },
    mode: { type: 'string', default: 'int8' },
    out: { type: 'string' },
    note: { type: 'string' },
  },
});
if (!opt.synthetic || !opt.photos) throw new Error('usage: compare-pictures.ts --synthetic A.json --photos B.json');

interface Run {
  rows: ModelRow[];
}
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Run;
const synthetic = read(opt.synthetic),
  photos = read(opt.photos);

interface GuardSummary {
  /** Conv, depthwise and matmul nodes the converter left float (the guard's and the rules'). */
  heavyFloat: number;
  final?: number;
}

/** From the conversion's report.json (beside the written model folder). */
function guardOf(r: ModeRow | undefined): GuardSummary | undefined {
  const out = r?.convert.output;
  if (!out) return undefined;
  const path = join(dirname(out), 'report.json');
  if (!existsSync(path)) return undefined;
  const m = (
    JSON.parse(readFileSync(path, 'utf8')) as {
      models: { guard?: { final: number }; floatNodes?: { name: string; op: string }[] }[];
    }
  ).models[0];
  return {
    heavyFloat: (m?.floatNodes ?? []).filter((n) => /Conv|MatMul/.test(n.op)).length,
    final: m?.guard?.final,
  };
}

const mode = (m: ModelRow | undefined) => m?.modes.find((x) => x.mode === opt.mode);
const f = (v: number | undefined, d: number, suffix = '') => (v === undefined ? '—' : `${v.toFixed(d)}${suffix}`);

const lines: string[] = [
  `| model | crop | conv / matmul nodes float: synthetic → photos | guard score: synthetic → photos | held-out min cosine (score): synthetic → photos | speed-up (wall): synthetic → photos |`,
  '| --- | --- | --- | --- | --- | --- |',
];
const ups: { s: number[]; p: number[] } = { s: [], p: [] };
let below = 0,
  belowSynthetic = 0;
for (const p of photos.rows) {
  const s = synthetic.rows.find((x) => x.id === p.id);
  const rp = mode(p),
    rs = mode(s);
  if (!rp) continue;
  const gp = guardOf(rp),
    gs = guardOf(rs);
  const up = speedup(p, rp),
    us = s && rs ? speedup(s, rs) : undefined;
  if (up !== undefined) ups.p.push(up);
  if (us !== undefined) ups.s.push(us);
  const held = (m: ModeRow | undefined) =>
    m ? (minCosine(m) !== undefined ? f(minCosine(m), 4) : `(${f(minScore(m), 4)})`) : '—';
  const lowP = rp ? (minCosine(rp) ?? minScore(rp)) : undefined;
  const lowS = rs ? (minCosine(rs) ?? minScore(rs)) : undefined;
  if (lowP !== undefined && lowP < 0.99) below++;
  if (lowS !== undefined && lowS < 0.99) belowSynthetic++;
  const float = (g: GuardSummary | undefined) => (g ? String(g.heavyFloat) : '—');
  lines.push(
    `| ${p.id} | ${photoCropFor(p.task) ?? 'synthetic'} | ${float(gs)} → ${float(gp)} | ${f(gs?.final, 4)} → ${f(gp?.final, 4)} | ${held(rs)} → ${held(rp)} | ${f(us, 2, '×')} → ${f(up, 2, '×')} |`,
  );
}
lines.push(
  '',
  `Median speed-up (wall): synthetic ${median(ups.s).toFixed(2)}× (${ups.s.length} models), photos ${median(ups.p).toFixed(2)}× (${ups.p.length} models). Held-out min cosine (or score, outputs < 16 values) below 0.99: synthetic ${belowSynthetic}, photos ${below}.`,
);
const command = `npx tsx bench/zoo/compare-pictures.ts ${process.argv.slice(2).join(' ')}`;
const text = [
  '# Synthetic pictures against real photographs, model by model (bench/zoo/compare-pictures.ts)',
  '',
  `Command: \`${command}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  ...(opt.note ? [opt.note, ''] : []),
  ...lines,
  '',
].join('\n');
if (opt.out) writeFileSync(opt.out, text);
console.log(text);
