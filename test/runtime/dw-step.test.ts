// The runtime's int8 depthwise step packs its weights once, at load, for the kernel path then
// active; each path packs in its own form (the AVX-512 VNNI one byte-interleaves four window
// rows per channel, the AVX2 one pairs taps in 16-bit lanes). A session made under one path
// and run under another must not read the other's form: it packs for itself and still gives
// the reference kernel's bytes.
import { describe, expect, it } from 'vitest';
import { convGeometry, depthwiseConv2dInt8 } from '../../src/kernels/ops.js';
import { native } from '../../src/native/binding.js';
import { getIsa, setIsa, supportedIsas } from '../../src/native/cpu.js';
import { activationBounds, requantizeMultiplier } from '../../src/quant/scheme.js';
import { makeStep } from '../../src/runtime/step-schema.js';
import { stepGeom } from './helpers.js';
import { expectEqualArrays, randInt, randQ, randW, rng } from '../ops/helpers.js';

const cases = [
  { xs: [2, 9, 11, 144], k: [3, 3] as [number, number], s: [1, 1] as [number, number] },
  { xs: [1, 10, 7, 40], k: [3, 3] as [number, number], s: [2, 2] as [number, number] },
  { xs: [1, 8, 8, 70], k: [5, 5] as [number, number], s: [1, 1] as [number, number] },
];

describe('dw_i8 step: weights packed at load for one kernel path', () => {
  it('gives the reference bytes on every path, including paths other than the one it was made under', async () => {
    const r = rng(77);
    const prev = getIsa();
    const isas = supportedIsas();
    try {
      for (const c of cases) {
        const C = c.xs[3]!;
        const g = convGeometry(c.xs, c.k, { strides: c.s, dilations: [1, 1], padding: 'same' });
        const ys = [c.xs[0]!, g.outHeight, g.outWidth, C];
        const x = randQ(
          r,
          'int8',
          c.xs.reduce((a, b) => a * b),
        ) as Int8Array;
        const filter = randW(r, c.k[0] * c.k[1] * C);
        const bias = Int32Array.from({ length: C }, () => randInt(r, -3000, 3000));
        const xp = { scale: 0.05, zeroPoint: randInt(r, -20, 20) };
        const yp = { scale: 0.05 + r() * 0.2, zeroPoint: randInt(r, -10, 10) };
        const ws = Float32Array.from({ length: C }, () => 0.002 + r() * 0.01);
        const mult = Float32Array.from(ws, (s) => requantizeMultiplier(xp.scale, s, yp.scale));
        const [lo, hi] = activationBounds('int8', yp.zeroPoint, yp.scale, 'relu');
        setIsa('ref');
        const { y: want } = depthwiseConv2dInt8(
          {
            x,
            xShape: c.xs,
            xParams: xp,
            filter,
            filterShape: [c.k[0], c.k[1], C, 1],
            filterScales: ws,
            bias,
            yParams: yp,
            activation: 'relu',
          },
          { strides: c.s, dilations: [1, 1], padding: 'same' },
        );
        expect(new Set(want).size, `${c.xs} output values`).toBeGreaterThan(20);
        const geom = stepGeom(g);
        const plan = {
          buffers: [
            { dtype: 1 as const, shape: [-1, ...c.xs.slice(1)] },
            { dtype: 1 as const, shape: [-1, ...ys.slice(1)] },
          ],
          weights: [filter, bias, mult],
          steps: [
            makeStep('dw_i8', {
              inputs: [0],
              output: 1,
              ints: { geom, multiplier: 1, x_zero_point: xp.zeroPoint, y_zero_point: yp.zeroPoint, qmin: lo, qmax: hi },
              weights: { w: 0, bias: 1, multipliers: 2 },
            }),
          ],
          inputs: [0],
          outputs: [1],
        };
        for (const made of isas) {
          setIsa(made);
          const s = new (native().RuntimeSession)(plan, { threads: 1 });
          try {
            for (const ran of isas) {
              setIsa(ran);
              const [got] = await s.run([x], { batch: c.xs[0]! });
              expectEqualArrays(got!, want, `dw ${c.xs} k${c.k} s${c.s}: made under ${made}, run under ${ran}`);
            }
          } finally {
            s.dispose();
          }
        }
      }
    } finally {
      setIsa(prev);
    }
  });
});
