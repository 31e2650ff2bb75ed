// InferenceSession behaviour: dynamic mode against simulate(), free batch dimension,
// concurrent runs, memory reporting and arena sharing, NaN/Inf, bad inputs, run after
// dispose, loading from a path (and the file changing underneath), invalid native plans.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet5 } from '../../src/data/models.js';
import { createGraph, execute, loadModel, optimize, saveNative, type Graph } from '../../src/model/index.js';
import { mobilenetBlocks, randomFloats, writeModel } from '../support/model-fixtures.js';
import { native } from '../../src/native/binding.js';
import { simulate } from '../../src/quant/simulate.js';
import { activationParams, quantizeWeight } from '../../src/quant/weights.js';
import { compilePlan, InferenceSession } from '../../src/runtime/index.js';
import { partitionedGraphModel } from '../../bench/models/models.js';
import { quantized, floatOutputs, graphOf, relErr, variedInput } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend();
  dir = mkdtempSync(join(tmpdir(), 'tfjq-runtime-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALL = (x: ArrayLike<number>) => Array.from(x);

describe('dynamic mode (§12.4)', () => {
  it.each(['tensor', 'row'] as const)(
    'LeNet-5 logits equal simulate() bit for bit (granularity %s)',
    async (granularity) => {
      const g = await graphOf(buildLeNet5({ seed: 9 }));
      const q = await quantized(g, variedInput([4, 28, 28, 1], 1), 'dynamic', granularity);
      const logits = q.nodes.find((n) => n.op === 'Softmax')!.inputs[0]!;
      const h: Graph = { ...q, outputs: [logits] };
      const s = await InferenceSession.create(h);
      expect(
        s.plan.filter((p) => p.op === 'Conv2D' || p.op === 'MatMul').every((p) => p.placement === 'native-dynamic'),
      ).toBe(true);
      const x = variedInput([6, 28, 28, 1], 2);
      const y = (await s.run(x))[logits]!;
      expect(ALL(y.data)).toEqual(ALL(simulate(h, x).outputs[0]!.data));
      s.dispose();
    },
  );
});

describe('batch, concurrency, memory', () => {
  it('free batch: each sample of a batch equals its own batch-1 run (int8); 8 runs in flight equal serial runs', async () => {
    const q = await quantized(await graphOf(mobilenetBlocks(6)), variedInput([16, 16, 16, 3], 3));
    const s = await InferenceSession.create(q, { threads: 2 });
    expect(s.inputs).toEqual([{ name: q.inputs[0]!.name, shape: [-1, 16, 16, 3], dtype: 'float32' }]);
    expect(s.outputs[0]!.shape).toEqual([-1, 5]);
    const x = variedInput([8, 16, 16, 3], 4);
    const data = x.dataSync() as Float32Array;
    const out = s.outputs[0]!.name;
    const all = (await s.run({ [s.inputs[0]!.name]: { data, shape: [8, 16, 16, 3] } }))[out]!;
    const per = 16 * 16 * 3;
    const one = (i: number, b = 1) =>
      s.run({ [s.inputs[0]!.name]: { data: data.slice(i * per, (i + b) * per), shape: [b, 16, 16, 3] } });
    const serial: number[][] = [];
    for (let i = 0; i < 8; i++) serial.push(ALL((await one(i))[out]!.data));
    expect(serial.flat()).toEqual(ALL(all.data));
    const concurrent = await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)));
    expect(concurrent.map((r) => ALL(r[out]!.data))).toEqual(serial);
    // Three-sample batches in flight too.
    const threes = await Promise.all([0, 3, 5].map((i) => one(i, 3)));
    expect(threes.map((r) => ALL(r[out]!.data))).toEqual([0, 3, 5].map((i) => serial.slice(i, i + 3).flat()));
    s.dispose();
    x.dispose();
  });

  it('memory: packed weights and arenas reported; liveness shares the arena; batch growth reallocates', async () => {
    const g = await graphOf(mobilenetBlocks(7));
    const q = await quantized(g, variedInput([8, 16, 16, 3], 5));
    const plan = compilePlan(q);
    const seg = plan.segments[0]!;
    expect(plan.segments.length).toBe(1);
    if (seg.kind !== 'native') throw new Error('expected a native segment');
    const bytesPerItem = seg.plan.buffers
      .filter((b) => (b.constIndex ?? -1) < 0)
      .reduce(
        (a, b) => a + b.shape.reduce((x, d) => x * (d < 0 ? 1 : d), 1) * (b.dtype === 0 || b.dtype === 3 ? 4 : 1),
        0,
      );
    const s = await InferenceSession.create(q, { threads: 1 });
    expect(s.memory.arenaBytes).toBe(0);
    const int8Weights = [...q.constants.values()].reduce(
      (a, c) => a + (c.quantization?.affine?.values?.byteLength ?? 0),
      0,
    );
    expect(s.memory.weightBytes).toBeGreaterThanOrEqual(int8Weights);
    const run = (b: number) => s.run(variedInput([b, 16, 16, 3], 6 + b));
    await run(4);
    const a4 = s.memory.arenaBytes;
    expect(a4).toBeGreaterThan(0);
    // Liveness: far less than one buffer per tensor.
    expect(a4).toBeLessThan(0.6 * bytesPerItem * 4);
    for (let i = 0; i < 3; i++) await run(4);
    expect(s.memory.arenaBytes).toBe(a4);
    await run(8);
    expect(s.memory.arenaBytes).toBeGreaterThan(a4);
    s.dispose();
    expect(() => s.memory).toThrow(/disposed/);
  });
});

