// Folds a per-output-channel (or single) constant factor into the preceding Conv2D /
// DepthwiseConv2dNative / MatMul: Mul(conv(x, W) + b, s) = conv(x, W × s) + b × s.
//
// Exporters that decompose batch normalization leave it as Mul(x, γ/σ) and AddV2(·, β − μγ/σ)
// after the convolution (Keras MobileNets exported through TF2 grappler fold it into Conv2D but
// not into DepthwiseConv2dNative). Unfolded, the convolution's int8 output carries every
// channel at its pre-normalization magnitude under one shared scale — channels hundreds of
// times apart — and the small ones are lost (a face-embedding model kept cosine 0.01). Folded,
// the quantized tensor is the normalized one. The AddV2 then fuses as the bias (fuse.ts).
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

export function foldScale(g: Graph): boolean {
  let changed = false;
  for (const mul of [...g.nodes]) {
    if (mul.opaque || mul.op !== 'Mul' || mul.inputs.length !== 2 || !g.nodes.includes(mul)) continue;
    const c = context(g);
    for (const side of [0, 1]) {
      const conv = soleProducer(c, mul.inputs[side]!);
      const k = floatConst(g, mul.inputs[1 - side]);
      if (!isConvLike(conv) || !k || activation(conv) !== 'none' || conv.inputs.length > 3) continue;
      const filter = floatConst(g, conv.inputs[1]);
      const bias = conv.inputs[2] !== undefined ? floatConst(g, conv.inputs[2]) : undefined;
      const C = outChannels(g, conv);
      if (!filter || (conv.inputs[2] !== undefined && !bias) || C === undefined) continue;
      if (conv.op === 'MatMul' && g.tensors.get(conv.outputs[0]!)?.shape?.length !== 2) continue;
      const s = k.data as Float32Array;
      // One factor, or one per output channel along the last axis (other axes of size 1).
      const perChannel = s.length === C && k.shape[k.shape.length - 1] === C;
      if (!(s.length === 1 || perChannel) || !s.every(Number.isFinite)) continue;
      const at = (i: number) => s[s.length === 1 ? 0 : i % C]!;
      const w = filter.data as Float32Array;
      const w2 = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) w2[i] = w[i]! * at(i);
      conv.inputs[1] = newConst(g, `${conv.name}/scale_folded/filter`, {
        dtype: 'float32',
        shape: [...filter.shape],
        data: w2,
      });
      if (bias) {
        const b = bias.data as Float32Array;
        conv.inputs[2] = newConst(g, `${conv.name}/scale_folded/bias`, {
          dtype: 'float32',
          shape: [C],
          data: Float32Array.from(b, (v, i) => v * at(i)),
        });
      }
      absorbNode(g, mul, conv);
      changed = true;
      break;
    }
  }
  return changed;
}
