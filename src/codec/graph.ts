// Post-training Deep Compression of any loaded graph (the CLI's `convert --mode compress`):
// magnitude pruning (no retraining: there is no training data in a model zoo), weight sharing
// by k-means over the kept weights, then the relative-index + Huffman stream of
// docs/compression.md per weight. The compressed constants keep their decoded values in
// `data` (so float execution is the compressed model) and their stream in
// `quantization.encoded`, which saveNative writes as the 'deep-compression' encoding.
// For the full pipeline with retraining under masks see deepCompress (deep-compression.ts).
import { clusterTensor } from '../cluster/cluster.js';
import { magnitudeMask } from '../prune/masks.js';
import { assertSparsity } from '../prune/schedule.js';
import { assertInt } from '../native/validate.js';
import type { Graph } from '../model/ir.js';
import { encodeTensor } from './format.js';

export interface CompressGraphOptions {
  /** Fraction of each weight's entries set to zero (default 0.5; 0 = no pruning). */
  sparsity?: number;
  /** Label bits for weight sharing: at most 2^bits − 1 shared values per weight (default 5). */
  bits?: number;
  /** Weights with fewer elements stay raw (default 1024). */
  minElements?: number;
  onProgress?: (done: number, total: number, weight: string) => void;
}

export interface CompressedWeightRow {
  name: string;
  elements: number;
  sparsity: number;
  codebook: number;
  rawBytes: number;
  encodedBytes: number;
}

export interface CompressGraphResult {
  graph: Graph;
  weights: CompressedWeightRow[];
  /** Weights left raw (too small or not a conv/matmul kernel). */
  skipped: string[];
}

const KERNEL_OPS = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul', 'Conv2DBackpropInput', 'BatchMatMulV2']);

/** Compresses the conv/matmul kernels of g in place (returns g) and reports per weight. */
export function compressGraph(g: Graph, o: CompressGraphOptions = {}): CompressGraphResult {
  const sparsity = o.sparsity ?? 0.5;
  assertSparsity(sparsity, 'sparsity');
  const bits = o.bits ?? 5;
  assertInt(bits, 'bits', 1, 16);
  const minElements = o.minElements ?? 1024;
  assertInt(minElements, 'minElements', 1);
  const kernels = new Set<string>();
  for (const n of g.nodes)
    if (KERNEL_OPS.has(n.op) && n.inputs[1] && g.constants.has(n.inputs[1])) kernels.add(n.inputs[1]);
  const targets = [...kernels].filter((k) => {
    const c = g.constants.get(k)!;
    return c.dtype === 'float32' && c.data.length >= minElements;
  });
  const skipped = [...g.constants.keys()]
    .filter((k) => !targets.includes(k) && g.constants.get(k)!.dtype === 'float32')
    .sort();
  const rows: CompressedWeightRow[] = [];
  targets.forEach((name, i) => {
    const c = g.constants.get(name)!;
    const values = c.data as Float32Array;
    const pruned = values.slice();
    if (sparsity > 0) {
      const mask = magnitudeMask(values, sparsity);
      for (let j = 0; j < pruned.length; j++) if (!mask[j]) pruned[j] = 0;
    }
    const cl = clusterTensor(pruned, { bits });
    const enc = encodeTensor({ shape: c.shape.slice(), codebook: cl.codebook, labels: cl.labels });
    c.data = cl.values;
    c.quantization = {
      ...c.quantization,
      encoded: { encoding: 'deep-compression', bytes: enc.bytes },
      tfjs: undefined,
      affine: undefined,
    };
    let zeros = 0;
    for (let j = 0; j < cl.values.length; j++) if (cl.values[j] === 0) zeros++;
    rows.push({
      name,
      elements: values.length,
      sparsity: zeros / values.length,
      codebook: cl.codebook.length,
      rawBytes: values.byteLength,
      encodedBytes: enc.bytes.byteLength,
    });
    o.onProgress?.(i + 1, targets.length, name);
  });
  if (targets.length) g.transformed = true;
  return { graph: g, weights: rows, skipped };
}
