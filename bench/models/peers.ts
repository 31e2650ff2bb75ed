// ONNX Runtime (onnxruntime-node, its MLAS int8 and float32 CPU kernels) against our runtime on
// the MobileNetV2-style 224 graph, batch 1 and batch 8, 1 and 2 threads, measured the way a
// server sees it: each engine alone in its own process (no other engine's thread pool alive
// next to it), in steady state (back-to-back runs after a warm-up), the processes alternated
// ROUNDS times (default 4, engine order rotated each round), and the min–max of the per-process
// medians reported beside their median. Timing every engine interleaved in one process (what
// this script did before) slowed ONNX Runtime by up to 2× and ours by 1.5×.
//
// onnxruntime-node is not a dependency of the package (60 MB, and its install script fetches
// extra files from nuget.org). Install it next to the checkout without saving it:
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node@1.30.0
// or anywhere else and point ORT_DIR at the directory whose node_modules holds it. Without it
// the ORT rows are left out.
//   Run: npx tsx bench/models/peers.ts [--quick] [--rounds N] [--time S] [--wasm]
//   (--wasm adds tfjs-wasm float32 at 1 thread, batch 1 only: slow; --time: seconds of timed
//   back-to-back runs per configuration and process, default 1)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { toMarkdown, toText } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';
import { quantize } from '../../src/quant/quantize.js';
import { mobileNetV2 } from './models.js';
import { GraphWriter, onnxMobileNetV2Float, onnxMobileNetV2Int8, onnxMobileNetV2Macs, valueInfo } from './onnx.js';
import { gemm, packWeights } from '../../src/kernels/gemm.js';
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
const quick = argv.includes('--quick');
const opt = (name: string, dflt: number) => Number(option(name, String(dflt)));
const ROUNDS = opt('--rounds', quick ? 2 : 4);
const TIME = opt('--time', quick ? 0.3 : 1);
/**
 * The same 1×1 QLinearConv on inputs that make 16-bit pair sums overflow (x = 255, w = 127,
 * K = 64: 255·127·2 > 32767): the exact output next to ONNX Runtime's and ours (our GEMM on the
 * same integers, requantized the same way). ORT's x86 U8S8 kernels multiply with VPMADDUBSW,
 * which saturates such pairs; ours widen to 16 bits first (docs/gemm.md).
 */
async function saturationProbe(ort: Ort): Promise<string> {
  const K = 64,
    N = 16,
    sy = 20000;
  const w = new GraphWriter(1);
  const wt = w.init('w', 'int8', [N, K, 1, 1], new Int8Array(K * N).fill(127));
  const y = w.node(
    'QLinearConv',
    [
      'x',
      w.scalarF(1),
      w.scalarU8(0),
      wt,
      w.init('ws', 'float', [N], new Float32Array(N).fill(1)),
      w.init('wz', 'int8', [N], new Int8Array(N)),
      w.scalarF(sy),
      w.scalarU8(0),
    ],
    { kernel_shape: [1, 1] },
  );
  const s = await ort.InferenceSession.create(
    w.model(valueInfo('x', 'uint8', [1, K, 4, 4]), valueInfo(y, 'uint8', [1, N, 4, 4])),
    { graphOptimizationLevel: 'all' },
  );
  const x = new Uint8Array(K * 16).fill(255);
  const r = await s.run({ x: new ort.Tensor('uint8', x, [1, K, 4, 4]) });
  const ortY = (Object.values(r)[0] as unknown as { data: Uint8Array }).data[0];
  await s.release();
  const p = packWeights(new Int8Array(K * N).fill(127), { k: K, n: N });
  const ours = gemm(x.subarray(0, K), p, {
    m: 1,
    aZeroPoint: 0,
    output: 'uint8',
    multiplier: 1 / sy,
    outZeroPoint: 0,
  })[0];
  p.dispose();
  const exact = Math.min(255, Math.round((K * 255 * 127) / sy));
  const why =
    ortY === exact
      ? 'ONNX Runtime is exact on this CPU (its VNNI kernels sum four products into int32 without saturating), like ours.'
      : "ONNX Runtime's U8S8 kernels on AVX2 multiply with VPMADDUBSW, whose 16-bit pair sums saturate (255·127·2 > 32767); ours widen both operands to 16 bits first, so every input gives the exact result (docs/gemm.md).";
  return `Exactness probe (1×1 QLinearConv, x = 255, w = 127, K = 64, output scale ${sy}): exact ${exact}, ONNX Runtime ${ortY}, ours ${ours}. ${why}`;
}

