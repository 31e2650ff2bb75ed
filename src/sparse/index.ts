// Sparse weight products for pruned models (native/sparse, docs/compression.md §6): validated
// wrappers over the native kernels, and the rule the runtime uses to pick them (select.ts).
//
//   const w = packSparse(prunedKernel, { k: 784, n: 300 });      // float32 or int8, packed once
//   const y = sparseMatmul(x, w, { m: 1 });                      // float32: y = x · W
//   const q = sparseMatmulInt8(xq, wq, { m, aZeroPoint, multipliers, outZeroPoint, bias }); // = dense int8 GEMM
import type { IsaName, NativeSparsePackedWeights, SparsePackedInfo, SparseStructure } from '../../binding.js';
import { native } from '../native/binding.js';
import { getIsa, ISA_NAMES, supportedIsas } from '../native/cpu.js';
import { assertInt, assertOneOf, assertTypedArray, describe } from '../native/validate.js';

export type { SparseStructure, SparsePackedInfo };
export { sparseStepRule, SPARSE_RULES, type SparseMode, type SparseDecision } from './select.js';

export type SparseFormat = 'auto' | 'csc' | 'block' | '2:4';
const MAX_K = 65536;
const MAX_DIM = 2 ** 31 - 1;

function assertObject(v: unknown, name: string): asserts v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TypeError(`${name} must be an object, got ${describe(v)}`);
}

function assertWeights(w: unknown, k: unknown, n: unknown): asserts w is Float32Array | Int8Array {
  if (!(w instanceof Float32Array) && !(w instanceof Int8Array))
    throw new TypeError(`w must be a Float32Array or an Int8Array, got ${describe(w)}`);
  assertInt(k, 'k', 1, MAX_K);
  assertInt(n, 'n', 1, MAX_DIM);
  if (w.length !== k * n) throw new RangeError(`w has ${w.length} elements, expected k × n = ${k} × ${n} = ${k * n}`);
}

/** Sparsity and structure (2:4, blocks) of a K×N weight, as the packer sees it. */
export function analyzeSparsity(w: Float32Array | Int8Array, opts: { k: number; n: number }): SparseStructure {
  assertObject(opts, 'options');
  assertWeights(w, opts.k, opts.n);
  return native().sparseAnalyze(w, { k: opts.k, n: opts.n });
}

/** A K×N weight packed in a sparse format (dispose() frees it now, else the GC does). */
export class SparseWeights {
  /** @internal */
  readonly handle: NativeSparsePackedWeights;
  /** @internal */
  constructor(handle: NativeSparsePackedWeights) {
    this.handle = handle;
  }
  /** Format, block shape, nonzeros, stored values, bytes (null once disposed). */
  get info(): SparsePackedInfo | null {
    return this.handle.info();
  }
  get disposed(): boolean {
    return this.handle.info() === null;
  }
  dispose(): void {
    this.handle.dispose();
  }
}

export interface PackSparseOptions {
  k: number;
  n: number;
  /** 'auto' (default): what analyzeSparsity finds; 'block' needs block (default [4, 4]). */
  format?: SparseFormat;
  /** [rows along K, cols along N]: rows 1, 2, 4 or 8; cols 1, 4 or 8; not [1, 1]. */
  block?: [number, number];
  /** Kernel path: 'ref' or an x86 path with AVX2 (→ the AVX2 kernels); default the active one. */
  isa?: IsaName;
}

function resolveIsa(isa: unknown): IsaName {
  if (isa === undefined) return getIsa();
  assertOneOf(isa, ISA_NAMES, 'isa');
  const ok = supportedIsas();
  if (isa !== 'ref' && !ok.includes(isa))
    throw new RangeError(`isa '${isa}' is not available on this machine (available: ${ok.join(', ')})`);
  return isa;
}

/** Packs W (k × n row-major, TF.js Dense layout [in, out]) once for the sparse kernels. */
export function packSparse(w: Float32Array | Int8Array, opts: PackSparseOptions): SparseWeights {
  assertObject(opts, 'options');
  assertWeights(w, opts.k, opts.n);
  const format = opts.format ?? 'auto';
  assertOneOf(format, ['auto', 'csc', 'block', '2:4'] as const, 'format');
  let [br, bc] = [4, 4];
  if (opts.block !== undefined) {
    if (!Array.isArray(opts.block) || opts.block.length !== 2)
      throw new TypeError(`block must be [rows, cols], got ${describe(opts.block)}`);
    [br, bc] = opts.block as [number, number];
    assertInt(br, 'block[0]', 1, 8);
    assertInt(bc, 'block[1]', 1, 8);
    if (![1, 2, 4, 8].includes(br) || ![1, 4, 8].includes(bc) || (br === 1 && bc === 1)) {
      throw new RangeError(`block [${br}, ${bc}] is not supported (rows 1, 2, 4 or 8; cols 1, 4 or 8; not [1, 1])`);
    }
  }
  const isa = resolveIsa(opts.isa);
  const Ctor = native().SparsePackedWeights;
  return new SparseWeights(new Ctor(w, { k: opts.k, n: opts.n, format, blockRows: br, blockCols: bc, isa }));
}

