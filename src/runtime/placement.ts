// Placement: for each node, native (int8 / dynamic / float kernels) or tfjs, and why.
//
// Decided from facts known before any native call: the op, its dtypes, the planned shapes
// (src/model/shape-inference.ts inferPlanShapes, concrete but for the symbolic batch) and
// the structural rules of the native steps (the same rules native/runtime/steps/*.cc check:
// NHWC rank-4 images whose leading dimension flows through, constant weights and parameters,
// one float32 dtype). A plan built from these placements that the native side rejects is a
// bug of this file or of the emitters, never a reason to re-plan.
import { controlFlowRegions } from '../model/control-flow.js';
import type { Graph, Node } from '../model/ir.js';
import { attrBool, attrNum, attrStr } from '../model/node-attrs.js';
import type { PlanShapes } from '../model/shape-inference.js';
import { int4WeightOf, type NodeExecution } from '../quant/params.js';
import { PIECE_OPS, pieceAxis, pieceSizes, piecesSource } from './pieces.js';
import { ACT, BINARY, COPY_OPS, INT32_BINARY, INT32_MOVE, REDUCE, UNARY_ACT, UNARY_MATH } from './step-codes.js';

/**
 * folded: a shape computation (Shape → StridedSlice → Pack, ...) whose value the planner
 * knows for the planned input shapes: it runs nowhere, its consumers read it as a constant;
 * or one only native nodes read, as a parameter the plan's shapes already give (a Reshape's
 * target shape over a free batch): it runs nowhere either.
 */
export type Placement = 'native-int8' | 'native-dynamic' | 'native-dynamic-int4' | 'native-float' | 'tfjs' | 'folded';

/**
 * Why a node runs in tfjs: op-unknown (no native kernel, or an op the IR does not know),
 * control-flow (a control-flow op or a node of a conditional / loop region), dtype (a tensor
 * other than float32), shape-unknown (a shape that depends on data or on an op without a shape
 * rule), layout (a shape the native kernels do not take: the batch not leading, NCHW, ...),
 * parameters (weights or parameters that are not constants, or of a form the kernels lack).
 */
export type ReasonKind = 'op-unknown' | 'control-flow' | 'dtype' | 'shape-unknown' | 'layout' | 'parameters';

export interface PlannedNode {
  node: string;
  op: string;
  placement: Placement;
  /** Why a node runs in tfjs (human-readable). */
  reason?: string;
  /** The class of the reason, for summaries. */
  reasonKind?: ReasonKind;
  /**
   * Set when the node runs inside another node's steps, placed as that one: the Pad,
   * SpaceToBatchND and BatchToSpaceND around a convolution planned as one dilated convolution
   * (src/runtime/atrous.ts); a ReLU / ReLU6 clamped by the float Add / Sub / Mul before it
   * (src/runtime/binary-act.ts).
   */
  fusedInto?: string;
  /** Set when the node's MatMul / 1×1 conv runs the sparse kernel (structure, sparsity, row limit). */
  sparse?: string;
}

/** TF1 and TF2 control flow, TensorArray / TensorList ops: these (and the regions they delimit) run in tfjs. */
export const CONTROL_FLOW_OPS = new Set([
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'LoopCond',
  'RefEnter',
  'RefExit',
  'RefMerge',
  'RefSwitch',
  'If',
  'StatelessIf',
  'While',
  'StatelessWhile',
  'PartitionedCall',
  'StatefulPartitionedCall',
  'TensorArrayV3',
  'TensorArrayReadV3',
  'TensorArrayWriteV3',
  'TensorArrayGatherV3',
  'TensorArrayScatterV3',
  'TensorArrayConcatV3',
  'TensorArraySplitV3',
  'TensorArraySizeV3',
  'TensorArrayCloseV3',
  'TensorListReserve',
  'TensorListFromTensor',
  'TensorListGetItem',
  'TensorListSetItem',
  'TensorListStack',
  'TensorListLength',
  'TensorListPushBack',
  'TensorListPopBack',
  'TensorListConcatV2',
  'TensorListSplit',
  'TensorListGather',
  'TensorListScatterV2',
  'TensorListScatterIntoExistingList',
  'TensorListElementShape',
  'TensorListResize',
]);

