// tfjs-layers text models (Embedding, SimpleRNN, LSTM, GRU, Bidirectional) lowered into the graph IR: unrolled over their
// known sequence length, executed by our executor and compared with tfjs-layers' own
// model.predict on the same weights and token ids; Keras' reset_after GRU (which tfjs-layers
// refuses to build) against Keras' formula written out below; then quantized (dynamic int8)
// and run natively from the saved files.
//
// Tolerance against model.predict: none. The lowering issues the same float32 operations in the
// same order as tfjs-layers (x·W, + h·U, + bias, the same split of U, 1 − z for 1 + (−z), which
// is exact); the one difference is that x·W of all time steps is one MatMul over batch·T rows
// instead of T MatMuls over batch rows, and a row's dot product does not depend on how many
// rows the kernel computes. So the outputs are bit-identical on the same backend; a change
// that reorders a sum would show here first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, saveNative, tfjsFiles, type Graph } from '../../src/model/index.js';
import { loadStock, randomFloats, rng, saveLayersToMemory } from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { InferenceSession } from '../../src/runtime/index.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend();
  dir = mkdtempSync(join(tmpdir(), 'tfjq-rnn-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VOCAB = 30,
  DIM = 6,
  UNITS = 5,
  T = 7;

/** A seeded uniform initializer in ±0.6: pre-activations mostly inside the non-saturated range of tanh and hard sigmoid. */
const uniform = (seed: number) => tf.initializers.randomUniform({ minval: -0.6, maxval: 0.6, seed });

function init(seed: number) {
  return {
    kernelInitializer: uniform(seed),
    recurrentInitializer: uniform(seed + 1),
    biasInitializer: uniform(seed + 2),
  };
}

function embedding(opts: { maskZero?: boolean; inputLength?: number } = {}): tf.layers.Layer {
  return tf.layers.embedding({
    inputDim: VOCAB,
    outputDim: DIM,
    name: 'embed',
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 5 }),
    ...(opts.maskZero ? { maskZero: true } : {}),
    ...(opts.inputLength !== undefined ? { inputLength: opts.inputLength } : {}),
  });
}

/** A functional model on int32 token ids [batch, T]. */
function textModel(
  body: (x: tf.SymbolicTensor) => tf.SymbolicTensor | tf.SymbolicTensor[],
  maskZero = false,
): tf.LayersModel {
  const ids = tf.input({ shape: [T], dtype: 'int32', name: 'tokens' });
  const e = embedding({ maskZero }).apply(ids) as tf.SymbolicTensor;
  return tf.model({ inputs: ids, outputs: body(e) });
}

/** Token ids with zeros at the start, in the middle and at the end of some rows (padding, for masks). */
function tokens(batch: number, seed: number, zeros = false): tf.Tensor {
  const r = rng(seed);
  const v = Int32Array.from({ length: batch * T }, () => 1 + Math.floor(r() * (VOCAB - 1)));
  if (zeros) {
    for (let t = 0; t < 3; t++) v[t] = 0; // row 0: leading padding
    v[T + 3] = 0; // row 1: one masked step in the middle
    for (let t = T - 2; t < T; t++) v[2 * T + t] = 0; // row 2: trailing padding
  }
  return tf.tensor2d(v, [batch, T], 'int32');
}

/**
 * The float32 bit patterns, −0 read as +0: a masked first step gives h·0 where tfjs computes
 * h·0 + h₀·1 with h₀ = +0 (the sign of a zero, never a value, differs).
 */
function bits(a: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(a, (v) => v + 0).buffer));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Largest difference between a session's run and model.predict on token ids x. */
async function sessionError(model: tf.LayersModel, s: InferenceSession, x: tf.Tensor): Promise<number> {
  const want = (model.predict(x) as tf.Tensor).dataSync();
  return maxAbsDiff((await s.run({ [s.inputs[0]!.name]: x }))[s.outputs[0]!.name]!.data, want);
}

async function lowered(model: tf.LayersModel): Promise<Graph> {
  return loadModel(await saveLayersToMemory(model));
}

function expectSameAsPredict(model: tf.LayersModel, g: Graph, x: tf.Tensor): void {
  const want = model.predict(x);
  const wants = Array.isArray(want) ? want : [want];
  const got = execute(g, x);
  expect(got.length).toBe(wants.length);
  wants.forEach((w, i) => {
    expect(got[i]!.shape).toEqual(w.shape);
    expect(bits(got[i]!.dataSync())).toEqual(bits(w.dataSync()));
  });
}

