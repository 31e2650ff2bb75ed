// Tables for results people look at: aligned text for terminals, Markdown for files.

export interface Column<R> {
  header: string;
  value: (row: R) => string | number | undefined | null;
  align?: 'left' | 'right';
  /** Digits after the point for numbers (default 2; integers print as is). */
  digits?: number;
}

export interface Table<R> {
  columns: Column<R>[];
  rows: R[];
}

export function cell<R>(c: Column<R>, r: R): string {
  const v = c.value(r);
  if (v === undefined || v === null) return '—';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
    return Number.isInteger(v) && c.digits === undefined ? String(v) : v.toFixed(c.digits ?? 2);
  }
  return v;
}

function isNumeric<R>(c: Column<R>, rows: R[]): boolean {
  return rows.some((r) => typeof c.value(r) === 'number');
}

export function toText<R>(t: Table<R>): string {
  const cells = t.rows.map((r) => t.columns.map((c) => cell(c, r)));
  const widths = t.columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const right = t.columns.map((c) => c.align === 'right' || (c.align === undefined && isNumeric(c, t.rows)));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return (
    [fmt(t.columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n') +
    '\n'
  );
}

export function toMarkdown<R>(t: Table<R>): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const right = t.columns.map((c) => c.align === 'right' || (c.align === undefined && isNumeric(c, t.rows)));
  const head = `| ${t.columns.map((c) => esc(c.header)).join(' | ')} |`;
  const sep = `| ${right.map((r) => (r ? '---:' : '---')).join(' | ')} |`;
  const body = t.rows.map((r) => `| ${t.columns.map((c) => esc(cell(c, r))).join(' | ')} |`);
  return [head, sep, ...body].join('\n') + '\n';
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0,
    v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}
