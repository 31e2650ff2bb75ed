// The report of a batch conversion (`tfjs-quant convert`): one row per model — format,
// native int8 coverage, size before/after (against the input files and against float32),
// fidelity of the written files to float (the worst output's score; every output listed per
// model), latency float vs converted, status — totals, and per model its outputs and its
// per-layer error table (worst first), as Markdown, JSON (with the tool and schema versions)
// and a self-contained HTML page with charts.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { GuardReport } from '../quant/guard.js';
import type { PrecisionFloor } from '../quant/precision-floor.js';
import type { QuantizeReport } from '../quant/quantize.js';
import type { LayerError } from '../quant/report.js';
import type { InputAssumption } from '../quant/synthetic-inputs.js';
import { toolVersion, TOOL_NAME } from '../model/version.js';
import { layerTable } from './layers.js';
import type { ModelFidelity, OutputFidelity } from '../quant/output-fidelity.js';
import { barChartSvg, escapeHtml, htmlPage, tableHtml } from './html.js';
import { formatBytes, toMarkdown, toText, type Table } from './table.js';

export type ModelStatus = 'done' | 'degraded' | 'failed' | 'skipped';

/** The record of one model's conversion (src/convert/convert-one.ts makes it), as the batch report reads it. */
export interface ModelResult {
  source: string;
  rel: string;
  output: string;
  /** degraded: converted and written, but its fidelity (written files, or the guard's) misses the tolerance. */
  status: ModelStatus;
  error?: string;
  sourceSha256?: string;
  sourceFormat?: string;
  nodes?: number;
  nativeCoverage?: number;
  bytesBefore?: number;
  /** The weights stored as float32 (what the model would take in files holding float32). */
  bytesFloat32?: number;
  bytesAfter?: number;
  /** bytesBefore / bytesAfter: against the input files (which may already hold float16 or uint8). */
  ratio?: number;
  /** bytesFloat32 / bytesAfter. */
  ratioFloat32?: number;
  tolerance?: number;
  /** Fidelity of the written files against the float model, every output; absent when not evaluated. */
  fidelity?: ModelFidelity;
  evaluation?: {
    evaluated: boolean;
    /** Why not, when not evaluated. */
    reason?: string;
    /** The engine that ran the written files. */
    engine?: string;
    /** The float backend the reference ran on, and the backends that could not run it. */
    referenceBackend?: string;
    rejectedBackends?: { backend: string; error: string }[];
    /** What the evaluation inputs are. */
    inputs?: string;
  };
  /** Generated inputs (when no calibration data was given): kind and value range per input, and why. */
  inputAssumptions?: InputAssumption[];
  guard?: Omit<GuardReport, 'outputs'>;
  /** What the guard measured on (samples apart from those that calibrate, when there are enough). */
  guardData?: string;
  /** Per-layer error on the guard data (validation samples), worst first (at most LAYER_ROWS rows). */
  layers?: LayerError[];
  floatNodes?: QuantizeReport['floatNodes'];
  /** Median batch-1 latency in ms. */
  floatMs?: number;
  quantMs?: number;
  quantEngine?: string;
  floatBackend?: string;
  warnings: string[];
  seconds: number;
}

export interface BatchMeta {
  mode: string;
  format: string;
  jobs: number;
  wallSeconds: number;
  machine: string;
  floatBackend: string;
  command: string;
}

/** Version of the report.json layout: bumped when a field changes meaning or goes away. */
export const REPORT_SCHEMA_VERSION = 2;

export interface BatchTotals {
  models: number;
  done: number;
  /** Converted and written, but below their tolerance. */
  degraded: number;
  failed: number;
  skipped: number;
  bytesBefore: number;
  bytesAfter: number;
  ratio: number;
  meanTop1Agreement?: number;
  /** Mean over models of the lowest cosine among outputs of ≥ 16 values. */
  meanCosine?: number;
  /** Minimum over models of the worst output's score. */
  minScore?: number;
  /** Models whose written files were not evaluated. */
  notEvaluated: number;
  medianSpeedup?: number;
}

export interface BatchReport {
  tool?: { name: string; version: string; reportSchema: number };
  meta: BatchMeta;
  totals: BatchTotals;
  models: ModelResult[];
}

