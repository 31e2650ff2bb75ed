// Packed int8 GEMM (docs/quantization.md §6–§8, docs/gemm.md): validated wrappers over the
// native kernels. Weights are packed once (packWeights) for one kernel path and reused;
// gemm/gemmAsync multiply uint8 (or int8) activations by them with a fused epilogue
// (int32, requantized int8/uint8, or dequantized float32); dynamicGemm quantizes float32
// activations on the fly. Every argument is checked here before it crosses into C++.
import type {
  GemmActivation,
  GemmDynamicNativeOptions,
  GemmNativeOptions,
  GemmOutput,
  IsaName,
  NativePackedWeights,
} from '../../binding.js';
import { native } from '../native/binding.js';
import { getIsa, ISA_NAMES, supportedIsas } from '../native/cpu.js';
import {
  assertFinite,
  assertInt,
  assertNoOverlap,
  assertOneOf,
  assertTypedArray,
  describe,
} from '../native/validate.js';

export type { GemmOutput };
export const GEMM_MAX_K = 65536;
const MAX_DIM = 2 ** 31 - 1;

export type WeightsLayout = 'kn' | 'nk';
export type GemmActivationOption = 'none' | 'relu' | 'relu6' | { min: number; max: number };
type OutArray<T extends GemmOutput> = T extends 'int32'
  ? Int32Array
  : T extends 'int8'
    ? Int8Array
    : T extends 'uint8'
      ? Uint8Array
      : Float32Array;

/**
 * A native packed-weights handle seen from TypeScript: the accessors every packed layout (int8,
 * int4) shares. Free with dispose() (or leave it to the GC).
 */
export abstract class PackedHandle<H extends NativePackedWeights> {
  /** @internal */
  readonly handle: H;
  /** @internal */
  constructor(handle: H) {
    this.handle = handle;
  }
  get k(): number {
    return this.handle.k;
  }
  get n(): number {
    return this.handle.n;
  }
  /** The kernel path these weights run on ('' once disposed). */
  get isa(): IsaName | '' {
    return this.handle.isa;
  }
  /** Native bytes held (packed values plus their per-column or per-group scales and sums). */
  get byteLength(): number {
    return this.handle.byteLength;
  }
  get disposed(): boolean {
    return this.handle.disposed;
  }
  dispose(): void {
    this.handle.dispose();
  }
}

/** Weights packed for one kernel path. Free with dispose() (or leave it to the GC). */
export class PackedWeights extends PackedHandle<NativePackedWeights> {}

export interface PackOptions {
  k: number;
  n: number;
  /** 'kn': b[k*n + j] (TF.js Dense kernel [in, out], the default); 'nk': b[j*k + kk] (transposed). */
  layout?: WeightsLayout;
  /** Weight zero point(s) zb: one number (per tensor) or n (per column), in [-128, 127]; default 0. */
  zeroPoint?: number | Int32Array | readonly number[];
  /** Kernel path to pack for (default: the active one, getIsa()). */
  isa?: IsaName;
}

