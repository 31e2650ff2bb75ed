// Fuses a bias add and an activation into the preceding Conv2D / DepthwiseConv2dNative /
// MatMul: BiasAdd/AddV2 with a per-channel constant → bias input (summed into a bias already there); Relu, Relu6 (also the
// Minimum(6, Relu) / Maximum(x, 0) / ClipByValue(0, 6) clamp forms), Elu, LeakyRelu, Prelu,
// Sigmoid, Tanh → the `activation` attribute.
import type { Graph, Node } from '../ir.js';
import {
  absorbNode,
  activation,
  context,
  floatConst,
  isConvLike,
  newConst,
  outChannels,
  scalarValue,
  soleProducer,
  type PassContext,
} from './common.js';

export function fuseBiasAdd(g: Graph): boolean {
  let changed = false;
  for (const add of [...g.nodes]) {
    if (add.opaque || (add.op !== 'BiasAdd' && add.op !== 'AddV2') || add.inputs.length !== 2) continue;
    const c = context(g);
    for (const side of [0, 1]) {
      const conv = soleProducer(c, add.inputs[side]!);
      const k = floatConst(g, add.inputs[1 - side]);
      if (!isConvLike(conv) || !k || conv.inputs.length > 3 || activation(conv) !== 'none') continue;
      const C = outChannels(g, conv);
      const ks = k.shape;
      if (C === undefined || (k.data as Float32Array).length !== C || (ks.length > 1 && ks[ks.length - 1] !== C))
        continue;
      if (conv.op === 'MatMul' && g.tensors.get(conv.outputs[0]!)?.shape?.length !== 2) continue;
      // A second add after a bias (a batch norm's shift after a folded scale) sums into it.
      const prior = conv.inputs[2] !== undefined ? floatConst(g, conv.inputs[2]) : undefined;
      if (conv.inputs[2] !== undefined && (prior?.data as Float32Array | undefined)?.length !== C) continue;
      const kd = k.data as Float32Array;
      const b = prior
        ? newConst(g, `${conv.name}/bias_sum`, {
            dtype: 'float32',
            shape: [C],
            data: Float32Array.from(prior.data as Float32Array, (v, i) => v + kd[i]!),
          })
        : ks.length === 1
          ? k.name
          : newConst(g, `${k.name}/flat`, { dtype: 'float32', shape: [C], data: kd });
      conv.inputs[2] = b;
      absorbNode(g, add, conv);
      changed = true;
      break;
    }
  }
  return changed;
}

function convBefore(c: PassContext, n: Node, idx = 0): Node | undefined {
  const p = soleProducer(c, n.inputs[idx]!);
  return isConvLike(p) ? p : undefined;
}

function ensureBias(g: Graph, conv: Node): boolean {
  if (conv.inputs.length >= 3) return true;
  const C = outChannels(g, conv);
  if (C === undefined) return false;
  conv.inputs.push(newConst(g, `${conv.name}/zero_bias`, { dtype: 'float32', shape: [C], data: new Float32Array(C) }));
  return true;
}

function absorb(g: Graph, conv: Node, act: Node, kind: string, extra: Record<string, number> = {}): void {
  conv.attrs.activation = kind;
  Object.assign(conv.attrs, extra);
  absorbNode(g, act, conv);
}

export function fuseActivation(g: Graph): boolean {
  let changed = false;
  const SIMPLE: Record<string, string> = { Relu: 'relu', Relu6: 'relu6', Elu: 'elu', Sigmoid: 'sigmoid', Tanh: 'tanh' };
  for (const n of [...g.nodes]) {
    if (n.opaque || !g.nodes.includes(n)) continue;
    const c = context(g);
    if (SIMPLE[n.op] && n.inputs.length === 1) {
      const conv = convBefore(c, n);
      if (conv && activation(conv) === 'none') {
        absorb(g, conv, n, SIMPLE[n.op]!);
        changed = true;
      }
      continue;
    }
    if (n.op === 'LeakyRelu') {
      const conv = convBefore(c, n);
      if (conv && activation(conv) === 'none') {
        absorb(g, conv, n, 'leakyrelu', { leakyrelu_alpha: typeof n.attrs.alpha === 'number' ? n.attrs.alpha : 0.2 });
        changed = true;
      }
      continue;
    }
    if (n.op === 'Prelu' && n.inputs.length === 2) {
      const conv = convBefore(c, n);
      const alpha = floatConst(g, n.inputs[1]);
      if (conv && alpha && activation(conv) === 'none' && conv.inputs.length <= 3 && ensureBias(g, conv)) {
        conv.inputs.push(alpha.name);
        absorb(g, conv, n, 'prelu');
        changed = true;
      }
      continue;
    }
    // Clamp forms.
    if ((n.op === 'Minimum' || n.op === 'Maximum') && n.inputs.length === 2) {
      for (const side of [0, 1]) {
        const v = scalarValue(g, n.inputs[1 - side]);
        const conv = convBefore(c, n, side);
        if (!conv || v === undefined) continue;
        const a = activation(conv);
        if (n.op === 'Minimum' && v === 6 && a === 'relu') {
          absorb(g, conv, n, 'relu6');
          changed = true;
        } else if (n.op === 'Maximum' && v === 0 && a === 'none') {
          absorb(g, conv, n, 'relu');
          changed = true;
        } else if (
          (n.op === 'Maximum' && v === 0 && (a === 'relu' || a === 'relu6')) ||
          (n.op === 'Minimum' && v === 6 && a === 'relu6')
        ) {
          // Already within the bound (Keras' ReLU(6) exports as Maximum(Minimum(x, 6), 0)).
          absorb(g, conv, n, a);
          changed = true;
        }
        break;
      }
      continue;
    }
    if (n.op === 'ClipByValue' && n.inputs.length === 3) {
      const lo = scalarValue(g, n.inputs[1]);
      const hi = scalarValue(g, n.inputs[2]);
      const conv = convBefore(c, n);
      if (conv && lo === 0 && hi === 6 && (activation(conv) === 'none' || activation(conv) === 'relu')) {
        absorb(g, conv, n, 'relu6');
        changed = true;
      }
    }
  }
  return changed;
}
