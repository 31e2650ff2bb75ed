// The typed surface of the native addon (native/binding/*.cc). Only src/native/binding.ts
// loads the addon; everything else goes through the validated wrappers in src/.
// Arguments are checked again in C++, but callers must pass exactly these types.

export type IsaName = 'ref' | 'avx2' | 'avxvnni' | 'avx512vnni' | 'neon' | 'neondot';

export interface CpuInfo {
  vendor: string;
  brand: string;
  features: {
    avx2: boolean; fma: boolean; f16c: boolean; bmi2: boolean;
    avx512f: boolean; avx512bw: boolean; avx512dq: boolean; avx512vl: boolean; avx512vnni: boolean;
    avxvnni: boolean; neon: boolean; neonDot: boolean; neonFp16: boolean;
  };
  availableCores: number;
}

// ---- core (native/binding/core_binding.cc)
export interface CoreBinding {
  abiVersion: number;
  cpuInfo(): CpuInfo;
  /** Paths runnable on this CPU and compiled into this build, best last. */
  supportedIsas(): IsaName[];
  getIsa(): IsaName;
  /** Throws RangeError for an unknown or unsupported path. */
  setIsa(isa: IsaName): void;
  /** Non-empty when TFJS_QUANT_ISA asked for a path that is not available. */
  isaWarning(): string;
  getThreads(): number;
  setThreads(n: number): void;
}

// ---- gemm (native/binding/gemm_binding.cc) — BEGIN gemm section
export interface GemmBinding {}
// ---- gemm — END gemm section

// ---- quant (native/binding/quant_binding.cc) — BEGIN quant section
export interface QuantBinding {}
// ---- quant — END quant section

// ---- codec (native/binding/codec_binding.cc) — BEGIN codec section
export interface CodecDecoded {
  shape: number[];
  values: Float32Array;
  /** Relative-index width of the stream; 0 = dense (no index stream). */
  indexBits: number;
  /** Entries stored (nonzeros + filler zeros; every element when dense). */
  entries: number;
  codebookSize: number;
  codebookF16: boolean;
}
export interface CodecBinding {
  /** Decodes one Deep Compression tensor stream (docs/compression.md); throws Error naming the defect. */
  codecDecode(stream: Uint8Array): CodecDecoded;
  /** CRC-32 (zlib polynomial). */
  codecCrc32(data: Uint8Array): number;
  /** 1-D Lloyd k-means from `init` (1..65535 centroids): centroids ascending, labels index them. */
  kmeans1d(values: Float32Array, init: Float64Array, maxIter: number): {
    centroids: Float64Array; labels: Uint16Array; iterations: number; inertia: number;
  };
  /** out[labels[i]] += values[i] (labels < segments ≤ 65536). */
  segmentSum(values: Float32Array, labels: Uint16Array, segments: number): Float64Array;
}
// ---- codec — END codec section

// ---- train (native/binding/train_binding.cc) — BEGIN train section
export interface TrainBinding {}
// ---- train — END train section

export interface NativeBinding extends CoreBinding, GemmBinding, QuantBinding, CodecBinding, TrainBinding {}
