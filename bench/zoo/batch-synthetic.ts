// bench/zoo/batch-synthetic.ts: converts a directory of varied models (written here by writeZoo: MLPs, LeNets,
// functional branches, MobileNet- and ResNet-style nets, graph models — and one corrupt model)
// with `tfjs-quant convert --jobs 2` in each mode, as a user would (spawned CLI), and prints
// the report's totals and the wall time. Usage: tsx bench/zoo/batch-synthetic.ts [modes=dynamic,int8,float16,compress]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initFloatBackend, describeFloatBackend } from '../../src/backend/float.js';
import { writeZoo } from '../../test/support/model-zoo.js';
import { cpuInfo } from '../../src/native/cpu.js';
import { formatBytes, toMarkdown, type Table } from '../../src/report/table.js';
import type { BatchReport } from '../../src/report/batch.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const modes = (process.argv[2] ?? 'dynamic,int8,float16,compress').split(',');
const backend = await initFloatBackend();
const work = mkdtempSync(join(tmpdir(), 'tfjq-zoo-'));
const zoo = join(work, 'zoo');
const written = await writeZoo(zoo, { corrupt: true });
console.error(`zoo: ${written.length} models in ${zoo}`);

interface Row {
  mode: string;
  report: BatchReport;
  wall: number;
  code: number | null;
}
const rows: Row[] = [];
for (const mode of modes) {
  const out = join(work, `out-${mode}`);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/entry.ts',
      'convert',
      zoo,
      '-o',
      out,
      '--mode',
      mode,
      '--jobs',
      '2',
      '--eval-samples',
      '32',
      '--runs',
      '20',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const wall = (performance.now() - t0) / 1000;
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BatchReport;
  rows.push({ mode, report, wall, code: r.status });
  console.error(r.stdout);
}

const info = cpuInfo();
const pct = (v: number | undefined) => (v === undefined ? '—' : `${(100 * v).toFixed(2)}%`);
const table: Table<Row> = {
  columns: [
    { header: 'mode', value: (r) => r.mode },
    { header: 'models (ok / failed)', value: (r) => `${r.report.totals.done} / ${r.report.totals.failed}` },
    { header: 'exit', value: (r) => r.code ?? 'signal' },
    {
      header: 'size before → after',
      value: (r) => `${formatBytes(r.report.totals.bytesBefore)} → ${formatBytes(r.report.totals.bytesAfter)}`,
    },
    { header: 'ratio', value: (r) => `${r.report.totals.ratio.toFixed(2)}×`, align: 'right' },
    { header: 'mean top-1 agreement', value: (r) => pct(r.report.totals.meanTop1Agreement), align: 'right' },
    { header: 'mean cosine', value: (r) => r.report.totals.meanCosine, digits: 5 },
    {
      header: 'median speed-up b=1',
      value: (r) =>
        r.report.totals.medianSpeedup === undefined ? '—' : `${r.report.totals.medianSpeedup.toFixed(2)}×`,
      align: 'right',
    },
    { header: 'wall (jobs 2)', value: (r) => `${r.wall.toFixed(1)} s`, align: 'right' },
  ],
  rows,
};
console.log(
  `${written.length} models (${written.length - 1} valid + 1 corrupt); ${info.brand || info.vendor}, ${info.availableCores} cores; float baseline ${describeFloatBackend(backend)}\n`,
);
console.log(toMarkdown(table));
rmSync(work, { recursive: true, force: true });
