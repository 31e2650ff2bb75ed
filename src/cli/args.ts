// Command-line parsing on commander: each command declares its flags in a table (type,
// default, choices, range, placeholder) and parseCommand turns the table into a commander
// Command — help with examples, typo suggestions for unknown options, `--no-` forms of
// booleans — while the values are checked here with the messages the docs and tests name.
// Every usage problem is exit code 2, with a message naming the flag.
import { Command, CommanderError, Option } from 'commander';
import { examplesOf } from './examples.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface FlagSpec {
  type: FlagType;
  alias?: string;
  description: string;
  default?: string | number | boolean | string[];
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** Placeholder shown in help, e.g. "DIR". */
  value?: string;
}

export type Flags = Record<string, FlagSpec>;
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** Parsed flags, keyed by the camelCase form of each flag name (--skip-existing → skipExisting). */
export type Parsed<F extends Flags> = {
  [K in keyof F as Camel<K & string>]: F[K]['type'] extends 'boolean'
    ? boolean
    : F[K]['type'] extends 'number' | 'int'
      ? number | undefined
      : F[K]['type'] extends 'list'
        ? string[]
        : string | undefined;
} & { _: string[] };

/** The value checks of one flag, with the messages users see. */
function valueParser(name: string, spec: FlagSpec): (raw: string, previous: unknown) => unknown {
  const key = `--${name}`;
  // A list flag given on the command line replaces its default, then later ones append.
  let listStarted = false;
  return (raw, previous) => {
    // commander hands a required value the next argument even when it is a flag.
    if (raw.startsWith('--')) throw new UsageError(`${key} needs a value`);
    if (spec.choices && !spec.choices.includes(raw))
      throw new UsageError(`${key} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
    if (spec.type === 'number' || spec.type === 'int') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (spec.type === 'int' && !Number.isInteger(v))) {
        throw new UsageError(`${key} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      }
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        throw new UsageError(`${key} must be in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}], got ${v}`);
      }
      return v;
    }
    if (spec.type === 'list') {
      const prev = listStarted ? (previous as string[]) : [];
      listStarted = true;
      return [...prev, ...raw.split(',').filter(Boolean)];
    }
    return raw;
  };
}

function defaultText(d: FlagSpec['default']): string {
  return Array.isArray(d) ? d.join(',') : String(d);
}

/**
 * The commander Command of a flag table. `usage` is the full usage line ("tfjs-quant convert
 * <model.json>... [options]"); a `help` entry in the table becomes commander's -h/--help.
 */
export function buildCommand(command: string, flags: Flags, usage: string, description: string): Command {
  const prefix = `tfjs-quant ${command}`;
  const cmd = new Command(prefix)
    .usage(usage.startsWith(`${prefix} `) ? usage.slice(prefix.length + 1) : usage)
    .description(description)
    .argument('[args...]')
    .showSuggestionAfterError(true)
    .exitOverride();
  if (flags.help) cmd.helpOption(`${flags.help.alias ? `-${flags.help.alias}, ` : ''}--help`, flags.help.description);
  else cmd.helpOption(false);
  for (const [name, spec] of Object.entries(flags)) {
    if (name === 'help') continue;
    const short = spec.alias ? `-${spec.alias}, ` : '';
    if (spec.type === 'boolean') {
      // Both forms exist for every boolean; help shows the one that changes the default (the
      // value of an absent boolean is filled in after parsing, so help prints no "default: false").
      const on = new Option(`${short}--${name}`, spec.description);
      const off = new Option(`--no-${name}`, spec.default === true ? spec.description : `Turn --${name} off`);
      if (spec.default === true) on.hideHelp();
      else off.hideHelp();
      cmd.addOption(on).addOption(off);
      continue;
    }
    const placeholder = spec.value ?? (spec.choices ? spec.choices.join('|') : spec.type.toUpperCase());
    const o = new Option(`${short}--${name} <${placeholder}>`, spec.description).argParser(valueParser(name, spec));
    if (spec.default !== undefined && !(Array.isArray(spec.default) && spec.default.length === 0))
      o.default(spec.default, defaultText(spec.default));
    else if (spec.type === 'list') o.default([]);
    cmd.addOption(o);
  }
  const examples = examplesOf(command);
  if (examples.length) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  return cmd;
}

type Outcome<F extends Flags> =
  { kind: 'parsed'; opts: Parsed<F> } | { kind: 'help'; text: string } | { kind: 'error'; message: string };

function parseWith<F extends Flags>(
  command: string,
  argv: string[],
  flags: F,
  usage: string,
  description: string,
): Outcome<F> {
  let out = '',
    err = '';
  const cmd = buildCommand(command, flags, usage, description).configureOutput({
    writeOut: (s) => (out += s),
    writeErr: (s) => (err += s),
    // commander prefixes "error: "; the caller prefixes the command instead.
    outputError: (s, write) => write(s.replace(/^error: /, '')),
  });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof UsageError) return { kind: 'error', message: e.message };
    if (e instanceof CommanderError)
      return e.code === 'commander.helpDisplayed'
        ? { kind: 'help', text: out }
        : { kind: 'error', message: err.trim() };
    throw e;
  }
  const opts: Record<string, unknown> = { ...cmd.opts(), _: [...cmd.args] };
  for (const [name, spec] of Object.entries(flags)) {
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (spec.type === 'boolean' && name !== 'help') opts[key] ??= spec.default === true;
  }
  return { kind: 'parsed', opts: opts as Parsed<F> };
}

/** Parses `argv` against a flag table; a usage problem throws a UsageError naming the flag. */
export function parseArgs<F extends Flags>(argv: string[], flags: F): Parsed<F> {
  const r = parseWith('args', argv, flags, '[options]', '');
  if (r.kind === 'error') throw new UsageError(r.message);
  if (r.kind === 'help') return { _: [], help: true } as unknown as Parsed<F>;
  return r.opts;
}

/** The help text of a command (commander's layout, with its examples). */
export function formatHelp(usage: string, description: string, flags: Flags): string {
  const command = /^tfjs-quant (\S+)/.exec(usage)?.[1] ?? 'args';
  return buildCommand(command, flags, usage, description).helpInformation();
}

export interface CommandIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processIO: CommandIO = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

/**
 * Parses a command's arguments; prints --help (→ 0) or a usage error (→ 2) itself and then
 * returns the exit code instead of the parsed flags.
 */
export function parseCommand<F extends Flags>(
  command: string,
  args: string[],
  flags: F,
  usage: string,
  description: string,
  io: CommandIO,
): Parsed<F> | number {
  const r = parseWith(command, args, flags, usage, description);
  if (r.kind === 'help') {
    io.stdout(r.text);
    return 0;
  }
  if (r.kind === 'error') {
    io.stderr(`tfjs-quant ${command}: ${r.message}\n`);
    return 2;
  }
  return r.opts;
}