/** Embedding → LSTM (sequences) → GRU → Dense softmax: the zoo's text-rnn in small. */
function twoLayerStack(maskZero = false, seed = 50): tf.LayersModel {
  return textModel((e) => {
    const s = tf.layers
      .lstm({ units: UNITS, name: 'lstm', returnSequences: true, ...init(seed) })
      .apply(e) as tf.SymbolicTensor;
    const h = tf.layers.gru({ units: UNITS + 1, name: 'gru', ...init(seed + 10) }).apply(s) as tf.SymbolicTensor;
    // Seeded like the recurrent layers: a head drawn anew on each run made the int8 error vary
    // from run to run (0.004–0.037 over runs of the static int8 check below).
    return tf.layers
      .dense({
        units: 4,
        activation: 'softmax',
        name: 'classes',
        kernelInitializer: uniform(seed + 20),
        biasInitializer: uniform(seed + 21),
      })
      .apply(h) as tf.SymbolicTensor;
  }, maskZero);
}

const CASES: [string, () => tf.LayersModel][] = [
  [
    'Embedding → LSTM (last output)',
    () => textModel((e) => tf.layers.lstm({ units: UNITS, name: 'lstm', ...init(10) }).apply(e) as tf.SymbolicTensor),
  ],
  [
    'Embedding → LSTM (sequences, go_backwards, sigmoid gates, no bias)',
    () =>
      textModel(
        (e) =>
          tf.layers
            .lstm({
              units: UNITS,
              name: 'lstm',
              returnSequences: true,
              goBackwards: true,
              recurrentActivation: 'sigmoid',
              useBias: false,
              ...init(20),
            })
            .apply(e) as tf.SymbolicTensor,
      ),
  ],
  [
    'Embedding → GRU (last output; dropout and recurrent_dropout act in training only)',
    () =>
      textModel(
        (e) =>
          tf.layers
            .gru({ units: UNITS, name: 'gru', dropout: 0.3, recurrentDropout: 0.2, ...init(30) })
            .apply(e) as tf.SymbolicTensor,
      ),
  ],
  [
    'Embedding → LSTM over one step (sequences)',
    () => {
      const ids = tf.input({ shape: [1], dtype: 'int32', name: 'tokens' });
      const e = embedding().apply(ids) as tf.SymbolicTensor;
      return tf.model({
        inputs: ids,
        outputs: tf.layers
          .lstm({ units: UNITS, name: 'lstm', returnSequences: true, ...init(35) })
          .apply(e) as tf.SymbolicTensor,
      });
    },
  ],
  [
    'Embedding → GRU (sequences, go_backwards, relu candidate)',
    () =>
      textModel(
        (e) =>
          tf.layers
            .gru({
              units: UNITS,
              name: 'gru',
              returnSequences: true,
              goBackwards: true,
              activation: 'relu',
              ...init(40),
            })
            .apply(e) as tf.SymbolicTensor,
      ),
  ],
  ['Embedding → LSTM → GRU → Dense softmax (two-layer stack)', () => twoLayerStack()],
  [
    'Embedding → LSTM with return_state (output, h, c)',
    () =>
      textModel(
        (e) =>
          tf.layers
            .lstm({ units: UNITS, name: 'lstm', returnSequences: true, returnState: true, ...init(70) })
            .apply(e) as tf.SymbolicTensor[],
      ),
  ],
  [
    'Embedding (mask_zero) → LSTM (sequences) → GRU: masked steps keep the state',
    () =>
      textModel((e) => {
        const s = tf.layers
          .lstm({ units: UNITS, name: 'lstm', returnSequences: true, ...init(80) })
          .apply(e) as tf.SymbolicTensor;
        return tf.layers
          .gru({ units: UNITS, name: 'gru', returnSequences: true, ...init(90) })
          .apply(s) as tf.SymbolicTensor;
      }, true),
  ],
  [
    'Embedding (mask_zero) → GRU (go_backwards)',
    () =>
      textModel(
        (e) =>
          tf.layers.gru({ units: UNITS, name: 'gru', goBackwards: true, ...init(100) }).apply(e) as tf.SymbolicTensor,
        true,
      ),
  ],
  [
    'Embedding → SimpleRNN (sequences) → SimpleRNN (relu, go_backwards, no bias)',
    () =>
      textModel((e) => {
        const s = tf.layers
          .simpleRNN({ units: UNITS, name: 'rnn1', returnSequences: true, ...init(200) })
          .apply(e) as tf.SymbolicTensor;
        return tf.layers
          .simpleRNN({
            units: UNITS,
            name: 'rnn2',
            activation: 'relu',
            goBackwards: true,
            useBias: false,
            ...init(210),
          })
          .apply(s) as tf.SymbolicTensor;
      }),
  ],
  [
    'Embedding → Bidirectional(LSTM, sequences, concat) → Bidirectional(GRU, ave)',
    () =>
      reseeded(
        textModel((e) => {
          const s = tf.layers
            .bidirectional({
              layer: tf.layers.lstm({ units: UNITS, name: 'lstm', returnSequences: true }) as tf.RNN,
              name: 'bi_lstm',
            })
            .apply(e) as tf.SymbolicTensor;
          return tf.layers
            .bidirectional({
              layer: tf.layers.gru({ units: UNITS, name: 'gru' }) as tf.RNN,
              mergeMode: 'ave',
              name: 'bi_gru',
            })
            .apply(s) as tf.SymbolicTensor;
        }),
        170,
      ),
  ],
  [
    'Embedding (mask_zero) → Bidirectional(GRU, sequences, go_backwards, mul)',
    () =>
      reseeded(
        textModel(
          (e) =>
            tf.layers
              .bidirectional({
                layer: tf.layers.gru({ units: UNITS, name: 'gru', returnSequences: true, goBackwards: true }) as tf.RNN,
                mergeMode: 'mul',
                name: 'bi',
              })
              .apply(e) as tf.SymbolicTensor,
          true,
        ),
        180,
      ),
  ],
  [
    'Embedding → Bidirectional(LSTM, merge_mode null, return_state): both outputs, then the states',
    () =>
      reseeded(
        textModel(
          (e) =>
            tf.layers
              .bidirectional({
                layer: tf.layers.lstm({ units: UNITS, name: 'lstm', returnState: true }) as tf.RNN,
                mergeMode: null as unknown as 'concat',
                name: 'bi',
              })
              .apply(e) as tf.SymbolicTensor[],
        ),
        190,
      ),
  ],
];

