// TF AttrValue JSON (as tfjs-converter writes it in model.json) ↔ plain IR attribute values.
import type { DType } from '../io/weights.js';
import { ModelFormatError } from './errors.js';
import type { AttrValue, Attrs } from './ir.js';

const DT_NAMES: Record<string, DType> = {
  DT_FLOAT: 'float32',
  DT_HALF: 'float32',
  DT_DOUBLE: 'float32',
  DT_BFLOAT16: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_INT16: 'int32',
  DT_INT8: 'int32',
  DT_UINT8: 'int32',
  DT_UINT16: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
};
const DT_NUMBERS: Record<number, string> = {
  1: 'DT_FLOAT',
  2: 'DT_DOUBLE',
  3: 'DT_INT32',
  4: 'DT_UINT8',
  5: 'DT_INT16',
  6: 'DT_INT8',
  7: 'DT_STRING',
  9: 'DT_INT64',
  10: 'DT_BOOL',
  14: 'DT_BFLOAT16',
  17: 'DT_UINT16',
  19: 'DT_HALF',
};

/** TF DataType (name or enum number) → IR dtype; undefined when unsupported. */
export function parseTfDtype(v: unknown): DType | undefined {
  const name = typeof v === 'number' ? DT_NUMBERS[v] : typeof v === 'string' ? v : undefined;
  return name ? DT_NAMES[name] : undefined;
}

export function tfDtypeName(d: DType): string {
  return { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL', string: 'DT_STRING' }[d];
}

function decodeString(s: unknown): string {
  if (Array.isArray(s)) return String.fromCharCode(...(s as number[]));
  if (typeof s !== 'string') throw new Error(`expected a base64 string, got ${typeof s}`);
  return Buffer.from(s, 'base64').toString('utf8');
}

function toInt(v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`expected an integer, got ${JSON.stringify(v)}`);
  return n;
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  const n = typeof v === 'string' ? Number(v) : NaN;
  if (Number.isNaN(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** TensorShapeProto JSON → dims (-1 unknown) or null (unknown rank). */
export function parseShape(s: unknown): number[] | null {
  if (s === null || typeof s !== 'object') return null;
  const sh = s as { unknownRank?: boolean; dim?: { size?: unknown }[] };
  if (sh.unknownRank) return null;
  if (sh.dim === undefined) return [];
  if (!Array.isArray(sh.dim)) throw new Error('shape.dim must be an array');
  return sh.dim.map((d) => (d && d.size !== undefined ? toInt(d.size) : -1));
}

/** One AttrValue JSON → a plain value (tensor/func attrs → null). */
export function decodeAttr(v: unknown): AttrValue {
  if (v === null || typeof v !== 'object') throw new Error('attribute value must be an object');
  const a = v as Record<string, unknown>;
  if ('list' in a) {
    const l = (a.list ?? {}) as Record<string, unknown[]>;
    if (l.i?.length) return l.i.map(toInt);
    if (l.f?.length) return l.f.map(toFloat);
    if (l.s?.length) return l.s.map(decodeString);
    if (l.type?.length) return l.type.map((t) => parseTfDtype(t) ?? String(t));
    if (l.b?.length) return l.b.map((b) => (b ? 1 : 0));
    if (l.shape?.length) return null;
    return [];
  }
  if ('i' in a) return toInt(a.i);
  if ('f' in a) return toFloat(a.f);
  if ('b' in a) return Boolean(a.b);
  if ('s' in a) return decodeString(a.s);
  if ('type' in a) return parseTfDtype(a.type) ?? String(a.type);
  if ('shape' in a) return parseShape(a.shape);
  return null;
}

export function decodeAttrs(raw: unknown, ctx: { file?: string; node: string }): Attrs {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ModelFormatError('attr must be an object', ctx);
  const out: Attrs = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    try {
      out[k] = decodeAttr(v);
    } catch (e) {
      throw new ModelFormatError(`attribute '${k}': ${(e as Error).message}`, ctx);
    }
  }
  return out;
}

// Attribute kinds for encoding (an IR number is an int or a float depending on the key).
const INT_ATTRS = new Set([
  'num_args',
  'N',
  'axis',
  'block_size',
  'begin_mask',
  'end_mask',
  'ellipsis_mask',
  'new_axis_mask',
  'shrink_axis_mask',
  'batch_dims',
  'num_split',
  'num',
  'Tidx',
]);
const INT_LIST_ATTRS = new Set(['strides', 'dilations', 'ksize', 'explicit_paddings', 'squeeze_dims', 'axis']);
const TYPE_ATTRS = new Set([
  'T',
  'dtype',
  'DstT',
  'SrcT',
  'Tidx',
  'Tshape',
  'Tpaddings',
  'Tperm',
  'Index',
  'Tindices',
  'Taxis',
  'U',
  'out_type',
]);
const STRING_KEEP_CASE = new Set(['padding', 'data_format', 'mode']);

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** Plain IR attributes → TF AttrValue JSON (keys sorted for deterministic output). */
export function encodeAttrs(attrs: Attrs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(attrs).sort()) {
    const v = attrs[k];
    if (v === null || v === undefined) continue;
    if (TYPE_ATTRS.has(k) && typeof v === 'string') out[k] = { type: tfDtypeName(v as DType) ?? v };
    else if (typeof v === 'boolean') out[k] = { b: v };
    else if (typeof v === 'string') out[k] = { s: b64(STRING_KEEP_CASE.has(k) ? v : v) };
    else if (typeof v === 'number') out[k] = INT_ATTRS.has(k) && Number.isInteger(v) ? { i: String(v) } : { f: v };
    else if (Array.isArray(v)) {
      if (v.length === 0) out[k] = { list: {} };
      else if (typeof v[0] === 'string') out[k] = { list: { s: (v as string[]).map(b64) } };
      else if (INT_LIST_ATTRS.has(k) || (v as number[]).every(Number.isInteger))
        out[k] = { list: { i: (v as number[]).map(String) } };
      else out[k] = { list: { f: v } };
    }
  }
  return out;
}
