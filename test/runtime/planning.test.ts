// Planning decided up front: shapes inferred over the whole graph for the input shapes of a run
// (the batch symbolic), every node's placement with its reason, and no plan the native
// validator rejects — on the pattern of published pose models (an int32 image, Cast, then
// ExpandDims / Squeeze / Reshape around the convolutions), on reshapes that fold the batch,
// on image inputs of unknown size, and on every graph of the repository in each mode.
// References: tfjs float (the same graph executed by stock tfjs ops), hand-computed geometry
// (docs/quantization.md §11.1) and hand-counted FLOPs.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { buildLeNet5 } from '../../src/data/models.js';
import { createGraph, execute, loadModel, optimize, type Graph } from '../../src/model/index.js';
import { inferPlanShapes } from '../../src/model/shape-inference.js';
import { native } from '../../src/native/binding.js';
import {
  attr,
  convNetGraphModel,
  functionalBranches,
  GraphModelBuilder,
  mobilenetBlocks,
  randomFloats,
  sequentialCnn,
  sequentialMlp,
} from '../support/model-fixtures.js';
import { quantize } from '../../src/quant/quantize.js';
import { axisGeometry } from '../../src/runtime/geometry.js';
import { compilePlan, InferenceSession, summarizePlan } from '../../src/runtime/index.js';
import {
  geometryGraphModel,
  movementGraphModel,
  opsCoverageGraphModel,
  partitionedGraphModel,
} from '../../bench/models/models.js';
import { graphOf, quantized, relErr, variedInput } from './helpers.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: attr.type('DT_FLOAT') };
const I32 = { Tshape: attr.type('DT_INT32') };

async function load(b: GraphModelBuilder): Promise<Graph> {
  const m = b.build();
  return optimize(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
}

/** Runs the session and tfjs float on the same inputs; returns the worst relative error over the outputs. */
async function againstFloat(s: InferenceSession, g: Graph, feeds: Record<string, tf.Tensor>): Promise<number> {
  const got = await s.run(feeds);
  const ref = execute(g, feeds);
  let worst = 0;
  g.outputs.forEach((o, i) => {
    expect(got[o]!.shape).toEqual(ref[i]!.shape);
    worst = Math.max(worst, relErr(got[o]!.data, ref[i]!.dataSync()));
  });
  tf.dispose(ref);
  return worst;
}

/** An int32 image in [0, 255]. */
function image(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Int32Array.from(randomFloats(n, seed, 0, 255), (v) => Math.floor(v)),
    shape,
    'int32',
  );
}

/**
 * The pose-model pattern: int32 image → Cast → Squeeze(0) → ExpandDims(0) → conv 3×3 s2 →
 * Reshape to rows and back → depthwise → 1×1 conv. batch: the declared dimension 0.
 */
