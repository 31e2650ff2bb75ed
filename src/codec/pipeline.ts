// Model-level Deep Compression: encode every weight of a (pruned, clustered) tfjs-layers model
// into self-contained streams, decode them back into a model, and the paper-style report.
// The seam for the container (docs/format.md): a CompressedModel is a list of
// {name, shape, encoding, bytes}; 'deep-compression' bytes are one stream of
// docs/compression.md each, 'raw-float32' bytes are little-endian float32 values.
import { tf } from '../backend/float.js';
import { type ModelClustering } from '../cluster/cluster.js';
import { CodecError, decodeTensor } from './decode.js';
import { encodeTensor, type EncodeOptions, type StreamStats } from './format.js';

export type WeightEncoding = 'deep-compression' | 'raw-float32';

export interface CompressedTensor {
  /** The variable's name in the model, e.g. 'fc1/kernel'. */
  name: string;
  layerName: string;
  shape: number[];
  encoding: WeightEncoding;
  bytes: Uint8Array;
  /** For 'deep-compression' streams. */
  stats?: StreamStats;
  kind: 'dense' | 'conv' | 'other' | 'bias' | 'raw';
}

export interface CompressedModel {
  tensors: CompressedTensor[];
}

function layerOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? name : name.slice(0, i);
}

/**
 * Encodes every weight of `model`: clustered weights as Deep Compression streams (the
 * relative-index width chosen per tensor unless options.indexBits is fixed), the others as
 * raw float32. Checks that each clustered variable still holds exactly its shared weights.
 */
export function encodeModel(
  model: tf.LayersModel,
  clustering: ModelClustering,
  options: EncodeOptions = {},
): CompressedModel {
  const byName = new Map(clustering.weights.map((w) => [w.name, w]));
  const tensors: CompressedTensor[] = [];
  for (const v of model.weights) {
    const values = v.read().dataSync() as Float32Array;
    const shape = v.read().shape.slice();
    const c = byName.get(v.originalName);
    if (c) {
      for (let i = 0; i < values.length; i++) {
        const expect = c.labels[i] === 0 ? 0 : c.codebook[c.labels[i] - 1];
        if (values[i] !== expect) {
          throw new RangeError(
            `${v.originalName}[${i}] = ${values[i]} is not its shared weight ${expect}: the model changed after clustering`,
          );
        }
      }
      const e = encodeTensor({ shape, codebook: c.codebook, labels: c.labels }, options);
      tensors.push({
        name: v.originalName,
        layerName: c.layerName,
        shape,
        encoding: 'deep-compression',
        bytes: e.bytes,
        stats: e.stats,
        kind: c.kind,
      });
    } else {
      const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
      tensors.push({
        name: v.originalName,
        layerName: layerOf(v.originalName),
        shape,
        encoding: 'raw-float32',
        bytes,
        kind: 'raw',
      });
    }
  }
  return { tensors };
}

