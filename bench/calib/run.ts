// Post-training quantization figures, written to bench/calib/RESULTS-calib.md:
//  1. Calibration memory: peak RSS (process.resourceUsage().maxRSS of a fresh child process per
//     run) of calibrate() over 100 vs 1000 streamed MNIST samples, per observer; the ratio must
//     stay within 1.5× (histograms are fixed-size, activations are dropped after each batch).
//  2. LeNet-300-100 and LeNet-5 trained here on the `mnist` package (8,000 / 2,000 split):
//     top-1 accuracy, agreement with float and saved size for int8 (each observer), dynamic
//     and float16. int8/dynamic numbers are the §12 simulation (the native runtime's numerics).
// Run: npx tsx bench/calib/run.ts [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFloatBackend, initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet300100, buildLeNet5, loadMnist, trainModel } from '../../src/data/index.js';
import { loadModel, optimize, saveNative, saveTfjs, type Graph } from '../../src/model/index.js';
import { saveLayersToMemory } from '../../test/support/model-fixtures.js';
import { calibrate } from '../../src/quant/calibrate.js';
import { OBSERVER_KINDS, type ObserverKind } from '../../src/quant/observers.js';
import { floatPredict, quantize, simulatedPredict, top1Agreement } from '../../src/quant/quantize.js';
import { formatBytes, median, toMarkdown, toText, type Table } from '../../src/report/table.js';
import { registerNativeTrainingKernels } from '../../src/train/kernels.js';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

// ---- child: one calibration run, prints {maxRssKiB, samples}
async function child(samples: number, observer: ObserverKind): Promise<void> {
  await initFloatBackend();
  const g = await loadModel(await saveLayersToMemory(buildLeNet5({ seed: 1 })));
  const mnist = loadMnist({ trainSize: 8000, testSize: 2000 });
  const batch = 10;
  async function* stream() {
    let prev: tf.Tensor | undefined;
    for (let i = 0; i < samples; i += batch) {
      prev?.dispose();
      prev = mnist.xTrain.slice([i % 8000, 0, 0, 0], [batch, 28, 28, 1]);
      yield prev;
    }
    prev?.dispose();
  }
  const r = await calibrate(optimize(g), stream(), { observer });
  mnist.dispose();
  process.stdout.write(
    JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, samples: r.samples, tensors: r.ranges.size }) + '\n',
  );
}

function runChild(samples: number, observer: ObserverKind): number {
  const p = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(samples), observer],
    {
      encoding: 'utf8',
      env: process.env,
      maxBuffer: 1 << 20,
    },
  );
  if (p.status !== 0) throw new Error(`child failed (${p.status}): ${p.stderr}`);
  const line = p.stdout.trim().split('\n').pop()!;
  const r = JSON.parse(line) as { maxRssKiB: number; samples: number };
  if (r.samples !== samples) throw new Error(`child calibrated ${r.samples} samples, expected ${samples}`);
  return r.maxRssKiB * 1024;
}

async function dirBytes(d: string): Promise<number> {
  let t = 0;
  for (const f of await readdir(d)) t += (await stat(join(d, f))).size;
  return t;
}

