#!/usr/bin/env node
// `npm install` hook: use a matching prebuild from prebuilds/ (made by prebuildify) when
// there is one, else build the addon from source with cmake-js (offline: N-API headers
// come from the node-api-headers package, see "binary.napi_versions" in package.json).
// TFJS_QUANT_BUILD_FROM_SOURCE=1 always builds.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

if (!process.env.TFJS_QUANT_BUILD_FROM_SOURCE) {
  try {
    const found = require('node-gyp-build').path(root);
    // An earlier build/ is not trusted to be current: cmake-js rebuilds incrementally.
    if (found.includes(`${'/'}prebuilds${'/'}`) || found.includes('\\prebuilds\\')) {
      console.log(`tfjs-quant: using prebuilt addon ${found}`);
      process.exit(0);
    }
  } catch {
    // No prebuild: build below.
  }
}

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const args = [cmakeJs, 'build', '--CDCMAKE_BUILD_TYPE=Release'];
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? String(Math.max(1, (await import('node:os')).availableParallelism()));
console.log(`tfjs-quant: building the native addon with cmake-js (${jobs} jobs)`);
const r = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs },
});
if (r.status !== 0) {
  console.error('tfjs-quant: native build failed. It needs cmake (>= 3.18) and a C++17 compiler.');
  process.exit(r.status ?? 1);
}