describe('special values and bad input', () => {
  it('NaN/Inf: int8 maps NaN to the zero point and saturates ±Inf exactly as simulate(); float propagates (§11)', async () => {
    const g = await graphOf(buildLeNet5({ seed: 2 }));
    const x0 = variedInput([3, 28, 28, 1], 8);
    const d = Float32Array.from(x0.dataSync());
    d[100] = NaN;
    d[900] = Infinity;
    d[901] = -Infinity; // samples 0 and 1; sample 2 is clean
    const x = tf.tensor(d, [3, 28, 28, 1]);
    const fs = await InferenceSession.create(g);
    const fo = (await fs.run(x))[g.outputs[0]!]!.data;
    const ref = floatOutputs(g, x)[0]!;
    // Float propagates NaN (max pooling included, §11.4 — tfjs-wasm's max pooling drops NaN, so
    // tfjs is the reference only for the clean sample).
    expect(ALL(fo.subarray(0, 20)).every(Number.isNaN)).toBe(true);
    expect(relErr(fo.subarray(20), ref.subarray(20))).toBeLessThan(1e-5);
    const q = await quantized(g, x0);
    const qs = await InferenceSession.create(q);
    const qo = (await qs.run(x))[q.outputs[0]!]!.data;
    expect(ALL(qo).every(Number.isFinite)).toBe(true);
    expect(ALL(qo)).toEqual(ALL(simulate(q, x).outputs[0]!.data));
    fs.dispose();
    qs.dispose();
    tf.dispose([x0, x]);
  });

  it('rejects wrong names, shapes, dtypes and lengths with clear errors; run after dispose fails; dispose during a run is safe', async () => {
    const g = await graphOf(buildLeNet5({ seed: 3 }));
    const s = await InferenceSession.create(g);
    const name = s.inputs[0]!.name;
    const data = new Float32Array(28 * 28);
    await expect(s.run({ nope: { data, shape: [1, 28, 28, 1] } })).rejects.toThrow(/'nope' is not an input/);
    await expect(s.run({})).rejects.toThrow(/was not given/);
    await expect(s.run({ [name]: { data, shape: [1, 28, 27, 1] } })).rejects.toThrow(
      /shape \[1, 28, 27, 1\].*expects \[\?, 28, 28, 1\]/,
    );
    await expect(s.run({ [name]: { data: new Int32Array(784) as never, shape: [1, 28, 28, 1] } })).rejects.toThrow(
      /Float32Array.*Int32Array/,
    );
    await expect(s.run({ [name]: { data: data.subarray(1), shape: [1, 28, 28, 1] } })).rejects.toThrow(/783 values/);
    await expect(s.run(tf.zeros([1, 28, 28, 1], 'int32'))).rejects.toThrow(/dtype int32/);
    await expect(s.run([tf.zeros([1, 28, 28, 1]), tf.zeros([1, 28, 28, 1])])).rejects.toThrow(/takes 1/);
    await expect(s.run(42 as never)).rejects.toThrow(TypeError);
    await expect(InferenceSession.create(g, { threads: -1 })).rejects.toThrow(/threads/);
    await expect(InferenceSession.create(42 as never)).rejects.toThrow(
      /model must be a path .*, or a Graph; got number/,
    );
    // tf.Tensor outputs on request.
    const t = await s.run(tf.ones([2, 28, 28, 1]), { tensors: true });
    expect(t[g.outputs[0]!]!.shape).toEqual([2, 10]);
    tf.dispose(Object.values(t));
    // Dispose while runs are in flight: they complete; later runs fail clearly.
    const inflight = [
      s.run({ [name]: { data, shape: [1, 28, 28, 1] } }),
      s.run({ [name]: { data, shape: [1, 28, 28, 1] } }),
    ];
    s.dispose();
    const done = await Promise.allSettled(inflight);
    for (const r of done) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/disposed/);
    await expect(s.run({ [name]: { data, shape: [1, 28, 28, 1] } })).rejects.toThrow(/disposed/);
    s.dispose();
  });

  it('the native session validates the plan itself (bad ids, read before write, overlap, sizes, unknown ops)', () => {
    const Ctor = native().RuntimeSession;
    const buf = (shape: number[], dtype: 0 | 1 = 0) => ({ dtype, shape });
    const base = () => ({
      buffers: [buf([-1, 4]), buf([-1, 4], 1)],
      weights: [] as Float32Array[],
      inputs: [0],
      outputs: [1],
      steps: [{ op: 'quantize', inputs: [0], outputs: [1], ints: [0], floats: [0.1] }],
    });
    expect(() => new Ctor(base(), { threads: 1 }).dispose()).not.toThrow();
    const bad: [string, (p: ReturnType<typeof base>) => void, RegExp][] = [
      [
        'buffer id',
        (p) => {
          p.steps[0]!.inputs = [7];
        },
        /out of range/,
      ],
      [
        'read before write',
        (p) => {
          p.buffers.push(buf([-1, 4]));
          p.steps[0]!.inputs = [2];
        },
        /before it is written/,
      ],
      [
        'overlap',
        (p) => {
          p.steps[0]!.outputs = [0];
        },
        /both read and written/,
      ],
      [
        'dtype',
        (p) => {
          p.buffers[1]!.dtype = 0;
        },
        /8-bit/,
      ],
      [
        'shape',
        (p) => {
          p.buffers[1]!.shape = [-1, 5];
        },
        /shapes must be equal/,
      ],
      [
        'scale',
        (p) => {
          p.steps[0]!.floats = [0];
        },
        /scale/,
      ],
      [
        'unknown op',
        (p) => {
          p.steps[0]!.op = 'frobnicate';
        },
        /unknown op/,
      ],
      [
        'never written output',
        (p) => {
          p.steps = [];
        },
        /never written/,
      ],
      [
        'const size',
        (p) => {
          p.weights.push(new Float32Array(3));
          p.buffers.push({ dtype: 0, shape: [4], constIndex: 0 } as never);
        },
        /constant has 3 elements/,
      ],
      [
        'negative dim',
        (p) => {
          p.buffers[0]!.shape = [-1, -4];
        },
        /must be in \[-1/,
      ],
      [
        'batch not first',
        (p) => {
          p.buffers[0]!.shape = [4, -1];
        },
        /-1 only for the batch/,
      ],
      [
        'gemm weights',
        (p) => {
          p.weights.push(new Int8Array(12) as never, new Float32Array(3));
          p.buffers.push(buf([-1, 3], 1));
          p.steps.push({
            op: 'matmul_i8',
            inputs: [1],
            outputs: [2],
            ints: [0, 0, -128, 127],
            weights: [0, -1, 1],
          } as never);
        },
        /weights have 12 values, expected K×N = 12|multipliers/,
      ],
    ];
    for (const [what, edit, msg] of bad) {
      const p = base();
      edit(p);
      expect(() => new Ctor(p, { threads: 1 }), what).toThrow(msg);
    }
    const s = new Ctor(base(), { threads: 1 });
    expect(() => s.run([new Float32Array(3)], { batch: 1 })).toThrow(/3 elements, expected 4/);
    expect(() => s.run([new Int32Array(8) as never], { batch: 2 })).toThrow(/Float32Array/);
    expect(() => s.run([new Float32Array(0)], { batch: 0 })).toThrow(/batch/);
    s.dispose();
    expect(() => s.run([new Float32Array(4)], { batch: 1 })).toThrow(/disposed/);
  });
});