/**
 * Nodes of control-flow regions (src/model/control-flow.ts: TF1 conditionals and loops with the
 * TensorArray / TensorList nodes that feed them, TF2 functional If / While): their values
 * exist only in some frames or iterations, so they run where the control flow runs, whole, in
 * tfjs-converter. The same definition the executor uses: a segment can never hold part of one.
 */
export function controlFlowRegion(g: Graph): Set<string> {
  const op = new Map(g.nodes.map((n) => [n.name, n.op]));
  // A region of one op that is not control flow (Where, non-max suppression: tfjs runs them
  // only asynchronously) is an op without a native kernel, placed as one.
  const isFlow = (r: { nodes: string[] }) =>
    r.nodes.length > 1 || r.nodes.some((n) => CONTROL_FLOW_OPS.has(op.get(n)!));
  return new Set(
    controlFlowRegions(g)
      .filter(isFlow)
      .flatMap((r) => r.nodes),
  );
}

export interface PlacementContext {
  g: Graph;
  shapes: PlanShapes;
  /** Nodes in control-flow regions. */
  region: Set<string>;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * How a planned shape is stored natively: the shape itself when it is fixed or has the batch
 * leading ([-1, ...]); a shape whose batch-dependent dimension (k × batch) follows only 1s
 * has the same bytes as [-1, (k,) ...rest] (what copy steps need); otherwise none.
 */
export function nativeLayout(shape: readonly number[] | null | undefined): number[] | undefined {
  if (!shape) return undefined;
  const at = shape.findIndex((d) => d < 0);
  if (at < 0) return [...shape];
  if (shape.some((d, i) => d < 0 && i !== at) || shape.slice(0, at).some((d) => d !== 1)) return undefined;
  const k = -shape[at]!;
  return [-1, ...(k > 1 ? [k] : []), ...shape.slice(at + 1)];
}

/** The layout image and matrix kernels take: fixed, or the batch itself leading. */
export function isCanonical(shape: readonly number[]): boolean {
  return shape.every((d, i) => d >= 0 || (i === 0 && d === -1));
}

function isConst(g: Graph, t: string | undefined): boolean {
  return t !== undefined && g.constants.has(t);
}

export function floatConst(g: Graph, t: string | undefined): Float32Array | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'float32' ? (c.data as Float32Array) : undefined;
}

/** Inputs of a node that carry activations (non-constant data inputs). */
export function dataInputs(g: Graph, n: Node): string[] {
  switch (n.op) {
    case 'Conv2D':
    case 'DepthwiseConv2dNative':
    case 'MatMul':
    case 'Prelu':
    case 'Reshape':
    case 'ExpandDims':
    case 'Transpose':
    case 'Pad':
    case 'PadV2':
    case 'Mean':
    case 'ResizeBilinear':
    case 'ResizeNearestNeighbor':
    case 'Max':
    case 'FusedBatchNormV3':
    case 'StridedSlice':
    case 'Slice':
    case 'DepthToSpace':
    case 'ClipByValue':
      return [n.inputs[0]!];
    case 'Conv2DBackpropInput':
      return [n.inputs[2]!];
    case 'ConcatV2':
      return n.inputs.slice(0, -1);
    default:
      return n.inputs.filter((t) => !g.constants.has(t));
  }
}

