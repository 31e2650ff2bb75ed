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
import {
  compare, convertAndOpen, FLOAT16_MAX_ERROR, FLOAT16_MIN_COSINE, INT8_MAX_ERROR, INT8_MIN_COSINE, outOfTolerance, samples, stockFloat,
  type NamedOutput, type Sample,
} from './support.js';

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

  it('float16: every output matches stock tfjs float', async () => {
    const c = await convertAndOpen(path, 'float16');
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp).toHaveLength(ref[0]!.length);
      expect(outOfTolerance(cmp, ref, FLOAT16_MIN_COSINE, FLOAT16_MAX_ERROR)).toEqual([]);
    } finally {
      c.dispose();
    }
  });

  it('int8 (calibrated): every output stays within the int8 tolerance of float', async () => {
    const c = await convertAndOpen(path, 'int8', calibration);
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp).toHaveLength(ref[0]!.length);
      expect(outOfTolerance(cmp, ref, INT8_MIN_COSINE, INT8_MAX_ERROR)).toEqual([]);
    } finally {
      c.dispose();
    }
  });
});
