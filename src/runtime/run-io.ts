// What a run of an InferenceSession takes and gives: the user's inputs (records, tf.Tensors
// from any copy of tfjs, arrays) checked against the model's input specs and bound to host
// tensors by name, and the computed values collected as the run's outputs (typed arrays or
// tf.Tensors, under the graph's names and, not enumerable, their signature keys).
import { tf } from '../backend/float.js';
import { quantize } from '../kernels/quantize.js';
import type { QParams } from '../quant/scheme.js';
import {
  DTYPE_ARRAY,
  int8ToUint8,
  toFloatTensor,
  uint8Params,
  uint8ToInt8,
  type HostArray,
  type HostTensor,
  type TensorSpec,
} from './host-tensor.js';
import type { Names } from './signature.js';
import { isTensorLike, type TensorLike } from './tensor-like.js';

/**
 * Tensors may come from any copy of tfjs (the user's own, another version): they are read
 * through dataSync/shape/dtype, never recognised by instanceof.
 */
export type RunInputs =
  | Record<string, { data: ArrayLike<number> | HostArray; shape: readonly number[] } | tf.Tensor | TensorLike>
  | tf.Tensor
  | TensorLike
  | (tf.Tensor | TensorLike)[];

/**
 * The run's inputs by graph input name, checked against `specs` (dtype, shape, values of
 * int8 / uint8 inputs); int8 / uint8 inputs given as float32 values are quantized with their
 * parameters, uint8 ones shifted to the int8 the graph runs (`int8Inputs`: its parameters).
 */
