// PReLU written out in elementary ops (TF-slim: Relu(x) + a·(x − |x|)) becomes one Prelu node,
// which fuses into the convolution before it; the form x + a·(x − |x|) becomes Prelu(x, 1 + 2a);
// after a convolution that already ends in ReLU the pattern is the identity and goes. Checked
// against stock tfjs running the original files.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, optimize } from '../../src/model/index.js';
import { attr, GraphModelBuilder, loadStock, randomTensor } from '../support/model-fixtures.js';

const C = 6;
const T = { T: attr.type('DT_FLOAT') };

/** conv → [Relu] → + a·(x − |x|); `positive`: 'relu' (the Relu node), 'x' (x itself), 'fused-relu' (conv ends in ReLU). */
function model(positive: 'relu' | 'x' | 'fused-relu') {
  const b = new GraphModelBuilder(5);
  const input = b.input('image', [-1, 6, 6, 3]);
  const filter = b.const('conv/filter', [3, 3, 3, C]);
  const x =
    positive === 'fused-relu'
      ? b.fusedConv2d('conv', input, filter, [b.const('conv/bias', [C])], ['BiasAdd', 'Relu'])
      : b.fusedConv2d('conv', input, filter, [b.const('conv/bias', [C])], ['BiasAdd']);
  const abs = b.op('act/Abs', 'Abs', [x], T);
  const sub = b.op('act/sub', 'Sub', [x, abs], T);
  const mul = b.op(
    'act/mul',
    'Mul',
    [
      sub,
      b.const(
        'act/alpha',
        [C],
        Float32Array.from({ length: C }, (_, i) => 0.05 * (i + 1)),
      ),
    ],
    T,
  );
  const pos = positive === 'relu' ? b.op('act/Relu', 'Relu', [x], T) : x;
  const out = b.op('act/add', 'AddV2', [pos, mul], T);
  b.op('pool', 'Mean', [out, b.ints('pool/axes', [1, 2])], {
    ...T,
    keep_dims: attr.b(false),
    Tidx: attr.type('DT_INT32'),
  });
  b.outputs('pool');
  return b.build();
}

describe('PReLU patterns', () => {
  beforeAll(async () => {
    await initFloatBackend();
  });

  it.each([
    ['relu', ['Conv2D', 'Mean'], 0],
    ['x', ['Conv2D', 'Mean'], 1e-6],
    ['fused-relu', ['Conv2D', 'Mean'], 0],
  ] as const)(
    'positive part %s: the optimized graph is %j and matches stock tfjs (max relative error %s)',
    async (positive, ops, tol) => {
      const m = model(positive);
      const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
      const o = optimize(g);
      expect(o.nodes.map((n) => n.op)).toEqual(ops);
      const conv = o.nodes.find((n) => n.op === 'Conv2D')!;
      expect(conv.attrs.activation).toBe(positive === 'fused-relu' ? 'relu' : 'prelu');
      const stock = (await loadStock(m.files)) as tf.GraphModel;
      const x = randomTensor([3, 6, 6, 3], 9);
      const want = (stock.execute(x) as tf.Tensor).dataSync() as Float32Array;
      const got = execute(o, x)[0]!.dataSync() as Float32Array;
      // Exact forms are bit-identical; x + a·(x − |x|) is rounded twice where Prelu rounds once.
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(want[i]! - got[i]!) / Math.max(1e-3, Math.abs(want[i]!)));
      expect(worst).toBeLessThanOrEqual(tol);
    },
  );
});
