// Models the user already holds as TF.js objects — a tf.LayersModel (tf.sequential(),
// tf.model(), tf.loadLayersModel()) or a tf.GraphModel (tf.loadGraphModel()) — read through
// the model's own save() into a capturing IOHandler, so the loader sees the same
// ModelArtifacts a model.json on disk would give. Recognised by shape, not by instanceof:
// the model may come from another copy of tfjs than the one this package resolves.
import type { IOHandlerLike, ModelArtifactsLike } from './files.js';

/** What this module needs of a tf.LayersModel or tf.GraphModel: save() to an IOHandler. */
export interface TfjsModelLike {
  save(handler: { save(artifacts: ModelArtifactsLike): Promise<unknown> }): Promise<unknown>;
}

type Probe = Record<string, unknown> | null | undefined;

function isLayersModel(x: Probe): boolean {
  // tf.LayersModel: predict/fit plus a layers array and Keras-style input/output lists.
  return (
    !!x &&
    typeof x.predict === 'function' &&
    typeof x.fit === 'function' &&
    Array.isArray(x.layers) &&
    Array.isArray(x.inputs)
  );
}

function isGraphModel(x: Probe): boolean {
  // tf.GraphModel: execute/executeAsync over a converted graph, with its name lists.
  return (
    !!x &&
    typeof x.executeAsync === 'function' &&
    typeof x.execute === 'function' &&
    Array.isArray(x.inputNodes) &&
    Array.isArray(x.outputNodes)
  );
}

/** True for a tf.LayersModel or tf.GraphModel object (of any tfjs copy). */
export function isTfjsModel(x: unknown): x is TfjsModelLike {
  if (x === null || typeof x !== 'object' || typeof (x as Probe)!.save !== 'function') return false;
  return isLayersModel(x as Probe) || isGraphModel(x as Probe);
}

/** Label naming the object in errors, like the file name of a model read from disk. */
export function tfjsModelLabel(model: TfjsModelLike): string {
  return isGraphModel(model as unknown as Probe) ? '<tf.GraphModel>' : '<tf.LayersModel>';
}

/**
 * An IOHandler whose load() returns the model's artifacts (topology, weight specs, weight
 * bytes) as its save() hands them out. The model is not changed: save() only reads it.
 */
export function tfjsModelHandler(model: TfjsModelLike): IOHandlerLike {
  if (!isTfjsModel(model)) throw new TypeError('model must be a tf.LayersModel or tf.GraphModel');
  return {
    async load() {
      let captured: ModelArtifactsLike | undefined;
      await model.save({
        async save(artifacts: ModelArtifactsLike) {
          captured = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        },
      });
      if (!captured) throw new Error(`${tfjsModelLabel(model)}.save() did not hand over any artifacts`);
      // A GraphModel keeps the artifacts it was loaded from; without weight bytes there is
      // nothing to quantize, and saying so beats an error about missing weights later.
      if (captured.weightSpecs && (captured.weightSpecs as unknown[]).length > 0 && captured.weightData === undefined) {
        throw new Error(
          `${tfjsModelLabel(model)} no longer holds its weight bytes; load it from its model.json instead`,
        );
      }
      return captured;
    },
  };
}
