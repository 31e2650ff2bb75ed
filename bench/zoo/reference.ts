// The float reference, run in its own process: the ORIGINAL model files in stock TF.js
// (tf.loadGraphModel + executeAsync, or tf.loadLayersModel + predict), on tfjs-backend-wasm, or
// on the cpu backend when the wasm backend cannot run the model (decided up front by one trial
// run per backend, recorded with the reason). Writes each output of each evaluation sample as
// .npy and a reference.json (backend, output names and shapes, steady-state latency).
//
//   tsx bench/zoo/reference.ts <model.json> <format> <inputs.json> <eval-dir> <out-dir> <runs> <seconds>
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initFloatBackend, tf, type FloatBackendName } from '../../src/backend/float.js';
import { fileIO } from '../../src/io/files.js';
import { writeNpy } from '../../src/io/npy.js';
import { readInputSet, type InputSample } from './inputs.js';
import type { ZooInput } from './manifest.js';
import { steadyTiming, type SteadyTiming } from './timing.js';

export interface ReferenceResult {
  backend?: FloatBackendName;
  /** Why a backend was not used (its trial run's error). */
  rejected: Record<string, string>;
  outputs: { name: string; shape: number[]; dtype: string }[];
  timing?: SteadyTiming;
  error?: string;
}

const strip = (n: string) => n.replace(/:0$/, '');

interface Runner {
  outputNames: string[];
  run: (x: InputSample) => Promise<tf.Tensor[]>;
  dispose: () => void;
}

async function load(path: string, format: string, inputs: ZooInput[]): Promise<Runner> {
  const tensors = (x: InputSample) => inputs.map((i) => tf.tensor(x[i.name]!.data, x[i.name]!.shape, i.dtype));
  if (format === 'layers-model') {
    const m = await tf.loadLayersModel(fileIO(path));
    return {
      outputNames: m.outputNames,
      run: async (x) => {
        const ins = tensors(x);
        const y = m.predict(ins.length === 1 ? ins[0]! : ins) as tf.Tensor | tf.Tensor[];
        ins.forEach((t) => t.dispose());
        return Array.isArray(y) ? y : [y];
      },
      dispose: () => m.dispose(),
    };
  }
  const m = await tf.loadGraphModel(fileIO(path));
  const names = m.inputs.map((i) => i.name);
  return {
    outputNames: m.outputs.map((o) => o.name),
    run: async (x) => {
      const ins = tensors(x);
      const feed: Record<string, tf.Tensor> = {};
      inputs.forEach((i, k) => {
        const n = names.find((t) => strip(t) === strip(i.name));
        if (!n) throw new Error(`stock tfjs names no input '${i.name}' (inputs: ${names.join(', ')})`);
        feed[n] = ins[k]!;
      });
      const y = await m.executeAsync(feed);
      ins.forEach((t) => t.dispose());
      return Array.isArray(y) ? y : [y];
    },
    dispose: () => m.dispose(),
  };
}

export async function reference(
  path: string,
  format: string,
  inputs: ZooInput[],
  evalDir: string,
  outDir: string,
  runs: number,
  seconds: number,
): Promise<ReferenceResult> {
  const res: ReferenceResult = { rejected: {}, outputs: [] };
  const samples = readInputSet(evalDir, inputs);
  mkdirSync(outDir, { recursive: true });
  for (const backend of ['wasm', 'cpu'] as FloatBackendName[]) {
    let runner: Runner | undefined;
    try {
      await initFloatBackend(backend);
      runner = await load(path, format, inputs);
      const first = await runner.run(samples[0]!);
      const got: tf.Tensor[][] = [first];
      for (const s of samples.slice(1)) got.push(await runner.run(s));
      res.backend = backend;
      res.outputs = first.map((t, i) => ({
        name: runner!.outputNames[i] ?? `output_${i}`,
        shape: [...t.shape],
        dtype: t.dtype,
      }));
      got.forEach((outs, s) =>
        outs.forEach((t, i) => {
          const data =
            t.dtype === 'float32' ? (t.dataSync() as Float32Array) : Int32Array.from(t.dataSync() as ArrayLike<number>);
          writeFileSync(join(outDir, `ref.s${String(s).padStart(2, '0')}.o${i}.npy`), writeNpy(data, t.shape));
          t.dispose();
        }),
      );
      res.timing = await steadyTiming(
        async () =>
          (await runner!.run(samples[0]!)).forEach((t) => {
            t.dataSync();
            t.dispose();
          }),
        { runs, seconds },
      );
      runner.dispose();
      delete res.error;
      return res;
    } catch (e) {
      runner?.dispose();
      res.rejected[backend] = (e as Error).message ?? String(e);
      res.error = `no backend runs the float model: ${Object.entries(res.rejected)
        .map(([b, m]) => `${b}: ${m}`)
        .join('; ')}`;
    }
  }
  return res;
}

if (process.argv[1]?.endsWith('reference.ts')) {
  const [path, format, inputsJson, evalDir, outDir, runs, seconds] = process.argv.slice(2);
  const r = await reference(
    path!,
    format!,
    JSON.parse(readFileSync(inputsJson!, 'utf8')) as ZooInput[],
    evalDir!,
    outDir!,
    Number(runs),
    Number(seconds),
  );
  writeFileSync(join(outDir!, 'reference.json'), JSON.stringify(r, null, 1));
  process.exit(0);
}
