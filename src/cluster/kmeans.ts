// 1-D k-means for weight sharing. Initialisation here (small), Lloyd's iterations in C++
// (native/codec/kmeans.cc: sorted values + prefix sums).
import { native } from '../native/binding.js';
import { assertInt, assertOneOf, assertTypedArray } from '../native/validate.js';
import { seededRandom } from '../data/random.js';

export type CentroidInit = 'linear' | 'density' | 'random' | 'kmeans++';
export const CENTROID_INITS: readonly CentroidInit[] = ['linear', 'density', 'random', 'kmeans++'];

export interface KMeansOptions {
  /** 'linear' (evenly spaced over [min, max]; the paper's best, default), 'density' (quantiles of the CDF), 'random' (k distinct values), 'kmeans++'. */
  init?: CentroidInit;
  /** Seed for 'random' and 'kmeans++' (default 1). */
  seed?: number;
  /** Lloyd iterations at most (default 100; stops earlier when the partition is stable). */
  maxIter?: number;
}

export interface KMeansResult {
  /** Ascending. */
  centroids: Float64Array;
  /** Per value: index into centroids. */
  labels: Uint16Array;
  iterations: number;
  inertia: number;
}

/** Sorted distinct values. */
export function distinctSorted(values: Float32Array): Float64Array {
  const s = Float64Array.from(values).sort();
  let m = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[m - 1]) s[m++] = s[i];
  return s.slice(0, m);
}

export function initCentroids(values: Float32Array, k: number, init: CentroidInit = 'linear', seed = 1): Float64Array {
  const distinct = distinctSorted(values);
  const n = distinct.length;
  if (k > n) throw new RangeError(`k (${k}) exceeds the number of distinct values (${n})`);
  const c = new Float64Array(k);
  const lo = distinct[0],
    hi = distinct[n - 1];
  const rng = seededRandom(seed);
  switch (init) {
    case 'linear':
      for (let i = 0; i < k; i++) c[i] = k === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * i) / (k - 1);
      break;
    case 'density': {
      const sorted = Float64Array.from(values).sort();
      for (let i = 0; i < k; i++)
        c[i] = sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / k) * sorted.length))];
      break;
    }
    case 'random': {
      const pool = Array.from(distinct);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(rng() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
        c[i] = pool[i];
      }
      break;
    }
    case 'kmeans++': {
      const x = Float64Array.from(values);
      const d2 = new Float64Array(x.length).fill(Infinity);
      c[0] = x[Math.floor(rng() * x.length)];
      for (let i = 1; i < k; i++) {
        let total = 0;
        for (let t = 0; t < x.length; t++) {
          const d = x[t] - c[i - 1];
          if (d * d < d2[t]) d2[t] = d * d;
          total += d2[t];
        }
        let r = rng() * total,
          pick = -1;
        for (let t = 0; t < x.length; t++) {
          if (d2[t] > 0) {
            pick = t;
            r -= d2[t];
            if (r < 0) break;
          }
        }
        c[i] = x[pick];
        d2[pick] = 0;
      }
      break;
    }
  }
  return c;
}

/** k-means of `values` (1 ≤ k ≤ min(65535, distinct values)). */
export function kmeans1d(values: Float32Array, k: number, options: KMeansOptions = {}): KMeansResult {
  assertTypedArray(values, Float32Array, 'values');
  assertInt(k, 'k', 1, 65535);
  const init = options.init ?? 'linear';
  assertOneOf(init, CENTROID_INITS, 'init');
  const seed = options.seed ?? 1;
  assertInt(seed, 'seed', 0, 2 ** 32 - 1);
  const maxIter = options.maxIter ?? 100;
  assertInt(maxIter, 'maxIter', 0, 1 << 20);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`values[${i}] is not finite (${values[i]})`);
  }
  if (values.length === 0) throw new RangeError('values is empty: nothing to cluster');
  return native().kmeans1d(values, initCentroids(values, k, init, seed), { maxIter });
}
