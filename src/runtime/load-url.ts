// loadGraphModel(url): the tfjs-style entry to the runtime. Like tf.loadGraphModel it takes a
// URL — file:// (or a plain path) read from disk, or any scheme a tfjs load router handles
// (http(s):// through tfjs's fetch-based handler) — or an IOHandler, and gives back a model
// with tfjs's InferenceModel methods; unlike it, any of the three formats (graph, layers,
// tfjs-quant) loads, and the model runs in the native runtime.
import { tf } from '../backend/float.js';
import type { IOHandlerLike } from '../io/files.js';
import type { ModelSource } from '../model/load.js';
import { InferenceSession, type SessionOptions } from './session.js';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * A model from a URL or path (or any loadModel source) as an InferenceSession:
 * `const model = await loadGraphModel('file:///models/m/model.json'); await model.predictAsync(x)`.
 */
export async function loadGraphModel(
  url: string | ModelSource,
  options: SessionOptions = {},
): Promise<InferenceSession> {
  if (typeof url !== 'string') return InferenceSession.create(url, options);
  if (url === '') throw new TypeError('loadGraphModel: the URL is empty');
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') return InferenceSession.create(url, options);
  const handlers = tf.io.getLoadHandlers(url);
  if (handlers.length === 0)
    throw new RangeError(
      `loadGraphModel: no tfjs load handler takes '${scheme}://' URLs here (file:// and plain paths are read from disk)`,
    );
  if (handlers.length > 1)
    throw new RangeError(
      `loadGraphModel: ${handlers.length} tfjs load handlers claim '${url}'; pass the one to use (an IOHandler) instead`,
    );
  return InferenceSession.create(handlers[0] as IOHandlerLike, options);
}
