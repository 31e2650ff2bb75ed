// 4-bit weights run natively (docs/quantization.md §12.5): PTQ quantize with mode
// 'dynamic' and weightBits 4, then simulate() and the InferenceSession both run the dynamic
// int4 GEMM (DynamicGemmInt4; the session packs the weights once with PackInt4). Checked:
// session == simulate bit for bit over group sizes (K not a multiple of them) and activation
// granularities, MatMul and Conv2D (im2col); simulate == dynamicGemmInt4 called directly on the
// layer; top-1 agreement with float; memory ≈ half of the int8 session's; bad native plans.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, buildLeNet5 } from '../../src/data/models.js';
import { cloneGraph, type Graph } from '../../src/model/index.js';
import { dynamicGemmInt4 } from '../../src/kernels/int4.js';
import { packInt4Quantization } from '../../src/quant/int4.js';
import { native } from '../../src/native/binding.js';
import { planExecution } from '../../src/quant/params.js';
import { quantize } from '../../src/quant/quantize.js';
import { quantizeWeight } from '../../src/quant/weights.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { floatOutputs, graphOf, quantized, top1Agreement, variedInput } from './helpers.js';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

beforeAll(async () => {
  await initFloatBackend();
});

const ALL = (x: ArrayLike<number>) => Array.from(x);

async function int4(g: Graph, groupSize: number, granularity: 'tensor' | 'row', scaleBits: 8 | 16 = 8): Promise<Graph> {
  const r = await quantize(g, {
    mode: 'dynamic',
    weightBits: 4,
    groupSize,
    dynamicGranularity: granularity,
    report: false,
    optimize: false,
    scaleBits,
  });
  return r.graph;
}

/** Dense 200 → 300 (relu) → 100 (tanh) → 10: every K (200, 300, 100) is a multiple of none of 32, 64, 128. */
function denseModel(seed: number): tf.Sequential {
  const init = (i: number) => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
    biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 10 + i }),
  });
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [200], units: 300, activation: 'relu', ...init(0) }));
  m.add(tf.layers.dense({ units: 100, activation: 'tanh', ...init(1) }));
  m.add(tf.layers.dense({ units: 10, ...init(2) }));
  return m;
}

let dense: Graph;
beforeAll(async () => {
  dense = await graphOf(denseModel(3));
});

