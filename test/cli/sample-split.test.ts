// How user samples are shared between calibration, the accuracy guard and the evaluation: three
// disjoint parts, so that the guard never judges on the samples the ranges were fitted to.
import { describe, expect, it } from 'vitest';
import { splitUserSamples } from '../../src/convert/convert-one.js';

describe('splitUserSamples', () => {
  it('takes calibration first, then the guard, then the held-out evaluation when there are enough', () => {
    // 18 samples, --samples 8, --guard-samples 8, --eval-samples 2: 8 + 8 + 2.
    expect(splitUserSamples(18, 8, 8, 2)).toEqual({ calibrate: 8, guard: 8, evaluate: 2 });
    // More than needed: the reader stops at samples + guard + eval, so the total never exceeds it;
    // with fewer, the guard gets what follows calibration: 14 = 8 + 4 + 2.
    expect(splitUserSamples(14, 8, 8, 2)).toEqual({ calibrate: 8, guard: 4, evaluate: 2 });
  });

  it('with no more samples than calibration asks for, sets a quarter apart for the evaluation and one for the guard', () => {
    // 8 samples, --samples 8: a quarter (2) held out, then a quarter of the 6 left is 1 (< 2):
    // the guard measures on the calibration samples.
    expect(splitUserSamples(8, 8, 8, 2)).toEqual({ calibrate: 6, guard: 0, evaluate: 2 });
    // 100 samples, --samples 100 (the default), 8 guard, 16 eval: 25 held out, then 18 (a
    // quarter of 75) exceeds --guard-samples, so 8.
    expect(splitUserSamples(100, 100, 8, 16)).toEqual({ calibrate: 67, guard: 8, evaluate: 25 });
  });

  it('without the guard or the evaluation, every sample calibrates', () => {
    expect(splitUserSamples(10, 8, 0, 0)).toEqual({ calibrate: 10, guard: 0, evaluate: 0 });
    expect(splitUserSamples(1, 8, 8, 2)).toEqual({ calibrate: 1, guard: 0, evaluate: 0 });
  });

  it('the parts always add up to the total and never overlap', () => {
    for (let total = 1; total <= 40; total++)
      for (const [s, gs, e] of [
        [8, 8, 2],
        [4, 2, 0],
        [16, 8, 16],
        [100, 8, 16],
      ] as const) {
        const p = splitUserSamples(total, s, gs, e);
        expect(p.calibrate + p.guard + p.evaluate).toBe(total);
        expect(p.calibrate).toBeGreaterThanOrEqual(1);
        expect(p.guard).toBeLessThanOrEqual(gs);
        expect(p.evaluate).toBeLessThanOrEqual(Math.max(e, Math.floor(total / 4)));
      }
  });
});
