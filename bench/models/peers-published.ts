// ONNX Runtime against our runtime on a published, trained TF.js model (default: nsfwjs's
// MobileNetV2 classifier from the zoo cache, 224 × 224, 0.3 GMAC), both running the same int8
// integers: `tfjs-quant convert --mode int8 --no-guard` quantizes every layer (as ORT's static
// quantizer does), and onnx-from-graph.ts writes that file's weights and activation parameters as
// an ONNX QLinear model. Our dynamic mode is converted by the CLI too (`--mode dynamic
// --no-guard`, its default narrow-layer rule). Measured with the method of peer-harness.ts (each
// engine alone in its process, steady state, processes alternated). Before timing, the two int8
// engines are run on the same inputs and their outputs compared (they should differ only by
// rounding: ORT's softmax is float, ours int8).
//
//   npx tsx bench/models/peers-published.ts [--model DIR] [--rounds N] [--time S] [--work DIR]
//   (onnxruntime-node installed next to the checkout: see peers.ts)
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { toMarkdown, toText } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { variedInput } from '../../test/runtime/helpers.js';
import { inputHwc, onnxFromInt8Graph } from './onnx-from-graph.js';
import {
  CONFIGS,
  alternate,
  loadOrt,
  methodText,
  option,
  ortOptions,
  peerTable,
  reportChild,
  steady,
  type Measured,
  type Ort,
} from './peer-harness.js';

const argv = process.argv.slice(2);
const MODEL = option('--model', join(homedir(), '.cache/tfjs-quant/zoo/nsfwjs/mobilenet_v2'));
const WORK = option('--work', '/tmp/tfjs-quant-peers-published');
const ROUNDS = Number(option('--rounds', '4'));
const TIME = Number(option('--time', '1'));
const root = fileURLToPath(new URL('../..', import.meta.url));
const converted = (mode: string) => join(WORK, mode, 'model.json');

type EngineId = 'ours-int8' | 'ours-dynamic' | 'ort-int8';
const NAMES: Record<EngineId, string> = {
  'ours-int8': 'ours int8',
  'ours-dynamic': 'ours dynamic',
  'ort-int8': 'onnxruntime int8 (QLinearConv, same integers)',
};

function inputsFor(hwc: number[]): { x1: tf.Tensor; x8: tf.Tensor } {
  return { x1: variedInput([1, ...hwc], 1), x8: variedInput([8, ...hwc], 2) };
}

const nchw = (x: tf.Tensor) => tf.tidy(() => x.transpose([0, 3, 1, 2]).dataSync() as Float32Array);

async function ortSession(ort: Ort, bytes: Uint8Array, threads: number) {
  return ort.InferenceSession.create(bytes, ortOptions(threads));
}

/** Child process: one engine, every configuration, one JSON line on stdout. */
async function child(id: EngineId): Promise<void> {
  await initFloatBackend('wasm');
  const out: Measured[] = [];
  const g = await loadModel(converted('int8'));
  const [h, w, c] = inputHwc(g, [224, 224]);
  const { x1, x8 } = inputsFor([h, w, c]);
  if (id === 'ort-int8') {
    const ort = loadOrt();
    if (!ort) throw new Error('onnxruntime-node is not installed');
    const ex = onnxFromInt8Graph(g, [224, 224]);
    const o1 = new ort.Tensor('float32', nchw(x1), [1, c, h, w]),
      o8 = new ort.Tensor('float32', nchw(x8), [8, c, h, w]);
    for (const threads of [1, 2]) {
      const s = await ortSession(ort, ex.bytes, threads);
      for (const cf of CONFIGS.filter((cf) => cf.threads === threads))
        out.push({ ...cf, ...(await steady(() => s.run({ input: cf.batch === 1 ? o1 : o8 }), TIME)) });
      await s.release();
    }
  } else {
    const file = converted(id === 'ours-int8' ? 'int8' : 'dynamic');
    const name = g.inputs[0]!.name;
    const feed = (x: tf.Tensor) => ({ [name]: { data: x.dataSync() as Float32Array, shape: x.shape } });
    const f1 = feed(x1),
      f8 = feed(x8);
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(file, { threads });
      for (const cf of CONFIGS.filter((cf) => cf.threads === threads))
        out.push({ ...cf, ...(await steady(() => s.run(cf.batch === 1 ? f1 : f8), TIME)) });
      s.dispose();
    }
  }
  tf.dispose([x1, x8]);
  reportChild(getIsa(), out);
}

