// loadModel(): TF.js graph or layers models from a path, an in-memory {modelJson, weightData}
// or a tfjs IOHandler, into the graph IR.
import {
  readModelFiles,
  readModelHandler,
  readModelMemory,
  type InMemoryModel,
  type IOHandlerLike,
  type RawModel,
} from '../io/files.js';
import { isTfjsModel, tfjsModelHandler, tfjsModelLabel, type TfjsModelLike } from '../io/from-tfjs.js';
import { decodeWeights, type DecodedWeight } from '../io/weights.js';
import { ModelFormatError } from './errors.js';
import { hasNonFiniteValues, signatureOf, type Graph } from './ir.js';
import { isGraphModelJson, loadGraphModelIR } from './load-graph.js';
import { isLayersModelJson, loadLayersModelIR } from './load-layers.js';
import { inferShapes } from './shape-inference.js';
import { loadNativeIR } from './load-native.js';
import { FORMAT_NAME } from './save-native.js';

export type ModelSource = string | InMemoryModel | IOHandlerLike | TfjsModelLike;

export interface LoadOptions {
  /**
   * Accept NaN / ±Inf where they mean corrupt data (default: an error naming the weight): every
   * weight of a layers model, the trained parameters (filters, biases, batch-norm statistics) of
   * a graph model, constants of a tfjs-quant file not marked nonFinite. Other non-finite
   * constants of graph models are legal and always loaded (marked Constant.nonFinite).
   */
  allowNonFinite?: boolean;
}

export type ModelSourceKind = 'path' | 'tfjs-model' | 'memory' | 'io-handler';

export const MODEL_SOURCES =
  'a path (or file:// URL), {modelJson, weightData}, a tfjs IOHandler with load(), or a tf.LayersModel / tf.GraphModel';

/** Which kind of model source this is, decided by shape (undefined: none). */
export function modelSourceKind(source: unknown): ModelSourceKind | undefined {
  if (typeof source === 'string') return 'path';
  if (source === null || typeof source !== 'object') return undefined;
  // Before the IOHandler test: a tf.GraphModel has a load() method of its own.
  if (isTfjsModel(source)) return 'tfjs-model';
  if ('modelJson' in source) return 'memory';
  if (typeof (source as IOHandlerLike).load === 'function') return 'io-handler';
  return undefined;
}

/** What a value is, for errors about a wrong argument. */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x !== 'object') return typeof x;
  const name = (x as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : `an object with keys [${Object.keys(x).slice(0, 8).join(', ')}]`;
}

/** Reads a model (any source) without interpreting it. */
export async function readModel(source: ModelSource): Promise<RawModel> {
  switch (modelSourceKind(source)) {
    case 'path':
      return readModelFiles(source as string);
    case 'tfjs-model':
      return readModelHandler(tfjsModelHandler(source as TfjsModelLike), tfjsModelLabel(source as TfjsModelLike));
    case 'memory':
      return readModelMemory(source as InMemoryModel);
    case 'io-handler':
      return readModelHandler(source as IOHandlerLike);
    default:
      throw new TypeError(`model source must be ${MODEL_SOURCES}; got ${describeValue(source)}`);
  }
}

/** Loads a TF.js graph or layers model into the IR. */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<Graph> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (options.allowNonFinite !== undefined && typeof options.allowNonFinite !== 'boolean')
    throw new TypeError('options.allowNonFinite must be a boolean');
  return graphFromRaw(await readModel(source), options);
}

export function decodeAllWeights(raw: RawModel, options: LoadOptions = {}): Map<string, DecodedWeight> {
  const weights = new Map<string, DecodedWeight>();
  for (const grp of raw.groups) {
    for (const w of decodeWeights(grp.entries, grp.bytes, { file: grp.file, allowNonFinite: options.allowNonFinite }))
      weights.set(w.name, w);
  }
  return weights;
}

/** Interprets raw artifacts (format detection, weight decoding, lowering, shape inference). */
export function graphFromRaw(raw: RawModel, options: LoadOptions = {}): Graph {
  const { json, file } = raw;
  const fmt = json.format;
  if (fmt === FORMAT_NAME) {
    const g = loadNativeIR(json, raw.groups, file, options.allowNonFinite ?? false);
    g.source = { format: 'tfjs-quant', file, files: raw.files, sha256: raw.sha256, json };
    return g;
  }
  if (fmt !== undefined && fmt !== null && fmt !== 'graph-model' && fmt !== 'layers-model') {
    throw new ModelFormatError(
      `unknown model format '${String(fmt)}' (expected 'graph-model', 'layers-model' or '${FORMAT_NAME}')`,
      { file },
    );
  }
  const isGraph = fmt === 'graph-model' || (fmt === undefined && isGraphModelJson(json));
  const isLayers = fmt === 'layers-model' || (!isGraph && isLayersModelJson(json));
  if (!isGraph && !isLayers)
    throw new ModelFormatError('cannot tell the model format (no format field, no graph nodes, no Keras topology)', {
      file,
    });
  // Graph models decide which non-finite constants are legal once the ops reading them are known.
  const weights = decodeAllWeights(raw, { allowNonFinite: isGraph || options.allowNonFinite });
  let g: Graph;
  try {
    g = isGraph
      ? loadGraphModelIR(json, { file, weights, allowNonFinite: options.allowNonFinite })
      : loadLayersModelIR(json, { file, weights });
    inferShapes(g);
  } catch (e) {
    if (e instanceof ModelFormatError) throw e.withContext({ file });
    if (e instanceof TypeError || e instanceof RangeError) throw new ModelFormatError(e.message, { file });
    throw e;
  }
  g.source = { format: isGraph ? 'graph-model' : 'layers-model', file, files: raw.files, sha256: raw.sha256, json };
  if (!isGraph) {
    // The layers loader keys outputs by their output layers, as tfjs does.
    g.signature ??= signatureOf(g);
    for (const c of g.constants.values()) if (hasNonFiniteValues(c.data)) c.nonFinite = true;
    // Keras weight name of each constant, for re-writing the layers topology.
    const m = new Map<string, string>();
    for (const name of g.constants.keys()) if (weights.has(name)) m.set(name, name);
    g.source.layerWeights = m;
  }
  return g;
}
