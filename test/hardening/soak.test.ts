// Resource safety and load, bounded (the long version is bench/soak/run.ts, which this test
// runs with small counts in a child process with --expose-gc; the 10,000-run soak of one
// session is bench/models/soak.ts): kernel calls and session churn keep RSS flat and every answer bit-identical; sessions dropped without dispose() are freed
// by their finalizers; worker threads running sessions concurrently agree with sequential
// runs, and a bad-input run leaves its session usable.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('soak and load (bench/soak/run.ts with small counts)', () => {
  it('RSS stays flat, no mismatches, workers agree with sequential runs', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/soak/run.ts', '5000', '40'], {
      cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\| (kernels|session churn|load) \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((c) => c[1])).toEqual(['kernels', 'session churn', 'load']);
    const mib = (s: string) => {
      const m = /^(-?[\d.]+) (B|KiB|MiB|GiB)$/.exec(s)!;
      return Number(m[1]) * { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'B']!;
    };
    for (const c of rows) {
      expect(Number(c[6]), `${c[1]} mismatches`).toBe(0);
      // Flat: growth after warm-up within a few MiB (allocator noise), far below the work done.
      expect(mib(c[5]!), `${c[1]} RSS growth`).toBeLessThan(c[1] === 'load' ? 64 : 16);
    }
    expect(rows[2]![2]).toMatch(/bad-input runs that threw/);
  }, 300_000);
});
