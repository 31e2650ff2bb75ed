// NumPy .npy files (format versions 1.0, 2.0, 3.0): little-endian, C order. Read: float32,
// float64 (read as float32), int8, uint8, int32, int64 (read as int32 when in range), bool.
// Write: float32, int32, int8, uint8.

export type NpyData = Float32Array | Int32Array | Int8Array | Uint8Array;

export interface NpyArray {
  /** The .npy dtype descriptor as stored ('<f4', '|u1', …). */
  descr: string;
  shape: number[];
  data: NpyData;
  /** 'bool' for '|b1' (data is a Uint8Array of 0/1), else the data's element type. */
  dtype: 'float32' | 'int32' | 'int8' | 'uint8' | 'bool';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export class NpyError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'NpyError';
  }
}

function parseHeader(text: string, file?: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new NpyError(`malformed .npy header ${JSON.stringify(text.trim())}`, file);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new NpyError(`bad dimension '${s}' in the .npy shape`, file);
      return n;
    });
  return { descr, fortran: fortran === 'True', shape };
}

/** Parses .npy bytes. Throws NpyError naming the file for anything it cannot read. */
export function readNpy(bytes: Uint8Array, file?: string): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new NpyError('not a .npy file (bad magic)', file);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`, file);
  const start = major === 1 ? 10 : 12;
  if (bytes.byteLength < start) throw new NpyError('truncated .npy header', file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (start + hlen > bytes.byteLength) throw new NpyError('truncated .npy header', file);
  const header = parseHeader(
    new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + hlen)),
    file,
  );
  if (header.fortran && header.shape.filter((d) => d > 1).length > 1)
    throw new NpyError('Fortran-order arrays are not supported (save with np.ascontiguousarray)', file);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(start + hlen);
  const d = header.descr;
  const size = (
    { '<f4': 4, '<f8': 8, '<i4': 4, '<i8': 8, '|i1': 1, '|u1': 1, '|b1': 1, '<u1': 1, '<i1': 1 } as Record<
      string,
      number
    >
  )[d];
  if (size === undefined)
    throw new NpyError(
      `unsupported dtype '${d}' (float32, float64, int8, uint8, int32, int64, bool, little-endian)`,
      file,
    );
  if (body.byteLength < count * size)
    throw new NpyError(
      `data has ${body.byteLength} bytes, shape [${header.shape.join(', ')}] of ${d} needs ${count * size}`,
      file,
    );
  if (body.byteLength > count * size)
    throw new NpyError(
      `data has ${body.byteLength - count * size} bytes more than shape [${header.shape.join(', ')}] of ${d} needs`,
      file,
    );
  const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let data: NpyData;
  let dtype: NpyArray['dtype'];
  switch (d) {
    case '<f4':
      data = Float32Array.from({ length: count }, (_, i) => bv.getFloat32(i * 4, true));
      dtype = 'float32';
      break;
    case '<f8':
      data = Float32Array.from({ length: count }, (_, i) => bv.getFloat64(i * 8, true));
      dtype = 'float32';
      break;
    case '<i4':
      data = Int32Array.from({ length: count }, (_, i) => bv.getInt32(i * 4, true));
      dtype = 'int32';
      break;
    case '<i8': {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = bv.getBigInt64(i * 8, true);
        if (v < -(2n ** 31n) || v >= 2n ** 31n)
          throw new NpyError(`int64 element ${i} (${v}) does not fit in int32`, file);
        data[i] = Number(v);
      }
      dtype = 'int32';
      break;
    }
    case '|i1':
    case '<i1':
      data = Int8Array.from(new Int8Array(body.buffer, body.byteOffset, count));
      dtype = 'int8';
      break;
    case '|b1':
      data = Uint8Array.from(body.subarray(0, count));
      dtype = 'bool';
      break;
    default:
      data = Uint8Array.from(body.subarray(0, count));
      dtype = 'uint8';
  }
  return { descr: d, shape: header.shape, data, dtype };
}

/** .npy (version 1.0) bytes of a C-order array. */
export function writeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const descr =
    data instanceof Float32Array
      ? '<f4'
      : data instanceof Int32Array
        ? '<i4'
        : data instanceof Int8Array
          ? '|i1'
          : data instanceof Uint8Array
            ? '|u1'
            : undefined;
  if (!descr) throw new TypeError('data must be a Float32Array, Int32Array, Int8Array or Uint8Array');
  if (!Array.isArray(shape) || shape.some((s) => !Number.isInteger(s) || s < 0))
    throw new TypeError('shape must be an array of non-negative integers');
  if (shape.reduce((a, b) => a * b, 1) !== data.length)
    throw new RangeError(`shape [${shape.join(', ')}] does not match ${data.length} elements`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
