// JSON bodies as TF Serving reads and writes them: standard JSON plus the bare tokens NaN,
// Infinity and -Infinity for float values (its "JSON conformance" section), and tensors
// written as nested lists.
import type { HostTensor, TensorDType } from '../runtime/session.js';
import { badRequest } from './errors.js';

/**
 * Stands for a NaN token after parsing. JSON.parse has no NaN, so the (rare) bodies that
 * contain the token are rewritten first: NaN becomes this string, ±Infinity become ±1e999
 * (which JSON.parse reads as ±Infinity). Tensor decoding turns the marker back into NaN.
 */
export const NAN_MARKER = '\u0000NaN';
const NAN_JSON = JSON.stringify(NAN_MARKER);

/** Rewrites bare NaN / Infinity / -Infinity tokens outside strings; everything else is copied. */
function rewriteNonFinite(text: string): string {
  const parts: string[] = [];
  let from = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    let token: string | undefined,
      replacement = '';
    if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      token = 'NaN';
      replacement = NAN_JSON;
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      token = 'Infinity';
      replacement = '1e999';
    } else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) {
      token = '-Infinity';
      replacement = '-1e999';
    }
    if (token === undefined) continue;
    parts.push(text.slice(from, i), replacement);
    i += token.length - 1;
    from = i + 1;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** Parses a request body; malformed JSON is a 400 naming where it broke. */
export function parseBody(text: string): unknown {
  const needsRewrite = text.includes('NaN') || text.includes('Infinity');
  try {
    return JSON.parse(needsRewrite ? rewriteNonFinite(text) : text);
  } catch (e) {
    throw badRequest(`malformed JSON body: ${(e as Error).message}`);
  }
}

const MAX_RANK = 32;
/** Every JSON value takes at least 2 bytes ("0,"): a 2 GiB body holds fewer. */
const MAX_ELEMENTS = 2 ** 30;
const INT_RANGE: Partial<Record<TensorDType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int32: [-2147483648, 2147483647],
};
const ARRAYS = {
  float32: Float32Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

function pathOf(idx: number[]): string {
  return idx.map((i) => `[${i}]`).join('');
}

/**
 * A nested JSON list as a typed array of `dtype` and its shape. The list must be rectangular,
 * and every value must be of the dtype (numbers for float32, integers in range for int8 and
 * int32, booleans for bool); `what` names the tensor in the error messages.
 */
export function tensorFromJson(
  value: unknown,
  dtype: TensorDType,
  what: string,
): { data: HostTensor['data']; shape: number[] } {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  // The first elements alone decide the shape; a hostile body could claim a rank or size
  // that no body within the size limit holds. Refuse those before allocating.
  if (shape.length > MAX_RANK)
    throw badRequest(`${what} is nested ${shape.length} lists deep; tensors have at most ${MAX_RANK} dimensions`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size > MAX_ELEMENTS)
    throw badRequest(
      `${what} would have shape [${shape.join(', ')}] (${size} values), more than a request body can hold`,
    );
  const data = new ARRAYS[dtype](size);
  const range = INT_RANGE[dtype];
  let k = 0;
  const idx: number[] = [];
  const leaf = (v: unknown): void => {
    let x: number;
    if (dtype === 'bool') {
      if (typeof v !== 'boolean')
        throw badRequest(`${what}${pathOf(idx)} is ${JSON.stringify(v)}; the model takes bool (true/false)`);
      x = v ? 1 : 0;
    } else if (typeof v === 'number') {
      x = v;
      if (range && (!Number.isInteger(x) || x < range[0] || x > range[1])) {
        throw badRequest(
          `${what}${pathOf(idx)} is ${x}; the model takes ${dtype} (integers in [${range[0]}, ${range[1]}])`,
        );
      }
    } else if (v === NAN_MARKER) {
      if (range)
        throw badRequest(
          `${what}${pathOf(idx)} is NaN; the model takes ${dtype} (integers in [${range[0]}, ${range[1]}])`,
        );
      x = NaN;
    } else {
      throw badRequest(
        `${what}${pathOf(idx)} is ${Array.isArray(v) ? 'a list' : (JSON.stringify(v) ?? String(v))}; expected a ${dtype} number${Array.isArray(v) ? ' (the nesting is deeper here than in element [0]…)' : ''}`,
      );
    }
    data[k++] = x;
  };
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      leaf(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw badRequest(
        `${what}${pathOf(idx)} ${Array.isArray(v) ? `has ${v.length} elements` : 'is not a list'}; the list is not rectangular (expected ${shape[depth]} elements, as in element ${pathOf(idx.map(() => 0))}[…] of shape [${shape.join(', ')}])`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      idx.push(i);
      walk(v[i], depth + 1);
      idx.pop();
    }
  };
  walk(value, 0);
  return { data, shape };
}

function formatValue(v: number, dtype: TensorDType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : String(v); // String(-0) is "0"
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A tensor (or one row of its first dimension, written without that dimension) as nested
 * JSON lists, appended to `out`. float32 values print as the shortest decimal of the double
 * holding them, which reads back to the same float32 exactly.
 */
export function tensorToJson(t: HostTensor, out: string[], row?: number): void {
  const { data, shape, dtype } = t;
  const strides: number[] = new Array(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  const write = (depth: number, off: number): void => {
    if (depth === shape.length) {
      out.push(formatValue(data[off]!, dtype));
      return;
    }
    out.push('[');
    for (let i = 0; i < shape[depth]!; i++) {
      if (i) out.push(',');
      write(depth + 1, off + i * strides[depth]!);
    }
    out.push(']');
  };
  if (row === undefined) write(0, 0);
  else write(1, row * strides[0]!);
}