/**
 * New seeded weights in ±0.6 for every variable: a Bidirectional copies its layer's config, seeded
 * initializers included, so its forward and backward halves would otherwise start equal.
 */
function reseeded(model: tf.LayersModel, seed: number): tf.LayersModel {
  model.weights.forEach((w, i) => {
    const v = tf.tensor(
      randomFloats(
        w.shape.reduce((a, b) => a! * b!, 1)!,
        seed + i,
        -0.6,
        0.6,
      ),
      w.shape as number[],
    );
    w.write(v);
    v.dispose();
  });
  return model;
}

describe.each(CASES)('%s', (_name, make) => {
  it('lowers to graph ops and executes bit-identically to model.predict', async () => {
    const model = make();
    const g = await lowered(model);
    expect(g.nodes.some((n) => n.op === 'GatherV2')).toBe(true);
    expect(g.nodes.every((n) => !n.opaque)).toBe(true);
    const steps = model.inputs[0]!.shape[1]!;
    const x = steps === T ? tokens(3, 7, _name.includes('mask_zero')) : tf.slice(tokens(3, 7), [0, 0], [-1, steps]);
    expectSameAsPredict(model, g, x);
  });
});

it('re-saves as a tfjs graph model that stock tf.loadGraphModel runs bit-identically, and as its layers topology', async () => {
  const model = twoLayerStack(true, 150);
  const g = await lowered(model);
  const x = tokens(3, 12, true);
  const want = model.predict(x) as tf.Tensor;
  const graph = (await loadStock(tfjsFiles(g, { format: 'graph' }))) as tf.GraphModel;
  expect(bits((graph.execute(x) as tf.Tensor).dataSync())).toEqual(bits(want.dataSync()));
  const layers = (await loadStock(tfjsFiles(g))) as tf.LayersModel;
  expect(bits((layers.predict(x) as tf.Tensor).dataSync())).toEqual(bits(want.dataSync()));
});

