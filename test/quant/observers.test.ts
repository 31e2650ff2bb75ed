// Observers against independent computations: min/max and moving averages by plain loops,
// percentile against a sort, the native KL and MSE searches against float64 brute force.
import { describe, expect, it } from 'vitest';
import { randomFloats, rng } from '../support/model-fixtures.js';
import {
  createObserver,
  resolveObserverOptions,
  searchCandidate,
  searchRange,
  StreamingHistogram,
} from '../../src/quant/observers.js';
import { rne } from '../../src/quant/scheme.js';

function batches(n: number, size: number, seed: number, spread = 1): Float32Array[] {
  return Array.from({ length: n }, (_, i) => randomFloats(size, seed + i, -spread * (1 + i / 4), spread * (2 + i / 3)));
}

/** A heavy-tailed sample: mostly small, a few large values. */
function heavyTail(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r(),
      v = r();
    const g = Math.sqrt(-2 * Math.log(u + 1e-12)) * Math.cos(2 * Math.PI * v);
    return r() < 0.002 ? g * 20 : g;
  });
}

describe('min-max observers', () => {
  it('minmax is the running min/max widened to 0; NaN/Inf ignored', () => {
    const o = createObserver('minmax');
    expect(o.range()).toBeUndefined();
    const bs = batches(5, 100, 1);
    bs[2]![3] = NaN;
    bs[3]![4] = Infinity;
    bs[4]![5] = -Infinity;
    let lo = 0,
      hi = 0;
    for (const b of bs) {
      o.observe(b);
      for (const v of b)
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    }
    expect(o.range()).toEqual([lo, hi]);
  });

  it('moving-average follows lo += c·(batch lo − lo)', () => {
    const c = 0.25;
    const o = createObserver({ kind: 'moving-average', averagingConstant: c });
    const bs = batches(6, 50, 7);
    let lo = NaN,
      hi = NaN;
    for (const b of bs) {
      o.observe(b);
      let bl = 0,
        bh = 0;
      for (const v of b) {
        bl = Math.min(bl, v);
        bh = Math.max(bh, v);
      }
      if (Number.isNaN(lo)) {
        lo = bl;
        hi = bh;
      } else {
        lo += c * (bl - lo);
        hi += c * (bh - hi);
      }
    }
    const [rl, rh] = o.range()!;
    expect(rl).toBeCloseTo(lo, 12);
    expect(rh).toBeCloseTo(hi, 12);
  });
});

describe('histogram observers', () => {
  it('percentile is within one bin of the sorted-data percentile', () => {
    const x = heavyTail(20000, 3);
    for (const p of [99.99, 99.9, 99, 90]) {
      const o = createObserver({ kind: 'percentile', percentile: p, bins: 2048 });
      o.observe(x);
      const [lo, hi] = o.range()!;
      const sorted = Array.from(x).sort((a, b) => a - b);
      const width = (Math.max(...sorted) - Math.min(...sorted)) / 2048;
      const upper = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
      const lower = sorted[Math.floor((1 - p / 100) * sorted.length)]!;
      expect(Math.abs(hi - upper), `p=${p} upper`).toBeLessThanOrEqual(width * 1.0001);
      expect(Math.abs(lo - lower), `p=${p} lower`).toBeLessThanOrEqual(width * 1.0001);
    }
  });

  it('streamed batches with a growing range keep every count (rebinning) and give nearly the one-shot quantiles', () => {
    const all = heavyTail(30000, 5);
    const streamed = new StreamingHistogram(2048),
      once = new StreamingHistogram(2048);
    for (let i = 0; i < 30; i++) streamed.add(all.subarray(i * 1000, (i + 1) * 1000));
    once.add(all);
    expect(streamed.total).toBeCloseTo(30000, 6);
    expect(streamed.lo).toBe(once.lo);
    expect(streamed.hi).toBe(once.hi);
    const width = (once.hi - once.lo) / 2048;
    for (const f of [0.001, 0.5, 0.999])
      expect(Math.abs(streamed.quantile(f) - once.quantile(f))).toBeLessThan(3 * width);
  });

  it('all-zero tensors give [0, 0]; zeros seen first are kept when the range appears', () => {
    const o = createObserver('percentile');
    o.observe(new Float32Array(10));
    expect(o.range()).toEqual([0, 0]);
    const h = new StreamingHistogram(16);
    h.add(new Float32Array(10));
    h.add(Float32Array.of(-1, 1));
    expect(h.total).toBe(12);
    expect(h.counts[8]).toBe(10); // the zero bin of 16 over [-1, 1]
  });

  it('candidate intervals follow the documented formula', () => {
    for (const [bins, lo, hi] of [
      [64, -1, 3],
      [100, 0, 5],
      [37, -2, 0.3],
      [2048, -0.7, 9],
    ] as const) {
      const w = (hi - lo) / bins;
      const z = Math.min(bins, Math.max(0, rne(-lo / w)));
      for (const i of [1, 5, Math.floor(bins / 2), bins]) {
        expect(searchCandidate(bins, lo, hi, i)).toEqual([z - rne((z * i) / bins), z + rne(((bins - z) * i) / bins)]);
      }
    }
  });
});

