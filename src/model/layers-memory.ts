// A tfjs-layers model saved to memory as tfjs would save it to files (model.json object and
// weight bytes): how the demo hands a model it trains to the converter without a disk.
import { tf } from '../backend/float.js';

/** Artifacts of a tfjs-layers model as tfjs would save them (model.json object + weight bytes). */
export async function saveLayersToMemory(
  model: tf.LayersModel,
): Promise<{ modelJson: Record<string, unknown>; weightData: Uint8Array }> {
  let out: { modelJson: Record<string, unknown>; weightData: Uint8Array } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(0);
      out = {
        modelJson: {
          modelTopology: a.modelTopology,
          format: a.format,
          generatedBy: a.generatedBy,
          convertedBy: a.convertedBy ?? null,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
        },
        weightData: data,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}
