#!/usr/bin/env node
// Proves that the addon node-gyp-build picks here works, end to end through the package's
// compiled JS (dist/): a small seeded tf.LayersModel (conv, pooling, dense), quantized to int8
// with calibration, run by InferenceSession on every kernel path the CPU offers, each output
// compared bit for bit with simulate() — the documented arithmetic in JS, independent of the
// addon. Run by scripts/check-arm64-prebuild.sh under qemu with an arm64 Node; works on any
// machine. Prints one line per path; exits 1 on a mismatch or on a missing vector path.
//   node scripts/prebuild-smoke.mjs [--expect-isa neon,neondot,neoni8mm]
import * as tf from '@tensorflow/tfjs';
import {
  InferenceSession,
  cpuInfo,
  getIsa,
  initFloatBackend,
  postTrainingQuantize,
  setIsa,
  simulate,
  supportedIsas,
} from '../dist/index.js';

const expectIdx = process.argv.indexOf('--expect-isa');
const expected = expectIdx > 0 ? process.argv[expectIdx + 1].split(',') : [];

await initFloatBackend('cpu');
const info = cpuInfo();
const isas = supportedIsas();
console.log(
  `prebuild-smoke: ${process.platform}-${process.arch}, Node ${process.versions.node}, cpu '${info.brand || info.vendor || 'unnamed'}', paths ${isas.join(',')}`,
);
const lacking = expected.filter((i) => !isas.includes(i));
if (lacking.length) {
  console.error(`prebuild-smoke: FAIL: the addon offers no ${lacking.join(', ')} path on this CPU`);
  process.exit(1);
}

const init = (seed) => tf.initializers.glorotUniform({ seed });
const model = tf.sequential({
  layers: [
    tf.layers.conv2d({
      inputShape: [12, 12, 3],
      filters: 8,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init(1),
      biasInitializer: 'ones',
    }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, kernelInitializer: init(2) }),
  ],
});
const calibration = [0, 1, 2, 3].map((i) => tf.randomUniform([4, 12, 12, 3], -1, 1, 'float32', 10 + i));
const x = tf.randomUniform([5, 12, 12, 3], -1, 1, 'float32', 99);
const { graph } = await postTrainingQuantize(model, { mode: 'int8', calibration });
const reference = simulate(graph, x).outputs[0].data;

let failed = 0;
const initial = getIsa();
for (const isa of isas) {
  setIsa(isa);
  const session = await InferenceSession.create(graph, { threads: 2 });
  const out = await session.run(x);
  const got = out[graph.outputs[0]].data;
  session.dispose();
  let diff = got.length === reference.length ? 0 : -1;
  if (diff === 0) for (let i = 0; i < got.length; i++) if (got[i] !== reference[i]) diff++;
  console.log(
    `prebuild-smoke: ${isa.padEnd(10)} ${diff === 0 ? 'PASS' : 'FAIL'} (${got.length} int8 outputs, ${diff < 0 ? 'length differs' : `${diff} differ`} from simulate())`,
  );
  if (diff !== 0) failed++;
}
setIsa(initial);
process.exit(failed ? 1 : 0);
