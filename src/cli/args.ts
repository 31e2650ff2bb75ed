// A small, strict command-line parser: every flag is declared; unknown flags, missing
// values and bad numbers are usage errors (exit code 2) with a message naming the flag.

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
  [K in keyof F as Camel<K & string>]: F[K]['type'] extends 'boolean' ? boolean
    : F[K]['type'] extends 'number' | 'int' ? number | undefined
    : F[K]['type'] extends 'list' ? string[]
    : string | undefined;
} & { _: string[] };

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function parseArgs<F extends Flags>(argv: string[], flags: F): Parsed<F> {
  const out: Record<string, unknown> = { _: [] as string[] };
  const byName = new Map<string, [string, FlagSpec]>();
  const seenLists = new Set<string>();
  for (const [name, spec] of Object.entries(flags)) {
    byName.set(`--${name}`, [name, spec]);
    if (spec.alias) byName.set(`-${spec.alias}`, [name, spec]);
    out[camel(name)] = spec.default ?? (spec.type === 'boolean' ? false : spec.type === 'list' ? [] : undefined);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      (out._ as string[]).push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      (out._ as string[]).push(arg);
      continue;
    }
    let key = arg;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      key = arg.slice(0, eq);
      inline = arg.slice(eq + 1);
    }
    let entry = byName.get(key);
    if (!entry && key.startsWith('--no-')) {
      const pos = byName.get(`--${key.slice(5)}`);
      if (pos && pos[1].type === 'boolean') {
        out[camel(pos[0])] = false;
        continue;
      }
    }
    if (!entry) throw new UsageError(`unknown option ${key}`);
    const [name, spec] = entry;
    if (spec.type === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`${key} takes no value (or =true/=false)`);
        out[camel(name)] = inline === 'true';
      } else out[camel(name)] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith('--'))) throw new UsageError(`${key} needs a value`);
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`${key} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
    }
    if (spec.type === 'number' || spec.type === 'int') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (spec.type === 'int' && !Number.isInteger(v))) {
        throw new UsageError(`${key} must be ${spec.type === 'int' ? 'an integer' : 'a number'}, got '${raw}'`);
      }
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
        throw new UsageError(`${key} must be in [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}], got ${v}`);
      }
      out[camel(name)] = v;
    } else if (spec.type === 'list') {
      // The first occurrence replaces the default; later ones append.
      const prev = seenLists.has(name) ? ((out[camel(name)] as string[]) ?? []) : [];
      seenLists.add(name);
      out[camel(name)] = [...prev, ...raw.split(',').filter(Boolean)];
    } else {
      out[camel(name)] = raw;
    }
  }
  return out as Parsed<F>;
}

export function formatHelp(usage: string, description: string, flags: Flags): string {
  const rows = Object.entries(flags).map(([name, s]) => {
    const left = `${s.alias ? `-${s.alias}, ` : '    '}--${name}${s.type === 'boolean' ? '' : ` ${s.value ?? (s.choices ? s.choices.join('|') : s.type.toUpperCase())}`}`;
    const def = s.default !== undefined && s.default !== false && !(Array.isArray(s.default) && s.default.length === 0) ? ` (default: ${s.default})` : '';
    return [left, s.description + def] as const;
  });
  const w = Math.min(38, Math.max(0, ...rows.map((r) => r[0].length)));
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`).join('\n')}\n`;
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
export function parseCommand<F extends Flags>(command: string, args: string[], flags: F, usage: string, description: string, io: CommandIO): Parsed<F> | number {
  let opts: Parsed<F>;
  try {
    opts = parseArgs(args, flags);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`tfjs-quant ${command}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if ((opts as { help?: boolean }).help) {
    io.stdout(formatHelp(usage, description, flags));
    return 0;
  }
  return opts;
}
