// The converted model as a user runs it, in its own process: the WRITTEN files loaded into an
// InferenceSession (1 thread), every output compared with the float reference's (.npy files
// from reference.ts) on the same held-out inputs, the share of conv/matmul MACs the plan runs
// natively, and steady-state latency. Prints one JSON object (MeasureResult) on stdout.
//
//   tsx bench/zoo/measure.ts <model.json> <inputs.json> <eval-dir> <ref-dir> <task> <runs> <seconds>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { readNpy } from '../../src/io/npy.js';
import { dequantize } from '../../src/kernels/quantize.js';
import { cloneGraph, type Graph } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { measurePoints } from '../../src/quant/measure-points.js';
import { nativeFlopShare, type FlopShare } from './flops.js';
import { readInputSet } from './inputs.js';
import type { ZooInput } from './manifest.js';
import { AgreementAccumulator, isClassifierOutput, type OutputAgreement } from './metrics.js';
import type { ReferenceResult } from './reference.js';
import { steadyTiming, type SteadyTiming } from './timing.js';

export interface OutputResult extends OutputAgreement {
  /** The reference output's name (stock tfjs) and the session's. */
  reference: string;
  session?: string;
  /** How the two were paired: same name, or same position (names differ). */
  matchedBy: 'name' | 'position' | 'unmatched';
  /** Computed after a selection (NMS, top-k, arg max): src/quant/measure-points.ts. */
  discrete?: boolean;
}

export interface MeasureResult {
  loads: boolean;
  /** The tfjs backend that runs the session's tfjs segments. */
  tfjsBackend?: string;
  error?: string;
  /** Nodes per placement. */
  placements?: Record<string, number>;
  flops?: FlopShare;
  outputs?: OutputResult[];
  timing?: SteadyTiming;
}

const strip = (n: string) => n.replace(/:0$/, '');

export async function measure(
  path: string,
  inputs: ZooInput[],
  evalDir: string,
  refDir: string,
  task: string,
  runs: number,
  seconds: number,
): Promise<MeasureResult> {
  const ref = JSON.parse(readFileSync(join(refDir, 'reference.json'), 'utf8')) as ReferenceResult;
  const samples = readInputSet(evalDir, inputs);
  // tfjs segments of the session run on the float backend a user gets by default.
  const tfjsBackend = await initFloatBackend();
  let session: InferenceSession;
  let shapesGraph: Graph;
  let discrete: Set<string>;
  try {
    const graph = await loadModel(path);
    shapesGraph = cloneGraph(graph);
    discrete = new Set(measurePoints(graph).discrete.map((d) => strip(d.output)));
    // The harness knows the shapes it feeds, as a user of an open-sized model does: the plan is
    // made for them at creation.
    const inputShapes = Object.fromEntries(
      inputs.map((i) => [graph.inputs.find((g) => strip(g.name) === strip(i.name))?.name ?? i.name, i.shape]),
    );
    session = await InferenceSession.create(graph, { threads: 1, inputShapes });
  } catch (e) {
    return { tfjsBackend, loads: false, error: (e as Error).message ?? String(e) };
  }
  const res: MeasureResult = { tfjsBackend, loads: true, placements: {} };
  try {
    const feedName = (i: ZooInput) => {
      const s = session.inputs.find((x) => strip(x.name) === strip(i.name));
      if (!s)
        throw new Error(
          `the session has no input '${i.name}' (inputs: ${session.inputs.map((x) => x.name).join(', ')})`,
        );
      return s.name;
    };
    const feeds = samples.map((x) => Object.fromEntries(inputs.map((i) => [feedName(i), x[i.name]!])));
    // Pair outputs by name where the names agree, else by position (the names are reported).
    const names = session.outputs.map((o) => o.name);
    // A session answers under the model's signature keys too (a layers model's output layer
    // names: 'dense_3' for the tensor 'dense_3/Softmax').
    const keys = session.outputNames;
    const byPosition = names.length === ref.outputs.length;
    const pairs = ref.outputs.map((r, i) => {
      const same = names.find((n, k) => strip(n) === strip(r.name) || strip(keys[k] ?? '') === strip(r.name));
      if (same) return { ref: r, index: i, session: same, matchedBy: 'name' as const };
      if (byPosition) return { ref: r, index: i, session: names[i]!, matchedBy: 'position' as const };
      return { ref: r, index: i, session: undefined, matchedBy: 'unmatched' as const };
    });
    const acc = pairs.map((p) => new AgreementAccumulator(isClassifierOutput(task, p.ref.shape)));
    for (const [s, feed] of feeds.entries()) {
      const out = await session.run(feed);
      pairs.forEach((p, k) => {
        if (!p.session) return;
        const want = readNpy(readFileSync(join(refDir, `ref.s${String(s).padStart(2, '0')}.o${p.index}.npy`))).data;
        const got = out[p.session]!;
        const values =
          got.dtype === 'int8' ? dequantize(got.data as Int8Array, got.quantization!) : (got.data as ArrayLike<number>);
        acc[k]!.add(want, values, p.ref.shape[p.ref.shape.length - 1] ?? 1);
      });
    }
    res.outputs = pairs.map((p, k) => ({
      reference: p.ref.name,
      session: p.session,
      matchedBy: p.matchedBy,
      ...acc[k]!.result(),
      ...(discrete!.has(strip(p.ref.name)) ? { discrete: true } : {}),
    }));
    // The plan the runs settled on (a session learns the shapes control-flow regions give at its
    // first run and plans again: src/runtime/session.ts).
    for (const p of session.plan) res.placements![p.placement] = (res.placements![p.placement] ?? 0) + 1;
    const first = Object.fromEntries(
      inputs.map((i) => [feedName(i), tf.tensor(samples[0]![i.name]!.data, samples[0]![i.name]!.shape, i.dtype)]),
    );
    res.flops = nativeFlopShare(shapesGraph!, session.plan, first);
    Object.values(first).forEach((t) => t.dispose());
    res.timing = await steadyTiming(() => session.run(feeds[0]!), { runs, seconds });
  } catch (e) {
    res.error = (e as Error).message ?? String(e);
  } finally {
    session.dispose();
  }
  return res;
}

if (process.argv[1]?.endsWith('measure.ts')) {
  const [path, inputsJson, evalDir, refDir, task, runs, seconds] = process.argv.slice(2);
  const r = await measure(
    path!,
    JSON.parse(readFileSync(inputsJson!, 'utf8')) as ZooInput[],
    evalDir!,
    refDir!,
    task!,
    Number(runs),
    Number(seconds),
  );
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}