/** The two int8 engines on the same 8 inputs: largest output difference and top-1 agreement. */
async function agreement(ort: Ort): Promise<string> {
  const g = await loadModel(converted('int8'));
  const ex = onnxFromInt8Graph(g, [224, 224]);
  const { x8 } = inputsFor(ex.inputShape);
  const [h, w, c] = ex.inputShape as [number, number, number];
  const s = await ortSession(ort, ex.bytes, 1);
  const yo = Object.values(await s.run({ input: new ort.Tensor('float32', nchw(x8), [8, c, h, w]) }))[0]!.data;
  await s.release();
  const ours = await InferenceSession.create(converted('int8'), { threads: 1 });
  const res = await ours.run({ [g.inputs[0]!.name]: { data: x8.dataSync() as Float32Array, shape: x8.shape } });
  ours.dispose();
  x8.dispose();
  const yr = Object.values(res)[0]!.data as Float32Array;
  const cols = yr.length / 8;
  let maxDiff = 0,
    same = 0;
  const argmax = (y: ArrayLike<number>, r: number) => {
    let best = 0;
    for (let j = 1; j < cols; j++) if (y[r * cols + j]! > y[r * cols + best]!) best = j;
    return best;
  };
  for (let i = 0; i < yr.length; i++) maxDiff = Math.max(maxDiff, Math.abs(yr[i]! - yo[i]!));
  for (let r = 0; r < 8; r++) if (argmax(yr, r) === argmax(yo, r)) same++;
  return (
    `Same integers, same inputs (8 image-like inputs, batch 8): largest difference between the two engines' outputs ${maxDiff.toFixed(4)} ` +
    `(our int8 softmax has steps of 1/256 = 0.0039; ORT's softmax is float), top-1 agreement ${same}/8. ` +
    `The ONNX model has ${(ex.macs / 1e6).toFixed(0)} MMAC per image.`
  );
}

function convert(mode: 'int8' | 'dynamic'): string {
  const args = [
    '--import',
    'tsx',
    join(root, 'src/cli/entry.ts'),
    'convert',
    MODEL,
    '-o',
    join(WORK, mode),
    '--mode',
    mode,
    '--no-guard',
    '--samples',
    '8',
    '--eval-samples',
    '0',
  ];
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: root });
  return `tfjs-quant convert ${MODEL.replace(homedir(), '~')} -o <work>/${mode} --mode ${mode} --no-guard --samples 8 --eval-samples 0`;
}

async function main(): Promise<void> {
  const ort = loadOrt();
  if (!ort) throw new Error('onnxruntime-node is not installed (see bench/models/peers.ts)');
  mkdirSync(WORK, { recursive: true });
  const commands = [convert('int8'), convert('dynamic')];
  await initFloatBackend('wasm');
  const agree = await agreement(ort);
  process.stdout.write(agree + '\n');
  const ids: EngineId[] = ['ours-int8', 'ours-dynamic', 'ort-int8'];
  const self = fileURLToPath(import.meta.url);
  const passOn = ['--model', MODEL, '--work', WORK, '--time', String(TIME)];
  const { rows, loads, isa } = alternate(self, ids, NAMES, ROUNDS, passOn);
  const table = peerTable(rows);
  process.stdout.write('\n' + toText(table));
  const cpu = cpuInfo();
  const ortVersion = ort.env.versions.node ?? ort.env.versions.common ?? '';
  const md = [
    '# A published model against ONNX Runtime (bench/models/peers-published.ts)',
    '',
    `Command: \`npx tsx bench/models/peers-published.ts${argv.length ? ' ' + argv.join(' ') : ''}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    `Machine: ${cpu.brand || cpu.vendor} (${cpu.availableCores} cores available, our kernel path ${isa}). ONNX Runtime: onnxruntime-node ${ortVersion} (CPU execution provider, MLAS; graph optimization "all", sequential, intra-op threads = the row's threads).`,
    '',
    `Model: \`${MODEL.replace(homedir(), '~')}\` (nsfwjs's published MobileNetV2 classifier unless --model says otherwise), converted by the CLI: ${commands.map((c) => `\`${c}\``).join('; ')}. ` +
      'ORT runs the int8 file written as ONNX by bench/models/onnx-from-graph.ts: the same per-channel int8 weights and calibrated activation parameters (uint8 codes = ours + 128), as QuantizeLinear → QLinearConv (fused ReLU/ReLU6 as the output range) → QLinearAdd → QLinearGlobalAveragePool → QLinearConv for the dense layers → DequantizeLinear → Softmax, the graph ORT makes of a QDQ model when it fuses it. ' +
      'Inputs: synthetic image-like pictures (ORT reads them NCHW, transposed once outside the timing).',
    '',
    agree,
    '',
    methodText(ROUNDS, TIME, loads, cpu.availableCores),
    '',
    toMarkdown(table),
  ].join('\n');
  writeFileSync(join(dirname(self), 'RESULTS-peers-published.md'), md);
}

const childAt = argv.indexOf('--child');
(childAt >= 0 ? child(argv[childAt + 1] as EngineId) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