const INT8_NATIVE = new Set([
  'Conv2D',
  'MatMul',
  'DepthwiseConv2dNative',
  'AvgPool',
  'MaxPool',
  'Mean',
  'AddV2',
  'Sub',
  'Mul',
  'Maximum',
  'Minimum',
  'Relu',
  'Relu6',
  'LeakyRelu',
  'Elu',
  'Sigmoid',
  'Tanh',
  'Prelu',
  'Softmax',
  'ConcatV2',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
  'Pad',
  'PadV2',
  'Transpose',
  ...COPY_OPS,
  'StridedSlice',
  'Slice',
  'DepthToSpace',
  'Conv2DBackpropInput',
]);
const FLOAT_NATIVE = new Set([
  'Conv2D',
  'MatMul',
  'DepthwiseConv2dNative',
  'AvgPool',
  'MaxPool',
  'Mean',
  ...Object.keys(BINARY),
  ...Object.keys(UNARY_ACT),
  'Prelu',
  'Softmax',
  'ConcatV2',
  'ResizeBilinear',
  'ResizeNearestNeighbor',
  'Pad',
  'PadV2',
  'Transpose',
  ...COPY_OPS,
  'Max',
  'FusedBatchNormV3',
  'StridedSlice',
  'Slice',
  'DepthToSpace',
  'Conv2DBackpropInput',
  'BatchMatMulV2',
  'ClipByValue',
  'AddN',
  ...PIECE_OPS,
  'Neg',
  'BroadcastTo',
  'TopKV2',
  'Cast',
  'ArgMax',
  'GatherNd',
  'GatherV2',
  ...Object.keys(UNARY_MATH),
  ...Object.keys(REDUCE),
]);
/** Ops the IR keeps opaque (tfjs runs them in float references) that the runtime still runs natively. */
const OPAQUE_NATIVE = new Set([
  'AddN',
  'Split',
  'SplitV',
  'Unpack',
  'BroadcastTo',
  'Equal',
  'TopKV2',
  'ArgMax',
  'GatherNd',
  'FloorDiv',
  'FloorMod',
  'Erf',
]);
const ELEMENTWISE_BINARY = new Set([
  'AddV2',
  'Sub',
  'Mul',
  'Maximum',
  'Minimum',
  'RealDiv',
  'SquaredDifference',
  'BiasAdd',
  'Equal',
]);
/** Largest GEMM depth the packed kernels take (gemm::kMaxK). */
export const MAX_GEMM_K = 65536;

type Obstacle = [ReasonKind, string] | undefined;

