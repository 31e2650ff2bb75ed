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
/** Parameter choice of docs/quantization.md §4. */
export type QuantParamScheme = 'asymmetricU8' | 'asymmetricI8' | 'symmetricI8';
/**
 * Kernels of docs/quantization.md (use src/kernels/quantize.ts and float16.ts, which validate).
 * Per-channel tensors are seen as [outer, channels, inner]; scales / zero points / multipliers
 * have `channels` entries (per-tensor: 1, 1, n). Outputs are caller-allocated, same length as
 * the input, and must not overlap it. *Async variants run on a worker thread.
 */
export interface QuantBinding {
  /** §2: out (int8 or uint8) = quantize(x); qmin/qmax inside the out type (narrow range: qmin -127). */
  quantize(x: Float32Array, out: Int8Array | Uint8Array, outer: number, channels: number, inner: number,
    scales: Float32Array, zeroPoints: Int32Array, qmin: number, qmax: number): void;
  quantizeAsync(x: Float32Array, out: Int8Array | Uint8Array, outer: number, channels: number, inner: number,
    scales: Float32Array, zeroPoints: Int32Array, qmin: number, qmax: number): Promise<void>;
  /** §3: out = fl32((q - zp) × scale); int32: fl32(fl32(q - zp) × scale). */
  dequantize(q: Int8Array | Uint8Array | Int32Array, out: Float32Array, outer: number, channels: number,
    inner: number, scales: Float32Array, zeroPoints: Int32Array): void;
  dequantizeAsync(q: Int8Array | Uint8Array | Int32Array, out: Float32Array, outer: number, channels: number,
    inner: number, scales: Float32Array, zeroPoints: Int32Array): Promise<void>;
  /**
   * §7: int32 accumulators (inZeroPoints null) or 8-bit values (acc = q - inZeroPoints[c]) to
   * int8/uint8 with per-channel multipliers, output zero point and clamp bounds [lo, hi].
   */
  requantize(input: Int32Array | Int8Array | Uint8Array, out: Int8Array | Uint8Array, outer: number,
    channels: number, inner: number, multipliers: Float32Array, inZeroPoints: Int32Array | null,
    outZeroPoint: number, lo: number, hi: number): void;
  requantizeAsync(input: Int32Array | Int8Array | Uint8Array, out: Int8Array | Uint8Array, outer: number,
    channels: number, inner: number, multipliers: Float32Array, inZeroPoints: Int32Array | null,
    outZeroPoint: number, lo: number, hi: number): Promise<void>;
  /** §4 for a range (lo, hi are rounded to float32 first). */
  chooseParams(scheme: QuantParamScheme, lo: number, hi: number): { scale: number; zeroPoint: number };
  /** §7: fl32(fl32(inputScale × weightScale) / outputScale). */
  requantizeMultiplier(inputScale: number, weightScale: number, outputScale: number): number;
  /** Per-channel range of the finite values, widened to include 0 (lo[c] <= 0 <= hi[c]). */
  channelMinMax(x: Float32Array, outer: number, channels: number, inner: number, lo: Float32Array, hi: Float32Array): void;
  /** Per-channel §4 parameters from the data in one pass. */
  chooseChannelParams(x: Float32Array, outer: number, channels: number, inner: number, scheme: QuantParamScheme,
    scales: Float32Array, zeroPoints: Int32Array): void;
  /** §8: x is m × k; scales/zeroPoints have m entries (perRow) or 1. */
  dynamicQuantizeU8(x: Float32Array, m: number, k: number, perRow: boolean, out: Uint8Array,
    scales: Float32Array, zeroPoints: Int32Array): void;
  /** §9: IEEE binary16 bit patterns. */
  float32ToFloat16(x: Float32Array, out: Uint16Array): void;
  float32ToFloat16Async(x: Float32Array, out: Uint16Array): Promise<void>;
  float16ToFloat32(h: Uint16Array, out: Float32Array): void;
  float16ToFloat32Async(h: Uint16Array, out: Float32Array): Promise<void>;
}
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
/** NHWC convolution / pooling geometry (tfjs computeConv2DInfo, padding resolved). */
export interface TrainConvGeom {
  batch: number; inHeight: number; inWidth: number; inChannels: number;
  /** depthwise: inChannels * channelMultiplier; pooling: inChannels */
  outHeight: number; outWidth: number; outChannels: number;
  filterHeight: number; filterWidth: number;
  strideHeight: number; strideWidth: number;
  dilationHeight: number; dilationWidth: number;
  padTop: number; padLeft: number;
}
/** Float32 training kernels; every output is written into the last (caller-owned) array. */
export interface TrainBinding {
  trainConv2D(geom: TrainConvGeom, x: Float32Array, filter: Float32Array, y: Float32Array): void;
  trainConv2DBackpropInput(geom: TrainConvGeom, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  trainConv2DBackpropFilter(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  trainDepthwiseConv2D(geom: TrainConvGeom, x: Float32Array, filter: Float32Array, y: Float32Array): void;
  trainDepthwiseConv2DBackpropInput(geom: TrainConvGeom, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  trainDepthwiseConv2DBackpropFilter(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  trainMaxPoolGrad(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  trainAvgPoolGrad(geom: TrainConvGeom, dy: Float32Array, dx: Float32Array): void;
  /** In place: y = act(y + bias[c]) over y viewed as [-1, channels]; bias null, 1 or channels long. */
  trainBiasActivation(y: Float32Array, channels: number, bias: Float32Array | null,
    activation: 'linear' | 'relu' | 'relu6' | 'leakyrelu', alpha: number): void;
}
// ---- train — END train section

// ---- ops (native/binding/ops_binding.cc) — BEGIN ops section
export interface OpsBinding {}
// ---- ops — END ops section

export interface NativeBinding extends CoreBinding, GemmBinding, QuantBinding, CodecBinding, TrainBinding, OpsBinding {}
