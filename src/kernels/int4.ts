// int4 weight GEMM (docs/quantization.md §12.5, packed layout): validated
// wrappers over native/gemm/gemm_int4.h. Weights (values in [−8, 7], one scale and zero point
// per group of `groupSize` values along K and per column) are packed once for one kernel
// path; gemmInt4 multiplies quantized uint8/int8 activations, dynamicGemmInt4 quantizes
// float32 activations per row or per tensor first (§8), weightOnlyGemmInt4 multiplies float32
// activations by the weights dequantized on the fly. Every argument is checked here first.
import type { GemmActivation, Int4OutputOptions, IsaName, NativeInt4PackedWeights } from '../../binding.js';
import { native } from '../native/binding.js';
import { ISA_NAMES } from '../native/cpu.js';
import {
  assertFinite,
  assertInt,
  assertNoOverlap,
  assertOneOf,
  assertTypedArray,
  describe,
} from '../native/validate.js';
import { type GemmActivationOption, PackedHandle, type WeightsLayout } from './gemm.js';

const MAX_K = 65536;
const MAX_DIM = 2 ** 31 - 1;

/** int4 weights packed for one kernel path. Free with dispose() (or leave it to the GC). */
export class Int4PackedWeights extends PackedHandle<NativeInt4PackedWeights> {
  /** Values per group along K (k when one group per column). */
  get groupSize(): number {
    return this.handle.groupSize;
  }
  get groups(): number {
    return this.handle.groups;
  }
  /** The weights read back from the packed panels, k × n row-major. */
  unpack(): Int8Array {
    return this.handle.unpack();
  }
}

export interface Int4PackOptions {
  k: number;
  n: number;
  /** 'kn' (default): w[kk*n + j]; 'nk': w[j*k + kk]. */
  layout?: WeightsLayout;
  /** Values per group along K: 0 (one group per column) or a multiple of 8 in [8, 65536]; default 64. */
  groupSize?: number;
  /** [groups][n] scales, finite and > 0 (groups = ceil(k / groupSize), 1 when groupSize is 0 or ≥ k). */
  scales: Float32Array;
  /** [groups][n] zero points in [−8, 7] (default all 0: symmetric). */
  zeroPoints?: Int32Array;
  /** Kernel path (default int4DefaultIsa()). */
  isa?: IsaName;
}

function assertOptions(opts: unknown): asserts opts is Record<string, unknown> {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts))
    throw new TypeError(`options must be an object, got ${describe(opts)}`);
}

/** Groups along K for k values and a group size (0 = one group). */
export function int4Groups(k: number, groupSize: number): number {
  return groupSize === 0 || groupSize >= k ? 1 : Math.ceil(k / groupSize);
}

/** Paths with an int4 kernel on this machine ('ref' always). */
export function int4Isas(): IsaName[] {
  return native().int4Isas();
}
/** The int4 path used by default. */
export function int4DefaultIsa(): IsaName {
  return native().int4DefaultIsa();
}

/** Packs int4 weights (values in [−8, 7]) with per-(group, column) scales for one kernel path. */
export function packInt4Weights(w: Int8Array, opts: Int4PackOptions): Int4PackedWeights {
  assertTypedArray(w, Int8Array, 'w');
  assertOptions(opts);
  assertInt(opts.k, 'k', 1, MAX_K);
  assertInt(opts.n, 'n', 1, MAX_DIM);
  const { k, n } = opts;
  const layout = opts.layout ?? 'kn';
  assertOneOf(layout, ['kn', 'nk'] as const, 'layout');
  const groupSize = opts.groupSize ?? 64;
  assertInt(groupSize, 'groupSize', 0, MAX_K);
  if (groupSize !== 0 && groupSize % 8 !== 0)
    throw new RangeError(`groupSize must be 0 (per column) or a multiple of 8, got ${groupSize}`);
  if (w.length !== k * n) throw new RangeError(`w has ${w.length} elements, expected k × n = ${k * n}`);
  for (let i = 0; i < w.length; i++)
    if (w[i]! < -8 || w[i]! > 7) throw new RangeError(`w[${i}] = ${w[i]} is outside the int4 range [-8, 7]`);
  const groups = int4Groups(k, groupSize);
  assertTypedArray(opts.scales, Float32Array, 'scales');
  if (opts.scales.length !== groups * n)
    throw new RangeError(`scales has ${opts.scales.length} elements, expected groups × n = ${groups} × ${n}`);
  for (let i = 0; i < opts.scales.length; i++) {
    if (!(opts.scales[i]! > 0) || !Number.isFinite(opts.scales[i]!))
      throw new RangeError(`scales[${i}] must be finite and > 0, got ${opts.scales[i]}`);
  }
  let zp: Int32Array | null = null;
  if (opts.zeroPoints !== undefined) {
    assertTypedArray(opts.zeroPoints, Int32Array, 'zeroPoints');
    if (opts.zeroPoints.length !== groups * n)
      throw new RangeError(`zeroPoints has ${opts.zeroPoints.length} elements, expected groups × n = ${groups * n}`);
    for (let i = 0; i < opts.zeroPoints.length; i++) {
      if (opts.zeroPoints[i]! < -8 || opts.zeroPoints[i]! > 7)
        throw new RangeError(`zeroPoints[${i}] = ${opts.zeroPoints[i]} is outside [-8, 7]`);
    }
    zp = opts.zeroPoints;
  }
  const isa = opts.isa ?? int4DefaultIsa();
  assertOneOf(isa, ISA_NAMES, 'isa');
  if (!int4Isas().includes(isa))
    throw new RangeError(`isa '${isa}' has no int4 path on this machine (available: ${int4Isas().join(', ')})`);
  const Ctor = native().Int4PackedWeights;
  return new Int4PackedWeights(new Ctor(w, { k, n, layout, groupSize, scales: opts.scales, zeroPoints: zp, isa }));
}

