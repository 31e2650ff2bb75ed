// Shared helpers for the training-kernel tests: seeded data, running one tfjs kernel on a
// chosen backend, naive reference loops (with dilation), and a relative error measure.
import type { NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from '../../src/backend/float.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, r: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() + r() - 2) * 1.7;
  return out;
}

export const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

export interface Arr {
  data: Float32Array;
  shape: number[];
}

/** Runs kernel `name` on `backend` with float32 inputs; returns the output data and shape. */
export async function runKernel(
  backend: string,
  name: string,
  inputs: Record<string, Arr>,
  attrs: object,
): Promise<Arr> {
  await tf.setBackend(backend);
  const ts: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape, 'float32');
  try {
    const out = tf.engine().runKernel(name, ts, attrs as NamedAttrMap) as Tensor;
    const res = { data: out.dataSync() as Float32Array, shape: out.shape };
    out.dispose();
    return res;
  } finally {
    for (const t of Object.values(ts)) t.dispose();
  }
}

/** max |a - b| / max |b| (b the reference); 0 when both are all zero. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let e = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    e = Math.max(e, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? e : e / m;
}

export interface Geom {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  oc: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
  depthwise: boolean;
}

/** Geometry as tfjs computes it (SAME / VALID / explicit padding resolved). */
export function geomOf(
  xShape: number[],
  fShape: number[],
  strides: number | [number, number],
  pad: unknown,
  dilations: number | [number, number],
  depthwise: boolean,
): Geom {
  const ci = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    strides,
    dilations,
    pad as 'same',
    undefined,
    depthwise,
  );
  return {
    n: ci.batchSize,
    h: ci.inHeight,
    w: ci.inWidth,
    c: ci.inChannels,
    oh: ci.outHeight,
    ow: ci.outWidth,
    oc: ci.outChannels,
    fh: ci.filterHeight,
    fw: ci.filterWidth,
    sh: ci.strideHeight,
    sw: ci.strideWidth,
    dh: ci.dilationHeight,
    dw: ci.dilationWidth,
    pt: ci.padInfo.top,
    pl: ci.padInfo.left,
    depthwise,
  };
}

/**
 * Naive loops over every (output pixel, tap, channel) triple, in float64: the forward
 * output, and the two gradients given dy. Filter index: conv [fh, fw, c, oc], depthwise
 * [fh, fw, c, q] with oc = c * mult + q.
 */
export function naiveConv(g: Geom, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const y = new Float64Array(g.n * g.oh * g.ow * g.oc);
  const dx = new Float64Array(g.n * g.h * g.w * g.c);
  const df = new Float64Array(f.length);
  const mult = g.oc / g.c;
  for (let b = 0; b < g.n; b++)
    for (let oh = 0; oh < g.oh; oh++)
      for (let ow = 0; ow < g.ow; ow++)
        for (let kh = 0; kh < g.fh; kh++)
          for (let kw = 0; kw < g.fw; kw++) {
            const ih = oh * g.sh - g.pt + kh * g.dh,
              iw = ow * g.sw - g.pl + kw * g.dw;
            if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
            const xo = ((b * g.h + ih) * g.w + iw) * g.c;
            const yo = ((b * g.oh + oh) * g.ow + ow) * g.oc;
            for (let o = 0; o < g.oc; o++) {
              const cs = g.depthwise ? [Math.floor(o / mult)] : Array.from({ length: g.c }, (_, i) => i);
              for (const c of cs) {
                const fi = g.depthwise ? (kh * g.fw + kw) * g.oc + o : ((kh * g.fw + kw) * g.c + c) * g.oc + o;
                y[yo + o] += x[xo + c] * f[fi];
                dx[xo + c] += dy[yo + o] * f[fi];
                df[fi] += x[xo + c] * dy[yo + o];
              }
            }
          }
  return { y, dx, df };
}
