// quantizeModel / quantizeApply / convertQat on real (small) models: BatchNorm folding leaves
// the float function unchanged; QAT trains; the exported §12 graph, run by the reference
// simulation (src/quant/simulate.ts) and by the native runtime, agrees with the QAT model
// evaluated in tfjs; partial quantization, per-layer configs, float fallbacks, PQAT/CQAT,
// bad input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { clusterModel } from '../../src/cluster/index.js';
import { loadMnist, type MnistSplit } from '../../src/data/mnist.js';
import { loadModel } from '../../src/model/load.js';
import { saveNative } from '../../src/model/save-native.js';
import { magnitudePrune } from '../../src/prune/index.js';
import { planExecution } from '../../src/quant/params.js';
import { simulate } from '../../src/quant/simulate.js';
import { convertQat } from '../../src/qat/export.js';
import { buildMiniMobileNet } from '../../src/qat/models.js';
import { quantizeAnnotate, quantizeApply, quantizeModel, type QatModel } from '../../src/qat/quantize.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { registerNativeTrainingKernels } from '../../src/train/kernels.js';
import type { Graph } from '../../src/model/ir.js';

let mnist: MnistSplit;
let xTest: tf.Tensor;
let labelsTest: Uint8Array;

beforeAll(async () => {
  await initFloatBackend();
  registerNativeTrainingKernels();
  mnist = loadMnist({ trainSize: 2000, testSize: 1000, seed: 5 });
  xTest = mnist.xTest;
  labelsTest = mnist.labelsTest;
});

afterAll(() => mnist?.dispose());

function argmax(d: ArrayLike<number>, n: number, c: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) for (let j = 1; j < c; j++) if (d[i * c + j]! > d[i * c + out[i]!]!) out[i] = j;
  return out;
}

/** Top-1 agreement and largest output difference (in output quantization steps) of the graph run vs the QAT model. */
function compare(
  qatOut: Float32Array,
  graphOut: Float32Array,
  classes: number,
  step: number,
): { agree: number; steps: number } {
  const n = qatOut.length / classes;
  const a = argmax(qatOut, n, classes),
    b = argmax(graphOut, n, classes);
  let same = 0,
    maxd = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  for (let i = 0; i < qatOut.length; i++) maxd = Math.max(maxd, Math.abs(qatOut[i]! - graphOut[i]!));
  return { agree: same / n, steps: maxd / step };
}

function outputStep(g: Graph): number {
  const acts = g.metadata.activations as Record<string, { scale: number }>;
  return acts[g.outputs[0]!]!.scale;
}

function buildLeNetBN(seed: number): tf.Sequential {
  const init = (i: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }) });
  const m = tf.sequential({ name: 'lenet_bn' });
  m.add(
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 6,
      kernelSize: 5,
      activation: 'relu',
      name: 'conv1',
      ...init(0),
    }),
  );
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }));
  m.add(tf.layers.conv2d({ filters: 12, kernelSize: 5, useBias: false, name: 'conv2', ...init(1) }));
  m.add(tf.layers.batchNormalization({ name: 'bn2' }));
  m.add(tf.layers.activation({ activation: 'relu', name: 'relu2' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }));
  m.add(tf.layers.flatten({ name: 'flatten' }));
  m.add(tf.layers.dense({ units: 32, name: 'fc1', ...init(2) }));
  m.add(tf.layers.batchNormalization({ name: 'bn3' }));
  m.add(tf.layers.reLU({ name: 'relu3' }));
  m.add(tf.layers.dropout({ rate: 0.1, name: 'drop' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc2', ...init(3) }));
  return m;
}

/** Random BatchNorm statistics, so folding is not a no-op. */
function randomizeBatchNorm(model: tf.LayersModel, seed: number): void {
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    const range = (name: string): [number, number] =>
      /gamma/.test(name) ? [0.5, 1.5] : /variance/.test(name) ? [0.3, 2] : [-0.3, 0.3];
    l.setWeights(
      l.weights.map((v, i) => tf.randomUniform(v.read().shape, ...range(v.originalName), 'float32', seed + i)),
    );
  }
}

/** Float pre-training (BatchNorm in training mode: real statistics), as before TF-MOT's QAT fine-tuning. */
async function pretrain(model: tf.LayersModel, steps: number): Promise<void> {
  model.compile({
    optimizer: tf.train.adam(3e-3),
    loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p),
  });
  const x = mnist.xTrain.slice(0, steps * 32),
    y = mnist.yTrain.slice(0, steps * 32);
  await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
}

