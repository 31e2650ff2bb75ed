import { describe, expect, it } from 'vitest';
import { formatHelp, parseArgs, UsageError } from '../../src/cli/args.js';
import { formatDuration, Progress } from '../../src/cli/progress.js';

const flags = {
  out: { type: 'string', alias: 'o', description: 'output directory', value: 'DIR' },
  mode: { type: 'string', description: 'mode', choices: ['dynamic', 'int8', 'float16'], default: 'int8' },
  jobs: { type: 'int', description: 'workers', min: 1, max: 64, default: 1 },
  percentile: { type: 'number', description: 'percentile', min: 0, max: 100 },
  'skip-existing': { type: 'boolean', description: 'skip finished models' },
  exclude: { type: 'list', description: 'patterns' },
} as const;

describe('command-line parsing', () => {
  it('parses values, aliases, =forms, booleans, lists and positionals', () => {
    const a = parseArgs(
      [
        'm1.json',
        '-o',
        'out',
        '--mode=dynamic',
        '--jobs',
        '2',
        '--skip-existing',
        '--exclude',
        'a,b',
        '--exclude=c',
        'm2.json',
        '--percentile',
        '99.99',
      ],
      flags,
    );
    expect(a._).toEqual(['m1.json', 'm2.json']);
    expect(a.out).toBe('out');
    expect(a.mode).toBe('dynamic');
    expect(a.jobs).toBe(2);
    expect(a.skipExisting).toBe(true);
    expect(a.exclude).toEqual(['a', 'b', 'c']);
    expect(a.percentile).toBeCloseTo(99.99);
  });

  it('a list flag given on the command line replaces its default (then appends)', () => {
    const withDefault = { batch: { type: 'list', description: 'sizes', default: ['1', '8'] as string[] } } as const;
    expect(parseArgs([], withDefault).batch).toEqual(['1', '8']);
    expect(parseArgs(['--batch', '2'], withDefault).batch).toEqual(['2']);
    expect(parseArgs(['--batch', '2,4', '--batch=16'], withDefault).batch).toEqual(['2', '4', '16']);
  });

  it('applies defaults and --no- for booleans', () => {
    const a = parseArgs(['--skip-existing', '--no-skip-existing'], flags);
    expect(a.mode).toBe('int8');
    expect(a.jobs).toBe(1);
    expect(a.skipExisting).toBe(false);
    expect(a.out).toBeUndefined();
  });

  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['--mdoe', 'int8'], /unknown option '--mdoe'\n\(Did you mean --mode\?\)/],
    [['--jobs'], /option '--jobs <INT>' argument missing/],
    [['--jobs', 'two'], /--jobs must be an integer, got 'two'/],
    [['--jobs', '1.5'], /--jobs must be an integer/],
    [['--jobs', '0'], /--jobs must be in \[1, 64\], got 0/],
    [['--mode', 'int4'], /--mode must be one of dynamic, int8, float16, got 'int4'/],
    [['--out', '--mode'], /--out needs a value/],
    [['--skip-existing=maybe'], /unknown option '--skip-existing=maybe'/],
  ])('rejects %j with a usage error naming the flag', (argv, msg) => {
    expect(() => parseArgs(argv as string[], flags)).toThrow(UsageError);
    expect(() => parseArgs(argv as string[], flags)).toThrow(msg);
  });

  it('formats help listing every flag', () => {
    const h = formatHelp('tfjs-quant convert <model>... -o DIR', 'Convert models.', flags);
    for (const name of Object.keys(flags)) expect(h).toContain(`--${name}`);
    expect(h).toContain('-o, --out <DIR>');
    expect(h).toMatch(/^Usage: tfjs-quant convert <model>\.\.\. -o DIR\n/);
    expect(h).toContain('(default: int8)');
  });
});

