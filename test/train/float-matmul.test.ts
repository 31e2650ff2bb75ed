// The runtime's float MatMul kernel (weights packed once into train::PackedB, then the
// blocked GEMM) against a float64 product and against the training GEMM (trainBatchMatMul,
// which packs per call: the same K blocks and tile kernel, so the same bits), and its
// binding's argument checks.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/binding.js';
import { getIsa, setIsa, supportedIsas } from '../../src/native/cpu.js';
import { ACT } from '../../src/runtime/step-codes.js';
import { makeStep } from '../../src/runtime/step-schema.js';
import { randomFloats } from '../support/model-fixtures.js';

describe("floatMatMul (the runtime's matmul_f32 kernel)", () => {
  it('equals a float64 product to 1e-5 (relative to Σ|a·b|) from 1 row up, with column tails', () => {
    const b = native();
    for (const [m, k, n] of [
      [1, 1, 1],
      [1, 300, 100],
      [2, 77, 33],
      [7, 64, 65],
      [8, 129, 96],
      [9, 40, 31],
      [20, 50, 70],
    ] as const) {
      const x = randomFloats(m * k, m * 13 + k),
        w = randomFloats(k * n, n + 7);
      for (const threads of [1, 2]) {
        const c = new Float32Array(m * n);
        b.floatMatMul(x, w, c, { m, n, k, threads });
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0,
              mag = 0;
            for (let p = 0; p < k; p++) {
              s += x[i * k + p]! * w[p * n + j]!;
              mag += Math.abs(x[i * k + p]! * w[p * n + j]!);
            }
            expect(Math.abs(c[i * n + j]! - s), `${m}x${k}x${n} [${i},${j}] threads ${threads}`).toBeLessThanOrEqual(
              1e-5 * Math.max(mag, 1e-30),
            );
          }
      }
    }
  });

  it('equals the training GEMM bit for bit: several K blocks, column blocks and row blocks, 1 and 2 threads', () => {
    const b = native();
    for (const [m, k, n] of [
      [1, 600, 40],
      [5, 257, 300],
      [97, 513, 17],
      [200, 64, 529],
    ] as const) {
      const x = randomFloats(m * k, m + k),
        w = randomFloats(k * n, n + 3);
      const want = new Float32Array(m * n);
      b.trainBatchMatMul(x, w, want, { batchA: 1, batchB: 1, m, n, k, transposeA: false, transposeB: false });
      for (const threads of [1, 2]) {
        const c = new Float32Array(m * n);
        b.floatMatMul(x, w, c, { m, n, k, threads });
        expect(new Uint32Array(c.buffer)).toEqual(new Uint32Array(want.buffer));
      }
    }
  });

  it('the matmul_f32 step adds the bias and applies the activation as trainBiasActivation does after the training GEMM, bit for bit on every ISA path', async () => {
    const b = native();
    const prev = getIsa();
    try {
      for (const isa of supportedIsas()) {
        setIsa(isa);
        // Column tails of 1-15 and 16 + 5, row tails of 1-5, two K blocks (K > 256).
        for (const [m, k, n] of [
          [13, 40, 21],
          [7, 300, 5],
          [6, 16, 16],
          [25, 64, 37],
        ] as const) {
          const x = randomFloats(m * k, m * 3 + k),
            w = randomFloats(k * n, n + 11),
            bias = randomFloats(n, k + 1);
          for (const act of ['relu', 'relu6', 'leakyRelu', 'linear'] as const) {
            const want = new Float32Array(m * n);
            b.trainBatchMatMul(x, w, want, { batchA: 1, batchB: 1, m, n, k, transposeA: false, transposeB: false });
            // Outputs of both signs and beyond 6: every branch of the activations is taken.
            b.trainBiasActivation(want, { channels: n, bias, activation: act, alpha: 0.3 });
            const plan = {
              buffers: [
                { dtype: 0 as const, shape: [-1, k] },
                { dtype: 0 as const, shape: [-1, n] },
              ],
              weights: [w, bias],
              steps: [
                makeStep('matmul_f32', {
                  inputs: [0],
                  output: 1,
                  ints: { act: ACT[act.toLowerCase()]! },
                  floats: { alpha: 0.3 },
                  weights: { w: 0, bias: 1 },
                }),
              ],
              inputs: [0],
              outputs: [1],
            };
            const session = new b.RuntimeSession(plan, { threads: 1 });
            const [got] = await session.run([x], { batch: m });
            session.dispose();
            expect(new Uint32Array(got!.buffer), `${isa} ${m}x${k}x${n} ${act}`).toEqual(new Uint32Array(want.buffer));
          }
        }
      }
    } finally {
      setIsa(prev);
    }
  });

  it('takes weights packed once (FloatPackedWeights): the same bits as packing per call; wrong sizes and disposed weights are errors', () => {
    const b = native();
    const [m, k, n] = [9, 300, 70];
    const x = randomFloats(m * k, 5),
      w = randomFloats(k * n, 6);
    const want = new Float32Array(m * n),
      got = new Float32Array(m * n);
    b.floatMatMul(x, w, want, { m, n, k, threads: 1 });
    const packed = new b.FloatPackedWeights(w, { k, n });
    b.floatMatMul(x, packed, got, { m, n, k, threads: 2 });
    expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
    expect(() => b.floatMatMul(x, packed, new Float32Array(m * (n + 1)), { m, n: n + 1, k, threads: 1 })).toThrow(
      /packed for k × n = 300 × 70/,
    );
    expect(() => b.floatMatMul(x, {} as never, got, { m, n, k, threads: 1 })).toThrow(/FloatPackedWeights/);
    expect(() => new b.FloatPackedWeights(w.subarray(1), { k, n })).toThrow(/b has/);
    packed.dispose();
    expect(() => b.floatMatMul(x, packed, got, { m, n, k, threads: 1 })).toThrow(/disposed/);
  });

  it('rejects wrong lengths, aliasing and bad sizes with clear errors', () => {
    const b = native();
    const a = new Float32Array(6),
      w = new Float32Array(12),
      c = new Float32Array(8);
    expect(() => b.floatMatMul(a, w, c, { m: 2, n: 4, k: 3, threads: 1 })).not.toThrow();
    expect(() => b.floatMatMul(a.subarray(1), w, c, { m: 2, n: 4, k: 3, threads: 1 })).toThrow(
      /a has 5 elements, expected 6/,
    );
    expect(() => b.floatMatMul(a, w, new Float32Array(7), { m: 2, n: 4, k: 3, threads: 1 })).toThrow(
      /c has 7 elements, expected 8/,
    );
    expect(() => b.floatMatMul(a, w, c, { m: -1, n: 4, k: 3, threads: 1 })).toThrow(/m/);
    expect(() => b.floatMatMul(a, w, c, { m: 2, n: 4, k: 3, threads: 300 })).toThrow(/threads/);
    const shared = new Float32Array(14);
    expect(() =>
      b.floatMatMul(shared.subarray(0, 6), w, shared.subarray(6, 14), { m: 2, n: 4, k: 3, threads: 1 }),
    ).not.toThrow();
    expect(() =>
      b.floatMatMul(shared.subarray(0, 6), w, shared.subarray(4, 12), { m: 2, n: 4, k: 3, threads: 1 }),
    ).toThrow(/overlap/);
  });
});