it('reads the weights of Keras (TF 2) converted models, named <layer>/<x>_cell/…, that stock tfjs-layers cannot load', async () => {
  const model = twoLayerStack();
  const saved = await saveLayersToMemory(model);
  const json = JSON.parse(JSON.stringify(saved.modelJson)) as { weightsManifest: { weights: { name: string }[] }[] };
  for (const w of json.weightsManifest[0]!.weights)
    w.name = w.name.replace(/^(lstm|gru)\//, (_m, l: string) => `${l}/${l}_cell${l === 'gru' ? '_3' : ''}/`);
  expect(json.weightsManifest[0]!.weights.map((w) => w.name)).toContain('gru/gru_cell_3/recurrent_kernel');
  const g = await loadModel({ modelJson: json as unknown as Record<string, unknown>, weightData: saved.weightData });
  expectSameAsPredict(model, g, tokens(3, 15));
});

it('a Sequential Embedding on float ids (tfjs casts them to int32) feeding a GRU', async () => {
  const m = tf.sequential();
  m.add(embedding({ inputLength: T }));
  m.add(tf.layers.gru({ units: UNITS, name: 'gru', ...init(110) }));
  const g = await lowered(m);
  expect(g.inputs[0]).toMatchObject({ dtype: 'float32', shape: [-1, T] });
  expect(g.nodes.find((n) => n.op === 'Cast')?.attrs.DstT).toBe('int32');
  expectSameAsPredict(m, g, tf.cast(tokens(4, 8), 'float32'));
});

// ---- Keras' reset_after GRU

/**
 * Keras GRUCell (implementation 2) written out with tf ops, one step at a time:
 *   x·W + b_in → [xz, xr, xh];  h·U (+ b_rec) → [rz, rr, rh]   (reset_after)
 *   z = σr(xz + rz), r = σr(xr + rr)
 *   hh = act(xh + r·rh)                       (reset_after)
 *   hh = act(xh + (r·h)·U[:, 2u:])            (otherwise: U[:, :2u] for rz, rr)
 *   h' = z·h + (1 − z)·hh
 * σr is tfjs' hard sigmoid clip(0.2·x + 0.5, 0, 1); h starts at zeros.
 */
function kerasGru(
  x: tf.Tensor,
  p: {
    table: tf.Tensor;
    W: tf.Tensor;
    U: tf.Tensor;
    bIn: tf.Tensor;
    bRec?: tf.Tensor;
    resetAfter: boolean;
    units: number;
  },
): tf.Tensor {
  return tf.tidy(() => {
    const u = p.units;
    const seq = tf.gather(p.table, tf.cast(x, 'int32'));
    const hs = (v: tf.Tensor) => tf.clipByValue(tf.add(tf.mul(v, 0.2), 0.5), 0, 1);
    let h: tf.Tensor = tf.zeros([x.shape[0]!, u]);
    for (let t = 0; t < x.shape[1]!; t++) {
      const xt = tf.squeeze(tf.slice(seq, [0, t, 0], [-1, 1, -1]), [1]);
      const [xz, xr, xh] = tf.split(tf.add(tf.matMul(xt, p.W), p.bIn), 3, 1);
      let hh: tf.Tensor, z: tf.Tensor;
      if (p.resetAfter) {
        let rec = tf.matMul(h, p.U);
        if (p.bRec) rec = tf.add(rec, p.bRec);
        const [rz, rr, rh] = tf.split(rec, 3, 1);
        z = hs(tf.add(xz!, rz!));
        const r = hs(tf.add(xr!, rr!));
        hh = tf.tanh(tf.add(xh!, tf.mul(r, rh!)));
      } else {
        const [uzr, uh] = tf.split(p.U, [2 * u, u], 1);
        const [rz, rr] = tf.split(tf.matMul(h, uzr!), 2, 1);
        z = hs(tf.add(xz!, rz!));
        const r = hs(tf.add(xr!, rr!));
        hh = tf.tanh(tf.add(xh!, tf.matMul(tf.mul(r, h), uh!)));
      }
      h = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
    }
    return h;
  });
}

describe('GRU with reset_after (Keras; bias [2, 3·units])', () => {
  // The reference above is first checked on reset_after false against tfjs-layers itself, then
  // used for a model whose JSON says reset_after: true with a [2, 3·units] bias, as Keras saves it.
  let model: tf.LayersModel;
  let saved: Awaited<ReturnType<typeof saveLayersToMemory>>;
  const weights = () => {
    const [table, W, U, b] = model.getWeights();
    return { table: table!, W: W!, U: U!, b: b! };
  };
  beforeAll(async () => {
    model = textModel((e) => tf.layers.gru({ units: UNITS, name: 'gru', ...init(120) }).apply(e) as tf.SymbolicTensor);
    saved = await saveLayersToMemory(model);
  });

  it('the written-out reference agrees with tfjs-layers on reset_after false (float32 sums: 1e-6)', () => {
    const w = weights();
    const x = tokens(3, 9);
    const want = (model.predict(x) as tf.Tensor).dataSync();
    const got = kerasGru(x, { table: w.table, W: w.W, U: w.U, bIn: w.b, resetAfter: false, units: UNITS }).dataSync();
    // Same ops, but tfjs adds biases in a different order in places: a few float32 ulps on |h| ≤ 1.
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
  });

  it("lowers reset_after: true and matches Keras' formula (float32 sums: 1e-6)", async () => {
    const bRec = randomFloats(3 * UNITS, 131, -0.6, 0.6);
    const json = JSON.parse(JSON.stringify(saved.modelJson)) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
      weightsManifest: { weights: { name: string; shape: number[]; dtype: string }[] }[];
    };
    const gru = json.modelTopology.config.layers.find((l) => l.class_name === 'GRU')!;
    gru.config.reset_after = true;
    // Append the recurrent bias row after the input bias: the weight entry becomes [2, 3u].
    const entries = json.weightsManifest[0]!.weights;
    const at = entries.findIndex((e) => e.name === 'gru/bias');
    expect(at).toBe(entries.length - 1); // the bias is the last weight: its bytes end the buffer
    entries[at]!.shape = [2, 3 * UNITS];
    const data = new Uint8Array(saved.weightData.byteLength + bRec.byteLength);
    data.set(saved.weightData);
    data.set(new Uint8Array(bRec.buffer), saved.weightData.byteLength);
    const g = await loadModel({ modelJson: json as unknown as Record<string, unknown>, weightData: data });
    const w = weights();
    const x = tokens(3, 10);
    const want = kerasGru(x, {
      table: w.table,
      W: w.W,
      U: w.U,
      bIn: w.b,
      bRec: tf.tensor1d(bRec),
      resetAfter: true,
      units: UNITS,
    }).dataSync();
    const got = execute(g, x)[0]!.dataSync();
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    // Not the reset_before result: the two formulas differ on these weights.
    const before = kerasGru(x, {
      table: w.table,
      W: w.W,
      U: w.U,
      bIn: w.b,
      resetAfter: false,
      units: UNITS,
    }).dataSync();
    expect(maxAbsDiff(before, want)).toBeGreaterThan(1e-3);
  });
});