describe('loading, partitioning, transposed weights', () => {
  it('loads from a path; the session keeps its weights when the file changes underneath', async () => {
    const m = partitionedGraphModel(21).build();
    await writeModel(join(dir, 'm'), m);
    const file = join(dir, 'm', 'model.json');
    const s = await InferenceSession.create(file);
    expect(s.segments.map((x) => x.kind)).toEqual(['native', 'tfjs', 'native']);
    expect(s.plan.find((p) => p.node === 'sin')).toMatchObject({ placement: 'tfjs' });
    const g = optimize(await loadModel(file));
    const x = variedInput([5, 12, 12, 3], 9);
    const ref = floatOutputs(g, x)[0]!;
    const before = (await s.run(x))[s.outputs[0]!.name]!.data;
    expect(relErr(before, ref)).toBeLessThan(1e-5);
    writeFileSync(file, '{ "garbage": true }');
    const after = (await s.run(x))[s.outputs[0]!.name]!.data;
    expect(ALL(after)).toEqual(ALL(before));
    await expect(InferenceSession.create(file)).rejects.toThrow();
    s.dispose();
    x.dispose();
  });

  it('a quantized model saved in the tfjs-quant format runs from its path exactly as in memory', async () => {
    const q = await quantized(await graphOf(mobilenetBlocks(8)), variedInput([16, 16, 16, 3], 12));
    await saveNative(q, join(dir, 'q'));
    const fromFile = await InferenceSession.create(join(dir, 'q', 'model.json'));
    const inMemory = await InferenceSession.create(q);
    expect(fromFile.mode).toBe('int8');
    expect(fromFile.plan.map((p) => p.placement)).toEqual(inMemory.plan.map((p) => p.placement));
    const x = variedInput([3, 16, 16, 3], 13);
    const a = await fromFile.run(x),
      b = await inMemory.run(x);
    expect(ALL(a[fromFile.outputs[0]!.name]!.data)).toEqual(ALL(b[inMemory.outputs[0]!.name]!.data));
    fromFile.dispose();
    inMemory.dispose();
    x.dispose();
  });

  it('a MatMul bias of one value is broadcast to every column, as tfjs does, and runs natively', async () => {
    // The native kernel takes one bias per column: the planner repeats the single value.
    const g = createGraph('mmb');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 6] });
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [6, 4], data: randomFloats(24, 10) });
    g.constants.set('b', { name: 'b', dtype: 'float32', shape: [1], data: Float32Array.of(0.25) });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w', 'b'],
      outputs: ['mm'],
      attrs: { transpose_a: false, transpose_b: false, activation: 'none' },
    });
    g.outputs = ['mm'];
    const s = await InferenceSession.create(g);
    expect(s.plan[0]).toMatchObject({ placement: 'native-float' });
    const xs = randomFloats(2 * 6, 11);
    const x = tf.tensor2d(xs, [2, 6]);
    // Reference: x·w + 0.25 in float64 (float32 sums of 6 products: a few ulp apart).
    const w = g.constants.get('w')!.data as Float32Array;
    const want = Float32Array.from({ length: 8 }, (_, i) => {
      const r = Math.floor(i / 4),
        c = i % 4;
      let acc = 0.25;
      for (let k = 0; k < 6; k++) acc += xs[r * 6 + k]! * w[k * 4 + c]!;
      return acc;
    });
    expect(relErr((await s.run(x)).mm!.data, want)).toBeLessThan(1e-6);
    s.dispose();
    x.dispose();
  });

  it('int32 inputs feed tfjs segments (GatherV2) whose results join native ones; ClipByValue', async () => {
    const g = createGraph('emb');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 8] }, { name: 'ids', dtype: 'int32', shape: [-1] });
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [8, 4], data: randomFloats(32, 12) });
    g.constants.set('table', { name: 'table', dtype: 'float32', shape: [10, 4], data: randomFloats(40, 13) });
    g.constants.set('axis', { name: 'axis', dtype: 'int32', shape: [], data: Int32Array.of(0) });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w'],
      outputs: ['mm'],
      attrs: { transpose_a: false, transpose_b: false, activation: 'relu' },
    });
    g.nodes.push({
      name: 'emb',
      op: 'GatherV2',
      inputs: ['table', 'ids', 'axis'],
      outputs: ['emb'],
      attrs: { batch_dims: 0 },
    });
    g.nodes.push({ name: 'sum', op: 'AddV2', inputs: ['mm', 'emb'], outputs: ['sum'], attrs: {} });
    g.constants.set('lo', { name: 'lo', dtype: 'float32', shape: [], data: Float32Array.of(-0.5) });
    g.constants.set('hi', { name: 'hi', dtype: 'float32', shape: [], data: Float32Array.of(1.25) });
    g.nodes.push({ name: 'clip', op: 'ClipByValue', inputs: ['sum', 'lo', 'hi'], outputs: ['clip'], attrs: {} });
    g.outputs = ['sum', 'clip'];
    const s = await InferenceSession.create(g);
    expect(Object.fromEntries(s.plan.map((p) => [p.node, p.placement]))).toEqual({
      mm: 'native-float',
      emb: 'tfjs',
      sum: 'native-float',
      clip: 'native-float',
    });
    const x = tf.tensor2d(randomFloats(3 * 8, 14), [3, 8]);
    const ids = tf.tensor1d([4, 0, 9], 'int32');
    const y = await s.run({ x, ids });
    const [ref, refClip] = execute(g, { x, ids });
    expect(relErr(y.sum!.data, ref!.dataSync())).toBeLessThan(1e-6);
    expect(relErr(y.clip!.data, refClip!.dataSync())).toBeLessThan(1e-6);
    expect(ALL(y.clip!.data)).toEqual(ALL(y.sum!.data).map((v) => Math.min(Math.max(v, -0.5), 1.25)));
    await expect(s.run({ x, ids: { data: new Float32Array(3), shape: [3] } })).rejects.toThrow(
      /Int32Array \(dtype int32\)/,
    );
    tf.dispose([x, ids, ref!, refClip!]);
    s.dispose();
  });

  it('BatchMatMul (two activations, adj_y; activation × constant) runs natively in float = tfjs', async () => {
    const g = createGraph('bmm');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 4, 6] });
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [4, 3], data: randomFloats(12, 8) });
    g.nodes.push({
      name: 'xx',
      op: 'BatchMatMulV2',
      inputs: ['x', 'x'],
      outputs: ['xx'],
      attrs: { adj_x: false, adj_y: true },
    });
    g.nodes.push({
      name: 'xw',
      op: 'BatchMatMulV2',
      inputs: ['xx', 'w'],
      outputs: ['xw'],
      attrs: { adj_x: false, adj_y: false },
    });
    g.outputs = ['xw'];
    const s = await InferenceSession.create(g);
    expect(s.plan.map((p) => p.placement)).toEqual(['native-float', 'native-float']);
    const x = tf.tensor3d(randomFloats(5 * 24, 9), [5, 4, 6]);
    const y = (await s.run(x)).xw!;
    expect(y.shape).toEqual([5, 4, 3]);
    expect(relErr(y.data, floatOutputs(g, x)[0]!)).toBeLessThan(1e-5);
    s.dispose();
    x.dispose();
  });

  it('float MatMul at 1–9 rows (weights streamed in place for ≤ 8 rows, packed GEMM above) equals a float64 product to 1e-5', async () => {
    const K = 77,
      N = 70; // N: two full 32-column blocks and a masked tail
    const g = createGraph('mmFew');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, K] });
    const w = randomFloats(K * N, 11),
      b = randomFloats(N, 12, -0.2, 0.2);
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [K, N], data: w });
    g.constants.set('b', { name: 'b', dtype: 'float32', shape: [N], data: b });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w', 'b'],
      outputs: ['mm'],
      attrs: { activation: 'none', transpose_a: false, transpose_b: false },
    });
    g.outputs = ['mm'];
    const s = await InferenceSession.create(g, { threads: 2 });
    for (const rows of [1, 2, 3, 4, 5, 8, 9]) {
      const xs = randomFloats(rows * K, 20 + rows);
      const got = (await s.run({ x: { data: xs, shape: [rows, K] } })).mm!.data;
      const want: number[] = [];
      let scale = 0;
      for (let r = 0; r < rows; r++)
        for (let n = 0; n < N; n++) {
          let acc = b[n]!,
            mag = Math.abs(b[n]!);
          for (let k = 0; k < K; k++) {
            acc += xs[r * K + k]! * w[k * N + n]!;
            mag += Math.abs(xs[r * K + k]! * w[k * N + n]!);
          }
          want.push(acc);
          scale = Math.max(scale, mag);
        }
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
      expect(err / scale, `rows ${rows}`).toBeLessThan(1e-5);
    }
    s.dispose();
  });

  it('MatMul with transpose_b: float equals a hand-computed product, int8 equals simulate()', async () => {
    const g = createGraph('mmT');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 6] });
    const w = randomFloats(4 * 6, 3),
      b = randomFloats(4, 4, -0.2, 0.2);
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [4, 6], data: w });
    g.constants.set('b', { name: 'b', dtype: 'float32', shape: [4], data: b });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w', 'b'],
      outputs: ['mm'],
      attrs: { activation: 'relu', transpose_a: false, transpose_b: true },
    });
    g.outputs = ['mm'];
    const xs = randomFloats(5 * 6, 5);
    const x = tf.tensor2d(xs, [5, 6]);
    const fs = await InferenceSession.create(g);
    const fo = (await fs.run({ x: { data: xs, shape: [5, 6] } })).mm!.data;
    const manual = (wt: ArrayLike<number>) => {
      const out: number[] = [];
      for (let r = 0; r < 5; r++)
        for (let n = 0; n < 4; n++) {
          let s = 0;
          for (let k = 0; k < 6; k++) s += xs[r * 6 + k]! * wt[n * 6 + k]!;
          out.push(Math.max(0, s + b[n]!));
        }
      return out;
    };
    expect(relErr(fo, manual(w))).toBeLessThan(1e-6);
    quantizeWeight(g.constants.get('w')!, g.nodes[0]!, 'channel');
    g.metadata.activations = { x: activationParams(-1, 1), mm: activationParams(0, 3) };
    g.metadata.quantization = { mode: 'int8', floatNodes: [] };
    const qs = await InferenceSession.create(g);
    expect(qs.plan[0]!.placement).toBe('native-int8');
    expect(ALL((await qs.run(x)).mm!.data)).toEqual(ALL(simulate(g, x).outputs[0]!.data));
    // A float node inside an int8 graph (floatNodes) runs natively in float between conversions.
    g.metadata.quantization = { mode: 'int8', floatNodes: ['mm'] };
    const ms = await InferenceSession.create(g);
    expect(ms.plan[0]!.placement).toBe('native-float');
    // (not tfjs: its fused transposed MatMul is wrong for batch > 1 on wasm here)
    expect(relErr((await ms.run(x)).mm!.data, manual(g.constants.get('w')!.data as Float32Array))).toBeLessThan(1e-6);
    x.dispose();
    fs.dispose();
    qs.dispose();
    ms.dispose();
  });
});
