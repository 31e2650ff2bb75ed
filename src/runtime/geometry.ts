// Convolution and pooling geometry, computed once here for the plan (docs/quantization.md
// §11.1): output sizes and the padding each side. The native steps check the same formulas
// against the buffer shapes they are given; the planner never asks the native side.
import type { Node } from '../model/ir.js';
import { attrInts, attrStr, convPad } from '../model/node-attrs.js';

export type Padding = 'same' | 'valid' | [number, number, number, number];

/** Output size and padding before/after along one spatial axis (quantization.md §11.1). */
export function axisGeometry(
  size: number,
  k: number,
  stride: number,
  dilation: number,
  padding: 'same' | 'valid' | [number, number],
): { out: number; before: number; after: number } {
  const effK = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - effK + 1) / stride), before: 0, after: 0 };
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + effK - size, 0);
    const before = Math.floor(total / 2);
    return { out, before, after: total - before };
  }
  const [before, after] = padding;
  return { out: Math.floor((size + before + after - effK) / stride) + 1, before, after };
}

/** [h, w] of a 4-value NHWC attribute (or 2 / 1 values). */
export function hw(n: Node, k: string): [number, number] {
  const v = attrInts(n, k, [1, 1, 1, 1]);
  if (v.length === 4) return [v[1]!, v[2]!];
  if (v.length === 2) return [v[0]!, v[1]!];
  return [v[0]!, v[0]!];
}

/** The step parameters of a window: kernel, strides, dilations and the four paddings. */
export interface WindowGeometry {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pb: number;
  pl: number;
  pr: number;
  outH: number;
  outW: number;
}

/** Geometry of a conv (with dilations) or pooling window (no dilation) on x [N, H, W, C]. */
export function windowGeometry(n: Node, xShape: readonly number[], k: [number, number], pool: boolean): WindowGeometry {
  let padding: Padding;
  if (pool && attrStr(n, 'padding').toUpperCase() !== 'EXPLICIT') {
    padding = attrStr(n, 'padding').toLowerCase() as 'same' | 'valid';
  } else {
    const p = convPad(n);
    padding = Array.isArray(p) ? [p[1][0], p[1][1], p[2][0], p[2][1]] : p;
  }
  const [sh, sw] = hw(n, 'strides');
  const [dh, dw] = pool ? [1, 1] : hw(n, 'dilations');
  const h = axisGeometry(xShape[1]!, k[0], sh, dh, Array.isArray(padding) ? [padding[0], padding[1]] : padding);
  const w = axisGeometry(xShape[2]!, k[1], sw, dw, Array.isArray(padding) ? [padding[2], padding[3]] : padding);
  return {
    kh: k[0],
    kw: k[1],
    sh,
    sw,
    dh,
    dw,
    pt: h.before,
    pb: h.after,
    pl: w.before,
    pr: w.after,
    outH: h.out,
    outW: w.out,
  };
}

/** The geometry block of conv steps: [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr]. */
export function convGeomInts(g: WindowGeometry): number[] {
  return [g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pb, g.pl, g.pr];
}

/** The window block of pooling steps: [kh, kw, sh, sw, pt, pb, pl, pr]. */
export function poolGeomInts(g: WindowGeometry): number[] {
  return [g.kh, g.kw, g.sh, g.sw, g.pt, g.pb, g.pl, g.pr];
}

/** A 1×1, stride-1, unpadded convolution reads its input as the GEMM A matrix (no im2col). */
export function isDirect(g: WindowGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pb === 0 && g.pl === 0 && g.pr === 0;
}
