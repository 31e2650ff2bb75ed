// Which kernel path (ISA) runs, and how many threads the native pool uses.
import type { CpuInfo, IsaName } from '../../binding.js';
import { native } from './binding.js';
import { assertInt, assertOneOf } from './validate.js';

export type { CpuInfo, IsaName };
export const ISA_NAMES: readonly IsaName[] = ['ref', 'avx2', 'avxvnni', 'avx512vnni', 'neon', 'neondot', 'neoni8mm'];

export function cpuInfo(): CpuInfo {
  return native().cpuInfo();
}
/** Kernel paths available on this CPU and build, best last. */
export function supportedIsas(): IsaName[] {
  return native().supportedIsas();
}
/** The kernel path in use (TFJS_QUANT_ISA overrides the automatic choice at load). */
export function getIsa(): IsaName {
  return native().getIsa();
}
export function setIsa(isa: IsaName): void {
  assertOneOf(isa, ISA_NAMES, 'isa');
  const ok = supportedIsas();
  if (!ok.includes(isa))
    throw new RangeError(`isa '${isa}' is not available on this machine (available: ${ok.join(', ')})`);
  native().setIsa(isa);
}
/** Runs fn with `isa` forced, restoring the previous path afterwards. */
export async function withIsa<T>(isa: IsaName, fn: () => T | Promise<T>): Promise<T> {
  const prev = getIsa();
  setIsa(isa);
  try {
    return await fn();
  } finally {
    native().setIsa(prev);
  }
}
export function getThreads(): number {
  return native().getThreads();
}
export function setThreads(n: number): void {
  assertInt(n, 'threads', 1, 256);
  native().setThreads(n);
}
