// Control-flow regions as the runtime sees them (which nodes, which inputs and outputs, in what
// order they run), passes that never touch them and never rename a graph output, and the
// native and TF.js writers keeping control flow, the signature and non-finite constants — each
// result checked against stock tfjs-converter on the hand-written JSON.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, initFloatBackend } from '../../src/backend/float.js';
import { controlFlowRegions, executionUnits, hasControlFlow } from '../../src/model/control-flow.js';
import { execute, executeAsync, planRun } from '../../src/model/execute.js';
import { inferOpaque } from '../../src/model/infer-opaque.js';
import { loadModel, ModelFormatError, optimize, saveNative, type Graph, type Node } from '../../src/model/index.js';
import { graphModelFiles } from '../../src/model/save-tfjs.js';
import {
  a,
  convAttrs,
  expectSameTensors,
  handModel,
  placeholder,
  stockRun,
  whileConsts,
  whileNodes,
  type HandModel,
  type RawNode,
} from './graph-json.js';

const F = { T: a.type('float32') };
const dir = mkdtempSync(join(tmpdir(), 'tfjs-quant-regions-'));
beforeAll(async () => {
  await initFloatBackend();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const load = (m: HandModel): Promise<Graph> => loadModel({ modelJson: m.modelJson, weightData: m.weightData });
const loop = handModel(whileNodes, whileConsts, {
  signature: { outputs: { y: { name: 'out:0' }, iterations: { name: 'w/Exit:0' } } },
});
const loopFeed = (): Record<string, tf.Tensor> => ({
  x: tf.tensor2d([
    [1, -2, 3],
    [0.5, 2, -1],
  ]),
  n: tf.scalar(3, 'int32'),
});

describe('control-flow regions', () => {
  it('the while loop is one region: its frame nodes, read from and read by the nodes around it', async () => {
    const g = await load(loop);
    expect(hasControlFlow(g)).toBe(true);
    const regions = controlFlowRegions(g);
    expect(regions).toHaveLength(1);
    const frame = whileNodes.filter((n) => n.name.startsWith('w/')).map((n) => n.name);
    expect([...regions[0]!.nodes].sort()).toEqual([...frame].sort());
    expect([...regions[0]!.inputs].sort()).toEqual(['i0', 'n', 'pre', 'scale', 'w/half', 'w/one']);
    expect(regions[0]!.outputs.sort()).toEqual(['w/Exit', 'w/Exit_1']);
    // Every region node stays raw: opaque, with the attributes tfjs-converter reads.
    for (const name of frame) expect(g.nodes.find((n) => n.name === name)!.opaque).toBe(true);
    const order = executionUnits(g).map((u) => (u.kind === 'node' ? u.node.name : 'region'));
    expect(order.indexOf('region')).toBeGreaterThan(Math.max(order.indexOf('pre'), order.indexOf('scale')));
    expect(order.indexOf('out')).toBeGreaterThan(order.indexOf('region'));
    expect(order).toHaveLength(4);
  });

  it('cond → network → cond: two regions, the network between them stays outside (and runs as stock tfjs)', async () => {
    // Each conditional: Switch on the data, Mul in the true branch, Neg in the false one, Merge.
    const cond = (p: string, input: string): RawNode[] => [
      { name: `${p}/Switch`, op: 'Switch', input: [input, 'flag'], attr: F },
      { name: `${p}/mul`, op: 'Mul', input: [`${p}/Switch:1`, 'two'], attr: F },
      { name: `${p}/neg`, op: 'Neg', input: [`${p}/Switch`], attr: F },
      { name: `${p}/Merge`, op: 'Merge', input: [`${p}/neg`, `${p}/mul`], attr: { ...F, N: a.i(2) } },
    ];
    const m = handModel(
      [
        placeholder('x', 'float32', [-1, 3]),
        placeholder('flag', 'bool', []),
        ...cond('a', 'x'),
        { name: 'net/relu', op: 'Relu', input: ['a/Merge'], attr: F },
        { name: 'net/tanh', op: 'Tanh', input: ['net/relu'], attr: F },
        ...cond('b', 'net/tanh'),
        // The second conditional also reads the first one's result directly.
        { name: 'out', op: 'AddV2', input: ['b/Merge', 'a/Merge'], attr: F },
      ],
      { two: { dtype: 'float32', shape: [], values: [2] } },
    );
    const g = await load(m);
    expect(controlFlowRegions(g).map((r) => r.nodes)).toEqual([
      ['a/Switch', 'a/mul', 'a/neg', 'a/Merge'],
      ['b/Switch', 'b/mul', 'b/neg', 'b/Merge'],
    ]);
    expect(g.nodes.find((n) => n.name === 'net/relu')!.opaque).toBeUndefined();
    let checked = 0;
    for (const flag of [true, false]) {
      const feed = { x: tf.tensor2d([[1, -2, 3]]), flag: tf.scalar(flag, 'bool') };
      checked += expectSameTensors(expect, await executeAsync(g, feed), await stockRun(m, feed));
    }
    expect(checked).toBe(2);
  });

  it('a graph without control flow has no region', async () => {
    const m = handModel([placeholder('x', 'float32', [-1, 2]), { name: 'y', op: 'Relu', input: ['x'], attr: F }], {});
    const g = await load(m);
    expect(hasControlFlow(g)).toBe(false);
    expect(controlFlowRegions(g)).toEqual([]);
  });

  it('the observer sees the nodes outside regions; a node subset cutting a region is refused', async () => {
    const g = await load(loop);
    const seen: string[] = [];
    const ours = await executeAsync(g, loopFeed(), { observer: (n: Node) => seen.push(n.name) });
    expect(seen.sort()).toEqual(['out', 'pre', 'scale']);
    expectSameTensors(expect, ours, await stockRun(loop, loopFeed()));
    await expect(executeAsync(g, loopFeed(), { nodes: ['w/Merge', 'pre'], outputs: ['pre'] })).rejects.toThrow(
      /holds 1 of the 19 nodes of the control-flow region/,
    );
    // The region alone from given tensors, as a runtime segment runs it.
    const feed = loopFeed();
    const given = { pre: tf.relu(feed.x!), scale: tf.mul(feed.x!, 0.75) };
    const part = await executeAsync(g, feed, { nodes: controlFlowRegions(g)[0]!.nodes, given, outputs: ['w/Exit_1'] });
    expectSameTensors(expect, part, await stockRun(loop, feed, ['w/Exit_1']));
  });

  it('a run planned once (planRun) and reused computes what an unplanned run does; a plan for other tensors or another graph is refused', async () => {
    const g = await load(loop);
    const feed = loopFeed();
    const given = { pre: tf.relu(feed.x!), scale: tf.mul(feed.x!, 0.75) };
    const subset = { nodes: [...controlFlowRegions(g)[0]!.nodes, 'out'], outputs: ['out', 'w/Exit_1'] };
    const plan = planRun(g, { ...subset, available: ['x', 'n', 'pre', 'scale'] });
    expect(plan.units.map((u) => u.kind)).toEqual(['region', 'node']);
    const want = await stockRun(loop, feed, ['out', 'w/Exit_1']);
    for (let i = 0; i < 2; i++) expectSameTensors(expect, await executeAsync(g, feed, { given, plan }), want);
    // Without control flow the synchronous executor takes a plan too.
    const flat = await load(
      handModel(
        [
          placeholder('x', 'float32', [-1, 3]),
          { name: 'r', op: 'Relu', input: ['x'], attr: F },
          { name: 't', op: 'Tanh', input: ['r'], attr: F },
        ],
        {},
      ),
    );
    const p2 = planRun(flat, { available: ['x'] });
    expect(p2.units.map((u) => (u.kind === 'node' ? u.node.name : 'region'))).toEqual(['r', 't']);
    expect(execute(flat, feed.x!, { plan: p2 })[0]!.arraySync()).toEqual(tf.tanh(tf.relu(feed.x!)).arraySync());
    expect(() => execute(flat, feed.x!, { plan })).toThrow(/options.plan was made for another graph/);
    await expect(executeAsync(g, feed, { given: { pre: given.pre }, plan })).rejects.toThrow(
      /options.plan was made for the tensors \[x, n, pre, scale\], the run gives \[x, n, pre\]/,
    );
  });
});

describe('output dtypes and shapes of raw nodes', () => {
  it('inferOpaque gives each region output the dtype tfjs computes, and a shape only where it cannot change', async () => {
    const g = await load(loop);
    const t = new Map(g.tensors);
    for (const n of g.nodes) {
      if (!n.opaque) continue;
      const outs = inferOpaque(
        n,
        n.inputs.map((i) => t.get(i) ?? { dtype: 'float32', shape: null }),
      );
      expect(outs).toHaveLength(n.outputs.length);
      n.outputs.forEach((o, i) => t.set(o, outs[i]!));
    }
    const [iterations, acc] = await executeAsync(g, loopFeed(), { outputs: ['w/Exit', 'w/Exit_1'] });
    expect(t.get('w/Exit')!.dtype).toBe(iterations!.dtype);
    expect(t.get('w/Exit_1')!.dtype).toBe(acc!.dtype);
    expect(t.get('w/LoopCond')).toEqual({ dtype: 'bool', shape: [] });
    // Loop-carried values may change shape from one iteration to the next.
    expect(t.get('w/Exit_1')!.shape).toBeNull();
  });
});

describe('passes', () => {
  it('optimize() leaves region nodes untouched and still computes what stock tfjs computes', async () => {
    const g = await load(loop);
    const o = optimize(g);
    const names = controlFlowRegions(g)[0]!.nodes;
    for (const name of names)
      expect(o.nodes.find((n) => n.name === name)).toEqual(g.nodes.find((n) => n.name === name));
    expectSameTensors(expect, await executeAsync(o, loopFeed()), await stockRun(loop, loopFeed()));
  });

  it('a fused activation, bias or batch norm that is a graph output keeps the output name', async () => {
    const conv = (name: string, filter: string) => ({
      name,
      op: 'Conv2D',
      input: ['x', filter],
      attr: convAttrs(),
    });
    const w = (seed: number) => ({
      dtype: 'float32' as const,
      shape: [1, 1, 2, 2],
      values: [0.5, -1, 2, 0.25].map((v) => v * seed),
    });
    const vec = (v: number[]) => ({ dtype: 'float32' as const, shape: [2], values: v });
    const m = handModel(
      [
        placeholder('x', 'float32', [-1, 3, 3, 2]),
        conv('c1', 'w1'),
        { name: 'c1/bias', op: 'BiasAdd', input: ['c1', 'b1'], attr: F },
        { name: 'prob', op: 'Sigmoid', input: ['c1/bias'], attr: F },
        conv('c2', 'w2'),
        { name: 'logits', op: 'BiasAdd', input: ['c2', 'b2'], attr: F },
        conv('c3', 'w3'),
        {
          name: 'bn',
          op: 'FusedBatchNormV3',
          input: ['c3', 'gamma', 'beta', 'mean', 'var'],
          attr: { ...F, U: a.type('float32'), epsilon: a.f(0.001), is_training: a.b(false) },
        },
      ],
      {
        w1: w(1),
        b1: vec([0.1, -0.2]),
        w2: w(2),
        b2: vec([1, 2]),
        w3: w(3),
        gamma: vec([1, 2]),
        beta: vec([0, 1]),
        mean: vec([0.5, -0.5]),
        var: vec([1, 4]),
      },
      {
        signature: {
          outputs: { probabilities: { name: 'prob:0' }, logits: { name: 'logits:0' }, normalized: { name: 'bn:0' } },
        },
      },
    );
    const g = await load(m);
    const o = optimize(g);
    expect(o.outputs).toEqual(['prob', 'logits', 'bn']);
    expect(o.signature!.outputs).toEqual([
      { key: 'probabilities', name: 'prob' },
      { key: 'logits', name: 'logits' },
      { key: 'normalized', name: 'bn' },
    ]);
    // Fused: three Conv2D nodes remain, under the output names.
    expect(o.nodes.map((n) => `${n.op}:${n.name}:${String(n.attrs.activation)}`).sort()).toEqual([
      'Conv2D:bn:none',
      'Conv2D:logits:none',
      'Conv2D:prob:sigmoid',
    ]);
    const x = tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 9);
    const ref = await stockRun(m, { x });
    const ours = execute(o, x);
    ours.forEach((t, i) => expect(Math.max(...Array.from(tf.abs(tf.sub(t, ref[i]!)).dataSync()))).toBeLessThan(1e-5));
  });
});

describe('writers keep control flow, the signature and non-finite constants', () => {
  const withInf = handModel(
    [
      ...whileNodes.filter((n) => n.name !== 'out'),
      { name: 'pad', op: 'PadV2', input: ['w/Exit_1', 'paddings', 'fill'], attr: { ...F, Tpaddings: a.type('int32') } },
      { name: 'out', op: 'Max', input: ['pad', 'axis'], attr: { ...F, Tidx: a.type('int32'), keep_dims: a.b(false) } },
    ],
    {
      ...whileConsts,
      paddings: { dtype: 'int32', shape: [2, 2], values: [0, 0, 1, 1] },
      fill: { dtype: 'float32', shape: [], values: [-Infinity] },
      axis: { dtype: 'int32', shape: [], values: [1] },
    },
    {
      signature: {
        inputs: { image: { name: 'x:0' }, count: { name: 'n:0' } },
        outputs: { best: { name: 'out:0' }, iterations: { name: 'w/Exit:0' } },
      },
    },
  );

  it('the native format reloads the same graph: raw region, signature, non-finite marks; executeAsync equals stock tfjs', async () => {
    const g = await load(withInf);
    const path = join(dir, 'native');
    await saveNative(g, path);
    const back = await loadModel(path);
    expect(back.signature).toEqual({
      inputs: [
        { key: 'image', name: 'x' },
        { key: 'count', name: 'n' },
      ],
      outputs: [
        { key: 'best', name: 'out' },
        { key: 'iterations', name: 'w/Exit' },
      ],
    });
    expect(back.constants.get('fill')!.nonFinite).toBe(true);
    expect(controlFlowRegions(back).map((r) => r.nodes)).toEqual(controlFlowRegions(g).map((r) => r.nodes));
    expectSameTensors(expect, await executeAsync(back, loopFeed()), await stockRun(withInf, loopFeed()));
    // A non-finite value in an entry not marked nonFinite is damage.
    const json = JSON.parse(readFileSync(join(path, 'model.json'), 'utf8'));
    delete json.weights.entries.find((e: { name: string }) => e.name === 'fill').nonFinite;
    writeFileSync(join(path, 'model.json'), JSON.stringify(json));
    const e = await loadModel(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as Error).message).toMatch(/weight 'fill'.*element 0 is -Infinity but the entry is not marked nonFinite/);
  });

  it('the TF.js graph-model writer gives a model stock tfjs runs as the original, under the signature keys', async () => {
    const g = await load(withInf);
    const files = graphModelFiles(g);
    const modelJson = JSON.parse(new TextDecoder().decode(files[0]!.bytes));
    expect(Object.keys(modelJson.signature.outputs)).toEqual(['best', 'iterations']);
    expect(Object.keys(modelJson.signature.inputs)).toEqual(['image', 'count']);
    const written = { modelJson, weightData: files[1]!.bytes };
    expectSameTensors(
      expect,
      await stockRun(written, loopFeed(), ['best', 'iterations']),
      await stockRun(withInf, loopFeed()),
    );
  });
});
