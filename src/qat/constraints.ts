// PQAT and CQAT: the structure a pruned or clustered model brings into QAT (its zeros, its shared
// values) re-imposed on the quantized kernels after every optimizer step.
import { tf } from '../backend/float.js';
import type { QuantizeOptions } from './config.js';
import type { ConvWeight } from './topology.js';

export class KernelConstraints {
  private masks = new Map<tf.LayerVariable, Uint8Array>();
  private clusters = new Map<tf.LayerVariable, { labels: Int32Array; count: number; fixedZero: boolean[] }>();

  /** Records the zeros (PQAT) and the cluster of every value (CQAT) of the kernels as they are now. */
  constructor(
    kernels: readonly { weight: ConvWeight }[],
    options: Pick<QuantizeOptions, 'preserveSparsity' | 'preserveClusters'>,
  ) {
    const { preserveSparsity, preserveClusters } = options;
    for (const { weight } of kernels) {
      const v = weight.variable.read().dataSync() as Float32Array;
      if (preserveSparsity)
        this.masks.set(
          weight.variable,
          Uint8Array.from(v, (x) => (x !== 0 ? 1 : 0)),
        );
      if (preserveClusters) {
        const index = new Map<number, number>();
        const labels = new Int32Array(v.length);
        for (let i = 0; i < v.length; i++) {
          let l = index.get(v[i]!);
          if (l === undefined) index.set(v[i]!, (l = index.size));
          labels[i] = l;
        }
        if (index.size > 256)
          throw new RangeError(
            `preserveClusters: kernel '${weight.variable.originalName}' has ${index.size} distinct values (cluster it first, ≤ 256 clusters)`,
          );
        const fixedZero = new Array<boolean>(index.size).fill(false);
        for (const [val, l] of index) if (val === 0) fixedZero[l] = true;
        this.clusters.set(weight.variable, { labels, count: index.size, fixedZero });
      }
    }
  }

  /** Re-imposes the sparsity masks and cluster structure after an optimizer step. */
  apply(): void {
    for (const [v, mask] of this.masks) {
      tf.tidy(() => {
        const cur = v.read();
        v.write(tf.where(tf.tensor(mask, cur.shape, 'bool'), cur, tf.zerosLike(cur)));
      });
    }
    for (const [v, c] of this.clusters) {
      const cur = v.read();
      const data = cur.dataSync() as Float32Array;
      const sum = new Float64Array(c.count),
        n = new Float64Array(c.count);
      for (let i = 0; i < data.length; i++) {
        sum[c.labels[i]!] += data[i]!;
        n[c.labels[i]!]++;
      }
      const cent = Float32Array.from(sum, (s, l) => (c.fixedZero[l] ? 0 : s / n[l]!));
      tf.tidy(() => {
        v.write(
          tf.tensor(
            Float32Array.from(c.labels, (l) => cent[l]!),
            cur.shape,
            'float32',
          ),
        );
      });
    }
  }
}
