// The report of a batch conversion (`tfjs-quant convert`): one row per model — format,
// native int8 coverage, size before/after, fidelity to float, latency float vs converted,
// status — and totals, as Markdown, JSON and a self-contained HTML page with charts.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { ModelResult } from '../cli/convert-one.js';
import { barChartSvg, escapeHtml, htmlPage, tableHtml } from './html.js';
import { formatBytes, toMarkdown, toText, type Table } from './table.js';

export interface BatchMeta {
  mode: string;
  format: string;
  jobs: number;
  wallSeconds: number;
  machine: string;
  floatBackend: string;
  command: string;
}

export interface BatchTotals {
  models: number;
  done: number;
  failed: number;
  skipped: number;
  bytesBefore: number;
  bytesAfter: number;
  ratio: number;
  meanTop1Agreement?: number;
  meanCosine?: number;
  medianSpeedup?: number;
}

export interface BatchReport {
  meta: BatchMeta;
  totals: BatchTotals;
  models: ModelResult[];
}

const speedup = (r: ModelResult) => (r.floatMs && r.quantMs ? r.floatMs / r.quantMs : undefined);
const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined);

export function batchTotals(models: ModelResult[]): BatchTotals {
  // Skipped models were converted by an earlier run: their measurements still hold.
  const done = models.filter((m) => m.status !== 'failed');
  const measured = done.filter((m) => m.bytesBefore !== undefined && m.bytesAfter !== undefined);
  const bytesBefore = measured.reduce((a, m) => a + m.bytesBefore!, 0);
  const bytesAfter = measured.reduce((a, m) => a + m.bytesAfter!, 0);
  const sp = done.map(speedup).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return {
    models: models.length,
    done: models.filter((m) => m.status === 'done').length,
    failed: models.filter((m) => m.status === 'failed').length,
    skipped: models.filter((m) => m.status === 'skipped').length,
    bytesBefore,
    bytesAfter,
    ratio: bytesAfter ? bytesBefore / bytesAfter : 0,
    meanTop1Agreement: mean(done.map((m) => m.fidelity?.top1Agreement).filter((v): v is number => v !== undefined)),
    meanCosine: mean(done.map((m) => m.fidelity?.cosine).filter((v): v is number => v !== undefined)),
    medianSpeedup: sp.length ? sp[Math.floor((sp.length - 1) / 2)]! : undefined,
  };
}

function modelTable(models: ModelResult[]): Table<ModelResult> {
  const pct = (v: number | undefined) => (v === undefined ? undefined : `${(100 * v).toFixed(1)}%`);
  return {
    columns: [
      { header: 'model', value: (r) => r.rel || '.' },
      { header: 'status', value: (r) => r.status },
      { header: 'format', value: (r) => r.sourceFormat },
      { header: 'int8 ops', value: (r) => pct(r.nativeCoverage), align: 'right' },
      { header: 'before', value: (r) => (r.bytesBefore === undefined ? undefined : formatBytes(r.bytesBefore)), align: 'right' },
      { header: 'after', value: (r) => (r.bytesAfter === undefined ? undefined : formatBytes(r.bytesAfter)), align: 'right' },
      { header: 'ratio', value: (r) => (r.ratio === undefined ? undefined : `${r.ratio.toFixed(2)}×`), align: 'right' },
      { header: 'top-1 agree', value: (r) => pct(r.fidelity?.top1Agreement), align: 'right' },
      { header: 'cosine', value: (r) => r.fidelity?.cosine, digits: 5 },
      { header: 'max |err|', value: (r) => r.fidelity?.maxAbsError, digits: 4 },
      { header: 'float ms', value: (r) => r.floatMs, digits: 3 },
      { header: 'converted ms', value: (r) => r.quantMs, digits: 3 },
      { header: 'speed-up', value: (r) => { const s = speedup(r); return s === undefined ? undefined : `${s.toFixed(2)}×`; }, align: 'right' },
      { header: 'notes', value: (r) => r.error ?? (r.warnings.length ? r.warnings.join('; ') : '') },
    ],
    rows: models,
  };
}

