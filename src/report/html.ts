// Self-contained HTML reports: tables and inline SVG bar charts, no scripts, no network.
import { cell, type Table } from './table.js';

export interface BarChart {
  title: string;
  unit?: string;
  /** One bar per label; several series draw grouped bars. */
  labels: string[];
  series: { name: string; values: (number | null | undefined)[] }[];
  /** Draws a dashed reference line (e.g. 1× or a target). */
  reference?: { value: number; label: string };
  log?: boolean;
}

const PALETTE = ['#3b6fd8', '#e0762b', '#2e9e5b', '#a54bc7', '#c93c4a', '#6b7280'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function barChartSvg(chart: BarChart): string {
  const rowH = 18 * Math.max(1, chart.series.length) + 10;
  const labelW = Math.min(260, 12 + 7 * Math.max(4, ...chart.labels.map((l) => l.length)));
  const plotW = 520,
    valueW = 80;
  const legendH = chart.series.length > 1 ? 22 : 0;
  const height = 34 + legendH + rowH * chart.labels.length + 24;
  const width = labelW + plotW + valueW;
  const all = chart.series
    .flatMap((s) => s.values)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (chart.reference) all.push(chart.reference.value);
  const maxV = Math.max(1e-12, ...all);
  const minPos = Math.min(...all.filter((v) => v > 0), maxV);
  const scale = (v: number) => {
    if (chart.log) {
      const lo = Math.log10(Math.min(minPos, 1) / 1.5),
        hi = Math.log10(maxV * 1.05);
      return v <= 0 ? 0 : Math.max(0, ((Math.log10(v) - lo) / (hi - lo)) * plotW);
    }
    return Math.max(0, (v / (maxV * 1.05)) * plotW);
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  parts.push(`<title>${escapeHtml(chart.title)}</title>`);
  parts.push(
    `<text x="0" y="18" font-size="14" font-weight="600">${escapeHtml(chart.title)}${chart.unit ? ` (${escapeHtml(chart.unit)})` : ''}</text>`,
  );
  if (legendH) {
    chart.series.forEach((s, i) => {
      const x = labelW + i * 150;
      parts.push(
        `<rect x="${x}" y="28" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="38" font-size="12">${escapeHtml(s.name)}</text>`,
      );
    });
  }
  const top = 34 + legendH;
  chart.labels.forEach((label, li) => {
    const y0 = top + li * rowH;
    parts.push(
      `<text x="${labelW - 6}" y="${y0 + rowH / 2 + 4}" font-size="12" text-anchor="end">${escapeHtml(label)}</text>`,
    );
    chart.series.forEach((s, si) => {
      const v = s.values[li];
      const y = y0 + 4 + si * 18;
      if (typeof v === 'number' && Number.isFinite(v)) {
        const w = scale(v);
        parts.push(
          `<rect class="bar" x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="14" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeHtml(`${label} · ${s.name}: ${fmt(v)}`)}</title></rect>`,
        );
        parts.push(`<text x="${labelW + w + 4}" y="${y + 11}" font-size="11">${fmt(v)}</text>`);
      } else {
        parts.push(`<text x="${labelW + 4}" y="${y + 11}" font-size="11" fill="#888">n/a</text>`);
      }
    });
  });
  if (chart.reference) {
    const x = labelW + scale(chart.reference.value);
    parts.push(`<line x1="${x}" y1="${top - 2}" x2="${x}" y2="${height - 20}" stroke="#444" stroke-dasharray="4 3"/>`);
    parts.push(
      `<text x="${x + 3}" y="${height - 6}" font-size="11" fill="#444">${escapeHtml(chart.reference.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(3) : v.toExponential(2);
}

export function tableHtml<R>(t: Table<R>): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('');
  const rows = t.rows
    .map(
      (r) =>
        `<tr>${t.columns
          .map((c) => {
            const v = c.value(r);
            return `<td${typeof v === 'number' ? ' class="num"' : ''}>${escapeHtml(cell(c, r))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export interface HtmlSection {
  heading: string;
  html: string;
}

export function htmlPage(title: string, sections: HtmlSection[], footer = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f6f8fa}.chart{display:block;margin:12px 0}.foot{color:#666;font-size:12px;margin-top:24px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${sections.map((s) => `<section><h2>${escapeHtml(s.heading)}</h2>\n${s.html}</section>`).join('\n')}
<p class="foot">${escapeHtml(footer)}</p>
</body></html>
`;
}
