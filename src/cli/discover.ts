// Finding the models of a batch: model.json files, directories searched recursively, and
// globs (`*`, `**`, `?`), each mapped to an output directory that keeps the input's folder
// structure. Refuses an output directory inside (or equal to) an input directory.
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from './args.js';

export interface ModelTask {
  /** Absolute path of the model.json. */
  source: string;
  /** Output directory relative to the batch's output root ('' for the root itself). */
  rel: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);

function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (r !== '..' && !r.startsWith('..' + sep) && !isAbsolute(r));
}

async function walk(dir: string, exclude: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(
      `cannot read directory '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (SKIP_DIRS.has(e.name) || e.name.startsWith('.tfjs-quant-tmp') || isInside(p, exclude)) continue;
      await walk(p, exclude, out);
    } else if (e.isFile() && e.name === 'model.json') {
      out.push(p);
    }
  }
}

/** A glob pattern as a RegExp over '/'-separated paths. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const slash = pattern[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += /[.+^${}()|[\]\\]/.test(c) ? '\\' + c : c;
  }
  return new RegExp(`^${re}$`);
}

const hasGlob = (s: string) => /[*?]/.test(s);

/**
 * The paths a command was given exist (a missing path is a usage error, exit 2, for every
 * command: docs/cli.md); `what` names the argument in the message ("--train").
 */
export async function requireExistingPaths(paths: readonly (string | undefined)[], what?: string): Promise<void> {
  for (const p of paths) {
    if (p === undefined) continue;
    const found = await fs.stat(resolve(p)).then(
      () => true,
      () => false,
    );
    if (!found) throw new UsageError(`${what ? `${what} ` : ''}'${p}' does not exist`);
  }
}

/** Resolves the batch's arguments into model tasks (sorted, unique outputs). */
export async function discoverModels(args: readonly string[], outDir: string): Promise<ModelTask[]> {
  if (!args.length) throw new UsageError('expected at least one model.json, directory or glob');
  const out = resolve(outDir);
  const tasks: ModelTask[] = [];
  for (const arg of args) {
    if (hasGlob(arg)) {
      const abs = resolve(arg).split(sep).join('/');
      const parts = abs.split('/');
      const firstGlob = parts.findIndex(hasGlob);
      const root = parts.slice(0, firstGlob).join('/') || '/';
      const found: string[] = [];
      await walk(root, out, found);
      const rx = globToRegExp(abs);
      const matched = found.filter((f) => {
        const p = f.split(sep).join('/');
        return rx.test(p) || rx.test(dirname(p));
      });
      if (!matched.length) throw new UsageError(`no model.json matches '${arg}'`);
      for (const m of matched) tasks.push({ source: m, rel: relative(root, dirname(m)) });
      continue;
    }
    const p = resolve(arg);
    let st;
    try {
      st = await fs.stat(p);
    } catch {
      throw new UsageError(`'${arg}' does not exist`);
    }
    if (st.isDirectory()) {
      if (isInside(out, p))
        throw new UsageError(`the output directory '${outDir}' is inside the input directory '${arg}'`);
      const found: string[] = [];
      await walk(p, out, found);
      if (!found.length) throw new UsageError(`no model.json found under '${arg}'`);
      // With several inputs, each directory's models go under its own name (two model folders
      // side by side would otherwise both be the output root).
      const base = args.length > 1 ? basename(p) : '';
      for (const m of found) {
        const r = relative(p, dirname(m));
        tasks.push({ source: m, rel: base ? join(base, r) : r });
      }
    } else {
      tasks.push({ source: p, rel: basename(dirname(p)) });
    }
  }
  // One output per model: disambiguate clashes with a numeric suffix, drop exact repeats.
  const bySource = new Map<string, ModelTask>();
  for (const t of tasks) if (!bySource.has(t.source)) bySource.set(t.source, t);
  const used = new Set<string>();
  const result: ModelTask[] = [];
  for (const t of bySource.values()) {
    let rel = t.rel;
    for (let k = 2; used.has(rel); k++) rel = `${t.rel}-${k}`;
    used.add(rel);
    result.push({ source: t.source, rel });
  }
  return result.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
