// The runtime's float MatMul kernel choice (train::MatMul: a streaming few-row kernel up to 8
// rows, the packing GEMM above) against a float64 product, and its binding's argument checks.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/binding.js';
import { randomFloats } from '../../src/model/testing.js';

describe('floatMatMul (the runtime\'s matmul_f32 kernel)', () => {
  it('equals a float64 product to 1e-5 (relative to Σ|a·b|) across the few-row / packed boundary and column tails', () => {
    const b = native();
    for (const [m, k, n] of [[1, 1, 1], [1, 300, 100], [2, 77, 33], [7, 64, 65], [8, 129, 96], [9, 40, 31], [20, 50, 70]] as const) {
      const x = randomFloats(m * k, m * 13 + k), w = randomFloats(k * n, n + 7);
      for (const threads of [1, 2]) {
        const c = new Float32Array(m * n);
        b.floatMatMul(m, n, k, x, w, c, threads);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0, mag = 0;
          for (let p = 0; p < k; p++) { s += x[i * k + p]! * w[p * n + j]!; mag += Math.abs(x[i * k + p]! * w[p * n + j]!); }
          expect(Math.abs(c[i * n + j]! - s), `${m}x${k}x${n} [${i},${j}] threads ${threads}`).toBeLessThanOrEqual(1e-5 * Math.max(mag, 1e-30));
        }
      }
    }
  });

  it('rejects wrong lengths, aliasing and bad sizes with clear errors', () => {
    const b = native();
    const a = new Float32Array(6), w = new Float32Array(12), c = new Float32Array(8);
    expect(() => b.floatMatMul(2, 4, 3, a, w, c, 1)).not.toThrow();
    expect(() => b.floatMatMul(2, 4, 3, a.subarray(1), w, c, 1)).toThrow(/a has 5 elements, expected 6/);
    expect(() => b.floatMatMul(2, 4, 3, a, w, new Float32Array(7), 1)).toThrow(/c has 7 elements, expected 8/);
    expect(() => b.floatMatMul(-1, 4, 3, a, w, c, 1)).toThrow(/m/);
    expect(() => b.floatMatMul(2, 4, 3, a, w, c, 300)).toThrow(/threads/);
    const shared = new Float32Array(14);
    expect(() => b.floatMatMul(2, 4, 3, shared.subarray(0, 6), w, shared.subarray(6, 14), 1)).not.toThrow();
    expect(() => b.floatMatMul(2, 4, 3, shared.subarray(0, 6), w, shared.subarray(4, 12), 1)).toThrow(/overlap/);
  });
});
