// tfjs-quant public API.
export { cpuInfo, supportedIsas, getIsa, setIsa, withIsa, getThreads, setThreads, ISA_NAMES } from './native/cpu.js';
export type { CpuInfo, IsaName } from './native/cpu.js';
export { initFloatBackend, floatBackendName, availableFloatBackends, describeFloatBackend } from './backend/float.js';
export type { FloatBackendName } from './backend/float.js';
