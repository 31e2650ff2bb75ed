// What a conversion wrote, measured as a user will meet it: the OUTPUT FILES are reloaded — by
// `InferenceSession.create(path)` for the native format, by stock tfjs (tf.loadGraphModel /
// loadLayersModel) for the tfjs format, whose loader dequantizes the weights and runs float —
// and run on the evaluation inputs against the float model, over every output; the same engine
// is timed. The float model runs on a float backend that can run it, chosen up front by a
// trial run (tfjs-backend-wasm lacks some kernels, e.g. an int32 BatchMatMul; the cpu backend
// has them).
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tf, availableFloatBackends, floatBackendName, type FloatBackendName } from '../backend/float.js';
import { executeAsync } from '../model/execute.js';
import type { Graph } from '../model/ir.js';
import { fileIO } from '../io/files.js';
import { loadModel } from '../model/load.js';
import { modelFidelity, tensorSpec, type ModelFidelity } from '../quant/output-fidelity.js';
import { measurePoints } from '../quant/measure-points.js';
import { medianMs } from '../report/timing.js';
import { toFloatTensor } from '../runtime/host-tensor.js';
import { InferenceSession } from '../runtime/session.js';

export interface ReferenceChoice {
  /** The backend the float model runs on, or undefined when none can run it. */
  backend?: FloatBackendName;
  /** Backends tried before it and why each could not run the model. */
  rejected: { backend: FloatBackendName; error: string }[];
}

function describeError(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);
}

/**
 * Chooses the float backend for the reference: the current one when the float graph runs on
 * it, else the next available one that runs it (switched to: tf.setBackend). Decided once per
 * model, before any conversion work, by one trial run on `sample`.
 */
export async function chooseReferenceBackend(g: Graph, sample: Record<string, tf.Tensor>): Promise<ReferenceChoice> {
  const current = floatBackendName();
  const order = [...new Set([...(current ? [current] : []), ...availableFloatBackends()])];
  const rejected: ReferenceChoice['rejected'] = [];
  for (const b of order) {
    if (tf.getBackend() !== b && !(await tf.setBackend(b))) {
      rejected.push({ backend: b, error: 'backend could not be initialised' });
      continue;
    }
    try {
      const outs = await executeAsync(g, sample);
      outs.forEach((t) => {
        t.dataSync();
        t.dispose();
      });
      return { backend: b, rejected };
    } catch (e) {
      rejected.push({ backend: b, error: describeError(e) });
    }
  }
  if (current && tf.getBackend() !== current) await tf.setBackend(current);
  return { rejected };
}

interface Engine {
  name: string;
  outputNames: string[];
  run(x: Record<string, tf.Tensor>): Promise<tf.Tensor[]>;
  dispose(): void;
}

async function writtenEngine(
  dir: string,
  format: 'native' | 'tfjs',
  o: { threads: number; allowNonFinite?: boolean },
): Promise<Engine> {
  const path = join(dir, 'model.json');
  if (format === 'native') {
    // A model with non-finite constants loads only when the user accepted them (--allow-non-finite).
    const s = await InferenceSession.create(o.allowNonFinite ? await loadModel(path, { allowNonFinite: true }) : path, {
      threads: o.threads,
    });
    return {
      name: 'native session on the written files',
      outputNames: s.outputs.map((o) => o.name),
      run: async (x) => {
        const out = await s.run(x);
        // int8 / uint8 outputs (--output-type) are compared by their real values (§3).
        return s.outputs.map((o) => toFloatTensor(out[o.name]!));
      },
      dispose: () => s.dispose(),
    };
  }
  const json = JSON.parse(await fs.readFile(path, 'utf8')) as { format?: string };
  if (json.format === 'layers-model') {
    const m = await tf.loadLayersModel(fileIO(path));
    return {
      name: 'stock tfjs (loadLayersModel) on the written files',
      outputNames: m.outputs.map((o) => o.name),
      run: async (x) => {
        const r = m.predict(Object.values(x));
        return Array.isArray(r) ? r : [r];
      },
      dispose: () => m.dispose(),
    };
  }
  const m = await tf.loadGraphModel(fileIO(path));
  const names = m.outputs.map((o) => o.name);
  return {
    name: 'stock tfjs (loadGraphModel) on the written files',
    outputNames: names,
    run: async (x) => {
      const r = await m.executeAsync(x, names);
      return Array.isArray(r) ? r : [r];
    },
    dispose: () => m.dispose(),
  };
}

export interface WrittenEvaluation {
  fidelity: ModelFidelity;
  engine: string;
  floatMs: number;
  quantMs: number;
  /** Notes for the report (e.g. outputs matched by position). */
  notes: string[];
}

const toArray = (t: tf.Tensor) => Float32Array.from(t.dataSync() as ArrayLike<number>);

/** Runs the float graph (on the current backend) and the written files on `inputs`; every output compared. */
export async function evaluateWritten(
  float: Graph,
  dir: string,
  format: 'native' | 'tfjs',
  inputs: Record<string, tf.Tensor>[],
  o: { threads: number; runs: number; allowNonFinite?: boolean },
): Promise<WrittenEvaluation> {
  const engine = await writtenEngine(dir, format, o);
  const notes: string[] = [];
  try {
    // Outputs are matched by name; when the written model names them otherwise but has as many,
    // by position (and said so).
    const index = float.outputs.map((n) => engine.outputNames.indexOf(n));
    if (index.some((i) => i < 0)) {
      if (engine.outputNames.length !== float.outputs.length) {
        throw new Error(
          `the written model has outputs ${engine.outputNames.join(', ')}; the float model ${float.outputs.join(', ')}`,
        );
      }
      notes.push(`outputs matched by position (written: ${engine.outputNames.join(', ')})`);
      index.forEach((_, k) => {
        index[k] = k;
      });
    }
    const ref: Float32Array[][] = [],
      got: Float32Array[][] = [];
    for (const x of inputs) {
      const r = await executeAsync(float, x);
      ref.push(r.map(toArray));
      r.forEach((t) => t.dispose());
      const q = await engine.run(x);
      got.push(index.map((i) => toArray(q[i]!)));
      q.forEach((t) => t.dispose());
    }
    const discrete = new Set(measurePoints(float).discrete.map((d) => d.output));
    const specs = float.outputs.map((n) => ({ ...tensorSpec(float, n), discrete: discrete.has(n) }));
    const fidelity = modelFidelity(specs, ref, got);
    const floatMs = await medianMs(
      async () =>
        (await executeAsync(float, inputs[0]!)).forEach((t) => {
          t.dataSync();
          t.dispose();
        }),
      { runs: o.runs },
    );
    const quantMs = await medianMs(
      async () =>
        (await engine.run(inputs[0]!)).forEach((t) => {
          t.dataSync();
          t.dispose();
        }),
      { runs: o.runs },
    );
    return { fidelity, engine: engine.name, floatMs, quantMs, notes };
  } finally {
    engine.dispose();
  }
}