// ---- float64 brute force of the documented searches (native/calib/calib.h)

function candidates(bins: number, lo: number, hi: number, levels: number): [number, number][] {
  const w = (hi - lo) / bins;
  const z = Math.min(bins, Math.max(0, rne(-lo / w)));
  const out: [number, number][] = [];
  for (let i = 1; i <= bins; i++) {
    const s = z - rne((z * i) / bins),
      e = z + rne(((bins - z) * i) / bins);
    if (e - s < Math.min(levels, bins)) continue;
    const last = out[out.length - 1];
    if (last && last[0] === s && last[1] === e) continue;
    out.push([s, e]);
  }
  return out;
}

function smooth(p: number[]): number[] | undefined {
  const zeros = p.filter((v) => v === 0).length,
    nz = p.length - zeros;
  if (!nz) return undefined;
  const eps = 1e-4,
    eps1 = (eps * zeros) / nz;
  return p.map((v) => (v === 0 ? eps : v - eps1));
}

function klBrute(h: number[], lo: number, hi: number, levels: number): [number, number] {
  let best = Infinity,
    arg: [number, number] = [0, h.length];
  for (const [s, e] of candidates(h.length, lo, hi, levels)) {
    const len = e - s;
    const p = h.slice(s, e);
    p[0]! += h.slice(0, s).reduce((a, b) => a + b, 0);
    p[len - 1]! += h.slice(e).reduce((a, b) => a + b, 0);
    const groups = Math.min(levels, len),
      merged = Math.floor(len / groups);
    const q = new Array<number>(len).fill(0);
    for (let j = 0; j < groups; j++) {
      const a = j * merged,
        b = j === groups - 1 ? len : a + merged;
      let sum = 0,
        nonzero = 0;
      for (let k = a; k < b; k++) {
        sum += h[s + k]!;
        if (p[k] !== 0) nonzero++;
      }
      if (nonzero) for (let k = a; k < b; k++) q[k] = p[k] !== 0 ? sum / nonzero : 0;
    }
    const ps = smooth(p);
    if (!ps) continue;
    const qs = smooth(q);
    let kl = Infinity;
    if (qs) {
      let sp = 0,
        sq = 0;
      for (let k = 0; k < len; k++) {
        sp += ps[k]!;
        sq += qs[k]!;
      }
      kl = 0;
      for (let k = 0; k < len; k++) {
        const pk = ps[k]! / sp,
          qk = qs[k]! / sq;
        if (pk > 0) kl += pk * Math.log(pk / qk);
      }
    }
    if (kl < best) {
      best = kl;
      arg = [s, e];
    }
  }
  return arg;
}