// ---- what is refused

describe('refused with a ModelFormatError naming the layer and the option', () => {
  async function edited(
    edit: (cfg: Record<string, unknown>) => void,
    make: () => tf.LayersModel,
  ): Promise<Parameters<typeof loadModel>[0]> {
    const saved = await saveLayersToMemory(make());
    const json = JSON.parse(JSON.stringify(saved.modelJson)) as {
      modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    };
    edit(json.modelTopology.config.layers.find((l) => l.class_name === 'LSTM')!.config);
    return { modelJson: json as unknown as Record<string, unknown>, weightData: saved.weightData };
  }
  const lstm = () =>
    textModel((e) => tf.layers.lstm({ units: UNITS, name: 'lstm', ...init(140) }).apply(e) as tf.SymbolicTensor);

  it('stateful', async () => {
    await expect(
      loadModel(
        await edited((c) => {
          c.stateful = true;
        }, lstm),
      ),
    ).rejects.toThrow(/node 'lstm'.*stateful: true is not lowered/);
  });

  it('an unknown sequence length', async () => {
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: VOCAB, outputDim: DIM, name: 'embed' }));
    m.add(tf.layers.lstm({ units: UNITS, name: 'lstm' }));
    await expect(lowered(m)).rejects.toThrow(/node 'lstm'.*needs a known sequence length/);
  });

  it('a merge of inputs masked by different Embeddings (tfjs ANDs the masks)', async () => {
    const a = tf.input({ shape: [T], dtype: 'int32', name: 'a' });
    const b = tf.input({ shape: [T], dtype: 'int32', name: 'b' });
    const ea = tf.layers
      .embedding({ inputDim: VOCAB, outputDim: DIM, maskZero: true, name: 'embed_a' })
      .apply(a) as tf.SymbolicTensor;
    const eb = tf.layers
      .embedding({ inputDim: VOCAB, outputDim: DIM, maskZero: true, name: 'embed_b' })
      .apply(b) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate({ name: 'cat' }).apply([ea, eb]) as tf.SymbolicTensor;
    const m = tf.model({
      inputs: [a, b],
      outputs: tf.layers.lstm({ units: UNITS, name: 'lstm' }).apply(cat) as tf.SymbolicTensor,
    });
    await expect(lowered(m)).rejects.toThrow(/node 'cat'.*masked by different Embeddings \('embed_a', 'embed_b'\)/);
  });

  it('weights of the wrong shape', async () => {
    await expect(
      loadModel(
        await edited((c) => {
          c.units = UNITS + 1;
        }, lstm),
      ),
    ).rejects.toThrow(/node 'lstm'.*expected \[6,24\]/);
  });
});

