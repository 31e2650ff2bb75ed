// Seeded mutation fuzzing of the TypeScript readers for a time budget per target: TF.js graph
// models, layers models and the tfjs-quant format (with affine and deep-compression weights)
// through loadModel, and .npy files through readNpy. Every input must load or
// fail with the reader's own error type naming what is wrong; anything else (another
// exception, a hang over 5 s) is counted as a finding and printed.
// Usage: tsx bench/fuzz/run.ts [seconds per target]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initFloatBackend } from '../../src/backend/float.js';
import { loadModel, ModelFormatError, nativeFiles } from '../../src/model/index.js';
import {
  convNetGraphModel,
  layersFiles,
  rng,
  saveLayersToMemory,
  sequentialCnn,
  writeModel,
} from '../../test/support/model-fixtures.js';
import { compressGraph } from '../../src/codec/graph.js';
import { mutateBytes, mutateModelFiles } from '../../src/io/mutate.js';
import type { OutputFile } from '../../src/io/atomic.js';

const seconds = Number(process.argv[2] ?? 60);
await initFloatBackend('cpu');
const dir = mkdtempSync(join(tmpdir(), 'tfjq-fuzz-ts-'));

async function fuzzModels(name: string, base: OutputFile[]): Promise<void> {
  const r = rng(7);
  const end = Date.now() + seconds * 1000;
  let tried = 0,
    loaded = 0,
    findings = 0;
  while (Date.now() < end) {
    const { files, kind } = mutateModelFiles(r, base);
    const d = join(dir, `${name}-${tried}`);
    await writeModel(d, { modelJson: {}, weightData: new Uint8Array(0), files });
    const t0 = Date.now();
    try {
      await loadModel(d);
      loaded++;
    } catch (e) {
      if (!(e instanceof ModelFormatError) || !e.message) {
        findings++;
        console.error(`${name} #${tried} (${kind}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
    }
    if (Date.now() - t0 > 5000) {
      findings++;
      console.error(`${name} #${tried} (${kind}): took ${Date.now() - t0} ms`);
    }
    rmSync(d, { recursive: true, force: true });
    tried++;
  }
  console.log(
    `| ${name} | seeded mutation (src/io/mutate.ts) | ${seconds} s | ${tried} (${loaded} loaded) | ${findings} |`,
  );
}

const graph = convNetGraphModel(31).build({ shardBytes: 1500 });
const cnn = layersFiles(await saveLayersToMemory(sequentialCnn(5)));
const g = await loadModel({ modelJson: graph.modelJson, weightData: graph.weightData });
compressGraph(g, { sparsity: 0.5, bits: 4, minElements: 16 });
const native = nativeFiles(g, { mode: 'deep-compression' });
await fuzzModels('graph model (model.json + shards)', graph.files);
await fuzzModels('layers model', cnn);
await fuzzModels('tfjs-quant format (deep-compression entries)', native);

// .npy reader (src/io/npy.ts).
{
  const npy = await import('../../src/io/npy.js');
  const r = rng(9);
  const base = npy.writeNpy(
    Float32Array.from({ length: 24 }, (_, i) => i / 7),
    [2, 3, 4],
  );
  const end = Date.now() + seconds * 1000;
  let tried = 0,
    ok = 0,
    findings = 0;
  while (Date.now() < end) {
    const b = mutateBytes(r, base);
    try {
      npy.readNpy(b, 'fuzz.npy');
      ok++;
    } catch (e) {
      if (!(e instanceof npy.NpyError) || !e.message.includes('fuzz.npy')) {
        findings++;
        console.error(`npy #${tried}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
    }
    tried++;
  }
  console.log(`| .npy reader | seeded byte mutation | ${seconds} s | ${tried} (${ok} read) | ${findings} |`);
}
rmSync(dir, { recursive: true, force: true });
