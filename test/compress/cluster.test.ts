import { describe, expect, it } from 'vitest';
import { clusterTensor, initCentroids, kmeans1d } from '../../src/cluster/index.js';
import { seededRandom } from '../../src/data/random.js';

// Brute-force Lloyd: every value against every centroid, ties to the lower centroid, empty
// clusters keep their centroid; stops when assignments stop changing.
function bruteKMeans(x: Float32Array, init: Float64Array, maxIter = 100) {
  const c = Float64Array.from(init).sort();
  let labels = new Int32Array(x.length).fill(-1);
  const assign = () => {
    const l = new Int32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let best = 0;
      for (let j = 1; j < c.length; j++) if (Math.abs(x[i] - c[j]) < Math.abs(x[i] - c[best])) best = j;
      l[i] = best;
    }
    return l;
  };
  for (let it = 0; it < maxIter; it++) {
    const l = assign();
    if (l.every((v, i) => v === labels[i])) break;
    labels = l;
    for (let j = 0; j < c.length; j++) {
      let s = 0,
        n = 0;
      for (let i = 0; i < x.length; i++)
        if (labels[i] === j) {
          s += x[i];
          n++;
        }
      if (n) c[j] = s / n;
    }
    c.sort();
  }
  return { centroids: c, labels: assign() };
}

describe('1-D k-means (native) against brute force', () => {
  it('matches on small random inputs for every init', () => {
    const rng = seededRandom(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rng() * 60);
      const x = Float32Array.from({ length: n }, () => (rng() - 0.5) * (trial % 2 ? 1 : 100));
      const k = 1 + Math.floor(rng() * Math.min(8, n));
      for (const init of ['linear', 'density', 'random', 'kmeans++'] as const) {
        const start = initCentroids(x, k, init, trial);
        const ref = bruteKMeans(x, start);
        const got = kmeans1d(x, k, { init, seed: trial });
        for (let j = 0; j < k; j++) expect(got.centroids[j]).toBeCloseTo(ref.centroids[j], 9);
        expect(Array.from(got.labels)).toEqual(Array.from(ref.labels));
      }
    }
  });

  it('linear init spaces centroids evenly over [min, max]', () => {
    const c = initCentroids(Float32Array.from([-2, -1.5, 0.5, 1, 2]), 5, 'linear');
    expect(Array.from(c)).toEqual([-2, -1, 0, 1, 2]);
  });

  it('rejects more clusters than distinct values, bad bits and non-finite values', () => {
    const v = Float32Array.from([0, 1, 1, 2, 0, 3]);
    expect(() => kmeans1d(Float32Array.from([1, 1, 2]), 3)).toThrow(/exceeds the number of distinct values \(2\)/);
    expect(() => clusterTensor(v, { clusters: 4 })).toThrow(
      /clusters \(4\) exceeds the number of distinct nonzero weights \(3\)/,
    );
    expect(() => clusterTensor(v, { bits: 0 })).toThrow(/bits must be in \[1, 16\]/);
    expect(() => clusterTensor(v, { bits: 17 })).toThrow(RangeError);
    expect(() => clusterTensor(Float32Array.from([1, NaN]), { bits: 2 })).toThrow(/not finite/);
  });
});

describe('weight sharing', () => {
  it('keeps zeros zero, shares nonzeros, and respects the bit budget', () => {
    const rng = seededRandom(11);
    const v = Float32Array.from({ length: 2000 }, () => (rng() < 0.8 ? 0 : rng() * 2 - 1));
    const r = clusterTensor(v, { bits: 3 });
    expect(r.codebook.length).toBeLessThanOrEqual(7);
    for (let i = 0; i < v.length; i++) {
      if (v[i] === 0) {
        expect(r.labels[i]).toBe(0);
        expect(Object.is(r.values[i], 0)).toBe(true);
      } else {
        expect(r.labels[i]).toBeGreaterThan(0);
        expect(r.values[i]).toBe(r.codebook[r.labels[i] - 1]);
      }
    }
    // Each nonzero goes to its nearest centroid.
    for (let i = 0; i < v.length; i++) {
      if (!v[i]) continue;
      const d = Math.abs(v[i] - r.values[i]);
      for (const c of r.codebook) expect(d).toBeLessThanOrEqual(Math.abs(v[i] - c) + 1e-6);
    }
  });
});
