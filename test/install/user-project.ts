// Fixtures of the tarball test: the package as `npm pack` makes it (with this platform's
// prebuild made from this checkout's addon), and a user project that installs it next to its own
// @tensorflow/tfjs entirely from the npm cache, with no compiler on PATH.
//
// Offline installs need every package's metadata and tarball in the cache; a fresh
// resolution would ask the registry for the newest matching versions, so the user project
// gets a package-lock.json instead, holding exactly the versions of this repository's lock
// (the same tarballs `npm install` here put in the cache). `npm ci --offline` then installs
// without the network, and `npm ls` still checks every range and peer against the tree.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');
/** The addon this checkout built; packed as the linux-x64 prebuild instead of rebuilding. */
export const builtAddon = join(repoRoot, 'build', 'Release', 'tfjs_quant.node');
/** Where prebuildify puts this machine's addon (Linux builds carry their libc, as node-gyp-build matches it). */
export const prebuildDir = `${process.platform}-${process.arch}`;
export const prebuildFile =
  process.platform === 'linux'
    ? `tfjs-quant.${existsSync('/etc/alpine-release') ? 'musl' : 'glibc'}.node`
    : 'tfjs-quant.node';
const npmCli = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}
type Lock = { packages: Record<string, LockEntry> };

/** Where Node would find `name` from the package at lock path `from` (nearest node_modules up). */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/**
 * Lock entries reachable from `roots` (required dependencies, required peers, and the optional
 * dependencies the lock lists: `npm ci` wants them in the lock even where their platform
 * skips them), by lock path.
 */
export function lockClosure(roots: string[]): Map<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lock;
  const out = new Map<string, LockEntry>();
  const queue: [string, string][] = roots.map((r) => ['', r]);
  while (queue.length) {
    const [from, name] = queue.shift()!;
    const path = resolveIn(lock, from, name);
    if (!path) throw new Error(`package-lock.json has no ${name} (needed by ${from || 'the user project'})`);
    if (out.has(path)) continue;
    const e = lock.packages[path]!;
    out.set(path, e);
    const peersRequired = Object.keys(e.peerDependencies ?? {}).filter((p) => !e.peerDependenciesMeta?.[p]?.optional);
    const optionalListed = Object.keys(e.optionalDependencies ?? {}).filter((d) => resolveIn(lock, path, d));
    for (const d of [...Object.keys(e.dependencies ?? {}), ...peersRequired, ...optionalListed]) queue.push([path, d]);
  }
  return out;
}