type EngineId = 'ours-int8' | 'ours-dynamic' | 'ort-int8' | 'ort-int8-exact' | 'ort-f32' | 'tfjs-wasm';
const ENGINE_NAMES: Record<EngineId, string> = {
  'ours-int8': 'ours int8',
  'ours-dynamic': 'ours dynamic',
  'ort-int8': 'onnxruntime int8 (QLinearConv)',
  'ort-int8-exact': 'onnxruntime int8, uint8 weights (exact)',
  'ort-f32': 'onnxruntime float32',
  'tfjs-wasm': 'tfjs-wasm float32',
};
/** Child process: one engine, every configuration it runs, one JSON line on stdout. */
async function child(id: EngineId): Promise<void> {
  const x1 = variedInput([1, 224, 224, 3], 1),
    x8 = variedInput([8, 224, 224, 3], 2);
  const out: Measured[] = [];
  const configs = id === 'tfjs-wasm' ? [{ threads: 1, batch: 1 as const }] : CONFIGS;
  if (id === 'ours-int8' || id === 'ours-dynamic') {
    await initFloatBackend('wasm');
    const calib = variedInput([8, 224, 224, 3], 3);
    const f = await graphOf(mobileNetV2(224, 1, 1000));
    // Dynamic as a conversion makes it (quantize's defaults: per-row ranges, narrow layers float).
    const g =
      id === 'ours-int8'
        ? await quantized(f, calib, 'int8')
        : (await quantize(f, { mode: 'dynamic', report: false, optimize: false })).graph;
    calib.dispose();
    const feed = (x: tf.Tensor) => ({ [g.inputs[0]!.name]: { data: x.dataSync() as Float32Array, shape: x.shape } });
    const f1 = feed(x1),
      f8 = feed(x8);
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { threads });
      for (const c of configs.filter((c) => c.threads === threads))
        out.push({ ...c, ...(await steady(() => s.run(c.batch === 1 ? f1 : f8), TIME)) });
      s.dispose();
    }
  } else if (id === 'tfjs-wasm') {
    await initFloatBackend('wasm');
    const model = mobileNetV2(224, 1, 1000);
    out.push({
      threads: 1,
      batch: 1,
      ...(await steady(async () => {
        const y = model.predict(x1) as tf.Tensor;
        await y.data();
        y.dispose();
      }, TIME)),
    });
  } else {
    const ort = loadOrt();
    if (!ort) throw new Error('onnxruntime-node is not installed');
    const bytes =
      id === 'ort-int8'
        ? onnxMobileNetV2Int8()
        : id === 'ort-int8-exact'
          ? onnxMobileNetV2Int8(21, 'uint8')
          : onnxMobileNetV2Float();
    const nchw = (x: tf.Tensor) => tf.tidy(() => x.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    const o1 = new ort.Tensor('float32', nchw(x1), [1, 3, 224, 224]),
      o8 = new ort.Tensor('float32', nchw(x8), [8, 3, 224, 224]);
    for (const threads of [1, 2]) {
      const s = await ort.InferenceSession.create(bytes, ortOptions(threads));
      for (const c of configs.filter((c) => c.threads === threads))
        out.push({ ...c, ...(await steady(() => s.run({ input: c.batch === 1 ? o1 : o8 }), TIME)) });
      await s.release();
    }
  }
  tf.dispose([x1, x8]);
  reportChild(getIsa(), out);
}

async function main(): Promise<void> {
  const cpu = cpuInfo();
  const ort = loadOrt();
  const ids: EngineId[] = ['ours-int8', 'ours-dynamic'];
  if (ort) ids.push('ort-int8', 'ort-int8-exact', 'ort-f32');
  else process.stdout.write('onnxruntime-node is not installed: ORT rows left out (see the header of this file)\n');
  if (argv.includes('--wasm')) ids.push('tfjs-wasm');
  const self = fileURLToPath(import.meta.url);
  const { rows, loads, isa } = alternate(self, ids, ENGINE_NAMES, ROUNDS, ['--time', String(TIME)]);
  const probe = ort ? await saturationProbe(ort) : '';
  const ortVersion = ort ? (ort.env.versions.node ?? ort.env.versions.common ?? '') : '';
  const gmac = onnxMobileNetV2Macs() / 1e9;
  const table = peerTable(rows);
  process.stdout.write('\n' + toText(table));
  const cmd = `npx tsx bench/models/peers.ts${argv.length ? ' ' + argv.join(' ') : ''}`;
  const md = [
    '# MobileNetV2-style 224 against ONNX Runtime (bench/models/peers.ts)',
    '',
    `Command: \`${cmd}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    `Machine: ${cpu.brand || cpu.vendor} (${cpu.availableCores} cores available, our kernel path ${isa}). ` +
      (ort
        ? `ONNX Runtime: onnxruntime-node ${ortVersion} (CPU execution provider, MLAS; graph optimization "all", sequential, intra-op threads = the row's threads).`
        : 'ONNX Runtime: not installed for this run.') +
      (ids.includes('tfjs-wasm') ? ` tfjs row: ${describeFloatBackend('wasm')}.` : ''),
    '',
    methodText(ROUNDS, TIME, loads, cpu.availableCores),
    '',
    `Models: ours = bench/models/models.ts mobileNetV2(224) quantized by PTQ (int8: per-channel weights, calibrated on 8 inputs; dynamic: §12.4 with quantize's defaults, per-row ranges and layers with K < 64 float); ` +
      `ORT = the same layer list written as ONNX by bench/models/onnx.ts (${(gmac * 1000).toFixed(0)} MMAC per image): int8 as QuantizeLinear → QLinearConv (uint8 activations, per-channel int8 weights, ReLU6 folded into the output range) → QLinearAdd → QLinearGlobalAveragePool → QLinearMatMul ` +
      '(int8 weights: ORT\'s U8S8 kernels); "uint8 weights (exact)" = the same values + 128 as uint8 with zero point 128 (ORT\'s U8U8 kernels); float32 as Conv + Clip + Add. ' +
      'ORT reads NCHW input (the same images, transposed once outside the timing). Weights are random: timing does not depend on them.',
    '',
    toMarkdown(table),
    ...(probe ? [probe, ''] : []),
  ].join('\n');
  writeFileSync(join(dirname(self), 'RESULTS-peers.md'), md);
}

const childAt = argv.indexOf('--child');
(childAt >= 0 ? child(argv[childAt + 1] as EngineId) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