const speedup = (r: ModelResult) => (r.floatMs && r.quantMs ? r.floatMs / r.quantMs : undefined);
const minOf = (v: number[]) => (v.length ? Math.min(...v) : undefined);
/** Top-1 agreement of the first output that has classes. */
const top1 = (r: ModelResult) => r.fidelity?.outputs.find((o) => o.top1Agreement !== undefined)?.top1Agreement;
const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined);

export function batchTotals(models: ModelResult[]): BatchTotals {
  // Skipped models were converted by an earlier run: their measurements still hold.
  const done = models.filter((m) => m.status !== 'failed');
  const measured = done.filter((m) => m.bytesBefore !== undefined && m.bytesAfter !== undefined);
  const bytesBefore = measured.reduce((a, m) => a + m.bytesBefore!, 0);
  const bytesAfter = measured.reduce((a, m) => a + m.bytesAfter!, 0);
  const sp = done
    .map(speedup)
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  return {
    models: models.length,
    done: models.filter((m) => m.status === 'done').length,
    degraded: models.filter((m) => m.status === 'degraded').length,
    failed: models.filter((m) => m.status === 'failed').length,
    skipped: models.filter((m) => m.status === 'skipped').length,
    bytesBefore,
    bytesAfter,
    ratio: bytesAfter ? bytesBefore / bytesAfter : 0,
    meanTop1Agreement: mean(done.map(top1).filter((v): v is number => v !== undefined)),
    meanCosine: mean(
      done
        .map((m) => minOf(m.fidelity?.outputs.filter((o) => o.metric === 'cosine').map((o) => o.cosine) ?? []))
        .filter((v): v is number => v !== undefined),
    ),
    minScore: minOf(done.map((m) => m.fidelity?.minScore).filter((v): v is number => v !== undefined)),
    notEvaluated: done.filter((m) => m.evaluation && !m.evaluation.evaluated).length,
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
      {
        header: 'before',
        value: (r) => (r.bytesBefore === undefined ? undefined : formatBytes(r.bytesBefore)),
        align: 'right',
      },
      {
        header: 'after',
        value: (r) => (r.bytesAfter === undefined ? undefined : formatBytes(r.bytesAfter)),
        align: 'right',
      },
      {
        header: 'vs input files',
        value: (r) => (r.ratio === undefined ? undefined : `${r.ratio.toFixed(2)}×`),
        align: 'right',
      },
      {
        header: 'vs float32',
        value: (r) => (r.ratioFloat32 === undefined ? undefined : `${r.ratioFloat32.toFixed(2)}×`),
        align: 'right',
      },
      { header: 'min score', value: (r) => r.fidelity?.minScore, digits: 5 },
      {
        header: 'worst output',
        value: (r) =>
          r.fidelity ? r.fidelity.worstOutput : r.evaluation && !r.evaluation.evaluated ? 'not evaluated' : undefined,
      },
      { header: 'top-1 agree', value: (r) => pct(top1(r)), align: 'right' },
      { header: 'float ms', value: (r) => r.floatMs, digits: 3 },
      { header: 'converted ms', value: (r) => r.quantMs, digits: 3 },
      {
        header: 'speed-up',
        value: (r) => {
          const s = speedup(r);
          return s === undefined ? undefined : `${s.toFixed(2)}×`;
        },
        align: 'right',
      },
      { header: 'notes', value: (r) => r.error ?? (r.warnings.length ? r.warnings.join('; ') : '') },
    ],
    rows: models,
  };
}

function totalsTable(t: BatchTotals): Table<[string, string]> {
  const rows: [string, string][] = [
    ['models', `${t.models} (${t.done} converted, ${t.degraded} degraded, ${t.failed} failed, ${t.skipped} skipped)`],
    [
      'size before → after',
      `${formatBytes(t.bytesBefore)} → ${formatBytes(t.bytesAfter)} (${t.ratio.toFixed(2)}× vs input files)`,
    ],
  ];
  if (t.minScore !== undefined) rows.push(['min output score (written files)', t.minScore.toFixed(5)]);
  if (t.notEvaluated) rows.push(['not evaluated', String(t.notEvaluated)]);
  if (t.meanTop1Agreement !== undefined)
    rows.push(['mean top-1 agreement', `${(100 * t.meanTop1Agreement).toFixed(2)}%`]);
  if (t.medianSpeedup !== undefined) rows.push(['median speed-up', `${t.medianSpeedup.toFixed(2)}×`]);
  return {
    columns: [
      { header: 'total', value: (r) => r[0] },
      { header: 'value', value: (r) => r[1] },
    ],
    rows,
  };
}

