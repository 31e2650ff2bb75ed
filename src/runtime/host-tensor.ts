// The values a session passes between its segments and returns: typed arrays with a shape,
// a dtype and, for int8, the quantization parameters.
import { tf } from '../backend/float.js';
import { dequantize } from '../kernels/quantize.js';
import type { QParams } from '../quant/scheme.js';

/**
 * int8: the graph inputs of an inputType-int8 model and int8 outputs of an outputType-int8 one;
 * uint8: the same codes shifted by 128 (u = q + 128, zero point + 128) for uint8-I/O models.
 */
export type TensorDType = 'float32' | 'int32' | 'bool' | 'int8' | 'uint8';
export type HostArray = Float32Array | Int32Array | Uint8Array | Int8Array;

export interface TensorSpec {
  name: string;
  /** -1 = free (the batch). */
  shape: number[];
  dtype: TensorDType;
  /** int8 / uint8 tensors: real = scale × (q − zeroPoint) (docs/quantization.md §1). */
  quantization?: QParams;
}

export interface HostTensor {
  data: HostArray;
  shape: number[];
  dtype: TensorDType;
  quantization?: QParams;
}

export const DTYPE_ARRAY: Record<TensorDType, new (n: number) => HostArray> = {
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

/** uint8 codes as the int8 codes the graph runs on: q = u − 128 (zero point − 128), exact. */
export function uint8ToInt8(u: Uint8Array): Int8Array {
  const q = new Int8Array(u.length);
  for (let i = 0; i < u.length; i++) q[i] = u[i]! - 128;
  return q;
}

/** int8 codes as uint8: u = q + 128 (zero point + 128), exact. */
export function int8ToUint8(q: Int8Array): Uint8Array {
  const u = new Uint8Array(q.length);
  for (let i = 0; i < q.length; i++) u[i] = q[i]! + 128;
  return u;
}

/** Parameters of the uint8 view of int8 codes. */
export function uint8Params(p: QParams): QParams {
  return { scale: p.scale, zeroPoint: p.zeroPoint + 128 };
}

/** A host tensor's values as float32 (int8 / uint8 codes dequantized with their parameters, §3). */
export function toFloat32(v: HostTensor): Float32Array {
  if (v.dtype === 'int8' || v.dtype === 'uint8') return dequantize(v.data as Int8Array | Uint8Array, v.quantization!);
  return Float32Array.from(v.data as ArrayLike<number>);
}

/** A host tensor as float32 for tfjs (int8 / uint8 codes dequantized with their parameters, §3). */
export function toFloatTensor(v: HostTensor): tf.Tensor {
  if (v.dtype === 'int8' || v.dtype === 'uint8') return tf.tensor(toFloat32(v), v.shape, 'float32');
  return tf.tensor(v.data as Float32Array | Int32Array | Uint8Array, v.shape, v.dtype as 'float32' | 'int32' | 'bool');
}
