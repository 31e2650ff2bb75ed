// The quantization scheme of docs/quantization.md, stated in plain TypeScript: every
// float32 operation is one double operation followed by Math.fround (exact for +, −, ×, ÷
// of float32 operands: double rounding is innocuous at 53 ≥ 2·24 + 2 bits). The native
// kernels must equal these functions bit for bit; reports and QAT use them directly.
// Pure functions, no native code, no validation beyond what the formulas need.

/** fl32(e): round a number once to the nearest float32 (ties to even). */
export const fl32 = Math.fround;

/** rne(v): nearest integer, ties to even (Math.round is ties toward +∞: not it). Never −0. */
export function rne(v: number): number {
  const r = Math.round(v);
  return (r - v === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export type QType = 'int8' | 'uint8' | 'int32';

/** [qmin, qmax] of a type (§1); narrow range drops the lowest value (int8 [−127, 127], uint8 [1, 255]). */
export function qRange(type: QType, narrow = false): [number, number] {
  const [lo, hi] = type === 'int8' ? [-128, 127] : type === 'uint8' ? [0, 255] : [-(2 ** 31), 2 ** 31 - 1];
  return [narrow ? lo + 1 : lo, hi];
}

export interface QParams {
  scale: number;
  zeroPoint: number;
}

// ---- §4 choosing parameters

/** NaN bounds read as 0; the range is widened to include 0 (float32). */
function widen(lo: number, hi: number): [number, number] {
  const l = fl32(lo),
    h = fl32(hi);
  return [Number.isNaN(l) || l > 0 ? 0 : l, Number.isNaN(h) || h < 0 ? 0 : h];
}

function fromScale(scale: number, lo: number, qmin: number, qmax: number): QParams {
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1;
  return { scale, zeroPoint: rne(clamp(fl32(-lo / scale), qmin, qmax)) };
}

/** Asymmetric uint8: scale = fl32(fl32(hi − lo) / 255), zero point = clamp(rne(fl32(−lo / scale)), 0, 255). */
export function chooseAsymmetricU8(lo: number, hi: number): QParams {
  const [l, h] = widen(lo, hi);
  return fromScale(fl32(fl32(h - l) / 255), l, 0, 255);
}

/** Asymmetric int8: the uint8 parameters with zero point − 128. */
export function chooseAsymmetricI8(lo: number, hi: number): QParams {
  const p = chooseAsymmetricU8(lo, hi);
  return { scale: p.scale, zeroPoint: p.zeroPoint - 128 };
}

/** Symmetric int8 narrow range (weights): scale = fl32(max(|lo|, |hi|) / 127), zero point 0. */
export function chooseSymmetricI8(lo: number, hi: number): QParams {
  const [l, h] = widen(lo, hi);
  const scale = fl32(Math.max(Math.abs(l), Math.abs(h)) / 127);
  return { scale: scale > 0 && Number.isFinite(scale) ? scale : 1, zeroPoint: 0 };
}

export type ParamScheme = 'asymmetricU8' | 'asymmetricI8' | 'symmetricI8';
export const PARAM_SCHEMES: readonly ParamScheme[] = ['asymmetricU8', 'asymmetricI8', 'symmetricI8'];

export function chooseParams(scheme: ParamScheme, lo: number, hi: number): QParams {
  return scheme === 'asymmetricU8'
    ? chooseAsymmetricU8(lo, hi)
    : scheme === 'asymmetricI8'
      ? chooseAsymmetricI8(lo, hi)
      : chooseSymmetricI8(lo, hi);
}

/** Range of the finite values, widened to include 0 (§4, §8): [lo ≤ 0, hi ≥ 0], +0 never −0. */
export function rangeOf(x: ArrayLike<number>, begin = 0, end = x.length): [number, number] {
  let lo = 0,
    hi = 0;
  for (let i = begin; i < end; i++) {
    const v = x[i];
    if (v < lo && v !== -Infinity) lo = v;
    if (v > hi && v !== Infinity) hi = v;
  }
  return [lo, hi];
}

// ---- §2, §3, §7 one value

/** §2: q = rne(clamp(fl32(x / scale), qmin − zp, qmax − zp)) + zp; NaN → zp. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const v = fl32(fl32(x) / fl32(scale));
  if (Number.isNaN(v)) return zeroPoint;
  return rne(clamp(v, qmin - zeroPoint, qmax - zeroPoint)) + zeroPoint;
}

/** §3: fl32((q − zp) × scale), with q − zp rounded to float32 first (exact unless |q − zp| > 2²⁴). */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return fl32(fl32(q - zeroPoint) * fl32(scale));
}

/** §7: the multiplier fl32(fl32(sa × sw) / so). */
export function requantizeMultiplier(inputScale: number, weightScale: number, outputScale: number): number {
  return fl32(fl32(fl32(inputScale) * fl32(weightScale)) / fl32(outputScale));
}

/** §7: q = rne(clamp(fl32(fl32(acc) × mult), lo − zo, hi − zo)) + zo. */
export function requantizeValue(acc: number, multiplier: number, outZeroPoint: number, lo: number, hi: number): number {
  const y = fl32(fl32(acc) * fl32(multiplier));
  if (Number.isNaN(y)) return outZeroPoint;
  return rne(clamp(y, lo - outZeroPoint, hi - outZeroPoint)) + outZeroPoint;
}

export type Activation = 'none' | 'relu' | 'relu6' | { min: number; max: number };

/** §7: the output bounds [lo, hi] of a requantization narrowed by a fused activation. */
export function activationBounds(
  type: 'int8' | 'uint8',
  outZeroPoint: number,
  outScale: number,
  activation: Activation = 'none',
): [number, number] {
  let [lo, hi] = qRange(type);
  const at = (v: number) => outZeroPoint + rne(fl32(fl32(v) / fl32(outScale)));
  if (activation === 'relu' || activation === 'relu6') lo = Math.max(lo, outZeroPoint);
  if (activation === 'relu6') hi = Math.min(hi, at(6));
  if (typeof activation === 'object') {
    lo = Math.max(lo, at(activation.min));
    hi = Math.min(hi, at(activation.max));
  }
  return [lo, hi];
}

// ---- §5 per-channel layouts

/** A tensor seen as [outer, channels, inner]; element i uses channel ⌊i / inner⌋ mod channels. */
export interface ChannelLayout {
  outer: number;
  channels: number;
  inner: number;
}

export function perTensorLayout(n: number): ChannelLayout {
  return { outer: 1, channels: 1, inner: n };
}

/** The layout of `shape` with channels along `axis` (negative counts from the end). */
export function channelLayout(shape: readonly number[], axis: number): ChannelLayout {
  const a = axis < 0 ? axis + shape.length : axis;
  const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
  return { outer: prod(shape.slice(0, a)), channels: shape[a], inner: prod(shape.slice(a + 1)) };
}

export type WeightKind = 'dense' | 'conv2d' | 'depthwiseConv2d' | 'conv2dTranspose';

/**
 * §5: the per-channel layout of a TF.js weight. dense [in, out] → axis 1; conv2d
 * [kh, kw, in, out] → 3; conv2dTranspose [kh, kw, out, in] → 2; depthwiseConv2d
 * [kh, kw, in, multiplier] → axes 2 and 3 together, channel c = i × multiplier + m.
 */
export function weightLayout(kind: WeightKind, shape: readonly number[]): ChannelLayout {
  switch (kind) {
    case 'dense':
      return channelLayout(shape, 1);
    case 'conv2d':
      return channelLayout(shape, 3);
    case 'conv2dTranspose':
      return channelLayout(shape, 2);
    case 'depthwiseConv2d':
      return { outer: shape[0] * shape[1], channels: shape[2] * shape[3], inner: 1 };
  }
}

export function channelOf(i: number, l: ChannelLayout): number {
  return Math.floor(i / l.inner) % l.channels;
}

// ---- array versions (per tensor: layout {1, 1, n} and one-element parameter arrays)

export function quantizeArray(
  x: ArrayLike<number>,
  l: ChannelLayout,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  qmin: number,
  qmax: number,
): number[] {
  return Array.from(x, (v, i) => {
    const c = channelOf(i, l);
    return quantizeValue(v, scales[c], zeroPoints[c], qmin, qmax);
  });
}

export function dequantizeArray(
  q: ArrayLike<number>,
  l: ChannelLayout,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
): number[] {
  return Array.from(q, (v, i) => {
    const c = channelOf(i, l);
    return dequantizeValue(v, scales[c], zeroPoints[c]);
  });
}

/** §7 over an array; inZeroPoints (8-bit input rescaling) is subtracted first: acc = q − zi[c]. */
export function requantizeArray(
  input: ArrayLike<number>,
  l: ChannelLayout,
  multipliers: ArrayLike<number>,
  inZeroPoints: ArrayLike<number> | null,
  outZeroPoint: number,
  lo: number,
  hi: number,
): number[] {
  return Array.from(input, (v, i) => {
    const c = channelOf(i, l);
    return requantizeValue(v - (inZeroPoints ? inZeroPoints[c] : 0), multipliers[c], outZeroPoint, lo, hi);
  });
}

/** Per-channel ranges of the finite values, widened to include 0. */
export function channelRanges(x: ArrayLike<number>, l: ChannelLayout): { lo: number[]; hi: number[] } {
  const lo = new Array<number>(l.channels).fill(0),
    hi = new Array<number>(l.channels).fill(0);
  for (let i = 0; i < x.length; i++) {
    const c = channelOf(i, l),
      v = x[i];
    if (v < lo[c] && v !== -Infinity) lo[c] = v;
    if (v > hi[c] && v !== Infinity) hi[c] = v;
  }
  return { lo, hi };
}

export function chooseChannelParams(x: ArrayLike<number>, l: ChannelLayout, scheme: ParamScheme): QParams[] {
  const { lo, hi } = channelRanges(x, l);
  return lo.map((v, c) => chooseParams(scheme, v, hi[c]));
}

/** §8: x is m × k (row-major); one parameter pair per row, or one for the whole matrix. */
export function dynamicQuantizeU8(
  x: ArrayLike<number>,
  m: number,
  k: number,
  perRow: boolean,
): { q: number[]; params: QParams[] } {
  const q: number[] = [];
  const params: QParams[] = [];
  const rows = perRow ? m : 1,
    len = perRow ? k : m * k;
  for (let r = 0; r < rows; r++) {
    const p = chooseAsymmetricU8(...rangeOf(x, r * len, (r + 1) * len));
    params.push(p);
    for (let i = r * len; i < (r + 1) * len; i++) q.push(quantizeValue(x[i], p.scale, p.zeroPoint, 0, 255));
  }
  return { q, params };
}

// ---- §9 float16 (bit patterns as numbers)

/**
 * float32 bits → float16 bits: round to nearest even, ≥ 65520 → ±Inf, subnormal halves
 * produced, ±0 kept; NaN → quiet NaN keeping the sign and the top 10 payload bits (F16C/NEON).
 */
export function float32BitsToFloat16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const a = bits & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00 | ((a >>> 13) & 0x3ff);
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) {
    if (a < 0x33000000) return sign;
    const shift = 126 - (a >>> 23);
    const m = (a & 0x7fffff) | 0x800000;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  const b = a - 0x38000000;
  let h = b >>> 13;
  const rem = b & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float16 bits → float32 bits, exact (a signaling NaN is quieted). */
export function float16ToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 31) return (sign | 0x7f800000 | (m << 13) | (m ? 0x400000 : 0)) >>> 0;
  if (e === 0) {
    if (m === 0) return sign >>> 0;
    let exp = 113,
      mm = m;
    while (!(mm & 0x400)) {
      mm <<= 1;
      exp--;
    }
    return (sign | (exp << 23) | ((mm & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A number (rounded to float32 first) → float16 bits. NaN payloads are not preserved by JS numbers. */
export function toFloat16(x: number): number {
  f32[0] = x;
  return float32BitsToFloat16(u32[0]);
}

/** float16 bits → number (exact). */
export function fromFloat16(h: number): number {
  u32[0] = float16ToFloat32Bits(h);
  return f32[0];
}
