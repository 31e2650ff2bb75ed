// Atrous convolutions as TensorFlow writes them (a zero Pad, SpaceToBatchND, a VALID
// convolution of the phases, BatchToSpaceND) are planned as one native dilated convolution
// (src/runtime/atrous.ts); every result is compared with stock tfjs-converter on the same JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, stockRun, type HandModel } from '../model/graph-json.js';
import { simulate } from '../../src/quant/simulate.js';
import { quantized, relErr } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const valid = {
  ...F,
  strides: a.ints([1, 1, 1, 1]),
  padding: a.s('VALID'),
  data_format: a.s('NHWC'),
  dilations: a.ints([1, 1, 1, 1]),
};
const I = (shape: number[], values: number[]) => ({ dtype: 'int32' as const, shape, values });
const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => Math.sin(i * f) * 0.5);

/**
 * x [1, 9, 10, 3] → zero Pad 2 → SpaceToBatchND block 2 (one more row, to be divisible) → 3×3
 * depthwise → BatchToSpaceND cropping that row → Relu → SpaceToBatchND block 3 → 3×3 Conv2D
 * (4 filters) → BatchToSpaceND → Tanh; `extra` names more outputs.
 */
function atrousModel(extra: string[] = []): HandModel {
  return handModel(
    [
      placeholder('x', 'float32', [1, 9, 10, 3]),
      { name: 'pad', op: 'Pad', input: ['x', 'pads'], attr: { ...F, Tpaddings: a.type('int32') } },
      { name: 'stb', op: 'SpaceToBatchND', input: ['pad', 'block2', 'phase_pad2'], attr: F },
      { name: 'dw', op: 'DepthwiseConv2dNative', input: ['stb', 'dw_filter'], attr: valid },
      { name: 'bts', op: 'BatchToSpaceND', input: ['dw', 'block2', 'crop2'], attr: F },
      { name: 'relu', op: 'Relu', input: ['bts'], attr: F },
      { name: 'stb3', op: 'SpaceToBatchND', input: ['relu', 'block3', 'phase_pad3'], attr: F },
      { name: 'conv', op: 'Conv2D', input: ['stb3', 'conv_filter'], attr: valid },
      { name: 'bts3', op: 'BatchToSpaceND', input: ['conv', 'block3', 'crop3'], attr: F },
      { name: 'out', op: 'Tanh', input: ['bts3'], attr: F },
    ],
    {
      pads: I([4, 2], [0, 0, 2, 2, 2, 2, 0, 0]),
      block2: I([2], [2, 2]),
      // Padded 13 × 14: one more row makes 14 × 14; the output keeps 13 − 4 = 9 rows after the crop.
      phase_pad2: I([2, 2], [0, 1, 0, 0]),
      crop2: I([2, 2], [0, 1, 0, 0]),
      dw_filter: { dtype: 'float32', shape: [3, 3, 3, 1], values: wave(27, 0.7) },
      block3: I([2], [3, 3]),
      // 9 × 10 padded by 3 each side ("SAME" for a 3×3 kernel dilated 3) and to multiples of 3.
      phase_pad3: I([2, 2], [3, 3, 3, 5]),
      crop3: I([2, 2], [0, 0, 0, 2]),
      conv_filter: { dtype: 'float32', shape: [3, 3, 3, 4], values: wave(108, 0.3) },
    },
    extra.length
      ? { signature: { outputs: Object.fromEntries(['out', ...extra].map((o) => [o, { name: `${o}:0` }])) } }
      : {},
  );
}

const input = () => tf.randomNormal([1, 9, 10, 3], 0, 1, 'float32', 5);

async function sessionOf(m: HandModel) {
  return InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 1,
  });
}

describe('atrous convolutions', () => {
  it('Pad → SpaceToBatchND → conv → BatchToSpaceND runs as one native dilated convolution, as stock tfjs', async () => {
    const m = atrousModel();
    const s = await sessionOf(m);
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      for (const [node, conv] of [
        ['pad', 'dw'],
        ['stb', 'dw'],
        ['bts', 'dw'],
        ['stb3', 'conv'],
        ['bts3', 'conv'],
      ] as const) {
        expect(where.get(node)!.placement, node).toBe('native-float');
        expect(where.get(node)!.fusedInto, node).toBe(conv);
      }
      expect(where.get('dw')!.placement).toBe('native-float');
      expect(where.get('conv')!.placement).toBe('native-float');
      expect(s.summary.nativeNodes).toBe(s.plan.length);
      const x = input();
      const [want] = await stockRun(m, { x }, ['out']);
      const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 9, 10, 3] } })).out!;
      expect(got.shape).toEqual(want!.shape);
      const w = want!.dataSync() as Float32Array;
      // Two float32 dot products of 9 and 27 terms in another order: rounding, no more.
      for (let i = 0; i < w.length; i++)
        expect(Math.abs((got.data as Float32Array)[i]! - w[i]!), `element ${i}`).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, want!]);
    } finally {
      s.dispose();
    }
  });

  it('int8: the dilated convolution (Pad input and BatchToSpaceND output parameters) equals the simulation of the graph as written, and float within rounding', async () => {
    const m = atrousModel();
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    // Calibrated on the input it runs: no clipping, only the roundings of the int8 arithmetic.
    const calib = input();
    const q = await quantized(g, calib);
    const s = await InferenceSession.create(q, { threads: 1 });
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('dw')!.placement).toBe('native-int8');
      expect(where.get('conv')!.placement).toBe('native-int8');
      expect(where.get('stb')!.fusedInto).toBe('dw');
      const x = input();
      const [want] = await stockRun(m, { x }, ['out']);
      const got = (await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 9, 10, 3] } })).out!
        .data as Float32Array;
      // The simulation of the quantized graph (docs/quantization.md §12) runs the reshuffles
      // as written: the dilated convolution gives exactly its values.
      expect(Array.from(got)).toEqual(Array.from(simulate(q, x).outputs[0]!.data));
      // And float within the int8 roundings (the conv output's step is 1/255 of its range).
      expect(relErr(got, want!.dataSync() as Float32Array)).toBeLessThan(0.04);
      tf.dispose([x, want!, calib]);
    } finally {
      s.dispose();
    }
  });

  it('a phase tensor read elsewhere (here a graph output) is not fused: the pattern runs as written, as stock tfjs', async () => {
    const m = atrousModel(['dw']);
    const s = await sessionOf(m);
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('stb')!.placement).toBe('tfjs');
      expect(where.get('stb')!.fusedInto).toBeUndefined();
      expect(where.get('bts3')!.fusedInto).toBe('conv');
      const x = input();
      const want = await stockRun(m, { x }, ['out', 'dw']);
      const res = await s.run({ x: { data: x.dataSync() as Float32Array, shape: [1, 9, 10, 3] } });
      for (const [k, name] of ['out', 'dw'].entries()) {
        const w = want[k]!.dataSync() as Float32Array;
        const got = res[name]!.data as Float32Array;
        expect(res[name]!.shape, name).toEqual(want[k]!.shape);
        for (let i = 0; i < w.length; i++)
          expect(Math.abs(got[i]! - w[i]!), `${name} element ${i}`).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose([x, ...want]);
    } finally {
      s.dispose();
    }
  });
});