/** Why a node cannot run natively (undefined when it can). */
function nativeObstacle(ctx: PlacementContext, n: Node, exec: NodeExecution): Obstacle {
  const { g, shapes } = ctx;
  if (CONTROL_FLOW_OPS.has(n.op)) return ['control-flow', `control-flow op ${n.op}`];
  if (ctx.region.has(n.name)) return ['control-flow', 'inside a conditional or loop region'];
  if (n.opaque && !OPAQUE_NATIVE.has(n.op)) return ['op-unknown', `op ${n.op} has no native kernel (run by tfjs)`];
  if (!FLOAT_NATIVE.has(n.op)) return ['op-unknown', `no native kernel for ${n.op}`];
  if (n.op === 'TopKV2') return topKObstacle(ctx, n);
  if (n.outputs.length !== 1 && !PIECE_OPS.has(n.op)) return ['op-unknown', 'more than one output'];
  const ins = dataInputs(g, n);
  if (ins.length === 0) return ['parameters', 'no activation input (a constant expression)'];
  const dtypeWhy = dtypeObstacle(ctx, n, ins);
  if (dtypeWhy) return dtypeWhy;
  const tensors = [...ins, ...n.outputs];
  for (const t of tensors)
    if (!shapes.get(t)?.shape) return ['shape-unknown', `the shape of '${t}' is not known before the run`];
  const logical = tensors.map((t) => shapes.get(t)!.shape!);
  const op = n.op;
  if (PIECE_OPS.has(op)) return piecesObstacle(ctx, n, logical);
  if (COPY_OPS.has(op)) {
    const [x, y] = logical as [number[], number[]];
    if (!nativeLayout(x) || !nativeLayout(y)) return ['layout', 'the batch dimension is not leading'];
    const fixed = (s: number[]): number => prod(s.filter((d) => d >= 0));
    const per = (s: number[]): number => -(s.find((d) => d < 0) ?? 0);
    if (fixed(x) * Math.max(per(x), 1) !== fixed(y) * Math.max(per(y), 1) || per(x) > 0 !== per(y) > 0)
      return ['layout', 'reshape across the batch dimension'];
    return undefined;
  }
  // Row-wise ops (a product over the last dimension, or elementwise) also take a batch folded
  // into a leading dimension ([16·batch, C] is stored as [-1, 16, C]); the others want it first.
  const rowWise =
    op === 'MatMul' ||
    op === 'Softmax' ||
    op === 'ClipByValue' ||
    op === 'Cast' ||
    UNARY_ACT[op] !== undefined ||
    UNARY_MATH[op] !== undefined;
  const fits = (s: number[]): boolean =>
    isCanonical(s) || (rowWise && !!nativeLayout(s) && s.findIndex((d) => d < 0) < s.length - 1);
  if (logical.some((s) => !fits(s))) return ['layout', 'the batch dimension is not leading'];
  const batched = logical.map((s) => s.some((d) => d < 0));
  if (!ELEMENTWISE_BINARY.has(op) && batched.some((b) => b !== batched[0]))
    return ['layout', 'the batch dimension does not flow through'];
  const act = (n.attrs.activation as string | undefined) ?? 'none';
  if (act !== 'prelu' && ACT[act] === undefined) return ['op-unknown', `fused activation '${act}'`];
  if (act === 'prelu' && floatConst(g, n.inputs[3])?.length !== logical[logical.length - 1]!.at(-1))
    return ['parameters', 'prelu alpha is not a constant per channel'];
  const xs = logical[0]!;
  const ys = logical[logical.length - 1]!;
  const nhwc = (): Obstacle =>
    String(n.attrs.data_format ?? 'NHWC').toUpperCase() === 'NHWC' ? undefined : ['layout', 'NCHW'];
  const bias = (i: number, channels: number): Obstacle => {
    if (n.inputs[i] === undefined) return undefined;
    const b = floatConst(g, n.inputs[i]);
    // A single bias value is broadcast to every channel by the emitters, as tfjs does.
    return b && (b.length === channels || b.length === 1)
      ? undefined
      : ['parameters', 'bias is not a float32 constant per output channel'];
  };
  switch (op) {
    case 'Conv2D':
    case 'DepthwiseConv2dNative': {
      const why = nhwc();
      if (why) return why;
      const w = g.constants.get(n.inputs[1]!);
      if (xs.length !== 4 || ys.length !== 4) return ['layout', 'convolution input and output must be NHWC (rank 4)'];
      if (!w || w.shape.length !== 4) return ['parameters', 'filter is not a constant'];
      if (op === 'Conv2D' && w.shape[0]! * w.shape[1]! * xs[3]! > MAX_GEMM_K)
        return ['parameters', `GEMM depth ${w.shape[0]! * w.shape[1]! * xs[3]!} above ${MAX_GEMM_K}`];
      return bias(2, ys[3]!);
    }
    case 'Conv2DBackpropInput': {
      const why = nhwc();
      if (why) return why;
      if (!isConst(g, n.inputs[0]) || !isConst(g, n.inputs[1]) || xs.length !== 4 || ys.length !== 4)
        return ['parameters', 'output shape and filter must be constants'];
      if (act !== 'none') return ['op-unknown', 'fused activation on a transposed convolution'];
      return bias(3, ys[3]!);
    }
    case 'ClipByValue':
      return floatConst(g, n.inputs[1])?.length === 1 && floatConst(g, n.inputs[2])?.length === 1
        ? undefined
        : ['parameters', 'clip bounds are not scalar constants'];
    case 'BatchMatMulV2': {
      const bs = isConst(g, n.inputs[1]) ? g.constants.get(n.inputs[1]!)!.shape : shapes.get(n.inputs[1]!)?.shape;
      if (!bs || bs.length < 2 || xs.length < 2) return ['shape-unknown', 'operands of unknown shape'];
      // Leading dimensions: equal, or one side has none/ones (a single matrix broadcast).
      const la = xs.slice(0, -2),
        lb = bs.slice(0, -2);
      const one = (l: number[]): boolean => l.every((d) => d === 1);
      return (la.length === lb.length && la.every((d, i) => d === lb[i])) || one(la) || one(lb)
        ? undefined
        : ['layout', 'BatchMatMul broadcasting other than a single matrix'];
    }
    case 'StridedSlice':
      return [1, 2, 3].every((i) => isConst(g, n.inputs[i]))
        ? undefined
        : ['parameters', 'slice parameters are not constant'];
    case 'Slice':
      return isConst(g, n.inputs[1]) && isConst(g, n.inputs[2])
        ? undefined
        : ['parameters', 'slice parameters are not constant'];
    case 'DepthToSpace':
      return xs.length === 4 && String(n.attrs.data_format ?? 'NHWC').toUpperCase() === 'NHWC'
        ? undefined
        : ['layout', 'DepthToSpace layout'];
    case 'MatMul': {
      const w = g.constants.get(n.inputs[1]!);
      if (attrBool(n, 'transpose_a') || !w || w.shape.length !== 2)
        return ['parameters', 'MatMul needs a constant B and no transpose_a'];
      const k = attrBool(n, 'transpose_b') ? w.shape[1]! : w.shape[0]!;
      if (k > MAX_GEMM_K) return ['parameters', `GEMM depth ${k} above ${MAX_GEMM_K}`];
      return bias(2, ys.at(-1)!);
    }
    case 'MaxPool':
    case 'AvgPool': {
      // EXPLICIT: a max pool planned from a PadV2 by −Infinity (src/runtime/pad-pool.ts).
      const p = attrStr(n, 'padding').toLowerCase();
      return xs.length === 4 && (p === 'same' || p === 'valid' || (p === 'explicit' && op === 'MaxPool'))
        ? undefined
        : ['layout', 'pooling needs NHWC and SAME or VALID padding'];
    }
    case 'Mean':
    case 'Max':
    case 'Min':
    case 'Sum':
    case 'Prod': {
      // Over H, W of an image a Max or Mean is a global pool; otherwise reduce_f32 over its axes
      // (a LayerNorm's Mean over the channels).
      if (globalPool(g, n, xs)) return undefined;
      const axes = reductionAxes(g, n, xs.length);
      if (!axes) return ['parameters', 'reduction axes are not constant axes of the input'];
      return axes.includes(0) && xs[0] === -1 ? ['layout', `${op} over the batch dimension`] : undefined;
    }
    case 'GatherV2':
    case 'ArgMax': {
      const at = constAxis(g, n.inputs[op === 'GatherV2' ? 2 : 1], xs.length);
      if (at === undefined) return ['parameters', 'axis is not a constant axis of the input'];
      if (op === 'GatherV2') {
        if (attrNum(n, 'batch_dims', 0) !== 0) return ['parameters', 'batch_dims is set'];
        const is = shapes.get(n.inputs[1]!)?.shape ?? g.constants.get(n.inputs[1]!)?.shape;
        if (!is || is.some((d) => d < 0)) return ['layout', 'indices with a batch dimension'];
      }
      return at === 0 && xs[0] === -1 ? ['layout', `${op} along the batch dimension`] : undefined;
    }
    case 'FusedBatchNormV3': {
      const c = xs[xs.length - 1]!;
      return [1, 2, 3, 4].every((i) => floatConst(g, n.inputs[i])?.length === c)
        ? undefined
        : ['parameters', 'BatchNorm parameters must be constants per channel'];
    }
    case 'ConcatV2':
      return isConst(g, n.inputs[n.inputs.length - 1]) ? undefined : ['parameters', 'axis is not a constant'];
    case 'GatherNd': {
      const ps = shapes.get(n.inputs[0]!)?.shape ?? g.constants.get(n.inputs[0]!)?.shape;
      const is = shapes.get(n.inputs[1]!)?.shape ?? g.constants.get(n.inputs[1]!)?.shape;
      if (!ps || !is || ps.some((d) => d < 0) || is.length === 0)
        return ['layout', 'GatherNd values with a batch dimension'];
      return is.at(-1)! >= 1 && is.at(-1)! <= ps.length ? undefined : ['parameters', 'index depth outside the rank'];
    }
    case 'AddN': {
      // A sum of same-shape tensors (constants included), as a chain of adds.
      const same = (s: readonly number[] | null | undefined): boolean =>
        !!s && s.length === ys.length && s.every((d, i) => d === ys[i]);
      return n.inputs.every((t) => same(shapes.get(t)?.shape) && (!isConst(g, t) || floatConst(g, t)))
        ? undefined
        : ['layout', 'AddN of tensors of different shapes'];
    }
    case 'BroadcastTo': {
      const to = g.constants.get(n.inputs[1]!);
      return to && to.dtype === 'int32' && ys.every((d) => d >= 0) && xs.length <= ys.length
        ? undefined
        : ['parameters', 'the target shape is not a constant of fixed dimensions'];
    }
    case 'Prelu': {
      const a = floatConst(g, n.inputs[1]);
      return a && a.length === xs[xs.length - 1]
        ? undefined
        : ['parameters', 'alpha must be a constant per last-dimension channel'];
    }
    case 'Pad':
    case 'PadV2':
      if (!isConst(g, n.inputs[1]) || (op === 'PadV2' && !floatConst(g, n.inputs[2])))
        return ['parameters', 'paddings are not constant'];
      // A ±Infinity pad (−Infinity before a max pool) is exact in int8, where it clamps to the
      // lowest code like any value below the range, and a float step takes it; NaN it does not.
      if (op === 'PadV2' && Number.isNaN(floatConst(g, n.inputs[2])![0]!))
        return ['parameters', 'the pad value is NaN'];
      return xs[0] === -1 &&
        Array.from(g.constants.get(n.inputs[1]!)!.data as Int32Array)
          .slice(0, 2)
          .some((v) => v !== 0)
        ? ['layout', 'padding of the batch dimension']
        : undefined;
    case 'Transpose':
      if (!isConst(g, n.inputs[1])) return ['parameters', 'permutation is not constant'];
      return xs[0] === -1 && (g.constants.get(n.inputs[1]!)!.data as Int32Array)[0] !== 0
        ? ['layout', 'the batch dimension must stay first']
        : undefined;
    case 'ResizeBilinear':
    case 'ResizeNearestNeighbor':
      if (!isConst(g, n.inputs[1])) return ['parameters', 'size is not constant'];
      return xs.length === 4 ? undefined : ['layout', 'resize input must be NHWC'];
    default:
      if (BINARY[op] !== undefined) {
        if (n.inputs.length !== 2) return ['op-unknown', 'binary op arity'];
        const dtype = shapes.get(n.outputs[0]!)?.dtype ?? 'float32';
        if (n.inputs.some((t) => isConst(g, t) && g.constants.get(t)!.dtype !== dtype))
          return ['dtype', `constant operand is not ${dtype}`];
        if (exec === 'int8' && !['AddV2', 'Sub', 'Mul', 'Maximum', 'Minimum'].includes(op))
          return ['op-unknown', `no int8 kernel for ${op}`];
      }
      return undefined;
  }
}

