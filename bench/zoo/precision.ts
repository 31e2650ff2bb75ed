// Which reduced precision a zoo model can take at all: before asking why the accuracy guard
// kept a model float, measure what rounding alone does to it. On the guard's own samples (the
// 8 after the 8 that calibrate), in float (tfjs), each convolution / matmul in turn sees:
//   - int8 W: its weights rounded to int8 per output channel by the converter's own
//     quantizeWeight, activations float — the least any int8 layout can lose;
//   - bf16 W: its weights rounded to bfloat16 (8 significant bits, round to nearest even);
//   - bf16 W+A: the same and its input activation rounded to bfloat16, what a bf16 GEMM
//     (AVX512_BF16's VDPBF16PS) would compute up to the order of its float sums;
// and, as the model's own floor, the float model on its inputs plus uniform noise of half an
// 8-bit step of each input's range (what storing a picture in 8 bits does; the guard's own
// measurement, src/quant/precision-floor.ts, which also gives the int8-weights figure for the
// weights the converter stored). Each score is the
// guard's: the minimum over outputs of the cosine (≥ 16 values) or 1 − relative error (small
// outputs, with the guard's prediction for unseen inputs), so a column ≥ target (0.9925 for
// the default tolerance 0.01) means that precision could hold the model.
//
//   npx tsx bench/zoo/precision.ts --work <zoo work dir> [--zoo <zoo cache>] [--out file.md] [model ids…]
//
// With no ids: every model with an int8 conversion in the work dir whose guard kept nodes float.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { disposeConstants, execute, executeAsync, requiresAsync } from '../../src/model/execute.js';
import { loadModel, optimize } from '../../src/model/index.js';
import type { Graph } from '../../src/model/ir.js';
import { normalizeSample } from '../../src/quant/calibrate.js';
import { loadCalibrationData } from '../../src/quant/dataset.js';
import { guardFidelity, tensorSpec } from '../../src/quant/output-fidelity.js';
import { withInputNoise } from '../../src/quant/precision-floor.js';
import { quantizeWeight } from '../../src/quant/weights.js';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    work: { type: 'string' },
    zoo: { type: 'string', default: join(homedir(), '.cache/tfjs-quant/zoo') },
    out: { type: 'string' },
  },
});
if (!opt.work)
  throw new Error('usage: bench/zoo/precision.ts --work <zoo work dir> [--zoo <cache>] [--out f.md] [ids…]');
const work = opt.work;

/** The nodes whose weights and input activation a reduced-precision GEMM would round. */
const HEAVY = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MatMul', 'BatchMatMulV2', 'Conv2DBackpropInput']);
/** The guard's target for the default tolerance (0.99 with a quarter of the loss as margin). */
const TARGET = 1 - 0.01 * 0.75;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** Rounds to bfloat16 (nearest, ties to even), kept as float32; NaN and ±∞ pass through. */
function bf16(d: Float32Array): Float32Array {
  const o = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!Number.isFinite(v)) {
      o[i] = v;
      continue;
    }
    f32[0] = v;
    const u = u32[0]!;
    u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
    o[i] = f32[0]!;
  }
  return o;
}

type Feed = Record<string, tf.Tensor>;

/** The graph's outputs on one feed. */
async function run(g: Graph, feed: Feed): Promise<Float32Array[]> {
  const outs = await executeAsync(g, feed);
  const result = outs.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  for (const t of outs) t.dispose();
  return result;
}

/**
 * The graph's outputs on one feed, node by node, `roundInput` applied to each heavy node's
 * activation input (graphs without control flow: a region runs whole in tfjs-converter).
 */
function runRounded(g: Graph, feed: Feed, roundInput: (d: Float32Array) => Float32Array): Float32Array[] {
  const values = new Map<string, tf.Tensor>();
  const rounded: tf.Tensor[] = [];
  for (const n of g.nodes) {
    const given: Feed = {};
    n.inputs.forEach((t, i) => {
      const v = values.get(t);
      if (!v) return;
      if (i !== 0 || !HEAVY.has(n.op) || v.dtype !== 'float32') given[t] = v;
      else rounded.push((given[t] = tf.tensor(roundInput(v.dataSync() as Float32Array), v.shape, 'float32')));
    });
    const outs = execute(g, feed, { nodes: [n.name], given, outputs: n.outputs });
    n.outputs.forEach((o, i) => values.set(o, outs[i]!));
  }
  const result = g.outputs.map((o) => Float32Array.from((values.get(o) ?? feed[o]!).dataSync() as Float32Array));
  for (const v of [...values.values(), ...rounded]) v.dispose();
  return result;
}

/** The guard's score (min over outputs of the cosine, or of 1 − relative error and its prediction). */
function score(g: Graph, ref: Float32Array[][], got: Float32Array[][]): number {
  return guardFidelity(
    g.outputs.map((o) => tensorSpec(g, o)),
    ref,
    got,
  ).score;
}

interface Row {
  id: string;
  heavy: number;
  keptFloat: number;
  int8Initial: number;
  int8W: number;
  bf16W: number;
  /** NaN: not measured (the graph has control flow). */
  bf16WA: number;
  noise: number;
}