function assertOptions(opts: unknown, name = 'options'): asserts opts is Record<string, unknown> {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${name} must be an object, got ${describe(opts)}`);
  }
}

// One-element scratch arrays for per-tensor parameters given as numbers: a fresh small
// typed array per call costs an allocation (V8 moves it off-heap when the binding reads it).
// Safe to reuse because the binding copies parameter arrays before returning.
const SCRATCH = {
  aZeroPoint: new Int32Array(1),
  multiplier: new Float32Array(1),
  aScale: new Float32Array(1),
  wScales: new Float32Array(1),
};

function intArray(
  v: unknown,
  name: string,
  counts: number[],
  lo: number,
  hi: number,
  scratch?: Int32Array,
): Int32Array {
  let arr: ArrayLike<unknown>;
  if (typeof v === 'number') arr = [v];
  else if (v instanceof Int32Array || Array.isArray(v)) arr = v;
  else throw new TypeError(`${name} must be a number, an array or an Int32Array, got ${describe(v)}`);
  if (!counts.includes(arr.length)) {
    throw new RangeError(`${name} has ${arr.length} entries, expected ${[...new Set(counts)].join(' or ')}`);
  }
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    // Labels are only built on failure (this runs per element on every call).
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) {
      assertInt(x, typeof v === 'number' ? name : `${name}[${i}]`, lo, hi);
    }
  }
  // The binding copies parameter arrays before returning (also for async calls), so a given
  // Int32Array is passed as is and other inputs are converted once.
  if (typeof v === 'number' && scratch) {
    scratch[0] = v;
    return scratch;
  }
  return v instanceof Int32Array ? v : Int32Array.from(arr as ArrayLike<number>);
}

function scaleArray(v: unknown, name: string, counts: number[], scratch?: Float32Array): Float32Array {
  let arr: ArrayLike<unknown>;
  if (typeof v === 'number') arr = [v];
  else if (v instanceof Float32Array || Array.isArray(v)) arr = v;
  else throw new TypeError(`${name} must be a number, an array or a Float32Array, got ${describe(v)}`);
  if (!counts.includes(arr.length)) {
    throw new RangeError(`${name} has ${arr.length} entries, expected ${[...new Set(counts)].join(' or ')}`);
  }
  if (v instanceof Float32Array) {
    // Passed as is (the binding copies it): one tight check per value, no conversion.
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!(x > 0) || x === Infinity) {
        assertFinite(x, `${name}[${i}]`);
        throw new RangeError(`${name}[${i}] must be a finite float32 > 0, got ${x}`);
      }
    }
    return v;
  }
  // As for intArray: numbers are converted into a fresh (or the scratch) Float32Array.
  const out = typeof v === 'number' && scratch ? scratch : new Float32Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x === 'number') out[i] = x;
    if (typeof x !== 'number' || !(out[i] > 0) || out[i] === Infinity) {
      const label = typeof v === 'number' ? name : `${name}[${i}]`;
      assertFinite(x, label);
      throw new RangeError(`${label} must be a finite float32 > 0, got ${x}`);
    }
  }
  return out;
}

function resolveIsa(isa: unknown): IsaName {
  if (isa === undefined) return getIsa();
  assertOneOf(isa, ISA_NAMES, 'isa');
  const ok = supportedIsas();
  if (!ok.includes(isa))
    throw new RangeError(`isa '${isa}' is not available on this machine (available: ${ok.join(', ')})`);
  return isa;
}

/** Packs int8 weights B (k × n) for the GEMM. */
export function packWeights(b: Int8Array, opts: PackOptions): PackedWeights {
  assertTypedArray(b, Int8Array, 'b');
  assertOptions(opts);
  assertInt(opts.k, 'k', 1, GEMM_MAX_K);
  assertInt(opts.n, 'n', 1, MAX_DIM);
  const layout = opts.layout ?? 'kn';
  assertOneOf(layout, ['kn', 'nk'] as const, 'layout');
  if (b.length !== opts.k * opts.n) {
    throw new RangeError(`b has ${b.length} elements, expected k × n = ${opts.k} × ${opts.n} = ${opts.k * opts.n}`);
  }
  const zp = opts.zeroPoint === undefined ? null : intArray(opts.zeroPoint, 'zeroPoint', [1, opts.n], -128, 127);
  const isa = resolveIsa(opts.isa);
  const Ctor = native().GemmPackedWeights;
  return new PackedWeights(new Ctor(b, { k: opts.k, n: opts.n, layout, zeroPoints: zp, isa }));
}

export interface GemmOptions<T extends GemmOutput = GemmOutput> {
  /** Rows of A (and of the output). */
  m: number;
  /** Per-tensor zero point of A (default 0), in A's range: [0, 255] for Uint8Array, [-128, 127] for Int8Array. */
  aZeroPoint?: number;
  /** Per-row zero points of A (m entries); exclusive with aZeroPoint. */
  aZeroPoints?: Int32Array | readonly number[];
  /** Row stride of A in elements (default k): lets A be an im2col buffer or a slice. */
  lda?: number;
  /** int32 bias added to the accumulator (n entries). */
  bias?: Int32Array;
  /** Output type (default 'int32'). */
  output?: T;
  /** int8/uint8: the requantization multiplier fl32(fl32(sa × sw) / so), per tensor... */
  multiplier?: number;
  /** ...or per output channel (n entries). */
  multipliers?: Float32Array | readonly number[];
  /** int8/uint8: output zero point (default 0). */
  outZeroPoint?: number;
  /** int8/uint8: quantized clamp bounds [lo, hi] (fused ReLU/ReLU6/min-max; default the type's range). */
  clamp?: readonly [number, number];
  /** float32: activation scale per tensor... */
  aScale?: number;
  /** ...or per row (m entries). */
  aScales?: Float32Array | readonly number[];
  /** float32: weight scale per tensor (number) or per column (n entries). */
  wScales?: number | Float32Array | readonly number[];
  /** float32: float bias (n entries); exclusive with `bias`. */
  biasF32?: Float32Array;
  /** float32: fused activation (default 'none'). */
  activation?: GemmActivationOption;
  /** Write into this array instead of allocating (row stride ldc). */
  out?: OutArray<T>;
  /** Row stride of the output in elements (default n). */
  ldc?: number;
  /** Maximum threads (default: the pool size). */
  threads?: number;
}

const OUT_CTORS = { int32: Int32Array, int8: Int8Array, uint8: Uint8Array, float32: Float32Array } as const;

function resolveActivation(act: unknown): { activation: GemmActivation; clampMin: number; clampMax: number } {
  if (act === undefined || act === 'none') return { activation: 'linear', clampMin: 0, clampMax: 0 };
  if (act === 'relu' || act === 'relu6') return { activation: act, clampMin: 0, clampMax: 0 };
  if (typeof act === 'object' && act !== null && !Array.isArray(act)) {
    const { min, max } = act as { min: unknown; max: unknown };
    assertFinite(min, 'activation.min');
    assertFinite(max, 'activation.max');
    if (!(Math.fround(min) <= Math.fround(max)))
      throw new RangeError(`activation.min (${min}) must be <= activation.max (${max})`);
    return { activation: 'clamp', clampMin: min, clampMax: max };
  }
  throw new TypeError(`activation must be 'none', 'relu', 'relu6' or {min, max}, got ${describe(act)}`);
}

function resolveThreads(t: unknown): number {
  if (t === undefined) return 0;
  assertInt(t, 'threads', 1, 256);
  return t;
}

function checkPacked(packed: unknown): asserts packed is PackedWeights {
  if (!(packed instanceof PackedWeights))
    throw new TypeError(`packed must be a PackedWeights (from packWeights), got ${describe(packed)}`);
  if (packed.disposed) throw new RangeError('packed weights have been disposed');
}

function allocOut<T extends GemmOutput>(output: T, given: unknown, m: number, n: number, ldc: number): OutArray<T> {
  const Ctor = OUT_CTORS[output];
  const need = m === 0 ? 0 : (m - 1) * ldc + n;
  if (given === undefined) return new Ctor(need) as OutArray<T>;
  assertTypedArray(given, Ctor, 'out');
  if (given.length < need)
    throw new RangeError(`out has ${given.length} elements, needs at least ${need} (m = ${m}, n = ${n}, ldc = ${ldc})`);
  return given as OutArray<T>;
}

/**
 * The row geometry of a GEMM's m × k input: m, the input's row stride (default k, at least k)
 * and the output's (default n, at least n), with the input long enough for all m rows.
 */
function checkRows(
  input: { length: number },
  name: 'a' | 'x',
  ldName: 'lda' | 'ldx',
  mOpt: unknown,
  ldOpt: unknown,
  ldcOpt: unknown,
  k: number,
  n: number,
): { m: number; ld: number; ldc: number } {
  assertInt(mOpt, 'm', 0, MAX_DIM);
  const m = mOpt;
  const ld = ldOpt ?? k;
  assertInt(ld, ldName, k, Number.MAX_SAFE_INTEGER);
  const ldc = ldcOpt ?? n;
  assertInt(ldc, 'ldc', n, Number.MAX_SAFE_INTEGER);
  const need = m === 0 ? 0 : (m - 1) * ld + k;
  if (input.length < need)
    throw new RangeError(
      `${name} has ${input.length} elements, needs at least ${need} (m = ${m}, k = ${k}, ${ldName} = ${ld})`,
    );
  return { m, ld, ldc };
}

function prepareGemm<T extends GemmOutput>(
  a: unknown,
  packed: unknown,
  opts: GemmOptions<T>,
): { a: Uint8Array | Int8Array; out: OutArray<T>; native: GemmNativeOptions } {
  checkPacked(packed);
  if (!(a instanceof Uint8Array && !(a instanceof Uint8ClampedArray)) && !(a instanceof Int8Array)) {
    throw new TypeError(`a must be a Uint8Array or an Int8Array, got ${describe(a)}`);
  }
  assertOptions(opts);
  const { k, n } = packed;
  const { m, ld: lda, ldc } = checkRows(a, 'a', 'lda', opts.m, opts.lda, opts.ldc, k, n);
  const signed = a instanceof Int8Array;
  const [zlo, zhi] = signed ? [-128, 127] : [0, 255];
  if (opts.aZeroPoint !== undefined && opts.aZeroPoints !== undefined)
    throw new TypeError('give aZeroPoint or aZeroPoints, not both');
  const aZeroPoints =
    opts.aZeroPoints !== undefined
      ? intArray(opts.aZeroPoints, 'aZeroPoints', [m], zlo, zhi)
      : intArray(opts.aZeroPoint ?? 0, 'aZeroPoint', [1], zlo, zhi, SCRATCH.aZeroPoint);
  const output = (opts.output ?? 'int32') as T;
  assertOneOf(output, ['int32', 'int8', 'uint8', 'float32'] as const, 'output');
  let bias: Int32Array | null = null;
  if (opts.bias !== undefined) {
    assertTypedArray(opts.bias, Int32Array, 'bias');
    if (opts.bias.length !== n) throw new RangeError(`bias has ${opts.bias.length} elements, expected n = ${n}`);
    bias = opts.bias;
  }
  const nat: GemmNativeOptions = {
    m,
    lda,
    ldc,
    threads: resolveThreads(opts.threads),
    aZeroPoints,
    output,
    bias,
    multipliers: null,
    outZeroPoint: 0,
    qmin: 0,
    qmax: 0,
    aScales: null,
    wScales: null,
    biasF32: null,
    activation: 'linear',
    clampMin: 0,
    clampMax: 0,
  };
  const intOnly = ['multiplier', 'multipliers', 'outZeroPoint', 'clamp'] as const;
  const floatOnly = ['aScale', 'aScales', 'wScales', 'biasF32', 'activation'] as const;
  if (output === 'int8' || output === 'uint8') {
    for (const key of floatOnly)
      if (opts[key] !== undefined) throw new TypeError(`${key} applies to float32 output only`);
    const [tlo, thi] = output === 'int8' ? [-128, 127] : [0, 255];
    if ((opts.multiplier === undefined) === (opts.multipliers === undefined)) {
      throw new TypeError(`${output} output needs exactly one of multiplier (per tensor) or multipliers (per channel)`);
    }
    nat.multipliers =
      opts.multiplier !== undefined
        ? scaleArray(opts.multiplier, 'multiplier', [1], SCRATCH.multiplier)
        : scaleArray(opts.multipliers, 'multipliers', [n]);
    nat.outZeroPoint = opts.outZeroPoint ?? 0;
    assertInt(nat.outZeroPoint, 'outZeroPoint', tlo, thi);
    const clamp = opts.clamp ?? [tlo, thi];
    if (!Array.isArray(clamp) || clamp.length !== 2)
      throw new TypeError(`clamp must be [lo, hi], got ${describe(clamp)}`);
    assertInt(clamp[0], 'clamp[0]', tlo, thi);
    assertInt(clamp[1], 'clamp[1]', clamp[0], thi);
    [nat.qmin, nat.qmax] = clamp;
  } else if (output === 'float32') {
    for (const key of intOnly)
      if (opts[key] !== undefined) throw new TypeError(`${key} applies to int8/uint8 output only`);
    if ((opts.aScale === undefined) === (opts.aScales === undefined)) {
      throw new TypeError('float32 output needs exactly one of aScale (per tensor) or aScales (per row)');
    }
    nat.aScales =
      opts.aScale !== undefined
        ? scaleArray(opts.aScale, 'aScale', [1], SCRATCH.aScale)
        : scaleArray(opts.aScales, 'aScales', [m]);
    if (opts.wScales === undefined) throw new TypeError('float32 output needs wScales (a number or n entries)');
    nat.wScales = scaleArray(opts.wScales, 'wScales', typeof opts.wScales === 'number' ? [1] : [n], SCRATCH.wScales);
    if (opts.biasF32 !== undefined) {
      if (bias) throw new TypeError('bias (int32) and biasF32 are exclusive');
      assertTypedArray(opts.biasF32, Float32Array, 'biasF32');
      if (opts.biasF32.length !== n)
        throw new RangeError(`biasF32 has ${opts.biasF32.length} elements, expected n = ${n}`);
      nat.biasF32 = opts.biasF32;
    }
    Object.assign(nat, resolveActivation(opts.activation));
  } else {
    for (const key of [...intOnly, ...floatOnly])
      if (opts[key] !== undefined) throw new TypeError(`${key} does not apply to int32 output`);
  }
  const out = allocOut(output, opts.out, m, n, ldc);
  assertNoOverlap(a, out, 'a', 'out');
  return { a, out, native: nat };
}

/**
 * C = epilogue(A · B) for A (m × k, Uint8Array or Int8Array) and packed B (k × n), on the path
 * the weights were packed for. Returns the output (allocated, or `out`).
 */
export function gemm<T extends GemmOutput = 'int32'>(
  a: Uint8Array | Int8Array,
  packed: PackedWeights,
  opts: GemmOptions<T>,
): OutArray<T> {
  const p = prepareGemm(a, packed, opts);
  native().gemm(p.a, packed.handle, p.out, p.native);
  return p.out;
}

/** gemm on a worker thread; buffers must not be modified until the promise settles. */
export async function gemmAsync<T extends GemmOutput = 'int32'>(
  a: Uint8Array | Int8Array,
  packed: PackedWeights,
  opts: GemmOptions<T>,
): Promise<OutArray<T>> {
  const p = prepareGemm(a, packed, opts);
  await native().gemmAsync(p.a, packed.handle, p.out, p.native);
  return p.out;
}

export interface DynamicGemmOptions {
  m: number;
  /** Quantize each row with its own scale/zero point (default true), else one for the tensor. */
  perRow?: boolean;
  /** Weight scale per tensor (number) or per column (n entries). */
  wScales: number | Float32Array | readonly number[];
  biasF32?: Float32Array;
  activation?: GemmActivationOption;
  /** Row stride of x (default k). */
  ldx?: number;
  out?: Float32Array;
  ldc?: number;
  threads?: number;
}

function prepareDynamic(
  x: unknown,
  packed: unknown,
  opts: DynamicGemmOptions,
): { x: Float32Array; out: Float32Array; native: GemmDynamicNativeOptions } {
  checkPacked(packed);
  assertTypedArray(x, Float32Array, 'x');
  assertOptions(opts);
  const { k, n } = packed;
  const { m, ld: ldx, ldc } = checkRows(x, 'x', 'ldx', opts.m, opts.ldx, opts.ldc, k, n);
  const perRow = opts.perRow ?? true;
  if (typeof perRow !== 'boolean') throw new TypeError(`perRow must be a boolean, got ${describe(perRow)}`);
  if (opts.wScales === undefined) throw new TypeError('wScales is required (a number or n entries)');
  const wScales = scaleArray(opts.wScales, 'wScales', typeof opts.wScales === 'number' ? [1] : [n], SCRATCH.wScales);
  let biasF32: Float32Array | null = null;
  if (opts.biasF32 !== undefined) {
    assertTypedArray(opts.biasF32, Float32Array, 'biasF32');
    if (opts.biasF32.length !== n)
      throw new RangeError(`biasF32 has ${opts.biasF32.length} elements, expected n = ${n}`);
    biasF32 = opts.biasF32;
  }
  const out = allocOut('float32', opts.out, m, n, ldc);
  assertNoOverlap(x, out, 'x', 'out');
  return {
    x,
    out,
    native: {
      m,
      ldx,
      ldc,
      threads: resolveThreads(opts.threads),
      perRow,
      wScales,
      biasF32,
      ...resolveActivation(opts.activation),
    },
  };
}

/** Float32 activations (m × k) → §8 dynamic uint8 quantization → int8 GEMM → float32 (m × n). */
export function dynamicGemm(x: Float32Array, packed: PackedWeights, opts: DynamicGemmOptions): Float32Array {
  const p = prepareDynamic(x, packed, opts);
  native().gemmDynamic(p.x, packed.handle, p.out, p.native);
  return p.out;
}

export async function dynamicGemmAsync(
  x: Float32Array,
  packed: PackedWeights,
  opts: DynamicGemmOptions,
): Promise<Float32Array> {
  const p = prepareDynamic(x, packed, opts);
  await native().gemmDynamicAsync(p.x, packed.handle, p.out, p.native);
  return p.out;
}

/**
 * GOPS (2 ops per multiply-accumulate) of a dependency-free multiply-accumulate loop of the
 * path's instruction (VPMADDWD+VPADDD, VPDPBUSD, SDOT, ...) on one thread for ~seconds.
 */
export function measurePeak(isa: IsaName, seconds = 0.2): number {
  const name = resolveIsa(isa);
  assertFinite(seconds, 'seconds');
  if (!(seconds > 0 && seconds <= 60)) throw new RangeError(`seconds must be in (0, 60], got ${seconds}`);
  return native().gemmMeasurePeak({ isa: name, seconds });
}
