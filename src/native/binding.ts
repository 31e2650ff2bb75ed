// Loads the native addon once: TFJS_QUANT_ADDON (an explicit .node path, used by
// sanitizer and side-by-side builds), else build/Release or a matching prebuild via
// node-gyp-build.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeBinding } from '../../binding.js';

const require = createRequire(import.meta.url);
export const packageRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  // src/native (sources) and dist/native (compiled) are both two levels below the root.
  return join(start, '..', '..');
}

let cached: NativeBinding | undefined;
let loadError: Error | undefined;

export function native(): NativeBinding {
  if (cached) return cached;
  if (loadError) throw loadError;
  try {
    const explicit = process.env.TFJS_QUANT_ADDON;
    const b = (explicit ? require(explicit) : require('node-gyp-build')(packageRoot)) as NativeBinding;
    const warning = b.isaWarning();
    if (warning) process.emitWarning(warning, { code: 'TFJS_QUANT_ISA' });
    cached = b;
    return b;
  } catch (e) {
    // Install picks a prebuild or builds from source (scripts/install-native.mjs); reaching
    // here means neither left a loadable addon, e.g. the install ran with --ignore-scripts.
    const reason = ((e as Error).message ?? String(e)).split('\n')[0];
    loadError = new Error(
      `tfjs-quant: could not load the native addon for ${process.platform}-${process.arch} (${reason}). ` +
        'Prebuilt addons ship for linux-x64 and linux-arm64 (glibc and musl), darwin-x64 and darwin-arm64; ' +
        'elsewhere it is built from source at install, which needs cmake >= 3.18 and a C++17 compiler. ' +
        'Run `npm rebuild tfjs-quant` to pick the prebuild or build it again (the reason is printed).',
    );
    throw loadError;
  }
}
