// `convert --dry-run`: what a batch would convert, with sizes, without converting or writing
// anything. Each model is loaded (as the conversion would load it) so a model that cannot be
// read shows here with the error it would fail with.
import { loadModel } from '../model/load.js';
import { inspectGraph } from '../model/inspect.js';
import { formatBytes, toText, type Table } from '../report/table.js';
import { filesSize, float32Bytes } from '../convert/convert-one.js';
import type { ModelTask } from './discover.js';

export interface PlannedModel {
  rel: string;
  source: string;
  output: string;
  /** skip: --skip-existing finds it converted with the same options from the same files. */
  action: 'convert' | 'skip' | 'fail';
  error?: string;
  format?: string;
  nodes?: number;
  parameters?: number;
  /** model.json and its weight files as they are. */
  bytesInput?: number;
  /** The weights stored as float32. */
  bytesFloat32?: number;
  /** Share of nodes the native int8 runtime covers. */
  int8Coverage?: number;
}

export async function planConversion(
  tasks: readonly (ModelTask & { output: string })[],
  skipped: ReadonlySet<string>,
  allowNonFinite: boolean,
): Promise<PlannedModel[]> {
  const rows: PlannedModel[] = [];
  for (const t of tasks) {
    const row: PlannedModel = {
      rel: t.rel,
      source: t.source,
      output: t.output,
      action: skipped.has(t.rel) ? 'skip' : 'convert',
    };
    try {
      const g = await loadModel(t.source, { allowNonFinite });
      const r = inspectGraph(g);
      Object.assign(row, {
        format: r.format,
        nodes: r.nodes,
        parameters: r.totalParameters,
        bytesInput: await filesSize(g.source?.files ?? [t.source]),
        bytesFloat32: float32Bytes(g),
        int8Coverage: r.nodes ? r.int8Nodes / r.nodes : 0,
      });
    } catch (e) {
      row.action = 'fail';
      row.error = (e as Error).message;
    }
    rows.push(row);
  }
  return rows;
}

export function planText(rows: readonly PlannedModel[], mode: string): string {
  const table: Table<PlannedModel> = {
    columns: [
      { header: 'model', value: (r) => r.rel || '.' },
      { header: 'action', value: (r) => r.action },
      { header: 'format', value: (r) => r.format },
      { header: 'nodes', value: (r) => r.nodes },
      { header: 'parameters', value: (r) => r.parameters },
      {
        header: 'files',
        value: (r) => (r.bytesInput === undefined ? undefined : formatBytes(r.bytesInput)),
        align: 'right',
      },
      {
        header: 'as float32',
        value: (r) => (r.bytesFloat32 === undefined ? undefined : formatBytes(r.bytesFloat32)),
        align: 'right',
      },
      {
        header: 'int8 ops',
        value: (r) => (r.int8Coverage === undefined ? undefined : `${(100 * r.int8Coverage).toFixed(0)}%`),
        align: 'right',
      },
    ],
    rows: [...rows],
  };
  const n = (a: PlannedModel['action']) => rows.filter((r) => r.action === a).length;
  const errors = rows
    .filter((r) => r.error)
    .map((r) => `  ${r.rel || '.'}: ${r.error}\n`)
    .join('');
  return `dry run (mode ${mode}): ${n('convert')} to convert, ${n('skip')} already converted, ${n('fail')} unreadable; nothing written\n\n${toText(table)}${errors ? `\n${errors}` : ''}`;
}
