// Atomic output: a model directory is either written completely or not at all, and a
// reader never sees a half-written file. New directories are built under a temporary
// sibling name and renamed into place; into an existing directory every file is first
// written (and fsynced) under a temporary name, then renamed, model.json (the file that
// references the others) last. On any failure the temporary files are removed.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface OutputFile {
  /** Plain file name inside the output directory (no separators). */
  name: string;
  bytes: Uint8Array;
}

export interface AtomicWriteOptions {
  /** Files (absolute or relative paths) that must never be overwritten, e.g. the model's inputs. */
  protect?: readonly string[];
  /** Name of the file renamed last (default 'model.json'). */
  commitFile?: string;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name)) {
    throw new RangeError(`output file name '${name}' must be a plain file name`);
  }
}

async function realOrResolved(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    // Not existing yet: resolve the parent if it exists.
    try {
      return join(await fs.realpath(dirname(resolve(p))), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await fs.open(path, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes files into dir atomically (see the module comment). Returns the written paths. */
export async function writeFilesAtomic(
  dir: string,
  files: readonly OutputFile[],
  opts: AtomicWriteOptions = {},
): Promise<string[]> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('output directory must be a non-empty string');
  const seen = new Set<string>();
  for (const f of files) {
    checkName(f.name);
    if (!(f.bytes instanceof Uint8Array)) throw new TypeError(`output file '${f.name}' must have Uint8Array bytes`);
    if (seen.has(f.name)) throw new RangeError(`output file '${f.name}' is listed twice`);
    seen.add(f.name);
  }
  const target = resolve(dir);
  const protect = new Set(await Promise.all((opts.protect ?? []).map(realOrResolved)));
  for (const f of files) {
    const dest = await realOrResolved(join(target, f.name));
    if (protect.has(dest)) throw new Error(`refusing to overwrite the input file ${dest}`);
  }
  const commit = opts.commitFile ?? 'model.json';
  const order = [...files].sort((a, b) => (a.name === commit ? 1 : 0) - (b.name === commit ? 1 : 0));
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  let exists = false;
  try {
    const st = await fs.stat(target);
    if (!st.isDirectory()) throw new Error(`output path ${target} exists and is not a directory`);
    exists = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }

  if (!exists) {
    await fs.mkdir(dirname(target), { recursive: true });
    const tmpDir = `${target}.tmp-${tag}`;
    await fs.mkdir(tmpDir);
    try {
      for (const f of order) await writeSynced(join(tmpDir, f.name), f.bytes);
      await fs.rename(tmpDir, target);
    } catch (e) {
      await fs.rm(tmpDir, { recursive: true, force: true });
      throw e;
    }
    return order.map((f) => join(target, f.name));
  }

  const temps: [string, string][] = [];
  try {
    for (const f of order) {
      const tmp = join(target, `.${f.name}.tmp-${tag}`);
      temps.push([tmp, join(target, f.name)]);
      await writeSynced(tmp, f.bytes);
    }
    for (const [tmp, dest] of temps) await fs.rename(tmp, dest);
  } catch (e) {
    await Promise.all(temps.map(([tmp]) => fs.rm(tmp, { force: true })));
    throw e;
  }
  return temps.map(([, dest]) => dest);
}
