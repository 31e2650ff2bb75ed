// The step schema is declared once in C++ (native/runtime/step_schema.h) and mirrored in
// TypeScript (src/runtime/step-schema.ts): the two tables must be equal, every kind must have
// its C++ factory, and the native side must enforce the slot counts the schema states.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/binding.js';
import { makeStep, STEP_SCHEMA } from '../../src/runtime/step-schema.js';

const root = join(import.meta.dirname, '..', '..');
const header = readFileSync(join(root, 'native/runtime/step_schema.h'), 'utf8');
// Whitespace-tolerant: clang-format may break an entry over continued macro lines.
const entries = [
  ...header.matchAll(
    /X\([\s\\]*(\w+),[\s\\]*(\w+),[\s\\]*"([^"]*)",[\s\\]*"([^"]*)",[\s\\]*"([^"]*)",[\s\\]*"([^"]*)",[\s\\]*"([^"]*)"[\s\\]*\)/g,
  ),
];

describe('step schema', () => {
  it('the TypeScript table equals the C++ one, kind by kind and slot by slot', () => {
    expect(entries.length).toBeGreaterThan(40);
    const fromHeader = Object.fromEntries(
      entries.map(([, name, , inputs, temps, ints, floats, weights]) => [
        name,
        { inputs, temps, ints, floats, weights },
      ]),
    );
    expect(STEP_SCHEMA).toEqual(fromHeader);
  });

  it('every kind has a factory defined in the step files', () => {
    const dir = join(root, 'native/runtime');
    const sources = [...readdirSync(join(dir, 'steps')).map((f) => join(dir, 'steps', f)), join(dir, 'steps.cc')]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const factories = new Set(entries.map((e) => e[2]!));
    for (const f of factories)
      expect(sources, f).toMatch(new RegExp(`std::unique_ptr<Step> ${f}\\(const Spec& p\\) \\{`));
  });

  it('makeStep orders named parameters as the schema does and refuses a missing or unknown one', () => {
    const s = makeStep('avgpool_i8', {
      inputs: [0],
      output: 1,
      ints: { window: [2, 2, 2, 2, 0, 1, 0, 1], x_zero_point: -3, y_zero_point: 4, qmin: -128, qmax: 127 },
      floats: { x_scale: 0.5, y_scale: 0.25 },
    });
    expect(s).toEqual({
      op: 'avgpool_i8',
      inputs: [0],
      outputs: [1],
      ints: [2, 2, 2, 2, 0, 1, 0, 1, -3, 4, -128, 127],
      floats: [0.5, 0.25],
    });
    expect(() =>
      makeStep('avgpool_i8', {
        inputs: [0],
        output: 1,
        ints: { window: [2, 2, 2, 2, 0, 1, 0, 1] } as never,
        floats: { x_scale: 1, y_scale: 1 },
      }),
    ).toThrow(/'x_zero_point' is missing/);
    expect(() => makeStep('maxpool_f32', { inputs: [0], output: 1, ints: { window: [2, 2, 2, 2] } })).toThrow(
      /'window' takes 8 values, got 4/,
    );
    expect(() => makeStep('copy', { inputs: [0], output: 1, ints: { axis: 1 } as never })).toThrow(
      /unknown int parameter\(s\) axis/,
    );
  });

  it('the native registry checks the slot counts of the schema before the kind reads them', () => {
    const Ctor = native().RuntimeSession;
    const plan = (step: object) => ({
      buffers: [
        { dtype: 0, shape: [-1, 4] },
        { dtype: 1, shape: [-1, 4] },
        { dtype: 1, shape: [-1, 4] },
      ],
      weights: [],
      inputs: [0],
      outputs: [1],
      steps: [step],
    });
    expect(
      () =>
        new Ctor(plan({ op: 'quantize', inputs: [0], outputs: [1], ints: [0, 1], floats: [0.1] }) as never, {
          threads: 1,
        }),
    ).toThrow(/expects 1 int parameters, got 2/);
    expect(
      () =>
        new Ctor(plan({ op: 'quantize', inputs: [0], outputs: [1], ints: [0], floats: [] }) as never, { threads: 1 }),
    ).toThrow(/expects 1 float parameters, got 0/);
    expect(
      () =>
        new Ctor(plan({ op: 'quantize', inputs: [0, 0], outputs: [1], ints: [0], floats: [0.1] }) as never, {
          threads: 1,
        }),
    ).toThrow(/expects 1 inputs, got 2/);
    expect(
      () =>
        new Ctor(plan({ op: 'quantize', inputs: [0], outputs: [1], temps: [2], ints: [0], floats: [0.1] }) as never, {
          threads: 1,
        }),
    ).toThrow(/expects 0 temporary buffers, got 1/);
  });

  it('a step activation is any code but clamp (10), which needs bounds no step carries', () => {
    const Ctor = native().RuntimeSession;
    const act = (code: number) => () =>
      new Ctor(
        {
          buffers: [
            { dtype: 0, shape: [-1, 4] },
            { dtype: 0, shape: [-1, 4] },
          ],
          weights: [],
          inputs: [0],
          outputs: [1],
          steps: [{ op: 'act_f32', inputs: [0], outputs: [1], ints: [code], floats: [1] }],
        } as never,
        { threads: 1 },
      ).dispose();
    for (const code of [0, 9, 11, 12, 13]) expect(act(code), `code ${code}`).not.toThrow();
    expect(act(10)).toThrow(/clamp\) needs bounds/);
    expect(act(14)).toThrow(/activation/);
  });
});
