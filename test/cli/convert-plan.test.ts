// `convert --dry-run` (what would be converted, with sizes, nothing written) and `--json`
// (the summary as JSON on stdout), on the spawned command line. Sizes are checked against the
// files on disk and a parameter count worked out by hand from the model's layers.
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZoo } from '../support/model-zoo.js';
import { runCli } from '../support/cli.js';

let work: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-plan-'));
  await writeZoo(join(work, 'zoo'), { only: ['mlp/small'], corrupt: true });
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

// sequentialMlp: Dense 8→16, Dropout, Dense 16→12, Dense 12→5 (weights + biases).
const MLP_PARAMETERS = 8 * 16 + 16 + 16 * 12 + 12 + 12 * 5 + 5;

async function sizeOf(dir: string): Promise<number> {
  let n = 0;
  for (const f of await fs.readdir(dir)) n += (await fs.stat(join(dir, f))).size;
  return n;
}

describe('convert --dry-run', () => {
  it('lists every model with its sizes, names the unreadable one (exit 1) and writes nothing', async () => {
    const out = join(work, 'out-dry');
    const r = await runCli(['convert', join(work, 'zoo'), '-o', out, '--mode', 'int8', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(existsSync(out)).toBe(false);
    const plan = JSON.parse(r.stdout) as {
      dryRun: boolean;
      mode: string;
      models: {
        rel: string;
        action: string;
        parameters?: number;
        bytesInput?: number;
        bytesFloat32?: number;
        format?: string;
        error?: string;
      }[];
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.mode).toBe('int8');
    const byRel = new Map(plan.models.map((m) => [m.rel, m]));
    const mlp = byRel.get('mlp/small')!;
    expect(mlp.action).toBe('convert');
    expect(mlp.format).toBe('layers-model');
    expect(mlp.parameters).toBe(MLP_PARAMETERS);
    expect(mlp.bytesFloat32).toBe(4 * MLP_PARAMETERS);
    expect(mlp.bytesInput).toBe(await sizeOf(join(work, 'zoo', 'mlp', 'small')));
    const broken = byRel.get('broken/truncated')!;
    expect(broken.action).toBe('fail');
    expect(broken.error).toBeTruthy();
  });

  it('as text: a table and a count line', async () => {
    const r = await runCli(['convert', join(work, 'zoo', 'mlp'), '-o', join(work, 'out-dry-text'), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^dry run \(mode dynamic\): 1 to convert, 0 already converted, 0 unreadable; nothing written\n/,
    );
    expect(r.stdout).toMatch(/small\s+convert\s+layers-model\s+\d+\s+413/);
  });
});

describe('convert --json', () => {
  it('prints the report.json document on stdout', async () => {
    const out = join(work, 'out-json');
    const r = await runCli([
      'convert',
      join(work, 'zoo', 'mlp'),
      '-o',
      out,
      '--eval-samples',
      '2',
      '--runs',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      tool: { name: string; reportSchema: number };
      models: { status: string; bytesFloat32: number }[];
    };
    expect(j.tool.name).toBe('tfjs-quant');
    expect(j.models.map((m) => m.status)).toEqual(['done']);
    expect(j.models[0]!.bytesFloat32).toBe(4 * MLP_PARAMETERS);
    expect(r.stdout).toBe(await fs.readFile(join(out, 'report.json'), 'utf8'));
  });

  it('--dry-run does not combine with --queue', async () => {
    const r = await runCli([
      'convert',
      join(work, 'zoo', 'mlp'),
      '-o',
      join(work, 'o'),
      '--dry-run',
      '--queue',
      'redis://127.0.0.1:1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dry-run does not apply to --queue/);
  });
});
