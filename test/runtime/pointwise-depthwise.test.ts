// A 1 × 1 convolution and the depthwise convolution that alone reads it run as one step, float
// (pw_dw_f32) or int8 (pw_dw_i8) (src/runtime/pointwise-depthwise.ts), the tensor between them
// kept as a band of rows in cache. The step runs the unfused steps' kernels on bands of rows, so
// it must give their output bit for bit — on every ISA path, with bands that keep rows from the
// band before, threads splitting the rows, border rows, strides, dilation and padding larger
// than the window.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { optimize } from '../../src/model/passes/index.js';
import { native } from '../../src/native/binding.js';
import { getIsa, setIsa, supportedIsas } from '../../src/native/cpu.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { quantize } from '../../src/quant/index.js';
import { dequantizeSim, simulate } from '../../src/quant/simulate.js';
import { makeStep } from '../../src/runtime/step-schema.js';
import { expectEqualArrays, randInt, randQ, randW, rng } from '../ops/helpers.js';
import { a, convAttrs, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

interface Case {
  /** Input [N, H, W, Cin] and the expanded channels C. */
  xs: [number, number, number, number];
  c: number;
  /** geom[10] of the depthwise convolution: kh kw sh sw dh dw pt pb pl pr. */
  geom: number[];
  pwAct: number;
  dwAct: number;
  bias: boolean;
}

const out = (n: number, k: number, s: number, d: number, p0: number, p1: number) =>
  Math.floor((n + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;

const cases: Case[] = [
  { xs: [2, 13, 11, 5], c: 24, geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pwAct: 2, dwAct: 2, bias: true },
  { xs: [1, 20, 9, 8], c: 40, geom: [3, 3, 2, 2, 1, 1, 0, 1, 0, 1], pwAct: 1, dwAct: 0, bias: true },
  { xs: [1, 15, 15, 16], c: 8, geom: [5, 5, 2, 2, 1, 1, 2, 2, 2, 2], pwAct: 3, dwAct: 1, bias: false },
  // 8 channels at stride 1: the AVX-512 kernel's two-pixels-per-register path.
  { xs: [1, 12, 30, 6], c: 8, geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pwAct: 0, dwAct: 2, bias: true },
  { xs: [1, 9, 10, 4], c: 20, geom: [3, 3, 1, 1, 2, 2, 0, 0, 0, 0], pwAct: 2, dwAct: 0, bias: true },
  // Padding beyond the window: output rows whose windows hold no input row (bias only).
  { xs: [1, 6, 6, 4], c: 8, geom: [3, 3, 1, 1, 1, 1, 3, 3, 3, 3], pwAct: 1, dwAct: 0, bias: true },
  // Rows of 64 × 96 floats: bands of 19 output rows, each keeping two rows of the band before.
  { xs: [1, 70, 64, 16], c: 96, geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pwAct: 2, dwAct: 2, bias: true },
  // 5 × 5, stride 2, 192 channels: bands of 7 output rows over 17 pointwise rows.
  { xs: [1, 57, 40, 8], c: 192, geom: [5, 5, 2, 2, 1, 1, 1, 2, 1, 2], pwAct: 2, dwAct: 2, bias: true },
  // Small pictures of many channels, which the int8 step splits into channel groups at 64-column
  // boundaries when threads share them (groups of 128 and 120 channels, of 64 and 72; stride 2;
  // no bias).
  { xs: [1, 7, 7, 40], c: 248, geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pwAct: 2, dwAct: 2, bias: true },
  { xs: [1, 6, 9, 24], c: 136, geom: [3, 3, 2, 2, 1, 1, 0, 1, 1, 1], pwAct: 1, dwAct: 0, bias: false },
];

type Plan = ConstructorParameters<ReturnType<typeof native>['RuntimeSession']>[0];

/** A plan of one input buffer [-1, H, W, Cin], `mid` buffers and one output, dtype 0 (f32) or 1 (i8). */
function stepPlan(cs: Case, dtype: 0 | 1, weights: Plan['weights'], steps: Plan['steps']): Plan {
  const [, H, W, CI] = cs.xs;
  const [kh, kw, sh, sw, dh, dw, pt, pb, pl, pr] = cs.geom as [number, ...number[]];
  const ys = [-1, out(H, kh, sh!, dh!, pt!, pb!), out(W, kw!, sw!, dw!, pl!, pr!), cs.c];
  const mid = steps.length === 2 ? [{ dtype, shape: [-1, H, W, cs.c] }] : [];
  return {
    buffers: [{ dtype, shape: [-1, H, W, CI] }, ...mid, { dtype, shape: ys }],
    weights,
    steps,
    inputs: [0],
    outputs: [mid.length + 1],
  };
}

/**
 * For every case, batch 1 and 2 and every ISA path: the fused plan at 1 to 3 threads (3 at batch
 * 2: a part's rows start inside an image and run into the next one) gives the unfused plan's
 * output (1 thread) bit for bit. `make` builds a case's two plans and its input.
 */
async function expectFusedEqualsUnfused(
  make: (cs: Case) => { fused: Plan; unfused: Plan; input: (batch: number) => Float32Array | Int8Array },
): Promise<void> {
  const prev = getIsa();
  try {
    for (const cs of cases) {
      const { fused, unfused, input } = make(cs);
      for (const batch of [1, 2]) {
        const x = input(batch);
        for (const isa of supportedIsas()) {
          setIsa(isa);
          const ref = new (native().RuntimeSession)(unfused, { threads: 1 });
          const [want] = await ref.run([x], { batch });
          ref.dispose();
          expect(new Set(want!).size, `${cs.xs} distinct outputs`).toBeGreaterThan(10);
          for (const threads of [1, 2, 3]) {
            const s = new (native().RuntimeSession)(fused, { threads });
            const [got] = await s.run([x], { batch });
            s.dispose();
            expectEqualArrays(
              got!,
              want!,
              `${cs.xs} → ${cs.c} geom ${cs.geom} batch ${batch} ${isa} threads ${threads}`,
            );
          }
        }
      }
    }
  } finally {
    setIsa(prev);
  }
}

const POINTWISE_GEOM = [1, 1, 1, 1, 1, 1, 0, 0, 0, 0];

describe('pw_dw_f32 step equals conv_f32 then dw_f32', () => {
  it('bit for bit on every ISA path, 1 to 3 threads, batch 1 and 2', async () => {
    const r = rng(41);
    const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
    await expectFusedEqualsUnfused((cs) => {
      const [, H, W, CI] = cs.xs;
      const [kh, kw] = cs.geom as [number, number];
      const C = cs.c;
      const pwW = rand(CI * C, 0.6),
        pwB = rand(C),
        dwW = rand(kh * kw * C, 0.5),
        dwB = rand(C);
      const weights = cs.bias ? [pwW, pwB, dwW, dwB] : [pwW, dwW];
      const [wi, bi, dwi, dbi] = cs.bias ? [0, 1, 2, 3] : [0, -1, 1, -1];
      return {
        fused: stepPlan(cs, 0, weights, [
          makeStep('pw_dw_f32', {
            inputs: [0],
            output: 1,
            ints: { geom: cs.geom, pw_act: cs.pwAct, dw_act: cs.dwAct },
            floats: { pw_alpha: 0.15 },
            weights: { pw_w: wi, pw_bias: bi, dw_w: dwi, dw_bias: dbi },
          }),
        ]),
        unfused: stepPlan(cs, 0, weights, [
          makeStep('conv_f32', {
            inputs: [0],
            output: 1,
            ints: { geom: POINTWISE_GEOM, act: cs.pwAct },
            floats: { alpha: 0.15 },
            weights: { w: wi, bias: bi },
          }),
          makeStep('dw_f32', {
            inputs: [1],
            output: 2,
            ints: { geom: cs.geom, multiplier: 1, act: cs.dwAct },
            floats: { alpha: 0.2 },
            weights: { w: dwi, bias: dbi },
          }),
        ]),
        input: (batch) => rand(batch * H * W * CI, 2),
      };
    });
  });

  it('rejects what it cannot run: an activation needing its own pass, mismatched weights and shapes', () => {
    const plan = (over: { pwAct?: number; dwAct?: number; dwLen?: number; ys?: number[] }) => ({
      buffers: [
        { dtype: 0 as const, shape: [-1, 8, 8, 4] },
        { dtype: 0 as const, shape: over.ys ?? [-1, 8, 8, 16] },
      ],
      weights: [new Float32Array(4 * 16), new Float32Array(over.dwLen ?? 9 * 16)],
      steps: [
        makeStep('pw_dw_f32', {
          inputs: [0],
          output: 1,
          ints: { geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pw_act: over.pwAct ?? 0, dw_act: over.dwAct ?? 0 },
          floats: { pw_alpha: 0.2 },
          weights: { pw_w: 0, pw_bias: -1, dw_w: 1, dw_bias: -1 },
        }),
      ],
      inputs: [0],
      outputs: [1],
    });
    const Ctor = native().RuntimeSession;
    expect(() => new Ctor(plan({}), { threads: 1 })).not.toThrow();
    expect(() => new Ctor(plan({ pwAct: 5 }), { threads: 1 })).toThrow(/pointwise activation/);
    expect(() => new Ctor(plan({ dwAct: 3 }), { threads: 1 })).toThrow(/depthwise activation/);
    expect(() => new Ctor(plan({ dwLen: 9 * 16 - 1 }), { threads: 1 })).toThrow(/depthwise weights/);
    expect(() => new Ctor(plan({ ys: [-1, 8, 7, 16] }), { threads: 1 })).toThrow(/does not match the geometry/);
  });
});

describe('pw_dw_i8 step equals conv_i8 then dw_i8', () => {
  it('bit for bit on every ISA path, 1 to 3 threads, batch 1 and 2, clamped and unclamped', async () => {
    const r = rng(43);
    // The cases' activation codes as int8 bounds around a zero point: none, ReLU, ReLU6-like.
    const bounds = (act: number, zp: number): [number, number] =>
      act === 0 ? [-128, 127] : act === 2 ? [zp, Math.min(127, zp + 70)] : [zp, 127];
    await expectFusedEqualsUnfused((cs) => {
      const [, H, W, CI] = cs.xs;
      const [kh, kw] = cs.geom as [number, number];
      const C = cs.c;
      const za = randInt(r, -20, 20),
        zm = randInt(r, -30, 10),
        zo = randInt(r, -10, 10);
      const [mlo, mhi] = bounds(cs.pwAct, zm),
        [lo, hi] = bounds(cs.dwAct, zo);
      // Multipliers that keep most outputs off the bounds: the comparison sees the arithmetic.
      const pwW = randW(r, CI * C),
        pwB = Int32Array.from({ length: C }, () => randInt(r, -2000, 2000)),
        pwM = Float32Array.from({ length: C }, () => (0.3 + r()) / (CI * 40)),
        dwW = randW(r, kh * kw * C),
        dwB = Int32Array.from({ length: C }, () => randInt(r, -2000, 2000)),
        dwM = Float32Array.from({ length: C }, () => (0.3 + r()) / (kh * kw * 40));
      const weights = cs.bias ? [pwW, pwB, pwM, dwW, dwB, dwM] : [pwW, pwM, dwW, dwM];
      const [wi, bi, mi, dwi, dbi, dmi] = cs.bias ? [0, 1, 2, 3, 4, 5] : [0, -1, 1, 2, -1, 3];
      return {
        fused: stepPlan(cs, 1, weights, [
          makeStep('pw_dw_i8', {
            inputs: [0],
            output: 1,
            ints: {
              geom: cs.geom,
              x_zero_point: za,
              mid_zero_point: zm,
              mid_qmin: mlo,
              mid_qmax: mhi,
              y_zero_point: zo,
              qmin: lo,
              qmax: hi,
            },
            weights: { pw_w: wi, pw_bias: bi, pw_multipliers: mi, dw_w: dwi, dw_bias: dbi, dw_multipliers: dmi },
          }),
        ]),
        unfused: stepPlan(cs, 1, weights, [
          makeStep('conv_i8', {
            inputs: [0],
            output: 1,
            ints: { geom: POINTWISE_GEOM, x_zero_point: za, y_zero_point: zm, qmin: mlo, qmax: mhi },
            weights: { w: wi, bias: bi, multipliers: mi },
          }),
          makeStep('dw_i8', {
            inputs: [1],
            output: 2,
            ints: { geom: cs.geom, multiplier: 1, x_zero_point: zm, y_zero_point: zo, qmin: lo, qmax: hi },
            weights: { w: dwi, bias: dbi, multipliers: dmi },
          }),
        ]),
        input: (batch) => randQ(r, 'int8', batch * H * W * CI) as Int8Array,
      };
    });
  });

  it('rejects mismatched bounds, weights and shapes', () => {
    const plan = (over: { midLo?: number; dwLen?: number; multLen?: number; ys?: number[] }) => ({
      buffers: [
        { dtype: 1 as const, shape: [-1, 8, 8, 4] },
        { dtype: 1 as const, shape: over.ys ?? [-1, 8, 8, 16] },
      ],
      weights: [
        new Int8Array(4 * 16),
        new Float32Array(over.multLen ?? 16).fill(0.01),
        new Int8Array(over.dwLen ?? 9 * 16),
        new Float32Array(16).fill(0.01),
      ],
      steps: [
        makeStep('pw_dw_i8', {
          inputs: [0],
          output: 1,
          ints: {
            geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1],
            x_zero_point: 0,
            mid_zero_point: 0,
            mid_qmin: over.midLo ?? -128,
            mid_qmax: 0,
            y_zero_point: 0,
            qmin: -128,
            qmax: 127,
          },
          weights: { pw_w: 0, pw_bias: -1, pw_multipliers: 1, dw_w: 2, dw_bias: -1, dw_multipliers: 3 },
        }),
      ],
      inputs: [0],
      outputs: [1],
    });
    const Ctor = native().RuntimeSession;
    expect(() => new Ctor(plan({}), { threads: 1 })).not.toThrow();
    expect(() => new Ctor(plan({ midLo: 5 }), { threads: 1 })).toThrow(/pointwise qmin > qmax/);
    expect(() => new Ctor(plan({ multLen: 15 }), { threads: 1 })).toThrow(/pointwise multipliers/);
    expect(() => new Ctor(plan({ dwLen: 9 * 16 - 1 }), { threads: 1 })).toThrow(/weights/);
    expect(() => new Ctor(plan({ ys: [-1, 8, 7, 16] }), { threads: 1 })).toThrow(/does not match the geometry/);
  });
});

describe('pw_dw_dyn step equals conv_dyn (per row) then dw_f32', () => {
  it('bit for bit on every ISA path, 1 to 3 threads, batch 1 and 2', async () => {
    const r = rng(47);
    const rand = (n: number, scale = 1) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
    await expectFusedEqualsUnfused((cs) => {
      const [, H, W, CI] = cs.xs;
      const [kh, kw] = cs.geom as [number, number];
      const C = cs.c;
      // The dynamic convolution's activation is one of its bounds (leaky ReLU is not).
      const pwAct = cs.pwAct === 3 ? 1 : cs.pwAct;
      const pwW = randW(r, CI * C),
        pwS = Float32Array.from({ length: C }, () => 0.002 + r() * 0.01),
        pwB = rand(C),
        dwW = rand(kh * kw * C, 0.5),
        dwB = rand(C);
      const weights = cs.bias ? [pwW, pwS, pwB, dwW, dwB] : [pwW, pwS, dwW];
      const [wi, si, bi, dwi, dbi] = cs.bias ? [0, 1, 2, 3, 4] : [0, 1, -1, 2, -1];
      return {
        fused: stepPlan(cs, 0, weights, [
          makeStep('pw_dw_dyn', {
            inputs: [0],
            output: 1,
            ints: { geom: cs.geom, pw_act: pwAct, dw_act: cs.dwAct },
            weights: { pw_w: wi, pw_w_scales: si, pw_bias: bi, dw_w: dwi, dw_bias: dbi },
          }),
        ]),
        unfused: stepPlan(cs, 0, weights, [
          makeStep('conv_dyn', {
            inputs: [0],
            output: 1,
            ints: { geom: POINTWISE_GEOM, per_row: 1, act: pwAct },
            floats: { alpha: 0.2 },
            weights: { w: wi, w_scales: si, bias: bi },
          }),
          makeStep('dw_f32', {
            inputs: [1],
            output: 2,
            ints: { geom: cs.geom, multiplier: 1, act: cs.dwAct },
            floats: { alpha: 0.2 },
            weights: { w: dwi, bias: dbi },
          }),
        ]),
        // Rows of different ranges: each row's own quantization is what a band must keep.
        input: (batch) => Float32Array.from(rand(batch * H * W * CI, 2), (v, i) => v * (1 + (Math.floor(i / CI) % 5))),
      };
    });
  });

  it('rejects an activation the GEMM does not apply and scales of the wrong length', () => {
    const plan = (over: { pwAct?: number; scales?: number }) => ({
      buffers: [
        { dtype: 0 as const, shape: [-1, 8, 8, 4] },
        { dtype: 0 as const, shape: [-1, 8, 8, 16] },
      ],
      weights: [new Int8Array(4 * 16), new Float32Array(over.scales ?? 16).fill(0.01), new Float32Array(9 * 16)],
      steps: [
        makeStep('pw_dw_dyn', {
          inputs: [0],
          output: 1,
          ints: { geom: [3, 3, 1, 1, 1, 1, 1, 1, 1, 1], pw_act: over.pwAct ?? 0, dw_act: 0 },
          weights: { pw_w: 0, pw_w_scales: 1, pw_bias: -1, dw_w: 2, dw_bias: -1 },
        }),
      ],
      inputs: [0],
      outputs: [1],
    });
    const Ctor = native().RuntimeSession;
    expect(() => new Ctor(plan({}), { threads: 1 })).not.toThrow();
    expect(() => new Ctor(plan({ scales: 1 }), { threads: 1 })).not.toThrow();
    expect(() => new Ctor(plan({ pwAct: 3 }), { threads: 1 })).toThrow(/pointwise activation/);
    expect(() => new Ctor(plan({ scales: 15 }), { threads: 1 })).toThrow(/weight scales/);
  });
});

const F = { T: a.type('float32') };
const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => Math.sin(i * f) * 0.7);

/**
 * x [1, 17, 15, 6] → 1×1 conv e (+ bias, Relu6) → depthwise 3×3 stride 2 d (+ bias, Relu6) →
 * 1×1 conv p; and e2 = a second 1×1 conv of x, read by a depthwise conv and by an Add (two
 * readers: not fused). `extra` names more outputs.
 */
function model(extra: string[] = []): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [1, 17, 15, 6]),
      { name: 'e', op: 'Conv2D', input: ['x', 'ew'], attr: convAttrs(1, 'VALID') },
      { name: 'eb', op: 'BiasAdd', input: ['e', 'ebias'], attr: F },
      { name: 'er', op: 'Relu6', input: ['eb'], attr: F },
      { name: 'd', op: 'DepthwiseConv2dNative', input: ['er', 'dw'], attr: convAttrs(2, 'SAME') },
      { name: 'db', op: 'BiasAdd', input: ['d', 'dbias'], attr: F },
      { name: 'dr', op: 'Relu6', input: ['db'], attr: F },
      { name: 'p', op: 'Conv2D', input: ['dr', 'pw'], attr: convAttrs(1, 'VALID') },
      { name: 'e2', op: 'Conv2D', input: ['x', 'ew'], attr: convAttrs(1, 'VALID') },
      { name: 'd2', op: 'DepthwiseConv2dNative', input: ['e2', 'dw'], attr: convAttrs(1, 'SAME') },
      { name: 'sum', op: 'AddV2', input: ['d2', 'e2'], attr: F },
    ],
    {
      ew: { dtype: 'float32', shape: [1, 1, 6, 24], values: wave(144, 0.37) },
      ebias: { dtype: 'float32', shape: [24], values: wave(24, 1.3) },
      dw: { dtype: 'float32', shape: [3, 3, 24, 1], values: wave(216, 0.61) },
      dbias: { dtype: 'float32', shape: [24], values: wave(24, 0.77) },
      pw: { dtype: 'float32', shape: [1, 1, 24, 8], values: wave(192, 0.29) },
    },
    { signature: { outputs: Object.fromEntries(['p', 'sum', ...extra].map((o) => [o, { name: `${o}:0` }])) } },
  );
}