// ---- quantized and run natively

describe.each([
  ['Embedding → LSTM → GRU → Dense softmax', () => twoLayerStack(), false],
  ['the same with mask_zero and padded ids', () => twoLayerStack(true, 150), true],
] as const)(
  'dynamic int8 (int8 weights, activations quantized per run) in the native session: %s',
  (_name, make, masked) => {
    let model: tf.LayersModel;
    let s: InferenceSession;
    beforeAll(async () => {
      model = make();
      // Every MatMul dynamic, however narrow (a conversion runs those with K < 64 float).
      const q = (
        await quantize(await lowered(model), { mode: 'dynamic', report: false, dynamicMinK: 0, dynamicMinN: 0 })
      ).graph;
      await saveNative(q, join(dir, masked ? 'masked' : 'stack'));
      s = await InferenceSession.create(join(dir, masked ? 'masked' : 'stack', 'model.json'));
    });
    afterAll(() => s?.dispose());

    it('every MatMul (x·W of each layer, h·U of each step, the head) runs natively with int8 weights', () => {
      const mm = s.plan.filter((p) => p.op === 'MatMul');
      // LSTM: 1 input projection + T − 1 recurrent; GRU (reset_before): 1 + 2·(T − 1); the Dense head.
      expect(mm.length).toBe(1 + (T - 1) + 1 + 2 * (T - 1) + 1);
      expect(mm.every((p) => p.placement === 'native-dynamic')).toBe(true);
      // Left to tfjs: the embedding lookup (a gather at ids that carry the batch); with a mask, the
      // int32 → float cast of the ids and its |·| run natively.
      expect(s.plan.filter((p) => p.placement === 'tfjs').map((p) => p.op)).toEqual(['GatherV2']);
    });

    it('stays within 0.01 of the float model on every class probability', async () => {
      // Dynamic int8 rounds each weight column and each activation row to 1/254 of its largest
      // magnitude, so a pre-activation errs by about (2/254)·Σ|x·w|/√K (independent roundings over K
      // terms): with |w| ≤ 0.6, |x| ≤ 1 (embeddings, h, c-gated) and K ≤ 11 that is ≈ 0.015. Hard sigmoid
      // (slope 0.2) and tanh (slope ≤ 1) do not amplify it, the recurrence mixes it with states bounded
      // by 1, and softmax moves a probability by at most ¼ of a logit change: 0.01 bounds the result.
      const worst = await sessionError(model, s, tokens(16, 11, masked));
      expect(worst).toBeLessThan(0.01);
      expect(worst).toBeGreaterThan(0); // activations are quantized: not the float run
    });

    it('static int8 (calibrated ranges): every node but the id lookup (and the mask cast) runs in native int8, within 0.03', async () => {
      // Every activation tensor is one int8 scale over its calibrated range: gates, h and c lie in
      // [−1, 1], so a step of 1/127 ≈ 0.008 per rounding (not 1/254 of a row's own maximum as in
      // dynamic mode), about 3× the dynamic error above: 0.03 bounds the probabilities.
      const q = (
        await quantize(await lowered(model), { mode: 'int8', calibration: [tokens(32, 13, masked)], report: false })
      ).graph;
      const s8 = await InferenceSession.create(q);
      expect(s8.plan.filter((p) => p.placement !== 'native-int8').map((p) => p.op)).toEqual(
        masked ? ['GatherV2', 'Cast', 'Abs'] : ['GatherV2'],
      );
      expect(await sessionError(model, s8, tokens(16, 14, masked))).toBeLessThan(0.03);
      s8.dispose();
    });
  },
);