/** An axis given as a scalar constant `t`, made non-negative for a rank-`rank` tensor (undefined: not one). */
export function constAxis(g: Graph, t: string | undefined, rank: number): number | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  if (!c || c.data.length !== 1) return undefined;
  const a = Number(c.data[0]);
  const at = a < 0 ? a + rank : a;
  return at >= 0 && at < rank ? at : undefined;
}

/** The sorted, distinct axes of a reduction (its second input, a constant) of a rank-`rank` input. */
export function reductionAxes(g: Graph, n: Node, rank: number): number[] | undefined {
  const c = g.constants.get(n.inputs[1]!);
  if (!c || c.dtype !== 'int32') return undefined;
  const axes = [...new Set(Array.from(c.data as Int32Array).map((v) => (v < 0 ? v + rank : v)))].sort((x, y) => x - y);
  return axes.length && axes.every((v) => v >= 0 && v < rank) ? axes : undefined;
}

/** A Max or Mean over H and W of an NHWC image: a global pooling step takes it, not reduce_f32. */
export function globalPool(g: Graph, n: Node, xs: readonly number[]): boolean {
  if (n.op !== 'Max' && n.op !== 'Mean') return false;
  const a = xs.length === 4 ? reductionAxes(g, n, 4) : undefined;
  return !!a && a.length === 2 && a[0] === 1 && a[1] === 2;
}

