// Bounded, seeded mutation fuzzing of the .npy reader (the other byte readers are fuzzed in
// test/model/bad-input.test.ts and test/compress/codec.test.ts; the long runs are
// bench/fuzz/run.sh): every mutated file is read or rejected with an NpyError naming the
// file — never another exception, a hang, or an allocation the file cannot back.
import { describe, expect, it } from 'vitest';
import { NpyError, readNpy, writeNpy } from '../../src/io/npy.js';
import { mutateBytes } from '../../src/io/mutate.js';
import { rng } from '../support/model-fixtures.js';

describe('fuzz: .npy reader', () => {
  it('a version 2/3 file cut inside its 4-byte header length is an NpyError (found by bench/fuzz)', () => {
    const v2 = writeNpy(new Float32Array(4), [4]).slice(0, 11);
    v2[6] = 2;
    expect(() => readNpy(v2, 'cut.npy')).toThrow(NpyError);
    expect(() => readNpy(v2, 'cut.npy')).toThrow(/cut\.npy: truncated \.npy header/);
  });

  it('1,500 mutated files: each reads or fails with an NpyError naming the file', () => {
    const bases = [
      writeNpy(
        Float32Array.from({ length: 24 }, (_, i) => i / 7),
        [2, 3, 4],
      ),
      writeNpy(
        Int8Array.from({ length: 10 }, (_, i) => i - 5),
        [10],
      ),
      writeNpy(Int32Array.from([1, 2, 3, 4]), [2, 2]),
      writeNpy(new Uint8Array(0), [0, 5]),
    ];
    const r = rng(77);
    let read = 0,
      rejected = 0;
    for (let i = 0; i < 1500; i++) {
      const bytes = mutateBytes(r, bases[i % bases.length]!);
      const before = bytes.slice();
      try {
        const a = readNpy(bytes, `sample-${i}.npy`);
        read++;
        // A successful read is self-consistent and backed by the file's bytes.
        expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
        expect(a.data.byteLength).toBeLessThanOrEqual(bytes.byteLength * 8);
      } catch (e) {
        rejected++;
        if (!(e instanceof NpyError))
          throw new Error(`mutation ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        expect(e.message).toContain(`sample-${i}.npy`);
      }
      expect(bytes).toEqual(before); // the reader never writes into its input
    }
    expect(read).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(500);
  });
});
