// Shape and dtype inference over the IR.
//
// inferShapes: the graph's declared view (unknown dimensions stay -1, unknown ranks null).
//
// inferPlanShapes: what the runtime plans with: every tensor's concrete shape for concrete
// input shapes, the free batch dimension kept symbolic. The graph is walked once per batch
// value (two values when an input has a free batch: 2 and 3); a dimension that is k·2 in the
// first walk and k·3 in the second is k times the batch (written −k), one equal in both is
// fixed, anything else is unknown. This follows the batch through Reshape, ExpandDims,
// Squeeze, Shape arithmetic and the like without a rule per op. Small int tensors (shape
// computations: Shape → StridedSlice → Pack → Reshape) are evaluated on the way, so their
// values are known where the graph computes a shape.
import { tf } from '../backend/float.js';
import { asModelError } from './errors.js';
import { constInts, type Graph, type Node, type TensorInfo } from './ir.js';
import { isControlFlowOp } from './control-flow.js';
import { inferOpaque } from './infer-opaque.js';
import { executeOpaque } from './opaque.js';
import { broadcast } from './op-spec.js';
import { OPS } from './ops.js';
import type { DType } from '../io/weights.js';
import { COMPARISON_OPS } from './comparisons.js';

/** Fills g.tensors for every input, constant and node output (nodes must be in topological order). */
export function inferShapes(g: Graph): void {
  const t = new Map<string, TensorInfo>();
  for (const i of g.inputs) t.set(i.name, { dtype: i.dtype, shape: i.shape ? [...i.shape] : null });
  for (const c of g.constants.values()) t.set(c.name, { dtype: c.dtype, shape: [...c.shape] });
  for (const n of g.nodes) {
    const ins = n.inputs.map((x) => t.get(x) ?? { dtype: 'float32' as DType, shape: null });
    let outs: TensorInfo[];
    const spec = OPS[n.op];
    if (!spec || n.opaque) {
      outs = inferOpaque(n, ins);
    } else {
      try {
        outs = spec.infer(n, ins, (i) => constInts(g, n.inputs[i]));
      } catch (e) {
        throw asModelError(e, { node: n.name });
      }
    }
    n.outputs.forEach((o, i) => t.set(o, outs[i] ?? { dtype: outs[0]?.dtype ?? 'float32', shape: null }));
  }
  g.tensors = t;
}

/**
 * A tensor as planned: dimensions >= 0 are fixed, a negative one is −k = k × the batch
 * (−1: the batch itself); shape null: unknown (its producer's shape depends on data, or an
 * op without a shape rule).
 */
export interface PlanTensor {
  dtype: DType;
  shape: number[] | null;
  /**
   * The values of a small int32 / float32 tensor computed from the input shapes alone (shape
   * arithmetic), when they do not depend on the batch size: the planner treats it as a constant.
   */
  value?: number[];
}

export type PlanShapes = Map<string, PlanTensor>;

/** A dimension at a concrete batch size. */
export function resolveDim(d: number, batch: number): number {
  return d < 0 ? -d * batch : d;
}

/**
 * Ops whose output shapes depend only on their input shapes and int parameter inputs (never on
 * the data): when no static rule gives a full shape, one tfjs run on zeros (parameters filled
 * with their known values) gives it. Data-dependent ops (non-max suppression, Where, Unique)
 * are not here: their outputs stay unknown and what reads them is planned in tfjs.
 */
