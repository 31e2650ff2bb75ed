// `tfjs-quant convert` measures what it wrote: the report's fidelity figures are recomputed
// here from the WRITTEN files (InferenceSession.create(path)) against STOCK tfjs float running
// the original model.json (tf.loadGraphModel), every output, with the metric written out by
// hand; the accuracy guard keeps an exp-fed regression head in float; a model that misses the
// tolerance is `degraded` and `--strict` exits 3; a non-finite constant stays float; a float
// reference that wasm cannot run is taken on cpu; a model no backend can run converts with
// "not evaluated". Models: test/cli/fidelity-models.ts.
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { availableFloatBackends, initFloatBackend, tf } from '../../src/backend/float.js';
import { main } from '../../src/cli/main.js';
import type { ModelResult } from '../../src/cli/convert-one.js';
import { fileIO } from '../../src/io/files.js';
import { loadModel } from '../../src/model/load.js';
import { EVALUATION_SEED, syntheticInputs } from '../../src/quant/synthetic-inputs.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { writeFidelityModels } from './fidelity-models.js';

let work: string;
const io = { stdout: () => {}, stderr: () => {} };

beforeAll(async () => {
  await initFloatBackend();
  work = await fs.mkdtemp(join(tmpdir(), 'tfjq-fidelity-'));
  await writeFidelityModels(join(work, 'in'));
});

async function convert(
  model: string,
  out: string,
  args: string[],
): Promise<{ code: number; model: ModelResult; report: Record<string, unknown> }> {
  const code = await main(
    ['convert', join(work, 'in', model), '-o', join(work, out), '--eval-samples', '6', '--runs', '1', ...args],
    io,
  );
  const report = JSON.parse(await fs.readFile(join(work, out, 'report.json'), 'utf8')) as {
    models: ModelResult[];
  } & Record<string, unknown>;
  return { code, model: report.models[0]!, report };
}

/** Cosine over all samples, or 1 − max |err| / max(max |ref|, 1) for outputs under 16 values (docs/cli.md). */
function handScore(ref: number[][], got: number[][]): number {
  let dot = 0,
    rr = 0,
    gg = 0,
    err = 0,
    mag = 0;
  ref.forEach((r, s) =>
    r.forEach((a, i) => {
      const b = got[s]![i]!;
      dot += a * b;
      rr += a * a;
      gg += b * b;
      err = Math.max(err, Math.abs(a - b));
      mag = Math.max(mag, Math.abs(a));
    }),
  );
  return ref[0]!.length >= 16 && mag >= 1e-3 ? dot / Math.sqrt(rr * gg) : 1 - err / Math.max(mag, 1);
}