/** Decodes every tensor (native decoder); throws CodecError naming the tensor at fault. */
export function decodeModelWeights(compressed: CompressedModel): Map<string, Float32Array> {
  if (!compressed || !Array.isArray(compressed.tensors)) throw new TypeError('compressed must be {tensors: [...]}');
  const out = new Map<string, Float32Array>();
  for (const t of compressed.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    try {
      if (t.encoding === 'deep-compression') {
        out.set(t.name, decodeTensor(t.bytes, { expectedShape: t.shape }).values);
      } else if (t.encoding === 'raw-float32') {
        if (t.bytes.length !== size * 4)
          throw new CodecError(`raw-float32 data has ${t.bytes.length} bytes, expected ${size * 4}`);
        out.set(
          t.name,
          new Float32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + t.bytes.length)),
        );
      } else {
        throw new CodecError(`unknown encoding '${String(t.encoding)}'`);
      }
    } catch (e) {
      if (e instanceof CodecError) throw new CodecError(`${t.name}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/**
 * Writes the decoded weights into `model` (same architecture). Every tensor is decoded and
 * matched against the model first; nothing is written unless all of them are good.
 */
export function loadCompressedInto(model: tf.LayersModel, compressed: CompressedModel): void {
  const decoded = decodeModelWeights(compressed);
  const vars = model.weights;
  for (const v of vars) {
    const d = decoded.get(v.originalName);
    if (!d) throw new RangeError(`compressed model has no tensor for weight '${v.originalName}'`);
    if (d.length !== v.read().size)
      throw new RangeError(`tensor '${v.originalName}' has ${d.length} values, the model expects ${v.read().size}`);
  }
  if (decoded.size !== vars.length) {
    const extra = [...decoded.keys()].filter((k) => !vars.some((v) => v.originalName === k));
    throw new RangeError(`compressed model has tensors the model lacks: ${extra.join(', ')}`);
  }
  for (const v of vars) v.write(tf.tensor(decoded.get(v.originalName)!, v.read().shape, 'float32'));
}

// ---- report

export interface LayerReportRow {
  name: string;
  weights: number;
  /** Nonzeros / weights. */
  kept: number;
  codebookSize: number;
  /** Fixed-width bits per stored weight before Huffman. */
  bitsPerWeight: number;
  /** Huffman bits per stored value (value stream / entries). */
  huffmanBitsPerWeight: number;
  /** Relative-index width (0 = dense). */
  bitsPerIndex: number;
  huffmanBitsPerIndex: number;
  fillers: number;
  /** Fixed-width payload bits / Huffman payload bits. */
  huffmanGain: number;
  bytes: number;
  encoding: WeightEncoding;
}

export interface StageTotals {
  /** float32, every weight stored. */
  dense: number;
  /** Pruned: float32 nonzeros + fixed-width relative indices. */
  pruned: number;
  /** + quantized: fixed-width codebook indices + relative indices + codebooks. */
  quantized: number;
  /** + Huffman: the actual streams (indices, codebooks, tables, headers, checksums). */
  huffman: number;
  /** The saved model: model.json (graph, manifest) + weight shard, every byte of the files. */
  artifact?: number;
}

export interface CompressionReport {
  rows: LayerReportRow[];
  bytes: StageTotals;
  ratio: { pruned: number; quantized: number; huffman: number; artifact?: number };
  /** Metric (e.g. accuracy) after each stage, when given. */
  metrics?: Partial<Record<'baseline' | 'pruned' | 'quantized' | 'decoded', number>>;
  /** The same stages measured on validation data, when given. */
  validation?: Partial<Record<'baseline' | 'pruned' | 'quantized' | 'decoded', number>>;
}

/** `artifactBytes`: the size of the saved files (buildArtifact), reported as the last stage. */
export function compressionReport(
  compressed: CompressedModel,
  metrics?: CompressionReport['metrics'],
  artifactBytes?: number,
): CompressionReport {
  const rows: LayerReportRow[] = [];
  const bytes: StageTotals = { dense: 0, pruned: 0, quantized: 0, huffman: 0 };
  for (const t of compressed.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    bytes.dense += 4 * n;
    bytes.huffman += t.bytes.length;
    const s = t.stats;
    if (!s) {
      bytes.pruned += 4 * n;
      bytes.quantized += 4 * n;
      rows.push({
        name: t.name,
        weights: n,
        kept: 1,
        codebookSize: 0,
        bitsPerWeight: 32,
        huffmanBitsPerWeight: 32,
        bitsPerIndex: 0,
        huffmanBitsPerIndex: 0,
        fillers: 0,
        huffmanGain: 1,
        bytes: t.bytes.length,
        encoding: t.encoding,
      });
      continue;
    }
    const fixed = s.entries * (s.labelBits + s.indexBits);
    bytes.pruned += Math.ceil((s.entries * (32 + s.indexBits)) / 8);
    bytes.quantized += Math.ceil(fixed / 8) + s.codebookBytes;
    const huff = s.valueStreamBits + s.indexStreamBits;
    rows.push({
      name: t.name,
      weights: n,
      kept: s.nonzeros / Math.max(1, n),
      codebookSize: s.codebookSize,
      bitsPerWeight: s.labelBits,
      huffmanBitsPerWeight: s.entries ? s.valueStreamBits / s.entries : 0,
      bitsPerIndex: s.indexBits,
      huffmanBitsPerIndex: s.entries && s.indexBits ? s.indexStreamBits / s.entries : 0,
      fillers: s.fillers,
      huffmanGain: huff ? fixed / huff : 1,
      bytes: t.bytes.length,
      encoding: t.encoding,
    });
  }
  const ratio: CompressionReport['ratio'] = {
    pruned: bytes.dense / bytes.pruned,
    quantized: bytes.dense / bytes.quantized,
    huffman: bytes.dense / bytes.huffman,
  };
  if (artifactBytes !== undefined) {
    bytes.artifact = artifactBytes;
    ratio.artifact = bytes.dense / artifactBytes;
  }
  return { rows, bytes, ratio, metrics };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Markdown tables: per tensor, then stage totals (and metrics when present). */
export function formatReport(r: CompressionReport, metricName = 'accuracy'): string {
  const lines: string[] = [];
  lines.push(
    '| tensor | weights | kept | codebook | bits/weight (fixed → Huffman) | bits/index (fixed → Huffman) | fillers | Huffman gain | bytes |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of r.rows) {
    if (x.encoding === 'raw-float32') {
      lines.push(`| ${x.name} | ${x.weights} | 100% | raw | 32 | – | – | – | ${x.bytes} |`);
      continue;
    }
    const idx = x.bitsPerIndex ? `${x.bitsPerIndex} → ${x.huffmanBitsPerIndex.toFixed(2)}` : 'dense';
    lines.push(
      `| ${x.name} | ${x.weights} | ${pct(x.kept)} | ${x.codebookSize} | ${x.bitsPerWeight} → ${x.huffmanBitsPerWeight.toFixed(2)} | ${idx} | ${x.fillers} | ${x.huffmanGain.toFixed(2)}× | ${x.bytes} |`,
    );
  }
  lines.push('');
  const m = r.metrics ?? {};
  const fmt = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(2)}%`);
  lines.push(`| stage | bytes | ratio vs float32 | ${metricName} |`);
  lines.push('| --- | ---: | ---: | ---: |');
  lines.push(`| float32 dense | ${r.bytes.dense} | 1.0× | ${fmt(m.baseline)} |`);
  lines.push(
    `| pruned (float32 + relative index) | ${r.bytes.pruned} | ${r.ratio.pruned.toFixed(1)}× | ${fmt(m.pruned)} |`,
  );
  lines.push(
    `| + quantized (shared weights) | ${r.bytes.quantized} | ${r.ratio.quantized.toFixed(1)}× | ${fmt(m.quantized)} |`,
  );
  lines.push(
    `| + Huffman (stored streams) | ${r.bytes.huffman} | ${r.ratio.huffman.toFixed(1)}× | ${fmt(m.decoded)} |`,
  );
  if (r.bytes.artifact !== undefined) {
    lines.push(
      `| saved file (model.json + weights: graph, manifest, alignment) | ${r.bytes.artifact} | ${r.ratio.artifact!.toFixed(1)}× | ${fmt(m.decoded)} |`,
    );
  }
  return lines.join('\n');
}
