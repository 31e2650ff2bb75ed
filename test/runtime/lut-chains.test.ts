// int8 elementwise chains on one tensor become one lookup (src/runtime/lut-chains.ts): a
// hard-swish after a convolution, x · relu6(x + 3) · (1/6) as a converted Keras model writes
// it (two scalar binary ops, ReLU6, the product of the branches), runs as one 'lut' step, and
// the session's int8 outputs still equal simulate() bit for bit; a chain whose intermediate
// is also read elsewhere (by a MaxPool) keeps that intermediate.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { loadModel, optimize } from '../../src/model/index.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder } from '../model/graph-json.js';
import { quantized, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const scalar = (v: number) => ({ dtype: 'float32' as const, shape: [], values: [v] });

function hardSwishModel(extraReader: boolean) {
  const conv = {
    name: 'conv',
    op: 'Conv2D',
    input: ['x', 'w'],
    attr: { ...F, strides: a.ints([1, 1, 1, 1]), padding: a.s('SAME'), data_format: a.s('NHWC') },
  };
  return handModel(
    [
      placeholder('x', 'float32', [-1, 8, 8, 3]),
      conv,
      { name: 'biased', op: 'AddV2', input: ['conv', 'bias'], attr: F },
      { name: 'sixth', op: 'Mul', input: ['k6', 'biased'], attr: F },
      { name: 'shifted', op: 'AddV2', input: ['biased', 'k3'], attr: F },
      { name: 'clipped', op: 'Relu6', input: ['shifted'], attr: F },
      { name: 'hswish', op: 'Mul', input: ['sixth', 'clipped'], attr: F },
      { name: 'out', op: 'AddV2', input: ['hswish', 'hswish'], attr: F },
      ...(extraReader
        ? [
            {
              name: 'pooled',
              op: 'MaxPool',
              input: ['clipped'],
              attr: {
                ...F,
                ksize: a.ints([1, 2, 2, 1]),
                strides: a.ints([1, 2, 2, 1]),
                padding: a.s('VALID'),
                data_format: a.s('NHWC'),
              },
            },
          ]
        : []),
    ],
    {
      w: {
        dtype: 'float32',
        shape: [3, 3, 3, 8],
        values: Array.from({ length: 216 }, (_, i) => (((i * 29) % 23) - 11) / 20),
      },
      bias: { dtype: 'float32', shape: [8], values: [0.5, -0.5, 1, -1, 0.2, -0.2, 2, -2] },
      k6: scalar(1 / 6),
      k3: scalar(3),
    },
  );
}

describe('int8 elementwise chains as one lookup', () => {
  for (const extraReader of [false, true]) {
    it(`hard-swish ${extraReader ? 'whose ReLU6 a MaxPool also reads' : 'as one lut step'}; equals simulate() bit for bit`, async () => {
      const m = hardSwishModel(extraReader);
      const g = optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
      const q = await quantized(g, variedInput([32, 8, 8, 3], 3));
      const s = await InferenceSession.create(q, { threads: 1 });
      try {
        const x = variedInput([4, 8, 8, 3], 4);
        s.profile(true);
        const got = await s.run(x);
        const ops = s.profile(false).map((p) => p.op);
        const sim = simulate(q, x);
        q.outputs.forEach((o, i) => expect(Array.from(got[o]!.data)).toEqual(Array.from(sim.outputs[i]!.data)));
        const binaries = ops.filter((o) => o === 'binary_i8').length;
        const luts = ops.filter((o) => o === 'lut').length;
        // Unfused: 4 binary steps (sixth, shifted, hswish, out) and the ReLU6 lookup. The whole
        // chain is a function of the convolution's output: one lookup. When a MaxPool also reads
        // the ReLU6, that tensor is written: shifted + ReLU6 become one lookup, and the product
        // (of two tensors the chain does not own alone) and what follows stay.
        expect({ binaries, luts }).toEqual(extraReader ? { binaries: 3, luts: 1 } : { binaries: 0, luts: 1 });
        x.dispose();
      } finally {
        s.dispose();
      }
    });
  }
});