describe('convert: the report measures the written files, every output', () => {
  it('int8 with the guard (default): figures recomputed from the written files with stock tfjs float; the exp-fed head stays float', async () => {
    const { code, model: m, report } = await convert('heads', 'out-heads', ['--mode', 'int8', '--samples', '8']);
    expect(code).toBe(0);
    expect(m.status).toBe('done');
    expect(report.tool).toMatchObject({ name: 'tfjs-quant', reportSchema: 2 });
    expect(m.evaluation).toMatchObject({ evaluated: true, engine: expect.stringMatching(/written files/) });
    // Every output is in the report, the scalar first one included, and the headline is their minimum.
    const f = m.fidelity!;
    expect(f.outputs.map((o) => o.values)).toEqual([1, 64, 4]);
    expect(f.minScore).toBe(Math.min(...f.outputs.map((o) => o.score)));
    // The guard: without it the Exp head misses the tolerance (below); with it the regression
    // that feeds Exp runs float and every output meets 0.99.
    expect(m.guard!.initial).toBeLessThan(0.99);
    expect(m.guard!.satisfied).toBe(true);
    expect(m.floatNodes).toContainEqual(expect.objectContaining({ name: 'box/regress', reason: 'accuracy guard' }));
    expect(f.minScore).toBeGreaterThanOrEqual(0.99);

    // Independent recomputation: the original in stock tfjs, the written files in a fresh session.
    const g = await loadModel(join(work, 'in', 'heads', 'model.json'));
    const inputs = syntheticInputs(g, 6, EVALUATION_SEED);
    const stock = await tf.loadGraphModel(fileIO(join(work, 'in', 'heads', 'model.json')));
    const session = await InferenceSession.create(join(work, 'out-heads', 'model.json'), { threads: 1 });
    const names = ['score', 'embedding', 'box'];
    const ref: number[][][] = names.map(() => []),
      got: number[][][] = names.map(() => []);
    for (const x of inputs) {
      const r = stock.execute(x, names) as tf.Tensor[];
      r.forEach((t, i) => ref[i]!.push(Array.from(t.dataSync())));
      const q = await session.run(x);
      // The session returns the outputs in the model's order (names after fusion may differ).
      session.outputs.forEach((o, i) => got[i]!.push(Array.from(q[o.name]!.data as Float32Array)));
      tf.dispose([...r, ...Object.values(x)]);
    }
    session.dispose();
    stock.dispose();
    names.forEach((_, i) => expect(f.outputs[i]!.score).toBeCloseTo(handScore(ref[i]!, got[i]!), 4));
  });

  it('--no-guard: the exp-fed head misses the tolerance → degraded, exit 0; with --strict exit 3', async () => {
    const loose = await convert('heads', 'out-heads-noguard', ['--mode', 'int8', '--samples', '8', '--no-guard']);
    expect(loose.model.status).toBe('degraded');
    expect(loose.code).toBe(0);
    expect(loose.model.guard).toBeUndefined();
    const box = loose.model.fidelity!.outputs.find((o) => o.values === 4)!;
    expect(box.score).toBeLessThan(0.99);
    expect(loose.model.fidelity!.worstOutput).toBe(box.output);
    const strict = await convert('heads', 'out-heads-strict', [
      '--mode',
      'int8',
      '--samples',
      '8',
      '--no-guard',
      '--strict',
    ]);
    expect(strict.model.status).toBe('degraded');
    expect(strict.code).toBe(3);
    expect(existsSync(join(work, 'out-heads-strict', 'model.json'))).toBe(true);
  });

  it('a non-finite constant (PadV2 with −Infinity) is never quantized: its reader stays float, the value is written as it was', async () => {
    const { code, model: m } = await convert('non-finite', 'out-nonfinite', [
      '--mode',
      'int8',
      '--samples',
      '8',
      '--allow-non-finite',
    ]);
    expect(code).toBe(0);
    expect(m.status).not.toBe('failed');
    expect(m.floatNodes).toContainEqual(
      expect.objectContaining({ name: 'pad', reason: expect.stringMatching(/non-finite constant 'pad\/value'/) }),
    );
    const written = await loadModel(join(work, 'out-nonfinite', 'model.json'), { allowNonFinite: true });
    const c = written.constants.get('pad/value')!;
    expect(Array.from(c.data as Float32Array)).toEqual([-Infinity]);
    expect(c.quantization?.affine).toBeUndefined();
    // The stock-tfjs form of the same conversion runs in stock tfjs and matches float.
    const tfjs = await convert('non-finite', 'out-nonfinite-tfjs', [
      '--mode',
      'int8',
      '--samples',
      '8',
      '--allow-non-finite',
      '--format',
      'tfjs',
    ]);
    expect(tfjs.model.evaluation).toMatchObject({ evaluated: true, engine: expect.stringMatching(/stock tfjs/) });
    expect(tfjs.model.fidelity!.minScore).toBeGreaterThan(0.99);
  });

  const wasm = availableFloatBackends().includes('wasm');
  it.skipIf(!wasm)(
    'a float model wasm cannot run (Einsum) is evaluated on cpu, decided up front and recorded (needs tfjs-backend-wasm: skipped when it cannot load)',
    async () => {
      const { code, model: m } = await convert('einsum', 'out-einsum', ['--mode', 'dynamic']);
      expect(code).toBe(0);
      expect(m.status).toBe('done');
      expect(m.evaluation).toMatchObject({ evaluated: true, referenceBackend: 'cpu' });
      expect(m.evaluation!.rejectedBackends!.map((r) => r.backend)).toEqual(['wasm']);
      expect(m.fidelity!.minScore).toBeGreaterThan(0.99);
      expect(tf.getBackend()).toBe('wasm'); // the caller's backend is restored
    },
  );

  it('a model no float backend can run still converts (dynamic), reported as not evaluated with the reason', async () => {
    const { code, model: m } = await convert('unrunnable', 'out-unrunnable', ['--mode', 'dynamic']);
    expect(code).toBe(0);
    expect(m.status).toBe('done');
    expect(m.fidelity).toBeUndefined();
    expect(m.evaluation!.evaluated).toBe(false);
    expect(m.evaluation!.reason).toMatch(/NoSuchTfOp/);
    expect(m.warnings.join('\n')).toMatch(/not evaluated: float reference/);
    expect(existsSync(join(work, 'out-unrunnable', 'model.json'))).toBe(true);
    const md = await fs.readFile(join(work, 'out-unrunnable', 'report.md'), 'utf8');
    expect(md).toMatch(/Not evaluated: float reference/);
  });

  it('--float-nodes, --op-types, --input-type int8 and --bias-correction reach the converter; int8 I/O needs --mode int8', async () => {
    const { code, model: m } = await convert('heads', 'out-heads-flags', [
      '--mode',
      'int8',
      '--samples',
      '8',
      '--no-guard',
      '--float-nodes',
      'conv2',
      '--op-types',
      'Conv2D,MatMul',
      '--input-type',
      'int8',
      '--bias-correction',
    ]);
    expect(code).toBe(0);
    expect(m.status).not.toBe('failed');
    expect(m.floatNodes).toContainEqual({ name: 'conv2', op: 'Conv2D', reason: 'requested (floatNodes)' });
    expect(m.floatNodes).toContainEqual({ name: 'pool', op: 'Mean', reason: 'op Mean not in opTypes' });
    const session = await InferenceSession.create(join(work, 'out-heads-flags', 'model.json'));
    expect(session.inputs[0]!.dtype).toBe('int8');
    session.dispose();
    expect(
      await main(
        [
          'convert',
          join(work, 'in', 'heads'),
          '-o',
          join(work, 'out-bad'),
          '--mode',
          'dynamic',
          '--input-type',
          'int8',
        ],
        io,
      ),
    ).toBe(2);
  });

  it('--input-type uint8 --output-type uint8: a model of image bytes, its report measured on real values', async () => {
    const { code, model: m } = await convert('heads', 'out-heads-u8', [
      '--mode',
      'int8',
      '--samples',
      '8',
      '--no-guard',
      '--input-type',
      'uint8',
      '--output-type',
      'uint8',
    ]);
    expect(code).toBe(0);
    const session = await InferenceSession.create(join(work, 'out-heads-u8', 'model.json'));
    expect(session.inputs[0]!.dtype).toBe('uint8');
    expect(session.inputs[0]!.quantization!.zeroPoint).toBeGreaterThanOrEqual(0);
    expect(session.inputs[0]!.quantization!.zeroPoint).toBeLessThanOrEqual(255);
    session.dispose();
    // The embedding output (64 values) is uint8 codes: compared as codes it would score far
    // below the int8 conversion of the same model; dequantized it scores as that one does.
    const { model: m8 } = await convert('heads', 'out-heads-i8', ['--mode', 'int8', '--samples', '8', '--no-guard']);
    const emb = (r: ModelResult) => r.fidelity!.outputs.find((o) => o.values === 64)!.cosine;
    expect(emb(m)).toBeGreaterThan(0.98);
    expect(Math.abs(emb(m) - emb(m8))).toBeLessThan(0.01);
  });
});
