// Bad input: every defect ends in a ModelFormatError naming the file / node / weight (or a
// successful load), never a crash or a hang; input files are never modified.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { execute, loadModel, ModelFormatError, nativeFiles, saveTfjs } from '../../src/model/index.js';
import { compressGraph } from '../../src/codec/graph.js';
import {
  attr,
  convNetGraphModel,
  GraphModelBuilder,
  layersFiles,
  rng,
  saveLayersToMemory,
  sequentialCnn,
  writeModel,
} from '../support/model-fixtures.js';
import { inspectCommand } from '../../src/cli/inspect.js';
import { mutateModelFiles } from '../../src/io/mutate.js';

let dir: string;
beforeAll(async () => {
  await initFloatBackend('cpu'); // mutated models run on the pure-JS backend
  dir = mkdtempSync(join(tmpdir(), 'tfjq-bad-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function hashDir(d: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(d)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(d, f)))
          .digest('hex'),
      ]),
  );
}

async function expectModelError(
  p: Promise<unknown>,
  re: RegExp,
  fields: Partial<Record<'file' | 'node' | 'weight', RegExp | string>> = {},
): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ModelFormatError);
  expect((e as Error).message).toMatch(re);
  for (const [k, v] of Object.entries(fields)) expect((e as Record<string, unknown>)[k]).toMatch(v as RegExp);
}

