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
    loadError = new Error(
      `tfjs-quant: could not load the native addon (${(e as Error).message}). ` +
        'Run `npm install` (or `npm run build:native`) to build it; it needs cmake and a C++17 compiler.',
    );
    throw loadError;
  }
}
