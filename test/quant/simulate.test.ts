// simulate(): §12 execution of quantized graphs, held to hand-computed vectors (scheme.ts
// formulas, plain loops) and to float execution of the same weight-quantized graph.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { createGraph, execute, loadModel, optimize, type Graph } from '../../src/model/index.js';
import { convNetGraphModel, randomFloats } from '../support/model-fixtures.js';
import { simulate, dequantizeSim, type SimTensor } from '../../src/quant/simulate.js';
import { activationParams, quantizeWeight, setActivationRanges, weightedNodes } from '../../src/quant/weights.js';
import { planExecution } from '../../src/quant/params.js';
import { quantizeWeightInt4 } from '../../src/quant/int4.js';
import {
  fl32,
  quantizeValue,
  requantizeValue,
  rne,
  clamp,
  dequantizeValue,
  dynamicQuantizeU8,
} from '../../src/quant/scheme.js';

beforeAll(async () => {
  await initFloatBackend();
});

/** Ranges of every float32 node output over the batch (plain min/max through execute's observer). */
function minMaxRanges(g: Graph, x: tf.Tensor): Map<string, [number, number]> {
  const r = new Map<string, [number, number]>();
  const see = (name: string, t: tf.Tensor) => {
    if (t.dtype !== 'float32') return;
    const d = t.dataSync();
    let lo = Infinity,
      hi = -Infinity;
    for (const v of d) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    r.set(name, [lo, hi]);
  };
  see(g.inputs[0]!.name, x);
  execute(g, x, { observer: (n, outs) => n.outputs.forEach((o, i) => outs[i] && see(o, outs[i]!)) }).forEach((t) =>
    t.dispose(),
  );
  return r;
}

