// Every TF.js weight encoding decodes to exactly what @tensorflow/tfjs decodes (tf.io.decodeWeights),
// and the encoder writes what tfjs reads back.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  decodeWeights,
  encodeWeights,
  float16ToFloat32,
  float32ToFloat16,
  quantizeAffine,
  type EncodableWeight,
  type WeightsManifestEntry,
} from '../../src/io/weights.js';
import { execute, loadModel, ModelFormatError } from '../../src/model/index.js';
import { attr, GraphModelBuilder, loadStock, randomFloats, randomTensor } from '../support/model-fixtures.js';

beforeAll(async () => {
  await initFloatBackend();
});

function tfDecode(entries: WeightsManifestEntry[], bytes: Uint8Array): Record<string, tf.Tensor> {
  return tf.io.decodeWeights(bytes.slice().buffer, entries as tf.io.WeightsManifestEntry[]);
}

function sameValues(ours: ArrayLike<number>, theirs: ArrayLike<number>): void {
  expect(ours.length).toBe(theirs.length);
  for (let i = 0; i < ours.length; i++)
    expect(Object.is(ours[i], theirs[i]) || (Number.isNaN(ours[i]) && Number.isNaN(theirs[i]))).toBe(true);
}

describe('weight codecs', () => {
  it('float32, int32, bool and string weights decode like tfjs', () => {
    const enc = new TextEncoder();
    const ws: EncodableWeight[] = [
      { name: 'f', dtype: 'float32', shape: [2, 3], data: Float32Array.of(-0, 1.5, -3e-38, 3.4e38, 1e-45, 7) },
      { name: 'i', dtype: 'int32', shape: [4], data: Int32Array.of(-2147483648, -1, 0, 2147483647) },
      { name: 'b', dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) },
      { name: 's', dtype: 'string', shape: [3], data: ['', 'héllo', 'x'.repeat(300)].map((s) => enc.encode(s)) },
      { name: 'e', dtype: 'float32', shape: [0, 5], data: new Float32Array(0) },
    ];
    const { entries, bytes } = encodeWeights(ws);
    const ours = decodeWeights(entries, bytes);
    const theirs = tfDecode(entries, bytes);
    for (const w of ours) {
      const t = theirs[w.name]!;
      expect(w.shape).toEqual(t.shape);
      expect(w.dtype).toBe(t.dtype);
      if (w.dtype === 'string')
        expect((w.data as Uint8Array[]).map((s) => new TextDecoder().decode(s))).toEqual(
          Array.from(t.dataSync() as unknown as string[]),
        );
      else sameValues(w.data as Float32Array, t.dataSync() as Float32Array);
    }
  });

  it('uint8 / uint16 quantized storage (float32 and int32 originals) dequantizes like tfjs', () => {
    const f = randomFloats(1000, 7, -3, 5);
    const ints = Int32Array.from(randomFloats(300, 8, -500, 900), (v) => Math.round(v));
    const ws: EncodableWeight[] = [
      { name: 'f8', dtype: 'float32', shape: [1000], data: f, storage: 'uint8' },
      { name: 'f16', dtype: 'float32', shape: [10, 100], data: f, storage: 'uint16' },
      { name: 'i8', dtype: 'int32', shape: [300], data: ints, storage: 'uint8' },
      { name: 'i16', dtype: 'int32', shape: [300], data: ints, storage: 'uint16' },
      { name: 'pos', dtype: 'float32', shape: [4], data: Float32Array.of(2, 3, 4, 5), storage: 'uint8' },
      { name: 'const', dtype: 'float32', shape: [3], data: Float32Array.of(-0.25, -0.25, -0.25), storage: 'uint8' },
    ];
    const { entries, bytes } = encodeWeights(ws);
    const theirs = tfDecode(entries, bytes);
    for (const w of decodeWeights(entries, bytes)) {
      sameValues(w.data as Float32Array, theirs[w.name]!.dataSync() as Float32Array);
      expect(w.quantization?.dtype).toBe(entries.find((e) => e.name === w.name)!.quantization!.dtype);
    }
    // Error bound of the storage: half a step.
    const back = decodeWeights(entries, bytes)[0]!.data as Float32Array;
    const step = entries[0]!.quantization!.scale!;
    for (let i = 0; i < f.length; i++) expect(Math.abs(back[i]! - f[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6);
  });

  it('chooses min/scale as tfjs-converter does (hand-computed)', () => {
    // [-1, 2] over uint8: scale 3/255, zero point round(85) = 85, nudged min −85·scale = −1.
    const s = quantizeAffine(Float32Array.of(-1, 0, 0.5, 2), 'uint8');
    expect(s.scale).toBe(3 / 255);
    expect(s.min).toBe(-85 * (3 / 255));
    // (0.5 + 1) / (3/255) = 127.5 → 128 (ties to even).
    expect(Array.from(s.q)).toEqual([0, 85, 128, 255]);
    const one = quantizeAffine(Float32Array.of(4, 4), 'uint16');
    expect([one.min, one.scale, Array.from(one.q)]).toEqual([4, 1, [0, 0]]);
  });

  it('float16: every half value decodes like tfjs; encoding rounds to the nearest half (ties to even)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const entries: WeightsManifestEntry[] = [
      { name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } },
    ];
    const bytes = new Uint8Array(all.buffer);
    const theirs = tfDecode(entries, bytes).h!.dataSync() as Float32Array;
    const ours = float16ToFloat32(all);
    expect(new Uint32Array(ours.buffer)).toEqual(new Uint32Array(Float32Array.from(theirs).buffer));
    expect(decodeWeights(entries, bytes, { allowNonFinite: true })[0]!.data).toEqual(ours);
    // Hand-computed: overflow to Inf, largest half, smallest subnormal, ties to even, signs, NaN.
    /* eslint-disable no-loss-of-precision -- 2.9802322387695312e-8 is 2^-25 to 17 digits, exactly the double meant */
    const x = Float32Array.of(
      65520,
      65519.99609375,
      5.960464477539063e-8,
      2.9802322387695312e-8,
      2.99e-8,
      1e-40,
      -0,
      -Infinity,
      NaN,
      1,
      1.00048828125,
      1.00146484375,
    );
    /* eslint-enable no-loss-of-precision */
    expect(Array.from(float32ToFloat16(x))).toEqual([
      0x7c00, 0x7bff, 0x0001, 0x0000, 0x0001, 0x0000, 0x8000, 0xfc00, 0x7e00, 0x3c00, 0x3c00, 0x3c02,
    ]);
    // Every finite half survives the round trip, and random floats go to the nearest half.
    const finite = all.filter((h) => (h & 0x7c00) !== 0x7c00);
    expect(float32ToFloat16(float16ToFloat32(finite))).toEqual(finite);
    const r = randomFloats(20000, 3, -70000, 70000);
    const h = float32ToFloat16(r);
    const dec = (v: number) => float16ToFloat32(Uint16Array.of(v))[0]!;
    for (let i = 0; i < r.length; i++) {
      const v = r[i]!;
      const d = Math.abs(dec(h[i]!) - v);
      if (Math.abs(v) >= 65520) continue;
      expect(d).toBeLessThanOrEqual(Math.abs(dec((h[i]! + 1) & 0xffff) - v));
      if ((h[i]! & 0x7fff) > 0) expect(d).toBeLessThanOrEqual(Math.abs(dec(h[i]! - 1) - v));
    }
  });

  it('rejects NaN/Inf weights by name unless allowed, and inconsistent sizes', () => {
    const { entries, bytes } = encodeWeights([
      { name: 'layer/kernel', dtype: 'float32', shape: [3], data: Float32Array.of(1, NaN, 2) },
    ]);
    expect(() => decodeWeights(entries, bytes, { file: 'w.bin' })).toThrow(ModelFormatError);
    expect(() => decodeWeights(entries, bytes, { file: 'w.bin' })).toThrow(
      /w\.bin: weight 'layer\/kernel': element 1 is NaN/,
    );
    expect(Number.isNaN((decodeWeights(entries, bytes, { allowNonFinite: true })[0]!.data as Float32Array)[1]!)).toBe(
      true,
    );
    expect(() => decodeWeights(entries, bytes.subarray(0, 11))).toThrow(/needs 12 bytes .* only 11 remain/);
    expect(() => decodeWeights(entries, new Uint8Array(13))).toThrow(/13 bytes but the manifest describes 12/);
    const huge: WeightsManifestEntry[] = [{ name: 'big', shape: [1e6, 1e6], dtype: 'float32' }];
    expect(() => decodeWeights(huge, new Uint8Array(8))).toThrow(/only 8 remain/);
    const str: WeightsManifestEntry[] = [{ name: 's', shape: [1], dtype: 'string' }];
    expect(() => decodeWeights(str, Uint8Array.of(255, 255, 255, 127, 1))).toThrow(/past the end/);
  });
});