function posePattern(batch: number, seed: number): GraphModelBuilder {
  const b = new GraphModelBuilder(seed);
  const x = b.input('image', [batch, 16, 16, 3], 'DT_INT32');
  const cast = b.op('cast', 'Cast', [x], {
    SrcT: attr.type('DT_INT32'),
    DstT: attr.type('DT_FLOAT'),
    Truncate: attr.b(false),
  });
  const scaled = b.op('scale', 'Mul', [cast, b.const('scale/c', [], Float32Array.of(1 / 255))], F);
  let t = scaled;
  if (batch === 1) {
    t = b.op('squeeze', 'Squeeze', [t], { ...F, squeeze_dims: attr.ints([0]) });
    t = b.op('expand', 'ExpandDims', [t, b.ints('expand/axis', [0], [])], { ...F, Tdim: attr.type('DT_INT32') });
  } else {
    // The batch moves to dimension 1 and back: [1, B, 16, 16, 3] has the bytes of [B, 16, 16, 3].
    t = b.op('expand', 'ExpandDims', [t, b.ints('expand/axis', [0], [])], { ...F, Tdim: attr.type('DT_INT32') });
    t = b.op('squeeze', 'Squeeze', [t], { ...F, squeeze_dims: attr.ints([0]) });
  }
  const c1 = b.fusedConv2d(
    'c1',
    t,
    b.const('c1/w', [3, 3, 3, 8], undefined, 'float32', -0.5, 0.5),
    [b.const('c1/b', [8], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu6'],
    { strides: 2, padding: 'SAME' },
  );
  const rows = b.op('rows', 'Reshape', [c1, b.ints('rows/shape', [-1, 64, 8])], { ...F, ...I32 });
  const back = b.op('back', 'Reshape', [rows, b.ints('back/shape', [-1, 8, 8, 8])], { ...F, ...I32 });
  const dw = b.fusedConv2d(
    'dw',
    back,
    b.const('dw/w', [3, 3, 8, 1], undefined, 'float32', -0.5, 0.5),
    [b.const('dw/b', [8], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd', 'Relu'],
    { depthwise: true },
  );
  const c2 = b.fusedConv2d(
    'c2',
    dw,
    b.const('c2/w', [1, 1, 8, 5], undefined, 'float32', -0.5, 0.5),
    [b.const('c2/b', [5], undefined, 'float32', -0.1, 0.1)],
    ['BiasAdd'],
  );
  b.outputs(c2);
  return b;
}

describe('the pose-model pattern (int32 image → Cast → ExpandDims / Squeeze / Reshape around convolutions)', () => {
  it.each([
    [1, 'a fixed batch of 1'],
    [-1, 'a free batch'],
  ] as const)('every convolution runs natively with %s and equals tfjs float', async (batch, _what) => {
    const g = await load(posePattern(batch, 3));
    const s = await InferenceSession.create(g);
    const convs = s.plan.filter((p) => p.op === 'Conv2D' || p.op === 'DepthwiseConv2dNative');
    expect(convs.length).toBe(3);
    expect(convs.every((p) => p.placement === 'native-float')).toBe(true);
    // The int32 image is cast natively (int32 input buffer → cast step), and everything after it
    // is in the same native segment: the reshapes move no batch out of place.
    expect(s.plan.find((p) => p.op === 'Cast')).toMatchObject({ placement: 'native-float' });
    expect(s.segments.map((x) => x.kind)).toEqual(['native']);
    expect(s.summary.nativeGemmShare).toBe(1);
    for (const n of batch === 1 ? [1] : [1, 3]) {
      const x = image([n, 16, 16, 3], 10 + n);
      // Float32 sums in another order than tfjs: measured 1e-7; 1e-5 leaves room and catches any wrong tap.
      expect(await againstFloat(s, g, { image: x })).toBeLessThan(1e-5);
      x.dispose();
    }
    s.dispose();
  });

  it('dynamic int8 weights: the same graph plans without rejection and stays within the int8 error of float', async () => {
    const g = await load(posePattern(-1, 4));
    // Dynamic mode needs no calibration: activations are quantized per run after the Cast.
    const q = await quantize(g, { mode: 'dynamic', report: false, optimize: false, dynamicMinK: 0, dynamicMinN: 0 });
    const s = await InferenceSession.create(q.graph);
    expect(s.plan.filter((p) => p.op === 'Conv2D').every((p) => p.placement === 'native-dynamic')).toBe(true);
    const x = image([2, 16, 16, 3], 5);
    // Dynamic int8 weights and activations: measured 0.006; 0.03 is 5× that.
    expect(await againstFloat(s, g, { image: x })).toBeLessThan(0.03);
    x.dispose();
    s.dispose();
  });

  it('a Reshape that folds the batch into rows ([B, 4, 4, C] → [16·B, C]) feeds a native MatMul and comes back for a conv', async () => {
    const b = new GraphModelBuilder(7);
    const x = b.input('x', [-1, 4, 4, 6]);
    const rows = b.op('rows', 'Reshape', [x, b.ints('rows/shape', [-1, 6])], { ...F, ...I32 });
    const fc = b.fusedMatMul(
      'fc',
      rows,
      b.const('fc/w', [6, 5], undefined, 'float32', -0.5, 0.5),
      [b.const('fc/b', [5], undefined, 'float32', -0.1, 0.1)],
      ['BiasAdd'],
    );
    const img = b.op('img', 'Reshape', [fc, b.ints('img/shape', [-1, 4, 4, 5])], { ...F, ...I32 });
    const c = b.fusedConv2d(
      'c',
      img,
      b.const('c/w', [3, 3, 5, 4], undefined, 'float32', -0.5, 0.5),
      [b.const('c/b', [4], undefined, 'float32', -0.1, 0.1)],
      ['BiasAdd'],
      { padding: 'SAME' },
    );
    b.outputs(c);
    const g = await load(b);
    const plan = compilePlan(g);
    expect(plan.shapes.get(rows)!.shape).toEqual([-16, 6]);
    expect(plan.nodes.every((p) => p.placement === 'native-float')).toBe(true);
    const s = await InferenceSession.create(g);
    for (const n of [1, 3]) {
      const t = variedInput([n, 4, 4, 6], n);
      expect(await againstFloat(s, g, { x: t })).toBeLessThan(1e-5);
      t.dispose();
    }
    s.dispose();
  });
});

describe('input shapes beyond the batch', () => {
  function imageModel(): GraphModelBuilder {
    const b = new GraphModelBuilder(8);
    const x = b.input('x', [-1, -1, -1, 3]);
    const c = b.fusedConv2d(
      'c',
      x,
      b.const('c/w', [3, 3, 3, 4], undefined, 'float32', -0.5, 0.5),
      [b.const('c/b', [4], undefined, 'float32', -0.1, 0.1)],
      ['BiasAdd', 'Relu'],
      { strides: 2, padding: 'SAME' },
    );
    const m = b.op('m', 'Mean', [c, b.ints('m/axes', [1, 2])], {
      ...F,
      keep_dims: attr.b(false),
      Tidx: attr.type('DT_INT32'),
    });
    b.outputs(m);
    return b;
  }

  it('an image input [-1, -1, -1, 3] is planned at the first run, again for a new size, and reuses a plan for a size seen', async () => {
    const g = await load(imageModel());
    const s = await InferenceSession.create(g);
    expect(() => s.plan).toThrow(/no plan yet: input 'x' \[\?, \?, \?, 3\].*options\.inputShapes/);
    for (const [h, w] of [
      [9, 12],
      [16, 7],
      [9, 12],
    ] as const) {
      const x = variedInput([2, h, w, 3], h + w);
      expect(await againstFloat(s, g, { x })).toBeLessThan(1e-5);
      expect(s.plannedInputShapes).toEqual({ x: [-1, h, w, 3] });
      expect(s.plan.every((p) => p.placement === 'native-float')).toBe(true);
      x.dispose();
    }
    s.dispose();
  });

  it('options.inputShapes plans at creation (by tensor name), and a bad shape is refused with the declared one', async () => {
    const g = await load(imageModel());
    const s = await InferenceSession.create(g, { inputShapes: { x: [-1, 10, 10, 3] } });
    expect(s.plan.every((p) => p.placement === 'native-float')).toBe(true);
    expect(s.plannedInputShapes).toEqual({ x: [-1, 10, 10, 3] });
    s.dispose();
    await expect(InferenceSession.create(g, { inputShapes: { x: [1, 10, 10, 4] } })).rejects.toThrow(
      /inputShapes\['x'\].*\[\?, \?, \?, 3\]/,
    );
    await expect(InferenceSession.create(g, { inputShapes: { y: [1, 10, 10, 3] } })).rejects.toThrow(
      /'y' is not an input/,
    );
  });
});

describe('placement reasons', () => {
  it('each tfjs node says why: op unknown, dtype, shape unknown, control-flow region', () => {
    const g = createGraph('reasons');
    g.inputs.push(
      { name: 'x', dtype: 'float32', shape: [-1, 4] },
      { name: 'ids', dtype: 'int32', shape: [-1] },
      { name: 'p', dtype: 'bool', shape: [] },
    );
    g.constants.set('one', { name: 'one', dtype: 'int32', shape: [], data: Int32Array.of(1) });
    g.nodes.push({ name: 'sin', op: 'Sin', inputs: ['x'], outputs: ['sin'], attrs: {}, opaque: true, rawAttrs: {} });
    // int32 arithmetic runs natively, but not a squared difference.
    g.nodes.push({ name: 'inc', op: 'SquaredDifference', inputs: ['ids', 'one'], outputs: ['inc'], attrs: {} });
    // Non-max suppression-like: an output size that depends on the data.
    g.nodes.push({
      name: 'where',
      op: 'Where',
      inputs: ['x'],
      outputs: ['where'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'cast', op: 'Cast', inputs: ['where'], outputs: ['cast'], attrs: { DstT: 'float32' } });
    g.nodes.push({ name: 'relu', op: 'Relu', inputs: ['cast'], outputs: ['relu'], attrs: {} });
    g.nodes.push({
      name: 'sw',
      op: 'Switch',
      inputs: ['x', 'p'],
      outputs: ['sw', 'sw:1'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'branch', op: 'Relu', inputs: ['sw:1'], outputs: ['branch'], attrs: {} });
    g.nodes.push({
      name: 'merge',
      op: 'Merge',
      inputs: ['sw', 'branch'],
      outputs: ['merge', 'merge:1'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'tanh', op: 'Tanh', inputs: ['x'], outputs: ['tanh'], attrs: {} });
    g.outputs = ['sin', 'inc', 'relu', 'merge', 'tanh'];
    const plan = compilePlan(g);
    const by = Object.fromEntries(plan.nodes.map((p) => [p.node, p]));
    expect(by.sin).toMatchObject({ placement: 'tfjs', reasonKind: 'op-unknown' });
    expect(by.inc).toMatchObject({ placement: 'tfjs', reasonKind: 'dtype', reason: expect.stringMatching(/int32/) });
    expect(by.cast).toMatchObject({ placement: 'tfjs', reasonKind: 'shape-unknown' });
    expect(by.relu).toMatchObject({ placement: 'tfjs', reasonKind: 'shape-unknown' });
    expect(by.sw).toMatchObject({ placement: 'tfjs', reasonKind: 'control-flow' });
    expect(by.branch).toMatchObject({
      placement: 'tfjs',
      reasonKind: 'control-flow',
      reason: expect.stringMatching(/region/),
    });
    expect(by.merge).toMatchObject({ placement: 'tfjs', reasonKind: 'control-flow' });
    expect(by.tanh).toMatchObject({ placement: 'native-float' });
    // The Cast (native float32 ↔ int32) waits on the Where's shape, known only as it runs.
    expect(summarizePlan(g, plan).tfjsByReason).toEqual({
      'op-unknown': 2,
      dtype: 1,
      'shape-unknown': 2,
      'control-flow': 3,
    });
  });

  it('a control-flow region stays in one tfjs segment even where the topological order interleaves native nodes', () => {
    const g = createGraph('region');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 4] }, { name: 'p', dtype: 'bool', shape: [] });
    // Topological, but a native Tanh sits between the Switch and the Merge.
    g.nodes.push({
      name: 'sw',
      op: 'Switch',
      inputs: ['x', 'p'],
      outputs: ['sw', 'sw:1'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'tanh', op: 'Tanh', inputs: ['x'], outputs: ['tanh'], attrs: {} });
    g.nodes.push({ name: 'branch', op: 'Relu', inputs: ['sw:1'], outputs: ['branch'], attrs: {} });
    g.nodes.push({
      name: 'merge',
      op: 'Merge',
      inputs: ['sw', 'branch'],
      outputs: ['merge', 'merge:1'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'sig', op: 'Sigmoid', inputs: ['tanh'], outputs: ['sig'], attrs: {} });
    g.outputs = ['merge', 'sig'];
    const plan = compilePlan(g);
    expect(plan.segments.map((x) => [x.kind, x.nodes])).toEqual([
      ['tfjs', ['sw', 'branch', 'merge']],
      ['native', ['tanh', 'sig']],
    ]);
  });

  it('int32 and bool tensors keep their dtype across tfjs segments; a shape computation known at planning is folded', async () => {
    const b = new GraphModelBuilder(9);
    const x = b.input('x', [-1, 6, 6, 2]);
    const ids = b.input('ids', [-1], 'DT_INT32');
    const twice = b.op('twice', 'Mul', [ids, b.ints('two', [2], [])], { T: attr.type('DT_INT32') });
    const shape = b.op('shape', 'Shape', [x], { T: attr.type('DT_FLOAT'), out_type: attr.type('DT_INT32') });
    const hw = b.op('hw', 'StridedSlice', [shape, b.ints('hw/b', [1]), b.ints('hw/e', [3]), b.ints('hw/s', [1])], {
      T: attr.type('DT_INT32'),
      Index: attr.type('DT_INT32'),
      begin_mask: attr.i(0),
      end_mask: attr.i(0),
      ellipsis_mask: attr.i(0),
      new_axis_mask: attr.i(0),
      shrink_axis_mask: attr.i(0),
    });
    const size = b.op('size', 'Mul', [hw, b.ints('size/two', [2])], { T: attr.type('DT_INT32') });
    const up = b.op('up', 'ResizeBilinear', [x, size], {
      ...F,
      align_corners: attr.b(false),
      half_pixel_centers: attr.b(true),
    });
    b.outputs(twice, up);
    const g = await load(b);
    const s = await InferenceSession.create(g);
    const by = Object.fromEntries(s.plan.map((p) => [p.node, p.placement]));
    // Shape gives [batch, 6, 6, 2] (not known), its slice [6, 6] and the size [12, 12] are: what
    // computes the size is then not needed at all. The int32 product runs natively (binary_i32)
    // and comes back int32.
    expect(by).toEqual({ twice: 'native-float', size: 'folded', up: 'native-float' });
    const xs = variedInput([2, 6, 6, 2], 1);
    const idv = tf.tensor1d([3, -4], 'int32');
    const out = await s.run({ x: xs, ids: idv });
    expect(out[twice]).toMatchObject({ dtype: 'int32', shape: [2] });
    expect(Array.from(out[twice]!.data)).toEqual([6, -8]);
    expect(out[up]!.shape).toEqual([2, 12, 12, 2]);
    const ref = execute(g, { x: xs, ids: idv });
    expect(relErr(out[up]!.data, ref[1]!.dataSync())).toBeLessThan(1e-5);
    tf.dispose([xs, idv, ...ref]);
    s.dispose();
  });
});

describe('values crossing segments', () => {
  it('int32 and bool tensors keep their dtype and values from one segment to a later one across others', async () => {
    const g = createGraph('cross');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 3] }, { name: 'ids', dtype: 'int32', shape: [-1] });
    g.constants.set('two', { name: 'two', dtype: 'int32', shape: [], data: Int32Array.of(2) });
    g.constants.set('zero', { name: 'zero', dtype: 'int32', shape: [], data: Int32Array.of(0) });
    const i32 = { T: { type: 'DT_INT32' } };
    g.nodes.push({ name: 'twice', op: 'Mul', inputs: ['ids', 'two'], outputs: ['twice'], attrs: {} });
    g.nodes.push({
      name: 'pos',
      op: 'Greater',
      inputs: ['twice', 'zero'],
      outputs: ['pos'],
      attrs: {},
      opaque: true,
      rawAttrs: i32,
    });
    g.nodes.push({ name: 'r', op: 'Relu', inputs: ['x'], outputs: ['r'], attrs: {} });
    g.nodes.push({
      name: 'neg',
      op: 'LogicalNot',
      inputs: ['pos'],
      outputs: ['neg'],
      attrs: {},
      opaque: true,
      rawAttrs: {},
    });
    g.nodes.push({ name: 'back', op: 'Mul', inputs: ['twice', 'two'], outputs: ['back'], attrs: {} });
    g.nodes.push({ name: 't', op: 'Tanh', inputs: ['r'], outputs: ['t'], attrs: {} });
    g.outputs = ['neg', 'back', 't'];
    const s = await InferenceSession.create(g);
    // The int32 products run natively (binary_i32): twice's int32 value goes from a native
    // segment to a tfjs one (the bool comparison) and to a later native one (back); the bool
    // crosses the native segment of r between two tfjs ones.
    expect(s.segments.map((x) => [x.kind, x.nodes])).toEqual([
      ['native', ['twice']],
      ['tfjs', ['pos']],
      ['native', ['r']],
      ['tfjs', ['neg']],
      ['native', ['back', 't']],
    ]);
    const out = await s.run({
      x: { data: Float32Array.of(-1, 0.5, 2, 3, -4, 0), shape: [2, 3] },
      ids: { data: Int32Array.of(3, -4), shape: [2] },
    });
    expect(out.neg).toMatchObject({ dtype: 'bool', shape: [2] });
    expect(Array.from(out.neg!.data)).toEqual([0, 1]);
    expect(out.back).toMatchObject({ dtype: 'int32', shape: [2] });
    expect(out.back!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(out.back!.data)).toEqual([12, -16]);
    // tanhf against float64 tanh: within a few float32 ulp.
    expect(
      relErr(
        out.t!.data,
        [0, 0.5, 2, 3, 0, 0].map((v) => Math.tanh(v)),
      ),
    ).toBeLessThan(1e-6);
    s.dispose();
  });
});

describe('AddN', () => {
  it('an AddN (opaque to the IR) of activations and a constant runs natively as a chain of adds, equal to the sum in order', async () => {
    const g = createGraph('addn');
    // AddN takes tensors of one shape: a fixed batch, so that a constant can be one of them.
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [2, 3] });
    g.constants.set('c', {
      name: 'c',
      dtype: 'float32',
      shape: [2, 3],
      data: Float32Array.of(0.25, -1, 2, 3, 0, -0.5),
    });
    g.nodes.push({ name: 'r', op: 'Relu', inputs: ['x'], outputs: ['r'], attrs: {} });
    g.nodes.push({
      name: 'sum',
      op: 'AddN',
      inputs: ['x', 'r', 'c'],
      outputs: ['sum'],
      attrs: {},
      opaque: true,
      rawAttrs: { N: { i: '3' }, T: { type: 'DT_FLOAT' } },
    });
    g.outputs = ['sum'];
    const s = await InferenceSession.create(g);
    expect(s.plan.map((p) => p.placement)).toEqual(['native-float', 'native-float']);
    const x = Float32Array.of(1.5, -2, 0.1, -0.3, 4, 8);
    const out = await s.run({ x: { data: x, shape: [2, 3] } });
    // ((x + relu(x)) + c) in float32, the order tfjs sums in.
    const c = [0.25, -1, 2, 3, 0, -0.5];
    expect(Array.from(out.sum!.data)).toEqual(
      Array.from(x, (v, i) => Math.fround(Math.fround(v + Math.max(v, 0)) + c[i]!)),
    );
    s.dispose();
  });
});

describe('no plan is rejected by the native validator', () => {
  // Every graph of the repository, in float, int8 and dynamic (int8 and int4 weights):
  // creating the session builds every native segment, and a rejection throws (internal).
  const builders: [string, () => Promise<Graph>, number[]][] = [
    ['op coverage', () => load(opsCoverageGraphModel()), [10, 10, 4]],
    ['movement', () => load(movementGraphModel()), [6, 6, 8]],
    ['geometry', () => load(geometryGraphModel()), []],
    ['partitioned', () => load(partitionedGraphModel()), [12, 12, 3]],
    ['conv net', () => load(convNetGraphModel()), []],
    ['pose pattern, batch 1', () => load(posePattern(1, 2)), []],
    ['pose pattern, free batch', () => load(posePattern(-1, 2)), []],
    ['LeNet-5', () => graphOf(buildLeNet5({ seed: 3 })), [28, 28, 1]],
    ['mobilenet blocks', () => graphOf(mobilenetBlocks(5)), [16, 16, 3]],
    ['sequential CNN', () => graphOf(sequentialCnn(6)), []],
    ['sequential MLP', () => graphOf(sequentialMlp(6)), []],
    ['functional branches', () => graphOf(functionalBranches(7)), []],
  ];
  it.each(builders)('%s', async (_name, build, calibShape) => {
    const g = await build();
    const float32 = g.inputs.every((i) => i.dtype === 'float32' && i.shape && i.shape.slice(1).every((d) => d > 0));
    const graphs: Graph[] = [g, (await quantize(g, { mode: 'dynamic', report: false, optimize: false })).graph];
    if (float32)
      graphs.push(
        (await quantize(g, { mode: 'dynamic', weightBits: 4, groupSize: 32, report: false, optimize: false })).graph,
      );
    if (float32 && calibShape.length) graphs.push(await quantized(g, variedInput([8, ...calibShape], 1)));
    let created = 0;
    for (const h of graphs) {
      const s = await InferenceSession.create(h);
      created++;
      // Planned natively where the repository's graphs allow: no node is in tfjs for a shape reason.
      expect(s.plan.filter((p) => p.reasonKind === 'shape-unknown' || p.reasonKind === 'layout')).toEqual([]);
      s.dispose();
    }
    expect(created).toBe(graphs.length);
  });
});

describe('a native rejection is an internal error, never a re-plan', () => {
  it('names the node of the rejected step; nothing falls back to tfjs', async () => {
    const g = await load(posePattern(1, 6));
    const seg = compilePlan(g).segments[0]!;
    if (seg.kind !== 'native') throw new Error('expected one native segment, the Cast included');
    const k = seg.plan.steps.findIndex((st) => st.op === 'conv_f32');
    const addon = native();
    // The native side rejects the plan (as it would a planner bug): creation must fail loudly.
    const spy = vi.spyOn(addon, 'RuntimeSession', 'get').mockReturnValue(
      class {
        constructor() {
          throw new RangeError(`invalid plan: steps[${k}] (conv_f32): a rejection`);
        }
      } as unknown as typeof addon.RuntimeSession,
    );
    try {
      await expect(InferenceSession.create(g)).rejects.toThrow(
        `internal: the native runtime rejected native segment 0 at node '${seg.stepNodes[k]}': invalid plan: steps[${k}] (conv_f32)`,
      );
      expect(seg.stepNodes[k]).toMatch(/c1/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('names and summary', () => {
  function named(): Graph {
    const g = createGraph('named');
    g.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 3] });
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) });
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['x', 'w'],
      outputs: ['mm'],
      attrs: { transpose_a: false, transpose_b: false, activation: 'none' },
    });
    g.nodes.push({ name: 'act', op: 'Relu', inputs: ['mm'], outputs: ['act'], attrs: {} });
    g.outputs = ['act', 'mm'];
    return g;
  }

  it('inputs by signature key or tensor name; outputs under the tensor names and (not enumerable) the signature keys, in signature order', async () => {
    const g = named();
    (g as Graph & { signature: unknown }).signature = {
      inputs: [{ key: 'features', name: 'x:0' }],
      outputs: [
        { key: 'logits', name: 'mm:0' },
        { key: 'scores', name: 'act:0' },
      ],
    };
    const s = await InferenceSession.create(g);
    expect(s.inputNames).toEqual(['features']);
    expect(s.outputNames).toEqual(['logits', 'scores']);
    expect(s.outputs.map((o) => o.name)).toEqual(['mm', 'act']);
    const data = Float32Array.of(1, -2, 0.5, -1, -1, -1);
    // Hand-computed: x·w rows [1 − 6 + 2.5, 2 − 8 + 3] = [−2.5, −3]; [−9, −12].
    for (const key of ['features', 'x']) {
      const out = await s.run({ [key]: { data, shape: [2, 3] } });
      expect(Object.keys(out)).toEqual(['mm', 'act']);
      expect(Array.from(out.logits!.data)).toEqual([-2.5, -3, -9, -12]);
      expect(out.logits).toBe(out.mm);
      expect(Array.from(out.scores!.data)).toEqual([0, 0, 0, 0]);
    }
    await expect(s.run({ features: { data, shape: [2, 3] }, x: { data, shape: [2, 3] } })).rejects.toThrow(
      /given twice/,
    );
    await expect(s.run({ image: { data, shape: [2, 3] } })).rejects.toThrow(
      /'image' is not an input of the model \(inputs: features\)/,
    );
    s.dispose();
  });

  it('without a signature the graph names are the names', async () => {
    const s = await InferenceSession.create(named());
    expect(s.inputNames).toEqual(['x']);
    expect(s.outputNames).toEqual(['act', 'mm']);
    s.dispose();
  });

  it('summary: the share of conv / matmul FLOPs native, counted by hand', async () => {
    const g = createGraph('flops');
    g.inputs.push(
      { name: 'x', dtype: 'float32', shape: [-1, 8, 8, 3] },
      { name: 'b', dtype: 'float32', shape: [-1, 4, 5] },
    );
    g.constants.set('w', { name: 'w', dtype: 'float32', shape: [3, 3, 3, 4], data: randomFloats(108, 1) });
    g.nodes.push({
      name: 'conv',
      op: 'Conv2D',
      inputs: ['x', 'w'],
      outputs: ['conv'],
      attrs: { strides: [1, 1, 1, 1], padding: 'SAME', dilations: [1, 1, 1, 1], activation: 'none' },
    });
    g.nodes.push({ name: 'rs', op: 'Reshape', inputs: ['conv', 'rs/shape'], outputs: ['rs'], attrs: {} });
    g.constants.set('rs/shape', { name: 'rs/shape', dtype: 'int32', shape: [3], data: Int32Array.of(-1, 64, 4) });
    // Both operands are activations: tfjs (the native MatMul wants a constant B).
    g.nodes.push({
      name: 'mm',
      op: 'MatMul',
      inputs: ['rs', 'b'],
      outputs: ['mm'],
      attrs: { transpose_a: false, transpose_b: false, activation: 'none' },
    });
    g.outputs = ['mm'];
    const plan = compilePlan(g);
    const sum = summarizePlan(g, plan);
    // conv: 2 · (8·8·4 outputs) · (3·3·3 taps) = 13824; matmul: 2 · (64·5 outputs) · 4 = 2560.
    expect(sum.gemmFlops).toBe(13824 + 2560);
    expect(sum.nativeGemmFlops).toBe(13824);
    expect(sum.nativeGemmShare).toBeCloseTo(13824 / 16384, 12);
  });
});

