// Float convolution and matmul graphs as TF.js graph-model JSON, run in InferenceSession and
// compared with stock tfjs-converter on the same JSON: the fixtures of the float-kernel path
// tests (few output channels, windows read in place).
import { expect } from 'vitest';
import { tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, convAttrs, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

const F = { T: a.type('float32') };
const wave = (n: number, f: number, phase = 0) => Array.from({ length: n }, (_, i) => Math.sin(i * f + phase) * 0.5);

/**
 * x [batch, h, w, c] → Conv2D k×k (SAME, stride s) to n channels → BiasAdd → Relu6 (or `act`);
 * `fused`: as one _FusedConv2D node (BiasAdd and the activation in its fused_ops), which the
 * runtime runs with the activation in the GEMM's epilogue.
 */
export function convModel(
  h: number,
  w: number,
  c: number,
  k: number,
  n: number,
  stride: number,
  batch = 1,
  act: 'Relu6' | 'Relu' = 'Relu6',
  fused = false,
): HandModel {
  const nodes = fused
    ? [
        {
          name: 'out',
          op: '_FusedConv2D',
          input: ['x', 'filter', 'bias'],
          attr: { ...convAttrs(stride), fused_ops: a.strs(['BiasAdd', act]), num_args: a.i(1), epsilon: a.f(0) },
        },
      ]
    : [
        { name: 'conv', op: 'Conv2D', input: ['x', 'filter'], attr: convAttrs(stride) },
        { name: 'bias_add', op: 'BiasAdd', input: ['conv', 'bias'], attr: { ...F, data_format: a.s('NHWC') } },
        { name: 'out', op: act, input: ['bias_add'], attr: F },
      ];
  return handModel([placeholder('x', 'float32', [batch, h, w, c]), ...nodes], {
    filter: { dtype: 'float32', shape: [k, k, c, n], values: wave(k * k * c * n, 0.37) },
    bias: { dtype: 'float32', shape: [n], values: wave(n, 1.1, 0.3) },
  });
}

/** x [rows, k] → MatMul [k, n] → BiasAdd (a dense head, no activation). */
export function denseModel(rows: number, k: number, n: number): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [rows, k]),
      { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { ...F, transpose_a: a.b(false), transpose_b: a.b(false) } },
      { name: 'out', op: 'BiasAdd', input: ['mm', 'bias'], attr: { ...F, data_format: a.s('NHWC') } },
    ],
    {
      w: { dtype: 'float32', shape: [k, n], values: wave(k * n, 0.23) },
      bias: { dtype: 'float32', shape: [n], values: wave(n, 0.9) },
    },
  );
}

/**
 * The session's output on x [shape] (normal values; `nan`: these flat indices NaN) equals stock
 * tfjs's up to float32 rounding, and is NaN exactly where stock's is.
 */
export async function expectStock(m: HandModel, shape: number[], what: string, nan: number[] = []) {
  const s = await InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 2,
  });
  try {
    expect(s.summary.nativeNodes, what).toBe(s.plan.length);
    const values = tf.randomNormal(shape, 0, 1, 'float32', 11);
    const flat = values.dataSync() as Float32Array;
    for (const i of nan) flat[i] = NaN;
    const x = tf.tensor(flat, shape);
    values.dispose();
    const [want] = await stockRun(m, { x }, ['out']);
    const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape } })).out!;
    expect(got.shape, what).toEqual(want!.shape);
    const w = want!.dataSync() as Float32Array;
    const g = got.data as Float32Array;
    // Float32 dot products of up to 200 terms summed in another order: rounding, no more.
    let worst = 0,
      nanMismatch = 0,
      nans = 0;
    for (let i = 0; i < w.length; i++) {
      if (Number.isNaN(w[i]!) || Number.isNaN(g[i]!)) {
        nans++;
        if (Number.isNaN(w[i]!) !== Number.isNaN(g[i]!)) nanMismatch++;
        continue;
      }
      worst = Math.max(worst, Math.abs(g[i]! - w[i]!) / Math.max(1, Math.abs(w[i]!)));
    }
    expect(nanMismatch, what).toBe(0);
    if (nan.length) expect(nans, `${what}: NaN outputs`).toBeGreaterThan(0);
    expect(worst, what).toBeLessThanOrEqual(2e-5);
    tf.dispose([x, want!]);
  } finally {
    s.dispose();
  }
}