/**
 * Why a node's dtypes keep it off the native steps. Most steps take and give float32; data
 * movement and the arithmetic of binary_i32 take int32 too (all of a node's tensors one dtype);
 * Cast converts float32 ↔ int32, ArgMax gives int32, GatherNd reads int32 indices — the index
 * arithmetic of a pose model's keypoint decoding (ArgMax → FloorDiv / Mul / Sub → Pack →
 * GatherNd → Cast) runs natively between its heatmaps and its outputs.
 */
function dtypeObstacle(ctx: PlacementContext, n: Node, ins: string[]): Obstacle {
  const { g, shapes } = ctx;
  const dt = (t: string): string => shapes.get(t)?.dtype ?? g.constants.get(t)?.dtype ?? 'float32';
  const numeric = (d: string): boolean => d === 'float32' || d === 'int32';
  switch (n.op) {
    case 'Cast': {
      const [x, y] = [dt(n.inputs[0]!), dt(n.outputs[0]!)];
      return numeric(x) && numeric(y) ? undefined : ['dtype', `Cast from ${x} to ${y} (native: float32 ↔ int32)`];
    }
    case 'ArgMax':
      return dt(n.inputs[0]!) === 'float32' && dt(n.outputs[0]!) === 'int32'
        ? undefined
        : ['dtype', 'ArgMax natively takes float32 and gives int32'];
    case 'GatherNd':
    case 'GatherV2': {
      const [p, i, y] = [dt(n.inputs[0]!), dt(n.inputs[1]!), dt(n.outputs[0]!)];
      return numeric(p) && i === 'int32' && y === p
        ? undefined
        : ['dtype', `${n.op} natively takes float32 or int32 values at int32 indices`];
    }
  }
  // Data operands, constant ones included (a ConcatV2's axis is a parameter).
  const data = n.op === 'ConcatV2' ? n.inputs.slice(0, -1) : INT32_BINARY.has(n.op) || n.op === 'Pack' ? n.inputs : ins;
  const tensors = [...data, ...n.outputs];
  const all = (d: string): boolean => tensors.every((t) => dt(t) === d);
  const int32Too = INT32_MOVE.has(n.op) || INT32_BINARY.has(n.op);
  if (n.op === 'FloorDiv' || n.op === 'FloorMod')
    return all('int32') ? undefined : ['dtype', `${n.op} runs natively on int32 only`];
  if (all('float32') || (int32Too && all('int32'))) return undefined;
  const t = tensors.find((x) => dt(x) !== 'float32')!;
  return ['dtype', `tensor '${t}' is ${dt(t)} (native kernels take float32${int32Too ? ', or int32 throughout' : ''})`];
}

