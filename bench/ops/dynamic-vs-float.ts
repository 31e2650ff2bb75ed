// One convolution alone, run dynamic int8 (per-row activation quantization) and float, one
// thread: where does the dynamic kernel stop paying? The answer sets DYNAMIC_MIN_K
// (src/quant/params.ts), below which the converter runs a layer float instead of dynamic.
//
//   npx tsx bench/ops/dynamic-vs-float.ts [--rounds 30]
//
// Both sessions live in one process and are run alternately, so a load change hits both; each
// figure is the minimum over rounds of the layer's native step time (session.profile).
import { parseArgs } from 'node:util';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { cpuInfo, getIsa } from '../../src/native/cpu.js';
import { quantize } from '../../src/quant/quantize.js';
import { toText, type Table } from '../../src/report/table.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { graphOf } from '../../test/runtime/helpers.js';

const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '30' } } });
const rounds = Number(opt.rounds);
await initFloatBackend();

// [height, width, channels in, channels out, kernel]: K = kernel² · channels in.
const SHAPES: [number, number, number, number, number][] = [
  [128, 128, 8, 8, 1],
  [128, 128, 16, 64, 1],
  [128, 128, 24, 24, 1],
  [64, 64, 32, 32, 1],
  [64, 64, 40, 40, 1],
  [64, 64, 48, 48, 1],
  [56, 56, 64, 64, 1],
  [32, 32, 96, 96, 1],
  [32, 32, 32, 32, 3],
  [16, 16, 256, 256, 1],
  // Few output channels (N), where the per-row quantization is a larger share of the work.
  [128, 128, 3, 24, 5],
  [64, 64, 96, 24, 1],
  [64, 64, 128, 16, 1],
  [32, 32, 128, 16, 3],
  [32, 32, 256, 32, 1],
  [16, 16, 512, 64, 1],
  // Around the thresholds: K = 64…128 with N = 48…128.
  [64, 64, 80, 80, 1],
  [32, 32, 64, 128, 1],
  [32, 32, 128, 48, 1],
  [32, 32, 128, 64, 1],
];

async function stepMs(s: InferenceSession, feed: Record<string, { data: Float32Array; shape: number[] }>) {
  s.profile(true);
  await s.run(feed);
  return s.profile(false).reduce((a, p) => a + p.seconds, 0) * 1e3;
}

interface Row {
  shape: string;
  k: number;
  n: number;
  float: number;
  dynamic: number;
}
const rows: Row[] = [];
for (const [h, w, c, n, k] of SHAPES) {
  const x = tf.input({ shape: [h, w, c] });
  const y = tf.layers
    .conv2d({ filters: n, kernelSize: k, padding: 'same', kernelInitializer: 'glorotNormal' })
    .apply(x) as tf.SymbolicTensor;
  const g = await graphOf(tf.model({ inputs: x, outputs: y }));
  const q = (await quantize(g, { mode: 'dynamic', report: false, dynamicMinK: 0, dynamicMinN: 0 })).graph;
  const shape = [1, h, w, c];
  const inputShapes = { [g.inputs[0]!.name]: shape };
  const sessions = [
    await InferenceSession.create(g, { threads: 1, inputShapes }),
    await InferenceSession.create(q, { threads: 1, inputShapes }),
  ];
  const feed = {
    [g.inputs[0]!.name]: { data: Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i * 0.37)), shape },
  };
  const best = [Infinity, Infinity];
  for (let r = 0; r < rounds; r++)
    for (const [i, s] of sessions.entries()) best[i] = Math.min(best[i]!, await stepMs(s, feed));
  rows.push({ shape: `${h}×${w}×${c} → ${n}, ${k}×${k}`, k: k * k * c, n, float: best[0]!, dynamic: best[1]! });
  sessions.forEach((s) => s.dispose());
}
const table: Table<Row> = {
  columns: [
    { header: 'convolution', value: (r) => r.shape },
    { header: 'K', value: (r) => r.k },
    { header: 'N', value: (r) => r.n },
    { header: 'float ms', value: (r) => r.float.toFixed(3) },
    { header: 'dynamic ms', value: (r) => r.dynamic.toFixed(3) },
    { header: 'dynamic / float', value: (r) => (r.dynamic / r.float).toFixed(2) },
  ],
  rows,
};
console.log(
  `One convolution, dynamic int8 vs float, 1 thread (${cpuInfo().brand}, ${getIsa()}; minimum of ${rounds} alternated runs)\n`,
);
console.log(toText(table));
