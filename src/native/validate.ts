// Argument checks run before anything crosses into C++. Errors name the argument and what
// is wrong: TypeError for a wrong kind of value, RangeError for a wrong size or value.

export type TypedArrayCtor =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

export function assertTypedArray<C extends TypedArrayCtor>(
  value: unknown,
  ctor: C,
  name: string,
): asserts value is InstanceType<C> {
  if (!(value instanceof ctor) || (ctor === Uint8Array && value instanceof Uint8ClampedArray)) {
    const got = describe(value);
    throw new TypeError(`${name} must be a ${ctor.name}, got ${got}`);
  }
}

/** RangeError "<bn> must not overlap <an>" when the two views share a byte of one buffer. */
export function assertNoOverlap(a: ArrayBufferView, b: ArrayBufferView, an: string, bn: string): void {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return;
  if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) {
    throw new RangeError(`${bn} must not overlap ${an}`);
  }
}

export function assertLength(value: ArrayLike<unknown>, expected: number, name: string, what = ''): void {
  if (value.length !== expected) {
    throw new RangeError(`${name} has ${value.length} elements, expected ${expected}${what ? ` (${what})` : ''}`);
  }
}

export function assertInt(
  value: unknown,
  name: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`);
}

export function assertFinite(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be finite, got ${value}`);
}

export function assertPositiveFinite(value: unknown, name: string): asserts value is number {
  assertFinite(value, name);
  if (!(value > 0)) throw new RangeError(`${name} must be > 0, got ${value}`);
}

export function assertOneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): asserts value is T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`);
  }
}

export function assertShape(value: unknown, name: string): asserts value is number[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of dimensions, got ${describe(value)}`);
  value.forEach((d, i) => assertInt(d, `${name}[${i}]`, 0, 2 ** 31 - 1));
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length ?? value.byteLength})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '…' : value}'`;
  return typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
}
