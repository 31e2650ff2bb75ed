// Every exit code docs/cli.md documents, from the spawned command line as a user runs it,
// plus what the parser adds for users: --version, per-command help with examples, typo
// suggestions. The table of codes is read from docs/cli.md, so a code added there without a
// case here fails the walk.
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZoo } from '../support/model-zoo.js';
import { writeNpy } from '../../src/io/npy.js';
import { runCli, type CliResult } from '../support/cli.js';

const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
const documented = [...docs.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
const walked = new Set<number>();

let work: string;
let good: string;
beforeAll(async () => {
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-exit-'));
  await writeZoo(join(work, 'zoo'), { only: ['mlp/small', 'cnn/sequential'], corrupt: true });
  good = join(work, 'zoo', 'mlp', 'small');
  await fs.mkdir(join(work, 'empty'));
  await fs.writeFile(join(work, 'wrong.npy'), writeNpy(new Float32Array(10), [10]));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

function expectCode(r: CliResult, code: number): void {
  expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(code);
  walked.add(code);
}

describe('exit code 0: everything asked for was done', () => {
  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expectCode(r, 0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('info --json reports the int8 paths', async () => {
    const r = await runCli(['info', '--json']);
    expectCode(r, 0);
    const j = JSON.parse(r.stdout) as { int8Paths: string[]; int8Path: string };
    expect(j.int8Paths).toContain('ref');
    expect(j.int8Paths).toContain(j.int8Path);
  });

  it('help <command> is <command> --help: usage, options and examples', async () => {
    const a = await runCli(['help', 'inspect']);
    expectCode(a, 0);
    expect(a.stdout).toMatch(/^Usage: tfjs-quant inspect <model\.json\|dir> \[options\]/);
    expect(a.stdout).toMatch(/--json[\s\S]*Examples:\n {2}\$ tfjs-quant inspect /);
    const b = await runCli(['inspect', '--help']);
    expect(b.stdout).toBe(a.stdout);
  });

  it('inspect of a model', async () => {
    const r = await runCli(['inspect', good, '--json']);
    expectCode(r, 0);
    expect(JSON.parse(r.stdout).format).toBe('layers-model');
  });
});

describe('exit code 1: some work failed, the rest was done and reported', () => {
  it('inspect of a corrupt model', async () => {
    const r = await runCli(['inspect', join(work, 'zoo', 'broken', 'truncated')]);
    expectCode(r, 1);
    expect(r.stderr).toMatch(/^tfjs-quant inspect: /);
  });

  it('run on an input of the wrong shape names the input and the shapes', async () => {
    const r = await runCli(['run', good, '--input', join(work, 'wrong.npy')]);
    expectCode(r, 1);
    expect(r.stderr).toMatch(/^tfjs-quant run: inputs\['[^']+'\] has shape \[10\], the model expects \[\?, 8\]/);
  });

  it('convert of a batch holding a corrupt model converts the others', async () => {
    const out = join(work, 'out-1');
    const r = await runCli([
      'convert',
      join(work, 'zoo', 'mlp'),
      join(work, 'zoo', 'broken'),
      '-o',
      out,
      '--eval-samples',
      '0',
    ]);
    expectCode(r, 1);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8')) as { models: { status: string }[] };
    expect(report.models.map((m) => m.status).sort()).toEqual(['done', 'failed']);
  });
});

describe('exit code 2: usage error', () => {
  it.each([
    ['no command', [], /^Usage: tfjs-quant <command>/],
    [
      'an unknown command, with a suggestion',
      ['convrt', 'x'],
      /^tfjs-quant: unknown command 'convrt'\n\(Did you mean convert\?\)/,
    ],
    ['help for an unknown command', ['help', 'inpsect'], /unknown command 'inpsect'\n\(Did you mean inspect\?\)/],
    [
      'an unknown flag, with a suggestion',
      ['convert', 'MODEL', '-o', 'OUT', '--tolerence', '0.9'],
      /^tfjs-quant convert: unknown option '--tolerence'\n\(Did you mean --tolerance\?\)/,
    ],
    [
      'a missing value',
      ['convert', 'MODEL', '-o'],
      /^tfjs-quant convert: option '-o, --output <DIR>' argument missing/,
    ],
    [
      'a flag given as a value',
      ['convert', 'MODEL', '-o', '--mode', 'int8'],
      /^tfjs-quant convert: --output needs a value/,
    ],
    [
      'a bad choice',
      ['convert', 'MODEL', '-o', 'OUT', '--mode', 'int4'],
      /^tfjs-quant convert: --mode must be one of dynamic, int8, float16, compress, got 'int4'/,
    ],
    [
      'a number out of range',
      ['convert', 'MODEL', '-o', 'OUT', '--jobs', '0'],
      /^tfjs-quant convert: --jobs must be in \[1, 64\], got 0/,
    ],
    ['a missing path (convert)', ['convert', 'NOPE', '-o', 'OUT'], /^tfjs-quant convert: '.*nope' does not exist/i],
    ['a missing path (inspect)', ['inspect', 'NOPE'], /^tfjs-quant inspect: '.*nope' does not exist/i],
    [
      'a missing input file (run)',
      ['run', 'MODEL', '--input', 'NOPE.npy'],
      /^tfjs-quant run: --input '.*nope\.npy' does not exist/i,
    ],
    [
      'the output inside the input',
      ['convert', 'ZOO', '-o', 'ZOO/out'],
      /^tfjs-quant convert: the output directory '.*' is inside the input directory/,
    ],
    [
      'a directory with no models',
      ['convert', 'EMPTY', '-o', 'OUT'],
      /^tfjs-quant convert: no model\.json found under/,
    ],
  ])('%s', async (_label, args, message) => {
    const real = args.map((a) =>
      a
        .replace('MODEL', good)
        .replace('OUT', join(work, 'out-2'))
        .replace('NOPE', join(work, 'nope'))
        .replace('ZOO', join(work, 'zoo'))
        .replace('EMPTY', join(work, 'empty')),
    );
    const r = await runCli(real);
    expectCode(r, 2);
    expect(r.stderr).toMatch(message);
  });
});

describe('exit code 3: convert --strict with a degraded model', () => {
  it('every model is written; one is below --tolerance', async () => {
    const out = join(work, 'out-3');
    // Full int8 without the guard cannot keep a score of 1: the model is degraded.
    const r = await runCli([
      'convert',
      good,
      '-o',
      out,
      '--mode',
      'int8',
      '--samples',
      '8',
      '--no-guard',
      '--tolerance',
      '1',
      '--strict',
      '--eval-samples',
      '8',
      '--runs',
      '1',
    ]);
    expectCode(r, 3);
    const report = JSON.parse(await fs.readFile(join(out, 'report.json'), 'utf8')) as { models: { status: string }[] };
    expect(report.models.map((m) => m.status)).toEqual(['degraded']);
    await expect(fs.stat(join(out, 'model.json'))).resolves.toBeTruthy();
  });
});

describe('exit code 130: interrupted', () => {
  it('Ctrl-C during a batch', async () => {
    let sent = false;
    const r = await runCli(
      [
        'convert',
        join(work, 'zoo', 'mlp'),
        join(work, 'zoo', 'cnn'),
        '-o',
        join(work, 'out-130'),
        '--mode',
        'compress',
        '--eval-samples',
        '2',
        '--runs',
        '1',
      ],
      {
        onSpawn: (p) =>
          p.stderr!.on('data', (d: Buffer) => {
            if (!sent && /converting 0\/2/.test(String(d))) {
              sent = true;
              p.kill('SIGINT');
            }
          }),
      },
    );
    expect(sent).toBe(true);
    expectCode(r, 130);
    expect(r.stderr).toMatch(/interrupted/);
  });
});

describe('docs/cli.md', () => {
  it('every documented exit code was walked above', () => {
    expect(documented).toEqual([0, 1, 2, 3, 130]);
    expect([...walked].sort((a, b) => a - b)).toEqual(documented);
  });
});