const SHAPE_FROM_SHAPES = new Set([
  // known ops whose static rule may leave the shape open
  'StridedSlice',
  'Slice',
  'GatherV2',
  'Reshape',
  'Tile',
  'ConcatV2',
  'Pack',
  'Squeeze',
  'ExpandDims',
  'Transpose',
  'Pad',
  'PadV2',
  'MirrorPad',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
  'Conv2DBackpropInput',
  'MatMul',
  'BatchMatMulV2',
  'Mean',
  'Sum',
  'Max',
  'Min',
  'Prod',
  // opaque ops seen in published models
  'Unpack',
  'ArgMax',
  'ArgMin',
  'AddN',
  'FloorDiv',
  'FloorMod',
  ...COMPARISON_OPS,
  'LogicalAnd',
  'LogicalOr',
  'LogicalNot',
  'Atan2',
  'Cos',
  'Sin',
  'Reciprocal',
  'ZerosLike',
  'OnesLike',
  'Round',
  'Sign',
  'Ceil',
  'Erf',
  'Split',
  'SplitV',
  'GatherNd',
  'Select',
  'SelectV2',
  'TopKV2',
  'Fill',
  'Range',
  'Size',
  'Rank',
  'Cumsum',
  'OneHot',
  'Einsum',
  'BroadcastTo',
  'Relu',
  'Softmax',
  'Sigmoid',
  'Tanh',
  'Exp',
  'Log',
  'Sqrt',
  'Rsqrt',
  'Neg',
  'Abs',
  'Floor',
  'Square',
  'Cast',
  'Softsign',
  'Sinh',
  'Cosh',
  'Tan',
  'Asin',
  'Acos',
  'Atan',
  'Asinh',
  'Acosh',
  'Atanh',
  'IsNan',
  'IsInf',
  'IsFinite',
  'Expm1',
  'Log1p',
  'Rint',
  'Mod',
  'Div',
  'DivNoNan',
  'TruncateDiv',
  'Pow',
  'Reverse',
  'ReverseV2',
  'Cumprod',
  'LRN',
  'SpaceToBatchND',
  'BatchToSpaceND',
  'SpaceToDepth',
  'CropAndResize',
  'ScatterNd',
  'SparseToDense',
  'Squeeze',
  'Max',
  'All',
  'Any',
  'LogSoftmax',
  'Selu',
  'Elu',
  'Relu6',
  'LeakyRelu',
  'Softplus',
  'FusedBatchNorm',
  'FusedBatchNormV2',
  'MatrixBandPart',
  'Conv3D',
  'MaxPool3D',
  'AvgPool3D',
]);

/**
 * Inputs that are parameters of the output shape (axes, sizes, slice bounds, k): a zeros run
 * needs their true values. Other inputs (data, gather indices) may be zeros.
 */
const SHAPE_PARAMETERS: Record<string, (n: Node) => number[]> = {
  StridedSlice: () => [1, 2, 3],
  Slice: () => [1, 2],
  Reshape: () => [1],
  Tile: () => [1],
  Pad: () => [1],
  PadV2: () => [1],
  MirrorPad: () => [1],
  Transpose: () => [1],
  ConcatV2: (n) => [n.inputs.length - 1],
  ExpandDims: () => [1],
  ResizeBilinear: () => [1],
  ResizeNearestNeighbor: () => [1],
  Mean: () => [1],
  Sum: () => [1],
  Max: () => [1],
  Min: () => [1],
  Prod: () => [1],
  ArgMax: () => [1],
  ArgMin: () => [1],
  Split: () => [0],
  SplitV: () => [1, 2],
  TopKV2: () => [1],
  Fill: () => [0],
  Range: () => [0, 1, 2],
  OneHot: () => [1],
  BroadcastTo: () => [1],
  Conv2DBackpropInput: () => [0],
  GatherV2: () => [2],
  Cumsum: () => [1],
  SpaceToBatchND: () => [1, 2],
  BatchToSpaceND: () => [1, 2],
  CropAndResize: () => [3],
  ScatterNd: () => [2],
  SparseToDense: () => [1],
  All: () => [1],
  Any: () => [1],
};

/** Values of small tensors are kept (shape arithmetic); larger ones only by shape. */
const MAX_VALUE_ELEMENTS = 64;
/** Above this many input elements no zeros run is made for a shape (the shape stays unknown). */
const MAX_PROBE_ELEMENTS = 1 << 22;

interface Known {
  dtype: DType;
  shape: number[] | null;
  value?: number[];
}

const concrete = (s: number[] | null | undefined): s is number[] =>
  !!s && s.every((d) => Number.isInteger(d) && d >= 0);
