// Models built here for the families the published ones lack (bench/zoo/built), written into a
// temporary folder by the same recipes as the zoo: a transformer encoder (graph model: GELU via
// Erf, LayerNorm, BatchMatMul attention, Softmax, two outputs), MobileNetV3 blocks (hard-swish,
// squeeze-excite; graph model), a UNet and EfficientNet-lite
// blocks (layers models). Each is checked in stock TF.js first, then converted to float16 and
// int8 and compared output by output (tolerances: support.ts). Layers models' outputs are paired
// by position here: their names are checked in pending.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/float.js';
import { RECIPES } from '../../bench/zoo/build.js';
import { compare, convertAndOpen, outOfTolerance, samples, stockFloat, TOLERANCE, type NamedOutput, type Sample } from './support.js';

describe.each(['transformer-encoder', 'mobilenet-v3-blocks', 'unet', 'efficientnet-lite-blocks'])('built model %s', (name) => {
  const recipe = RECIPES.find((r) => r.name === name)!;
  const dir = mkdtempSync(join(tmpdir(), 'tfjq-zoo-built-'));
  const path = join(dir, 'model.json');
  let evalSet: Sample[];
  let calibration: Sample[];
  let ref: NamedOutput[][];

  beforeAll(async () => {
    await recipe.write(dir);
    evalSet = samples(recipe.inputs, 3, 2000);
    calibration = samples(recipe.inputs, 4, 1000);
    ref = await stockFloat(path, evalSet);
  });
  afterAll(() => {
    for (const s of [...evalSet, ...calibration]) tf.dispose(Object.values(s));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['float16', 'int8'] as const)('%s: every output matches stock tfjs float within the mode\'s tolerance', async (mode) => {
    const c = await convertAndOpen(path, mode, calibration);
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp).toHaveLength(ref[0]!.length);
      expect(outOfTolerance(cmp, ref, TOLERANCE[mode].minCosine, TOLERANCE[mode].maxRelError)).toEqual([]);
    } finally {
      c.dispose();
    }
  });
});