async function main(): Promise<void> {
  const backend = await initFloatBackend();
  registerNativeTrainingKernels();
  const lines: string[] = [];
  const say = (s: string) => {
    console.log(s);
    lines.push(s);
  };

  // ---- 1. memory
  const repeats = quick ? 1 : 3;
  interface MemRow {
    observer: string;
    rss100: number;
    rss1000: number;
    ratio: number;
  }
  const mem: MemRow[] = [];
  for (const obs of quick ? (['minmax', 'entropy'] as ObserverKind[]) : OBSERVER_KINDS) {
    const a: number[] = [],
      b: number[] = [];
    for (let r = 0; r < repeats; r++) {
      // interleaved: 100, 1000, 100, 1000 …
      a.push(runChild(100, obs));
      b.push(runChild(1000, obs));
    }
    const rss100 = median(a),
      rss1000 = median(b);
    mem.push({ observer: obs, rss100, rss1000, ratio: rss1000 / rss100 });
    console.log(`memory ${obs}: ${formatBytes(rss100)} → ${formatBytes(rss1000)}`);
  }
  const memTable: Table<MemRow> = {
    columns: [
      { header: 'observer', value: (r) => r.observer },
      { header: 'peak RSS, 100 samples', value: (r) => formatBytes(r.rss100), align: 'right' },
      { header: 'peak RSS, 1000 samples', value: (r) => formatBytes(r.rss1000), align: 'right' },
      { header: '1000 / 100', value: (r) => r.ratio, digits: 3 },
    ],
    rows: mem,
  };
  console.log(toText(memTable));

  // ---- 2. accuracy / agreement / size
  const mnist = loadMnist({ trainSize: 8000, testSize: 2000 });
  const tmp = await mkdtemp(join(tmpdir(), 'bench-calib-'));
  interface AccRow {
    model: string;
    form: string;
    accuracy: number;
    agreement: number;
    bytes: number;
    ratio: number;
    seconds: number;
  }
  const acc: AccRow[] = [];
  try {
    for (const [name, build, epochs] of [
      ['LeNet-300-100', buildLeNet300100, quick ? 1 : 3],
      ['LeNet-5', buildLeNet5, quick ? 1 : 2],
    ] as const) {
      const m = build({ seed: 1 });
      const t0 = performance.now();
      await trainModel(m, mnist.xTrain, mnist.yTrain, { epochs, optimizer: 'adam', batchSize: 64, seed: 1 });
      console.log(`${name}: trained ${epochs} epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const g = await loadModel(await saveLayersToMemory(m));
      m.dispose();
      const ref = optimize(g);
      const input = ref.inputs[0]!.name;
      const test = Array.from({ length: 4 }, (_, i) => ({
        [input]: mnist.xTest.slice([i * 500, 0, 0, 0], [500, 28, 28, 1]),
      }));
      const refOut = test.map(floatPredict(ref));
      const accuracy = (outs: Float32Array[]) => {
        let ok = 0;
        outs.forEach((o, b) => {
          for (let i = 0; i < 500; i++) {
            let k = 0;
            for (let j = 1; j < 10; j++) if (o[i * 10 + j]! > o[i * 10 + k]!) k = j;
            if (k === mnist.labelsTest[b * 500 + i]) ok++;
          }
        });
        return ok / 2000;
      };
      const floatDir = join(tmp, `${name}-float`);
      await saveNative(ref, floatDir);
      const floatBytes = await dirBytes(floatDir);
      acc.push({
        model: name,
        form: 'float32',
        accuracy: accuracy(refOut),
        agreement: 1,
        bytes: floatBytes,
        ratio: 1,
        seconds: 0,
      });
      const calib = Array.from({ length: 16 }, (_, i) => mnist.xTrain.slice([i * 32, 0, 0, 0], [32, 28, 28, 1]));
      const forms: { form: string; run: () => Promise<Graph>; sim: boolean; tfjs?: boolean }[] = [
        ...OBSERVER_KINDS.map((o) => ({
          form: `int8 (${o})`,
          sim: true,
          run: async () => (await quantize(g, { mode: 'int8', calibration: calib, observer: o, report: false })).graph,
        })),
        {
          form: 'int8 (minmax, per-tensor weights)',
          sim: true,
          run: async () =>
            (await quantize(g, { mode: 'int8', calibration: calib, perChannel: false, report: false })).graph,
        },
        {
          form: 'int8 (minmax, bias correction)',
          sim: true,
          run: async () =>
            (await quantize(g, { mode: 'int8', calibration: calib, biasCorrection: true, report: false })).graph,
        },
        { form: 'dynamic (per row)', sim: true, run: async () => (await quantize(g, { mode: 'dynamic' })).graph },
        {
          form: 'dynamic (per tensor)',
          sim: true,
          run: async () => (await quantize(g, { mode: 'dynamic', dynamicGranularity: 'tensor' })).graph,
        },
        {
          form: 'float16 (tfjs format)',
          sim: false,
          tfjs: true,
          run: async () => (await quantize(g, { mode: 'float16' })).graph,
        },
      ];
      for (const f of forms) {
        const t1 = performance.now();
        const q = await f.run();
        const seconds = (performance.now() - t1) / 1000;
        const outs = test.map(f.sim ? simulatedPredict(q) : floatPredict(q));
        const agreement = outs.reduce((a, o, i) => a + top1Agreement(o, refOut[i]!, 10), 0) / outs.length;
        const d = join(tmp, `${name}-${f.form.replace(/\W+/g, '_')}`);
        let bytes: number;
        if (f.tfjs) {
          const fd = join(tmp, `${name}-tfjs-float`);
          await saveTfjs(ref, fd);
          await saveTfjs(q, d, { quantize: 'float16' });
          bytes = ((await dirBytes(d)) * floatBytes) / (await dirBytes(fd)); // ratio measured tfjs vs tfjs, shown against the native float size
        } else {
          await saveNative(q, d);
          bytes = await dirBytes(d);
        }
        acc.push({
          model: name,
          form: f.form,
          accuracy: accuracy(outs),
          agreement,
          bytes,
          ratio: floatBytes / bytes,
          seconds,
        });
        console.log(
          `${name} ${f.form}: acc ${accuracy(outs).toFixed(4)} agreement ${agreement.toFixed(4)} ratio ${(floatBytes / bytes).toFixed(2)}`,
        );
      }
      calib.forEach((t) => t.dispose());
      test.forEach((x) => Object.values(x).forEach((t) => t.dispose()));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    mnist.dispose();
  }
  const accTable: Table<AccRow> = {
    columns: [
      { header: 'model', value: (r) => r.model },
      { header: 'form', value: (r) => r.form },
      { header: 'top-1 accuracy', value: (r) => r.accuracy * 100, digits: 2 },
      { header: 'agreement with float %', value: (r) => r.agreement * 100, digits: 2 },
      { header: 'saved size', value: (r) => formatBytes(r.bytes), align: 'right' },
      { header: 'float32 / size', value: (r) => r.ratio, digits: 2 },
      { header: 'quantize s', value: (r) => r.seconds, digits: 2 },
    ],
    rows: acc,
  };
  console.log(toText(accTable));

  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; float backend: ${describeFloatBackend(backend)}`;
  say('# Post-training quantization: calibration memory, accuracy and size');
  say('');
  say(
    `Machine: ${machine}. Command: \`npx tsx bench/calib/run.ts${quick ? ' --quick' : ''}\` (${new Date().toISOString().slice(0, 10)}).`,
  );
  say('');
  say('## Calibration memory (LeNet-5, streamed MNIST batches of 10)');
  say('');
  say(
    `Peak RSS of a fresh process that loads the model and calibrates over N samples (median of ${repeats} interleaved runs per cell).`,
  );
  say('');
  lines.push(toMarkdown(memTable));
  say('## Accuracy, agreement and size (MNIST, 2,000 test digits, calibration on 512 training digits)');
  say('');
  say('int8 and dynamic rows are the §12 simulation (bit-exact with the native runtime); sizes are the tfjs-quant');
  say('format on disk (model.json + shards); the float16 row is the stock TF.js format with float16 storage, its');
  say('ratio measured against the float32 TF.js files.');
  say('');
  lines.push(toMarkdown(accTable));
  await writeFile(join(here, 'RESULTS-calib.md'), lines.join('\n') + '\n');
}

const ci = process.argv.indexOf('--child');
if (ci >= 0) await child(Number(process.argv[ci + 1]), process.argv[ci + 2] as ObserverKind);
else await main();
