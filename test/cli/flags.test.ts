// Every flag of every command, parsed through the CLI's own parser: a valid value reaches the
// options under the flag's camelCase name, and (where the flag has bounds or choices) a value
// outside them is refused with a message naming the flag. Which flag does what is tested by the
// command tests; this walks them all, so a flag added without a working parser entry fails here.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type Flags, type FlagSpec } from '../../src/cli/args.js';
import { BENCH_FLAGS } from '../../src/cli/bench.js';
import { COMPRESS_FLAGS } from '../../src/cli/compress.js';
import { CONVERT_FLAGS } from '../../src/cli/convert.js';
import { DEMO_FLAGS } from '../../src/cli/demo.js';
import { INFO_FLAGS } from '../../src/cli/info.js';
import { INSPECT_FLAGS } from '../../src/cli/inspect.js';
import { RUN_FLAGS } from '../../src/cli/run.js';
import { SERVE_FLAGS } from '../../src/cli/serve.js';
import { WORKER_FLAGS } from '../../src/cli/worker.js';

const TABLES: Record<string, Flags> = {
  bench: BENCH_FLAGS,
  compress: COMPRESS_FLAGS,
  convert: CONVERT_FLAGS,
  demo: DEMO_FLAGS,
  info: INFO_FLAGS,
  inspect: INSPECT_FLAGS,
  run: RUN_FLAGS,
  serve: SERVE_FLAGS,
  worker: WORKER_FLAGS,
};
const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A valid value other than the default, as argv, and what the parser should give. */
function sample(name: string, spec: FlagSpec): { argv: string[]; want: unknown } {
  switch (spec.type) {
    case 'boolean':
      return spec.default === true ? { argv: [`--no-${name}`], want: false } : { argv: [`--${name}`], want: true };
    case 'list':
      return { argv: [`--${name}`, 'a,b'], want: ['a', 'b'] };
    case 'int':
    case 'number': {
      const lo = spec.min ?? 0,
        hi = spec.max ?? lo + 100;
      const v = spec.choices
        ? Number(spec.choices.find((c) => Number(c) !== spec.default) ?? spec.choices[0])
        : spec.default === hi
          ? lo
          : Math.min(hi, Math.max(lo, Math.floor((lo + hi) / 2) || 1));
      return { argv: [`--${name}`, String(v)], want: v };
    }
    default: {
      const v = spec.choices ? (spec.choices.find((c) => c !== spec.default) ?? spec.choices[0]!) : 'x';
      return { argv: [`--${name}`, v], want: v };
    }
  }
}

/** A value the flag must refuse, when it has one (bounds or choices). */
function outside(name: string, spec: FlagSpec): string[] | undefined {
  if (spec.choices) return [`--${name}`, 'not-a-choice'];
  if ((spec.type === 'int' || spec.type === 'number') && spec.max !== undefined)
    return [`--${name}`, String(spec.max + 1)];
  if ((spec.type === 'int' || spec.type === 'number') && spec.min !== undefined)
    return [`--${name}`, String(spec.min - 1)];
  return undefined;
}

describe.each(Object.entries(TABLES))('tfjs-quant %s', (_command, flags) => {
  const entries = Object.entries(flags);

  it('parses every flag: a valid value reaches the options', () => {
    let checked = 0;
    for (const [name, spec] of entries) {
      const { argv, want } = sample(name, spec);
      const opts = parseArgs(argv, flags) as unknown as Record<string, unknown>;
      expect(opts[camel(name)], `--${name} ${argv.slice(1).join(' ')}`).toEqual(want);
      if (spec.alias)
        expect(
          (parseArgs([`-${spec.alias}`, ...argv.slice(1)], flags) as unknown as Record<string, unknown>)[camel(name)],
          `-${spec.alias}`,
        ).toEqual(want);
      checked++;
    }
    expect(checked).toBe(entries.length);
  });

  it("refuses a value outside a flag's bounds or choices, naming the flag", () => {
    let checked = 0;
    for (const [name, spec] of entries) {
      const bad = outside(name, spec);
      if (!bad) continue;
      expect(() => parseArgs(bad, flags), bad.join(' ')).toThrow(UsageError);
      expect(() => parseArgs(bad, flags), bad.join(' ')).toThrow(new RegExp(`--${name}\\b`));
      checked++;
    }
    // Every flag with bounds or choices was tried.
    expect(checked).toBe(
      entries.filter(
        ([, s]) =>
          s.choices || ((s.type === 'int' || s.type === 'number') && (s.min !== undefined || s.max !== undefined)),
      ).length,
    );
  });
});
