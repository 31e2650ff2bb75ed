// Shared fixtures of the runtime tests: float graphs from tfjs-layers models, quantization
// through the PTQ quantize() (src/quant), inputs, and comparisons.
import { expect } from 'vitest';
import { tf } from '../../src/backend/float.js';
import { execute, loadModel, optimize, type Graph } from '../../src/model/index.js';
import { rng, saveLayersToMemory } from '../../src/model/testing.js';
import { quantize } from '../../src/quant/quantize.js';
import { native } from '../../src/native/binding.js';
import type { RuntimePlan } from '../../binding.js';

export async function graphOf(model: tf.LayersModel): Promise<Graph> {
  return optimize(await loadModel(await saveLayersToMemory(model)));
}

/** The PTQ quantizer (src/quant/quantize.ts) on `calib`: int8 (calibrated activations) or dynamic; per-channel weights. */
export async function quantized(g: Graph, calib: tf.Tensor, mode: 'int8' | 'dynamic' = 'int8', granularity: 'tensor' | 'row' = 'tensor'): Promise<Graph> {
  const r = await quantize(g, { mode, calibration: [calib], report: false, optimize: false, ...(mode === 'dynamic' ? { dynamicGranularity: granularity } : {}) });
  return r.graph;
}

/** max |a − b| / max(|b|, tiny) */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) { m = Math.max(m, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return m / Math.max(s, 1e-30);
}

export function argmaxRows(x: ArrayLike<number>, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * cols < x.length; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (x[r * cols + c]! > x[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

export function agreement(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.filter((v, i) => v === b[i]).length / a.length;
}

export function floatOutputs(g: Graph, x: tf.Tensor): Float32Array[] {
  const r = execute(g, x);
  const out = r.map((t) => t.dataSync() as Float32Array);
  r.forEach((t) => t.dispose());
  return out;
}

/**
 * Inputs whose samples differ in more than noise (per sample and channel: own offset and
 * scale, plus a smooth spatial ramp), so random-weight models predict varied classes.
 */
export function variedInput(shape: readonly number[], seed: number): tf.Tensor {
  const r = rng(seed);
  const [n, ...rest] = shape as [number, ...number[]];
  const c = rest[rest.length - 1]!;
  const per = rest.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * per);
  for (let s = 0; s < n; s++) {
    const off = Array.from({ length: c }, () => r() * 2 - 1);
    const sc = Array.from({ length: c }, () => 0.2 + r() * 1.5);
    const fx = r() * 6 - 3, fy = r() * 6 - 3;
    for (let i = 0; i < per; i++) {
      const ch = i % c;
      const pix = Math.floor(i / c);
      const w = rest.length === 3 ? rest[1]! : 1;
      const px = (pix % w) / w, py = Math.floor(pix / w) / Math.max(1, rest[0]!);
      out[s * per + i] = off[ch]! + sc[ch]! * ((r() * 2 - 1) * 0.5 + Math.sin(fx * px + fy * py + ch));
    }
  }
  return tf.tensor(out, [...shape]);
}

/** Top-1 agreement of two probability outputs, overall and on the samples where `ref` is confident (top-2 margin ≥ margin). */
export function top1Agreement(out: ArrayLike<number>, ref: ArrayLike<number>, classes: number, margin = 0.1): { all: number; confident: number; count: number } {
  const a = argmaxRows(out, classes), b = argmaxRows(ref, classes);
  let conf = 0, confAgree = 0;
  for (let r = 0; r < b.length; r++) {
    const row = Array.from({ length: classes }, (_, c) => ref[r * classes + c]!).sort((x, y) => y - x);
    if (row[0]! - (row[1] ?? 0) >= margin) {
      conf++;
      if (a[r] === b[r]) confAgree++;
    }
  }
  return { all: agreement(a, b), confident: conf ? confAgree / conf : 1, count: conf };
}

/**
 * One round of a native-plan fuzz test: constructs a session from a (mutated) plan; a plan
 * the native side rejects must throw an Error; an accepted one must run (batch 2) or fail
 * with a clear error, never an internal one. Returns whether the plan was accepted.
 */
export async function tryMutatedPlan(p: RuntimePlan, seed: number): Promise<boolean> {
  const Ctor = native().RuntimeSession;
  let s;
  try {
    s = new Ctor(p, 1);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return false;
  }
  const inputs = p.inputs.map((id) => {
    const b = p.buffers[id]!;
    const n = b.shape.reduce((a, d) => a * (d < 0 ? 2 : d), 1);
    return b.dtype === 0 ? variedInput([n], seed).dataSync() as Float32Array : b.dtype === 3 ? new Int32Array(n) : b.dtype === 1 ? new Int8Array(n) : new Uint8Array(n);
  });
  try {
    await s.run(2, inputs);
  } catch (e) {
    expect(String(e)).not.toMatch(/internal/);
  }
  s.dispose();
  return true;
}
