export {
  InferenceSession,
  type HostTensor,
  type RunInputs,
  type RunOptions,
  type SessionMemory,
  type SessionOptions,
  type TensorSpec,
  type TensorDType,
  type PlannedNode,
  type Placement,
  type ReasonKind,
} from './session.js';
export {
  compilePlan,
  declaredInputShapes,
  type CompiledPlan,
  type CompileOptions,
  type SegmentTensor,
  type Segment,
  type NativeSegment,
  type TfjsSegment,
} from './plan.js';
export { summarizePlan, gemmFlops, type PlanSummary } from './summary.js';
export { runTfjsSegment } from './tfjs-segment.js';
export { loadGraphModel } from './load-url.js';
export { isTensorLike, type TensorLike } from './tensor-like.js';
