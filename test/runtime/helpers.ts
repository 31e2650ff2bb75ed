// Shared fixtures of the runtime tests: float graphs from tfjs-layers models, quantization
// through the PTQ quantize() (src/quant), inputs, and comparisons.
import { expect } from 'vitest';
import { tf } from '../../src/backend/float.js';
import { execute, loadModel, optimize, type Graph } from '../../src/model/index.js';
import { rng, saveLayersToMemory } from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { native } from '../../src/native/binding.js';
import type { RuntimePlan } from '../../binding.js';
import type { convGeometry } from '../../src/kernels/ops.js';

export async function graphOf(model: tf.LayersModel): Promise<Graph> {
  return optimize(await loadModel(await saveLayersToMemory(model)));
}

/** The PTQ quantizer (src/quant/quantize.ts) on `calib`: int8 (calibrated activations) or dynamic; per-channel weights. */
export async function quantized(
  g: Graph,
  calib: tf.Tensor,
  mode: 'int8' | 'dynamic' = 'int8',
  granularity: 'tensor' | 'row' = 'tensor',
): Promise<Graph> {
  const r = await quantize(g, {
    mode,
    calibration: [calib],
    report: false,
    optimize: false,
    // The runtime's tests exercise the dynamic kernel on every layer, however few products
    // per output it has (a conversion runs those below DYNAMIC_MIN_K or DYNAMIC_MIN_N float).
    ...(mode === 'dynamic' ? { dynamicGranularity: granularity, dynamicMinK: 0, dynamicMinN: 0 } : {}),
  });
  return r.graph;
}

/** max |a − b| / max(|b|, tiny) */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0,
    s = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
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
    const fx = r() * 6 - 3,
      fy = r() * 6 - 3;
    for (let i = 0; i < per; i++) {
      const ch = i % c;
      const pix = Math.floor(i / c);
      const w = rest.length === 3 ? rest[1]! : 1;
      const px = (pix % w) / w,
        py = Math.floor(pix / w) / Math.max(1, rest[0]!);
      out[s * per + i] = off[ch]! + sc[ch]! * ((r() * 2 - 1) * 0.5 + Math.sin(fx * px + fy * py + ch));
    }
  }
  return tf.tensor(out, [...shape]);
}

/** Top-1 agreement of two probability outputs, overall and on the samples where `ref` is confident (top-2 margin ≥ margin). */
export function top1Agreement(
  out: ArrayLike<number>,
  ref: ArrayLike<number>,
  classes: number,
  margin = 0.1,
): { all: number; confident: number; count: number } {
  const a = argmaxRows(out, classes),
    b = argmaxRows(ref, classes);
  let conf = 0,
    confAgree = 0;
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
 * The location an `invalid plan:` message names: a step (its index and op), a buffer, or the
 * plan's input / output lists. The native validator (native/runtime/session.cc) prefixes every
 * rejection with one of these, so a mutation is traced to the place that checks it.
 */
const PLAN_ERROR = /^invalid plan: (?:steps\[(\d+)\] \(([a-z0-9_]+)\): |buffers\[(\d+)\]: |(inputs|outputs): )\S/;

/**
 * One round of a native-plan fuzz test: constructs a session from a (mutated) plan. A plan the
 * native side rejects must throw a RangeError whose message names a real location of the plan
 * (the step `localTo`, when the mutation touched only that step's own fields); a plan it
 * accepts must run at batch 2 and return one array of the declared size per output — the
 * validator's promise is that an accepted plan cannot fail inside a kernel. Returns whether
 * the plan was accepted.
 */
export async function tryMutatedPlan(p: RuntimePlan, seed: number, localTo?: number): Promise<boolean> {
  const Ctor = native().RuntimeSession;
  let s;
  try {
    s = new Ctor(p, { threads: 1 });
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    const m = PLAN_ERROR.exec((e as Error).message);
    expect(m, (e as Error).message).not.toBeNull();
    const [, step, op, buffer] = m!;
    if (step !== undefined) {
      expect(Number(step)).toBeLessThan(p.steps.length);
      expect(p.steps[Number(step)]!.op).toBe(op);
    }
    if (buffer !== undefined) expect(Number(buffer)).toBeLessThan(p.buffers.length);
    if (localTo !== undefined) expect((e as Error).message).toContain(`steps[${localTo}] (${p.steps[localTo]!.op}): `);
    return false;
  }
  const batch = 2;
  const elements = (id: number): number => p.buffers[id]!.shape.reduce((a, d) => a * (d < 0 ? batch : d), 1);
  const inputs = p.inputs.map((id) => {
    const n = elements(id);
    const dtype = p.buffers[id]!.dtype;
    return dtype === 0
      ? (variedInput([n], seed).dataSync() as Float32Array)
      : dtype === 3
        ? new Int32Array(n)
        : dtype === 1
          ? new Int8Array(n)
          : new Uint8Array(n);
  });
  const outs = await s.run(inputs, { batch });
  expect(outs.map((o) => o.length)).toEqual(p.outputs.map(elements));
  s.dispose();
  return true;
}

/** A conv step's `geom` ints (kernel, strides, dilations, paddings) from the ops API's geometry. */
export function stepGeom(g: ReturnType<typeof convGeometry>): number[] {
  return [
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padBottom,
    g.padLeft,
    g.padRight,
  ];
}
