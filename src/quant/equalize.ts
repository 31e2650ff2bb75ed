// Channel range equalization (cross-layer equalization, Nagel et al. 2019, "Data-Free
// Quantization Through Weight Equalization and Bias Correction" §4.1; AIMET's CLE), data-aware.
//
// Why: activations are quantized per tensor (§4), weights per output channel. Batch-norm
// folding leaves some channels of a tensor with a tiny range next to channels that fill it
// (a MobileNet-style stem: one channel in [0, 0.055] beside others in [0, 6]); under one scale
// of 6/255 the small channel keeps two or three levels, and the layer reading it may weigh it
// a thousand times more (a depthwise filter of L2 norm 1334 on that channel): its output, and
// the model's, lose most of their accuracy.
//
// What: for a producer P (Conv2D / DepthwiseConv2dNative / MatMul with constant weights) whose
// output — possibly through Relu / Relu6 ops — is read only by one DepthwiseConv2dNative C,
// channel c of P's weight and bias is scaled by k_c ≥ 1 and C's filter for channel c by 1 / k_c.
// ReLU is positively homogeneous (relu(k·x) = k·relu(x)), so the float function is unchanged;
// ReLU6 only while k·x ≤ 6: k is kept at or below 6 / (the channel's largest pre-activation over
// the producer's calibrated input range), computed from the weights, so no input within that
// range can reach the clip where float would not.
// P's weights are per output channel and C's per channel along
// the same c, so neither weight loses accuracy: only the activation between them gains. Each k
// is capped so the channel reaches at most half the tensor's calibrated range (headroom for
// held-out inputs) and at MAX_FACTOR.
//
// A Conv2D / MatMul consumer is left alone: dividing its input row c by k moves error from the
// activation to that row's weights (Nagel's balance, k = sqrt(r_w / r_a)); measured on the
// published emotion and gear classifiers' calibration data it lost more than it gained (min
// output score 0.968 → 0.922 and 0.947 → 0.932).
//
// The per-channel ranges come from the calibration pass (calibrate's channelRanges); the
// tensors that are scaled get their per-tensor range recomputed from the scaled channel ranges.
import type { Constant, Graph, Node } from '../model/ir.js';

/** A scaled channel reaches at most this share of the tensor's calibrated range. */
const HEADROOM = 0.5;
/** No channel is scaled by more than this. */
const MAX_FACTOR = 256;

export interface EqualizationChain {
  producer: Node;
  /** Relu / Relu6 nodes between producer and consumer. */
  between: Node[];
  consumer: Node;
  /** Tensors scaled: the producer's output, then each in-between op's output. */
  tensors: string[];
}

export interface Equalization {
  producer: string;
  /** Relu / Relu6 nodes between producer and consumer. */
  between: string[];
  consumer: string;
  /** Channels scaled (k > 1) of the channels. */
  scaled: number;
  channels: number;
  maxFactor: number;
}

export interface ChannelRanges {
  lo: Float32Array;
  hi: Float32Array;
}

const CLAMP_ACTS = new Set([undefined, 'none', 'relu', 'relu6']);
const HOMOGENEOUS_OPS = new Set(['Relu', 'Relu6']);

