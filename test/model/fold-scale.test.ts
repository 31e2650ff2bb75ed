// A batch normalization left as Mul + AddV2 after a depthwise convolution (as Keras MobileNets
// come out of the TF2 exporter) is folded into the convolution: the optimized graph computes
// what stock tfjs computes on the original, and int8 quantizes the normalized tensor instead of
// one whose channels lie orders of magnitude apart.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, optimize, type Graph } from '../../src/model/index.js';
import { attr, GraphModelBuilder, loadStock, randomTensor } from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { simulate, dequantizeSim } from '../../src/quant/simulate.js';

const C = 8;
// Per-channel batch-norm factors γ/σ spanning 10⁴, as trained networks have (dead and live channels).
const SCALE = Float32Array.from({ length: C }, (_, i) => 10 ** (-2 + (4 * i) / (C - 1)) * (i % 2 ? -1 : 1));
const SHIFT = Float32Array.from({ length: C }, (_, i) => 0.3 * Math.sin(i + 1));

function model() {
  const b = new GraphModelBuilder(11);
  const T = { T: attr.type('DT_FLOAT') };
  const x = b.input('image', [-1, 10, 10, C]);
  // Depthwise weights compensate the factor, so the normalized output has one magnitude.
  const wd = Float32Array.from({ length: 9 * C }, (_, i) => (((i * 37) % 11) / 11 - 0.4) / Math.abs(SCALE[i % C]!));
  const dw = b.op('dw', 'DepthwiseConv2dNative', [x, b.const('dw/filter', [3, 3, C, 1], wd)], {
    ...T,
    strides: attr.ints([1, 1, 1, 1]),
    padding: attr.s('SAME'),
    data_format: attr.s('NHWC'),
    dilations: attr.ints([1, 1, 1, 1]),
    explicit_paddings: attr.ints([]),
  });
  const mul = b.op('bn/mul', 'Mul', [dw, b.const('bn/scale', [C], SCALE)], T);
  const add = b.op('bn/add', 'AddV2', [mul, b.const('bn/shift', [C], SHIFT)], T);
  const r = b.op('relu', 'Relu6', [add], T);
  // Keras' ReLU(6) exports its clamp again after the fused one: a no-op to drop.
  const r0 = b.op('relu/max', 'Maximum', [r, b.const('relu/zero', [], Float32Array.of(0))], T);
  const pw = b.fusedConv2d('pw', r0, b.const('pw/filter', [1, 1, C, 4]), [b.const('pw/bias', [4])], ['BiasAdd']);
  const out = b.op('out', 'Mul', [pw, b.const('out/scale', [1], Float32Array.of(0.5))], T);
  b.outputs(out);
  return b.build();
}

describe('folding a constant scale into the convolution before it', () => {
  let g: Graph;
  let stock: tf.GraphModel;
  beforeAll(async () => {
    await initFloatBackend();
    const m = model();
    g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    stock = (await loadStock(m.files)) as tf.GraphModel;
  });

  it('leaves no Mul, AddV2 or redundant Maximum and matches stock tfjs on the original files', () => {
    const o = optimize(g);
    expect(o.nodes.map((n) => n.op)).toEqual(['DepthwiseConv2dNative', 'Conv2D']);
    expect(o.nodes.find((n) => n.op === 'DepthwiseConv2dNative')!.inputs).toHaveLength(3);
    expect(o.outputs).toEqual(g.outputs);
    const x = randomTensor([2, 10, 10, C], 3, 0, 1);
    const want = (stock.execute(x) as tf.Tensor).dataSync() as Float32Array;
    const got = execute(o, x)[0]!.dataSync() as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++)
      worst = Math.max(worst, Math.abs(want[i]! - got[i]!) / Math.max(1e-3, Math.abs(want[i]!)));
    // W × s is rounded to float32 once more per weight (2⁻²⁴ relative each); summed over 9 taps
    // and then 8 channels, with cancellation near zero (the relative floor is 1e-3), a few 1e-5.
    expect(worst).toBeLessThan(1e-4);
  });

  it('keeps int8 close to float where the unfolded graph cannot', async () => {
    const calib = Array.from({ length: 6 }, (_, i) => randomTensor([1, 10, 10, C], 100 + i, 0, 1));
    const evalX = randomTensor([4, 10, 10, C], 200, 0, 1);
    const want = execute(optimize(g), evalX)[0]!.dataSync() as Float32Array;
    const cosine = (q: Float32Array) => {
      let d = 0,
        a = 0,
        b = 0;
      for (let i = 0; i < q.length; i++) {
        d += q[i]! * want[i]!;
        a += q[i]! * q[i]!;
        b += want[i]! * want[i]!;
      }
      return d / Math.sqrt(a * b);
    };
    const run = async (passes: boolean) => {
      const src = passes
        ? g
        : optimize(g, {
            passes: ['remove-identity', 'fold-constants', 'fold-batchnorm', 'fuse-bias', 'fuse-activation'],
          });
      const q = await quantize(src, { mode: 'int8', calibration: calib, optimize: passes, report: false });
      return cosine(dequantizeSim(simulate(q.graph, { image: evalX }).outputs[0]!).data as Float32Array);
    };
    const folded = await run(true),
      unfolded = await run(false);
    expect(folded).toBeGreaterThan(0.999);
    expect(unfolded).toBeLessThan(folded - 0.01);
  });
});