/**
 * Why a TopKV2 cannot run natively (topk_f32 + take_f32): float32 rows along the last axis, a
 * constant k, its values float32 and its indices int32 — the one int32 tensor a native step
 * writes, handed to tfjs or the graph as int32.
 */
function topKObstacle(ctx: PlacementContext, n: Node): Obstacle {
  const { g, shapes } = ctx;
  const [x, kt] = n.inputs as [string, string | undefined];
  const k = kt === undefined ? undefined : g.constants.get(kt);
  if (!k || k.dtype !== 'int32' || k.data.length !== 1) return ['parameters', 'k is not a constant'];
  if (n.outputs.length !== 2) return ['op-unknown', 'TopKV2 without its two outputs'];
  const [xi, vi, ii] = [x, ...n.outputs].map((t) => shapes.get(t));
  if (xi?.dtype !== 'float32' || vi?.dtype !== 'float32' || ii?.dtype !== 'int32')
    return ['dtype', 'TopKV2 natively takes float32 values (int32 indices)'];
  const xs = xi.shape;
  if (!xs || !vi.shape || !ii.shape) return ['shape-unknown', `the shape of '${x}' is not known before the run`];
  if (!isCanonical(xs) || xs.length === 0 || xs.at(-1)! < 1) return ['layout', 'the batch dimension is not leading'];
  const kv = (k.data as Int32Array)[0]!;
  return kv >= 1 && kv <= xs.at(-1)! ? undefined : ['parameters', `k = ${kv} outside [1, ${xs.at(-1)}]`];
}