interface OutputOptions {
  m: number;
  /** Float bias (n entries), added after the groups. */
  bias?: Float32Array;
  /** Fused activation (default 'none'). */
  activation?: GemmActivationOption;
  /** Write here instead of allocating (m × n). */
  out?: Float32Array;
  /** Maximum threads (default: the pool size). */
  threads?: number;
}

export interface Int4GemmOptions extends OutputOptions {
  /** Zero point of A per tensor (default 0) — [0, 255] for Uint8Array, [−128, 127] for Int8Array... */
  aZeroPoint?: number;
  /** ...or per row (m entries). */
  aZeroPoints?: Int32Array;
  /** Scale of A per tensor (default 1)... */
  aScale?: number;
  /** ...or per row (m entries). */
  aScales?: Float32Array;
}
export interface Int4DynamicOptions extends OutputOptions {
  /** Quantize each row with its own parameters (default true), else one pair for the tensor. */
  perRow?: boolean;
}
export type Int4WeightOnlyOptions = OutputOptions;

function checkPacked(p: unknown): asserts p is Int4PackedWeights {
  if (!(p instanceof Int4PackedWeights))
    throw new TypeError(`packed must be an Int4PackedWeights (from packInt4Weights), got ${describe(p)}`);
  if (p.disposed) throw new RangeError('packed has been disposed');
}

function outputOptions(
  packed: Int4PackedWeights,
  opts: OutputOptions,
  input: ArrayBufferView,
): { out: Float32Array; options: Int4OutputOptions } {
  const n = packed.n,
    m = opts.m;
  let bias: Float32Array | null = null;
  if (opts.bias !== undefined) {
    assertTypedArray(opts.bias, Float32Array, 'bias');
    if (opts.bias.length !== n) throw new RangeError(`bias has ${opts.bias.length} elements, expected n = ${n}`);
    bias = opts.bias;
  }
  let activation: GemmActivation = 'linear',
    lo = 0,
    hi = 0;
  const act = opts.activation ?? 'none';
  if (typeof act === 'object' && act !== null) {
    assertFinite(act.min, 'activation.min');
    assertFinite(act.max, 'activation.max');
    if (!(act.min <= act.max))
      throw new RangeError(`activation.min must be <= activation.max, got [${act.min}, ${act.max}]`);
    activation = 'clamp';
    lo = act.min;
    hi = act.max;
  } else {
    assertOneOf(act, ['none', 'relu', 'relu6'] as const, 'activation');
    activation = act === 'none' ? 'linear' : act;
  }
  let out: Float32Array;
  if (opts.out !== undefined) {
    assertTypedArray(opts.out, Float32Array, 'out');
    if (opts.out.length !== m * n)
      throw new RangeError(`out has ${opts.out.length} elements, expected m × n = ${m * n}`);
    out = opts.out;
    assertNoOverlap(input, out, 'the input', 'out');
  } else {
    out = new Float32Array(m * n);
  }
  const threads = opts.threads ?? 0;
  assertInt(threads, 'threads', 0, 256);
  return { out, options: { m, bias, activation, clampMin: lo, clampMax: hi, threads } };
}

function common(
  input: ArrayBufferView & { length: number },
  packed: unknown,
  opts: unknown,
): asserts opts is OutputOptions {
  checkPacked(packed);
  assertOptions(opts);
  assertInt(opts.m, 'm', 0, MAX_DIM);
  const need = (opts.m as number) * packed.k;
  if (input.length !== need) throw new RangeError(`input has ${input.length} elements, expected m × k = ${need}`);
}