const count = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** One node run in tfjs on the given inputs (the op table's kernel, or stock tfjs for an opaque op). */
export function runNode(n: Node, xs: tf.Tensor[]): tf.Tensor[] {
  const spec = OPS[n.op];
  return spec && !n.opaque ? spec.execute(n, xs) : executeOpaque(n, xs);
}

/** One walk of the graph with concrete input shapes. */
/** `known`: shapes seen in a run for tensors no rule gives (control-flow region outputs), used where inference has none. */
function walk(
  g: Graph,
  inputShapes: ReadonlyMap<string, number[] | null>,
  known?: ReadonlyMap<string, readonly number[]>,
): Map<string, Known> {
  const t = new Map<string, Known>();
  for (const i of g.inputs) t.set(i.name, { dtype: i.dtype, shape: inputShapes.get(i.name) ?? null });
  for (const c of g.constants.values()) {
    const small =
      c.shape.reduce((a, b) => a * b, 1) <= MAX_VALUE_ELEMENTS && (c.dtype === 'int32' || c.dtype === 'float32');
    t.set(c.name, {
      dtype: c.dtype,
      shape: [...c.shape],
      value: small ? Array.from(c.data as Int32Array | Float32Array) : undefined,
    });
  }
  // An output no rule gives a shape to takes the one a run showed (`known`: the outputs of
  // control-flow regions learned by the session), whatever the op.
  const settle = (o: string, k: Known): void => {
    t.set(o, !k.shape && known?.has(o) ? { dtype: k.dtype, shape: [...known.get(o)!] } : k);
  };
  for (const n of g.nodes) {
    const ins = n.inputs.map((x) => t.get(x) ?? { dtype: 'float32' as DType, shape: null });
    let outs: Known[] | undefined;
    const spec = OPS[n.op];
    if (spec && !n.opaque) {
      try {
        outs = spec.infer(n, ins, (i) => ins[i]?.value);
      } catch (e) {
        throw asModelError(e, { node: n.name });
      }
    }
    // Control-flow ops are never run alone (a zeros run of a Switch or a loop means nothing):
    // their dtypes and pass-through shapes come from the loader's rules.
    if (isControlFlowOp(n.op)) {
      const cf = inferOpaque(n, ins).map((o) => ({ dtype: o.dtype, shape: concrete(o.shape) ? o.shape : null }));
      n.outputs.forEach((o, i) => settle(o, cf[i] ?? { dtype: cf[0]?.dtype ?? 'float32', shape: null }));
      continue;
    }
    if (n.op === 'Shape' && concrete(ins[0]?.shape))
      outs = [{ dtype: 'int32', shape: [ins[0]!.shape.length], value: [...ins[0]!.shape] }];
    if (!outs?.every((o) => concrete(o.shape))) outs = staticRule(n, ins) ?? outs;
    const complete = outs && outs.length >= n.outputs.length && outs.every((o) => concrete(o.shape));
    const allValues = ins.every((x) => x.value !== undefined);
    if (
      (!complete || allValues) &&
      !outs?.[0]?.value &&
      ins.every((x) => concrete(x.shape)) &&
      (allValues || SHAPE_FROM_SHAPES.has(n.op))
    ) {
      outs = evaluate(n, ins) ?? (complete ? outs : undefined);
    }
    const fallback = (i: number): Known => ({ dtype: inferOpaque(n, ins)[i]?.dtype ?? 'float32', shape: null });
    n.outputs.forEach((o, i) => {
      const k = outs?.[i];
      settle(o, k ? { dtype: k.dtype, shape: concrete(k.shape) ? k.shape : null, value: k.value } : fallback(i));
    });
  }
  return t;
}

/** Element-wise binary ops kept opaque, and what they give: the inputs' dtype, or bool. */
const BINARY_OPAQUE: Record<string, 'same' | 'bool'> = {
  FloorDiv: 'same',
  FloorMod: 'same',
  Equal: 'bool',
  NotEqual: 'bool',
  Less: 'bool',
  LessEqual: 'bool',
  Greater: 'bool',
  GreaterEqual: 'bool',
  LogicalAnd: 'bool',
  LogicalOr: 'bool',
};

/**
 * Shape rules the op table lacks, for ops whose input may be too large for a zeros run:
 * StridedSlice (tfjs' own slice arithmetic), element-wise binary ops kept opaque (the
 * broadcast shape) and GatherV2 (batch_dims 0).
 */
function staticRule(n: Node, ins: Known[]): Known[] | undefined {
  const x = ins[0];
  if (!x || !concrete(x.shape)) return undefined;
  if (n.op === 'StridedSlice') {
    const [b, e, st] = [ins[1]?.value, ins[2]?.value, ins[3]?.value];
    if (!b || !e || !st) return undefined;
    const m = (k: string): number => (typeof n.attrs[k] === 'number' ? (n.attrs[k] as number) : 0);
    try {
      const info = tf.slice_util.sliceInfo(
        x.shape,
        b,
        e,
        st,
        m('begin_mask'),
        m('end_mask'),
        m('ellipsis_mask'),
        m('new_axis_mask'),
        m('shrink_axis_mask'),
      );
      return [{ dtype: x.dtype, shape: [...info.finalShape] }];
    } catch {
      // Bounds tfjs refuses: the shape stays unknown, the node runs in tfjs and reports it.
      return undefined;
    }
  }
  // Element-wise binary ops the IR keeps opaque: the broadcast shape (a zeros run of FloorMod
  // divides by zero, which tfjs-wasm traps on).
  const kind = BINARY_OPAQUE[n.op];
  if (kind && concrete(ins[1]?.shape)) {
    const shape = broadcast(x.shape, ins[1]!.shape!);
    return shape ? [{ dtype: kind === 'bool' ? 'bool' : x.dtype, shape }] : undefined;
  }
  if (n.op === 'GatherV2' && concrete(ins[1]?.shape) && ins[2]?.value?.length === 1 && !n.attrs.batch_dims) {
    const axis = ins[2].value[0]! < 0 ? ins[2].value[0]! + x.shape.length : ins[2].value[0]!;
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ins[1]!.shape!, ...x.shape.slice(axis + 1)] }];
  }
  return undefined;
}

