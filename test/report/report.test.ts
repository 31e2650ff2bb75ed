import { describe, expect, it } from 'vitest';
import { barChartSvg, htmlPage, tableHtml } from '../../src/report/html.js';
import { formatBytes, median, percentile, toMarkdown, toText } from '../../src/report/table.js';

interface Row {
  name: string;
  size: number;
  ratio: number | undefined;
}
const table = {
  columns: [
    { header: 'model', value: (r: Row) => r.name },
    { header: 'bytes', value: (r: Row) => r.size },
    { header: 'ratio', value: (r: Row) => r.ratio, digits: 1 },
  ],
  rows: [
    { name: 'lenet|5', size: 1234, ratio: 3.97 },
    { name: 'mlp', size: 20, ratio: undefined },
  ],
};

describe('tables', () => {
  it('renders aligned text with numbers right-aligned', () => {
    const t = toText(table).split('\n');
    expect(t[0]).toBe('model    bytes  ratio');
    expect(t[2]).toBe('lenet|5   1234    4.0');
    expect(t[3]).toBe('mlp         20      —');
  });
  it('renders Markdown with escaped pipes and right-aligned numeric columns', () => {
    const md = toMarkdown(table).split('\n');
    expect(md[1]).toBe('| --- | ---: | ---: |');
    expect(md[2]).toBe('| lenet\\|5 | 1234 | 4.0 |');
  });
  it('computes medians and percentiles', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(formatBytes(1536)).toBe('1.50 KiB');
  });
});

describe('HTML report', () => {
  it('draws one bar per value with widths proportional to the values', () => {
    const svg = barChartSvg({ title: 'Size ratio', labels: ['a', 'b'], series: [{ name: 'int8', values: [4, 2] }] });
    const widths = [...svg.matchAll(/class="bar" x="\d+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(widths[0]! / widths[1]!).toBeCloseTo(2, 1);
  });
  it('escapes text and builds a self-contained page with no script or remote resource', () => {
    const page = htmlPage('R <1>', [
      { heading: 'T', html: tableHtml(table) },
      { heading: 'C', html: barChartSvg({ title: 'x', labels: ['<m>'], series: [{ name: 's', values: [1] }] }) },
    ]);
    expect(page).toContain('R &lt;1&gt;');
    expect(page).toContain('&lt;m&gt;');
    expect(page).not.toMatch(/<script|(src|href)=["']?https?:/);
  });
});
