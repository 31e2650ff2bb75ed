import { describe, expect, it } from 'vitest';
import { cpuInfo, getIsa, getThreads, ISA_NAMES, setIsa, setThreads, supportedIsas, withIsa } from '../src/index.js';
import { availableFloatBackends, initFloatBackend, floatBackendName } from '../src/backend/float.js';
import { gemm, packWeights } from '../src/kernels/gemm.js';

describe('native core: CPU detection and dispatch', () => {
  it('reports the CPU and the paths it can run, ref always among them', () => {
    const info = cpuInfo();
    expect(info.availableCores).toBeGreaterThanOrEqual(1);
    const isas = supportedIsas();
    expect(isas[0]).toBe('ref');
    for (const isa of isas) expect(ISA_NAMES).toContain(isa);
    // The paths follow from the feature flags.
    if (process.arch === 'x64') {
      expect(isas.includes('avx2')).toBe(
        info.features.avx2 && info.features.fma && info.features.f16c && info.features.bmi2,
      );
      expect(isas.includes('avx512vnni')).toBe(
        info.features.avx512vnni && info.features.avx512bw && info.features.avx512vl,
      );
      expect(isas.includes('avxvnni')).toBe(info.features.avxvnni && info.features.avx2);
    }
  });

  it('chooses the best path unless TFJS_QUANT_ISA forces one, and can be switched', async () => {
    const isas = supportedIsas();
    const forced = process.env.TFJS_QUANT_ISA;
    expect(getIsa()).toBe(forced && isas.includes(forced as never) ? forced : isas[isas.length - 1]);
    const before = getIsa();
    await withIsa('ref', () => expect(getIsa()).toBe('ref'));
    expect(getIsa()).toBe(before);
  });

  it('rejects unknown or unavailable paths with a clear error', () => {
    expect(() => setIsa('sse9' as never)).toThrow(/isa must be one of/);
    const missing = ISA_NAMES.find((n) => !supportedIsas().includes(n));
    if (missing) expect(() => setIsa(missing)).toThrow(/not available/);
  });

  it('resizes the thread pool and validates the count', () => {
    const before = getThreads();
    setThreads(1);
    expect(getThreads()).toBe(1);
    setThreads(3);
    expect(getThreads()).toBe(3);
    setThreads(before);
    expect(() => setThreads(0)).toThrow(RangeError);
    expect(() => setThreads(1.5)).toThrow(TypeError);
  });

  it('more participants than cores (6, past the inline shares of 4): a GEMM gives the 1-thread result', () => {
    const before = getThreads();
    try {
      setThreads(6);
      const [m, k, n] = [300, 200, 130]; // enough multiply-adds for the pool to split
      const a = Uint8Array.from({ length: m * k }, (_, i) => (i * 7919) % 256);
      const b = Int8Array.from({ length: k * n }, (_, i) => ((i * 31) % 255) - 127);
      const p = packWeights(b, { k, n });
      const o = { m, aZeroPoint: 7, output: 'int8' as const, multiplier: 0.0005, outZeroPoint: -3 };
      const one = gemm(a, p, { ...o, threads: 1 });
      for (let r = 0; r < 5; r++) expect(Array.from(gemm(a, p, { ...o, threads: 6 }))).toEqual(Array.from(one));
      p.dispose();
    } finally {
      setThreads(before);
    }
  });
});

describe('float reference backend', () => {
  it('falls back to a backend that loads, and says which', async () => {
    const available = availableFloatBackends();
    expect(available).toContain('cpu');
    const name = await initFloatBackend();
    expect(available).toContain(name);
    expect(floatBackendName()).toBe(name);
    // Without tfjs-node the best is wasm.
    if (!available.includes('tensorflow')) expect(name).toBe('wasm');
  });
});
