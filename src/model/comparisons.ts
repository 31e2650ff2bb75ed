// The element-wise comparisons of TF graphs: a bool result, which jumps where the operands cross
// (shape inference takes their broadcast shape; the accuracy guard treats one that feeds a
// selection as part of it, src/quant/measure-points.ts).
export const COMPARISON_OPS: ReadonlySet<string> = new Set([
  'Equal',
  'NotEqual',
  'Greater',
  'GreaterEqual',
  'Less',
  'LessEqual',
]);