/** Channel axis of a weight as the producer writes its outputs (the output channel is the last of the flattened axes). */
function producerChannels(n: Node, w: Constant): number | undefined {
  const s = w.shape;
  if ((n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative') && s.length === 4)
    return n.op === 'Conv2D' ? s[3]! : s[2]! * s[3]!;
  if (n.op === 'MatMul' && s.length === 2 && n.attrs.transpose_a !== true)
    return n.attrs.transpose_b === true ? s[0]! : s[1]!;
  return undefined;
}

/** Input channels of a depthwise consumer's filter [h, w, channels, multiplier]. */
function consumerChannels(n: Node, w: Constant): number | undefined {
  return n.op === 'DepthwiseConv2dNative' && w.shape.length === 4 ? w.shape[2] : undefined;
}

function nhwc(n: Node): boolean {
  return n.op === 'MatMul' || String(n.attrs.data_format ?? 'NHWC').toUpperCase() === 'NHWC';
}

function floatConst(g: Graph, t: string | undefined): Constant | undefined {
  const c = t === undefined ? undefined : g.constants.get(t);
  return c && c.dtype === 'float32' && c.data instanceof Float32Array && !c.quantization?.affine && !c.nonFinite
    ? c
    : undefined;
}

/**
 * The producer → (Relu | Relu6)* → consumer chains of g that can be equalized (every tensor on
 * the way read by the next node only and not a graph output, constants used by one node).
 * `exclude`: nodes that must keep their weights (kept in float by the user).
 */
export function equalizationChains(g: Graph, exclude: ReadonlySet<string> = new Set()): EqualizationChain[] {
  const readers = new Map<string, Node[]>();
  for (const n of g.nodes) for (const t of n.inputs) readers.set(t, [...(readers.get(t) ?? []), n]);
  const outputs = new Set(g.outputs);
  const soleReader = (t: string) => {
    const r = readers.get(t);
    return r?.length === 1 && !outputs.has(t) ? r[0] : undefined;
  };
  const ownConst = (t: string | undefined) => t === undefined || (readers.get(t)?.length ?? 0) <= 1;
  const chains: EqualizationChain[] = [];
  for (const p of g.nodes) {
    if (p.opaque || exclude.has(p.name) || !nhwc(p) || !CLAMP_ACTS.has(p.attrs.activation as string | undefined))
      continue;
    if (p.outputs.length !== 1 || p.inputs.length > 3) continue;
    const w = floatConst(g, p.inputs[1]);
    const channels = w && producerChannels(p, w);
    if (!w || !channels || !ownConst(p.inputs[1]) || !ownConst(p.inputs[2])) continue;
    if (p.inputs[2] !== undefined && floatConst(g, p.inputs[2])?.data.length !== channels) continue;
    const tensors = [p.outputs[0]!];
    const between: Node[] = [];
    let next = soleReader(tensors[0]!);
    while (next && HOMOGENEOUS_OPS.has(next.op) && next.outputs.length === 1 && !exclude.has(next.name)) {
      between.push(next);
      tensors.push(next.outputs[0]!);
      next = soleReader(next.outputs[0]!);
    }
    if (!next || next.opaque || exclude.has(next.name) || !nhwc(next) || next.inputs[0] !== tensors.at(-1)) continue;
    const cw = floatConst(g, next.inputs[1]);
    if (!cw || !ownConst(next.inputs[1]) || consumerChannels(next, cw) !== channels) continue;
    chains.push({ producer: p, between, consumer: next, tensors });
  }
  return chains;
}

/** Channel c's values of a weight: calls f(index, channel) for every element (the channel along `axisOf`). */
function forChannels(w: Constant, channelOf: (i: number) => number, f: (i: number, c: number) => void): void {
  for (let i = 0; i < w.data.length; i++) f(i, channelOf(i));
}

function producerChannelOf(n: Node, w: Constant): (i: number) => number {
  const s = w.shape;
  if (n.op === 'MatMul' && n.attrs.transpose_b === true) return (i) => Math.floor(i / s[1]!);
  const c = producerChannels(n, w)!;
  return (i) => i % c;
}

function consumerChannelOf(w: Constant): (i: number) => number {
  const [, , channels, multiplier] = w.shape as [number, number, number, number];
  return (i) => Math.floor(i / multiplier) % channels;
}

/** ReLU6 in the chain (fused in the producer or an op between): the tensor whose channel maxima decide the clip. */
function relu6Tensor(chain: EqualizationChain): string | undefined {
  if (chain.producer.attrs.activation === 'relu6') return chain.tensors[0];
  const i = chain.between.findIndex((n) => n.op === 'Relu6');
  return i < 0 ? undefined : chain.tensors[i];
}

/** Per output channel of a producer, the largest pre-activation over inputs in [lo, hi]. */
function preactivationBound(g: Graph, p: Node, [lo, hi]: readonly [number, number], channels: number): Float64Array {
  const w = g.constants.get(p.inputs[1]!)!;
  const b = p.inputs[2] !== undefined ? (g.constants.get(p.inputs[2])!.data as Float32Array) : undefined;
  const bound = new Float64Array(channels);
  for (let c = 0; c < channels; c++) bound[c] = b ? b[c]! : 0;
  const d = w.data as Float32Array;
  forChannels(w, producerChannelOf(p, w), (i, c) => (bound[c]! += Math.max(d[i]! * lo, d[i]! * hi)));
  return bound;
}

/**
 * The factors k_c of a chain from the calibrated channel ranges of its tensors (undefined when
 * a range is missing or nothing is worth scaling).
 */
export function equalizationFactors(
  g: Graph,
  chain: EqualizationChain,
  ranges: ReadonlyMap<string, ChannelRanges>,
  inputRange?: readonly [number, number],
): Float64Array | undefined {
  const r = ranges.get(chain.tensors[0]!);
  // Every scaled tensor needs its channel ranges: its per-tensor range is recomputed from them.
  if (!r || chain.tensors.some((t) => ranges.get(t)?.lo.length !== r.lo.length)) return undefined;
  const channels = r.lo.length;
  // The range the tensor will be quantized over and each channel's share of it.
  let lo = 0,
    hi = 0;
  for (let c = 0; c < channels; c++) {
    lo = Math.min(lo, r.lo[c]!);
    hi = Math.max(hi, r.hi[c]!);
  }
  const span = hi - lo;
  if (!(span > 0)) return undefined;
  // ReLU6: k·pre ≤ 6 must hold for every input the producer can see, not only the calibration
  // samples (a channel seen up to 0.001 may reach 0.03 on another picture). The bound of the
  // pre-activation over the producer's whole calibrated input range (every channel's, the
  // image's [0, 1] at the stem) is used: b_c + Σ max(w·lo, w·hi).
  let bound: Float64Array | undefined;
  if (relu6Tensor(chain) !== undefined) {
    if (!inputRange) return undefined;
    bound = preactivationBound(g, chain.producer, inputRange, channels);
  }
  const k = new Float64Array(channels).fill(1);
  let any = false;
  for (let c = 0; c < channels; c++) {
    const own = r.hi[c]! - r.lo[c]!;
    if (!(own > 0)) continue; // a dead channel: nothing to gain
    const ra = own / span;
    let f = Math.min(HEADROOM / ra, MAX_FACTOR);
    if (bound) f = Math.min(f, 6 / bound[c]!);
    if (f > 1) {
      k[c] = f;
      any = true;
    }
  }
  return any ? k : undefined;
}

/** Scales the chain's weights by k (copies: the constants' arrays are replaced, not written). */
export function applyEqualization(g: Graph, chain: EqualizationChain, k: Float64Array): void {
  const p = chain.producer,
    cn = chain.consumer;
  const pw = g.constants.get(p.inputs[1]!)!;
  const pd = Float32Array.from(pw.data as Float32Array);
  forChannels(pw, producerChannelOf(p, pw), (i, c) => (pd[i] = Math.fround(pd[i]! * k[c]!)));
  pw.data = pd;
  if (p.inputs[2] !== undefined) {
    const b = g.constants.get(p.inputs[2])!;
    b.data = Float32Array.from(b.data as Float32Array, (v, c) => Math.fround(v * k[c]!));
  }
  const cw = g.constants.get(cn.inputs[1]!)!;
  const cd = Float32Array.from(cw.data as Float32Array);
  forChannels(cw, consumerChannelOf(cw), (i, c) => (cd[i] = Math.fround(cd[i]! / k[c]!)));
  cw.data = cd;
}

/** The per-tensor range of a tensor whose channels were scaled by k. */
export function scaledRange(r: ChannelRanges, k: Float64Array): [number, number] {
  let lo = 0,
    hi = 0;
  for (let c = 0; c < r.lo.length; c++) {
    lo = Math.min(lo, r.lo[c]! * k[c]!);
    hi = Math.max(hi, r.hi[c]! * k[c]!);
  }
  return [lo, hi];
}

/**
 * Equalizes every chain of g (modified in place) from the calibrated channel ranges; returns
 * what was scaled and updates `ranges` (per tensor) for the scaled tensors. Chains are taken in
 * graph order; a node that is the consumer of one chain and the producer of the next has its
 * weight scaled along both axes (input channels, then output channels), which compose.
 */
export function equalize(
  g: Graph,
  chains: readonly EqualizationChain[],
  channelRanges: ReadonlyMap<string, ChannelRanges>,
  ranges: Map<string, [number, number]>,
): Equalization[] {
  const out: Equalization[] = [];
  for (const chain of chains) {
    const k = equalizationFactors(g, chain, channelRanges, ranges.get(chain.producer.inputs[0]!));
    if (!k) continue;
    applyEqualization(g, chain, k);
    for (const t of chain.tensors) {
      const r = channelRanges.get(t);
      if (r) ranges.set(t, scaledRange(r, k));
    }
    let scaled = 0,
      maxFactor = 1;
    for (const f of k) {
      if (f > 1) scaled++;
      maxFactor = Math.max(maxFactor, f);
    }
    out.push({
      producer: chain.producer.name,
      between: chain.between.map((n) => n.name),
      consumer: chain.consumer.name,
      scaled,
      channels: k.length,
      maxFactor,
    });
  }
  return out;
}
