// Seeded, variance-preserving weights for the built models (He-uniform over each kernel's fan-in,
// small biases, BatchNorm statistics near identity), so activations neither vanish nor explode
// through the depth of a net — random weights in [-1, 1] do, and then quantization error is
// meaningless. Used for tfjs-layers models (after build) and graph models (GraphModelBuilder).
import { tf } from '../../../src/backend/float.js';
import { randomFloats, type GraphModelBuilder } from '../../../test/support/model-fixtures.js';

/** The uniform range of one weight from its (Keras) name and shape. */
export function initRange(name: string, shape: readonly number[]): [number, number] {
  if (/moving_variance/.test(name)) return [0.5, 1.5];
  if (/gamma/.test(name)) return [0.8, 1.2];
  if (/moving_mean|beta|bias/.test(name)) return [-0.1, 0.1];
  if (/embeddings/.test(name)) return [-1, 1];
  const fanIn = /depthwise/.test(name) ? shape[0]! * shape[1]! : shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const r = Math.sqrt(6 / Math.max(1, fanIn));
  return [-r, r];
}

/** Writes seeded weights into every variable of a tfjs-layers model. */
export function initLayers(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const [lo, hi] = initRange(w.originalName, shape);
    const v = tf.tensor(
      randomFloats(
        shape.reduce((a, b) => a * b, 1),
        s++,
        lo,
        hi,
      ),
      shape,
    );
    w.write(v);
    v.dispose();
  }
}

/** A graph-model kernel constant with He-uniform values over `fanIn`. */
export function kernel(
  b: GraphModelBuilder,
  name: string,
  shape: number[],
  fanIn = shape.slice(0, -1).reduce((a, c) => a * c, 1),
): string {
  const r = Math.sqrt(6 / fanIn);
  return b.const(name, shape, undefined, 'float32', -r, r);
}

/** A small bias constant. */
export function bias(b: GraphModelBuilder, name: string, n: number): string {
  return b.const(name, [n], undefined, 'float32', -0.1, 0.1);
}