function metaLine(m: BatchMeta): string {
  return `mode ${m.mode}, format ${m.format}, ${m.jobs} job(s), ${m.wallSeconds.toFixed(1)} s wall; ${m.machine}; float baseline: ${m.floatBackend}`;
}

export function batchReportText(r: BatchReport): string {
  return `${toText(modelTable(r.models))}\n${toText(totalsTable(r.totals))}\n${metaLine(r.meta)}\n`;
}

function outputTable(rows: OutputFidelity[]): Table<OutputFidelity> {
  return {
    columns: [
      { header: 'output', value: (o) => o.output },
      { header: 'values', value: (o) => o.values },
      // A discrete output (after NMS, top-k) is shown, outside the headline: its order and
      // selection may change with a score moved by 0.001.
      { header: 'metric', value: (o) => (o.discrete ? `${o.metric} (discrete)` : o.metric) },
      { header: 'score', value: (o) => o.score, digits: 5 },
      { header: 'cosine', value: (o) => o.cosine, digits: 5 },
      { header: 'max |err|', value: (o) => o.maxAbsError, digits: 4 },
      { header: 'rel. err', value: (o) => o.relativeError, digits: 4 },
      {
        header: 'top-1 agree',
        value: (o) => (o.top1Agreement === undefined ? undefined : `${(100 * o.top1Agreement).toFixed(1)}%`),
        align: 'right',
      },
    ],
    rows,
  };
}

/** What the precision floor says about the guard's float layers (src/quant/precision-floor.ts). */
function floorText(f: PrecisionFloor, required: number): string {
  const why =
    f.inputNoise < required
      ? `The float model itself loses ${(1 - f.inputNoise).toFixed(4)} to the noise of storing its inputs in 8 bits, more than the tolerance allows: on these inputs the tolerance is finer than the model's outputs resolve, and a --tolerance above that loss is the setting to ask for.`
      : f.weightsOnly < required
        ? 'The stored weights alone miss the target: some layers must keep float weights whatever precision their activations get.'
        : 'The stored weights alone hold: what the float layers buy back is the precision of the quantized activations.';
  return `Why layers stay float (guard data, scored as the guard scores): the stored weights alone, activations float, score ${f.weightsOnly.toFixed(4)}; the float model with ½ an 8-bit step of input noise scores ${f.inputNoise.toFixed(4)}. ${why}`;
}

/** Per model: how it was evaluated, every output's fidelity, the guard, the worst layers. */
function modelDetails(m: ModelResult, render: <R>(t: Table<R>) => string, heading: (s: string) => string): string {
  const parts: string[] = [heading(`${m.rel || '.'} — ${m.status}`)];
  const e = m.evaluation;
  if (e) {
    parts.push(
      e.evaluated
        ? `Measured on the written files by ${e.engine}; float reference on ${e.referenceBackend}${e.rejectedBackends?.length ? ` (not ${e.rejectedBackends.map((b) => `${b.backend}: ${b.error}`).join('; ')})` : ''}; inputs: ${e.inputs}. Tolerance: min score ≥ ${m.tolerance}.`
        : `Not evaluated: ${e.reason}.`,
    );
  }
  if (m.inputAssumptions?.length)
    parts.push(
      `Generated inputs: ${m.inputAssumptions.map((a) => `${a.input} — ${a.kind} in [${a.range.join(', ')}]: ${a.why}`).join('; ')}.`,
    );
  if (m.fidelity) parts.push(render(outputTable(m.fidelity.outputs)));
  if (m.guard) {
    const g = m.guard;
    parts.push(
      `Accuracy guard (${g.metric}, on the guard data${m.guardData ? `: ${m.guardData}` : ''}): ${g.initial.toFixed(4)} → ${g.final.toFixed(4)} (target ${(g.float - g.tolerance).toFixed(4)}: ${g.satisfied ? 'met' : 'NOT met'}), ${g.movedToDynamic?.length ? `${g.movedToDynamic.length} convolution(s)/matmul(s) run dynamic (activations quantized per row), ` : ''}${g.movedToFloat.length} node(s) kept in float, ${g.widenedTo8Bit.length} layer(s) widened to 8-bit weights, ${g.evaluations} evaluations${g.heldOut ? `; the first search (on half of the samples) scored ${g.heldOut.score.toFixed(4)} on the other ${g.heldOut.samples}: ${g.heldOut.kept ? 'kept' : 'searched again with float as the only step back'}` : ''}.`,
    );
    if (g.floor) parts.push(floorText(g.floor, g.float - g.tolerance));
  }
  if (m.layers?.length)
    parts.push(`Worst layers (guard data, worst first):\n\n${render(layerTable({ samples: 0, layers: m.layers }))}`);
  return parts.join('\n\n');
}

