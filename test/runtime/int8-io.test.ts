// int8 graph inputs and outputs (inputType / outputType 'int8', docs/quantization.md §12.1):
// the session takes and returns int8 tensors with their parameters, exactly as simulate()
// does, including when the graph is split between native and tfjs segments.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel, optimize, type Graph } from '../../src/model/index.js';
import { simulate } from '../../src/quant/simulate.js';
import { quantize as ptq } from '../../src/quant/quantize.js';
import { quantize as quantizeValues } from '../../src/kernels/quantize.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { mobileNetV2, partitionedGraphModel } from '../../bench/models/models.js';
import { graphOf, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

async function int8Io(
  g: Graph,
  calib: tf.Tensor,
  io: { inputType: 'int8' | 'float32'; outputType: 'int8' | 'float32' },
): Promise<Graph> {
  return (await ptq(g, { mode: 'int8', calibration: [calib], report: false, optimize: false, ...io })).graph;
}

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < b.length; i++)
    if (a[i] !== b[i]) throw new Error(`${what}: element ${i} is ${a[i]}, expected ${b[i]}`);
}

describe('InferenceSession: int8 graph inputs and outputs', () => {
  it('MobileNetV2-style: int8 in and out, equal to simulate() bit for bit; float values quantize at the input', async () => {
    const model = mobileNetV2(32, 0.5, 10);
    const calib = variedInput([4, 32, 32, 3], 3);
    const g = await int8Io(await graphOf(model), calib, { inputType: 'int8', outputType: 'int8' });
    const s = await InferenceSession.create(g, { threads: 2 });
    try {
      const inName = g.inputs[0]!.name,
        outName = g.outputs[0]!;
      const act = g.metadata.activations as Record<string, { scale: number; zeroPoint: number }>;
      expect(s.inputs[0]!.dtype).toBe('int8');
      expect(s.inputs[0]!.quantization).toEqual({ scale: act[inName]!.scale, zeroPoint: act[inName]!.zeroPoint });
      expect(s.outputs[0]!.dtype).toBe('int8');
      expect(s.outputs[0]!.quantization).toEqual({ scale: act[outName]!.scale, zeroPoint: act[outName]!.zeroPoint });
      const x = variedInput([3, 32, 32, 3], 5);
      const xq = quantizeValues(x.dataSync() as Float32Array, 'int8', s.inputs[0]!.quantization!);
      const want = simulate(g, { dtype: 'int8', shape: [3, 32, 32, 3], data: xq, ...s.inputs[0]!.quantization! })
        .outputs[0]!;
      expect(want.dtype).toBe('int8');
      const got = (await s.run({ [inName]: { data: xq, shape: [3, 32, 32, 3] } }))[outName]!;
      expect(got.dtype).toBe('int8');
      expect(got.data).toBeInstanceOf(Int8Array);
      expect(got.quantization).toEqual(s.outputs[0]!.quantization);
      same(got.data, want.data, 'int8 input → int8 output');
      // Float values for an int8 input are quantized with its parameters (as simulate() does).
      same(
        (await s.run({ [inName]: { data: x.dataSync() as Float32Array, shape: [3, 32, 32, 3] } }))[outName]!.data,
        want.data,
        'Float32Array input',
      );
      same((await s.run(x))[outName]!.data, want.data, 'float tf.Tensor input');
      const asTensor = (await s.run({ [inName]: { data: xq, shape: [3, 32, 32, 3] } }, { tensors: true }))[outName]!;
      expect(asTensor.dtype).toBe('int32');
      same(asTensor.dataSync(), want.data, 'tensors: true');
      asTensor.dispose();
      x.dispose();
    } finally {
      s.dispose();
      calib.dispose();
    }
  });

  it('only one side int8: int8 input with float output, float input with int8 output', async () => {
    const model = mobileNetV2(32, 0.5, 10, 21);
    const calib = variedInput([4, 32, 32, 3], 7);
    const gf = await graphOf(model);
    const x = variedInput([2, 32, 32, 3], 8);
    for (const io of [
      { inputType: 'int8', outputType: 'float32' },
      { inputType: 'float32', outputType: 'int8' },
    ] as const) {
      const g = await int8Io(optimize(gf), calib, io);
      const s = await InferenceSession.create(g);
      const want = simulate(g, x).outputs[0]!;
      expect(s.inputs[0]!.dtype).toBe(io.inputType);
      expect(s.outputs[0]!.dtype).toBe(io.outputType);
      const got = (await s.run(x))[g.outputs[0]!]!;
      expect(got.dtype).toBe(want.dtype);
      same(got.data, want.data, JSON.stringify(io));
      s.dispose();
    }
    x.dispose();
    calib.dispose();
  });

  it('partitioned graph (an op only tfjs runs): int8 input reaches the native part, int8 output leaves it', async () => {
    const b = partitionedGraphModel().build();
    const gf = optimize(await loadModel({ modelJson: b.modelJson, weightData: b.weightData }));
    const calib = variedInput([4, 12, 12, 3], 9);
    const g = await int8Io(gf, calib, { inputType: 'int8', outputType: 'int8' });
    const s = await InferenceSession.create(g);
    try {
      expect(s.plan.some((p) => p.placement === 'tfjs')).toBe(true);
      const x = variedInput([2, 12, 12, 3], 10);
      const xq = quantizeValues(x.dataSync() as Float32Array, 'int8', s.inputs[0]!.quantization!);
      const want = simulate(g, { dtype: 'int8', shape: [2, 12, 12, 3], data: xq, ...s.inputs[0]!.quantization! })
        .outputs[0]!;
      const got = (await s.run({ [g.inputs[0]!.name]: { data: xq, shape: [2, 12, 12, 3] } }))[g.outputs[0]!]!;
      expect(got.dtype).toBe(want.dtype);
      same(got.data, want.data, 'partitioned');
      x.dispose();
    } finally {
      s.dispose();
      calib.dispose();
    }
  });

  it('bad int8 inputs get clear errors', async () => {
    const model = mobileNetV2(32, 0.5, 10, 23);
    const calib = variedInput([2, 32, 32, 3], 11);
    const g = await int8Io(await graphOf(model), calib, { inputType: 'int8', outputType: 'int8' });
    const s = await InferenceSession.create(g);
    const name = g.inputs[0]!.name;
    const n = 32 * 32 * 3;
    await expect(s.run({ [name]: { data: new Uint8Array(n), shape: [1, 32, 32, 3] } })).rejects.toThrow(
      /must be a Int8Array \(or Float32Array values to quantize\)/,
    );
    await expect(
      s.run({ [name]: { data: Array.from({ length: n }, () => 300), shape: [1, 32, 32, 3] } }),
    ).rejects.toThrow(/outside the int8 range/);
    await expect(s.run({ [name]: { data: new Int8Array(n - 1), shape: [1, 32, 32, 3] } })).rejects.toThrow(
      /needs 3072/,
    );
    await expect(s.run(tf.zeros([1, 32, 32, 3], 'int32'))).rejects.toThrow(/dtype int32, the model expects int8/);
    s.dispose();
    calib.dispose();
  });
});