/** Why a Split / SplitV / Unpack / Pack (shapes: its data inputs, then its outputs) cannot run natively. */
function piecesObstacle(ctx: PlacementContext, n: Node, logical: number[][]): Obstacle {
  const { g, shapes } = ctx;
  if (!logical.every(isCanonical)) return ['layout', 'the batch dimension is not leading'];
  if (n.op === 'Pack') {
    const y = logical[logical.length - 1]!;
    const axis = pieceAxis(g, n, y.length);
    if (axis === undefined) return ['parameters', 'axis out of range'];
    if (y[0] === -1 && axis === 0) return ['layout', 'stacking along the batch dimension'];
    const part = y.filter((_, i) => i !== axis);
    const same = n.inputs.every((t) => {
      const s = shapes.get(t)?.shape ?? g.constants.get(t)?.shape;
      return !!s && s.length === part.length && s.every((d, i) => d === part[i]);
    });
    const dtype = shapes.get(n.outputs[0]!)?.dtype ?? 'float32';
    return same && n.inputs.every((t) => !isConst(g, t) || g.constants.get(t)!.dtype === dtype)
      ? undefined
      : ['layout', 'stacked tensors of different shapes'];
  }
  const x = shapes.get(piecesSource(n))?.shape;
  if (!x) return ['shape-unknown', 'the shape of the tensor cut is not known before the run'];
  const axis = pieceAxis(g, n, x.length);
  if (axis === undefined) return ['parameters', 'axis is not a constant in range'];
  if (x[axis]! < 0) return ['layout', 'cut along the batch dimension'];
  return pieceSizes(g, n, x[axis]!) ? undefined : ['parameters', 'piece sizes do not divide the axis'];
}

/** Placement of one node given its execution (int8 / dynamic / float, src/quant/params.ts). */
export function decide(ctx: PlacementContext, n: Node, exec: NodeExecution): PlannedNode {
  const base = { node: n.name, op: n.op };
  const why = nativeObstacle(ctx, n, exec);
  if (why) return { ...base, placement: 'tfjs', reasonKind: why[0], reason: why[1] };
  if (exec === 'int8') {
    if (INT8_NATIVE.has(n.op)) return { ...base, placement: 'native-int8' };
    return { ...base, placement: 'tfjs', reasonKind: 'op-unknown', reason: `no native int8 kernel for ${n.op}` };
  }
  if (exec === 'dynamic')
    return { ...base, placement: int4WeightOf(ctx.g, n) ? 'native-dynamic-int4' : 'native-dynamic' };
  return { ...base, placement: 'native-float' };
}