describe('defects name the file, node or weight', () => {
  const built = convNetGraphModel(21).build({ shardBytes: 2000 });
  const write = (name: string, edit?: (files: Map<string, Uint8Array>) => void): string => {
    const files = new Map(built.files.map((f) => [f.name, f.bytes.slice()]));
    edit?.(files);
    const d = join(dir, name);
    mkdirSync(d);
    for (const [n, b] of files) writeFileSync(join(d, n), b);
    return d;
  };
  /* eslint-disable @typescript-eslint/no-explicit-any -- the tests reach into model.json freely */
  const json = (files: Map<string, Uint8Array>) =>
    JSON.parse(new TextDecoder().decode(files.get('model.json')!)) as Record<string, any>;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  const setJson = (files: Map<string, Uint8Array>, j: unknown) =>
    files.set('model.json', new TextEncoder().encode(JSON.stringify(j)));

  it('malformed JSON, unknown format, no model', async () => {
    await expectModelError(
      loadModel(write('m1', (f) => f.set('model.json', new TextEncoder().encode('{"format": "graph-model", ')))),
      /not valid JSON/,
      { file: /m1\/model\.json$/ },
    );
    await expectModelError(
      loadModel(write('m2', (f) => setJson(f, { ...json(f), format: 'onnx' }))),
      /unknown model format 'onnx'/,
    );
    await expectModelError(loadModel(join(dir, 'nowhere')), /cannot read the model \(ENOENT\)/);
    await expectModelError(loadModel(write('m3', (f) => setJson(f, { format: 'graph-model' }))), /no modelTopology/);
  });

  it('missing, truncated and oversized shards', async () => {
    const shards = built.files.slice(1).map((f) => f.name);
    expect(shards.length).toBeGreaterThan(1);
    const last = shards[shards.length - 1]!;
    await expectModelError(loadModel(write('s1', (f) => f.delete(shards[0]!))), /missing shard/, {
      file: new RegExp(`${shards[0]!.replace('.', '\\.')}$`),
    });
    await expectModelError(
      loadModel(write('s2', (f) => f.set(last, f.get(last)!.subarray(0, 10)))),
      /only \d+ remain/,
      { file: /shard/ },
    );
    await expectModelError(
      loadModel(write('s3', (f) => f.set(last, Uint8Array.of(...f.get(last)!, 0, 0)))),
      /but the manifest describes/,
    );
    await expectModelError(
      loadModel(
        write('s4', (f) => {
          const j = json(f);
          j.weightsManifest[0].paths[0] = '../../etc/passwd';
          setJson(f, j);
        }),
      ),
      /must be relative to the model directory/,
    );
  });

  it('NaN / Inf trained parameters are errors naming the weight unless allowed', async () => {
    const b = new GraphModelBuilder(1);
    const x = b.input('x', [-1, 2]);
    b.op('y', 'BiasAdd', [x, b.const('bad/bias', [2], Float32Array.of(1, Infinity))], { T: attr.type('DT_FLOAT') });
    const m = b.build();
    await expectModelError(loadModel({ modelJson: m.modelJson, weightData: m.weightData }), /element 1 is Infinity/, {
      weight: 'bad/bias',
    });
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData }, { allowNonFinite: true });
    expect(execute(g, tf.tensor2d([[1, 2]]))[0]!.dataSync()[1]).toBe(Infinity);
  });

  it('a cycle and a dangling input name the node', async () => {
    const b = new GraphModelBuilder(1);
    const x = b.input('x', [-1, 2]);
    b.op('a', 'AddV2', [x, 'b'], {});
    b.op('b', 'Relu', ['a'], {});
    b.op('out', 'Relu', ['b'], {});
    const m = b.build();
    await expectModelError(loadModel({ modelJson: m.modelJson, weightData: m.weightData }), /cycle/, {
      node: /^(a|b)$/,
    });
    const c = new GraphModelBuilder(1);
    c.input('x', [-1, 2]);
    c.op('out', 'Relu', ['ghost'], {});
    const m2 = c.build();
    await expectModelError(loadModel({ modelJson: m2.modelJson, weightData: m2.weightData }), /'ghost' names no node/, {
      node: 'out',
    });
  });

  it('writes leave no partial output behind', async () => {
    const g = await loadModel(write('w1'));
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    await expectModelError(saveTfjs(g, join(blocker, 'out')), /cannot write the model/);
    await expectModelError(saveTfjs(g, blocker), /not a directory/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const out = join(dir, 'w-out');
    await saveTfjs(g, out);
    await saveTfjs(g, out); // over an existing output: same consistent content
    expect(readdirSync(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('inspect: prints the report; a broken model is exit code 1, a missing path 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) };
    expect(await inspectCommand([join(write('i1'), 'model.json')], io)).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/format:\s+graph-model/);
    expect(text).toMatch(/input\s+float32 \[\?, 12, 12, 3\]/);
    expect(text).toMatch(/Identity\s+float32 \[\?, 2, 2\]/);
    expect(text).toMatch(/Conv2D\s+2\s+int8/);
    const params =
      built.files.length &&
      JSON.parse(new TextDecoder().decode(built.files[0]!.bytes))
        .weightsManifest[0].weights.filter((w: { dtype: string }) => w.dtype === 'float32')
        .reduce((a: number, w: { shape: number[] }) => a + w.shape.reduce((x, y) => x * y, 1), 0);
    expect(text).toContain(`${params.toLocaleString('en-US')} values`);
    // A model that cannot be read is a failure (1); a path that does not exist a usage error (2, docs/cli.md).
    expect(await inspectCommand([write('i2', (f) => f.delete(built.files[1]!.name))], io)).toBe(1);
    expect(err.join('')).toMatch(/^tfjs-quant inspect: .*missing shard/);
    err.length = 0;
    expect(await inspectCommand([join(dir, 's1-missing')], io)).toBe(2);
    expect(err.join('')).toMatch(/^tfjs-quant inspect: '.*s1-missing' does not exist/);
    expect(await inspectCommand([], io)).toBe(2);
  });
});

describe('fuzz: mutated model.json and shards', () => {
  it('every mutation ends in a ModelFormatError or a working model; inputs are never modified', async () => {
    const graph = convNetGraphModel(31).build({ shardBytes: 1500 });
    const cnn = await saveLayersToMemory(sequentialCnn(5));
    // The tfjs-quant format too, with deep-compression entries (native codec behind the JSON).
    const compressed = await loadModel({ modelJson: graph.modelJson, weightData: graph.weightData });
    compressGraph(compressed, { sparsity: 0.5, bits: 4, minElements: 16 });
    const bases = [graph.files, layersFiles(cnn), nativeFiles(compressed, { mode: 'deep-compression' })];
    const r = rng(1234);
    let loaded = 0;
    let failed = 0;
    for (let i = 0; i < 210; i++) {
      const { files, kind } = mutateModelFiles(r, bases[i % 3]!);
      const d = join(dir, `fuzz-${i}`);
      await writeModel(d, { modelJson: {}, weightData: new Uint8Array(0), files });
      const before = hashDir(d);
      try {
        const g = await loadModel(d);
        loaded++;
        const x = tf.zeros([1, 12, 12, 3]);
        try {
          execute(g, g.inputs.length === 1 && g.inputs[0]!.shape?.length === 4 ? x : {}).forEach((t) => t.dispose());
        } catch (e) {
          // Running a corrupted (but loadable) model may fail: the error must say where.
          expect(e instanceof ModelFormatError || e instanceof RangeError || e instanceof TypeError).toBe(true);
        }
        x.dispose();
      } catch (e) {
        failed++;
        if (!(e instanceof ModelFormatError))
          throw new Error(
            `mutation ${i} (kind ${kind}) gave ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
          );
        // It names a file of this model (model.json or a shard) and says what is wrong there.
        expect(e.file?.startsWith(`${d}/`), e.message).toBe(true);
        expect(e.message.startsWith(`${e.file}: `)).toBe(true);
        expect(e.reason.length).toBeGreaterThan(10);
      }
      expect(hashDir(d)).toEqual(before);
      rmSync(d, { recursive: true, force: true });
    }
    expect(loaded).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(60);
  });
});
