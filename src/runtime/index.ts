export { InferenceSession, type HostTensor, type RunInputs, type RunOptions, type SessionMemory, type SessionOptions, type TensorSpec, type TensorDType, type PlannedNode, type Placement } from './session.js';
export { compilePlan, type CompiledPlan, type Segment, type NativeSegment, type TfjsSegment } from './plan.js';
