// Seed corpus for the native decoder fuzz target: valid Deep Compression streams of varied
// shapes, sparsities, codebook sizes and index widths. Usage: tsx bench/fuzz/corpus.ts DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTensor } from '../../src/codec/format.js';
import { seededRandom } from '../../src/data/random.js';

const dir = process.argv[2] ?? 'bench/fuzz/corpus';
mkdirSync(dir, { recursive: true });
const rng = seededRandom(42);
const cases: { shape: number[]; sparsity: number; k: number; indexBits?: number }[] = [
  { shape: [4], sparsity: 0, k: 2 },
  { shape: [16, 8], sparsity: 0.5, k: 7 },
  { shape: [3, 3, 4, 5], sparsity: 0.9, k: 15, indexBits: 3 },
  { shape: [64, 32], sparsity: 0.95, k: 31, indexBits: 8 },
  { shape: [1, 1, 1, 1, 1, 1, 1, 9], sparsity: 0.3, k: 3, indexBits: 0 },
  { shape: [200], sparsity: 1, k: 1 },
  { shape: [33, 17], sparsity: 0.7, k: 255, indexBits: 16 },
];
cases.forEach((c, i) => {
  const n = c.shape.reduce((a, b) => a * b, 1);
  const codebook = Float32Array.from({ length: c.k }, (_, j) => (j + 1) * 0.01 * (j % 2 ? -1 : 1)).sort();
  const labels = Uint16Array.from({ length: n }, () => (rng() < c.sparsity ? 0 : 1 + Math.floor(rng() * c.k)));
  const enc = encodeTensor(
    { shape: c.shape, codebook, labels },
    c.indexBits === undefined ? {} : { indexBits: c.indexBits },
  );
  writeFileSync(join(dir, `seed-${i}.bin`), enc.bytes);
});
console.log(`${cases.length} seeds in ${dir}`);