describe('dynamic int4 (§12.5): session == simulate', () => {
  // Group scales double-quantized (scaleBits 8, the default) and float16 (scaleBits 16).
  const cases = [32, 64, 128, 0].flatMap((gs) =>
    (['tensor', 'row'] as const).flatMap(
      (gr) =>
        [
          [gs, gr, 8],
          [gs, gr, 16],
        ] as const,
    ),
  );
  it.each(cases)(
    'dense 200-300-100-10, group size %d, granularity %s, %d-bit scales: bit for bit',
    async (groupSize, granularity, scaleBits) => {
      const q = await int4(dense, groupSize, granularity, scaleBits);
      const w = q.constants.get(q.nodes.find((n) => n.op === 'MatMul')!.inputs[1]!)!.quantization!.affine!;
      expect(w.scaleCodes !== undefined).toBe(scaleBits === 8 && groupSize !== 0);
      const s = await InferenceSession.create(q);
      const mm = s.plan.filter((p) => p.op === 'MatMul');
      expect(mm.length).toBe(3);
      expect(mm.every((p) => p.placement === 'native-dynamic-int4')).toBe(true);
      expect([...planExecution(q).values()].filter((e) => e === 'dynamic').length).toBe(3);
      const x = variedInput([7, 200], 10 + groupSize);
      const out = s.outputs[0]!.name;
      const y = (await s.run(x))[out]!;
      const sim = simulate(q, x).outputs[0]!;
      expect(y.shape).toEqual([7, 10]);
      expect(ALL(y.data)).toEqual(ALL(sim.data));
      // Not the float run of the dequantized weights (what both did before): activations are quantized.
      const f = floatOutputs(q, x)[0]!;
      expect(ALL(y.data)).not.toEqual(ALL(f));
      s.dispose();
      x.dispose();
    },
  );

  it('Conv2D 5×5 via im2col (K 75) and 1×1 direct (K 24), group 32, per row: bit for bit', async () => {
    const m = tf.sequential();
    m.add(
      tf.layers.conv2d({
        inputShape: [12, 12, 3],
        filters: 24,
        kernelSize: 5,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
      }),
    );
    m.add(
      tf.layers.conv2d({ filters: 16, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
    );
    m.add(tf.layers.flatten());
    m.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }));
    const q = await int4(await graphOf(m), 32, 'row');
    const s = await InferenceSession.create(q);
    const convs = s.plan.filter((p) => p.op === 'Conv2D');
    expect(convs.length).toBe(2);
    expect(convs.every((p) => p.placement === 'native-dynamic-int4')).toBe(true);
    const x = variedInput([3, 12, 12, 3], 21);
    const y = (await s.run(x))[s.outputs[0]!.name]!;
    expect(ALL(y.data)).toEqual(ALL(simulate(q, x).outputs[0]!.data));
    // One thread or the pool: the same bits (threads split whole column panels).
    const s1 = await InferenceSession.create(q, { threads: 1 });
    expect(ALL((await s1.run(x))[s.outputs[0]!.name]!.data)).toEqual(ALL(y.data));
    s1.dispose();
    s.dispose();
    x.dispose();
  });

  it('LeNet-5 (conv K = 25 and 500, dense K = 800 and 500), group 64, per tensor: logits bit for bit', async () => {
    const q = await int4(await graphOf(buildLeNet5({ seed: 2 })), 64, 'tensor');
    const logits = q.nodes.find((n) => n.op === 'Softmax')!.inputs[0]!;
    const h: Graph = { ...q, outputs: [logits] };
    const s = await InferenceSession.create(h);
    expect(
      s.plan.filter((p) => p.op === 'Conv2D' || p.op === 'MatMul').every((p) => p.placement === 'native-dynamic-int4'),
    ).toBe(true);
    const x = variedInput([2, 28, 28, 1], 5);
    expect(ALL((await s.run(x))[logits]!.data)).toEqual(ALL(simulate(h, x).outputs[0]!.data));
    s.dispose();
    x.dispose();
  });
});

describe('dynamic int4: weight layouts and mixed graphs', () => {
  it('MatMul with transpose_b (weight [N, K], axis 0) gives the same outputs as [K, N], in simulate and the session', async () => {
    const q = await int4(dense, 64, 'row');
    const t = cloneGraph(q);
    const node = t.nodes.find((n) => n.op === 'MatMul' && n.inputs[0] === t.inputs[0]!.name)!;
    const c = t.constants.get(node.inputs[1]!)!;
    const [k, n] = c.shape as [number, number];
    const tr = <T extends Float32Array | Int8Array>(a: T): T => {
      const o = new (a.constructor as new (l: number) => T)(a.length);
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) o[j * k + i] = a[i * n + j]!;
      return o;
    };
    const aff = c.quantization!.affine!;
    t.constants.set(node.inputs[1]!, {
      ...c,
      shape: [n, k],
      data: tr(c.data as Float32Array),
      quantization: { ...c.quantization, affine: { ...aff, axis: 0, values: tr(aff.values as Int8Array) } },
    });
    node.attrs = { ...node.attrs, transpose_b: true };
    const s = await InferenceSession.create(t);
    expect(s.plan.find((p) => p.node === node.name)!.placement).toBe('native-dynamic-int4');
    const x = variedInput([4, 200], 50);
    const ref = simulate(q, x).outputs[0]!.data;
    expect(ALL(simulate(t, x).outputs[0]!.data)).toEqual(ALL(ref));
    expect(ALL((await s.run(x))[s.outputs[0]!.name]!.data)).toEqual(ALL(ref));
    s.dispose();
    x.dispose();
  });

  it('int4 and int8 weights in one dynamic graph (a small layer left at 8 bits): each its kernel, bit for bit', async () => {
    const q = await int4(dense, 32, 'tensor');
    const last = q.nodes.filter((n) => n.op === 'MatMul').at(-1)!;
    const c = q.constants.get(last.inputs[1]!)!;
    c.data = Float32Array.from(
      dense.constants.get(dense.nodes.find((n) => n.name === last.name)!.inputs[1]!)!.data as Float32Array,
    );
    delete c.quantization;
    expect(quantizeWeight(c, last, 'channel')).toBe(true);
    expect(c.quantization!.affine!.dtype).toBe('int8');
    const s = await InferenceSession.create(q);
    expect(s.plan.filter((p) => p.op === 'MatMul').map((p) => p.placement)).toEqual([
      'native-dynamic-int4',
      'native-dynamic-int4',
      'native-dynamic',
    ]);
    const x = variedInput([6, 200], 51);
    expect(ALL((await s.run(x))[s.outputs[0]!.name]!.data)).toEqual(ALL(simulate(q, x).outputs[0]!.data));
    s.dispose();
    x.dispose();
  });

  it('an int4 annotation the kernel cannot take (group size 12) runs float on the dequantized weight, as before', async () => {
    const q = await int4(dense, 64, 'row');
    const node = q.nodes.find((n) => n.op === 'MatMul')!;
    q.constants.get(node.inputs[1]!)!.quantization!.affine!.groupSize = 12;
    expect(planExecution(q).get(node.name)).toBe('float');
    const s = await InferenceSession.create(q);
    expect(s.plan.find((p) => p.node === node.name)!.placement).toBe('native-float');
    s.dispose();
  });
});

