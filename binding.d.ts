// The typed surface of the native addon (native/binding/*.cc). Only src/native/binding.ts
// loads the addon; everything else goes through the validated wrappers in src/.
// Arguments are checked again in C++, but callers must pass exactly these types.

export type IsaName = 'ref' | 'avx2' | 'avxvnni' | 'avx512vnni' | 'neon' | 'neondot' | 'neoni8mm';

export interface CpuInfo {
  vendor: string;
  brand: string;
  features: {
    avx2: boolean;
    fma: boolean;
    f16c: boolean;
    bmi2: boolean;
    avx512f: boolean;
    avx512bw: boolean;
    avx512dq: boolean;
    avx512vl: boolean;
    avx512vnni: boolean;
    avxvnni: boolean;
    neon: boolean;
    neonDot: boolean;
    neonFp16: boolean;
    neonI8mm: boolean;
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
/** Weights packed for one kernel path (native/gemm); use src/kernels/gemm.ts. */
export interface NativePackedWeights {
  readonly k: number;
  readonly n: number;
  /** The path the weights were packed for ('' once disposed). */
  readonly isa: IsaName | '';
  readonly byteLength: number;
  readonly disposed: boolean;
  /** Frees the native memory now (in-flight async calls keep their own reference). */
  dispose(): void;
}
export type GemmOutput = 'int32' | 'int8' | 'uint8' | 'float32';
/** What the int8 and int4 GEMMs' float32 epilogue applies (clamp: to [clampMin, clampMax]). */
export type GemmActivation = 'linear' | 'relu' | 'relu6' | 'clamp';
/**
 * Options of gemm(). aZeroPoints: 1 or m; bias: n; multipliers: 1 or n (int8/uint8 output);
 * aScales: 1 or m, wScales: 1 or n, biasF32: n, activation (float32 output). Fields that do not
 * apply to the output type are not read; clampMin/clampMax only for 'clamp'.
 */
export interface GemmNativeOptions {
  m: number;
  lda: number;
  ldc: number;
  /** 0 = the pool */
  threads: number;
  aZeroPoints: Int32Array;
  output: GemmOutput;
  bias: Int32Array | null;
  multipliers: Float32Array | null;
  outZeroPoint: number;
  qmin: number;
  qmax: number;
  aScales: Float32Array | null;
  wScales: Float32Array | null;
  biasF32: Float32Array | null;
  activation: GemmActivation;
  clampMin: number;
  clampMax: number;
}
/** Options of gemmDynamic(); wScales: 1 or n, biasF32: n. */
export interface GemmDynamicNativeOptions {
  m: number;
  ldx: number;
  ldc: number;
  threads: number;
  perRow: boolean;
  wScales: Float32Array;
  biasF32: Float32Array | null;
  activation: GemmActivation;
  clampMin: number;
  clampMax: number;
}
export interface GemmBinding {
  /** new GemmPackedWeights(b, {k, n, layout, zeroPoints (1 or n) | null, isa}) */
  GemmPackedWeights: new (
    b: Int8Array,
    options: { k: number; n: number; layout: 'kn' | 'nk'; zeroPoints?: Int32Array | null; isa: IsaName },
  ) => NativePackedWeights;
  gemmMaxK: number;
  /** out[m*ldc + n] = epilogue(A · B); a is Uint8Array or Int8Array (treated as uint8 + 128). */
  gemm(
    a: Uint8Array | Int8Array,
    packed: NativePackedWeights,
    out: Int32Array | Int8Array | Uint8Array | Float32Array,
    options: GemmNativeOptions,
  ): void;
  gemmAsync(
    a: Uint8Array | Int8Array,
    packed: NativePackedWeights,
    out: Int32Array | Int8Array | Uint8Array | Float32Array,
    options: GemmNativeOptions,
  ): Promise<void>;
  /** §8 dynamic quantization of x, int8 GEMM, dequantize epilogue, in one call. */
  gemmDynamic(x: Float32Array, packed: NativePackedWeights, out: Float32Array, options: GemmDynamicNativeOptions): void;
  gemmDynamicAsync(
    x: Float32Array,
    packed: NativePackedWeights,
    out: Float32Array,
    options: GemmDynamicNativeOptions,
  ): Promise<void>;
  /** GOPS of a dependency-free multiply-accumulate loop for `isa`, one thread, ~seconds of CPU time. */
  gemmMeasurePeak(options: { isa: IsaName; seconds: number }): number;
}
// ---- gemm — END gemm section

// ---- quant (native/binding/quant_binding.cc) — BEGIN quant section
/** Parameter choice of docs/quantization.md §4. */
export type QuantParamScheme = 'asymmetricU8' | 'asymmetricI8' | 'symmetricI8';
/** [outer, channels, inner]: a per-channel tensor's layout (per tensor: 1, 1, n). */
export interface QuantLayout {
  outer: number;
  channels: number;
  inner: number;
}
export interface QuantizeNativeOptions extends QuantLayout {
  scales: Float32Array;
  zeroPoints: Int32Array;
  /** inside the out type (narrow range: qmin -127) */
  qmin: number;
  qmax: number;
}
export interface DequantizeNativeOptions extends QuantLayout {
  scales: Float32Array;
  zeroPoints: Int32Array;
}
export interface RequantizeNativeOptions extends QuantLayout {
  multipliers: Float32Array;
  /** null for int32 accumulators; else acc = q - inZeroPoints[c] */
  inZeroPoints: Int32Array | null;
  outZeroPoint: number;
  /** clamp bounds [lo, hi] inside the out type */
  lo: number;
  hi: number;
}
/**
 * Kernels of docs/quantization.md (use src/kernels/quantize.ts and float16.ts, which validate).
 * Per-channel tensors are seen as [outer, channels, inner]; scales / zero points / multipliers
 * have `channels` entries (per-tensor: 1, 1, n). Outputs are caller-allocated, same length as
 * the input, and must not overlap it. *Async variants run on a worker thread.
 */
export interface QuantBinding {
  /** §2: out (int8 or uint8) = quantize(x). */
  quantize(x: Float32Array, out: Int8Array | Uint8Array, options: QuantizeNativeOptions): void;
  quantizeAsync(x: Float32Array, out: Int8Array | Uint8Array, options: QuantizeNativeOptions): Promise<void>;
  /** §3: out = fl32((q - zp) × scale); int32: fl32(fl32(q - zp) × scale). */
  dequantize(q: Int8Array | Uint8Array | Int32Array, out: Float32Array, options: DequantizeNativeOptions): void;
  dequantizeAsync(
    q: Int8Array | Uint8Array | Int32Array,
    out: Float32Array,
    options: DequantizeNativeOptions,
  ): Promise<void>;
  /** §7: int32 accumulators or 8-bit values to int8/uint8 with per-channel multipliers. */
  requantize(
    input: Int32Array | Int8Array | Uint8Array,
    out: Int8Array | Uint8Array,
    options: RequantizeNativeOptions,
  ): void;
  requantizeAsync(
    input: Int32Array | Int8Array | Uint8Array,
    out: Int8Array | Uint8Array,
    options: RequantizeNativeOptions,
  ): Promise<void>;
  /** §4 for a range (lo, hi are rounded to float32 first). */
  chooseParams(options: { scheme: QuantParamScheme; lo: number; hi: number }): { scale: number; zeroPoint: number };
  /** §7: fl32(fl32(inputScale × weightScale) / outputScale). */
  requantizeMultiplier(options: { inputScale: number; weightScale: number; outputScale: number }): number;
  /** Per-channel range of the finite values, widened to include 0 (lo[c] <= 0 <= hi[c]). */
  channelMinMax(x: Float32Array, lo: Float32Array, hi: Float32Array, options: QuantLayout): void;
  /** Per-channel §4 parameters from the data in one pass. */
  chooseChannelParams(
    x: Float32Array,
    scales: Float32Array,
    zeroPoints: Int32Array,
    options: QuantLayout & { scheme: QuantParamScheme },
  ): void;
  /** §8: x is m × k; scales/zeroPoints have m entries (perRow) or 1. */
  dynamicQuantizeU8(
    x: Float32Array,
    out: Uint8Array,
    scales: Float32Array,
    zeroPoints: Int32Array,
    options: { m: number; k: number; perRow: boolean },
  ): void;
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
  kmeans1d(
    values: Float32Array,
    init: Float64Array,
    options: { maxIter: number },
  ): {
    centroids: Float64Array;
    labels: Uint16Array;
    iterations: number;
    inertia: number;
  };
  /** out[labels[i]] += values[i] (labels < segments ≤ 65536). */
  segmentSum(values: Float32Array, labels: Uint16Array, options: { segments: number }): Float64Array;
}
// ---- codec — END codec section

// ---- train (native/binding/train_binding.cc) — BEGIN train section
/** NHWC convolution / pooling geometry (tfjs computeConv2DInfo, padding resolved). */
/** Float weights packed once for floatMatMul (the runtime's float steps hold theirs this way). */
export interface NativeFloatPackedWeights {
  dispose(): void;
}

export interface TrainConvGeom {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  /** depthwise: inChannels * channelMultiplier; pooling: inChannels */
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}
/** Float32 training kernels; every output is written into the last (caller-owned) array. */
export interface TrainBinding {
  trainConv2D(geom: TrainConvGeom, x: Float32Array, filter: Float32Array, y: Float32Array): void;
  trainConv2DBackpropInput(geom: TrainConvGeom, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  trainConv2DBackpropFilter(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  trainDepthwiseConv2D(geom: TrainConvGeom, x: Float32Array, filter: Float32Array, y: Float32Array): void;
  trainDepthwiseConv2DBackpropInput(
    geom: TrainConvGeom,
    dy: Float32Array,
    filter: Float32Array,
    dx: Float32Array,
  ): void;
  trainDepthwiseConv2DBackpropFilter(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  trainMaxPoolGrad(geom: TrainConvGeom, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  trainAvgPoolGrad(geom: TrainConvGeom, dy: Float32Array, dx: Float32Array): void;
  /** c[i] = op(a[i or 0]) · op(b[i or 0]); a [batchA, m, k] ([k, m] if transposeA), b [batchB, k, n] ([n, k]), c [max, m, n]. */
  trainBatchMatMul(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    options: {
      batchA: number;
      batchB: number;
      m: number;
      n: number;
      k: number;
      transposeA: boolean;
      transposeB: boolean;
    },
  ): void;
  /**
   * The runtime's float MatMul (matmul_f32): c [m, n] = a [m, k] × b [k, n]; b: weights [k, n],
   * or packed once by FloatPackedWeights; threads 0 = the pool.
   */
  floatMatMul(
    a: Float32Array,
    b: Float32Array | NativeFloatPackedWeights,
    c: Float32Array,
    options: { m: number; n: number; k: number; threads: number },
  ): void;
  FloatPackedWeights: new (b: Float32Array, options: { k: number; n: number }) => NativeFloatPackedWeights;
  /** In place: y = act(y + bias[c]) over y viewed as [-1, channels]; bias null, 1 or channels long. */
  trainBiasActivation(
    y: Float32Array,
    options: { channels: number; bias: Float32Array | null; activation: FloatGemmActivation; alpha: number },
  ): void;
}
// ---- train — END train section

// ---- ops (native/binding/ops_binding.cc) — BEGIN ops section
/** NHWC geometry with explicit pads (docs/quantization.md §11.1); outHeight/outWidth are recomputed natively. */
export interface OpsConvGeom {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  outHeight: number;
  outWidth: number;
}
export type OpsConvSpec = Omit<
  OpsConvGeom,
  'outHeight' | 'outWidth' | 'padTop' | 'padBottom' | 'padLeft' | 'padRight'
> &
  Partial<Pick<OpsConvGeom, 'padTop' | 'padBottom' | 'padLeft' | 'padRight'>> & {
    padding: 'same' | 'valid' | 'explicit';
  };
/** Output clamp bounds (the type's range narrowed by a fused activation, §7). */
export interface OpsBounds {
  yMin: number;
  yMax: number;
}
/**
 * Activations by name, the one vocabulary of native/common/activation.h (runtime steps carry
 * the same activations as codes: src/runtime/step-codes.ts). Each kernel takes a subset.
 */
export type NativeActivation =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'leakyRelu'
  | 'elu'
  | 'sigmoid'
  | 'tanh'
  | 'hardSwish'
  | 'swish'
  | 'hardSigmoid'
  | 'clamp'
  | 'hardSwishProduct'
  | 'hardSwishScaledGate'
  | 'hardSwishScaledInput';
/** The operator kernels' activations (every formula; clamp needs bounds, so it is the GEMMs'). */
export type OpsActivation = Exclude<NativeActivation, 'clamp'>;
/** What the float GEMM's epilogue applies. */
export type FloatGemmActivation = 'linear' | 'relu' | 'relu6' | 'leakyRelu';
export type OpsBinaryOp = 'add' | 'sub' | 'mul' | 'maximum' | 'minimum' | 'div' | 'squaredDifference';
export interface OpsStridedSliceMasks {
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}
/** A StridedSlice with TF semantics: the input's shape, begin / end / strides and the masks. */
export interface OpsStridedSlice extends OpsStridedSliceMasks {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
}
type Q8 = Int8Array | Uint8Array;
type AnyArr = Int8Array | Uint8Array | Int32Array | Float32Array;
/**
 * Operator kernels (native/ops, formulas in docs/quantization.md §11). Use src/kernels/ops.ts,
 * which validates and allocates. Data arrays come first (inputs, then the caller-allocated
 * outputs, which must not overlap the inputs), then one options object with the scalars,
 * shapes, optional arrays and the 8-bit parameters `q`; 8-bit outputs have the input's type
 * unless stated.
 */
export interface OpsBinding {
  /** TF SAME/VALID/explicit padding resolved; throws RangeError on impossible sizes. */
  opsConvGeometry(spec: OpsConvSpec): OpsConvGeom;
  /** Conv2D GEMM A matrix: rows N·OH·OW, columns KH·KW·C (row stride lda), padding = padValue. */
  opsIm2col(
    geom: OpsConvGeom,
    x: Q8 | Float32Array,
    a: Q8 | Float32Array,
    options: { padValue: number; lda: number },
  ): void;
  opsDepthwiseConv2d(
    geom: OpsConvGeom,
    x: Q8,
    filter: Int8Array,
    y: Q8,
    options: {
      bias?: Int32Array | null;
      q: OpsBounds & { multiplier: number; xZeroPoint: number; multipliers: Float32Array; yZeroPoint: number };
    },
  ): void;
  opsDepthwiseConv2dF32(
    geom: OpsConvGeom,
    x: Float32Array,
    filter: Float32Array,
    y: Float32Array,
    options: { bias?: Float32Array | null; multiplier: number; yMin: number; yMax: number },
  ): void;
  /** geom: the forward conv (in* = this op's output, out* = dy's spatial size); filter [kh, kw, inChannels, dyChannels]. */
  opsConv2dTranspose(
    geom: OpsConvGeom,
    dy: Q8,
    filter: Int8Array,
    y: Q8,
    options: {
      bias?: Int32Array | null;
      q: OpsBounds & { dyChannels: number; dyZeroPoint: number; multipliers: Float32Array; yZeroPoint: number };
    },
  ): void;
  /** q: absent for float32; 'max' reads only yMin/yMax. */
  opsPool(
    geom: OpsConvGeom,
    x: Q8 | Float32Array,
    y: Q8 | Float32Array,
    options: {
      kind: 'max' | 'avg';
      q?: (OpsBounds & { xScale: number; xZeroPoint: number; yScale: number; yZeroPoint: number }) | OpsBounds | null;
    },
  ): void;
  opsMean(
    x: Q8 | Float32Array,
    y: Q8 | Float32Array,
    options: {
      batch: number;
      hw: number;
      channels: number;
      q?: (OpsBounds & { xScale: number; xZeroPoint: number; yScale: number; yZeroPoint: number }) | null;
    },
  ): void;
  /** ArgMax of float32 x [outer, n, inner] over n into int32 y [outer, inner] (first maximum; NaN never wins). */
  opsArgMax(x: Float32Array, y: Int32Array, options: { outer: number; n: number; inner: number }): void;
  /** TopK of each row of x [rows, n]: the k largest values first (equal values by ascending index; NaN below every number) and their indices. */
  opsTopK(
    x: Float32Array,
    values: Float32Array,
    indices: Int32Array,
    options: { rows: number; n: number; k: number },
  ): void;
  /** Broadcasting binary op; 8-bit: add/sub/mul/maximum/minimum with q; float32: q = {yMin, yMax} or absent. */
  opsBinary(
    a: Q8 | Float32Array,
    b: Q8 | Float32Array,
    y: Q8 | Float32Array,
    options: {
      op: OpsBinaryOp;
      aShape: number[];
      bShape: number[];
      q?:
        | (OpsBounds & {
            aScale: number;
            aZeroPoint: number;
            bScale: number;
            bZeroPoint: number;
            yScale: number;
            yZeroPoint: number;
          })
        | OpsBounds
        | null;
    },
  ): void;
  opsActivation(x: Float32Array, y: Float32Array, options: { activation: OpsActivation; alpha: number }): void;
  /** alpha per channel of the last dimension (its length = channels). */
  opsPrelu(
    x: Q8 | Float32Array,
    alpha: Float32Array,
    y: Q8 | Float32Array,
    options: { q?: (OpsBounds & { xScale: number; xZeroPoint: number; yScale: number; yZeroPoint: number }) | null },
  ): void;
  opsBiasAdd(x: Float32Array, bias: Float32Array, y: Float32Array, options: OpsBounds): void;
  /** 256-entry table indexed by the input's raw byte, entries = the output's raw bytes. */
  opsBuildLut(options: {
    activation: OpsActivation;
    alpha: number;
    xType: 'int8' | 'uint8';
    xScale: number;
    xZeroPoint: number;
    yType: 'int8' | 'uint8';
    yScale: number;
    yZeroPoint: number;
    yMin: number;
    yMax: number;
  }): Uint8Array;
  /** y[i] = table[x[i]] through the bytes; x === y (in place) allowed. */
  opsApplyLut(table: Uint8Array, x: Q8, y: Q8): void;
  /** T[j] = rne(2^22 · exp(−j · fl32(beta · xScale))), j = 0..255. */
  opsSoftmaxTable(options: { beta: number; xScale: number }): Uint32Array;
  /** Softmax over rows of `cols`: 8-bit → 8-bit (scale 1/256, zero point −128 int8 / 0 uint8), or float32 (xScale ignored). */
  opsSoftmax(
    x: Q8 | Float32Array,
    y: Q8 | Float32Array,
    options: { rows: number; cols: number; beta: number; xScale: number },
  ): void;
  /** q absent: raw copy (any element type); else per-input requantization of 8-bit data. */
  opsConcat(
    inputs: AnyArr[],
    y: AnyArr,
    options: {
      shapes: number[][];
      axis: number;
      q?: (OpsBounds & { scales: Float32Array; zeroPoints: Int32Array; yScale: number; yZeroPoint: number }) | null;
    },
  ): void;
  opsPad(x: AnyArr, y: AnyArr, options: { shape: number[]; before: number[]; after: number[]; value: number }): void;
  opsTranspose(x: AnyArr, y: AnyArr, options: { shape: number[]; perm: number[] }): void;
  opsStridedSliceShape(slice: OpsStridedSlice): number[];
  opsStridedSlice(x: AnyArr, y: AnyArr, slice: OpsStridedSlice): void;
  opsDepthToSpace(x: AnyArr, y: AnyArr, options: { shape: number[]; blockSize: number }): void;
  /** bilinear: 8-bit (q required) or float32; nearest: any element type, pure copy (q ignored). */
  opsResize(
    x: AnyArr,
    y: AnyArr,
    options: {
      mode: 'bilinear' | 'nearest';
      shape: number[];
      outHeight: number;
      outWidth: number;
      alignCorners: boolean;
      halfPixelCenters: boolean;
      q: (OpsBounds & { xScale: number; xZeroPoint: number; yScale: number; yZeroPoint: number }) | null;
    },
  ): void;
}
// ---- ops — END ops section

// ---- runtime (native/binding/runtime_binding.cc) — BEGIN runtime section
/** One buffer of a session plan: dtype 0 float32, 1 int8, 2 uint8, 3 int32; shape[0] = -1 marks the free batch (a fixed dimension 0 is also taken). */
export interface RuntimePlanBuffer {
  dtype: 0 | 1 | 2 | 3;
  shape: number[];
  /** Index into weights for a constant buffer (lives outside the arena), else -1/undefined. */
  constIndex?: number;
}
/** One step: op names and their slots are declared in native/runtime/step_schema.h (mirrored by src/runtime/step-schema.ts). */
export interface RuntimePlanStep {
  op: string;
  inputs: number[];
  outputs: number[];
  temps?: number[];
  ints?: number[];
  floats?: number[];
  /** Indices into weights; -1 = absent (e.g. no bias). */
  weights?: number[];
}
export interface RuntimePlan {
  buffers: RuntimePlanBuffer[];
  weights: (Float32Array | Int8Array | Uint8Array | Int32Array)[];
  steps: RuntimePlanStep[];
  inputs: number[];
  outputs: number[];
}
export interface RuntimeSessionNative {
  /** Runs every step on a run-queue thread (native/common/run_queue.h) + the pool; resolves with one array per plan output. */
  run(
    inputs: (Float32Array | Int8Array | Uint8Array | Int32Array)[],
    options: { batch: number },
  ): Promise<(Float32Array | Int8Array | Uint8Array | Int32Array)[]>;
  /** The same run on the calling thread (blocks it): for synchronous predict / execute. */
  runSync(
    inputs: (Float32Array | Int8Array | Uint8Array | Int32Array)[],
    options: { batch: number },
  ): (Float32Array | Int8Array | Uint8Array | Int32Array)[];
  memory(): { weightBytes: number; arenaBytes: number };
  /** Per-step wall time summed over runs since profiling was enabled; `enable` switches it (and resets). */
  profile(enable?: boolean): { op: string; seconds: number }[];
  dispose(): void;
}
export interface RuntimeBinding {
  RuntimeSession: new (plan: RuntimePlan, options: { threads: number }) => RuntimeSessionNative;
}
// ---- runtime — END runtime section

// ---- int4 (native/binding/int4_binding.cc) — BEGIN int4 section
/** int4 weights packed for one kernel path (native/gemm/gemm_int4.h). */
export interface NativeInt4PackedWeights {
  readonly k: number;
  readonly n: number;
  /** Values per group along K (k when per column). */
  readonly groupSize: number;
  readonly groups: number;
  readonly isa: IsaName | '';
  readonly byteLength: number;
  readonly disposed: boolean;
  dispose(): void;
  /** The weights read back from the panels, k × n ('kn'). */
  unpack(): Int8Array;
}
/** The output options of every int4 entry point; clampMin/clampMax are read for 'clamp' only. */
export interface Int4OutputOptions {
  m: number;
  bias: Float32Array | null;
  activation: GemmActivation;
  clampMin: number;
  clampMax: number;
  /** 0 = the pool */
  threads: number;
}
type Int4GemmNativeOptions = Int4OutputOptions & { aZeroPoints: Int32Array; aScales: Float32Array };
type Int4DynamicNativeOptions = Int4OutputOptions & { perRow: boolean };
export interface Int4Binding {
  Int4PackedWeights: new (
    w: Int8Array,
    options: {
      k: number;
      n: number;
      layout: 'kn' | 'nk';
      groupSize: number;
      scales: Float32Array;
      zeroPoints?: Int32Array | null;
      isa: IsaName;
    },
  ) => NativeInt4PackedWeights;
  /** out (m × n) = dequant(a · W); aZeroPoints and aScales: 1 or m. */
  int4Gemm(
    a: Uint8Array | Int8Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4GemmNativeOptions,
  ): void;
  int4GemmAsync(
    a: Uint8Array | Int8Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4GemmNativeOptions,
  ): Promise<void>;
  int4DynamicGemm(
    x: Float32Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4DynamicNativeOptions,
  ): void;
  int4DynamicGemmAsync(
    x: Float32Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4DynamicNativeOptions,
  ): Promise<void>;
  int4WeightOnlyGemm(
    x: Float32Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4OutputOptions,
  ): void;
  int4WeightOnlyGemmAsync(
    x: Float32Array,
    packed: NativeInt4PackedWeights,
    out: Float32Array,
    options: Int4OutputOptions,
  ): Promise<void>;
  /** Paths with an int4 kernel usable here ('ref' always). */
  int4Isas(): IsaName[];
  /** The int4 path used by default (the active ISA's, or the best below it). */
  int4DefaultIsa(): IsaName;
}
// ---- int4 — END int4 section

// ---- calib (native/binding/calib_binding.cc) — BEGIN calib section
/** A histogram's range (finite, lo <= 0 <= hi: the core checks). */
export interface CalibRange {
  lo: number;
  hi: number;
}
/** Histogram range search result: bins [start, end) and the objective there. */
export interface CalibSearchResult {
  start: number;
  end: number;
  value: number;
}
/**
 * Calibration histograms (native/calib/calib.h; use src/quant/observers.ts, which validates).
 * Histograms are Float64Array counts of equal bins over [lo, hi] with lo <= 0 <= hi.
 */
export interface CalibBinding {
  /** Adds the finite values of x (outside values to the edge bins); returns how many were counted. */
  calibAccumulate(x: Float32Array, counts: Float64Array, range: CalibRange): number;
  /** Redistributes counts over [lo, hi] into out over [newLo, newHi] ⊇ [lo, hi] by overlap. */
  calibRebin(counts: Float64Array, out: Float64Array, ranges: CalibRange & { newLo: number; newHi: number }): void;
  /** Candidate interval i (1..bins) of the range searches: bins [start, end). */
  calibCandidate(options: CalibRange & { bins: number; i: number }): [number, number];
  /** Entropy (KL) range search with `levels` quantization steps; null for an empty histogram. */
  calibKlSearch(counts: Float64Array, options: CalibRange & { levels: number }): CalibSearchResult | null;
  /** MSE range search with `levels` quantization steps; null for an empty histogram. */
  calibMseSearch(counts: Float64Array, options: CalibRange & { levels: number }): CalibSearchResult | null;
}
// ---- calib — END calib section

// ---- sparse (native/binding/sparse_binding.cc) — BEGIN sparse section
/** What sparseAnalyze found in a K×N weight (native/sparse/sparse.h). */
export interface SparseStructure {
  k: number;
  n: number;
  nnz: number;
  sparsity: number;
  /** Every group of 4 consecutive k of a column holds at most 2 nonzeros. */
  nm24: boolean;
  /** Largest block shape (rows along K × cols along N) with fill >= 0.9; 1×1 when none. */
  blockRows: number;
  blockCols: number;
  blockFill: number;
  /** The format packing picks by default. */
  format: 'csc' | 'block' | '2:4';
}
export interface SparsePackedInfo {
  k: number;
  n: number;
  format: 'csc' | 'block' | '2:4';
  blockRows: number;
  blockCols: number;
  nnz: number;
  stored: number;
  dtype: 'float32' | 'int8';
  isa: IsaName;
  byteLength: number;
}
export interface NativeSparsePackedWeights {
  /** null once disposed. */
  info(): SparsePackedInfo | null;
  dispose(): void;
}
export interface SparseBinding {
  sparseAnalyze(w: Float32Array | Int8Array, options: { k: number; n: number }): SparseStructure;
  /** new SparsePackedWeights(w, {k, n, format, blockRows, blockCols, isa}) — format 'auto' | 'csc' | 'block' | '2:4'. */
  SparsePackedWeights: new (
    w: Float32Array | Int8Array,
    options: { k: number; n: number; format: string; blockRows: number; blockCols: number; isa: IsaName },
  ) => NativeSparsePackedWeights;
  /** out[m × n] = x[m × k] · W (float32 weights). */
  sparseMatmulF32(
    packed: NativeSparsePackedWeights,
    x: Float32Array,
    out: Float32Array,
    options: { m: number; threads: number },
  ): void;
  /** out = requantize(Σ (x − aZeroPoint)·W + bias) as the dense int8 GEMM; multipliers 1 or n; threads 0 = the pool. */
  sparseMatmulI8(
    packed: NativeSparsePackedWeights,
    x: Int8Array,
    out: Int8Array,
    options: {
      m: number;
      aZeroPoint: number;
      outZeroPoint: number;
      qmin: number;
      qmax: number;
      threads: number;
      bias: Int32Array | null;
      multipliers: Float32Array;
    },
  ): void;
}
// ---- sparse — END sparse section

export interface NativeBinding
  extends
    CoreBinding,
    GemmBinding,
    QuantBinding,
    CodecBinding,
    TrainBinding,
    OpsBinding,
    RuntimeBinding,
    Int4Binding,
    CalibBinding,
    SparseBinding {}