function annotateInt8(g: Graph, x: tf.Tensor, granularity: 'channel' | 'tensor' = 'channel'): Graph {
  for (const { node, weight } of weightedNodes(g)) quantizeWeight(weight, node, granularity);
  setActivationRanges(g, minMaxRanges(g, x));
  g.metadata.quantization = { mode: 'int8', floatNodes: [], inputType: 'float32', outputType: 'float32' };
  return g;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('simulate: hand-computed vectors', () => {
  it('MatMul + bias + relu equals §6/§7/§12.1 computed with scheme formulas', () => {
    const g = createGraph('mm');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 3] });
    const w = Float32Array.from([0.5, -1.25, 0.75, 0.3, -0.2, 2.0]); // [3, 2]
    const bias = Float32Array.from([0.1, -0.35]);
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [3, 2], data: w });
    g.constants.set('b', { name: 'b', dtype: 'float32', shape: [2], data: bias });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w', 'b'],
      outputs: ['mm'],
      attrs: { activation: 'relu', transpose_a: false, transpose_b: false },
    });
    g.outputs = ['mm'];
    quantizeWeight(g.constants.get('w')!, g.nodes[0]!, 'channel');
    const px = activationParams(-1.5, 2.5),
      py = activationParams(-0.5, 4);
    g.metadata.activations = { x: px, mm: py };
    g.metadata.quantization = { mode: 'int8', floatNodes: [] };
    const rows = 64;
    const xs = Float32Array.from([1.2, -0.7, 2.4, -1.6, 0.05, 0.9, ...randomFloats((rows - 2) * 3, 5, -1.6, 2.6)]); // row 0 saturates
    const r = simulate(g, tf.tensor2d(xs, [rows, 3]), { capture: true });
    expect(r.plan.get('mm')).toBe('int8');
    const yq = r.tensors.get('mm')!;
    expect(yq.dtype).toBe('int8');
    // Reference: weights per column, symmetric narrow range.
    const sw = [0, 1].map((c) => fl32(Math.max(Math.abs(w[c]!), Math.abs(w[2 + c]!), Math.abs(w[4 + c]!)) / 127));
    const qw = Array.from(w, (v, i) => quantizeValue(v, sw[i % 2]!, 0, -127, 127));
    const expected: number[] = [];
    for (let m = 0; m < rows; m++) {
      const qx = [0, 1, 2].map((k) => quantizeValue(xs[m * 3 + k]!, px.scale, px.zeroPoint, -128, 127));
      for (let c = 0; c < 2; c++) {
        const bq = rne(clamp(fl32(bias[c]! / fl32(px.scale * sw[c]!)), -(2 ** 31), 2 ** 31 - 128));
        let acc = bq;
        for (let k = 0; k < 3; k++) acc += (qx[k]! - px.zeroPoint) * qw[k * 2 + c]!;
        const mult = fl32(fl32(px.scale * sw[c]!) / py.scale);
        expected.push(requantizeValue(acc, mult, py.zeroPoint, Math.max(-128, py.zeroPoint), 127));
      }
    }
    expect(Array.from(yq.data)).toEqual(expected);
    // The graph output is the dequantized tensor (§12.2).
    expect(Array.from(r.outputs[0]!.data)).toEqual(expected.map((q) => dequantizeValue(q, py.scale, py.zeroPoint)));
  });

  it.each([true, false])(
    'dynamic int4 MatMul (K 100, groups of 32 with a shorter last one, asymmetric) equals §8 + §12.5 with scheme formulas (per row %s)',
    (perRow) => {
      const K = 100,
        N = 12,
        G = 32,
        rows = 9;
      const g = createGraph('mm4');
      g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, K] });
      const w = randomFloats(K * N, 21, -1, 0.6);
      const bias = randomFloats(N, 22, -0.5, 0.5);
      g.constants.set('w', { name: 'w', dtype: 'float32', shape: [K, N], data: w });
      g.constants.set('b', { name: 'b', dtype: 'float32', shape: [N], data: bias });
      g.nodes.push({
        name: 'mm',
        op: 'MatMul',
        inputs: ['x', 'w', 'b'],
        outputs: ['mm'],
        attrs: { activation: 'relu', transpose_a: false, transpose_b: false },
      });
      g.outputs = ['mm'];
      const aff = quantizeWeightInt4(w, [K, N], 1, { groupSize: G, symmetric: false });
      expect(aff.zeroPoints.some((z) => z !== 0)).toBe(true);
      g.constants.get('w')!.quantization = { affine: aff };
      g.metadata.quantization = {
        mode: 'dynamic',
        floatNodes: [],
        dynamic: { granularity: perRow ? 'row' : 'tensor' },
        weightBits: 4,
        groupSize: G,
      };
      const xs = randomFloats(rows * K, 23, -2, 3);
      const r = simulate(g, tf.tensor2d(xs, [rows, K]));
      expect(r.plan.get('mm')).toBe('dynamic');
      const { q, params } = dynamicQuantizeU8(xs, rows, K, perRow);
      const expected: number[] = [];
      for (let m = 0; m < rows; m++) {
        const { scale: sa, zeroPoint: za } = params[perRow ? m : 0]!;
        for (let n = 0; n < N; n++) {
          let y = 0;
          for (let gi = 0; gi * G < K; gi++) {
            const zw = aff.zeroPoints[gi * N + n]!,
              sw = aff.scales[gi * N + n]!;
            let acc = 0;
            for (let k = gi * G; k < Math.min(K, (gi + 1) * G); k++)
              acc += (q[m * K + k]! - za) * (aff.values![k * N + n]! - zw);
            y = fl32(y + fl32(fl32(acc) * fl32(sa * sw)));
          }
          y = fl32(y + bias[n]!);
          expected.push(y > 0 ? y : 0);
        }
      }
      expect(Array.from(r.outputs[0]!.data)).toEqual(expected);
    },
  );

  it('Conv2D 3×3 SAME stride 2 and a sigmoid table equal plain loops (padding reads the zero point)', () => {
    const g = createGraph('conv');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [1, 5, 5, 2] });
    const w = randomFloats(3 * 3 * 2 * 3, 7);
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [3, 3, 2, 3], data: w });
    g.nodes.push({
      name: 'conv',
      op: 'Conv2D',
      inputs: ['x', 'w'],
      outputs: ['conv'],
      attrs: {
        strides: [1, 2, 2, 1],
        padding: 'SAME',
        dilations: [1, 1, 1, 1],
        data_format: 'NHWC',
        activation: 'sigmoid',
      },
    });
    g.outputs = ['conv'];
    quantizeWeight(g.constants.get('w')!, g.nodes[0]!, 'channel');
    const aff = g.constants.get('w')!.quantization!.affine!;
    const px = activationParams(-1, 1.3),
      pp = activationParams(-3, 2.5),
      py = activationParams(0, 1);
    g.metadata.activations = { x: px, conv: py, 'conv/preact': pp };
    g.metadata.quantization = { mode: 'int8', floatNodes: [] };
    const xs = randomFloats(50, 8, -1.2, 1.2);
    const r = simulate(g, tf.tensor4d(xs, [1, 5, 5, 2]), { capture: true });
    const qx = Array.from(xs, (v) => quantizeValue(v, px.scale, px.zeroPoint, -128, 127));
    const pre: number[] = [],
      out: number[] = [];
    // SAME, stride 2, 5 → 3: total pad = (3 − 1)·2 + 3 − 5 = 2, before = 1.
    for (let oy = 0; oy < 3; oy++)
      for (let ox = 0; ox < 3; ox++)
        for (let oc = 0; oc < 3; oc++) {
          let acc = 0;
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++)
              for (let c = 0; c < 2; c++) {
                const iy = oy * 2 + ky - 1,
                  ix = ox * 2 + kx - 1;
                const xv = iy < 0 || iy >= 5 || ix < 0 || ix >= 5 ? px.zeroPoint : qx[(iy * 5 + ix) * 2 + c]!;
                acc += (xv - px.zeroPoint) * aff.values![((ky * 3 + kx) * 2 + c) * 3 + oc]!;
              }
          const q = requantizeValue(acc, fl32(fl32(px.scale * aff.scales[oc]!) / pp.scale), pp.zeroPoint, -128, 127);
          pre.push(q);
          const f = fl32(1 / (1 + Math.exp(-dequantizeValue(q, pp.scale, pp.zeroPoint))));
          out.push(quantizeValue(f, py.scale, py.zeroPoint, -128, 127));
        }
    expect(Array.from(r.tensors.get('conv/preact')!.data)).toEqual(pre);
    expect(Array.from(r.tensors.get('conv')!.data)).toEqual(out);
  });
});

