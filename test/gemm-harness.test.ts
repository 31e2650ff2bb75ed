// The native GEMM harness scripts: SIMDe-emulated AVX-VNNI / AVX-512 VNNI kernels on this
// machine, and the NEON / NEON-dot kernels cross-compiled and run under qemu. Each compares
// every path with the reference bit for bit (native/tests/gemm_tests.cc). Skipped, visibly,
// when the toolchain is missing (the scripts exit 77).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const toolchains = {
  emulated: process.arch === 'x64' && which('g++') && existsSync('/usr/include/simde/x86/avx512/dpbusd.h'),
  neon: which('aarch64-linux-gnu-g++') && which('qemu-aarch64-static'),
};

function runScript(script: string): { status: number | null; out: string } {
  const r = spawnSync('bash', [join(root, 'scripts', script), '--quick'], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function check(script: string, paths: string[]) {
  return (ctx: { skip: (note?: string) => void }) => {
    const { status, out } = runScript(script);
    if (status === 77) {
      console.warn(`${script}: SKIPPED — ${out.trim().split('\n').pop()}`);
      ctx.skip();
      return;
    }
    const summary = out.match(/gemm harness: PASS (\d+), FAIL (\d+)/);
    if (status !== 0 || !summary) throw new Error(`${script} failed (exit ${status}):\n${out.slice(-4000)}`);
    expect(Number(summary[2])).toBe(0);
    expect(Number(summary[1])).toBeGreaterThan(100);
    for (const p of paths) expect(out).toMatch(new RegExp(`paths compared with ref:.*\\b${p}\\b`));
  };
}

describe('native GEMM harness', () => {
  if (!toolchains.emulated) console.warn('check-emulated-isa.sh: SKIPPED — needs x86-64, g++ and libsimde-dev');
  it.skipIf(!toolchains.emulated)('AVX-VNNI and AVX-512 VNNI kernels (SIMDe emulation) equal ref bit for bit',
    check('check-emulated-isa.sh', ['avxvnni', 'avx512vnni']), 240_000);

  if (!toolchains.neon) console.warn('check-neon.sh: SKIPPED — needs aarch64-linux-gnu-g++ and qemu-aarch64-static');
  it.skipIf(!toolchains.neon)('NEON and NEON dot-product kernels (qemu aarch64) equal ref bit for bit',
    check('check-neon.sh', ['neon', 'neondot']), 240_000);
});