function nameOf(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Packages of the closure whose tarball is not in the npm cache ("name@version"); optional ones may be absent (npm skips them). */
export function missingFromCache(closure: Map<string, LockEntry>): string[] {
  const entries = new Map([...closure].filter(([, e]) => e.optional !== true));
  const specs = [...entries].map(([p, e]) => `${nameOf(p)}@${e.version}`);
  const keys = execFileSync(process.execPath, [npmCli, 'cache', 'ls', ...specs], { encoding: 'utf8' });
  return [...entries]
    .filter(([p, e]) => {
      const name = nameOf(p);
      const file = `${name.split('/').pop()}-${e.version}.tgz`;
      return !keys.includes(`https://registry.npmjs.org/${name}/-/${file}`);
    })
    .map(([p, e]) => `${nameOf(p)}@${e.version}`);
}

/** A bin directory holding only node, npm, npx and sh (npm runs scripts with it): no compiler, no cmake. */
export function compilerFreeBin(dir: string): string {
  mkdirSync(dir, { recursive: true });
  symlinkSync(process.execPath, join(dir, 'node'));
  symlinkSync('/bin/sh', join(dir, 'sh'));
  writeFileSync(join(dir, 'npm'), `#!/bin/sh\nexec "${process.execPath}" "${npmCli}" "$@"\n`, { mode: 0o755 });
  writeFileSync(
    join(dir, 'npx'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(npmCli, '..', 'npx-cli.js')}" "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

/**
 * The package as published: this checkout's files (package.json "files" decides what npm
 * keeps), dist/ compiled from src/ now, and the built addon as this platform's prebuild.
 * Returns the tarball path and its package.json.
 */
export function packTarball(work: string): {
  tarball: string;
  manifest: LockEntry & { name: string; version: string };
} {
  const stage = join(work, 'stage');
  for (const f of ['package.json', 'README.md', 'bin', 'native', 'CMakeLists.txt', 'binding.d.ts', 'scripts', 'docs']) {
    cpSync(join(repoRoot, f), join(stage, f), { recursive: true });
  }
  execFileSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(repoRoot, 'tsconfig.build.json'),
      '--outDir',
      join(stage, 'dist'),
    ],
    { stdio: 'pipe' },
  );
  mkdirSync(join(stage, 'prebuilds', prebuildDir), { recursive: true });
  cpSync(builtAddon, join(stage, 'prebuilds', prebuildDir, prebuildFile));
  const name = execFileSync(
    process.execPath,
    [npmCli, 'pack', '--ignore-scripts', '--silent', '--pack-destination', work],
    { cwd: stage, encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .pop()!;
  return { tarball: join(work, name), manifest: JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) };
}

/** The user project: its own @tensorflow/tfjs, the tarball, a lock pinning this repository's versions. */
export function writeUserProject(
  dir: string,
  tarball: string,
  manifest: LockEntry & { name: string; version: string },
  closure: Map<string, LockEntry>,
  tfjsVersion: string,
): void {
  mkdirSync(dir, { recursive: true });
  const tarballSpec = `file:${tarball}`;
  const deps = { '@tensorflow/tfjs': tfjsVersion, [manifest.name]: tarballSpec };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'user-app', version: '1.0.0', private: true, type: 'module', dependencies: deps }, null, 2),
  );
  const packages: Record<string, unknown> = { '': { name: 'user-app', version: '1.0.0', dependencies: deps } };
  for (const [path, e] of closure) {
    // In the user project nothing is a dev-only or peer-only install.
    const { dev: _d, devOptional: _o, peer: _p, ...rest } = e;
    // This machine's npm writes locks without download addresses (omit-lockfile-registry-resolved);
    // without one, `npm ci` asks the registry for the package's metadata, which an offline install
    // cannot do. The registry's tarball address is fixed by name and version, and the integrity
    // hash then finds the tarball in the cache.
    if (rest.resolved === undefined && typeof rest.version === 'string') {
      const name = nameOf(path);
      rest.resolved = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${rest.version}.tgz`;
    }
    packages[path] = rest;
  }
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  packages[`node_modules/${manifest.name}`] = {
    version: manifest.version,
    resolved: tarballSpec,
    integrity,
    hasInstallScript: true,
    dependencies: manifest.dependencies,
    peerDependencies: manifest.peerDependencies,
    peerDependenciesMeta: manifest.peerDependenciesMeta,
    bin: manifest.bin,
    engines: manifest.engines,
  };
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'user-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

/** Runs a command in the user project with only `bin` on PATH. */
export function runIn(
  dir: string,
  bin: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeout = 180_000,
): SpawnSyncReturns<string> {
  return spawnSync(join(bin, cmd), args, {
    cwd: dir,
    encoding: 'utf8',
    timeout,
    env: { HOME: process.env.HOME ?? '/root', PATH: bin, NO_COLOR: '1', npm_config_update_notifier: 'false', ...env },
  });
}

/** Compilers and cmake reachable on a PATH value (expected: none). */
export function toolsOnPath(pathValue: string): string[] {
  return ['cc', 'c++', 'gcc', 'g++', 'clang', 'clang++', 'cmake', 'make'].filter((t) =>
    pathValue.split(delimiter).some((d) => existsSync(join(d, t))),
  );
}