describe('graph models: shards, groups, shared weights', () => {
  it('several groups of several shards, one constant shared by two nodes, quantized storage: same as stock tfjs', async () => {
    const b = new GraphModelBuilder(11);
    const x = b.input('x', [-1, 16]);
    const w = b.const('shared/w', [16, 16]);
    const h1 = b.op('h1', 'MatMul', [x, w], {
      T: attr.type('DT_FLOAT'),
      transpose_a: attr.b(false),
      transpose_b: attr.b(false),
    });
    const r1 = b.op('r1', 'Relu', [h1], { T: attr.type('DT_FLOAT') });
    const h2 = b.op('h2', 'MatMul', [r1, w], {
      T: attr.type('DT_FLOAT'),
      transpose_a: attr.b(false),
      transpose_b: attr.b(false),
    });
    const bias = b.const('bias', [16]);
    const steps = b.const(
      'steps',
      [16],
      Int32Array.from({ length: 16 }, (_, i) => i * 3 - 20),
      'int32',
    );
    const stepsF = b.op('stepsF', 'Cast', [steps], { SrcT: attr.type('DT_INT32'), DstT: attr.type('DT_FLOAT') });
    const sum = b.op('sum', 'AddV2', [h2, bias], { T: attr.type('DT_FLOAT') });
    b.op('out', 'Mul', [sum, stepsF], { T: attr.type('DT_FLOAT') });
    b.outputs('out');
    const built = b.build({
      groups: 2,
      shardBytes: 256,
      quantize: { 'shared/w': 'uint8', bias: 'float16', steps: 'uint16' },
    });
    const manifest = built.modelJson.weightsManifest as { paths: string[] }[];
    expect(manifest.length).toBe(2);
    expect(manifest.some((m) => m.paths.length > 1)).toBe(true);
    const g = await loadModel({ modelJson: built.modelJson, weightData: built.weightData });
    const readers = g.nodes.filter((n) => n.inputs.includes('shared/w')).map((n) => n.name);
    expect(readers).toEqual(['h1', 'h2']);
    expect(g.constants.get('steps')!.dtype).toBe('int32');
    const stock = (await loadStock(built.files)) as tf.GraphModel;
    const xi = randomTensor([4, 16], 2);
    const a = (stock.execute(xi) as tf.Tensor).dataSync();
    const y = execute(g, xi)[0]!.dataSync();
    sameValues(y, a);
  });
});
