// The float reference backend: @tensorflow/tfjs-node when the user's project has it and it
// loads (an optional peer: its install downloads libtensorflow), else tfjs-backend-wasm (an
// optional peer), else the pure-JS cpu backend. TFJS_QUANT_FLOAT_BACKEND=tensorflow|wasm|cpu
// forces one.
import * as tf from './tf.js';
import { createRequire } from 'node:module';

export type FloatBackendName = 'tensorflow' | 'wasm' | 'cpu';
export { tf };

const require = createRequire(import.meta.url);
let ready: Promise<FloatBackendName> | undefined;
const registered = new Set<FloatBackendName>(['cpu']);

function tryRegister(name: FloatBackendName): boolean {
  if (registered.has(name)) return true;
  try {
    if (name === 'tensorflow') require('@tensorflow/tfjs-node');
    else if (name === 'wasm') require('@tensorflow/tfjs-backend-wasm');
    registered.add(name);
    return true;
  } catch {
    return false;
  }
}

/** Backends that can be loaded here, best first. */
export function availableFloatBackends(): FloatBackendName[] {
  return (['tensorflow', 'wasm', 'cpu'] as FloatBackendName[]).filter((n) => tryRegister(n));
}

/**
 * Selects the float backend once (later calls return the same choice unless `force` names
 * another). Returns its name.
 */
export function initFloatBackend(force?: FloatBackendName): Promise<FloatBackendName> {
  if (!force && ready) return ready;
  const wanted = force ?? (process.env.TFJS_QUANT_FLOAT_BACKEND as FloatBackendName | undefined);
  const order: FloatBackendName[] = wanted ? [wanted] : ['tensorflow', 'wasm', 'cpu'];
  if (wanted && !['tensorflow', 'wasm', 'cpu'].includes(wanted)) {
    return Promise.reject(new RangeError(`float backend must be 'tensorflow', 'wasm' or 'cpu', got '${wanted}'`));
  }
  ready = (async () => {
    for (const name of order) {
      if (!tryRegister(name)) continue;
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    }
    throw new Error(`float backend ${order.join('/')} could not be initialised`);
  })();
  return ready;
}

/** The float backend in use, or undefined before initFloatBackend resolved. */
export function floatBackendName(): FloatBackendName | undefined {
  const b = tf.getBackend() as FloatBackendName | undefined;
  return b && registered.has(b) ? b : undefined;
}

/** Human-readable description, e.g. for benchmark tables: "wasm (single-threaded SIMD)". */
export function describeFloatBackend(name: FloatBackendName | undefined = floatBackendName()): string {
  switch (name) {
    case 'tensorflow':
      return 'tfjs-node (libtensorflow)';
    case 'wasm':
      return 'tfjs-backend-wasm (SIMD, single-threaded in Node)';
    case 'cpu':
      return 'tfjs-backend-cpu (pure JS)';
    default:
      return 'none';
  }
}
