// Folds FusedBatchNorm (inference form) into the preceding Conv2D / DepthwiseConv2dNative /
// MatMul (Dense): with s = gamma / sqrt(var + eps) per output channel (float64, rounded
// once), W' = W × s and b' = (b − mean) × s + beta.
import type { Graph } from '../ir.js';
import {
  absorbNode,
  activation,
  context,
  floatConst,
  isConvLike,
  newConst,
  outChannels,
  soleProducer,
} from './common.js';

export function foldBatchNorm(g: Graph): boolean {
  let changed = false;
  for (const bn of [...g.nodes]) {
    if (bn.opaque || bn.op !== 'FusedBatchNormV3' || bn.inputs.length !== 5) continue;
    const c = context(g);
    const conv = soleProducer(c, bn.inputs[0]!);
    if (!isConvLike(conv) || activation(conv) !== 'none' || conv.inputs.length > 3) continue;
    const filter = floatConst(g, conv.inputs[1]);
    const bias = conv.inputs[2] !== undefined ? floatConst(g, conv.inputs[2]) : undefined;
    if (!filter || (conv.inputs[2] !== undefined && !bias)) continue;
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((t) => floatConst(g, t));
    const C = outChannels(g, conv);
    if (!gamma || !beta || !mean || !variance || C === undefined) continue;
    if ([gamma, beta, mean, variance].some((k) => (k.data as Float32Array).length !== C)) continue;
    if (bias && (bias.data as Float32Array).length !== C) continue;
    const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 0.001;
    const s = new Float64Array(C);
    for (let i = 0; i < C; i++)
      s[i] = (gamma.data as Float32Array)[i]! / Math.sqrt((variance.data as Float32Array)[i]! + Math.fround(eps));
    const w = filter.data as Float32Array;
    const w2 = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) w2[i] = w[i]! * s[i % C]!;
    const b2 = new Float32Array(C);
    for (let i = 0; i < C; i++) {
      const b = bias ? (bias.data as Float32Array)[i]! : 0;
      b2[i] = (b - (mean.data as Float32Array)[i]!) * s[i]! + (beta.data as Float32Array)[i]!;
    }
    conv.inputs[1] = newConst(g, `${conv.name}/bn_folded/filter`, {
      dtype: 'float32',
      shape: [...filter.shape],
      data: w2,
    });
    conv.inputs[2] = newConst(g, `${conv.name}/bn_folded/bias`, { dtype: 'float32', shape: [C], data: b2 });
    absorbNode(g, bn, conv);
    changed = true;
  }
  return changed;
}
