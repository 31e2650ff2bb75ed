// The zoo manifest (`<cache>/zoo.json`): one entry per laid-out model — where it came from
// (package@version or the builder script), the sha256 of every file, its family and task, and
// how to feed it (input shapes, dtypes, value ranges). Written by layout.ts and build.ts,
// read by run.ts and the zoo tests.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What kind of values an input takes (inputs.ts generates them). */
export type InputKind = 'image' | 'tokens' | 'constant';

export interface ZooInput {
  /** The placeholder name, as the model names it. */
  name: string;
  /** Concrete shape used by the harness (free dimensions fixed). */
  shape: number[];
  dtype: 'float32' | 'int32';
  kind: InputKind;
  /** image: value range of the pixels; tokens: [0, vocabulary size); constant: [v, v]. */
  range: [number, number];
  /** image: where the channel axis is. */
  layout?: 'NHWC' | 'NCHW';
  /** Why this shape / range (e.g. 'signature', 'as the package feeds it', 'assumed'). */
  note?: string;
}

export interface ZooModel {
  /** Unique id: `<group>/<model>` (the folder under the cache). */
  id: string;
  /** 'published' (an npm package) or 'built' (bench/zoo/built). */
  origin: 'published' | 'built';
  /** `package@version` or `bench/zoo/built/<file>`. */
  source: string;
  /** Path of the original file(s) inside the package, for provenance. */
  sourcePath?: string;
  format: 'graph-model' | 'layers-model';
  family: string;
  task: string;
  inputs: ZooInput[];
  /** Graph constructs worth knowing when reading the results (control flow, NMS, …). */
  constructs: string[];
  /** Relative to the model folder → sha256 (hex). */
  files: Record<string, string>;
  bytes: number;
}

export interface ZooManifest {
  version: 1;
  models: ZooModel[];
}

/** Default cache folder: $TFJS_QUANT_ZOO or ~/.cache/tfjs-quant/zoo. */
export function defaultCache(): string {
  return process.env.TFJS_QUANT_ZOO || join(homedir(), '.cache', 'tfjs-quant', 'zoo');
}

export function manifestPath(cache: string): string {
  return join(cache, 'zoo.json');
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function readManifest(cache: string): ZooManifest {
  const p = manifestPath(cache);
  if (!existsSync(p)) return { version: 1, models: [] };
  const m = JSON.parse(readFileSync(p, 'utf8')) as ZooManifest;
  if (m.version !== 1 || !Array.isArray(m.models)) throw new Error(`${p}: not a zoo manifest (version 1)`);
  return m;
}

/** Replaces the entries with the same ids, keeps the others, writes atomically. */
export async function mergeIntoManifest(cache: string, models: ZooModel[]): Promise<ZooManifest> {
  const m = readManifest(cache);
  const ids = new Set(models.map((x) => x.id));
  const merged: ZooManifest = {
    version: 1,
    models: [...m.models.filter((x) => !ids.has(x.id)), ...models].sort((a, b) => a.id.localeCompare(b.id)),
  };
  const p = manifestPath(cache);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(`${p}.tmp`, JSON.stringify(merged, null, 1) + '\n');
  await rename(`${p}.tmp`, p);
  return merged;
}

/** Files of a model folder with their sha256 and total size. */
export async function hashFiles(
  dir: string,
  names: string[],
): Promise<{ files: Record<string, string>; bytes: number }> {
  const files: Record<string, string> = {};
  let bytes = 0;
  for (const n of [...names].sort()) {
    const b = await readFile(join(dir, n));
    files[n] = sha256(b);
    bytes += b.length;
  }
  return { files, bytes };
}

/** Checks a laid-out model against its manifest entry (files present with the recorded sha256). */
export function verifyModel(cache: string, m: ZooModel): string | undefined {
  for (const [f, h] of Object.entries(m.files)) {
    const p = join(cache, m.id, f);
    if (!existsSync(p)) return `${m.id}: ${f} is missing (run the layout again)`;
    if (sha256(readFileSync(p)) !== h) return `${m.id}: ${f} does not match its recorded sha256`;
  }
  return undefined;
}
