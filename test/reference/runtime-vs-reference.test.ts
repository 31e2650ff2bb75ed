// The native runtime's int8 results against a reference that shares no code with it
// (test/support/int8-reference.ts: direct loops on docs/quantization.md written out), and
// against tfjs float. simulate() drives the same native kernels as the runtime, so comparing
// with it alone cannot catch a bug the two share; this can.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import type { Graph } from '../../src/model/index.js';
import { functionalBranches, mobilenetBlocks, rng, sequentialCnn, sequentialMlp } from '../support/model-fixtures.js';
import { planExecution } from '../../src/quant/params.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { resNetBlocks } from '../../bench/models/models.js';
import { floatOutputs, graphOf, quantized, variedInput } from '../runtime/helpers.js';
import { referenceInt8, unsupportedInt8Ops } from '../support/int8-reference.js';

beforeAll(async () => {
  await initFloatBackend();
});

/** A small conv net whose every int8 op the reference implements: conv (SAME, VALID, stride 2, dilation), pools, add, concat, mean, matmul, softmax. */
function coveredConvNet(seed: number): tf.LayersModel {
  const x = tf.input({ shape: [11, 11, 3], name: 'img' });
  const ap = (l: tf.layers.Layer, t: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(t) as tf.SymbolicTensor;
  const a = ap(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }), x);
  const b = ap(
    tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'relu6', name: 'c2' }),
    x,
  );
  const s = ap(tf.layers.add({ name: 'add' }), [a, b]);
  const d = ap(
    tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, name: 'dw' }),
    s,
  );
  const p1 = ap(tf.layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'mp' }), d);
  const p2 = ap(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }), d);
  const up = ap(tf.layers.conv2d({ filters: 12, kernelSize: 1, strides: 2, name: 'c3' }), p1);
  const cat = ap(tf.layers.concatenate({ name: 'cat' }), [up, p2]);
  const gap = ap(tf.layers.globalAveragePooling2d({ name: 'gap' }), cat);
  const fc = ap(tf.layers.dense({ units: 7, activation: 'softmax', name: 'fc' }), gap);
  const m = tf.model({ inputs: x, outputs: fc });
  const r = rng(seed);
  for (const w of m.weights) {
    const v = w.read();
    w.write(
      tf.tensor(
        Float32Array.from({ length: v.size }, () => (r() * 2 - 1) * 0.6),
        v.shape,
      ),
    );
  }
  return m;
}

interface Case {
  name: string;
  graph: () => Promise<Graph>;
  shape: number[];
}
const cases: Case[] = [
  {
    name: 'covered conv net (SAME/VALID/dilated/strided conv, depthwise ×2, pools, add, concat, mean, dense, softmax)',
    graph: () => graphOf(coveredConvNet(11)),
    shape: [11, 11, 3],
  },
  {
    name: 'MobileNet blocks (explicit pad folded into depthwise, ReLU6)',
    graph: () => graphOf(mobilenetBlocks()),
    shape: [16, 16, 3],
  },
  { name: 'ResNet-style blocks', graph: () => graphOf(resNetBlocks()), shape: [32, 32, 3] },
  {
    name: 'MLP (dense + relu, dense + tanh table via its preact, softmax)',
    graph: () => graphOf(sequentialMlp(3)),
    shape: [8],
  },
  {
    name: 'CNN (conv + sigmoid table, max and average pooling, flatten, dense)',
    graph: () => graphOf(sequentialCnn(4)),
    shape: [12, 12, 3],
  },
  {
    name: 'functional branches (leaky ReLU and ELU tables, add, concat, shared dense)',
    graph: () => graphOf(functionalBranches(5)),
    shape: [8, 8, 4],
  },
];

describe('int8 runtime vs an independent reference (no shared native code)', () => {
  for (const c of cases) {
    it(
      c.name,
      async () => {
        const g = await c.graph();
        const calib = variedInput([16, ...c.shape], 1);
        const q = await quantized(g, calib);
        calib.dispose();
        const missing = unsupportedInt8Ops(q);
        // Decided up front: the graph must be one the reference covers, or the case is wrong.
        expect(missing, 'int8 ops the reference lacks').toEqual([]);
        const int8Nodes = [...planExecution(q).values()].filter((e) => e === 'int8').length;
        expect(int8Nodes).toBeGreaterThan(0);

        const x = variedInput([3, ...c.shape], 2);
        const data = Float32Array.from(x.dataSync() as Float32Array);
        const ref = referenceInt8(q, { [q.inputs[0]!.name]: { data, shape: [...x.shape] } });
        const s = await InferenceSession.create(q, { threads: 2 });
        try {
          const out = await s.run({ [q.inputs[0]!.name]: { data, shape: [...x.shape] } });
          let exact = 0;
          q.outputs.forEach((o, i) => {
            const got = out[o]!.data as Float32Array;
            const want = ref.outputs[i]!;
            expect(got.length).toBe(want.length);
            // Outputs of int8 nodes are dequantized int8 values: bit for bit. A float-node
            // output (computed by tfjs in the reference, natively in the session) is held to
            // float32 summation-order noise.
            const producedInt8 = ref.int8.has(o);
            if (producedInt8) {
              expect(Array.from(got)).toEqual(Array.from(want));
              exact++;
            } else
              for (let j = 0; j < want.length; j++)
                expect(Math.abs(got[j]! - want[j]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[j]!)));
          });
          // Every case here ends in an int8 node, so the bit-exact branch must have run.
          expect(exact).toBe(q.outputs.length);
        } finally {
          s.dispose();
        }

        // And against float: the quantized model stays near it. Bound: each output differs from
        // float by quantization noise; a one-step rounding bug is caught by the exact comparison
        // above, so this bound only rejects a model quantization broke (cosine ≥ 0.98 on these nets).
        const f = floatOutputs(q, x)[0]!;
        const r0 = ref.outputs[0]!;
        let dot = 0,
          na = 0,
          nb = 0;
        for (let j = 0; j < f.length; j++) {
          dot += f[j]! * r0[j]!;
          na += f[j]! ** 2;
          nb += r0[j]! ** 2;
        }
        expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.98);
        x.dispose();
      },
      120_000,
    );
  }
});
