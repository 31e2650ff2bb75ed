// The per-layer error report (src/quant/report.ts) as a table: worst first, as text or Markdown.
import type { LayerError, LayerReport } from '../quant/report.js';
import { toMarkdown, toText, type Table } from './table.js';

export function layerTable(r: LayerReport, limit = r.layers.length): Table<LayerError> {
  return {
    columns: [
      { header: 'tensor', value: (l) => l.tensor },
      { header: 'op', value: (l) => l.op },
      { header: 'runs', value: (l) => l.execution },
      { header: 'SNR dB', value: (l) => l.snrDb, digits: 1 },
      { header: 'drop dB', value: (l) => l.snrDrop, digits: 1 },
      { header: 'cosine', value: (l) => l.cosine, digits: 5 },
      { header: 'max |err|', value: (l) => l.maxAbsError, digits: 4 },
      { header: 'step', value: (l) => l.scale, digits: 4 },
    ],
    rows: r.layers.slice(0, limit),
  };
}

/** The report as an aligned text table (worst first) or Markdown. */
export function formatLayerReport(r: LayerReport, opts: { format?: 'text' | 'markdown'; limit?: number } = {}): string {
  const t = layerTable(r, opts.limit);
  return opts.format === 'markdown' ? toMarkdown(t) : toText(t);
}
