// §12 derived parameters and the execution plan, against hand-computed values.
import { describe, expect, it } from 'vitest';
import { createGraph, type Graph } from '../../src/model/index.js';
import { int32Bias, int8Obstacle, planExecution, requantMultipliers } from '../../src/quant/params.js';
import { activationParams } from '../../src/quant/weights.js';

describe('int32 bias and multipliers (§12.1, §7)', () => {
  it('bias_q = rne(clamp(fl32(bias / fl32(sx·sw)), −2³¹, 2³¹ − 128))', () => {
    // sx·sw = 0.5·0.25 = 0.125 exactly: 1.0625 / 0.125 = 8.5 → 8 (ties to even), −0.3125/0.125 = −2.5 → −2.
    expect(Array.from(int32Bias([1.0625, -0.3125, 0.1875], 0.5, [0.25]))).toEqual([8, -2, 2]);
    // Per channel: the second channel has its own scale; 3/(0.5·0.5) = 12.
    expect(Array.from(int32Bias([1.0625, 3], 0.5, [0.25, 0.5]))).toEqual([8, 12]);
    // fl32 of the product first: sx = sw = 0.1 → fl32(0.1·0.1) = 0.010000000707805157.
    const p = Math.fround(Math.fround(0.1) * Math.fround(0.1));
    expect(int32Bias([1], 0.1, [0.1])[0]).toBe(Math.round(Math.fround(1 / p)));
    // Saturation at −2³¹ and 2³¹ − 128 (the largest float32 below 2³¹), NaN → 0.
    expect(Array.from(int32Bias([1e30, -1e30, NaN], 1, [1]))).toEqual([2 ** 31 - 128, -(2 ** 31), 0]);
  });

  it('multipliers fl32(fl32(sx·sw[c]) / so), per tensor weight scale broadcast', () => {
    const m = requantMultipliers(0.5, [0.25, 0.75], 0.1, 2);
    expect(Array.from(m)).toEqual([Math.fround(0.125 / Math.fround(0.1)), Math.fround(0.375 / Math.fround(0.1))]);
    expect(Array.from(requantMultipliers(0.5, [0.25], 2, 3))).toEqual([0.0625, 0.0625, 0.0625]);
  });
});

describe('execution plan (§12.2, §12.4)', () => {
  function g(): Graph {
    const x = createGraph('p');
    x.inputs.push({ name: 'x', dtype: 'float32', shape: [-1, 2] });
    const w = new Float32Array(4).fill(0.5);
    x.constants.set('w', {
      name: 'w',
      dtype: 'float32',
      shape: [2, 2],
      data: w,
      quantization: {
        affine: {
          dtype: 'int8',
          axis: 1,
          scales: Float32Array.of(0.01, 0.01),
          zeroPoints: new Int32Array(2),
          values: new Int8Array(4).fill(50),
        },
      },
    });
    x.nodes.push({ name: 'mm', op: 'MatMul', inputs: ['x', 'w'], outputs: ['mm'], attrs: { activation: 'tanh' } });
    x.nodes.push({ name: 'sm', op: 'Softmax', inputs: ['mm'], outputs: ['sm'], attrs: {} });
    x.nodes.push({ name: 'ex', op: 'Exp', inputs: ['sm'], outputs: ['ex'], attrs: {} });
    x.outputs = ['ex'];
    x.metadata.quantization = { mode: 'int8', floatNodes: [] };
    x.metadata.activations = {
      x: activationParams(-1, 1),
      mm: activationParams(-1, 1),
      sm: activationParams(0, 1),
      ex: activationParams(0, 3),
    };
    return x;
  }

  it('a non-clamp fused activation needs <output>/preact; ops outside the set run float', () => {
    const a = g();
    expect(planExecution(a).get('mm')).toBe('float');
    expect(int8Obstacle(a, a.nodes[0]!)).toMatch(/'mm\/preact' has no activation parameters/);
    (a.metadata.activations as Record<string, unknown>)['mm/preact'] = activationParams(-3, 3);
    const p = planExecution(a);
    expect([p.get('mm'), p.get('sm'), p.get('ex')]).toEqual(['int8', 'int8', 'float']);
    expect(int8Obstacle(a, a.nodes[2]!)).toMatch(/op Exp has no int8 kernel/);
    (a.metadata.quantization as { floatNodes: string[] }).floatNodes = ['sm'];
    expect(planExecution(a).get('sm')).toBe('float');
    expect(int8Obstacle(a, a.nodes[1]!)).toMatch(/floatNodes/);
  });

  it('a missing input range or weight annotation keeps a node float; dynamic picks Conv2D/MatMul only', () => {
    const a = g();
    (a.metadata.activations as Record<string, unknown>)['mm/preact'] = activationParams(-3, 3);
    delete (a.metadata.activations as Record<string, unknown>).x;
    expect(planExecution(a).get('mm')).toBe('float');
    expect(int8Obstacle(a, a.nodes[0]!)).toMatch(/input 'x' has no activation parameters/);
    const d = g();
    d.metadata.quantization = { mode: 'dynamic', floatNodes: [] };
    expect([...planExecution(d).values()]).toEqual(['dynamic', 'float', 'float']);
    delete d.constants.get('w')!.quantization;
    expect(planExecution(d).get('mm')).toBe('float');
    const f = g();
    delete f.metadata.quantization;
    expect([...planExecution(f).values()].every((e) => e === 'float')).toBe(true);
  });
});
