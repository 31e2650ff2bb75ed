// file:// URLs for stock TF.js in Node without tfjs-node: registers load and save routers
// that hand tfjs a fileIO handler, so `tf.loadGraphModel('file://…/model.json')`,
// `tf.loadLayersModel(…)` and `model.save('file://dir')` read and write local files (the
// TF.js formats, e.g. what `convert --format tfjs` writes). A tfjs-quant file loaded this way
// is refused by fileIO with a message naming the loader that runs it (loadGraphModel of this
// package). Registration is explicit and once only: tfjs refuses a URL two routers claim, so
// registering beside tfjs-node's own file:// router would break both.
import { tf } from '../backend/float.js';
import { fileIO } from './files.js';

/** The part of tf.io this needs (any tfjs copy's tf.io has it). */
export interface RouterRegistry {
  registerLoadRouter(router: (url: string | string[]) => unknown): void;
  registerSaveRouter(router: (url: string | string[]) => unknown): void;
  getLoadHandlers(url: string | string[]): unknown[];
  getSaveHandlers(url: string | string[]): unknown[];
}

const FILE_SCHEME = 'file://';
const registered = new WeakSet<object>();

function fileRouter(url: string | string[]) {
  return typeof url === 'string' && url.startsWith(FILE_SCHEME) ? fileIO(url) : null;
}

/**
 * Registers the file:// routers in `io` (default: the tf.io this package uses, which is the
 * user's when tfjs is installed once). Returns false, registering nothing, when file:// URLs
 * are already routed there (tfjs-node, or a call before), true when it registered them.
 */
export function registerFileRouter(io: RouterRegistry = tf.io as unknown as RouterRegistry): boolean {
  if (
    io === null ||
    typeof io !== 'object' ||
    typeof io.registerLoadRouter !== 'function' ||
    typeof io.getLoadHandlers !== 'function' ||
    typeof io.registerSaveRouter !== 'function' ||
    typeof io.getSaveHandlers !== 'function'
  ) {
    throw new TypeError(
      'registerFileRouter: io must be a tf.io namespace (registerLoadRouter, registerSaveRouter, getLoadHandlers, getSaveHandlers)',
    );
  }
  if (registered.has(io)) return false;
  const probe = `${FILE_SCHEME}/probe/model.json`;
  const loads = io.getLoadHandlers(probe).length > 0;
  const saves = io.getSaveHandlers(probe).length > 0;
  if (loads && saves) return false;
  if (!loads) io.registerLoadRouter(fileRouter);
  if (!saves) io.registerSaveRouter(fileRouter);
  registered.add(io);
  return true;
}
