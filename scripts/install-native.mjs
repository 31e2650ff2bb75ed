#!/usr/bin/env node
// `npm install` hook. Uses the prebuilt addon in prebuilds/<platform>-<arch>/ (made by
// prebuildify, chosen by node-gyp-build exactly as the loader will choose it) when one
// matches and loads here; otherwise builds the addon from source with cmake-js (offline: the
// N-API headers come from the node-api-headers package), after checking that cmake and a
// C++ compiler are there, so a missing tool is named instead of failing deep in cmake.
// TFJS_QUANT_BUILD_FROM_SOURCE=1 always builds from source.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const MIN_CMAKE = [3, 18];
const here = `${process.platform}-${process.arch}${process.platform === 'linux' ? ` (${libc()})` : ''}, Node ${process.versions.node}`;

function libc() {
  // Same rule as node-gyp-build: Alpine means musl.
  return process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
}

function shippedPrebuilds() {
  const dir = join(root, 'prebuilds');
  return existsSync(dir)
    ? readdirSync(dir).filter((d) => readdirSync(join(dir, d)).some((f) => f.endsWith('.node')))
    : [];
}

/** The matching prebuild's path, or a sentence saying why there is none usable. */
function findPrebuild() {
  // PREBUILDS_ONLY makes node-gyp-build ignore a stale build/ and look in prebuilds/ only;
  // it reads the variable when first loaded, so it is set before the require.
  process.env.PREBUILDS_ONLY = '1';
  let path;
  try {
    path = require('node-gyp-build').path(root);
  } catch {
    const shipped = shippedPrebuilds();
    return {
      reason: `no prebuilt addon for ${here} (prebuilds in this package: ${shipped.length ? shipped.join(', ') : 'none'})`,
    };
  } finally {
    delete process.env.PREBUILDS_ONLY;
  }
  // A prebuild that matches by name can still fail to load (e.g. a glibc older than the
  // one it was built against): loading it once here is the only reliable check.
  try {
    require(path);
  } catch (e) {
    return { reason: `the prebuilt addon ${path} does not load here (${e.message.split('\n')[0]})` };
  }
  return { path };
}

function onPath(names) {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';') : [''];
  for (const name of names) {
    for (const d of dirs) for (const e of exts) if (existsSync(join(d, name + e))) return join(d, name + e);
  }
  return undefined;
}

/** What a source build lacks, as phrases naming each missing tool. */
function missingBuildTools() {
  const missing = [];
  const cmake = onPath(['cmake']);
  if (!cmake) {
    missing.push(`cmake (>= ${MIN_CMAKE.join('.')})`);
  } else {
    const v = spawnSync(cmake, ['--version'], { encoding: 'utf8' }).stdout?.match(/(\d+)\.(\d+)/);
    if (!v || +v[1] < MIN_CMAKE[0] || (+v[1] === MIN_CMAKE[0] && +v[2] < MIN_CMAKE[1])) {
      missing.push(`cmake >= ${MIN_CMAKE.join('.')} (found ${v ? v[0] : 'an unreadable version'} at ${cmake})`);
    }
  }
  // On Windows cmake finds Visual Studio's compiler itself (it is not on PATH).
  if (process.platform !== 'win32') {
    const cxx = process.env.CXX
      ? (onPath([process.env.CXX]) ?? (existsSync(process.env.CXX) ? process.env.CXX : undefined))
      : onPath(['c++', 'g++', 'clang++']);
    if (!cxx)
      missing.push(
        process.env.CXX
          ? `the C++ compiler CXX=${process.env.CXX}`
          : 'a C++17 compiler (c++, g++ or clang++ on PATH, or set CXX)',
      );
  }
  return missing;
}

function howToInstall() {
  switch (process.platform) {
    case 'linux':
      return 'Debian/Ubuntu: sudo apt-get install cmake g++; Alpine: apk add cmake g++ make; Fedora: sudo dnf install cmake gcc-c++';
    case 'darwin':
      return 'macOS: xcode-select --install, then brew install cmake';
    case 'win32':
      return 'Windows: Visual Studio Build Tools ("Desktop development with C++", which includes CMake)';
    default:
      return 'install cmake and a C++17 compiler';
  }
}

if (!process.env.TFJS_QUANT_BUILD_FROM_SOURCE) {
  const found = findPrebuild();
  if (found.path) {
    console.log(`tfjs-quant: using the prebuilt addon ${found.path}`);
    process.exit(0);
  }
  console.log(`tfjs-quant: ${found.reason}; building it from source`);
}

const missing = missingBuildTools();
if (missing.length) {
  console.error(
    `tfjs-quant: cannot build the native addon from source: missing ${missing.join(' and ')}.\n` +
      `  ${howToInstall()}.\n` +
      '  Then run: npm rebuild tfjs-quant',
  );
  process.exit(1);
}

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? String(Math.max(1, availableParallelism()));
console.log(`tfjs-quant: building the native addon with cmake-js (${jobs} jobs)`);
const r = spawnSync(process.execPath, [cmakeJs, 'build', '--CDCMAKE_BUILD_TYPE=Release'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
});
if (r.status !== 0) {
  console.error(
    `tfjs-quant: the native build failed (cmake-js exit ${r.status ?? r.signal}; its output is above). ` +
      `It needs cmake >= ${MIN_CMAKE.join('.')} and a C++17 compiler; after fixing, run: npm rebuild tfjs-quant`,
  );
  process.exit(r.status ?? 1);
}
