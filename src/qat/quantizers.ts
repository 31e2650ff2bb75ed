// The quantization points of a QAT layer graph: which tensors carry fake quantization, placed
// exactly where the int8 runtime quantizes, each with its moving-average range tracker.
import { pickConfig, resolveConfig, type QuantizeOptions } from './config.js';
import { RangeTracker, type FakeQuantParams, type FakeQuantSpec } from './fake-quant.js';
import { actName, consumers, type LayerGraph } from './topology.js';

export interface Quantizer {
  id: number;
  /** The tensor key (layer@application) whose range this is. */
  tensor: string;
  spec: FakeQuantSpec;
  tracker: RangeTracker;
  /** Fixed parameters (Softmax output: scale 1/256, zero point −128). */
  fixed?: FakeQuantParams;
  /** Calibration accumulator. */
  calib?: [number, number];
}

/** The int8 runtime's fixed Softmax output parameters. */
export const SOFTMAX_OUT: FakeQuantParams = { scale: 1 / 256, zeroPoint: -128, qmin: -128, qmax: 127 };

export interface QuantizerAssignment {
  quantizers: Quantizer[];
  /** Quantizer of each tensor key (shared by pass-through ops). */
  tensorQuantizer: Map<string, Quantizer>;
}

/**
 * Decides the quantization points (docs/quantization.md §12.2–§12.3): one quantizer per quantized
 * tensor, shared by the pass-through steps that only move it.
 */
export function assignQuantizers(g: LayerGraph, options: QuantizeOptions): QuantizerAssignment {
  const quantizers: Quantizer[] = [];
  const tensorQuantizer = new Map<string, Quantizer>();
  const newQuantizer = (tensor: string, spec: FakeQuantSpec, fixed?: FakeQuantParams): Quantizer => {
    const q: Quantizer = {
      id: quantizers.length,
      tensor,
      spec,
      tracker: new RangeTracker(options.emaDecay ?? 0.99, options.freezeRangesAfter ?? Infinity),
      fixed,
    };
    quantizers.push(q);
    return q;
  };
  const needs = new Map<string, boolean>();
  // A tensor must be quantized when a quantized step reads it (through pass-through steps).
  for (let i = g.steps.length - 1; i >= 0; i--) {
    const s = g.steps[i]!;
    const outNeeds = needs.get(s.output) ?? false;
    const readsQuantized = s.kind === 'conv' || s.kind === 'int8' || (s.kind === 'pass' && outNeeds);
    for (const t of s.inputs) if (readsQuantized) needs.set(t, true);
  }
  const defaultSpec = resolveConfig(pickConfig(options), undefined).activation;
  for (const k of g.inputs) {
    if (!needs.get(k)) continue;
    const first = consumers(g, k).find((s) => s.cfg);
    tensorQuantizer.set(k, newQuantizer(k, first?.cfg?.activation ?? defaultSpec));
  }
  for (const s of g.steps) {
    const spec = s.cfg?.activation ?? defaultSpec;
    switch (s.kind) {
      case 'conv': {
        const act = s.act!;
        const tail = s.fusedAct?.output ?? s.bn?.output ?? s.output;
        const unfusedBias = s.className === 'Conv1D' || s.className === 'Conv2DTranspose';
        if (s.className === 'SeparableConv2D') s.mid = newQuantizer(`${s.output}/depthwise`, spec);
        if (
          unfusedBias
            ? s.bias !== undefined || s.bn !== undefined || act !== 'linear'
            : !['linear', 'relu', 'relu6'].includes(act)
        ) {
          s.pre = newQuantizer(`${s.output}/preact`, spec);
        }
        tensorQuantizer.set(tail, newQuantizer(tail, spec, act === 'softmax' ? SOFTMAX_OUT : undefined));
        break;
      }
      case 'int8': {
        const sm = s.className === 'Softmax' || (s.className === 'Activation' && actName(s.config) === 'softmax');
        tensorQuantizer.set(s.output, newQuantizer(s.output, spec, sm ? SOFTMAX_OUT : undefined));
        break;
      }
      case 'pass': {
        const q = tensorQuantizer.get(s.inputs[0]!);
        if (q) tensorQuantizer.set(s.output, q);
        else if (needs.get(s.output)) tensorQuantizer.set(s.output, newQuantizer(s.output, spec));
        break;
      }
      case 'float':
        if (needs.get(s.output)) tensorQuantizer.set(s.output, newQuantizer(s.output, defaultSpec));
        break;
      default:
        break;
    }
  }
  return { quantizers, tensorQuantizer };
}
