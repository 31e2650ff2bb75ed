// One native segment under construction: its buffers, weights and steps, and the tensors it
// takes and gives. Conversions follow docs/quantization.md §12.2: an int8 consumer of a float
// tensor quantizes it with the tensor's parameters, a float consumer of an int8 tensor
// dequantizes it, once per tensor and segment.
import type { RuntimePlanBuffer, RuntimePlanStep } from '../../binding.js';
import type { Graph } from '../model/ir.js';
import type { PlanShapes } from '../model/shape-inference.js';
import type { ActivationParams } from '../quant/params.js';
import type { QParams } from '../quant/scheme.js';
import { nativeLayout } from './placement.js';
import { DT } from './step-codes.js';
import { makeStep, type NamedStep, type StepKind } from './step-schema.js';

export type Typed = Float32Array | Int8Array | Uint8Array | Int32Array;

export interface SegmentTensor {
  tensor: string;
  /** Planned shape: a negative dimension −k is k × the batch (−1: the batch). */
  shape: number[];
  /**
   * float32, or int8 with its activation parameters: graph inputs of inputType-int8 models,
   * and int8-produced graph outputs of outputType-int8 models (docs/quantization.md §12.1); or
   * int32, a tensor of that dtype (a TopK's indices).
   */
  dtype: 'float32' | 'int8' | 'int32';
  quantization?: QParams;
}

export interface Q8 {
  buf: number;
  p: QParams;
}

export class SegmentBuilder {
  readonly buffers: RuntimePlanBuffer[] = [];
  readonly weights: Typed[] = [];
  readonly steps: RuntimePlanStep[] = [];
  readonly inputs: SegmentTensor[] = [];
  readonly inputBufs: number[] = [];
  private readonly f32 = new Map<string, number>();
  private readonly q8 = new Map<string, Q8>();
  private readonly i32 = new Map<string, number>();
  /** Tensors whose value here is int8 as produced (by an int8 node, or fed in as int8). */
  private readonly producedQ8 = new Set<string>();

  /** int8In: tensors that arrive from outside the segment as int8 (with their parameters). */
  constructor(
    readonly g: Graph,
    private readonly shapes: PlanShapes,
    private readonly acts: Record<string, ActivationParams>,
    private readonly int8In: ReadonlyMap<string, QParams> = new Map(),
  ) {}

  buffer(dtype: number, shape: readonly number[], constIndex = -1): number {
    this.buffers.push({ dtype: dtype as RuntimePlanBuffer['dtype'], shape: [...shape], constIndex });
    return this.buffers.length - 1;
  }
  weight(a: Typed): number {
    this.weights.push(a);
    return this.weights.length - 1;
  }
  constBuffer(a: Typed, dtype: number, shape: readonly number[]): number {
    return this.buffer(dtype, shape, this.weight(a));
  }
  step(s: RuntimePlanStep): void {
    this.steps.push(s);
  }
  /** Appends a step of a kind of src/runtime/step-schema.ts from its named parameters. */
  emit<K extends StepKind>(op: K, s: NamedStep<K>): void {
    this.steps.push(makeStep(op, s));
  }
  /** The planned dtype of a tensor (a constant's own). */
  dtypeOf(t: string): string {
    return this.g.constants.get(t)?.dtype ?? this.shapes.get(t)?.dtype ?? 'float32';
  }
  /** The planned shape of a tensor (negative: multiples of the batch). */
  logical(t: string): number[] {
    const s = this.shapes.get(t)?.shape;
    if (!s) throw new Error(`internal: tensor '${t}' has no planned shape`);
    return s;
  }
  /** The shape of a tensor's native buffer (placement checked that it has one). */
  shape(t: string): number[] {
    const s = nativeLayout(this.logical(t));
    if (!s) throw new Error(`internal: tensor '${t}' has no native layout`);
    return s;
  }
  params(t: string): QParams {
    const a = this.acts[t];
    if (!a) throw new Error(`tensor '${t}' has no activation parameters`);
    return { scale: a.scale, zeroPoint: a.zeroPoint };
  }

  /** The float32 buffer of a tensor: produced here, dequantized from its int8 form, a constant, or a segment input. */
  getF32(t: string): number {
    const have = this.f32.get(t);
    if (have !== undefined) return have;
    let id: number;
    const q = this.q8.get(t) ?? (this.int8In.has(t) ? this.getQ8(t) : undefined);
    const c = this.g.constants.get(t);
    if (q) {
      id = this.buffer(DT.f32, this.buffers[q.buf]!.shape);
      this.emit('dequantize', {
        inputs: [q.buf],
        output: id,
        ints: { zero_point: q.p.zeroPoint },
        floats: { scale: q.p.scale },
      });
    } else if (c) {
      id = this.constBuffer(c.data as Float32Array, DT.f32, c.shape);
    } else {
      id = this.buffer(DT.f32, this.shape(t));
      this.inputs.push({ tensor: t, shape: this.logical(t), dtype: 'float32' });
      this.inputBufs.push(id);
    }
    this.f32.set(t, id);
    return id;
  }

  /** The int32 buffer of an int32 tensor: produced here, a constant, or a segment input. */
  getI32(t: string): number {
    const have = this.i32.get(t);
    if (have !== undefined) return have;
    let id: number;
    const c = this.g.constants.get(t);
    if (c) {
      if (!(c.data instanceof Int32Array)) throw new Error(`internal: constant '${t}' is not int32`);
      id = this.constBuffer(c.data, DT.i32, c.shape);
    } else {
      id = this.buffer(DT.i32, this.shape(t));
      this.inputs.push({ tensor: t, shape: this.logical(t), dtype: 'int32' });
      this.inputBufs.push(id);
    }
    this.i32.set(t, id);
    return id;
  }
  setI32(t: string, buf: number): void {
    this.i32.set(t, buf);
  }

  /** The int8 buffer of a tensor (quantized once from float32 with its parameters when needed). */
  getQ8(t: string): Q8 {
    const have = this.q8.get(t);
    if (have) return have;
    const fed = this.int8In.get(t);
    if (fed) {
      // Fed as int8 (no quantize step): an input buffer of the segment.
      const buf = this.buffer(DT.i8, this.shape(t));
      this.inputs.push({ tensor: t, shape: this.logical(t), dtype: 'int8', quantization: { ...fed } });
      this.inputBufs.push(buf);
      const q = { buf, p: { ...fed } };
      this.setQ8(t, q);
      return q;
    }
    const p = this.params(t);
    const f = this.getF32(t);
    const buf = this.buffer(DT.i8, this.buffers[f]!.shape);
    this.emit('quantize', { inputs: [f], output: buf, ints: { zero_point: p.zeroPoint }, floats: { scale: p.scale } });
    const q = { buf, p };
    this.q8.set(t, q);
    return q;
  }

  setF32(t: string, buf: number): void {
    this.f32.set(t, buf);
  }
  setQ8(t: string, q: Q8): void {
    this.q8.set(t, q);
    this.producedQ8.add(t);
  }
  /** The int8 form of t when t was produced (or fed) as int8 in this segment. */
  producedInt8(t: string): Q8 | undefined {
    return this.producedQ8.has(t) ? this.q8.get(t) : undefined;
  }
}
