// Calibration data for the CLI: a directory of .npy files, or a JS/TS module exporting an
// async generator. Streams one sample or batch at a time (never the whole dataset).
//
// Directory: `<input>.npy` or `<input>.<key>.npy` (input names with '/' or ':' written as '_');
// files sharing a key form one sample. A single-input model also takes any other `.npy` file
// as one sample (or batch) of its input. Files are read in name order, one sample at a time;
// the consumer owns the tensors yielded.
// Module: `export default` (or `export const samples`) — an (async) generator function, an
// (async) iterable, or a function returning one; samples are tf tensors, arrays of them,
// name → tensor records, or {data, shape} objects.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf } from '../backend/float.js';
import type { Graph } from '../model/ir.js';
import { readNpy } from '../io/npy.js';
import { describe } from '../native/validate.js';
import type { CalibrationSample } from './calibrate.js';

const MODULE_EXTS = ['.js', '.mjs', '.cjs', '.ts', '.mts'];

function fileKey(name: string): string {
  return name.replace(/[/:]/g, '_');
}

function toTensor(v: unknown, where: string): tf.Tensor {
  if (v instanceof tf.Tensor) return v;
  if (v && typeof v === 'object' && 'data' in v && 'shape' in v) {
    const { data, shape } = v as { data: unknown; shape: unknown };
    if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array`);
    if (data instanceof Float32Array || data instanceof Int32Array) return tf.tensor(data, shape as number[]);
    if (Array.isArray(data)) return tf.tensor(data as number[], shape as number[], 'float32');
    throw new TypeError(`${where}: data must be a Float32Array, an Int32Array or an array of numbers`);
  }
  throw new TypeError(`${where} must be a tf.Tensor or {data, shape}, got ${describe(v)}`);
}

/** Converts {data, shape} parts of a module's sample to tensors (tensors pass through). */
function moduleSample(s: unknown, index: number): CalibrationSample {
  const where = `calibration sample ${index}`;
  if (s instanceof tf.Tensor) return s;
  if (Array.isArray(s)) return s.map((v, i) => toTensor(v, `${where}[${i}]`));
  if (s && typeof s === 'object' && !('data' in s && 'shape' in s)) {
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, toTensor(v, `${where}['${k}']`)]));
  }
  return toTensor(s, where);
}

async function* fromDirectory(dir: string, g: Graph): AsyncGenerator<Record<string, tf.Tensor>> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.npy')).sort();
  if (!files.length) throw new RangeError(`calibration directory '${dir}' has no .npy files`);
  const inputs = g.inputs.map((i) => ({ name: i.name, key: fileKey(i.name) }));
  const samples = new Map<string, Map<string, string>>(); // sample key → input → file
  for (const f of files) {
    const base = f.slice(0, -4);
    const inp = inputs.find((i) => base === i.key || base.startsWith(`${i.key}.`));
    let input: string, key: string;
    if (inp) {
      input = inp.name;
      key = base === inp.key ? '' : base.slice(inp.key.length + 1);
    } else if (inputs.length === 1) {
      input = inputs[0]!.name;
      key = base;
    } else {
      throw new RangeError(
        `calibration file '${f}' names no input of the model (expected <input>.npy or <input>.<key>.npy with inputs ${inputs.map((i) => i.key).join(', ')})`,
      );
    }
    let m = samples.get(key);
    if (!m) samples.set(key, (m = new Map()));
    if (m.has(input))
      throw new RangeError(
        `calibration files '${m.get(input)}' and '${f}' are both input '${input}' of sample '${key}'`,
      );
    m.set(input, f);
  }
  for (const [key, m] of samples) {
    const missing = inputs.filter((i) => !m.has(i.name));
    if (missing.length)
      throw new RangeError(
        `calibration sample '${key || '(unnamed)'}' has no file for input${missing.length > 1 ? 's' : ''} ${missing.map((i) => `'${i.name}'`).join(', ')}`,
      );
    const rec: Record<string, tf.Tensor> = {};
    for (const [input, f] of m) {
      const path = join(dir, f);
      const a = readNpy(new Uint8Array(await readFile(path)), path);
      if (a.dtype !== 'float32' && a.dtype !== 'int32')
        throw new TypeError(`${path}: dtype ${a.descr} cannot feed input '${input}' (float32/float64 or int32/int64)`);
      rec[input] = tf.tensor(a.data as Float32Array | Int32Array, a.shape, a.dtype);
    }
    yield rec; // the consumer owns (and disposes) the tensors
  }
}

async function* fromModule(file: string): AsyncGenerator<CalibrationSample> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot import calibration module '${file}': ${(e as Error).message}`);
  }
  let src = mod.default ?? mod.samples ?? mod.calibration;
  if (typeof src === 'function') src = await (src as () => unknown)();
  if (!src || typeof src !== 'object' || (!(Symbol.asyncIterator in src) && !(Symbol.iterator in src))) {
    throw new TypeError(
      `calibration module '${file}' must export (default, or 'samples') an async generator function or an (async) iterable of samples`,
    );
  }
  let i = 0;
  for await (const s of src as AsyncIterable<unknown>) yield moduleSample(s, i++);
}

/** Calibration samples from a .npy directory or a JS/TS module (see the file comment). */
export async function* loadCalibrationData(source: string, g: Graph): AsyncGenerator<CalibrationSample> {
  if (typeof source !== 'string' || !source) throw new TypeError('calibration source must be a path');
  let st;
  try {
    st = await stat(source);
  } catch (e) {
    throw new Error(
      `cannot read calibration data '${source}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (st.isDirectory()) yield* fromDirectory(source, g);
  else if (MODULE_EXTS.includes(extname(source).toLowerCase())) yield* fromModule(source);
  else
    throw new RangeError(
      `calibration data '${source}' must be a directory of .npy files or a JS/TS module (${MODULE_EXTS.join(', ')})`,
    );
}
