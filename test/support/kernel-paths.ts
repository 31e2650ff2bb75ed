// Shared by the tests that compare every kernel path this machine runs with scheme.ts (the
// TypeScript statement of the arithmetic): a deterministic PRNG and a readable first mismatch.
// (The loop over the paths is test/ops/helpers.ts's forEachIsa.)
import { expect } from 'vitest';

/** Deterministic PRNG (mulberry32) in [0, 1). */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** First index where a native array differs from the expectation ('' when none), for a readable failure. */
export function firstDiff(got: ArrayLike<number>, want: ArrayLike<number>): string {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++)
    if (!Object.is(got[i], want[i])) return `at ${i}: got ${got[i]}, want ${want[i]}`;
  return '';
}
