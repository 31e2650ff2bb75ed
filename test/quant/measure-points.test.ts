// Where fidelity is measured: outputs after a selection op (non-maximum suppression, top-k) are
// discrete and measured at the continuous tensors entering the first selection on their path;
// the headline of a model's fidelity leaves them out when the model has continuous outputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { executeAsync } from '../../src/model/execute.js';
import { loadModel } from '../../src/model/index.js';
import { measurePoints, selectingNodes } from '../../src/quant/measure-points.js';
import { modelFidelity, outputFidelity } from '../../src/quant/output-fidelity.js';
import { a, gatherNode, handModel, placeholder, poolNode, whileConsts, whileNodes } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };

// A detector head: raw boxes and scores (continuous outputs), NMS on them, the kept boxes
// gathered (discrete), and a top-k of the kept scores (a second selection after the first).
const detector = handModel(
  [
    placeholder('x', 'float32', [8, 4]),
    { name: 'boxes', op: 'Mul', input: ['x', 'scale'], attr: F },
    { name: 'scores', op: 'Sum', input: ['x', 'axis1'], attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(false) } },
    {
      name: 'nms',
      op: 'NonMaxSuppressionV5',
      input: ['boxes', 'scores', 'max', 'iou', 'thr', 'sigma'],
      attr: { ...F, pad_to_max_output_size: a.b(false) },
    },
    gatherNode('kept', 'boxes', 'nms', 'axis0'),
    { name: 'top', op: 'TopKV2', input: ['nms:1', 'k'], attr: { ...F, sorted: a.b(true) } },
  ],
  {
    scale: { dtype: 'float32', shape: [], values: [0.01] },
    axis1: { dtype: 'int32', shape: [], values: [1] },
    axis0: { dtype: 'int32', shape: [], values: [0] },
    max: { dtype: 'int32', shape: [], values: [4] },
    iou: { dtype: 'float32', shape: [], values: [0.3] },
    thr: { dtype: 'float32', shape: [], values: [0] },
    sigma: { dtype: 'float32', shape: [], values: [0] },
    k: { dtype: 'int32', shape: [], values: [2] },
  },
  {
    signature: {
      outputs: {
        raw_boxes: { name: 'boxes:0' },
        raw_scores: { name: 'scores:0' },
        kept: { name: 'kept:0' },
        top: { name: 'top:0' },
      },
    },
  },
);

