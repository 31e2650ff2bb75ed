// A zoo of varied small models written to disk (layers and graph models, MLPs, LeNets,
// MobileNet- and ResNet-style nets), for batch-conversion tests and `bench/zoo` (not shipped).
// Seeded: the same call writes the same bytes. Optionally one deliberately corrupt model.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/backend/float.js';
import { buildLeNet300100, buildLeNet5 } from '../../src/data/models.js';
import {
  type BuiltModel,
  convNetGraphModel,
  functionalBranches,
  layersFiles,
  mobilenetBlocks,
  randomizeWeights,
  saveLayersToMemory,
  sequentialCnn,
  sequentialMlp,
  writeModel,
} from './model-fixtures.js';
import { writeFilesAtomic } from '../../src/io/atomic.js';

/** ResNet-style: stem conv, two residual blocks (conv-BN-ReLU ×2 + identity / 1×1 projection). */
export function resnetBlocks(seed = 6): tf.LayersModel {
  const x = tf.input({ shape: [16, 16, 3], name: 'input' });
  let y = tf.layers
    .conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' })
    .apply(x) as tf.SymbolicTensor;
  for (const [i, filters, stride] of [
    [1, 8, 1],
    [2, 16, 2],
  ] as const) {
    let h = tf.layers
      .conv2d({ filters, kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `res${i}_a` })
      .apply(y) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `res${i}_a_bn` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU({ name: `res${i}_a_relu` }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name: `res${i}_b` })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ name: `res${i}_b_bn` }).apply(h) as tf.SymbolicTensor;
    const skip =
      stride === 1
        ? y
        : (tf.layers
            .conv2d({ filters, kernelSize: 1, strides: stride, name: `res${i}_proj` })
            .apply(y) as tf.SymbolicTensor);
    y = tf.layers.add({ name: `res${i}_add` }).apply([h, skip]) as tf.SymbolicTensor;
    y = tf.layers.reLU({ name: `res${i}_relu` }).apply(y) as tf.SymbolicTensor;
  }
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 10, activation: 'softmax', name: 'predictions' }).apply(y) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: y, name: 'resnet_blocks' });
  randomizeWeights(m, seed);
  return m;
}

/** A wider MLP (dense-dominated: where weight quantization pays most). */
export function wideMlp(seed = 7, width = 512): tf.Sequential {
  const m = tf.sequential({ name: 'wide_mlp' });
  m.add(tf.layers.dense({ units: width, inputShape: [256], activation: 'relu', name: 'fc1' }));
  m.add(tf.layers.dense({ units: width, activation: 'relu', name: 'fc2' }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc3' }));
  randomizeWeights(m, seed);
  for (const w of m.weights) w.write(tf.tidy(() => w.read().mul(1 / Math.sqrt(w.shape[0] ?? 1))));
  return m;
}

export interface ZooEntry {
  rel: string;
  kind: string;
  make: () => tf.LayersModel | BuiltModel;
}

/** The zoo's models, by output folder. */
export function zooEntries(): ZooEntry[] {
  const lenet = (make: () => tf.Sequential, seed: number) => () => {
    const m = make();
    m.build([1, 28, 28, 1]);
    randomizeWeights(m, seed);
    for (const w of m.weights) w.write(tf.tidy(() => w.read().mul(0.1)));
    return m;
  };
  return [
    { rel: 'mlp/small', kind: 'layers MLP', make: () => sequentialMlp(11) },
    { rel: 'mlp/wide', kind: 'layers MLP', make: () => wideMlp(12) },
    { rel: 'lenet/lenet-300-100', kind: 'layers MLP', make: lenet(() => buildLeNet300100({ seed: 1 }), 13) },
    { rel: 'lenet/lenet-5', kind: 'layers CNN', make: lenet(() => buildLeNet5({ seed: 2 }), 14) },
    { rel: 'cnn/sequential', kind: 'layers CNN', make: () => sequentialCnn(15) },
    { rel: 'cnn/branches', kind: 'layers functional', make: () => functionalBranches(16) },
    { rel: 'mobilenet/blocks', kind: 'layers MobileNet-style', make: () => mobilenetBlocks(17) },
    { rel: 'resnet/blocks', kind: 'layers ResNet-style', make: () => resnetBlocks(18) },
    { rel: 'graph/convnet', kind: 'graph model', make: () => convNetGraphModel(19).build() },
    { rel: 'graph/convnet-b', kind: 'graph model', make: () => convNetGraphModel(20).build() },
  ];
}

/**
 * Writes the zoo under dir (each model in its folder); `corrupt: true` adds 'broken/truncated'
 * whose weight shard is cut short. Returns the folders written.
 */
export async function writeZoo(dir: string, o: { only?: string[]; corrupt?: boolean } = {}): Promise<string[]> {
  const written: string[] = [];
  for (const e of zooEntries()) {
    if (o.only && !o.only.includes(e.rel)) continue;
    const made = e.make();
    const out = join(dir, e.rel);
    if (made instanceof tf.LayersModel) {
      await writeFilesAtomic(out, layersFiles(await saveLayersToMemory(made)));
      made.dispose();
    } else {
      await writeModel(out, made);
    }
    written.push(e.rel);
  }
  if (o.corrupt) {
    const m = sequentialMlp(21);
    const files = layersFiles(await saveLayersToMemory(m));
    m.dispose();
    const shard = files.find((f) => f.name !== 'model.json')!;
    shard.bytes = shard.bytes.subarray(0, shard.bytes.byteLength - 40);
    await fs.mkdir(join(dir, 'broken/truncated'), { recursive: true });
    await writeFilesAtomic(join(dir, 'broken/truncated'), files);
    written.push('broken/truncated');
  }
  return written;
}
