// The deployable file of a Deep Compression run: the compressed layers model as a graph in the
// tfjs-quant native format, every weight that has a Deep Compression stream stored as that very
// stream (encoding 'deep-compression', decoded natively on load), the others raw. The bytes are
// produced once, here; the reported size is their sum and save() writes exactly these bytes, so
// the size in a report is the size on disk. InferenceSession runs the file (packing the pruned
// weights into sparse kernels where they win) and `tfjs-quant inspect` lists the encodings.
import { writeFilesAtomic, type OutputFile } from '../io/atomic.js';
import type { Graph } from '../model/ir.js';
import { loadModel } from '../model/load.js';
import { nativeFiles } from '../model/save-native.js';
import type { tf } from '../backend/float.js';
import { decodeModelWeights, type CompressedModel } from './pipeline.js';

export interface CompressedArtifact {
  /** The graph whose constants hold the decoded weights and, where encoded, their stream. */
  graph: Graph;
  /** model.json and its weight shard(s), exactly as save() writes them. */
  files: OutputFile[];
  /** Sum of the files' byte lengths: what the model costs on disk, everything included. */
  bytes: number;
  /** Bytes per file name. */
  fileBytes: Record<string, number>;
}

/**
 * Builds the native-format files of `model` (whose weights must already be the decoded ones)
 * with `compressed`'s streams as the stored weights. Every weight of the model must have a
 * tensor in `compressed` and a constant of the same name in the graph; otherwise a RangeError
 * names the one missing (the file would silently store something else).
 */
export async function buildArtifact(
  model: tf.LayersModel,
  compressed: CompressedModel,
  mode = 'deep-compression',
): Promise<CompressedArtifact> {
  const graph = await loadModel(model);
  const decoded = decodeModelWeights(compressed);
  for (const t of compressed.tensors) {
    const c = graph.constants.get(t.name);
    if (!c)
      throw new RangeError(`the graph of the model has no constant '${t.name}' to store the compressed tensor in`);
    if (c.dtype !== 'float32')
      throw new RangeError(`constant '${t.name}' is ${c.dtype}, a compressed tensor must be float32`);
    const values = decoded.get(t.name)!;
    if (values.length !== c.data.length)
      throw new RangeError(`constant '${t.name}' has ${c.data.length} values, the compressed tensor ${values.length}`);
    c.data = values;
    if (t.encoding === 'deep-compression')
      c.quantization = { encoded: { encoding: 'deep-compression', bytes: t.bytes } };
  }
  graph.transformed = true;
  const files = nativeFiles(graph, { mode });
  const fileBytes = Object.fromEntries(files.map((f) => [f.name, f.bytes.byteLength]));
  return { graph, files, bytes: files.reduce((s, f) => s + f.bytes.byteLength, 0), fileBytes };
}

/** Writes the artifact's files into dir (atomically); returns the written paths. */
export function saveArtifact(a: CompressedArtifact, dir: string): Promise<string[]> {
  return writeFilesAtomic(dir, a.files);
}