async function trainQat(qat: QatModel, steps: number): Promise<void> {
  qat.calibrate(mnist.xTrain.slice(0, 256));
  const n = steps * 32;
  const x = mnist.xTrain.slice(0, n),
    y = mnist.yTrain.slice(0, n);
  await qat.fit(x, y, { epochs: 1, batchSize: 32, learningRate: 2e-3, seed: 3 });
  tf.dispose([x, y]);
}

async function nativeRun(g: Graph, x: tf.Tensor): Promise<Float32Array> {
  const s = await InferenceSession.create(g, { threads: 2 });
  try {
    const out = await s.run(x);
    return Float32Array.from(out[g.outputs[0]!]!.data as ArrayLike<number>);
  } finally {
    s.dispose();
  }
}

describe('BatchNorm folding', () => {
  it('leaves the float outputs unchanged (1e-5 relative) for conv, depthwise, dense, separable, transpose and 1-D convs', () => {
    const input = tf.input({ shape: [10, 10, 3] });
    const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;
    let x = ap(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c' }), input);
    x = ap(tf.layers.batchNormalization({ name: 'c_bn' }), x);
    x = ap(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, name: 'd' }), x);
    x = ap(tf.layers.batchNormalization({ name: 'd_bn', epsilon: 0.01 }), x);
    x = ap(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same', useBias: false, name: 's' }), x);
    x = ap(tf.layers.batchNormalization({ name: 's_bn', scale: false }), x);
    x = ap(tf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', name: 't' }), x);
    x = ap(tf.layers.batchNormalization({ name: 't_bn' }), x);
    x = ap(tf.layers.reshape({ targetShape: [16 * 16, 3], name: 'r' }), x);
    x = ap(tf.layers.conv1d({ filters: 4, kernelSize: 3, name: 'c1d' }), x);
    x = ap(tf.layers.batchNormalization({ name: 'c1d_bn' }), x);
    x = ap(tf.layers.flatten({ name: 'f' }), x);
    x = ap(tf.layers.dense({ units: 6, name: 'fc' }), x);
    x = ap(tf.layers.batchNormalization({ name: 'fc_bn', center: false }), x);
    const model = tf.model({ inputs: input, outputs: x });
    randomizeBatchNorm(model, 11);
    const qat = quantizeModel(model);
    expect(qat.report.folded.map((f) => f.into).sort()).toEqual(['c', 'c1d', 'd', 'fc', 's', 't']);
    const data = tf.randomNormal([8, 10, 10, 3], 0, 1, 'float32', 2);
    const ref = model.predict(data) as tf.Tensor;
    const got = qat.predict(data, { quantize: false });
    const r = ref.dataSync(),
      gd = got.dataSync();
    let maxAbs = 0,
      maxDiff = 0;
    for (let i = 0; i < r.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(r[i]!));
      maxDiff = Math.max(maxDiff, Math.abs(r[i]! - gd[i]!));
    }
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff / maxAbs).toBeLessThan(1e-5);
    // Without folding the layers are applied as they are (BatchNorm float): also the same function.
    const plain = quantizeModel(model, { foldBatchNorm: false });
    expect(plain.report.folded).toEqual([]);
    expect(plain.report.float.map((f) => f.layer)).toContain('c_bn');
    tf.dispose([data, ref, got]);
  });
});

