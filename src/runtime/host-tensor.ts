// The values a session passes between its segments and returns: typed arrays with a shape,
// a dtype and, for int8, the quantization parameters.
import { tf } from '../backend/float.js';
import { dequantize } from '../kernels/quantize.js';
import type { QParams } from '../quant/scheme.js';

/** int8: the graph inputs of an inputType-int8 model and int8 outputs of an outputType-int8 one. */
export type TensorDType = 'float32' | 'int32' | 'bool' | 'int8';
export type HostArray = Float32Array | Int32Array | Uint8Array | Int8Array;

export interface TensorSpec {
  name: string;
  /** -1 = free (the batch). */
  shape: number[];
  dtype: TensorDType;
  /** int8 tensors: real = scale × (q − zeroPoint) (docs/quantization.md §1). */
  quantization?: QParams;
}

export interface HostTensor {
  data: HostArray;
  shape: number[];
  dtype: TensorDType;
  quantization?: QParams;
}

export const DTYPE_ARRAY: Record<TensorDType, new (n: number) => HostArray> = { float32: Float32Array, int32: Int32Array, bool: Uint8Array, int8: Int8Array };

/** A host tensor as float32 for tfjs (int8 values dequantized with their parameters). */
export function toFloatTensor(v: HostTensor): tf.Tensor {
  if (v.dtype === 'int8') return tf.tensor(dequantize(v.data as Int8Array, v.quantization!), v.shape, 'float32');
  return tf.tensor(v.data as Float32Array | Int32Array | Uint8Array, v.shape, v.dtype as 'float32' | 'int32' | 'bool');
}