describe('dynamic int4: the simulation is the kernel', () => {
  it.each([
    [64, 'row'],
    [0, 'tensor'],
  ] as const)(
    'first dense layer (group %d, %s) == dynamicGemmInt4 on its input, with bias and relu',
    async (groupSize, granularity) => {
      const q = await int4(dense, groupSize, granularity);
      const node = q.nodes.find((n) => n.op === 'MatMul' && n.inputs[0] === q.inputs[0]!.name)!;
      expect(node.attrs.activation).toBe('relu');
      const w = q.constants.get(node.inputs[1]!)!;
      const aff = w.quantization!.affine!;
      expect(aff.dtype).toBe('int4');
      const bias = q.constants.get(node.inputs[2]!)!.data as Float32Array;
      const x = variedInput([5, 200], 31);
      const sim = simulate(q, x, { capture: [node.outputs[0]!] }).tensors.get(node.outputs[0]!)!;
      const packed = packInt4Quantization(aff, w.shape);
      const direct = dynamicGemmInt4(x.dataSync() as Float32Array, packed, {
        m: 5,
        perRow: granularity === 'row',
        bias,
        activation: 'relu',
      });
      packed.dispose();
      expect(ALL(sim.data)).toEqual(ALL(direct));
      x.dispose();
    },
  );
});

describe('dynamic int4: fidelity and memory', () => {
  it('LeNet-300-100 (random init, varied inputs): top-1 agreement with float (confident samples ≥ 95%), cosine > 0.99; weights ≈ 0.56× the int8 session', async () => {
    const g = await graphOf(buildLeNet300100({ seed: 7 }));
    const calib = variedInput([8, 28, 28, 1], 40);
    const q8 = await quantized(g, calib, 'dynamic', 'row');
    const q4 = await int4(g, 64, 'row');
    const s8 = await InferenceSession.create(q8);
    const s4 = await InferenceSession.create(q4);
    const x = variedInput([200, 28, 28, 1], 41);
    const out = s4.outputs[0]!.name;
    const y4 = (await s4.run(x))[out]!.data as Float32Array;
    const ref = floatOutputs(g, x)[0]!;
    const y8 = (await s8.run(x))[out]!.data as Float32Array;
    // Random weights give near-tied classes: judge top-1 on the samples float is sure about, and the output cosine.
    const t4 = top1Agreement(y4, ref, 10, 0.1),
      t8 = top1Agreement(y8, ref, 10, 0.1);
    expect(t4.count).toBeGreaterThanOrEqual(20);
    expect(t4.confident).toBeGreaterThanOrEqual(0.95);
    expect(t4.all).toBeGreaterThanOrEqual(0.8);
    expect(cosine(y4, ref)).toBeGreaterThan(0.99);
    // int4 is coarser than int8 (same activations): its output is further from float.
    expect(cosine(y4, ref)).toBeLessThan(cosine(y8, ref));
    expect(t8.all).toBeGreaterThanOrEqual(t4.all);
    // Weights: K×N/2 nibbles (K padded to 8, N to 8) + per group and column a 1-byte scale code
    // and an int16 sum, + a float32 super-scale per column (the double-quantized scales, PackInt4
    // kCode8: 2+ groups), + float biases.
    const dims = [
      [784, 300],
      [300, 100],
      [100, 10],
    ] as const;
    const pad8 = (v: number) => Math.ceil(v / 8) * 8;
    const expect4 = dims.reduce(
      (t, [k, n]) => t + (pad8(k) * pad8(n)) / 2 + Math.ceil(k / 64) * pad8(n) * 3 + pad8(n) * 4 + n * 4,
      0,
    );
    const m4 = s4.memory.weightBytes,
      m8 = s8.memory.weightBytes;
    expect(m4).toBe(expect4);
    expect(m4 / m8).toBeGreaterThan(0.45);
    expect(m4 / m8).toBeLessThan(0.65);
    s4.dispose();
    s8.dispose();
    x.dispose();
    calib.dispose();
  });
});