describe('measure points', () => {
  it('outputs after NMS (and a top-k after it) are measured at the boxes and scores entering the NMS; raw outputs as they are', async () => {
    const g = await loadModel({ modelJson: detector.modelJson, weightData: detector.weightData });
    const p = measurePoints(g);
    expect(p.discrete.map((d) => d.output).sort()).toEqual(['kept', 'top']);
    for (const d of p.discrete) {
      // The first selection on the path: the NMS, also for the top-k taken after it.
      expect(d.selections, d.output).toEqual(['nms']);
      expect([...d.measuredAt].sort(), d.output).toEqual(['boxes', 'scores']);
    }
    expect([...p.points].sort()).toEqual(['boxes', 'scores']);
  });

  it('when every output is discrete (keypoints from an arg max), they are measured too, beside the tensors entering the selection', async () => {
    const m = handModel(
      [
        placeholder('x', 'float32', [1, 8, 8, 3]),
        { name: 'heat', op: 'Mul', input: ['x', 'two'], attr: F },
        { name: 'flat', op: 'Reshape', input: ['heat', 'shape'], attr: { ...F, Tshape: a.type('int32') } },
        {
          name: 'best',
          op: 'ArgMax',
          input: ['flat', 'axis'],
          attr: { ...F, Tidx: a.type('int32'), output_type: a.type('int32') },
        },
        {
          name: 'where',
          op: 'Cast',
          input: ['best'],
          attr: { SrcT: a.type('int32'), DstT: a.type('float32'), Truncate: a.b(false) },
        },
      ],
      {
        two: { dtype: 'float32', shape: [], values: [2] },
        shape: { dtype: 'int32', shape: [2], values: [64, 3] },
        axis: { dtype: 'int32', shape: [], values: [0] },
      },
    );
    const p = measurePoints(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
    expect(p.discrete).toEqual([{ output: 'where', selections: ['best'], measuredAt: ['flat'] }]);
    expect(p.points).toEqual(['flat', 'where']);
  });

  it('a model without selection ops is measured at its outputs; a loop (no selection inside) is not a selection', async () => {
    const g = await loadModel({
      modelJson: handModel(whileNodes, whileConsts).modelJson,
      weightData: handModel(whileNodes, whileConsts).weightData,
    });
    const p = measurePoints(g);
    expect(p.discrete).toEqual([]);
    expect(p.points).toEqual(g.outputs);
  });
});

// A CenterNet-style head: heat → its peaks (heat == MaxPool(heat), cast and multiplied in) →
// top-k of the flattened peaks → a regression head gathered at the chosen indices; beside it, a
// bounds test (a comparison reaching no selection) masking a continuous output.
function peakHead(withContinuous = true) {
  const flat = { ...F, Tshape: a.type('int32') };
  return handModel(
    [
      placeholder('x', 'float32', [1, 4, 4, 2]),
      { name: 'heat', op: 'Mul', input: ['x', 'two'], attr: F },
      { name: 'reg', op: 'Add', input: ['x', 'two'], attr: F },
      poolNode('MaxPool', 'pool', 'heat', 3),
      { name: 'eq', op: 'Equal', input: ['heat', 'pool'], attr: F },
      { name: 'mask', op: 'Cast', input: ['eq'], attr: { SrcT: a.type('bool'), DstT: a.type('float32') } },
      { name: 'peaks', op: 'Mul', input: ['heat', 'mask'], attr: F },
      { name: 'peaks_flat', op: 'Reshape', input: ['peaks', 'shape32'], attr: flat },
      { name: 'top', op: 'TopKV2', input: ['peaks_flat', 'k'], attr: { ...F, sorted: a.b(true) } },
      { name: 'reg_flat', op: 'Reshape', input: ['reg', 'shape32x1'], attr: flat },
      gatherNode('chosen', 'reg_flat', 'top:1', 'axis0'),
      { name: 'inside', op: 'LessEqual', input: ['reg', 'bound'], attr: F },
      { name: 'inside_f', op: 'Cast', input: ['inside'], attr: { SrcT: a.type('bool'), DstT: a.type('float32') } },
      { name: 'clipped', op: 'Mul', input: ['reg', 'inside_f'], attr: F },
    ],
    {
      two: { dtype: 'float32', shape: [], values: [2] },
      bound: { dtype: 'float32', shape: [], values: [3] },
      shape32: { dtype: 'int32', shape: [2], values: [1, 32] },
      shape32x1: { dtype: 'int32', shape: [1], values: [32] },
      k: { dtype: 'int32', shape: [], values: [3] },
      axis0: { dtype: 'int32', shape: [], values: [0] },
    },
    {
      signature: {
        outputs: {
          chosen: { name: 'chosen:0' },
          scores: { name: 'top:0' },
          ...(withContinuous ? { clipped: { name: 'clipped:0' } } : {}),
        },
      },
    },
  );
}

describe('comparisons as selections', () => {
  it('a peak mask feeding a top-k is part of the selection: measured at the heatmap and its max-pool, and at the regression head gathered at the chosen peaks', async () => {
    const m = peakHead();
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    expect([...selectingNodes(g)].sort()).toEqual(['eq', 'top']);
    const p = measurePoints(g);
    const by = new Map(p.discrete.map((d) => [d.output, d]));
    expect([...by.keys()].sort()).toEqual(['chosen', 'top']);
    expect(by.get('top')!.selections).toEqual(['eq']);
    expect([...by.get('top')!.measuredAt].sort()).toEqual(['heat', 'pool']);
    // The gathered head enters the discrete part at the gather: measured there as a whole.
    expect([...by.get('chosen')!.measuredAt].sort()).toEqual(['heat', 'pool', 'reg_flat']);
    // The bounds test reaches no selection: its output is continuous and measured as it is.
    expect(p.points).toContain('clipped');
    expect(p.points).not.toContain('reg');
  });

  it('when every output is discrete, they are measured themselves beside the tensors entering the selection, not the whole head they gather from', async () => {
    const m = peakHead(false);
    const p = measurePoints(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }));
    for (const d of p.discrete) expect([...d.measuredAt].sort(), d.output).toEqual(['heat', 'pool']);
    expect([...p.points].sort()).toEqual(['chosen', 'heat', 'pool', 'top']);
  });

  it('the peak mask swings under a change that moves the heatmap by 1e-3, while the tensors measured instead move by about that', async () => {
    const m = peakHead();
    const g = await loadModel({ modelJson: m.modelJson, weightData: m.weightData });
    // Two near-equal neighbours: which is the peak flips under a tiny change.
    const x = new Float32Array(32).map((_, i) => 0.1 * ((i * 7) % 11));
    x[0] = 1;
    x[2] = 0.9995;
    const y = Float32Array.from(x);
    y[2] = 1.0005;
    const run = async (v: Float32Array) => {
      const outs = await executeAsync(g, { x: tf.tensor(v, [1, 4, 4, 2]) }, { outputs: ['peaks', 'heat', 'pool'] });
      const r = outs.map((t) => Float32Array.from(t.dataSync() as Float32Array));
      outs.forEach((t) => t.dispose());
      return r;
    };
    const [pa, ha, qa] = await run(x);
    const [pb, hb, qb] = await run(y);
    const f = (r: Float32Array, q: Float32Array) => outputFidelity('t', [r], [q]).cosine;
    expect(f(pa!, pb!)).toBeLessThan(0.9);
    expect(f(ha!, hb!)).toBeGreaterThan(0.9999);
    expect(f(qa!, qb!)).toBeGreaterThan(0.9999);
  });
});

describe('the headline of a model fidelity', () => {
  const ref = [[Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8)]];
  // The second output swapped two values: cosine 0.96.
  const got = [[Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 8, 7)]];
  it('leaves a discrete output out when a continuous one exists, and shows it', () => {
    const f = modelFidelity([{ name: 'raw' }, { name: 'kept', discrete: true }], ref, got);
    expect(f.minScore).toBe(1);
    expect(f.worstOutput).toBe('raw');
    const kept = f.outputs.find((o) => o.output === 'kept')!;
    expect(kept.discrete).toBe(true);
    // Outputs of fewer than 16 values score 1 − max |err| / max(|ref|, 1): 1 − 1/8.
    expect(kept.score).toBeCloseTo(1 - 1 / 8, 6);
  });
  it('takes every output when all are discrete', () => {
    const f = modelFidelity(
      [
        { name: 'a', discrete: true },
        { name: 'kept', discrete: true },
      ],
      ref,
      got,
    );
    expect(f.worstOutput).toBe('kept');
    expect(f.minScore).toBeCloseTo(1 - 1 / 8, 6);
  });
});
