// Quantization-aware training: fake-quant ops, quantizeModel / quantizeAnnotate /
// quantizeApply, export to the §12 int8 graph.
export {
  fakeQuant, fakeQuantRange, fakeQuantParams, quantizeValues, weightParams, weightRanges, specRange, RangeTracker,
  type FakeQuantSpec, type FakeQuantParams,
} from './fake-quant.js';
export {
  quantizeModel, quantizeAnnotate, quantizeApply, QatModel,
  type QuantizeOptions as QatOptions, type LayerQuantizeConfig, type QatReport, type FitOptions, type ForwardMode, type Quantizer, type Step, type StepKind,
} from './quantize.js';
export { convertQat, type ConvertQatOptions } from './export.js';
export { buildMiniMobileNet, type MiniMobileNetOptions } from './models.js';
