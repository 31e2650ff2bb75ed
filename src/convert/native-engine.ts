// The accuracy guard's engine for conversions: each trial of the guard runs on the native
// runtime (InferenceSession, one thread), the engine that will run the written file, instead
// of the §12 simulation (src/quant/guard.ts says why). It lives here, not in src/quant: the
// runtime depends on src/quant, so src/quant cannot depend on the runtime.
import type { tf } from '../backend/float.js';
import type { Graph } from '../model/ir.js';
import type { QuantizedEngine, QuantizedRun } from '../quant/guard.js';
import { toFloat32 } from '../runtime/host-tensor.js';
import { InferenceSession } from '../runtime/session.js';

export const nativeEngine: QuantizedEngine = {
  name: 'native runtime',
  async prepare(g: Graph, points: string[], sample: Record<string, tf.Tensor>): Promise<QuantizedRun> {
    // The trial's graph as the guard annotated it, with the measure points as its outputs (a
    // shallow copy: planning replaces the copy's tensor table, never the guard's). Without a
    // signature the session names outputs by tensor.
    const view: Graph = { ...g, outputs: [...points], signature: undefined };
    const inputShapes = Object.fromEntries(g.inputs.map((i) => [i.name, [...sample[i.name]!.shape]]));
    const session = await InferenceSession.create(view, { threads: 1, inputShapes });
    return {
      async run(inputs) {
        const feed = Object.fromEntries(
          g.inputs.map((i) => {
            const t = inputs[i.name]!;
            return [i.name, { data: t.dataSync() as ArrayLike<number>, shape: t.shape }];
          }),
        );
        const out = await session.run(feed);
        return points.map((p) => {
          const t = out[p];
          if (!t) throw new Error(`internal: the session did not return measure point '${p}'`);
          return toFloat32(t);
        });
      },
      dispose: () => session.dispose(),
    };
  },
};