describe('QAT → convertQat → int8 graph', () => {
  it('mini MobileNet (BN folding, depthwise, ReLU6 layers, residual Add, GAP, logits): simulate and the native runtime agree with the QAT model', async () => {
    const model = buildMiniMobileNet({ seed: 2, width: 8, softmax: false });
    await pretrain(model, 60);
    const floatAcc = (() => {
      const p = model.predict(xTest) as tf.Tensor;
      const a = argmax(p.dataSync(), labelsTest.length, 10);
      p.dispose();
      return a.filter((v, i) => v === labelsTest[i]).length / a.length;
    })();
    // A precondition, not a result: the pretrained float model must beat chance (0.1) clearly
    // for the agreement checks below to mean something.
    expect(floatAcc).toBeGreaterThan(0.3);
    const qat = quantizeModel(model);
    expect(qat.report.float).toEqual([]);
    expect(qat.report.folded.length).toBe(7);
    // Every ReLU6 follows a folded conv: fused, no quantization point of its own.
    expect(qat.steps.filter((s) => s.kind === 'fused').length).toBe(7);
    await trainQat(qat, 30);
    expect(qat.step).toBe(30);
    expect(qat.evaluate(xTest, labelsTest)).toBeGreaterThan(floatAcc - 0.05);

    const g = await convertQat(qat);
    const plan = planExecution(g);
    expect([...plan.values()].every((e) => e === 'int8')).toBe(true);
    expect(g.nodes.map((n) => n.op).filter((o) => o === 'FusedBatchNormV3' || o === 'Relu' || o === 'Minimum')).toEqual(
      [],
    );
    const qatOut = qat.predict(xTest).dataSync() as Float32Array;
    const sim = simulate(g, [xTest]).outputs[0]!.data as Float32Array;
    const step = outputStep(g);
    const c = compare(qatOut, sim, 10, step);
    expect(c.agree).toBeGreaterThanOrEqual(0.999);
    expect(c.steps).toBeLessThanOrEqual(1 + 1e-5);
    // With the integer-exact evaluation the two are the same function here: bit for bit.
    expect(Array.from(qatOut)).toEqual(Array.from(sim));
    const nat = await nativeRun(g, xTest);
    expect(Array.from(nat)).toEqual(Array.from(sim));
    // Bounded work (60 pretraining steps and a QAT pass); a loaded 2-core machine takes over 60 s.
  }, 240_000);

  it('Sequential LeNet (in-layer ReLU, conv+BN+Activation, dense+BN+ReLU layer, Dropout, softmax): agreement, kernels, saveNative round trip', async () => {
    const model = buildLeNetBN(7);
    randomizeBatchNorm(model, 5);
    const qat = quantizeModel(model, { layers: { fc1: { weightBits: 4 } } });
    expect(qat.report.folded).toEqual([
      { layer: 'bn2', into: 'conv2' },
      { layer: 'bn3', into: 'fc1' },
    ]);
    await trainQat(qat, 40);
    const g = await convertQat(qat);
    expect([...planExecution(g).values()].every((e) => e === 'int8')).toBe(true);
    // Kernels: int8 narrow range, per output channel, data = dequantized values; fc1 at 4 bits.
    for (const [name, lim] of [
      ['conv1/kernel', 127],
      ['conv2/kernel', 127],
      ['fc1/kernel', 7],
      ['fc2/kernel', 127],
    ] as const) {
      const c = g.constants.get(name)!;
      const a = c.quantization!.affine!;
      expect(a.dtype).toBe('int8');
      expect(a.scales.length).toBe(c.shape[c.shape.length - 1]);
      const v = a.values as Int8Array,
        d = c.data as Float32Array;
      const C = a.scales.length;
      const maxPer = new Array<number>(C).fill(0);
      for (let i = 0; i < v.length; i++) {
        expect(d[i]).toBe(Math.fround(v[i]! * a.scales[i % C]!));
        maxPer[i % C] = Math.max(maxPer[i % C]!, Math.abs(v[i]!));
      }
      expect(Math.max(...maxPer)).toBe(lim);
    }
    const qatOut = qat.predict(xTest).dataSync() as Float32Array;
    const sim = simulate(g, [xTest]).outputs[0]!.data as Float32Array;
    expect(outputStep(g)).toBe(1 / 256);
    const c = compare(qatOut, sim, 10, 1 / 256);
    expect(c.agree).toBeGreaterThanOrEqual(0.999);
    expect(c.steps).toBeLessThanOrEqual(1 + 1e-5);
    // The int8 softmax (§11.6) included: the same function.
    expect(Array.from(qatOut)).toEqual(Array.from(sim));

    const dir = mkdtempSync(join(tmpdir(), 'qat-'));
    try {
      await saveNative(g, dir, { mode: 'qat-int8' });
      const back = await loadModel(dir);
      const sim2 = simulate(back, [xTest.slice(0, 50)]).outputs[0]!.data as Float32Array;
      expect(Array.from(sim2)).toEqual(Array.from(sim.subarray(0, 500)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const nat = await nativeRun(g, xTest);
    expect(Array.from(nat)).toEqual(Array.from(sim));
  });

  it('Conv2DTranspose and Conv1D (bias outside the int8 node): the graph agrees with the QAT model', async () => {
    const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor) => l.apply(x) as tf.SymbolicTensor;
    const i1 = tf.input({ shape: [6, 6, 2] });
    let a = ap(
      tf.layers.conv2dTranspose({
        filters: 3,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        name: 'up',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      i1,
    );
    a = ap(tf.layers.flatten({ name: 'f1' }), a);
    a = ap(tf.layers.dense({ units: 5, name: 'o1', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }), a);
    const i2 = tf.input({ shape: [12, 3] });
    let b = ap(
      tf.layers.conv1d({
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        name: 'c1d',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      i2,
    );
    b = ap(tf.layers.flatten({ name: 'f2' }), b);
    b = ap(tf.layers.dense({ units: 5, name: 'o2', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }), b);
    for (const [model, shape] of [
      [tf.model({ inputs: i1, outputs: a }), [300, 6, 6, 2]],
      [tf.model({ inputs: i2, outputs: b }), [300, 12, 3]],
    ] as const) {
      for (const l of model.layers) {
        const bias = l.weights.find((v) => /bias/.test(v.originalName));
        if (bias) bias.write(tf.randomUniform(bias.read().shape, -0.2, 0.2, 'float32', 9));
      }
      const qat = quantizeModel(model);
      const x = tf.randomUniform([...shape], -1, 1, 'float32', 6);
      qat.calibrate(x);
      const g = await convertQat(qat);
      expect([...planExecution(g).entries()].filter(([, e]) => e === 'int8').length).toBeGreaterThanOrEqual(2);
      const qatOut = qat.predict(x).dataSync() as Float32Array;
      const sim = simulate(g, [x]).outputs[0]!.data as Float32Array;
      const c = compare(qatOut, sim, 5, outputStep(g));
      expect(c.agree).toBeGreaterThanOrEqual(0.999);
      expect(c.steps).toBeLessThanOrEqual(1 + 1e-5);
      expect(Array.from(qatOut)).toEqual(Array.from(sim));
      x.dispose();
    }
  });

  it('Concatenate of branches with different ranges, AveragePooling2D (SAME), Multiply, Maximum: bit for bit with simulate', async () => {
    const ap = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
    const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
    const inp = tf.input({ shape: [9, 9, 2] });
    const a = ap(
      tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'ca', ...init(1) }),
      inp,
    );
    const b = ap(tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'cb', ...init(2) }), inp);
    let x = ap(tf.layers.concatenate({ name: 'cat' }), [a, b]);
    x = ap(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avg' }), x);
    const c = ap(tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'cc', ...init(3) }), x);
    x = ap(tf.layers.multiply({ name: 'mul' }), [x, c]);
    x = ap(tf.layers.maximum({ name: 'max' }), [x, c]);
    x = ap(tf.layers.flatten({ name: 'f' }), x);
    x = ap(tf.layers.dense({ units: 4, name: 'o', ...init(4) }), x);
    const qat = quantizeModel(tf.model({ inputs: inp, outputs: x }));
    expect(qat.report.float).toEqual([]);
    const data = tf.randomUniform([200, 9, 9, 2], -1, 1, 'float32', 3);
    qat.calibrate(data);
    const g = await convertQat(qat);
    expect([...planExecution(g).values()].every((e) => e === 'int8')).toBe(true);
    const qatOut = qat.predict(data).dataSync() as Float32Array;
    const sim = simulate(g, [data]).outputs[0]!.data as Float32Array;
    expect(Array.from(qatOut)).toEqual(Array.from(sim));
    data.dispose();
  });

  it('table activations (sigmoid, tanh, ELU, LeakyReLU, ReLU layers; dense with a fused tanh): bit for bit with simulate', async () => {
    const m = tf.sequential();
    const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
    m.add(tf.layers.dense({ inputShape: [6], units: 8, activation: 'tanh', name: 'd1', ...init(1) }));
    m.add(tf.layers.dense({ units: 8, name: 'd2', ...init(2) }));
    m.add(tf.layers.activation({ activation: 'sigmoid', name: 'sig' }));
    m.add(tf.layers.dense({ units: 8, name: 'd3', ...init(3) }));
    m.add(tf.layers.leakyReLU({ alpha: 0.1, name: 'leaky' }));
    m.add(tf.layers.elu({ name: 'elu' }));
    m.add(tf.layers.dense({ units: 8, name: 'd4', ...init(4) }));
    m.add(tf.layers.batchNormalization({ name: 'bn4' }));
    m.add(tf.layers.reLU({ name: 'relu4' }));
    m.add(tf.layers.activation({ activation: 'relu', name: 'relu5' }));
    m.add(tf.layers.dense({ units: 3, name: 'out', ...init(5) }));
    randomizeBatchNorm(m, 8);
    const qat = quantizeModel(m);
    expect(qat.report.float).toEqual([]);
    const x = tf.randomUniform([400, 6], -2, 2, 'float32', 4);
    qat.calibrate(x);
    const g = await convertQat(qat);
    expect([...planExecution(g).values()].every((e) => e === 'int8')).toBe(true);
    expect(g.nodes.find((n) => n.name.startsWith('d1/'))!.attrs.activation).toBe('tanh');
    const qatOut = qat.predict(x).dataSync() as Float32Array;
    const sim = simulate(g, [x]).outputs[0]!.data as Float32Array;
    expect(Array.from(qatOut)).toEqual(Array.from(sim));
    x.dispose();
  });

  it('quantizeAnnotate + quantizeApply quantize only the annotated layers; float layers are listed in floatNodes', async () => {
    const model = buildLeNetBN(9);
    quantizeAnnotate(model.getLayer('fc1'));
    quantizeAnnotate(model.getLayer('fc2'), { weightPerChannel: false });
    const qat = quantizeApply(model);
    expect(qat.report.quantized).toEqual(['fc1', 'relu3', 'fc2']);
    expect(qat.report.float.map((f) => f.layer)).toEqual(['conv1', 'conv2', 'bn2', 'relu2']);
    await trainQat(qat, 20);
    const g = await convertQat(qat);
    const q = g.metadata.quantization as { floatNodes: string[] };
    expect(q.floatNodes.some((n) => n.startsWith('conv1/'))).toBe(true);
    expect(g.constants.get('conv1/kernel')!.quantization?.affine).toBeUndefined();
    expect(g.constants.get('fc2/kernel')!.quantization!.affine!.axis).toBe(-1);
    const plan = planExecution(g);
    expect(plan.get(g.nodes.find((n) => n.name.startsWith('fc1/'))!.name)).toBe('int8');
    expect(plan.get(g.nodes.find((n) => n.name.startsWith('conv1/'))!.name)).toBe('float');
    const qatOut = qat.predict(xTest).dataSync() as Float32Array;
    const sim = simulate(g, [xTest]).outputs[0]!.data as Float32Array;
    const c = compare(qatOut, sim, 10, 1 / 256);
    expect(c.agree).toBeGreaterThanOrEqual(0.999);
    expect(c.steps).toBeLessThanOrEqual(1 + 1e-5);
  });

  it('layers without an int8 kernel stay float and are reported; the rest still agrees', async () => {
    const m = tf.sequential();
    m.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
    m.add(tf.layers.dense({ units: 24, name: 'd1', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
    m.add(tf.layers.activation({ activation: 'selu', name: 'selu' }));
    m.add(tf.layers.dense({ units: 10, name: 'd2', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
    const qat = quantizeModel(m);
    expect(qat.report.float).toEqual([{ layer: 'selu', reason: "activation 'selu' has no int8 kernel" }]);
    await trainQat(qat, 10);
    const g = await convertQat(qat);
    expect((g.metadata.quantization as { floatNodes: string[] }).floatNodes).toEqual(['selu/Selu']);
    const qatOut = qat.predict(xTest).dataSync() as Float32Array;
    const sim = simulate(g, [xTest]).outputs[0]!.data as Float32Array;
    const c = compare(qatOut, sim, 10, outputStep(g));
    expect(c.agree).toBeGreaterThanOrEqual(0.999);
    expect(c.steps).toBeLessThanOrEqual(1 + 1e-5);

    // A layer the graph loader cannot lower: QAT still runs (float), export says why it cannot.
    const ln = tf.sequential();
    ln.add(tf.layers.dense({ inputShape: [4], units: 4, name: 'a' }));
    ln.add(tf.layers.layerNormalization({ name: 'ln' }));
    ln.add(tf.layers.dense({ units: 2, name: 'b' }));
    const q2 = quantizeModel(ln);
    expect(q2.report.float.map((f) => f.layer)).toEqual(['ln']);
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 1);
    q2.calibrate(x);
    expect(q2.predict(x).shape).toEqual([16, 2]);
    await expect(convertQat(q2)).rejects.toThrow(/LayerNormalization/);
    x.dispose();
  });
});

describe('collaborative optimization', () => {
  function smallDense(seed: number): tf.Sequential {
    const m = tf.sequential();
    m.add(tf.layers.flatten({ inputShape: [28, 28, 1], name: 'flat' }));
    m.add(
      tf.layers.dense({
        units: 32,
        activation: 'relu',
        name: 'h',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
    );
    m.add(
      tf.layers.dense({
        units: 10,
        activation: 'softmax',
        name: 'out',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    );
    return m;
  }
  const zerosOf = (v: Float32Array) => v.reduce<number[]>((a, x, i) => (x === 0 ? [...a, i] : a), []);

  it('PQAT: pruned zeros stay exactly zero through QAT (and would not without preserveSparsity)', async () => {
    for (const preserve of [true, false]) {
      const m = smallDense(3);
      magnitudePrune(m, { sparsity: 0.6 });
      const before = zerosOf(m.getLayer('h').getWeights()[0]!.dataSync() as Float32Array);
      expect(before.length).toBeGreaterThan(0.59 * 784 * 32);
      const qat = quantizeModel(m, { preserveSparsity: preserve });
      await trainQat(qat, 15);
      const after = m.getLayer('h').getWeights()[0]!.dataSync() as Float32Array;
      const stillZero = before.filter((i) => after[i] === 0).length;
      if (preserve) {
        expect(stillZero).toBe(before.length);
        const g = await convertQat(qat);
        const v = g.constants.get('h/kernel')!.quantization!.affine!.values!;
        expect(before.every((i) => v[i] === 0)).toBe(true);
      } else {
        expect(stillZero).toBeLessThan(before.length);
      }
    }
  });

  it('CQAT: kernels keep at most their cluster count of distinct values, zeros included', async () => {
    const m = smallDense(4);
    magnitudePrune(m, { sparsity: 0.5 });
    clusterModel(m, { denseBits: 3 });
    const distinct = (l: string) => new Set(m.getLayer(l).getWeights()[0]!.dataSync()).size;
    const k0 = distinct('h');
    const v0 = m.getLayer('h').getWeights()[0]!.dataSync().slice() as Float32Array;
    expect(k0).toBeLessThanOrEqual(9);
    const qat = quantizeModel(m, { preserveClusters: true, preserveSparsity: true });
    await trainQat(qat, 15);
    const v1 = m.getLayer('h').getWeights()[0]!.dataSync() as Float32Array;
    expect(distinct('h')).toBeLessThanOrEqual(k0);
    expect(v1.some((x, i) => x !== v0[i])).toBe(true);
    expect(zerosOf(v0).every((i) => v1[i] === 0)).toBe(true);
    const g = await convertQat(qat);
    expect(new Set(g.constants.get('h/kernel')!.quantization!.affine!.values!).size).toBeLessThanOrEqual(k0);
  });
});

describe('bad input', () => {
  it('rejects subclassed models, non-models, out-of-range configs and unusable states with clear errors', async () => {
    class MyModel extends tf.LayersModel {
      static override className = 'MyModel';
      override getClassName(): string {
        return 'MyModel';
      }
    }
    const inp = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 2 }).apply(inp) as tf.SymbolicTensor;
    const sub = new MyModel({ inputs: inp, outputs: out });
    expect(() => quantizeModel(sub)).toThrow(/subclassed/);
    expect(() => quantizeModel({} as tf.LayersModel)).toThrow(TypeError);
    const m = tf.model({ inputs: inp, outputs: out });
    const dense = m.layers[1]!.name;
    expect(() => quantizeModel(m, { weightBits: 9 })).toThrow(/weightBits must be an integer from 2 to 8/);
    expect(() => quantizeModel(m, { activationBits: 1 })).toThrow(/activationBits/);
    expect(() => quantizeModel(m, { layers: { nope: {} } })).toThrow(/'nope'/);
    expect(() => quantizeModel(m, { layers: { [dense]: { weightBits: 3.5 } } })).toThrow(/weightBits/);
    expect(() => quantizeModel(m, { layers: { [dense]: { bits: 4 } as never } })).toThrow(/not a quantization setting/);
    expect(() => quantizeModel(m, { emaDecay: 1 })).toThrow(/emaDecay/);
    expect(() => quantizeApply(m)).toThrow(/annotated/);
    expect(() => quantizeAnnotate({} as tf.layers.Layer)).toThrow(TypeError);
    const q = quantizeModel(m);
    const x = tf.ones([2, 4]);
    expect(() => q.predict(x)).toThrow(/calibrate/);
    await expect(convertQat(q)).rejects.toThrow(/calibrate/);
    const q4 = quantizeModel(m, { activationBits: 4 });
    q4.calibrate(x);
    await expect(convertQat(q4)).rejects.toThrow(/8-bit activations/);
    const qa = quantizeModel(m, { weightSymmetric: false });
    qa.calibrate(x);
    await expect(convertQat(qa)).rejects.toThrow(/asymmetric weights/);
    await expect(convertQat({} as QatModel)).rejects.toThrow(TypeError);
    x.dispose();
  });
});
