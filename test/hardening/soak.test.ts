// Resource safety and load, bounded (the long version is bench/soak/run.ts, which this test
// runs with small counts in a child process with --expose-gc; the 10,000-run soak of one
// session is bench/models/soak.ts): under kernel calls and session churn every answer stays
// bit-identical; worker threads running sessions concurrently agree with sequential runs, and
// a bad-input run leaves its session usable. RSS growth is measured by the bench, not here.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('soak and load (bench/soak/run.ts with small counts)', () => {
  it('no mismatches under kernel calls, session churn and concurrent workers; workers agree with sequential runs', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/soak/run.ts', '5000', '40'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout
      .split('\n')
      .filter((l) => /^\| (kernels|session churn|load) \|/.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((c) => c[1])).toEqual(['kernels', 'session churn', 'load']);
    // Memory growth is a measurement (bench/soak/run.ts prints it; RESULTS-soak.md records it),
    // not a test assertion: RSS depends on what else the machine runs.
    for (const c of rows) expect(Number(c[6]), `${c[1]} mismatches`).toBe(0);
    expect(rows[2]![2]).toMatch(/bad-input runs that threw/);
  }, 300_000);
});
