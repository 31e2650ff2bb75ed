// The public `ptq` namespace: post-training quantization (quant/) with the per-layer report's
// formatting (report/layers.ts), which sits above quant/ in the layering and so is joined here.
export * from './quant/index.js';
export { layerTable, formatLayerReport } from './report/layers.js';
