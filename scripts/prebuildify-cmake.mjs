#!/usr/bin/env node
// prebuildify 6 only knows node-gyp: it runs `<node-gyp> rebuild --target=V --devdir=D
// [--arch=A] --release|--debug` and then looks for build/Release/*.node. This adapter
// accepts that command line and builds the same addon with cmake-js instead (N-API:
// one build serves every Node version, so --target and --devdir are not needed).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`prebuildify-cmake: expected 'rebuild', got ${JSON.stringify(args)}`);
  process.exit(2);
}
const arch = args.find((a) => a.startsWith('--arch='))?.slice(7);
const debug = args.includes('--debug');
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const cmd = [cmakeJs, 'rebuild', ...(arch ? ['--arch', arch] : []), ...(debug ? ['--debug'] : ['--CDCMAKE_BUILD_TYPE=Release'])];
const r = spawnSync(process.execPath, cmd, { stdio: 'inherit' });
process.exit(r.status ?? 1);
