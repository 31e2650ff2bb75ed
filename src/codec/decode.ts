// The native decoder (native/codec/decode.cc) behind a validated wrapper.
import { native } from '../native/binding.js';
import { assertShape, assertTypedArray } from '../native/validate.js';

/** A stream that does not decode: the message names the defect. */
export class CodecError extends Error {
  override name = 'CodecError';
}

export interface DecodeOptions {
  /** When given, the stream's shape must equal it. */
  expectedShape?: number[];
}

export interface Decoded {
  shape: number[];
  values: Float32Array;
  indexBits: number;
  entries: number;
  codebookSize: number;
}

/** Decodes one stream natively. Throws CodecError for a corrupted, truncated or inconsistent stream. */
export function decodeTensor(stream: Uint8Array, options: DecodeOptions = {}): Decoded {
  assertTypedArray(stream, Uint8Array, 'stream');
  if (options.expectedShape !== undefined) assertShape(options.expectedShape, 'expectedShape');
  let d;
  try {
    d = native().codecDecode(stream);
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith('tfjs-quant codec: ')) throw new CodecError(msg.slice('tfjs-quant codec: '.length));
    throw e;
  }
  const exp = options.expectedShape;
  if (exp && (exp.length !== d.shape.length || exp.some((v, i) => v !== d.shape[i]))) {
    throw new CodecError(`stream holds a tensor of shape [${d.shape.join(', ')}], expected [${exp.join(', ')}]`);
  }
  return { shape: d.shape, values: d.values, indexBits: d.indexBits, entries: d.entries, codebookSize: d.codebookSize };
}
