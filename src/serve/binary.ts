// The binary predict body: tensors in the safetensors layout (an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {…}}, then the raw little-endian bytes), so clients can use any safetensors writer instead
// of a format of ours. Requests and responses use it; int8 outputs carry their quantization
// in __metadata__ as "<name>.scale" / "<name>.zero_point".
import type { HostTensor, TensorDType } from '../runtime/session.js';
import { badRequest } from './errors.js';

export const BINARY_CONTENT_TYPE = 'application/octet-stream';

const CODES: Partial<Record<TensorDType, string>> = { float32: 'F32', int8: 'I8', int32: 'I32', bool: 'BOOL' };
const FROM_CODE: Record<
  string,
  {
    dtype: TensorDType;
    bytes: number;
    Array: Float32ArrayConstructor | Int8ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
  }
> = {
  F32: { dtype: 'float32', bytes: 4, Array: Float32Array },
  I8: { dtype: 'int8', bytes: 1, Array: Int8Array },
  I32: { dtype: 'int32', bytes: 4, Array: Int32Array },
  BOOL: { dtype: 'bool', bytes: 1, Array: Uint8Array },
};

export interface DecodedTensor {
  dtype: TensorDType;
  shape: number[];
  data: HostTensor['data'];
}

/**
 * A body as the socket delivered it: its chunks in order, not joined into one buffer. The
 * server copies a tensor's bytes from here straight into its batch (joining them first would
 * allocate and copy every body once more, and a body that waits in the queue outlives the
 * young generation: old-space garbage that only full collections free).
 */
export class BodyBytes {
  readonly length: number;
  /** Offset of each chunk in the body. */
  private readonly starts: number[] = [];

  constructor(readonly chunks: readonly Uint8Array[]) {
    let n = 0;
    for (const c of chunks) {
      this.starts.push(n);
      n += c.byteLength;
    }
    this.length = n;
  }

  /** Copies bytes [from, from + n) of the body into `dst` from `at` on. */
  copyTo(dst: Uint8Array, at: number, from: number, n: number): void {
    let i = this.chunkAt(from);
    while (n > 0) {
      const c = this.chunks[i]!;
      const off = from - this.starts[i]!;
      const k = Math.min(n, c.byteLength - off);
      dst.set(off === 0 && k === c.byteLength ? c : c.subarray(off, off + k), at);
      at += k;
      from += k;
      n -= k;
      i++;
    }
  }

  /** Bytes [from, to) as one array: a view when they lie in one chunk, else a copy. */
  slice(from: number, to: number): Uint8Array {
    const i = this.chunkAt(from);
    const off = from - this.starts[i]!;
    const c = this.chunks[i];
    if (c && off + (to - from) <= c.byteLength) return c.subarray(off, off + (to - from));
    const out = new Uint8Array(to - from);
    this.copyTo(out, 0, from, to - from);
    return out;
  }

  /** The chunk holding byte `at` (the last chunk for the end of the body). */
  private chunkAt(at: number): number {
    let lo = 0,
      hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** A tensor of a binary body, not yet copied out of it: bytes [begin, begin + byteLength). */
export interface BinaryTensor {
  dtype: TensorDType;
  shape: number[];
  /** Values (the product of the shape). */
  size: number;
  bytes: BodyBytes;
  begin: number;
  byteLength: number;
}

/** Parses and checks a safetensors body's header: its tensors as byte ranges of the body. */
export function parseBinary(body: BodyBytes): Map<string, BinaryTensor> {
  if (body.length < 8)
    throw badRequest(`binary body has ${body.length} bytes; a safetensors body starts with an 8-byte header length`);
  const head = body.slice(0, 8);
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const headerLen = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (headerLen > body.length - 8)
    throw badRequest(`binary body: header length ${headerLen} exceeds the ${body.length - 8} bytes after it`);
  let header: unknown;
  try {
    const h = body.slice(8, 8 + headerLen);
    header = JSON.parse(Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('utf8'));
  } catch (e) {
    throw badRequest(`binary body: the safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw badRequest('binary body: the safetensors header must be a JSON object');
  const dataStart = 8 + headerLen,
    dataLen = body.length - dataStart;
  const out = new Map<string, BinaryTensor>();
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const what = `binary tensor '${name}'`;
    const kind = typeof t?.dtype === 'string' ? FROM_CODE[t.dtype] : undefined;
    if (!kind)
      throw badRequest(`${what}: dtype ${JSON.stringify(t?.dtype)} is not one of ${Object.keys(FROM_CODE).join(', ')}`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw badRequest(`${what}: shape must be a list of non-negative integers`);
    const offs = t.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((x) => Number.isSafeInteger(x) && x >= 0) ||
      offs[0] > offs[1] ||
      offs[1] > dataLen
    ) {
      throw badRequest(
        `${what}: data_offsets must be [begin, end] within the ${dataLen} data bytes, got ${JSON.stringify(offs)}`,
      );
    }
    const shape = t.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const [b, e] = offs as [number, number];
    if (e - b !== n * kind.bytes)
      throw badRequest(
        `${what}: shape [${shape.join(', ')}] of ${t.dtype} needs ${n * kind.bytes} bytes, data_offsets span ${e - b}`,
      );
    out.set(name, {
      dtype: kind.dtype,
      shape: [...shape],
      size: n,
      bytes: body,
      begin: dataStart + b,
      byteLength: e - b,
    });
  }
  return out;
}

/** Parses a safetensors body into named tensors (views when aligned, copies otherwise). */
export function decodeBinary(body: Buffer): Map<string, DecodedTensor> {
  const out = new Map<string, DecodedTensor>();
  for (const [name, t] of parseBinary(new BodyBytes([body]))) {
    const { Array: Arr, bytes } = FROM_CODE[CODES[t.dtype]!]!;
    const at = body.byteOffset + t.begin;
    // A typed-array view needs an offset aligned to its element size; otherwise copy.
    const buf = body.buffer as ArrayBuffer;
    const data = at % bytes === 0 ? new Arr(buf, at, t.size) : new Arr(buf.slice(at, at + t.byteLength));
    out.set(name, { dtype: t.dtype, shape: t.shape, data });
  }
  return out;
}

/** Writes named tensors as one safetensors body (header padded to 8 bytes). */
export function encodeBinary(tensors: Record<string, HostTensor>): Buffer {
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  let off = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const code = CODES[t.dtype];
    if (!code) throw new Error(`internal: no safetensors dtype for ${t.dtype}`);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
    if (t.quantization) {
      meta[`${name}.scale`] = String(t.quantization.scale);
      meta[`${name}.zero_point`] = String(t.quantization.zeroPoint);
    }
  }
  if (Object.keys(meta).length) header.__metadata__ = meta;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerLen = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(8 + headerLen + off);
  out.writeUInt32LE(headerLen, 0);
  out.writeUInt32LE(0, 4);
  out.write(json, 8, 'utf8');
  let at = 8 + headerLen;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