describe('dynamic int4: invalid native plans are rejected, never crash', () => {
  const { RuntimeSession } = native();
  const base = () => ({
    buffers: [
      { dtype: 0 as const, shape: [-1, 16] },
      { dtype: 0 as const, shape: [-1, 8] },
    ],
    weights: [
      new Int8Array(16 * 8).map((_, i) => (i % 15) - 7),
      new Float32Array(2 * 8).fill(0.5),
      new Int32Array(2 * 8),
      new Float32Array(8),
    ] as (Float32Array | Int8Array | Int32Array)[],
    steps: [{ op: 'matmul_dyn4', inputs: [0], outputs: [1], ints: [1, 0, 8], floats: [0.2], weights: [0, 1, 2, 3] }],
    inputs: [0],
    outputs: [1],
  });
  it('a valid plan runs and equals dynamicGemmInt4', async () => {
    const p = base();
    const s = new RuntimeSession(p, { threads: 1 });
    const x = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i));
    const [y] = await s.run([x], { batch: 2 });
    const packed = packInt4Quantization(
      {
        dtype: 'int4',
        axis: 1,
        groupSize: 8,
        scales: p.weights[1] as Float32Array,
        zeroPoints: p.weights[2] as Int32Array,
        values: p.weights[0] as Int8Array,
      },
      [16, 8],
    );
    expect(ALL(y!)).toEqual(ALL(dynamicGemmInt4(x, packed, { m: 2, bias: p.weights[3] as Float32Array })));
    packed.dispose();
    s.dispose();
  });
  const mutations: [string, (p: ReturnType<typeof base>) => void, RegExp][] = [
    [
      'weight value 8',
      (p) => {
        (p.weights[0] as Int8Array)[5] = 8;
      },
      /outside \[-8, 7\]/,
    ],
    [
      'zero scale',
      (p) => {
        (p.weights[1] as Float32Array)[3] = 0;
      },
      /finite and > 0/,
    ],
    [
      'NaN scale',
      (p) => {
        (p.weights[1] as Float32Array)[0] = NaN;
      },
      /finite and > 0/,
    ],
    [
      'scales of the wrong length',
      (p) => {
        p.weights[1] = new Float32Array(8).fill(1);
      },
      /groups × N/,
    ],
    [
      'zero point −9',
      (p) => {
        (p.weights[2] as Int32Array)[1] = -9;
      },
      /\[-8, 7\]/,
    ],
    [
      'group size 12',
      (p) => {
        p.steps[0]!.ints[2] = 12;
      },
      /multiple of 8/,
    ],
    [
      'group size −8',
      (p) => {
        p.steps[0]!.ints[2] = -8;
      },
      /group_size/,
    ],
    [
      'missing int parameter',
      (p) => {
        p.steps[0]!.ints = [1, 0];
      },
      /int parameters/,
    ],
    [
      'three weights',
      (p) => {
        p.steps[0]!.weights = [0, 1, 2];
      },
      /weights/,
    ],
    [
      'float32 values',
      (p) => {
        p.steps[0]!.weights = [1, 1, 2, 3];
      },
      /wrong dtype|values/,
    ],
    [
      'bias of the wrong length',
      (p) => {
        p.weights[3] = new Float32Array(7);
      },
      /bias/,
    ],
  ];
  it.each(mutations)('%s', (_name, mutate, msg) => {
    const p = base();
    mutate(p);
    expect(() => new RuntimeSession(p, { threads: 1 })).toThrow(msg);
  });
});
