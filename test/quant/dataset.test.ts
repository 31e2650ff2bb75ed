// .npy reader/writer (against bytes laid out by hand as NumPy writes them) and the CLI's
// calibration sources: a directory of .npy files and a JS module exporting an async generator.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { createGraph, type Graph } from '../../src/model/index.js';
import { calibrate } from '../../src/quant/calibrate.js';
import { loadCalibrationData } from '../../src/quant/dataset.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend();
  dir = await mkdtemp(join(tmpdir(), 'ptq-data-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The bytes numpy 1.x writes for np.save(f, np.array([[1.5, -2], [0, 3.25]], dtype='<f8')). */
function numpyF8(): Uint8Array {
  const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
  const padded = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
  const out = new Uint8Array(128 + 32);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(new TextEncoder().encode(padded), 10);
  const dv = new DataView(out.buffer, 128);
  [1.5, -2, 0, 3.25].forEach((v, i) => dv.setFloat64(i * 8, v, true));
  return out;
}

function graph(inputs: string[]): Graph {
  const g = createGraph('m');
  for (const i of inputs) g.inputs.push({ name: i, dtype: 'float32', shape: [-1, 3] });
  g.nodes.push({ name: 'add', op: inputs.length === 2 ? 'AddV2' : 'Relu', inputs, outputs: ['add'], attrs: {} });
  g.outputs = ['add'];
  return g;
}

describe('npy', () => {
  it('reads NumPy float64 bytes as float32 and round-trips what it writes', () => {
    const a = readNpy(numpyF8());
    expect(a.shape).toEqual([2, 2]);
    expect(Array.from(a.data)).toEqual([1.5, -2, 0, 3.25]);
    for (const data of [
      Float32Array.of(1, 2.5, -3, 4, 5, 6),
      Int32Array.of(-1, 2, 3, 4, 5, 6),
      Int8Array.of(-128, 0, 1, 2, 3, 127),
      Uint8Array.of(0, 1, 2, 3, 4, 255),
    ]) {
      const bytes = writeNpy(data, [2, 3]);
      expect((bytes.byteLength - data.byteLength) % 64).toBe(0); // header padded to 64 as numpy does
      const back = readNpy(bytes);
      expect(back.shape).toEqual([2, 3]);
      expect(back.data).toEqual(data);
    }
    expect(readNpy(writeNpy(Float32Array.of(7), [])).shape).toEqual([]);
  });

  it('rejects bad files with the file named', () => {
    expect(() => readNpy(new Uint8Array(20), 'x.npy')).toThrow(/x\.npy: not a \.npy file/);
    const b = numpyF8();
    expect(() => readNpy(b.subarray(0, b.length - 8), 'y.npy')).toThrow(/y\.npy: data has 24 bytes/);
    const big = writeNpy(Float32Array.of(1, 2), [2]);
    big.set(new TextEncoder().encode("'<f4'".replace('<', '>')), new TextDecoder().decode(big).indexOf("'<f4'"));
    expect(() => readNpy(big)).toThrow(/unsupported dtype '>f4'/);
    expect(() => writeNpy(Float32Array.of(1, 2), [3])).toThrow(/does not match/);
  });
});

describe('calibration sources', () => {
  it('a directory of .npy files: any name for a single input, one sample or batch per file', async () => {
    const d = join(dir, 'single');
    await (await import('node:fs/promises')).mkdir(d);
    await writeFile(join(d, 'b.npy'), writeNpy(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]));
    await writeFile(join(d, 'a.npy'), writeNpy(Float32Array.of(-1, 0, 7), [3]));
    await writeFile(join(d, 'notes.txt'), 'ignored');
    const g = graph(['x']);
    const got: number[][] = [];
    for await (const s of loadCalibrationData(d, g))
      got.push(Array.from((s as Record<string, tf.Tensor>).x!.dataSync()));
    expect(got).toEqual([
      [-1, 0, 7],
      [1, 2, 3, 4, 5, 6],
    ]);
    const r = await calibrate(g, loadCalibrationData(d, g));
    expect(r.samples).toBe(3);
    expect(r.ranges.get('x')).toEqual([-1, 7]);
  });

  it('named by input for several inputs; a missing input file is a clear error', async () => {
    const d = join(dir, 'multi');
    await (await import('node:fs/promises')).mkdir(d);
    await writeFile(join(d, 'in_a.0.npy'), writeNpy(Float32Array.of(1, 2, 3), [1, 3]));
    await writeFile(join(d, 'in_b.0.npy'), writeNpy(Float32Array.of(4, 5, 6), [1, 3]));
    await writeFile(join(d, 'in_a.1.npy'), writeNpy(Float32Array.of(0, 0, 1), [1, 3]));
    const g = graph(['in/a', 'in:b']);
    const it = loadCalibrationData(d, g);
    const first = (await it.next()).value as Record<string, tf.Tensor>;
    expect(Object.keys(first).sort()).toEqual(['in/a', 'in:b']);
    expect(Array.from(first['in:b']!.dataSync())).toEqual([4, 5, 6]);
    await expect(it.next()).rejects.toThrow(/sample '1' has no file for input 'in:b'/);
    await writeFile(join(d, 'stray.npy'), writeNpy(Float32Array.of(1), [1]));
    await expect(calibrate(g, loadCalibrationData(d, g))).rejects.toThrow(/'stray\.npy' names no input/);
    await expect(calibrate(g, loadCalibrationData(join(dir, 'nowhere'), g))).rejects.toThrow(
      /cannot read calibration data/,
    );
  });

  it('a JS module exporting an async generator of {data, shape} or records', async () => {
    const f = join(dir, 'calib.mjs');
    await writeFile(
      f,
      `export default async function* () {
      for (let i = 0; i < 3; i++) yield { data: new Float32Array([i, -i, 2 * i]), shape: [1, 3] };
    }\n`,
    );
    const g = graph(['x']);
    const r = await calibrate(g, loadCalibrationData(f, g));
    expect(r.samples).toBe(3);
    expect(r.ranges.get('x')).toEqual([-2, 4]);
    const bad = join(dir, 'bad.mjs');
    await writeFile(bad, 'export const nothing = 1;\n');
    await expect(calibrate(g, loadCalibrationData(bad, g))).rejects.toThrow(/must export/);
    const wrong = join(dir, 'wrong.mjs');
    await writeFile(wrong, 'export const samples = [{ data: new Float32Array(4), shape: [1, 4] }];\n');
    await expect(calibrate(g, loadCalibrationData(wrong, g))).rejects.toThrow(/shape \[1, 4\].*expects \[\?, 3\]/);
  });
});
