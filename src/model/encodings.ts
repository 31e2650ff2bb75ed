// Weight encodings of the tfjs-quant format (docs/format.md §4): built-in 'raw' and 'affine',
// the reserved 'deep-compression' (one self-contained stream per tensor, docs/compression.md),
// and an extension mechanism: registerEncoding(name, codec) lets later work add encodings
// (sparse, entropy-coded, int4 groups…) without changing the container.
import { ModelFormatError } from './errors.js';
import { native } from '../native/binding.js';
import type { DType } from '../io/weights.js';

export interface EncodingDecodeContext {
  name: string;
  dtype: DType;
  shape: number[];
  /** The entry's encoding-specific JSON ("params"). */
  params: Record<string, unknown>;
  file?: string;
}

export interface WeightCodec {
  /** Decodes the entry's bytes into float32 values of the given shape (throw on any defect). */
  decode(bytes: Uint8Array, ctx: EncodingDecodeContext): Float32Array;
}

const registry = new Map<string, WeightCodec>();

/** Registers (or replaces) the decoder of an encoding name. */
export function registerEncoding(name: string, codec: WeightCodec): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name))
    throw new RangeError(`encoding name '${name}' must be lower-case letters, digits and dashes`);
  if (name === 'raw' || name === 'affine') throw new RangeError(`encoding '${name}' is built in`);
  if (!codec || typeof codec.decode !== 'function')
    throw new TypeError('codec must have a decode(bytes, ctx) function');
  registry.set(name, codec);
}

export function getEncoding(name: string): WeightCodec | undefined {
  return registry.get(name);
}

export function registeredEncodings(): string[] {
  return ['raw', 'affine', ...registry.keys()];
}

// 'deep-compression': decoded by the native codec (native/codec); the stream carries its shape.
registerEncoding('deep-compression', {
  decode(bytes, ctx) {
    let d;
    try {
      d = native().codecDecode(bytes);
    } catch (e) {
      throw new ModelFormatError(`deep-compression stream cannot be decoded: ${(e as Error).message}`, {
        file: ctx.file,
        weight: ctx.name,
      });
    }
    if (d.shape.length !== ctx.shape.length || d.shape.some((v, i) => v !== ctx.shape[i])) {
      throw new ModelFormatError(`deep-compression stream has shape [${d.shape}] but the entry says [${ctx.shape}]`, {
        file: ctx.file,
        weight: ctx.name,
      });
    }
    return d.values;
  },
});
