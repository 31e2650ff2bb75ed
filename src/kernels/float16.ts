// Validated wrappers over the native float16 conversions (docs/quantization.md §9): IEEE
// binary16 bit patterns in Uint16Array. F16C on x86, NEON on arm64, a bit-exact scalar
// reference otherwise; scheme.ts holds the TypeScript statement.
import { native } from '../native/binding.js';
import { assertLength, assertNoOverlap, assertTypedArray } from '../native/validate.js';

function output<T extends Float32Array | Uint16Array>(
  ctor: { new (n: number): T; name: string },
  n: number,
  out: unknown,
): T {
  if (out === undefined) return new ctor(n);
  assertTypedArray(out, ctor as unknown as Uint16ArrayConstructor, 'out');
  assertLength(out as T, n, 'out');
  return out as T;
}

// Checks the input, then allocates (or checks) the output of the other type.
function prepareToHalf(x: Float32Array, out: Uint16Array | undefined): Uint16Array {
  assertTypedArray(x, Float32Array, 'x');
  const o = output(Uint16Array, x.length, out);
  assertNoOverlap(x, o, 'the input', 'out');
  return o;
}

function prepareFromHalf(h: Uint16Array, out: Float32Array | undefined): Float32Array {
  assertTypedArray(h, Uint16Array, 'h');
  const o = output(Float32Array, h.length, out);
  assertNoOverlap(h, o, 'the input', 'out');
  return o;
}

/** float32 → float16 bits: round to nearest even, overflow → ±Inf, subnormals kept, NaN stays NaN. */
export function float32ToFloat16(x: Float32Array, out?: Uint16Array): Uint16Array {
  const o = prepareToHalf(x, out);
  native().float32ToFloat16(x, o);
  return o;
}

export async function float32ToFloat16Async(x: Float32Array, out?: Uint16Array): Promise<Uint16Array> {
  const o = prepareToHalf(x, out);
  await native().float32ToFloat16Async(x, o);
  return o;
}

/** float16 bits → float32, exact. */
export function float16ToFloat32(h: Uint16Array, out?: Float32Array): Float32Array {
  const o = prepareFromHalf(h, out);
  native().float16ToFloat32(h, o);
  return o;
}

export async function float16ToFloat32Async(h: Uint16Array, out?: Float32Array): Promise<Float32Array> {
  const o = prepareFromHalf(h, out);
  await native().float16ToFloat32Async(h, o);
  return o;
}
