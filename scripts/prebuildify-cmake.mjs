#!/usr/bin/env node
// prebuildify 6 only knows node-gyp: it runs `<node-gyp> rebuild --target=V --devdir=D
// [--arch=A] --release|--debug` and then looks for build/Release/*.node. This adapter
// accepts that command line and builds the same addon with cmake-js instead (N-API:
// one build serves every Node version, so --target and --devdir are not needed).
//
// Cross builds: when --arch names another architecture than this machine's on Linux, the
// CMake toolchain file scripts/toolchain-linux-<arch>.cmake is used (it names the cross
// compiler); TFJS_QUANT_CMAKE_TOOLCHAIN=<file> overrides it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch as hostArch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args[0] !== 'rebuild') {
  console.error(`prebuildify-cmake: expected 'rebuild', got ${JSON.stringify(args)}`);
  process.exit(2);
}
const arch = args.find((a) => a.startsWith('--arch='))?.slice(7);
const debug = args.includes('--debug');

let toolchain = process.env.TFJS_QUANT_CMAKE_TOOLCHAIN;
if (!toolchain && arch && arch !== hostArch() && platform() === 'linux') {
  toolchain = join(here, `toolchain-linux-${arch}.cmake`);
  if (!existsSync(toolchain)) {
    console.error(`prebuildify-cmake: no cross toolchain for linux-${arch} (expected ${toolchain})`);
    process.exit(2);
  }
}

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const cmd = [
  cmakeJs,
  'rebuild',
  ...(arch ? ['--arch', arch] : []),
  ...(debug ? ['--debug'] : ['--CDCMAKE_BUILD_TYPE=Release']),
  ...(toolchain ? [`--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`] : []),
];
const r = spawnSync(process.execPath, cmd, { stdio: 'inherit' });
process.exit(r.status ?? 1);