/**
 * Runs a node on its known values (all inputs known) or on zeros of its input shapes with the
 * known parameter values (a shape-only op): output shapes, and values when small. Undefined
 * when it cannot run (the node's shapes then stay unknown: it is planned in tfjs).
 */
function evaluate(n: Node, ins: Known[]): Known[] | undefined {
  // Random ops give a new value per run: never a known value.
  if (/Random|Multinomial|Shuffle/.test(n.op)) return undefined;
  const allValues = ins.every((x) => x.value !== undefined);
  if (!allValues) {
    // A shape parameter must be known: zeros would give a wrong shape (slice bounds, k of TopK).
    if ((SHAPE_PARAMETERS[n.op]?.(n) ?? []).some((i) => ins[i]?.value === undefined)) return undefined;
    if (ins.reduce((a, x) => a + count(x.shape!), 0) > MAX_PROBE_ELEMENTS) return undefined;
  }
  if (ins.some((x) => x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool')) return undefined;
  const feeds = ins.map((x) =>
    x.value !== undefined
      ? tf.tensor(x.value, x.shape!, x.dtype as 'float32')
      : tf.zeros(x.shape!, x.dtype as 'float32'),
  );
  let res: tf.Tensor[] = [];
  try {
    res = runNode(n, feeds);
    return res.map((r) => ({
      dtype: r.dtype as DType,
      shape: [...r.shape],
      value:
        allValues && r.size <= MAX_VALUE_ELEMENTS && (r.dtype === 'int32' || r.dtype === 'float32')
          ? Array.from(r.dataSync())
          : undefined,
    }));
  } catch {
    // The op rejects these shapes or values in tfjs: its shape is unknown here and the node
    // runs in tfjs, where the same error reaches the user at run time.
    return undefined;
  } finally {
    tf.dispose(feeds);
    tf.dispose(res);
  }
}

/**
 * Shapes for planning. inputShapes: per graph input its shape with −1 only for a free batch
 * dimension (dimension 0); every other dimension must be concrete (a missing or partly
 * unknown input leaves what depends on it unknown).
 */
export function inferPlanShapes(
  g: Graph,
  inputShapes: ReadonlyMap<string, readonly number[] | null>,
  known?: ReadonlyMap<string, readonly number[]>,
): PlanShapes {
  const batched = [...inputShapes.values()].some((s) => !!s && s[0] === -1);
  const at = (b: number): Map<string, number[] | null> =>
    new Map(
      [...inputShapes].map(([k, s]) => [
        k,
        s && s.every((d, i) => d >= 0 || (i === 0 && d === -1)) ? s.map((d) => (d < 0 ? b : d)) : null,
      ]),
    );
  const out: PlanShapes = new Map();
  if (!batched) {
    for (const [k, v] of walk(g, at(1), known)) out.set(k, { dtype: v.dtype, shape: v.shape, value: v.value });
    return out;
  }
  const two = walk(g, at(2), known),
    three = walk(g, at(3), known);
  for (const [k, a] of two) {
    const b = three.get(k);
    let shape: number[] | null = null;
    if (a.shape && b?.shape && a.shape.length === b.shape.length) {
      shape = a.shape.map((d, i) => {
        const e = b.shape![i]!;
        if (d === e) return d;
        const per = e - d;
        return per > 0 && d === 2 * per ? -per : NaN;
      });
      if (shape.some((d) => Number.isNaN(d))) shape = null;
    }
    const same =
      a.value !== undefined &&
      b?.value !== undefined &&
      a.value.length === b.value.length &&
      a.value.every((v, i) => v === b.value![i]);
    out.set(k, { dtype: a.dtype, shape, value: same ? a.value : undefined });
  }
  return out;
}