describe('simulate vs float execution', () => {
  it('a conv net covering pad/conv/depthwise/pools/concat/resize/mean/matmul/add/reshape/softmax runs int8 within a few steps of float', async () => {
    const g = optimize(await loadModel(convNetGraphModel(3).build()));
    const x = tf.tensor4d(randomFloats(4 * 12 * 12 * 3, 11), [4, 12, 12, 3]);
    annotateInt8(g, x);
    const plan = planExecution(g);
    const int8 = [...plan].filter(([, e]) => e === 'int8').map(([n]) => g.nodes.find((m) => m.name === n)!.op);
    for (const op of [
      'Conv2D',
      'DepthwiseConv2dNative',
      'MaxPool',
      'AvgPool',
      'ConcatV2',
      'ResizeBilinear',
      'Mean',
      'MatMul',
      'Reshape',
      'Softmax',
    ]) {
      expect(int8, op).toContain(op);
    }
    const r = simulate(g, x, { capture: true });
    const float = execute(g, x, { outputs: [...r.tensors.keys()] });
    [...r.tensors.values()].forEach((t, i) => {
      const ref = float[i]!.dataSync();
      const got = dequantizeSim(t).data as Float32Array;
      let num = 0,
        den = 0;
      for (let j = 0; j < ref.length; j++) {
        num += (got[j]! - ref[j]!) ** 2;
        den += ref[j]! ** 2;
      }
      const snr = 10 * Math.log10(den / Math.max(num, 1e-30));
      // Measured: 40.6 dB at the worst tensor (conv2), 42–52 dB elsewhere. Rounding noise of
      // step/√12 at 40.6 dB means an rms of ≈ 31 steps, so an off-by-one in every code would
      // give ≈ 29.8 dB: the 37 dB floor fails it and leaves 3.6 dB of headroom.
      expect(snr, [...r.tensors.keys()][i]).toBeGreaterThan(37);
    });
    // The first conv reads the float input: its error is that of one rounding of x, w, bias and y.
    const conv1 = r.tensors.get('conv1') as Extract<SimTensor, { dtype: 'int8' }>;
    const ref1 = float[[...r.tensors.keys()].indexOf('conv1')]!.dataSync();
    expect(maxAbsDiff(dequantizeSim(conv1).data as Float32Array, ref1)).toBeLessThan(4 * conv1.scale);
    const out = r.outputs[0]!.data as Float32Array;
    const fo = execute(g, x)[0]!.dataSync();
    // The output is an int8 softmax (step 1/256): measured 0.0037, within one output step;
    // 1.5 steps is the bound, which an off-by-one in every output code (≈ 0.0076) exceeds.
    expect(maxAbsDiff(out, fo)).toBeLessThan(1.5 / 256);
    float.forEach((t) => t.dispose());
  });

  it('floatNodes run float and the int8 neighbours convert once at the boundary', async () => {
    const g = optimize(await loadModel(convNetGraphModel(3).build()));
    const x = tf.tensor4d(randomFloats(2 * 12 * 12 * 3, 12), [2, 12, 12, 3]);
    annotateInt8(g, x);
    const dw = g.nodes.find((n) => n.op === 'DepthwiseConv2dNative')!;
    (g.metadata.quantization as { floatNodes: string[] }).floatNodes = [dw.name];
    const r = simulate(g, x, { capture: [dw.outputs[0]!, 'conv1'] });
    expect(r.plan.get(dw.name)).toBe('float');
    expect(r.tensors.get(dw.outputs[0]!)!.dtype).toBe('float32');
    expect(r.tensors.get('conv1')!.dtype).toBe('int8');
    // The float node reads exactly the dequantized int8 conv1 (§3).
    const deq = dequantizeSim(r.tensors.get('conv1')!);
    const ref = execute(
      g,
      {},
      { nodes: [dw.name], given: { conv1: tf.tensor(deq.data as Float32Array, deq.shape) }, outputs: [dw.outputs[0]!] },
    )[0]!;
    expect(Array.from(r.tensors.get(dw.outputs[0]!)!.data)).toEqual(Array.from(ref.dataSync()));
  });

  it('mode dynamic: Conv2D/MatMul through dynamicGemm, close to float; everything else float', async () => {
    const g = optimize(await loadModel(convNetGraphModel(4).build()));
    for (const { node, weight } of weightedNodes(g)) quantizeWeight(weight, node, 'channel');
    g.metadata.quantization = { mode: 'dynamic', floatNodes: [], dynamic: { granularity: 'row' } };
    const x = tf.tensor4d(randomFloats(2 * 12 * 12 * 3, 13), [2, 12, 12, 3]);
    const r = simulate(g, x, { capture: true });
    const kinds = new Set(
      [...r.plan].filter(([, e]) => e === 'dynamic').map(([n]) => g.nodes.find((m) => m.name === n)!.op),
    );
    expect([...kinds].sort()).toEqual(['Conv2D', 'MatMul']);
    expect([...r.tensors.values()].every((t) => t.dtype !== 'int8')).toBe(true);
    const ref = execute(g, x, { outputs: ['conv1'] })[0]!.dataSync();
    const got = r.tensors.get('conv1')!.data as Float32Array;
    let amax = 0;
    for (const v of ref) amax = Math.max(amax, Math.abs(v));
    expect(maxAbsDiff(got, ref)).toBeLessThan(0.02 * amax);
    expect(maxAbsDiff(r.outputs[0]!.data as Float32Array, execute(g, x)[0]!.dataSync())).toBeLessThan(0.02);
  });

  it('inputType/outputType int8: int8 SimTensors in and out, equal to the float-boundary version', async () => {
    const g = optimize(await loadModel(convNetGraphModel(3).build()));
    const x = tf.tensor4d(randomFloats(2 * 12 * 12 * 3, 14), [2, 12, 12, 3]);
    annotateInt8(g, x);
    const floatIo = simulate(g, x, { capture: true });
    const gi = {
      ...g,
      metadata: {
        ...g.metadata,
        quantization: { mode: 'int8', floatNodes: [], inputType: 'int8', outputType: 'int8' },
      },
    };
    const pin = (g.metadata.activations as Record<string, { scale: number; zeroPoint: number }>)[g.inputs[0]!.name]!;
    const xq = Int8Array.from(x.dataSync(), (v) => quantizeValue(v, pin.scale, pin.zeroPoint, -128, 127));
    const r = simulate(gi, {
      dtype: 'int8',
      shape: [2, 12, 12, 3],
      data: xq,
      scale: pin.scale,
      zeroPoint: pin.zeroPoint,
    });
    const out = r.outputs[0]!;
    expect(out.dtype).toBe('int8');
    // The same int8 tensors as with float input quantized at the boundary (§12.2), and its dequantization is the float output.
    const last = floatIo.tensors.get(g.outputs[0]!)!;
    expect(Array.from(out.data)).toEqual(Array.from(last.data));
    expect(Array.from(dequantizeSim(out).data)).toEqual(Array.from(floatIo.outputs[0]!.data));
  });

  it('rejects bad inputs and options', async () => {
    const g = optimize(await loadModel(convNetGraphModel(3).build()));
    expect(() => simulate(g, tf.zeros([1, 12, 12, 4]))).toThrow(/shape/);
    expect(() => simulate(g, tf.zeros([1, 12, 12, 3]), { capture: 3 as never })).toThrow(/capture/);
    expect(() => simulate(g, { nope: tf.zeros([1]) })).toThrow(/not an input/);
  });
});