function totalsTable(t: BatchTotals): Table<[string, string]> {
  const rows: [string, string][] = [
    ['models', `${t.models} (${t.done} converted, ${t.failed} failed, ${t.skipped} skipped)`],
    ['size before → after', `${formatBytes(t.bytesBefore)} → ${formatBytes(t.bytesAfter)} (${t.ratio.toFixed(2)}×)`],
  ];
  if (t.meanTop1Agreement !== undefined) rows.push(['mean top-1 agreement', `${(100 * t.meanTop1Agreement).toFixed(2)}%`]);
  if (t.meanCosine !== undefined) rows.push(['mean output cosine', t.meanCosine.toFixed(5)]);
  if (t.medianSpeedup !== undefined) rows.push(['median speed-up', `${t.medianSpeedup.toFixed(2)}×`]);
  return { columns: [{ header: 'total', value: (r) => r[0] }, { header: 'value', value: (r) => r[1] }], rows };
}

function metaLine(m: BatchMeta): string {
  return `mode ${m.mode}, format ${m.format}, ${m.jobs} job(s), ${m.wallSeconds.toFixed(1)} s wall; ${m.machine}; float baseline: ${m.floatBackend}`;
}

export function batchReportText(r: BatchReport): string {
  return `${toText(modelTable(r.models))}\n${toText(totalsTable(r.totals))}\n${metaLine(r.meta)}\n`;
}

export function batchReportMarkdown(r: BatchReport): string {
  return `# tfjs-quant conversion report\n\n\`${r.meta.command}\`\n\n${metaLine(r.meta)}\n\n## Totals\n\n${toMarkdown(totalsTable(r.totals))}\n\n## Models\n\n${toMarkdown(modelTable(r.models))}\n`;
}

export function batchReportJson(r: BatchReport): string {
  return JSON.stringify(r, null, 2) + '\n';
}

export function batchReportHtml(r: BatchReport): string {
  const done = r.models.filter((m) => m.status !== 'failed');
  const labels = done.map((m) => m.rel || '.');
  const charts = [
    barChartSvg({ title: 'Size ratio (float32 size / converted size)', unit: '×', labels, series: [{ name: 'ratio', values: done.map((m) => m.ratio) }], reference: { value: 1, label: '1×' } }),
    barChartSvg({ title: 'Speed-up, batch 1 (float latency / converted latency)', unit: '×', labels, series: [{ name: 'speed-up', values: done.map(speedup) }], reference: { value: 1, label: '1×' } }),
    barChartSvg({
      title: 'Fidelity to the float model', unit: '', labels,
      series: [
        { name: 'top-1 agreement', values: done.map((m) => m.fidelity?.top1Agreement) },
        { name: 'output cosine', values: done.map((m) => m.fidelity?.cosine) },
      ],
    }),
  ];
  const failed = r.models.filter((m) => m.status === 'failed');
  return htmlPage('tfjs-quant conversion report', [
    { heading: 'Totals', html: tableHtml(totalsTable(r.totals)) },
    { heading: 'Charts', html: charts.map((c) => `<div class="chart">${c}</div>`).join('\n') },
    { heading: 'Models', html: tableHtml(modelTable(r.models)) },
    ...(failed.length ? [{ heading: 'Failures', html: `<ul>${failed.map((m) => `<li><b>${escapeHtml(m.rel || m.source)}</b>: ${escapeHtml(m.error ?? '')}</li>`).join('')}</ul>` }] : []),
  ], `${r.meta.command} — ${metaLine(r.meta)}`);
}

/** Writes the report as `<prefix>.md`, `<prefix>.json` and `<prefix>.html` (creating their folder). */
export async function writeBatchReport(r: BatchReport, prefix: string): Promise<void> {
  await fs.mkdir(dirname(prefix), { recursive: true });
  await Promise.all([
    fs.writeFile(`${prefix}.md`, batchReportMarkdown(r)),
    fs.writeFile(`${prefix}.json`, batchReportJson(r)),
    fs.writeFile(`${prefix}.html`, batchReportHtml(r)),
  ]);
}
