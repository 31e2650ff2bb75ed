// The issue-5 peer on this machine: ONNX Runtime (onnxruntime-node, its MLAS int8 and float32
// CPU kernels) against our runtime and tfjs-wasm on the MobileNetV2-style 224 graph, side by
// side in one run (interleaved round by round), batch 1 and batch 8, 1 and 2 threads.
// The targets were set from ONNX Runtime on an AVX-512 VNNI machine; this measures
// the same engine on whatever machine runs the script.
//
// onnxruntime-node is not a dependency of the package (60 MB, and its install script fetches
// extra files from nuget.org). Install it next to the checkout without saving it:
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node@1.30.0
// or anywhere else and point ORT_DIR at the directory whose node_modules holds it. Without it
// the ORT rows are left out.
//   Run: npx tsx bench/models/peers.ts [--quick]
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { median, toMarkdown, toText, type Table } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf, quantized, variedInput } from '../../test/runtime/helpers.js';
import { mobileNetV2 } from './models.js';
import { GraphWriter, onnxMobileNetV2Float, onnxMobileNetV2Int8, onnxMobileNetV2Macs, valueInfo } from './onnx.js';
import { gemm, packWeights } from '../../src/kernels/gemm.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 5 : 25;

interface OrtTensor { dims: readonly number[]; data: Float32Array }
interface OrtSession { run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensor>>; release(): Promise<void> }
interface Ort {
  env: { versions: Record<string, string> };
  InferenceSession: { create(model: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array | Uint8Array, dims: number[]) => unknown;
}

function loadOrt(): Ort | undefined {
  const dirs = [process.env.ORT_DIR, process.cwd()].filter((d): d is string => !!d);
  for (const base of [...dirs.map((d) => join(d, 'x.js')), fileURLToPath(import.meta.url)]) {
    try {
      return createRequire(base)('onnxruntime-node') as Ort;
    } catch {
      // not installed here
    }
  }
  return undefined;
}

/**
 * The same 1×1 QLinearConv on inputs that make 16-bit pair sums overflow (x = 255, w = 127,
 * K = 64: 255·127·2 > 32767): the exact output next to ONNX Runtime's and ours (our GEMM on the
 * same integers, requantized the same way). ORT's x86 U8S8 kernels multiply with VPMADDUBSW,
 * which saturates such pairs; ours widen to 16 bits first (docs/gemm.md).
 */
async function saturationProbe(ort: Ort): Promise<string> {
  const K = 64, N = 16, sy = 20000;
  const w = new GraphWriter(1);
  const wt = w.init('w', 'int8', [N, K, 1, 1], new Int8Array(K * N).fill(127));
  const y = w.node('QLinearConv', ['x', w.scalarF(1), w.scalarU8(0), wt, w.init('ws', 'float', [N], new Float32Array(N).fill(1)),
    w.init('wz', 'int8', [N], new Int8Array(N)), w.scalarF(sy), w.scalarU8(0)], { kernel_shape: [1, 1] });
  const s = await ort.InferenceSession.create(w.model(valueInfo('x', 'uint8', [1, K, 4, 4]), valueInfo(y, 'uint8', [1, N, 4, 4])), { graphOptimizationLevel: 'all' });
  const x = new Uint8Array(K * 16).fill(255);
  const r = await s.run({ x: new ort.Tensor('uint8', x, [1, K, 4, 4]) });
  const ortY = (Object.values(r)[0] as unknown as { data: Uint8Array }).data[0];
  await s.release();
  const p = packWeights(new Int8Array(K * N).fill(127), { k: K, n: N });
  const ours = gemm(x.subarray(0, K), p, { m: 1, aZeroPoint: 0, output: 'uint8', multiplier: 1 / sy, outZeroPoint: 0 })[0];
  p.dispose();
  const exact = Math.min(255, Math.round((K * 255 * 127) / sy));
  return `Exactness probe (1×1 QLinearConv, x = 255, w = 127, K = 64, output scale ${sy}): exact ${exact}, ONNX Runtime ${ortY}, ours ${ours}. ` +
    'ONNX Runtime\'s U8S8 kernels on AVX2 multiply with VPMADDUBSW, whose 16-bit pair sums saturate (255·127·2 > 32767); ours widen both operands to 16 bits first, so every input gives the exact result (docs/gemm.md).';
}

interface Engine { engine: string; threads: number; run: (b: 1 | 8) => Promise<unknown>; t1: number[]; t8: number[]; dispose?: () => unknown }
interface Row { engine: string; threads: number; b1: number; b8: number; vsWasm1: number; vsWasm8: number; vsOrt1?: number; vsOrt8?: number; vsExact1?: number }

async function main(): Promise<void> {
  const backend = await initFloatBackend('wasm');
  const cpu = cpuInfo();
  const ort = loadOrt();
  const model = mobileNetV2(224, 1, 1000);
  const x1 = variedInput([1, 224, 224, 3], 1), x8 = variedInput([8, 224, 224, 3], 2);
  const calib = variedInput([8, 224, 224, 3], 3);
  const gInt8 = await quantized(await graphOf(model), calib, 'int8');
  const gDyn = await quantized(await graphOf(model), calib, 'dynamic');
  calib.dispose();
  const feed = (x: tf.Tensor) => ({ [gInt8.inputs[0]!.name]: { data: x.dataSync() as Float32Array, shape: x.shape } });
  const f1 = feed(x1), f8 = feed(x8);

  const engines: Engine[] = [{
    engine: 'tfjs-wasm float32', threads: 1, t1: [], t8: [],
    run: async (b) => { const y = model.predict(b === 1 ? x1 : x8) as tf.Tensor; await y.data(); y.dispose(); },
  }];
  for (const [engine, g] of [['ours int8', gInt8], ['ours dynamic', gDyn]] as const) {
    for (const threads of [1, 2]) {
      const s = await InferenceSession.create(g, { threads });
      engines.push({ engine, threads, t1: [], t8: [], run: (b) => s.run(b === 1 ? f1 : f8), dispose: () => s.dispose() });
    }
  }
  let ortVersion = '';
  let probe = '';
  if (ort) {
    probe = await saturationProbe(ort);
    process.stdout.write(probe + '\n');
    ortVersion = ort.env.versions.node ?? ort.env.versions.common ?? '';
    // NCHW inputs of the same images.
    const nchw = (x: tf.Tensor) => tf.tidy(() => x.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    const o1 = new ort.Tensor('float32', nchw(x1), [1, 3, 224, 224]), o8 = new ort.Tensor('float32', nchw(x8), [8, 3, 224, 224]);
    const models = [
      ['onnxruntime int8 (QLinearConv)', onnxMobileNetV2Int8()],
      ['onnxruntime int8, uint8 weights (exact)', onnxMobileNetV2Int8(21, 'uint8')],
      ['onnxruntime float32', onnxMobileNetV2Float()],
    ] as const;
    for (const [engine, bytes] of models) {
      for (const threads of [1, 2]) {
        const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
        engines.push({ engine, threads, t1: [], t8: [], run: (b) => s.run({ input: b === 1 ? o1 : o8 }), dispose: () => s.release() });
      }
    }
  } else {
    process.stdout.write('onnxruntime-node is not installed: ORT rows left out (see the header of this file)\n');
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const e of engines) {
      if (round === 0) { await e.run(1); await e.run(8); }
      // As in run.ts: 1-thread rows start after the pool worker stopped spinning; 2-thread rows
      // follow an untimed call (a stream of requests).
      if (e.threads === 1) await new Promise((r) => setTimeout(r, 3));
      else await e.run(1);
      let t = performance.now();
      await e.run(1);
      e.t1.push(performance.now() - t);
      t = performance.now();
      await e.run(8);
      e.t8.push(performance.now() - t);
    }
    process.stdout.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  const wasm = engines[0]!;
  const w1 = median(wasm.t1), w8 = median(wasm.t8);
  const ortRow = (name: string, threads: number) => engines.find((e) => e.engine === name && e.threads === threads);
  const rows: Row[] = engines.map((e) => {
    const b1 = median(e.t1), b8 = median(e.t8);
    const peer = ortRow('onnxruntime int8 (QLinearConv)', e.threads), exact = ortRow('onnxruntime int8, uint8 weights (exact)', e.threads);
    return {
      engine: e.engine, threads: e.threads, b1, b8, vsWasm1: w1 / b1, vsWasm8: w8 / b8,
      ...(peer ? { vsOrt1: median(peer.t1) / b1, vsOrt8: median(peer.t8) / b8 } : {}),
      ...(exact ? { vsExact1: median(exact.t1) / b1 } : {}),
    };
  });
  for (const e of engines) await e.dispose?.();
  tf.dispose([x1, x8]);
  const gmac = onnxMobileNetV2Macs() / 1e9;
  const table: Table<Row> = {
    columns: [
      { header: 'engine', value: (r) => r.engine },
      { header: 'threads', value: (r) => r.threads },
      { header: 'batch 1 ms (median)', value: (r) => r.b1, digits: 2 },
      { header: 'batch 8 ms (median)', value: (r) => r.b8, digits: 1 },
      { header: '× tfjs-wasm b1', value: (r) => r.vsWasm1, digits: 1 },
      { header: '× tfjs-wasm b8', value: (r) => r.vsWasm8, digits: 1 },
      { header: '× ORT int8 b1 (same threads)', value: (r) => r.vsOrt1, digits: 2 },
      { header: '× ORT int8 b8', value: (r) => r.vsOrt8, digits: 2 },
      { header: '× ORT exact int8 b1', value: (r) => r.vsExact1, digits: 2 },
      { header: 'GOPS b1', value: (r) => (2 * gmac) / (r.b1 / 1000), digits: 1 },
    ],
    rows,
  };
  process.stdout.write('\n' + toText(table));
  const md = [
    '# MobileNetV2-style 224 against the issue-5 peer (bench/models/peers.ts)',
    '',
    `Command: \`npx tsx bench/models/peers.ts${quick ? ' --quick' : ''}\` — ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Machine: ${cpu.brand || cpu.vendor} (${cpu.availableCores} cores, our kernel path ${getIsa()}). tfjs rows: ${describeFloatBackend(backend)}. ` +
      (ort ? `ONNX Runtime: onnxruntime-node ${ortVersion} (CPU execution provider, MLAS; graph optimization "all", sequential, intra-op threads = the row's threads).` : 'ONNX Runtime: not installed for this run.'),
    '',
    `Models: ours = bench/models/models.ts mobileNetV2(224) quantized by PTQ (int8: per-channel weights, calibrated on 8 inputs; dynamic: §12.4); ` +
      `ORT = the same layer list written as ONNX by bench/models/onnx.ts (${(gmac * 1000).toFixed(0)} MMAC per image): int8 as QuantizeLinear → QLinearConv (uint8 activations, per-channel int8 weights, ReLU6 folded into the output range) → QLinearAdd → QLinearGlobalAveragePool → QLinearMatMul, the "QLinearConv, per-channel weights" model of the issue (int8 weights: ORT's U8S8 kernels, which saturate on AVX2 — see the probe below); "uint8 weights (exact)" = the same values + 128 as uint8 with zero point 128 (ORT's U8U8 kernels, exact like ours); float32 as Conv + Clip + Add. ` +
      'ORT reads NCHW input (the same images, transposed once outside the timing). Weights are random: timing does not depend on them.',
    '',
    `Median of ${ROUNDS} interleaved rounds (each engine: one batch-1 and one batch-8 call per round; a 2-thread row follows an untimed call).`,
    '',
    toMarkdown(table),
    ...(probe ? [probe, ''] : []),
  ].join('\n');
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-peers.md'), md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
