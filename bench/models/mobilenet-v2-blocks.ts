// The inverted-residual stages of MobileNetV2 (Sandler et al. 2018, table 2): the Keras-layers
// model of models.ts and the ONNX layer list of onnx.ts read this one table, so the two engines
// are timed on the same architecture. Kept free of imports: onnx.ts runs without tfjs.

/** Per stage: [expansion t, output channels c, repeats n, first stride s]. */
export const MOBILENET_V2_BLOCKS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];