describe('geometry (docs/quantization.md §11.1)', () => {
  it.each([
    // [in, k, stride, dilation, padding, out, before, after]: hand-computed from the formulas.
    [5, 3, 2, 1, 'same', 3, 1, 1],
    [6, 3, 2, 1, 'same', 3, 0, 1],
    [7, 1, 3, 1, 'same', 3, 0, 0],
    [10, 3, 1, 2, 'same', 10, 2, 2],
    [7, 3, 2, 1, 'valid', 3, 0, 0],
    [10, 3, 3, 2, 'valid', 2, 0, 0],
    [6, 3, 2, 1, [1, 2], 4, 1, 2],
  ] as const)(
    'in %i, k %i, stride %i, dilation %i, %j → out %i, pads %i / %i',
    (size, k, s, d, p, out, before, after) => {
      expect(axisGeometry(size, k, s, d, p as 'same')).toEqual({ out, before, after });
    },
  );

  it('planned shapes: the batch followed through ExpandDims / Squeeze, the rest concrete', async () => {
    const g = await load(posePattern(-1, 1));
    const shapes = inferPlanShapes(g, new Map([['image', [-1, 16, 16, 3]]]));
    const conv = g.nodes.find((n) => n.op === 'Conv2D' && n.name.includes('c1'))!;
    expect(shapes.get(conv.outputs[0]!)!.shape).toEqual([-1, 8, 8, 8]);
    const expand = g.nodes.find((n) => n.op === 'ExpandDims');
    if (expand) expect(shapes.get(expand.outputs[0]!)!.shape).toEqual([1, -1, 16, 16, 3]);
  });
});
