// Mask computations on flat weight arrays (row-major TF.js layout). A mask is a Uint8Array of
// 0/1 with one entry per weight. Kernels are seen as a 2-D matrix [rows, cols] with cols = the
// last dimension (Dense [in, out]: out; Conv2D [kh, kw, in, out]: out), rows = the rest.
import { assertInt, assertShape, shapeSize } from '../native/validate.js';
import { assertSparsity } from './schedule.js';

function checkValues(values: Float32Array, shape: readonly number[]): number {
  assertShape(shape as number[], 'shape');
  const n = shapeSize(shape);
  if (values.length !== n)
    throw new RangeError(`values has ${values.length} elements, expected ${n} (shape [${shape.join(', ')}])`);
  return n;
}

/** k = round(n · (1 − sparsity)) kept, at least 1 (TF-MOT's rule). */
export function keptCount(n: number, sparsity: number): number {
  return Math.max(1, Math.round(n * (1 - sparsity)));
}

/**
 * TF-MOT's magnitude mask: threshold = the k-th largest |w| with k = keptCount(n, sparsity);
 * keep |w| >= threshold (ties at the threshold are all kept). Already-zero weights stay
 * pruned whenever the threshold is above 0.
 */
export function magnitudeMask(values: Float32Array, sparsity: number): Uint8Array {
  assertSparsity(sparsity, 'sparsity');
  const n = values.length;
  const mask = new Uint8Array(n);
  if (n === 0) return mask;
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) abs[i] = Math.abs(values[i]);
  const sorted = abs.slice().sort();
  const k = keptCount(n, sparsity);
  const threshold = sorted[n - k];
  for (let i = 0; i < n; i++) mask[i] = abs[i] >= threshold ? 1 : 0;
  return mask;
}

export type BlockPooling = 'avg' | 'max';

/**
 * Block sparsity: the [rows, cols] view is tiled in blocks of blockSize = [bh, bw] (partial
 * blocks at the edges); a block's score is the mean (or max) |w| of its elements; the
 * keptCount(blocks, sparsity) best blocks are kept whole (ties at the threshold kept).
 */
export function blockMask(
  values: Float32Array,
  shape: readonly number[],
  sparsity: number,
  blockSize: readonly [number, number],
  pooling: BlockPooling = 'avg',
): Uint8Array {
  const n = checkValues(values, shape);
  assertSparsity(sparsity, 'sparsity');
  if (!Array.isArray(blockSize) || blockSize.length !== 2) throw new TypeError('blockSize must be [height, width]');
  assertInt(blockSize[0], 'blockSize[0]', 1);
  assertInt(blockSize[1], 'blockSize[1]', 1);
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
  const rows = cols === 0 ? 0 : n / cols;
  const [bh, bw] = blockSize;
  const br = Math.ceil(rows / bh),
    bc = Math.ceil(cols / bw);
  const score = new Float32Array(br * bc);
  const count = new Float32Array(br * bc);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const b = Math.floor(r / bh) * bc + Math.floor(c / bw);
      const a = Math.abs(values[r * cols + c]);
      if (pooling === 'max') score[b] = Math.max(score[b], a);
      else {
        score[b] += a;
        count[b]++;
      }
    }
  }
  if (pooling === 'avg') for (let b = 0; b < score.length; b++) score[b] /= count[b];
  const blockKeep = magnitudeMask(score, sparsity);
  const mask = new Uint8Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) mask[r * cols + c] = blockKeep[Math.floor(r / bh) * bc + Math.floor(c / bw)];
  }
  return mask;
}

/**
 * N:M structured sparsity: in every group of M consecutive weights along the input
 * (reduction) axis — rows of the [rows, cols] view, for each output column — keep the N of
 * largest magnitude (ties: lower index first); a final partial group keeps min(N, its size).
 * 2:4 is what sparse tensor cores accelerate.
 */
export function nmMask(values: Float32Array, shape: readonly number[], n: number, m: number): Uint8Array {
  const size = checkValues(values, shape);
  assertInt(m, 'm', 1, 1024);
  assertInt(n, 'n', 1, m);
  const cols = shape.length === 0 ? 1 : shape[shape.length - 1];
  const rows = cols === 0 ? 0 : size / cols;
  const mask = new Uint8Array(size);
  const idx: number[] = [];
  for (let c = 0; c < cols; c++) {
    for (let g = 0; g < rows; g += m) {
      idx.length = 0;
      for (let r = g; r < Math.min(rows, g + m); r++) idx.push(r * cols + c);
      idx.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
      for (let i = 0; i < Math.min(n, idx.length); i++) mask[idx[i]] = 1;
    }
  }
  return mask;
}

/** Fraction of zeros in a mask (or of zero values in a weight array). */
export function sparsityOf(a: ArrayLike<number>): number {
  let z = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === 0) z++;
  return a.length === 0 ? 0 : z / a.length;
}