describe('InferenceSession: uint8 graph inputs and outputs (image bytes)', () => {
  it('uint8 in and out are the int8 codes shifted by 128, with zero points + 128; tfjs int32 image tensors and float values are taken', async () => {
    const model = mobileNetV2(32, 0.5, 10);
    const calib = variedInput([4, 32, 32, 3], 3);
    const g0 = await graphOf(model);
    const g8 = await int8Io(g0, calib, { inputType: 'int8', outputType: 'int8' });
    const gu = (
      await ptq(g0, {
        mode: 'int8',
        calibration: [calib],
        report: false,
        optimize: false,
        inputType: 'uint8',
        outputType: 'uint8',
      })
    ).graph;
    const s8 = await InferenceSession.create(g8, { threads: 2 });
    const su = await InferenceSession.create(gu, { threads: 2 });
    try {
      const inName = gu.inputs[0]!.name,
        outName = gu.outputs[0]!;
      const q8 = s8.inputs[0]!.quantization!,
        o8 = s8.outputs[0]!.quantization!;
      expect(su.inputs[0]).toMatchObject({
        dtype: 'uint8',
        quantization: { scale: q8.scale, zeroPoint: q8.zeroPoint + 128 },
      });
      expect(su.outputs[0]).toMatchObject({
        dtype: 'uint8',
        quantization: { scale: o8.scale, zeroPoint: o8.zeroPoint + 128 },
      });
      // Byte codes in: the int8 model given the same codes − 128 answers the codes − 128 out.
      const bytes = Uint8Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 37 + (i >> 5) * 11) % 256);
      const want = (await s8.run({ [inName]: { data: Int8Array.from(bytes, (u) => u - 128), shape: [2, 32, 32, 3] } }))[
        outName
      ]!;
      const got = (await su.run({ [inName]: { data: bytes, shape: [2, 32, 32, 3] } }))[outName]!;
      expect(got.dtype).toBe('uint8');
      expect(got.data).toBeInstanceOf(Uint8Array);
      expect(got.quantization).toEqual(su.outputs[0]!.quantization);
      same(
        got.data,
        Uint8Array.from(want.data as Int8Array, (q) => q + 128),
        'uint8 = int8 + 128',
      );
      // tfjs has no uint8 dtype: an int32 image tensor of 0..255 is taken, and predict returns int32 codes.
      const img = tf.tensor(Int32Array.from(bytes), [2, 32, 32, 3], 'int32');
      const viaPredict = su.predict(img) as tf.Tensor;
      expect(viaPredict.dtype).toBe('int32');
      same(viaPredict.dataSync(), got.data, 'int32 image tensor through predict');
      // Float values are quantized with the uint8 parameters: the same as the int8 model's float path.
      const x = variedInput([2, 32, 32, 3], 5);
      same(
        (await su.run(x))[outName]!.data,
        Uint8Array.from((await s8.run(x))[outName]!.data as Int8Array, (q) => q + 128),
        'float input',
      );
      await expect(
        su.run({
          [inName]: {
            data: Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i === 7 ? 256 : 1)),
            shape: [2, 32, 32, 3],
          },
        }),
      ).rejects.toThrow(/outside the uint8 range \[0, 255\]/);
      tf.dispose([img, viaPredict, x]);
    } finally {
      s8.dispose();
      su.dispose();
      calib.dispose();
    }
  });
});
