// A tolerance, derived from docs/quantization.md's noise, on how far a mode-`dynamic` model's
// outputs may be from the float model's (§12.4: Conv2D / MatMul with per-output-channel
// symmetric int8 weights, activations quantized to uint8 on each run, everything else float32).
//
// Per quantized layer y = Σ x·w (a Conv2D or Dense), with the layer's input carrying an error of
// standard deviation σ_in:
//   - weights (§4 symmetric, §5 per channel): ŵ = w + δw, δw uniform in ±sw/2 (variance
//     sw²/12) with sw = amax_channel / 127;
//   - activations (§8, §4 asymmetric uint8 over a range containing 0): δx uniform in ±sa/2
//     (variance sa²/12) with sa = (max(hi, 0) − min(lo, 0)) / 255 — the per-tensor range, which
//     contains every row's, so it serves both granularities;
//   - ŷ − y = Σ (ε_in + δx)·ŵ + x·δw, taken as independent zero-mean terms:
//     σ_out² = Σ (σ_in² + sa²/12)·ŵ² + x²·sw²/12 with |ŵ| ≤ |w| + sw/2, each sum evaluated by the
//     layer's own linear op on squares (zero padding adds nothing).
// ReLU and max pooling do not grow an error (1-Lipschitz), sigmoid divides it by 4 (slope
// ≤ 1/4), average pooling at most keeps it. The tolerance is 6 σ_out per output element plus a
// relative 1e-5 for float32 rounding of the float parts. Independence is a model (upstream
// errors are shared between neighbours), so the headroom was measured: on the dense net and the
// three sequentialCnn models of the install and interop tests the worst element reaches 0.42,
// 0.13, 0.11 and 0.10 of the tolerance (2.5 σ at most). It rejects a quantization wrong by more
// than its own noise (scales, axes, a lost bias); tests pair it with an exact comparison for
// one-step bugs.
import { tf } from '../../src/backend/float.js';

type Layer = tf.layers.Layer;

/** Per-output-element tolerances of |dynamic − float| for `model` on `x`, and the float output. */
export function dynamicTolerance(model: tf.Sequential, x: tf.Tensor): { tolerance: Float32Array; float: Float32Array } {
  return tf.tidy(() => {
    let h: tf.Tensor = x;
    let e: tf.Tensor = tf.zerosLike(x); // σ of the error so far, per element
    for (const layer of model.layers) [h, e] = step(layer, h, e);
    const float = h.dataSync() as Float32Array;
    const tolerance = e.mul(6).add(h.abs().mul(1e-5)).dataSync() as Float32Array;
    return { tolerance: Float32Array.from(tolerance), float: Float32Array.from(float) };
  });
}

/** The largest ratio |got − float| / tolerance over the output (≤ 1 when it holds). */
export function toleranceRatio(got: ArrayLike<number>, r: { tolerance: Float32Array; float: Float32Array }): number {
  if (got.length !== r.float.length) throw new Error(`expected ${r.float.length} outputs, got ${got.length}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - r.float[i]!) / r.tolerance[i]!);
  return worst;
}

function step(layer: Layer, h: tf.Tensor, e: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const kind = layer.getClassName();
  const cfg = layer.getConfig() as Record<string, unknown>;
  if (kind === 'Flatten') return [h.reshape([h.shape[0]!, -1]), e.reshape([e.shape[0]!, -1])];
  if (kind === 'MaxPooling2D' || kind === 'AveragePooling2D') {
    const pool = cfg.poolSize as [number, number],
      strides = (cfg.strides ?? pool) as [number, number];
    const padding = cfg.padding as 'valid' | 'same';
    const f = kind === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
    return [f(h as tf.Tensor4D, pool, strides, padding), f(e as tf.Tensor4D, pool, strides, padding)];
  }
  if (kind !== 'Conv2D' && kind !== 'Dense') throw new Error(`dynamicTolerance: no rule for layer ${kind}`);
  const [w, b] = layer.getWeights() as [tf.Tensor, tf.Tensor | undefined];
  const lin = (a: tf.Tensor, k: tf.Tensor): tf.Tensor =>
    kind === 'Dense'
      ? tf.matMul(a as tf.Tensor2D, k as tf.Tensor2D)
      : tf.conv2d(
          a as tf.Tensor4D,
          k as tf.Tensor4D,
          cfg.strides as [number, number],
          cfg.padding as 'valid' | 'same',
          'NHWC',
          cfg.dilationRate as [number, number],
        );
  // Per output channel (the last axis of both kernels), broadcast over the kernel.
  const sw = w
    .abs()
    .max(
      w.shape.slice(0, -1).map((_, i) => i),
      true,
    )
    .div(127)
    .broadcastTo(w.shape);
  // The input range widened by 6 σ_in: the quantized input's range lies inside it.
  const lo = h.sub(e.mul(6)).min().minimum(0),
    hi = h.add(e.mul(6)).max().maximum(0);
  const sa = hi.sub(lo).div(255);
  const wq = w.abs().add(sw.div(2)); // |ŵ| ≤ |w| + sw/2
  const fresh = lin(tf.onesLike(h).mul(sa.square().div(12)), wq.square()).add(lin(h.square(), sw.square().div(12)));
  const err = lin(e.square(), wq.square()).add(fresh).sqrt();
  let y = lin(h, w);
  if (b) y = y.add(b);
  const act = (cfg.activation as string | undefined) ?? 'linear';
  if (act === 'linear') return [y, err];
  if (act === 'relu') return [y.relu(), err];
  if (act === 'sigmoid') return [y.sigmoid(), err.div(4)];
  throw new Error(`dynamicTolerance: no rule for activation ${act}`);
}