export function batchReportMarkdown(r: BatchReport): string {
  const details = r.models
    .filter((m) => m.status !== 'failed' && m.status !== 'skipped')
    .map((m) => modelDetails(m, toMarkdown, (h) => `### ${h}`));
  return `# tfjs-quant conversion report\n\n\`${r.meta.command}\`\n\n${metaLine(r.meta)}\n\n## Totals\n\n${toMarkdown(totalsTable(r.totals))}\n\n## Models\n\n${toMarkdown(modelTable(r.models))}\n${details.length ? `\n## Per model\n\n${details.join('\n\n')}\n` : ''}`;
}

export function batchReportJson(r: BatchReport): string {
  return (
    JSON.stringify(
      { tool: { name: TOOL_NAME, version: toolVersion(), reportSchema: REPORT_SCHEMA_VERSION }, ...r },
      null,
      2,
    ) + '\n'
  );
}

export function batchReportHtml(r: BatchReport): string {
  const done = r.models.filter((m) => m.status !== 'failed');
  const labels = done.map((m) => m.rel || '.');
  const charts = [
    barChartSvg({
      title: 'Size ratio (size before / converted size)',
      unit: '×',
      labels,
      reference: { value: 1, label: '1×' },
      series: [
        { name: 'vs float32 weights', values: done.map((m) => m.ratioFloat32) },
        { name: 'vs input files', values: done.map((m) => m.ratio) },
      ],
    }),
    barChartSvg({
      title: 'Speed-up, batch 1 (float latency / converted latency)',
      unit: '×',
      labels,
      series: [{ name: 'speed-up', values: done.map(speedup) }],
      reference: { value: 1, label: '1×' },
    }),
    barChartSvg({
      title: 'Fidelity to the float model',
      unit: '',
      labels,
      series: [
        { name: 'min output score (written files)', values: done.map((m) => m.fidelity?.minScore) },
        { name: 'top-1 agreement', values: done.map(top1) },
      ],
    }),
  ];
  const failed = r.models.filter((m) => m.status === 'failed');
  return htmlPage(
    'tfjs-quant conversion report',
    [
      { heading: 'Totals', html: tableHtml(totalsTable(r.totals)) },
      { heading: 'Charts', html: charts.map((c) => `<div class="chart">${c}</div>`).join('\n') },
      { heading: 'Models', html: tableHtml(modelTable(r.models)) },
      ...r.models
        .filter((m) => m.status !== 'failed' && m.status !== 'skipped')
        .map((m) => ({
          heading: `${m.rel || '.'} — ${m.status}`,
          html: modelDetails(m, tableHtml, () => '')
            .split('\n\n')
            .filter(Boolean)
            .map((p) => (p.startsWith('<table') ? p : `<p>${escapeHtml(p)}</p>`))
            .join('\n'),
        })),
      ...(failed.length
        ? [
            {
              heading: 'Failures',
              html: `<ul>${failed.map((m) => `<li><b>${escapeHtml(m.rel || m.source)}</b>: ${escapeHtml(m.error ?? '')}</li>`).join('')}</ul>`,
            },
          ]
        : []),
    ],
    `${r.meta.command} — ${metaLine(r.meta)}`,
  );
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
