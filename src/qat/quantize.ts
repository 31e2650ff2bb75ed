// Quantization-aware training for tfjs-layers models, after TF-MOT's quantize_model:
// quantizeModel(model) returns a QatModel that evaluates the model's layer graph with
// fake-quantized weights and activations placed exactly where the int8 runtime quantizes
// (docs/quantization.md §12): after every conv/dense with its fused ReLU/ReLU6 (BatchNorm
// folded into the weights first), after Add/Concatenate/AvgPool/activation tables, with
// pass-through ops (MaxPool, Reshape, Flatten, padding, nearest upsampling, Dropout) sharing
// their input's range. The model's own variables are what gets trained (fit()), so the
// float model stays usable; convertQat (export.ts) produces the §12 int8 graph.
//
// tfjs-layers cannot re-wrap built layers, so instead of wrapper layers the QatModel walks the
// Keras topology (the same one the graph loader lowers) and runs each layer with tfjs ops.
//
// This file is the entry (quantizeModel, quantizeAnnotate + quantizeApply); config.ts holds the
// settings, topology.ts the layer graph and its classification, quantizers.ts the quantization
// points, constraints.ts PQAT/CQAT, model.ts the QatModel (evaluation and training).
import { tf } from '../backend/float.js';
import { checkLayerConfig, type LayerQuantizeConfig, type QuantizeOptions } from './config.js';
import { QatModel } from './model.js';

export { QatModel };
export type { LayerQuantizeConfig, QuantizeOptions };

// ---- annotation (quantizeAnnotate + quantizeApply)

const annotations = new WeakMap<object, LayerQuantizeConfig>();

/**
 * Marks a layer (or every layer of a model) for quantization by quantizeApply, with an
 * optional per-layer config. Returns its argument.
 */
export function quantizeAnnotate<T extends tf.layers.Layer | tf.LayersModel>(
  target: T,
  config: LayerQuantizeConfig = {},
): T {
  checkLayerConfig(config, 'config');
  if (target instanceof tf.LayersModel) {
    for (const l of target.layers) annotations.set(l, config);
    annotations.set(target, config);
  } else if (target instanceof tf.layers.Layer) {
    annotations.set(target, config);
  } else {
    throw new TypeError('quantizeAnnotate takes a tfjs-layers Layer or LayersModel');
  }
  return target;
}

/** Quantizes only the annotated layers of `model` (everything else stays float). */
export function quantizeApply(model: tf.LayersModel, options: QuantizeOptions = {}): QatModel {
  checkModel(model);
  const layers: Record<string, LayerQuantizeConfig | false> = {};
  let any = false;
  for (const l of model.layers) {
    const a = annotations.get(l);
    if (a) any = true;
    layers[l.name] = options.layers?.[l.name] ?? a ?? false;
  }
  if (!any) throw new RangeError('quantizeApply: no layer of the model is annotated (call quantizeAnnotate first)');
  const disabled = new Set(
    Object.entries(options.layers ?? {})
      .filter(([, c]) => c === false)
      .map(([n]) => n),
  );
  return new QatModel(model, { ...options, layers }, true, disabled);
}

/** Quantizes the whole model (every layer that can be; the others are reported in `report.float`). */
export function quantizeModel(model: tf.LayersModel, options: QuantizeOptions = {}): QatModel {
  checkModel(model);
  return new QatModel(model, options, false);
}

function checkModel(model: tf.LayersModel): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(
      'model must be a tfjs-layers LayersModel (tf.sequential or tf.model); graph models and plain functions cannot be trained',
    );
  }
  const cls = model.getClassName();
  if (cls !== 'Sequential' && cls !== 'Model' && cls !== 'Functional') {
    throw new TypeError(
      `subclassed models are not supported (class '${cls}'): quantize a Sequential or functional model`,
    );
  }
}