function mseBrute(h: number[], lo: number, hi: number, levels: number): [number, number] {
  const w = (hi - lo) / h.length;
  let best = Infinity,
    arg: [number, number] = [0, h.length];
  for (const [s, e] of candidates(h.length, lo, hi, levels)) {
    const a = lo + w * s,
      b = lo + w * e,
      step = (b - a) / levels;
    let err = 0,
      inside = 0;
    h.forEach((c, k) => {
      if (c === 0) return;
      if (k >= s && k < e) inside += c;
      else {
        const ctr = lo + w * (k + 0.5);
        const d = ctr < a ? a - ctr : ctr - b;
        err += c * d * d;
      }
    });
    err += (inside * step * step) / 12;
    if (err < best) {
      best = err;
      arg = [s, e];
    }
  }
  return arg;
}

describe('KL and MSE range searches', () => {
  const cases: { name: string; h: number[]; lo: number; hi: number }[] = [];
  const r = rng(11);
  for (let t = 0; t < 6; t++) {
    const bins = 64 + t * 9;
    const h = Array.from({ length: bins }, (_, k) => {
      const d = Math.abs(k - bins * (0.2 + 0.1 * t)) / bins;
      return r() < 0.1 ? 0 : Math.floor(1000 * Math.exp(-8 * d) * r()) + (r() < 0.05 ? 3 : 0);
    });
    cases.push({ name: `histogram ${t}`, h, lo: -1 - t * 0.3, hi: 2 + t });
  }
  cases.push({
    name: 'non-negative (ReLU) histogram',
    h: Array.from({ length: 80 }, (_, k) => Math.floor(500 / (1 + k))),
    lo: 0,
    hi: 4,
  });

  for (const c of cases) {
    it(`native search equals the float64 brute force: ${c.name}`, () => {
      for (const levels of [8, 16, 31]) {
        const kl = searchRange('entropy', Float64Array.from(c.h), c.lo, c.hi, levels)!;
        expect([kl.start, kl.end], `KL levels ${levels}`).toEqual(klBrute(c.h, c.lo, c.hi, levels));
        const mse = searchRange('mse', Float64Array.from(c.h), c.lo, c.hi, levels)!;
        expect([mse.start, mse.end], `MSE levels ${levels}`).toEqual(mseBrute(c.h, c.lo, c.hi, levels));
      }
    });
  }

  it('entropy and MSE clip a heavy tail that min-max keeps', () => {
    const x = heavyTail(50000, 9);
    const mm = createObserver('minmax'),
      kl = createObserver('entropy'),
      mse = createObserver('mse');
    for (const o of [mm, kl, mse]) o.observe(x);
    const [, hmm] = mm.range()!;
    expect(kl.range()![1]).toBeLessThan(hmm * 0.8);
    expect(mse.range()![1]).toBeLessThan(hmm); // MSE weighs the far outliers more than KL does
    expect(kl.range()![0]).toBeLessThan(0);
  });

  it('an empty histogram has no range', () => {
    expect(searchRange('entropy', new Float64Array(16), -1, 1, 8)).toBeNull();
    expect(createObserver('entropy').range()).toBeUndefined();
  });
});

describe('bad observer options', () => {
  it('rejects unknown kinds and out-of-range values with clear errors', () => {
    expect(() => resolveObserverOptions('kl' as never)).toThrow(/observer.kind/);
    expect(() => resolveObserverOptions({ kind: 'percentile', percentile: 0 })).toThrow(/\(0, 100\]/);
    expect(() => resolveObserverOptions({ kind: 'percentile', percentile: 100.5 })).toThrow(/\(0, 100\]/);
    expect(() => resolveObserverOptions({ kind: 'entropy', bins: 8 })).toThrow(/bins/);
    expect(() => resolveObserverOptions({ kind: 'moving-average', averagingConstant: 0 })).toThrow(/averagingConstant/);
    expect(() => searchRange('entropy', Float64Array.of(1, -1), -1, 1, 8)).toThrow(/counts\[1\]/);
    expect(() => searchRange('mse', Float64Array.of(1, 1), 0.5, 1, 8)).toThrow(/contain 0/);
    expect(() => createObserver('minmax').observe([1, 2] as never)).toThrow(/Float32Array/);
  });
});
