// Whole models with depthwise blocks, BatchNorm, residual adds, concat, resize, a graph model
// in converter format, and a graph whose middle op is unknown to the runtime: float sessions
// against tfjs execute() (1e-5 relative), int8 sessions against simulate() bit for bit, the
// plan's placements. (Random-weight deep nets keep too little input information for top-1
// agreement to mean much; that is measured on the trained LeNets in lenet.test.ts.)
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend } from '../../src/backend/float.js';
import { loadModel, optimize, type Graph } from '../../src/model/index.js';
import { convNetGraphModel, functionalBranches, mobilenetBlocks } from '../support/model-fixtures.js';
import { planExecution } from '../../src/quant/params.js';
import { simulate } from '../../src/quant/simulate.js';
import { InferenceSession } from '../../src/runtime/index.js';
import {
  geometryGraphModel,
  mobileNetV2,
  movementGraphModel,
  opsCoverageGraphModel,
  partitionedGraphModel,
  resNetBlocks,
} from '../../bench/models/models.js';
import { quantized, floatOutputs, graphOf, relErr, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

async function graphModel(b: {
  build(): { modelJson: Record<string, unknown>; weightData: Uint8Array };
}): Promise<Graph> {
  const m = b.build();
  return optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
}

interface Case {
  name: string;
  graph: () => Promise<Graph>;
  shape: number[];
  /** No node runs in tfjs (false: the graph is partitioned). */
  allNative: boolean;
}

const cases: Case[] = [
  { name: 'MobileNet blocks (fixture)', graph: () => graphOf(mobilenetBlocks()), shape: [16, 16, 3], allNative: true },
  {
    name: 'MobileNetV2-style 64×64 width 0.35',
    graph: () => graphOf(mobileNetV2(64, 0.35, 10)),
    shape: [64, 64, 3],
    allNative: true,
  },
  { name: 'ResNet-style blocks', graph: () => graphOf(resNetBlocks()), shape: [32, 32, 3], allNative: true },
  {
    name: 'functional branches (add, concat, leaky, elu)',
    graph: () => graphOf(functionalBranches()),
    shape: [8, 8, 4],
    allNative: true,
  },
  {
    name: 'converter graph model (pad, resize, reshape, softmax)',
    graph: () => graphModel(convNetGraphModel()),
    shape: [12, 12, 3],
    allNative: true,
  },
  {
    name: 'op coverage graph model (prelu, leaky, sigmoid, pad, transpose, resize, binary with constants, concat, avgpool)',
    graph: () => graphModel(opsCoverageGraphModel()),
    shape: [10, 10, 4],
    allNative: true,
  },
  {
    name: 'transposed conv, DepthToSpace, StridedSlice, Slice',
    graph: () => graphModel(movementGraphModel()),
    shape: [6, 6, 8],
    allNative: true,
  },
  {
    name: 'conv geometry: dilation 2, stride 3, explicit padding, stride-4 pooling',
    graph: () => graphModel(geometryGraphModel()),
    shape: [23, 23, 3],
    allNative: true,
  },
  {
    name: 'graph model with an opaque op (partitioned)',
    graph: () => graphModel(partitionedGraphModel()),
    shape: [12, 12, 3],
    allNative: false,
  },
];

describe.each(cases)('$name', (c) => {
  it('float: equals execute(); int8: equals simulate() bit for bit', async () => {
    const g = await c.graph();
    const batch = 100;
    const x = variedInput([batch, ...c.shape], 21);
    const ref = floatOutputs(g, x);
    const fs = await InferenceSession.create(g, { threads: 2 });
    if (c.allNative) expect(fs.plan.filter((p) => p.placement === 'tfjs')).toEqual([]);
    else
      expect(fs.plan.some((p) => p.placement === 'tfjs') && fs.plan.some((p) => p.placement === 'native-float')).toBe(
        true,
      );
    const fo = await fs.run(x);
    g.outputs.forEach((o, i) => expect(relErr(fo[o]!.data, ref[i]!)).toBeLessThan(1e-5));
    fs.dispose();

    const q = await quantized(g, variedInput([64, ...c.shape], 22));
    const qs = await InferenceSession.create(q, { threads: 2 });
    // Every node §12 runs int8 runs natively in int8; the rest natively in float (or tfjs when partitioned).
    const exec = planExecution(q);
    expect(qs.plan.filter((p) => (exec.get(p.node) === 'int8') !== (p.placement === 'native-int8'))).toEqual([]);
    if (c.allNative) expect(qs.plan.filter((p) => p.placement === 'tfjs')).toEqual([]);
    expect(qs.plan.filter((p) => p.placement === 'native-int8').length).toBeGreaterThan(qs.plan.length / 2);
    const qo = await qs.run(x);
    const sim = simulate(q, x);
    q.outputs.forEach((o, i) => expect(Array.from(qo[o]!.data)).toEqual(Array.from(sim.outputs[i]!.data)));
    qs.dispose();
    x.dispose();
  });
});
