// Quantization-aware training: fake-quant ops, quantizeModel / quantizeAnnotate /
// quantizeApply, export to the §12 int8 graph.
export {
  fakeQuant,
  fakeQuantRange,
  fakeQuantParams,
  quantizeValues,
  weightParams,
  weightRanges,
  specRange,
  RangeTracker,
  type FakeQuantSpec,
  type FakeQuantParams,
} from './fake-quant.js';
export { quantizeModel, quantizeAnnotate, quantizeApply } from './quantize.js';
export type { QuantizeOptions as QatOptions, LayerQuantizeConfig } from './config.js';
export { QatModel, type FitOptions, type ForwardMode } from './model.js';
export type { Quantizer } from './quantizers.js';
export type { QatReport, Step, StepKind } from './topology.js';
export { convertQat, type ConvertQatOptions } from './export.js';
export { buildMiniMobileNet, type MiniMobileNetOptions } from './models.js';