export function bindInputs(
  inputs: RunInputs,
  specs: readonly TensorSpec[],
  signature: Names,
  int8Inputs: ReadonlyMap<string, QParams>,
): Map<string, HostTensor> {
  const names = specs.map((i) => i.name);
  const keyOf = new Map(signature.inputs.map((e) => [e.key, e.tensor]));
  const entries: [string, unknown][] = [];
  if (isTensorLike(inputs)) {
    if (names.length !== 1)
      throw new RangeError(
        `run: the model has ${names.length} inputs (${names.join(', ')}); pass an array or a name → tensor record`,
      );
    entries.push([names[0]!, inputs]);
  } else if (Array.isArray(inputs)) {
    if (inputs.length !== names.length)
      throw new RangeError(`run: got ${inputs.length} tensors, the model takes ${names.length}`);
    inputs.forEach((t, i) => entries.push([names[i]!, t]));
  } else if (inputs && typeof inputs === 'object') {
    for (const [k, v] of Object.entries(inputs)) {
      // By tensor name or by signature key.
      const name = names.includes(k) ? k : keyOf.get(k);
      if (name === undefined)
        throw new RangeError(
          `run: '${k}' is not an input of the model (inputs: ${signature.inputs.map((e) => e.key).join(', ')})`,
        );
      if (entries.some(([e]) => e === name))
        throw new RangeError(`run: input '${k}' is given twice (by its name and its signature key)`);
      entries.push([name, v]);
    }
  } else {
    throw new TypeError('run: inputs must be a name → {data, shape} record, a tf.Tensor or an array of tf.Tensors');
  }
  const m = new Map<string, HostTensor>();
  for (const [k, v] of entries) {
    const spec = specs.find((i) => i.name === k)!;
    let data: HostArray, shape: number[];
    if (isTensorLike(v)) {
      if (v.isDisposed === true) throw new TypeError(`run: inputs['${k}'] is disposed`);
      // An int8 / uint8 input also takes float32 values, quantized with its parameters (§2);
      // a uint8 one takes tfjs's int32 image tensors (tfjs has no uint8 dtype).
      const ok =
        v.dtype === spec.dtype ||
        ((spec.dtype === 'int8' || spec.dtype === 'uint8') && v.dtype === 'float32') ||
        (spec.dtype === 'uint8' && v.dtype === 'int32');
      if (!ok)
        throw new TypeError(
          `run: inputs['${k}'] has dtype ${v.dtype}, the model expects ${spec.dtype}${spec.dtype === 'uint8' ? ' (an int32 tensor of 0..255, or float32 values)' : ''}`,
        );
      data = v.dataSync() as HostArray;
      if (!(data instanceof DTYPE_ARRAY[v.dtype === 'float32' || v.dtype === 'int32' ? v.dtype : spec.dtype]))
        throw new TypeError(
          `run: inputs['${k}'].dataSync() returned ${(data as object | null)?.constructor?.name ?? typeof data}, not the ${v.dtype} values of its dtype`,
        );
      shape = [...v.shape];
    } else {
      if (!v || typeof v !== 'object') throw new TypeError(`run: inputs['${k}'] must be {data, shape} or a tf.Tensor`);
      const o = v as { data?: unknown; shape?: unknown };
      if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
        throw new TypeError(`run: inputs['${k}'].shape must be an array of non-negative integers`);
      }
      shape = [...(o.shape as number[])];
      const Arr = DTYPE_ARRAY[spec.dtype];
      if (o.data instanceof Arr) data = o.data;
      else if ((spec.dtype === 'int8' || spec.dtype === 'uint8') && o.data instanceof Float32Array) data = o.data;
      else if (Array.isArray(o.data)) {
        data = new Arr(o.data.length);
        data.set(o.data as number[]);
      } else
        throw new TypeError(
          `run: inputs['${k}'].data must be a ${Arr.name}${spec.dtype === 'int8' || spec.dtype === 'uint8' ? ' (or Float32Array values to quantize)' : ''} (dtype ${spec.dtype})${o.data && ArrayBuffer.isView(o.data) ? `, got ${(o.data as object).constructor.name}` : ''}`,
        );
    }
    const want = spec.shape;
    if (want.length && !(shape.length === want.length && want.every((d, i) => d < 0 || d === shape[i]))) {
      throw new RangeError(
        `run: inputs['${k}'] has shape [${shape.join(', ')}], the model expects [${want.map((d) => (d < 0 ? '?' : d)).join(', ')}]`,
      );
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n)
      throw new RangeError(`run: inputs['${k}'] has ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
    if (spec.dtype === 'int8') {
      if (
        Array.isArray((v as { data?: unknown }).data) &&
        !(data as Int8Array).every((q, i) => q === (v as { data: number[] }).data[i])
      ) {
        throw new RangeError(`run: inputs['${k}'].data has values outside the int8 range [-128, 127]`);
      }
      if (data instanceof Float32Array) data = quantize(data, 'int8', spec.quantization!);
      m.set(k, { data, shape, dtype: 'int8', quantization: spec.quantization });
      continue;
    }
    if (spec.dtype === 'uint8') {
      let u: Uint8Array;
      if (data instanceof Float32Array) u = quantize(data, 'uint8', spec.quantization!);
      else if (data instanceof Uint8Array && !Array.isArray((v as { data?: unknown }).data)) u = data;
      else {
        const src = Array.isArray((v as { data?: unknown }).data) ? (v as { data: number[] }).data : Array.from(data);
        if (!src.every((x) => Number.isInteger(x) && x >= 0 && x <= 255))
          throw new RangeError(`run: inputs['${k}'] has values outside the uint8 range [0, 255]`);
        u = Uint8Array.from(src);
      }
      // The graph runs int8: the same codes shifted, with the graph's own parameters.
      m.set(k, { data: uint8ToInt8(u), shape, dtype: 'int8', quantization: int8Inputs.get(k) });
      continue;
    }
    m.set(k, { data, shape, dtype: spec.dtype });
  }
  for (const n of names) if (!m.has(n)) throw new RangeError(`run: input '${n}' was not given`);
  return m;
}

/**
 * The run's outputs by name from the computed `values`: int8 outputs as uint8 when
 * `uint8Outputs`, tf.Tensors when `tensors`, signature keys added (not enumerable).
 */
export function collectOutputs(
  values: Map<string, HostTensor>,
  outputs: readonly TensorSpec[],
  names: Names,
  uint8Outputs: boolean,
  tensors: boolean,
): Record<string, HostTensor> | Record<string, tf.Tensor> {
  const out: Record<string, HostTensor> = {};
  for (const o of outputs) {
    const v = values.get(o.name);
    if (!v) throw new Error(`internal: output '${o.name}' was not computed`);
    out[o.name] =
      uint8Outputs && v.dtype === 'int8'
        ? {
            data: int8ToUint8(v.data as Int8Array),
            shape: v.shape,
            dtype: 'uint8',
            quantization: uint8Params(v.quantization!),
          }
        : v;
  }
  const result: Record<string, HostTensor> | Record<string, tf.Tensor> = !tensors
    ? out
    : // tfjs has no int8 / uint8 dtype: such outputs come back as int32 tensors of the same values.
      Object.fromEntries(
        Object.entries(out).map(([k, v]) => [
          k,
          v.dtype === 'int8' || v.dtype === 'uint8'
            ? tf.tensor(Int32Array.from(v.data), v.shape, 'int32')
            : toFloatTensor(v),
        ]),
      );
  for (const { key, tensor } of names.outputs) {
    if (key !== tensor && !(key in result))
      Object.defineProperty(result, key, { value: result[tensor], enumerable: false });
  }
  return result;
}