async function run(m: HandModel, x: tf.Tensor) {
  // As a conversion writes it: bias and Relu6 folded into the convolutions.
  const s = await InferenceSession.create(
    optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData })),
    {
      threads: 1,
    },
  );
  try {
    const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 17, 15, 6] } });
    return { res, plan: s.plan };
  } finally {
    s.dispose();
  }
}

describe('1 × 1 convolution → depthwise convolution planned as one step', () => {
  it('fuses the pair whose depthwise convolution alone reads the expansion; outputs equal the unfused plan bit for bit and stock tfjs', async () => {
    const x = tf.randomNormal([1, 17, 15, 6], 0, 2, 'float32', 5);
    try {
      const fused = await run(model(), x);
      const fusedInto = fused.plan.filter((p) => p.fusedInto).map((p) => [p.node, p.fusedInto]);
      // The expansion e (with its bias and Relu6) runs inside d's step; e2 has two readers.
      expect(
        fusedInto.some(([, into]) => into === fused.plan.find((p) => p.op === 'DepthwiseConv2dNative')?.node),
      ).toBe(true);
      expect(fusedInto.some(([node]) => String(node).startsWith('e2'))).toBe(false);
      // The same model with the expansion also an output: nothing to fuse there.
      const plain = await run(model(['er']), x);
      expect(plain.plan.filter((p) => p.fusedInto && p.op === 'Conv2D' && !String(p.node).includes('2'))).toEqual([]);
      for (const name of ['p', 'sum'])
        expectEqualArrays(fused.res[name]!.data as Float32Array, plain.res[name]!.data as Float32Array, name);
      const m = model();
      const want = await stockRun(m, { x }, ['p', 'sum']);
      for (const [k, name] of ['p', 'sum'].entries()) {
        const w = want[k]!.dataSync() as Float32Array;
        const got = fused.res[name]!.data as Float32Array;
        for (let i = 0; i < w.length; i++)
          expect(Math.abs(got[i]! - w[i]!), `${name} element ${i}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w[i]!)));
      }
      tf.dispose(want);
    } finally {
      x.dispose();
    }
  });
});

describe('int8: 1 × 1 convolution → depthwise convolution planned as one step', () => {
  it('fuses the pair in a quantized graph; outputs equal the unfused plan and the int8 simulation bit for bit', async () => {
    const calib = [9, 10, 11, 12].map((seed) => tf.randomNormal([1, 17, 15, 6], 0, 2, 'float32', seed));
    const x = tf.randomNormal([1, 17, 15, 6], 0, 2, 'float32', 5);
    const int8 = async (m: HandModel) =>
      (
        await quantize(optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData })), {
          mode: 'int8',
          calibration: calib,
          report: false,
          optimize: false,
        })
      ).graph;
    const runGraph = async (g: Awaited<ReturnType<typeof int8>>) => {
      const s = await InferenceSession.create(g, { threads: 2 });
      try {
        const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 17, 15, 6] } });
        return { res, plan: s.plan };
      } finally {
        s.dispose();
      }
    };
    try {
      const g = await int8(model());
      const fused = await runGraph(g);
      expect(fused.plan.every((p) => p.placement === 'native-int8' || p.placement === 'folded')).toBe(true);
      const depthwise = fused.plan.find((p) => p.op === 'DepthwiseConv2dNative' && !p.fusedInto)?.node;
      expect(fused.plan.some((p) => p.fusedInto !== undefined && p.fusedInto === depthwise)).toBe(true);
      expect(fused.plan.some((p) => String(p.node).startsWith('e2') && p.fusedInto)).toBe(false);
      // The expansion also an output: the same quantization, nothing to fuse.
      const gPlain = await int8(model(['er']));
      const plain = await runGraph(gPlain);
      expect(plain.plan.filter((p) => p.fusedInto && p.op === 'Conv2D' && !String(p.node).includes('2'))).toEqual([]);
      const sim = simulate(g, { x });
      for (const [k, name] of ['p', 'sum'].entries()) {
        const got = fused.res[name]!.data as Float32Array;
        expectEqualArrays(got, plain.res[name]!.data as Float32Array, `${name} fused vs unfused`);
        expectEqualArrays(got, dequantizeSim(sim.outputs[k]!).data as Float32Array, `${name} vs simulation`);
      }
    } finally {
      tf.dispose([...calib, x]);
    }
  });
});

describe('dynamic: 1 × 1 convolution → depthwise convolution planned as one step', () => {
  it('fuses the pair when activations are quantized per row, not per tensor; fused equals unfused bit for bit', async () => {
    const calib = [9, 10].map((seed) => tf.randomNormal([1, 17, 15, 6], 0, 2, 'float32', seed));
    const x = tf.randomNormal([1, 17, 15, 6], 0, 2, 'float32', 5);
    const dynamic = async (m: HandModel, granularity: 'row' | 'tensor') =>
      (
        await quantize(optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData })), {
          mode: 'dynamic',
          calibration: calib,
          report: false,
          optimize: false,
          dynamicGranularity: granularity,
          // The test's layers are narrow: every one runs the dynamic kernel.
          dynamicMinK: 1,
          dynamicMinN: 1,
        })
      ).graph;
    const runGraph = async (g: Awaited<ReturnType<typeof dynamic>>) => {
      const s = await InferenceSession.create(g, { threads: 2 });
      try {
        const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 17, 15, 6] } });
        return { res, plan: s.plan };
      } finally {
        s.dispose();
      }
    };
    const fusedPairs = (plan: readonly { fusedInto?: string; op: string }[]) =>
      plan.filter((p) => p.fusedInto !== undefined && p.op === 'Conv2D').length;
    try {
      const fused = await runGraph(await dynamic(model(), 'row'));
      expect(fused.plan.some((p) => p.placement === 'native-dynamic')).toBe(true);
      expect(fusedPairs(fused.plan)).toBe(1);
      const plain = await runGraph(await dynamic(model(['er']), 'row'));
      expect(fusedPairs(plain.plan)).toBe(0);
      for (const name of ['p', 'sum'])
        expectEqualArrays(
          fused.res[name]!.data as Float32Array,
          plain.res[name]!.data as Float32Array,
          `${name} fused vs unfused`,
        );
      // Per tensor, a band does not see the tensor's range: not fused.
      const perTensor = await runGraph(await dynamic(model(), 'tensor'));
      expect(fusedPairs(perTensor.plan)).toBe(0);
    } finally {
      tf.dispose([...calib, x]);
    }
  });
});