function gemmArgs(
  a: Uint8Array | Int8Array,
  packed: Int4PackedWeights,
  opts: Int4GemmOptions,
): [
  Uint8Array | Int8Array,
  NativeInt4PackedWeights,
  Float32Array,
  Int4OutputOptions & { aZeroPoints: Int32Array; aScales: Float32Array },
] {
  if (!(a instanceof Int8Array) && !(a instanceof Uint8Array && !(a instanceof Uint8ClampedArray))) {
    throw new TypeError(`a must be a Uint8Array or an Int8Array, got ${describe(a)}`);
  }
  common(a, packed, opts);
  const [zlo, zhi] = a instanceof Int8Array ? [-128, 127] : [0, 255];
  let za: Int32Array;
  if (opts.aZeroPoints !== undefined) {
    if (opts.aZeroPoint !== undefined) throw new TypeError('aZeroPoint and aZeroPoints are exclusive');
    assertTypedArray(opts.aZeroPoints, Int32Array, 'aZeroPoints');
    if (opts.aZeroPoints.length !== opts.m)
      throw new RangeError(`aZeroPoints has ${opts.aZeroPoints.length} elements, expected m = ${opts.m}`);
    opts.aZeroPoints.forEach((z, i) => assertInt(z, `aZeroPoints[${i}]`, zlo, zhi));
    za = opts.aZeroPoints;
  } else {
    const z = opts.aZeroPoint ?? 0;
    assertInt(z, 'aZeroPoint', zlo, zhi);
    za = Int32Array.of(z);
  }
  let sa: Float32Array;
  if (opts.aScales !== undefined) {
    if (opts.aScale !== undefined) throw new TypeError('aScale and aScales are exclusive');
    assertTypedArray(opts.aScales, Float32Array, 'aScales');
    if (opts.aScales.length !== opts.m)
      throw new RangeError(`aScales has ${opts.aScales.length} elements, expected m = ${opts.m}`);
    opts.aScales.forEach((s, i) => {
      if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`aScales[${i}] must be finite and > 0, got ${s}`);
    });
    sa = opts.aScales;
  } else {
    const s = opts.aScale ?? 1;
    assertFinite(s, 'aScale');
    if (!(s > 0)) throw new RangeError(`aScale must be > 0, got ${s}`);
    sa = Float32Array.of(s);
  }
  const { out, options } = outputOptions(packed, opts, a);
  return [a, packed.handle, out, { ...options, aZeroPoints: za, aScales: sa }];
}

/** C = dequant(A · W) per §12.5: quantized activations (m × k) × int4 weights → float32 (m × n). */
export function gemmInt4(a: Uint8Array | Int8Array, packed: Int4PackedWeights, opts: Int4GemmOptions): Float32Array {
  const args = gemmArgs(a, packed, opts);
  native().int4Gemm(...args);
  return args[2];
}
export async function gemmInt4Async(
  a: Uint8Array | Int8Array,
  packed: Int4PackedWeights,
  opts: Int4GemmOptions,
): Promise<Float32Array> {
  const args = gemmArgs(a, packed, opts);
  await native().int4GemmAsync(...args);
  return args[2];
}

function dynamicArgs(
  x: Float32Array,
  packed: Int4PackedWeights,
  opts: Int4DynamicOptions,
): [Float32Array, NativeInt4PackedWeights, Float32Array, Int4OutputOptions & { perRow: boolean }] {
  assertTypedArray(x, Float32Array, 'x');
  common(x, packed, opts);
  const perRow = opts.perRow ?? true;
  if (typeof perRow !== 'boolean') throw new TypeError(`perRow must be a boolean, got ${describe(perRow)}`);
  const { out, options } = outputOptions(packed, opts, x);
  return [x, packed.handle, out, { ...options, perRow }];
}

/** Float32 x (m × k) → §8 uint8 (per row by default) → int4 GEMM → float32 (m × n). */
export function dynamicGemmInt4(x: Float32Array, packed: Int4PackedWeights, opts: Int4DynamicOptions): Float32Array {
  const args = dynamicArgs(x, packed, opts);
  native().int4DynamicGemm(...args);
  return args[2];
}
export async function dynamicGemmInt4Async(
  x: Float32Array,
  packed: Int4PackedWeights,
  opts: Int4DynamicOptions,
): Promise<Float32Array> {
  const args = dynamicArgs(x, packed, opts);
  await native().int4DynamicGemmAsync(...args);
  return args[2];
}

function weightOnlyArgs(
  x: Float32Array,
  packed: Int4PackedWeights,
  opts: Int4WeightOnlyOptions,
): [Float32Array, NativeInt4PackedWeights, Float32Array, Int4OutputOptions] {
  assertTypedArray(x, Float32Array, 'x');
  common(x, packed, opts);
  const { out, options } = outputOptions(packed, opts, x);
  return [x, packed.handle, out, options];
}

/** Weight-only: float32 x (m × k) × int4 weights dequantized on the fly (§12.5 order) → float32. */
export function weightOnlyGemmInt4(
  x: Float32Array,
  packed: Int4PackedWeights,
  opts: Int4WeightOnlyOptions,
): Float32Array {
  const args = weightOnlyArgs(x, packed, opts);
  native().int4WeightOnlyGemm(...args);
  return args[2];
}
export async function weightOnlyGemmInt4Async(
  x: Float32Array,
  packed: Int4PackedWeights,
  opts: Int4WeightOnlyOptions,
): Promise<Float32Array> {
  const args = weightOnlyArgs(x, packed, opts);
  await native().int4WeightOnlyGemmAsync(...args);
  return args[2];
}
