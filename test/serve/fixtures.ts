// Models for the serve tests, written to a temp directory in TF Serving's layout
// (<root>/<name>/<version>/model.json): the seeded MLP of test/support/model-fixtures.ts quantized to
// int8 by the PTQ quantizer (float IO, or int8 IO), and its float graph.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../src/backend/float.js';
import type { Graph } from '../../src/model/index.js';
import { writeFilesAtomic, type OutputFile } from '../../src/io/atomic.js';
import { saveNative } from '../../src/model/save-native.js';
import { attr, GraphModelBuilder, sequentialMlp } from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { graphOf, variedInput } from '../runtime/helpers.js';

export const MLP_FEATURES = 8;
export const MLP_CLASSES = 5;

export interface MlpGraphs {
  float: Graph;
  int8: Graph;
  /** int8 inputs and outputs (inputType / outputType 'int8'). */
  int8io: Graph;
}

export async function mlpGraphs(seed = 1): Promise<MlpGraphs> {
  const model = sequentialMlp(seed);
  const float = await graphOf(model);
  model.dispose();
  const calib = variedInput([32, MLP_FEATURES], seed + 100);
  const q = async (io: { inputType?: 'int8'; outputType?: 'int8' }) =>
    (await quantize(float, { mode: 'int8', calibration: [calib], report: false, optimize: false, ...io })).graph;
  const out = { float, int8: await q({}), int8io: await q({ inputType: 'int8', outputType: 'int8' }) };
  calib.dispose();
  return out;
}

/** Deterministic rows of inputs in about the calibrated range. */
export function mlpRows(n: number, seed: number): number[][] {
  const t = variedInput([n, MLP_FEATURES], seed);
  const flat = Array.from(t.dataSync());
  t.dispose();
  return Array.from({ length: n }, (_, r) => flat.slice(r * MLP_FEATURES, (r + 1) * MLP_FEATURES));
}

export class ModelTree {
  private constructor(readonly root: string) {}
  static async create(): Promise<ModelTree> {
    return new ModelTree(await mkdtemp(join(tmpdir(), 'tfjs-quant-serve-')));
  }
  /** Writes `g` as <root>/<name>/<version>/ (atomically: a new version appears complete). */
  async write(name: string, version: number, g: Graph): Promise<string> {
    const dir = join(this.root, name, String(version));
    await saveNative(g, dir);
    return dir;
  }
  /** Writes model files (model.json + shards) as <root>/<name>/<version>/. */
  async writeFiles(name: string, version: number, files: readonly OutputFile[]): Promise<string> {
    const dir = join(this.root, name, String(version));
    await writeFilesAtomic(dir, files);
    return dir;
  }
  dir(name: string): string {
    return join(this.root, name);
  }
  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

export { tf };

/**
 * A float graph model with two inputs and two outputs: sum = a + b and product = a · W
 * (W: 4×3, seeded), for the named row / columnar forms. W is returned for the reference.
 */
export function twoHeadModel(): { files: OutputFile[]; w: Float32Array } {
  const b = new GraphModelBuilder(7);
  const a = b.input('a', [-1, 4]);
  const x = b.input('b', [-1, 4]);
  const w = b.const('w', [4, 3]);
  b.op('sum', 'AddV2', [a, x], { T: attr.type('DT_FLOAT') });
  b.op('product', 'MatMul', [a, w], {
    T: attr.type('DT_FLOAT'),
    transpose_a: attr.b(false),
    transpose_b: attr.b(false),
  });
  b.outputs('sum', 'product');
  const built = b.build();
  return { files: built.files, w: b.weights.find((x) => x.name === 'w')!.data as Float32Array };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  body: Buffer;
}

/** One HTTP request to the server under test (fetch, loopback). */
export async function http(
  url: string,
  method: 'GET' | 'POST',
  body?: string | Buffer,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<HttpResult> {
  const ct: Record<string, string> =
    body === undefined
      ? {}
      : { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' };
  const r = await fetch(url, { method, body, headers: { ...ct, ...headers }, signal });
  const buf = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, text: buf.toString('utf8'), body: buf };
}

/** Element-wise identity (NaN equals NaN), naming the first difference. */
export function sameValues(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) throw new Error(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}
