// Shared pieces of lowering Keras layers into the graph IR: the lowering state, emitting
// nodes and constants, reading weights, and Keras activation functions as the TF ops
// tfjs-layers runs for them. Used by load-layers.ts and by the per-family lowerings.
import { ModelFormatError } from './errors.js';
import { addConstant, uniqueName, type Attrs, type Graph, type Node } from './ir.js';
import type { DecodedWeight } from '../io/weights.js';

export type Json = Record<string, unknown>;

export interface LayersLoadContext {
  file: string;
  weights: Map<string, DecodedWeight>;
}

export interface Lowering {
  g: Graph;
  ctx: LayersLoadContext;
  /** Keras weight name → constant name (shared across applications). */
  weightConst: Map<string, string>;
  /** Small constants (scalars, slice bounds) reused by every node that needs the same value. */
  shared: Map<string, string>;
  /** Tensors [batch, time, …] carrying a Keras time-step mask (Embedding mask_zero), by tensor name. */
  masks: Map<string, TimeMask>;
}

/**
 * A Keras mask over time steps: step t of sample b counts when ids[b, t] ≠ 0. Recurrent
 * layers reading it keep their previous state on masked steps.
 */
export interface TimeMask {
  /** The Embedding layer that made it. */
  layer: string;
  /** Its token ids [batch, time] (int32). */
  ids: string;
  /** 1 where the step counts, 0 where masked, float32 [batch, time]; emitted on first use. */
  keep?: string;
}

export function err(reason: string, file: string, node?: string): never {
  throw new ModelFormatError(reason, { file, node });
}

export function obj(v: unknown, what: string, file: string, node?: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) err(`${what} must be an object`, file, node);
  return v as Json;
}

export function weight(L: Lowering, layer: string, w: string, opt = false): string | undefined {
  const key = `${layer}/${w}`;
  const have = L.weightConst.get(key);
  if (have) return have;
  const d = L.ctx.weights.get(key);
  if (!d) {
    if (opt) return undefined;
    err(`weight '${key}' is missing from the weights manifest`, L.ctx.file, layer);
  }
  const name = uniqueName(L.g, key);
  L.g.constants.set(name, {
    name,
    dtype: d.dtype,
    shape: [...d.shape],
    data: d.data,
    ...(d.quantization ? { quantization: { tfjs: { ...d.quantization } } } : {}),
  });
  L.g.tensors.set(name, { dtype: d.dtype, shape: [...d.shape] });
  L.weightConst.set(key, name);
  return name;
}

export function node(L: Lowering, base: string, op: string, inputs: string[], attrs: Attrs = {}): string {
  const name = uniqueName(L.g, base);
  const n: Node = { name, op, inputs, outputs: [name], attrs };
  L.g.nodes.push(n);
  return name;
}

export function intConst(L: Lowering, base: string, values: number[], shape: number[] = [values.length]): string {
  return addConstant(L.g, base, 'int32', shape, Int32Array.from(values));
}

export function scalarConst(L: Lowering, base: string, v: number): string {
  return addConstant(L.g, base, 'float32', [], Float32Array.of(v));
}

/** A float32 scalar or int32 vector constant shared by all its users (unrolled loops need thousands). */
export function sharedConst(
  L: Lowering,
  base: string,
  dtype: 'float32' | 'int32',
  values: number[],
  shape: number[] = dtype === 'float32' ? [] : [values.length],
): string {
  const key = `${dtype}:${shape.join('x')}:${values.join(',')}`;
  const have = L.shared.get(key);
  if (have) return have;
  const name = addConstant(
    L.g,
    base,
    dtype,
    shape,
    dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values),
  );
  L.shared.set(key, name);
  return name;
}

/**
 * The Keras activation named by config key `key` (a name or a serialized {class_name}),
 * `def` when absent.
 */
export function activationName(c: Json, file: string, layer: string, key = 'activation', def = 'linear'): string {
  const a = c[key];
  if (a === undefined || a === null) return def;
  if (typeof a === 'string') return a;
  if (typeof a === 'object' && typeof (a as Json).class_name === 'string')
    return String((a as Json).class_name).toLowerCase();
  err(`${key} ${JSON.stringify(a)} is not supported`, file, layer);
}

/** Emits the ops of a Keras activation function applied to x. */
export function activation(L: Lowering, act: string, x: string, base: string): string {
  const file = L.ctx.file;
  switch (act) {
    case 'linear':
      return x;
    case 'relu':
      return node(L, `${base}/Relu`, 'Relu', [x]);
    case 'relu6': {
      const r = node(L, `${base}/Relu`, 'Relu', [x]);
      return node(L, `${base}/Minimum`, 'Minimum', [scalarConst(L, `${base}/six`, 6), r]);
    }
    case 'elu':
      return node(L, `${base}/Elu`, 'Elu', [x]);
    case 'selu':
      return node(L, `${base}/Selu`, 'Selu', [x]);
    case 'sigmoid':
      return node(L, `${base}/Sigmoid`, 'Sigmoid', [x]);
    case 'hard_sigmoid':
    case 'hardSigmoid':
    case 'hardsigmoid': {
      // tfjs-layers' hardSigmoid: clip(0.5 + 0.2·x, 0, 1), in that order. The clip is written
      // min(relu(·), 1), the same values, because Relu and Minimum have int8 kernels and
      // ClipByValue has none.
      const y = node(L, `${base}/hs_mul`, 'Mul', [sharedConst(L, 'hard_sigmoid/slope', 'float32', [0.2]), x]);
      const z = node(L, `${base}/hs_add`, 'AddV2', [sharedConst(L, 'hard_sigmoid/offset', 'float32', [0.5]), y]);
      return node(L, `${base}/hs_min`, 'Minimum', [
        node(L, `${base}/hs_relu`, 'Relu', [z]),
        sharedConst(L, 'one', 'float32', [1]),
      ]);
    }
    case 'tanh':
      return node(L, `${base}/Tanh`, 'Tanh', [x]);
    case 'softplus':
      return node(L, `${base}/Softplus`, 'Softplus', [x]);
    case 'softmax':
      return node(L, `${base}/Softmax`, 'Softmax', [x]);
    case 'swish': {
      const s = node(L, `${base}/Sigmoid`, 'Sigmoid', [
        node(L, `${base}/mul_alpha`, 'Mul', [x, scalarConst(L, `${base}/one`, 1)]),
      ]);
      return node(L, `${base}/Mul`, 'Mul', [s, x]);
    }
    default:
      err(`activation '${act}' cannot be lowered`, file, base);
  }
}

export function shapeOf(L: Lowering, t: string): number[] | null {
  return L.g.tensors.get(t)?.shape ?? null;
}