async function measure(id: string): Promise<Row> {
  const report = JSON.parse(readFileSync(join(work, id, 'out-int8', 'report.json'), 'utf8')) as {
    models: { guard?: { initial: number; movedToFloat: string[] } }[];
  };
  const guard = report.models[0]!.guard;
  const g = optimize(await loadModel(join(opt.zoo!, id, 'model.json')));
  const samples = [];
  for await (const s of loadCalibrationData(join(work, id, 'calib'), g)) samples.push(s);
  // The guard's samples: those after the 8 that calibrate (bench/zoo/run.ts: --samples 8 --guard-samples 8).
  const feeds = samples.slice(8, 16).map((s, i) => normalizeSample(g, s, i).inputs as Feed);
  if (feeds.length < 2) throw new Error(`${id}: ${feeds.length} guard sample(s) in ${join(work, id, 'calib')}`);
  const all = async () => {
    const out: Float32Array[][] = [];
    for (const f of feeds) out.push(await run(g, f));
    return out;
  };
  const ref = await all();
  const heavy = g.nodes.filter(
    (n) => HEAVY.has(n.op) && g.constants.get(n.inputs[1] ?? '')?.data instanceof Float32Array,
  );
  const original = new Map(heavy.map((n) => [n.inputs[1]!, g.constants.get(n.inputs[1]!)!.data as Float32Array]));
  const setWeights = (round: (d: Float32Array, n: (typeof heavy)[number]) => Float32Array) => {
    disposeConstants(g); // the tensors cached for the weights being replaced
    for (const n of heavy) g.constants.get(n.inputs[1]!)!.data = round(original.get(n.inputs[1]!)!, n);
  };

  // int8 weights as the converter stores them (symmetric per output channel, docs/quantization.md §5).
  setWeights((d, n) => {
    const c = { ...g.constants.get(n.inputs[1]!)!, data: d, quantization: undefined };
    return quantizeWeight(c, n, 'channel') ? (c.data as Float32Array) : d;
  });
  const int8W = score(g, ref, await all());
  setWeights((d) => bf16(d));
  const bf16W = score(g, ref, await all());
  const bf16WA = requiresAsync(g)
    ? NaN
    : score(
        g,
        ref,
        feeds.map((f) => runRounded(g, f, bf16)),
      );
  setWeights((d) => d);
  // The accuracy guard's own noise (precision-floor.ts): its inputNoise figure on these samples.
  const noisy = feeds.map((f, i) => withInputNoise(f, i));
  const noisyOuts: Float32Array[][] = [];
  for (const f of noisy) noisyOuts.push(await run(g, f));
  const noise = score(g, ref, noisyOuts);
  disposeConstants(g);
  for (const f of [...feeds, ...noisy]) for (const t of Object.values(f)) if (!t.isDisposed) t.dispose();
  const keptFloat = heavy.filter((n) => guard?.movedToFloat.includes(n.name)).length;
  return { id, heavy: heavy.length, keptFloat, int8Initial: guard?.initial ?? NaN, int8W, bf16W, bf16WA, noise };
}

function models(): string[] {
  if (positionals.length) return positionals;
  const ids: string[] = [];
  for (const group of readdirSync(work)) {
    if (group === 'built' || !existsSync(join(work, group))) continue;
    for (const m of readdirSync(join(work, group))) {
      const r = join(work, group, m, 'out-int8', 'report.json');
      if (!existsSync(r)) continue;
      const guard = (JSON.parse(readFileSync(r, 'utf8')) as { models: { guard?: { movedToFloat: string[] } }[] })
        .models[0]?.guard;
      if (guard?.movedToFloat.length) ids.push(`${group}/${m}`);
    }
  }
  return ids.sort();
}

await initFloatBackend('wasm');
const f = (v: number) => (Number.isNaN(v) ? 'control flow' : v >= TARGET ? `**${v.toFixed(4)}**` : v.toFixed(4));
const lines = [
  `# Which precision each zoo model can take (bench/zoo/precision.ts)`,
  '',
  `Command: \`npx tsx bench/zoo/precision.ts ${process.argv.slice(2).join(' ')}\` — ${new Date().toISOString().slice(0, 16)} UTC.`,
  `Float: tfjs-backend-wasm. Samples: each model's 8 accuracy-guard samples (bench/zoo inputs). Score: the guard's (min over outputs; cosine, or 1 − relative error with its prediction for unseen inputs); **bold**: ≥ ${TARGET} (the guard's target for tolerance 0.01), i.e. that precision alone could hold the model. "int8 (guard)": every layer int8, as the guard first measured it (native runtime); "kept float": the guard's result, heavy nodes (conv, depthwise, matmul) kept float of all.`,
  '',
  '| model | kept float | int8 (guard) | int8 W only | bf16 W only | bf16 W+A | float, input ±½ 8-bit step |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const id of models()) {
  const t0 = performance.now();
  const r = await measure(id);
  process.stderr.write(`${id}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  lines.push(
    `| ${r.id} | ${r.keptFloat} / ${r.heavy} | ${f(r.int8Initial)} | ${f(r.int8W)} | ${f(r.bf16W)} | ${f(r.bf16WA)} | ${f(r.noise)} |`,
  );
  process.stdout.write(lines[lines.length - 1] + '\n');
}
if (opt.out) writeFileSync(opt.out, lines.join('\n') + '\n');
