// A float Equal read only by a Cast to float32 (a keypoint head's peak mask: heat ==
// MaxPool(heat)) runs as one native step writing 1 / 0 (src/runtime/equal-mask.ts); every
// result is compared with stock tfjs-converter on the same JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { initFloatBackend, tf } from '../../src/backend/float.js';
import { loadModel } from '../../src/model/index.js';
import { InferenceSession } from '../../src/runtime/index.js';
import { a, handModel, placeholder, poolNode, stockRun, type HandModel } from '../model/graph-json.js';

beforeAll(async () => {
  await initFloatBackend();
});

const F = { T: a.type('float32') };
const SHAPE = [1, 7, 9, 5];

/**
 * heat → 3×3 SAME MaxPool → Equal(heat, pool) → Cast(float32) → Mul(heat, mask) → peaks;
 * `equalOut` also returns the Equal's bool (the Cast is then not its only reader).
 */
function peakModel(equalOut = false): HandModel {
  return handModel(
    [
      placeholder('heat', 'float32', SHAPE),
      poolNode('MaxPool', 'pool', 'heat', 3),
      { name: 'eq', op: 'Equal', input: ['heat', 'pool'], attr: F },
      { name: 'mask', op: 'Cast', input: ['eq'], attr: { SrcT: a.type('bool'), DstT: a.type('float32') } },
      { name: 'peaks', op: 'Mul', input: ['heat', 'mask'], attr: F },
    ],
    {},
    equalOut ? { signature: { outputs: { peaks: { name: 'peaks:0' }, eq: { name: 'eq:0' } } } } : {},
  );
}

/** Values with ties (a plateau of equal maxima) and a NaN, which equals nothing. */
function heat(): Float32Array {
  const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 5);
  const d = Float32Array.from(x.dataSync() as Float32Array);
  x.dispose();
  d[10] = 3;
  d[15] = 3; // the same channel one pixel over: two equal maxima, both kept
  d[40] = NaN;
  return d;
}

async function session(m: HandModel): Promise<InferenceSession> {
  return InferenceSession.create(await loadModel({ modelJson: m.modelJson, weightData: m.weightData }), {
    threads: 1,
  });
}

describe('an Equal read only by a Cast to float32', () => {
  it('runs natively as one step writing the Cast output, as stock tfjs to the bit (ties kept, NaN → 0)', async () => {
    const m = peakModel();
    const s = await session(m);
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('eq')!.placement).toBe('native-float');
      expect(where.get('mask')).toMatchObject({ placement: 'native-float', fusedInto: 'eq' });
      expect(s.segments.map((g) => g.kind)).toEqual(['native']);
      const x = heat();
      const t = tf.tensor(x, SHAPE);
      const [want] = await stockRun(m, { heat: t }, ['peaks']);
      const got = (await s.run({ heat: { data: x, shape: SHAPE } })).peaks!;
      const w = want!.dataSync() as Float32Array;
      expect(Array.from(got.data as Float32Array)).toEqual(Array.from(w));
      // Not a vacuous mask: some values kept (the tie both times), most set to zero.
      expect(w[10]).toBe(3);
      expect(w[15]).toBe(3);
      const kept = Array.from(w).filter((v) => v !== 0).length;
      expect(kept).toBeGreaterThan(2);
      expect(kept).toBeLessThan(w.length / 2);
      tf.dispose([t, want!]);
    } finally {
      s.dispose();
    }
  });

  it('an Equal whose bool is read elsewhere too stays in tfjs with its Cast, and the results still equal stock tfjs', async () => {
    const m = peakModel(true);
    const s = await session(m);
    try {
      const where = new Map(s.plan.map((p) => [p.node, p]));
      expect(where.get('eq')!.placement).toBe('tfjs');
      expect(where.get('mask')!.placement).toBe('tfjs');
      const x = heat();
      const t = tf.tensor(x, SHAPE);
      const [want, wantEq] = await stockRun(m, { heat: t }, ['peaks', 'eq']);
      const got = await s.run({ heat: { data: x, shape: SHAPE } });
      expect(Array.from(got.peaks!.data as Float32Array)).toEqual(Array.from(want!.dataSync() as Float32Array));
      expect(Array.from(got.eq!.data as Uint8Array)).toEqual(Array.from(wantEq!.dataSync() as Uint8Array));
      tf.dispose([t, want!, wantEq!]);
    } finally {
      s.dispose();
    }
  });
});