function live(w: unknown): NativeSparsePackedWeights {
  if (!(w instanceof SparseWeights))
    throw new TypeError(`w must be SparseWeights (from packSparse), got ${describe(w)}`);
  if (w.disposed) throw new RangeError('w has been disposed');
  return w.handle;
}

/** y = x · W for float32 weights: x is m × k row-major, y m × n (no bias, no activation). */
export function sparseMatmul(x: Float32Array, w: SparseWeights, opts: { m: number; threads?: number }): Float32Array {
  const h = live(w);
  const info = h.info()!;
  if (info.dtype !== 'float32') throw new TypeError('w holds int8 weights: use sparseMatmulInt8');
  assertTypedArray(x, Float32Array, 'x');
  assertObject(opts, 'options');
  assertInt(opts.m, 'm', 0, MAX_DIM);
  const threads = opts.threads ?? 0;
  assertInt(threads, 'threads', 0, 256);
  if (x.length !== opts.m * info.k)
    throw new RangeError(`x has ${x.length} elements, expected m × k = ${opts.m} × ${info.k}`);
  const out = new Float32Array(opts.m * info.n);
  native().sparseMatmulF32(h, x, out, { m: opts.m, threads });
  return out;
}

export interface SparseInt8Options {
  m: number;
  /** x's zero point in [-128, 127] (default 0). */
  aZeroPoint?: number;
  /** int32 bias (n entries), added to the accumulator as the dense GEMM does. */
  bias?: Int32Array;
  /** Requantize multipliers: one number, or n (per column); finite > 0. */
  multipliers: number | Float32Array;
  outZeroPoint?: number;
  qmin?: number;
  qmax?: number;
  threads?: number;
}

/** int8: requantize(Σ (x − za)·W + bias) — equal bit for bit to the dense int8 GEMM with an int8 epilogue. */
export function sparseMatmulInt8(x: Int8Array, w: SparseWeights, opts: SparseInt8Options): Int8Array {
  const h = live(w);
  const info = h.info()!;
  if (info.dtype !== 'int8') throw new TypeError('w holds float32 weights: use sparseMatmul');
  assertTypedArray(x, Int8Array, 'x');
  assertObject(opts, 'options');
  assertInt(opts.m, 'm', 0, MAX_DIM);
  if (x.length !== opts.m * info.k)
    throw new RangeError(`x has ${x.length} elements, expected m × k = ${opts.m} × ${info.k}`);
  const za = opts.aZeroPoint ?? 0,
    zo = opts.outZeroPoint ?? 0,
    qmin = opts.qmin ?? -128,
    qmax = opts.qmax ?? 127,
    threads = opts.threads ?? 0;
  assertInt(za, 'aZeroPoint', -128, 127);
  assertInt(zo, 'outZeroPoint', -128, 127);
  assertInt(qmin, 'qmin', -128, 127);
  assertInt(qmax, 'qmax', qmin, 127);
  assertInt(threads, 'threads', 0, 256);
  if (opts.bias !== undefined) {
    assertTypedArray(opts.bias, Int32Array, 'bias');
    if (opts.bias.length !== info.n)
      throw new RangeError(`bias has ${opts.bias.length} elements, expected n = ${info.n}`);
  }
  const mult = typeof opts.multipliers === 'number' ? Float32Array.of(opts.multipliers) : opts.multipliers;
  assertTypedArray(mult, Float32Array, 'multipliers');
  if (mult.length !== 1 && mult.length !== info.n)
    throw new RangeError(`multipliers has ${mult.length} entries, expected 1 or n = ${info.n}`);
  for (let i = 0; i < mult.length; i++) {
    if (!(mult[i]! > 0) || mult[i] === Infinity)
      throw new RangeError(`multipliers[${i}] must be a finite float32 > 0, got ${mult[i]}`);
  }
  const out = new Int8Array(opts.m * info.n);
  native().sparseMatmulI8(h, x, out, {
    m: opts.m,
    aZeroPoint: za,
    outZeroPoint: zo,
    qmin,
    qmax,
    threads,
    bias: opts.bias ?? null,
    multipliers: mult,
  });
  return out;
}
