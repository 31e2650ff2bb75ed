// The native GEMM harness scripts: SIMDe-emulated AVX-VNNI / AVX-512 VNNI kernels on this
// machine, and the NEON / NEON-dot kernels cross-compiled and run under qemu. Each compares
// every path with the reference bit for bit (native/tests/gemm_tests.cc). Whether each runs is
// decided before the tests, from the tools the scripts need (the same checks as their exit-77
// guards): a skip names what is missing in the test's title and in a warning; .ci/run installs
// them so that CI executes both.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What each script lacks on this machine (empty: it runs). */
const missing = {
  emulated: [
    ...(process.arch === 'x64' ? [] : [`an x86-64 machine (this is ${process.arch})`]),
    ...(which(process.env.CXX ?? 'g++') ? [] : [process.env.CXX ?? 'g++']),
    ...(existsSync('/usr/include/simde/x86/avx512/dpbusd.h') ? [] : ['the SIMDe headers (Debian libsimde-dev)']),
  ],
  neon: [
    ...(which(process.env.CXX_AARCH64 ?? 'aarch64-linux-gnu-g++')
      ? []
      : [`${process.env.CXX_AARCH64 ?? 'aarch64-linux-gnu-g++'} (Debian g++-aarch64-linux-gnu)`]),
    ...(which(process.env.QEMU_AARCH64 ?? 'qemu-aarch64-static')
      ? []
      : [`${process.env.QEMU_AARCH64 ?? 'qemu-aarch64-static'} (Debian qemu-user-static)`]),
  ],
};

function runScript(script: string): { status: number | null; out: string } {
  const r = spawnSync('bash', [join(root, 'scripts', script), '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function check(script: string, paths: string[]) {
  return () => {
    // The tools were found above, so the script's exit 77 (a tool missing) is a failure here.
    const { status, out } = runScript(script);
    const summary = out.match(/gemm harness: PASS (\d+), FAIL (\d+)/);
    if (status !== 0 || !summary) throw new Error(`${script} failed (exit ${status}):\n${out.slice(-4000)}`);
    expect(Number(summary[2])).toBe(0);
    expect(Number(summary[1])).toBeGreaterThan(100);
    for (const p of paths) expect(out).toMatch(new RegExp(`paths compared with ref:.*\\b${p}\\b`));
  };
}

/** The title, naming what is missing when the check is skipped. */
function titled(title: string, lacks: string[]): string {
  if (!lacks.length) return title;
  console.warn(`${title}: SKIPPED — needs ${lacks.join(', ')}`);
  return `${title} (skipped: needs ${lacks.join(', ')})`;
}

describe('native GEMM harness', () => {
  it.skipIf(missing.emulated.length > 0)(
    titled('AVX-VNNI and AVX-512 VNNI kernels (SIMDe emulation) equal ref bit for bit', missing.emulated),
    check('check-emulated-isa.sh', ['avxvnni', 'avx512vnni']),
    240_000,
  );

  it.skipIf(missing.neon.length > 0)(
    titled(
      'NEON, NEON dot-product and NEON 8-bit matrix-multiply kernels (qemu aarch64) equal ref bit for bit',
      missing.neon,
    ),
    check('check-neon.sh', ['neon', 'neondot', 'neoni8mm']),
    240_000,
  );
});