describe('progress', () => {
  it('prints plain lines off a TTY with counts, percent, ETA and the current item', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress({
      total: 4,
      label: 'convert',
      stream: { write: (s: string) => lines.push(s), isTTY: false },
      plainInterval: 0,
      now: () => t,
    });
    t = 1000;
    p.tick(1, 'a.json');
    t = 2000;
    p.tick(1, 'b.json');
    expect(lines.at(-1)).toBe('convert 2/4 (50%) ETA 2.0s b.json\n');
    t = 4000;
    p.tick(2);
    expect(lines.at(-1)).toMatch(/^convert 4\/4 \(100%\) ETA 0\.0s/);
  });

  it('redraws one line on a TTY', () => {
    const out: string[] = [];
    const p = new Progress({
      total: 2,
      stream: { write: (s: string) => out.push(s), isTTY: true, columns: 100 },
      now: () => 0,
    });
    p.tick();
    if (process.env.CI)
      expect(out.at(-1)).toMatch(/1\/2/); // CI forces plain lines
    // The escape byte is the point: the line is redrawn in place with an ANSI erase-line.
    // eslint-disable-next-line no-control-regex
    else expect(out.at(-1)).toMatch(/^\r\x1b\[2K.*1\/2 \(50%\)/);
  });

  it('formats durations', () => {
    expect(formatDuration(5.25)).toBe('5.3s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m');
  });
});

describe('main: --version and help <command>', () => {
  it("--version prints package.json's version; help convert prints the convert options", async () => {
    const { main } = await import('../../src/cli/main.js');
    const { readFileSync } = await import('node:fs');
    const version = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    const out: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
    expect(await main(['--version'], io)).toBe(0);
    expect(out.join('')).toBe(`${version}\n`);
    out.length = 0;
    expect(await main(['help', 'convert'], io)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: tfjs-quant convert[\s\S]*--tolerance[\s\S]*--strict/);
  });
});

describe('every command: help with examples, and the flags docs/cli.md names', () => {
  const COMMANDS = ['info', 'inspect', 'convert', 'compress', 'bench', 'demo', 'run', 'serve', 'worker'];

  async function helpOf(argv: string[]): Promise<{ code: number; out: string }> {
    const { main } = await import('../../src/cli/main.js');
    let out = '';
    const io = {
      stdout: (s: string) => {
        out += s;
      },
      stderr: (s: string) => {
        out += s;
      },
    };
    return { code: await main(argv, io), out };
  }

  it.each(COMMANDS)('%s --help: usage, options, examples; the overview lists it', async (c) => {
    const h = await helpOf([c, '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(new RegExp(`^Usage: tfjs-quant ${c} `));
    expect(h.out).toMatch(/\nOptions:\n[\s\S]*-h, --help[\s\S]*\nExamples:\n {2}\$ tfjs-quant /);
    for (const line of h.out.split('\nExamples:\n')[1]!.trimEnd().split('\n'))
      expect(line).toMatch(new RegExp(`^ {2}\\$ tfjs-quant ${c}\\b`));
    expect((await helpOf(['help'])).out).toMatch(new RegExp(`\\n {2}${c} +\\S`));
  });

  it('every flag docs/cli.md names is a flag of some command (same spelling); every convert flag is documented', async () => {
    const { readFileSync } = await import('node:fs');
    const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const FLAG = /(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/g;
    // The docs show a mistyped flag in an example of the suggestion ("unknown option '--tolerence'").
    const typos = new Set([...docs.matchAll(/unknown option '--([a-z-]+)'/g)].map((m) => m[1]!));
    const documented = new Set([...docs.matchAll(FLAG)].map((m) => m[1]!).filter((f) => !typos.has(f)));
    const helps = (await Promise.all([['--help'], ...COMMANDS.map((c) => [c, '--help'])].map(helpOf)))
      .map((h) => h.out)
      .join('\n');
    const offered = new Set([...helps.matchAll(FLAG)].map((m) => m[1]!));
    // Booleans take their --no- form too (help shows the one that changes the default).
    const missing = [...documented].filter(
      (f) => !offered.has(f) && !offered.has(`no-${f}`) && !(f.startsWith('no-') && offered.has(f.slice(3))),
    );
    expect(missing).toEqual([]);
    const convert = (await helpOf(['convert', '--help'])).out.split('\nExamples:')[0]!;
    const convertFlags = [...convert.matchAll(/^ {2}(?:-\w, )?--([a-z][a-z0-9-]*)/gm)]
      .map((m) => m[1]!)
      .filter((f) => f !== 'help');
    expect(convertFlags.filter((f) => !documented.has(f))).toEqual([]);
  });
});
