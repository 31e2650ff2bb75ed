// Loading, executing, optimizing and re-saving models, checked against stock @tensorflow/tfjs
// running the original models (tf.loadGraphModel / model.predict) on the same random inputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import {
  execute,
  executeNamed,
  fileIO,
  loadModel,
  nativeFiles,
  optimize,
  saveNative,
  saveTfjs,
  tfjsFiles,
  type Graph,
} from '../../src/model/index.js';
import {
  attr,
  convNetGraphModel,
  functionalBranches,
  GraphModelBuilder,
  layersFiles,
  loadStock,
  mobilenetBlocks,
  randomTensor,
  saveLayersToMemory,
  sequentialCnn,
  sequentialMlp,
  writeModel,
} from '../support/model-fixtures.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend();
  dir = mkdtempSync(join(tmpdir(), 'tfjq-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);
}
function expectIdentical(a: tf.Tensor, b: tf.Tensor): void {
  expect(b.shape).toEqual(a.shape);
  expect(bits(b)).toEqual(bits(a));
}
function expectClose(a: tf.Tensor, b: tf.Tensor, rel = 1e-5): void {
  expect(b.shape).toEqual(a.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / Math.max(1e-3, Math.abs(x[i]!)));
  expect(worst).toBeLessThanOrEqual(rel);
}

const LAYERS = { sequentialMlp, sequentialCnn, functionalBranches, mobilenetBlocks };

describe.each(Object.entries(LAYERS))('layers model %s', (_name, make) => {
  let model: tf.LayersModel;
  let g: Graph;
  let x: tf.Tensor;
  let expected: tf.Tensor;
  beforeAll(async () => {
    model = make();
    const saved = await saveLayersToMemory(model);
    g = await loadModel(saved);
    x = randomTensor([3, ...(model.inputs[0]!.shape.slice(1) as number[])], 77);
    expected = model.predict(x) as tf.Tensor;
  });

  it('lowers to the IR and executes bit-identically to model.predict', () => {
    expect(g.source?.format).toBe('layers-model');
    expect(g.inputs[0]!.shape![0]).toBe(-1);
    expectIdentical(expected, execute(g, x)[0]!);
  });

  it('re-saves as a graph model that stock tf.loadGraphModel runs bit-identically', async () => {
    const stock = (await loadStock(tfjsFiles(g, { format: 'graph' }))) as tf.GraphModel;
    expectIdentical(expected, stock.execute(x) as tf.Tensor);
  });

  it('re-saves its layers topology that stock tf.loadLayersModel runs bit-identically', async () => {
    const stock = (await loadStock(tfjsFiles(g))) as tf.LayersModel;
    expect(stock.layers.length).toBe(model.layers.length);
    expectIdentical(expected, stock.predict(x) as tf.Tensor);
  });

  it('after BN folding and fusion stays within 1e-5 (IR and stock tfjs), with fewer nodes', async () => {
    const o = optimize(g);
    expect(o.transformed).toBe(true);
    expect(o.nodes.length).toBeLessThan(g.nodes.length);
    expect(o.nodes.some((n) => n.op === 'FusedBatchNormV3' || n.op === 'Identity')).toBe(make === functionalBranches);
    expectClose(expected, execute(o, x)[0]!);
    const stock = (await loadStock(tfjsFiles(o))) as tf.GraphModel;
    expectClose(expected, stock.execute(x) as tf.Tensor);
    expect(() => tfjsFiles(o, { format: 'layers' })).toThrow(/transformed/);
  });
});

describe('graph models in tfjs-converter format', () => {
  const built = convNetGraphModel().build({ shardBytes: 700 });
  let g: Graph;
  let stock: tf.GraphModel;
  const x = () => randomTensor([2, 12, 12, 3], 5);
  beforeAll(async () => {
    await writeModel(join(dir, 'convnet'), built);
    g = await loadModel(join(dir, 'convnet', 'model.json'));
    stock = (await loadStock(built.files)) as tf.GraphModel;
  });

  it('normalizes fused converter ops into canonical nodes', () => {
    const byName = new Map(g.nodes.map((n) => [n.name, n]));
    expect(built.files.length).toBeGreaterThan(3); // several shards
    expect(byName.get('conv1')).toMatchObject({ op: 'Conv2D', attrs: { activation: 'relu' } });
    expect(byName.get('conv1')!.inputs).toHaveLength(3);
    expect(byName.get('dw')).toMatchObject({ op: 'DepthwiseConv2dNative', attrs: { activation: 'relu6' } });
    expect(byName.get('fc')).toMatchObject({ op: 'MatMul', attrs: { activation: 'relu' } });
    expect(g.tensors.get('Identity')!.shape).toEqual([-1, 2, 2]);
    expect(g.tensors.get('dw')!.shape).toEqual([-1, 6, 6, 8]);
  });

  it('executes bit-identically to stock tf.loadGraphModel on the same files', () => {
    const xi = x();
    expectIdentical(stock.execute(xi) as tf.Tensor, execute(g, xi)[0]!);
  });

  it('re-saves bit-identically; optimized (Pad folded, bias and Relu6 fused) within 1e-5', async () => {
    const xi = x();
    const ref = stock.execute(xi) as tf.Tensor;
    const again = (await loadStock(tfjsFiles(g))) as tf.GraphModel;
    expectIdentical(ref, again.execute(xi) as tf.Tensor);
    const o = optimize(g);
    expect(o.nodes.find((n) => n.op === 'Pad')).toBeUndefined();
    expect(o.nodes.find((n) => n.name === 'conv1')!.attrs).toMatchObject({
      padding: 'EXPLICIT',
      explicit_paddings: [0, 0, 1, 1, 1, 1, 0, 0],
    });
    expect(o.nodes.find((n) => n.name === 'conv2')!.attrs.activation).toBe('relu6');
    expectClose(ref, execute(o, xi)[0]!);
    const reo = (await loadStock(tfjsFiles(o))) as tf.GraphModel;
    expectClose(ref, reo.execute(xi) as tf.Tensor);
  });

  it('tfjs uint8/uint16/float16 storage: stock tfjs reads the same values our loader reads', async () => {
    for (const q of ['uint8', 'uint16', 'float16'] as const) {
      const files = tfjsFiles(g, { quantize: q });
      const ours = await loadModel({
        modelJson: JSON.parse(new TextDecoder().decode(files[0]!.bytes)),
        weightData: concat(files.slice(1).map((f) => f.bytes)),
      });
      const stockQ = (await loadStock(files)) as tf.GraphModel;
      const xi = x();
      expectIdentical(stockQ.execute(xi) as tf.Tensor, execute(ours, xi)[0]!);
      expect(ours.constants.get('conv1/filter')!.quantization?.tfjs?.dtype).toBe(q);
    }
  });

  it('is deterministic: same graph → same bytes (tfjs and tfjs-quant formats)', () => {
    const a = tfjsFiles(g, { quantize: 'uint8' });
    const b = tfjsFiles(g, { quantize: 'uint8' });
    expect(a.map((f) => Buffer.from(f.bytes).toString('hex'))).toEqual(
      b.map((f) => Buffer.from(f.bytes).toString('hex')),
    );
    expect(nativeFiles(g).map((f) => f.bytes)).toEqual(nativeFiles(g).map((f) => f.bytes));
  });

  it('runs a subset of nodes from precomputed tensors, and observes every node output', () => {
    const xi = x();
    const seen: string[] = [];
    const all = executeNamed(g, xi, {
      outputs: ['conv2/Relu6', 'Identity'],
      observer: (n, outs) => {
        seen.push(n.name);
        expect(outs[0]!.isDisposed).toBe(false);
      },
    });
    expect(seen).toEqual(g.nodes.map((n) => n.name));
    const tail = g.nodes.slice(g.nodes.findIndex((n) => n.name === 'maxpool')).map((n) => n.name);
    const [y] = execute(g, {}, { given: { 'conv2/Relu6': all['conv2/Relu6']! }, nodes: tail });
    expectIdentical(all.Identity!, y!);
    expect(() => execute(g, {}, { nodes: tail })).toThrow(/outside the subset|not given/);
  });
});

describe('tfjs-quant format and the file IO handler', () => {
  it('round-trips the IR exactly (raw and per-channel affine int8 weights)', async () => {
    const g = optimize(await loadModel(await saveLayersToMemory(mobilenetBlocks())));
    const w = g.constants.get(g.nodes.find((n) => n.op === 'Conv2D')!.inputs[1]!)!;
    const C = w.shape[3]!;
    const f = w.data as Float32Array;
    const scales = new Float32Array(C);
    for (let i = 0; i < f.length; i++) scales[i % C] = Math.max(scales[i % C]!, Math.abs(f[i]!) / 127);
    const q = new Int8Array(f.length);
    for (let i = 0; i < f.length; i++) q[i] = Math.round(f[i]! / scales[i % C]!);
    w.quantization = {
      affine: { dtype: 'int8', axis: 3, scales, zeroPoints: new Int32Array(C), values: q, narrowRange: true },
    };
    // Depthwise [kh, kw, in, 1]: channels over axes 2..3, asymmetric uint8 with hand-set parameters.
    const dw = g.constants.get(g.nodes.find((n) => n.op === 'DepthwiseConv2dNative')!.inputs[1]!)!;
    const dC = dw.shape[2]! * dw.shape[3]!;
    const dq = Uint8Array.from({ length: (dw.data as Float32Array).length }, (_, i) => (i * 37) % 256);
    const dScales = Float32Array.from({ length: dC }, (_, c) => 0.01 * (c + 1));
    const dZp = Int32Array.from({ length: dC }, (_, c) => 100 + c);
    dw.quantization = {
      affine: { dtype: 'uint8', axis: 2, axisCount: 2, scales: dScales, zeroPoints: dZp, values: dq },
    };
    const out = join(dir, 'native');
    await saveNative(g, out, { mode: 'test', options: { bits: 8 } });
    const back = await loadModel(out);
    expect(back.source?.format).toBe('tfjs-quant');
    const w2 = back.constants.get(w.name)!;
    expect(w2.quantization?.affine?.values).toEqual(q);
    // Dequantized per docs/quantization.md §3: fl32((q − 0) × scale), computed independently.
    for (let i = 0; i < f.length; i++) expect((w2.data as Float32Array)[i]).toBe(Math.fround(q[i]! * scales[i % C]!));
    const dw2 = back.constants.get(dw.name)!;
    for (let i = 0; i < dq.length; i++)
      expect((dw2.data as Float32Array)[i]).toBe(Math.fround((dq[i]! - dZp[i % dC]!) * dScales[i % dC]!));
    dw.data = dw2.data;
    expect(back.nodes.map((n) => [n.op, n.attrs.activation])).toEqual(g.nodes.map((n) => [n.op, n.attrs.activation]));
    const x = randomTensor([2, 16, 16, 3], 1);
    w.data = w2.data; // same dequantized weights on both sides
    expectIdentical(execute(g, x)[0]!, execute(back, x)[0]!);
    expect((back.metadata.provenance as { mode: string; source: { sha256: string } }).mode).toBe('test');
    expect((back.metadata.provenance as { source: { sha256: string } }).source.sha256).toBe(g.source!.sha256);
  });

  it('stores float16 weights as 2-byte halves and reads back the exact values', async () => {
    const built = convNetGraphModel(41).build();
    const g = await loadModel({ modelJson: built.modelJson, weightData: built.weightData });
    const shardBytes = (fs: { name: string; bytes: Uint8Array }[]) =>
      fs.filter((f) => f.name !== 'model.json').reduce((a, f) => a + f.bytes.byteLength, 0);
    const raw = shardBytes(nativeFiles(g));
    const halves = new Map<string, Float32Array>();
    for (const c of g.constants.values()) {
      if (c.dtype !== 'float32') continue;
      c.quantization = { ...c.quantization, tfjs: { dtype: 'float16' } };
      halves.set(c.name, c.data as Float32Array);
    }
    const files = nativeFiles(g, { mode: 'float16' });
    const stored = shardBytes(files);
    const d = join(dir, 'f16');
    await writeModel(d, { modelJson: {}, weightData: new Uint8Array(0), files });
    const back = await loadModel(d);
    const json = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'model.json')!.bytes));
    const entries = json.weights.entries.filter((e: { dtype: string }) => e.dtype === 'float32');
    expect(entries.every((e: { encoding: string }) => e.encoding === 'float16')).toBe(true);
    expect(stored).toBeLessThan(raw * 0.6); // halves + 16-byte alignment of each entry
    for (const [name, orig] of halves) {
      const got = back.constants.get(name)!.data as Float32Array;
      // Each value is the nearest half of the original (|err| ≤ 2^-11 relative, exact for halves).
      for (let i = 0; i < orig.length; i++)
        expect(Math.abs(got[i]! - orig[i]!)).toBeLessThanOrEqual(Math.abs(orig[i]!) * 2 ** -11 + 2 ** -25);
      expect(back.constants.get(name)!.quantization?.tfjs?.dtype).toBe('float16');
    }
    // Saving what was read gives the same weight bytes (halves are exact).
    const shards = (fs: { name: string; bytes: Uint8Array }[]) =>
      fs.filter((f) => f.name !== 'model.json').map((f) => f.bytes);
    expect(shards(nativeFiles(back, { mode: 'float16' }))).toEqual(shards(files));
  });

  it('fileIO is a tfjs IOHandler: stock tfjs saves and loads through it', async () => {
    const m = sequentialMlp();
    const p = join(dir, 'io-handler');
    await m.save(fileIO(p));
    const back = await tf.loadLayersModel(fileIO(join(p, 'model.json')));
    const x = randomTensor([2, 8], 3);
    expectIdentical(m.predict(x) as tf.Tensor, back.predict(x) as tf.Tensor);
    const g = await loadModel(fileIO(p));
    expectIdentical(m.predict(x) as tf.Tensor, execute(g, x)[0]!);
  });

  it('saveTfjs writes into a directory atomically and refuses to overwrite its input', async () => {
    const built = convNetGraphModel(8).build();
    const src = join(dir, 'src-model');
    await writeModel(src, built);
    const g = await loadModel(src);
    await expect(saveTfjs(g, src)).rejects.toThrow(/input file/);
    const out = join(dir, 'out-model');
    await saveTfjs(optimize(g), out);
    const again = await loadModel(out);
    const x = randomTensor([1, 12, 12, 3], 4);
    expectClose(execute(g, x)[0]!, execute(again, x)[0]!);
  });

  it('keeps unknown ops as opaque nodes run by tfjs, untouched by passes', async () => {
    const b = new GraphModelBuilder(3);
    const x = b.input('x', [-1, 6]);
    const y = b.op('sel', 'Selu', [x], { T: attr.type('DT_FLOAT') });
    const f = b.op('floormod', 'FloorMod', [y, b.const('m', [6], undefined, 'float32', 0.5, 1)], {
      T: attr.type('DT_FLOAT'),
    });
    const r = b.op('out', 'Relu', [f], { T: attr.type('DT_FLOAT') });
    b.outputs(r);
    const built = b.build();
    const g = await loadModel({ modelJson: built.modelJson, weightData: built.weightData });
    const node = g.nodes.find((n) => n.name === 'floormod')!;
    expect(node.opaque).toBe(true);
    const xi = randomTensor([3, 6], 9, -3, 3);
    const stock = (await loadStock(built.files)) as tf.GraphModel;
    expectIdentical(stock.execute(xi) as tf.Tensor, execute(g, xi)[0]!);
    const o = optimize(g);
    expect(o.nodes.find((n) => n.name === 'floormod')).toMatchObject({
      op: 'FloorMod',
      opaque: true,
      rawAttrs: node.rawAttrs,
    });
    const again = (await loadStock(tfjsFiles(o))) as tf.GraphModel;
    expectIdentical(stock.execute(xi) as tf.Tensor, again.execute(xi) as tf.Tensor);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

void layersFiles;
