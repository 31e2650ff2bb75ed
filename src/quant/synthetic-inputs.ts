// Inputs that resemble real data, for calibrating and evaluating a model when the user gives
// none. Uniform noise is a poor stand-in for images: its activation ranges and statistics
// differ from those of natural images (no spatial correlation, every channel independent), so
// ranges calibrated on it clip real activations and fidelity measured on it says little.
//
//   image inputs (rank 4, 1–4 channels, ≥ 8×8 pixels): smooth random fields — a colour
//     gradient, a few soft blobs and light pixel noise — in the value range the model expects,
//     read from the graph's first ops where they say it ([0, 255] when the input is scaled
//     by ~1/255 or ~1/127.5, shifted by ~127.5, or cast from int32), else [0, 1] (assumed);
//   int32 sequence inputs: token ids below the vocabulary size of the embedding that gathers
//     them (else below 100, assumed);
//   other inputs: uniform [0, 1) floats / small integers (assumed);
//   inputs of unknown rank: a scalar 0 (assumed: what a recurrent-state input is fed first,
//     as matting and tracking models' own code does).
// Every choice is returned as an InputAssumption so the report can say what was used.
import { tf } from '../backend/float.js';
import type { Graph, Node } from '../model/ir.js';
import { seededRandom, type Rng } from '../data/random.js';

export interface InputAssumption {
  input: string;
  kind: 'image' | 'tokens' | 'uniform' | 'integers' | 'scalar-zero';
  /** Value range [lo, hi] of the generated values (token ids: [0, vocab − 1]). */
  range: [number, number];
  /** 'graph' when read from the model's first ops, 'assumed' otherwise. */
  source: 'graph' | 'assumed';
  /** Why this kind and range: what in the graph said so, or what was assumed. */
  why: string;
}

/**
 * Seeds of the generated sets, three disjoint streams: calibration (activation ranges), guard
 * validation (what the accuracy guard measures: inputs the ranges were not fitted on, so that
 * clipping shows) and evaluation (what the report shows; nothing is tuned on it).
 */
export const CALIBRATION_SEED = 1;
export const VALIDATION_SEED = 3;
export const EVALUATION_SEED = 7;

const SCALE_OPS = new Set(['Mul', 'RealDiv', 'Div']);
const SHIFT_OPS = new Set(['Sub', 'AddV2', 'Add', 'BiasAdd']);

function scalarConstant(g: Graph, n: Node, inputName: string): number | undefined {
  const other = n.inputs.find((i) => i !== inputName);
  const c = other === undefined ? undefined : g.constants.get(other);
  if (!c || c.dtype !== 'float32') return undefined;
  const d = c.data as Float32Array;
  if (d.length === 0) return undefined;
  // A per-channel constant (mean / std per colour channel) counts by its mean.
  let s = 0;
  for (const v of d) s += v;
  return s / d.length;
}

/** The pixel range an image input expects, from the ops that consume it first. */
function imageRange(g: Graph, input: string, dtype: string): Pick<InputAssumption, 'range' | 'source' | 'why'> {
  if (dtype === 'int32') return { range: [0, 255], source: 'graph', why: 'int32 image input: 8-bit pixel values' };
  for (const n of g.nodes.filter((m) => m.inputs.includes(input))) {
    if (n.op === 'Cast') continue;
    const v = scalarConstant(g, n, input);
    if (v === undefined) continue;
    const divides = n.op === 'RealDiv' || n.op === 'Div';
    const factor = divides ? 1 / v : v;
    if (SCALE_OPS.has(n.op) && Math.abs(factor) > 0 && Math.abs(factor) <= 1 / 100) {
      return {
        range: [0, 255],
        source: 'graph',
        why: `${n.op} '${n.name}' scales the input by ${factor.toPrecision(3)}: pixels in [0, 255]`,
      };
    }
    const shift = n.op === 'Sub' && n.inputs[0] === input ? v : -v;
    if (SHIFT_OPS.has(n.op) && Math.abs(shift) >= 50) {
      return {
        range: [0, 255],
        source: 'graph',
        why: `${n.op} '${n.name}' subtracts ${shift.toPrecision(4)}: pixels in [0, 255]`,
      };
    }
    if (SHIFT_OPS.has(n.op) && Math.abs(Math.abs(shift) - 0.5) < 0.1) {
      return {
        range: [0, 1],
        source: 'graph',
        why: `${n.op} '${n.name}' subtracts ${shift.toPrecision(3)}: pixels in [0, 1]`,
      };
    }
  }
  return {
    range: [0, 1],
    source: 'assumed',
    why: 'the first ops do not show the pixel range: [0, 1] assumed (give --calibration with real data)',
  };
}

/** Height and width given to an image input whose size the model leaves open (assumed, and said so). */
export const OPEN_IMAGE_SIZE = 256;

function isImageShape(shape: number[]): boolean {
  if (shape.length !== 4) return false;
  // An open height or width (−1) is an image of any size: the generator gives it OPEN_IMAGE_SIZE.
  const side = (d: number) => d === -1 || d >= 8;
  const [, a, b, c] = shape;
  const nhwc = c! >= 1 && c! <= 4 && side(a!) && side(b!);
  const nchw = shape[1]! >= 1 && shape[1]! <= 4 && side(b!) && side(c!);
  return nhwc || nchw;
}

const GATHER_OPS = new Set(['GatherV2', 'Gather', 'ResourceGather']);

/** The vocabulary size of the embedding table that gathers this input, when one does. */
function vocabularyOf(g: Graph, input: string): { size: number; node: string } | undefined {
  const seen = new Set<string>([input]);
  let frontier = [input];
  // Look a few ops deep: ids often pass a Cast or Reshape before the lookup.
  for (let depth = 0; depth < 3 && frontier.length; depth++) {
    const next: string[] = [];
    for (const t of frontier) {
      for (const n of g.nodes.filter((m) => m.inputs.includes(t))) {
        if (GATHER_OPS.has(n.op) && n.inputs[1] === t) {
          const table = g.constants.get(n.inputs[0]!);
          if (table && table.shape.length >= 1 && table.shape[0]! > 0) return { size: table.shape[0]!, node: n.name };
        }
        if (
          n.op === 'Cast' ||
          n.op === 'Reshape' ||
          n.op === 'Identity' ||
          n.op === 'ExpandDims' ||
          n.op === 'Squeeze'
        ) {
          for (const o of n.outputs)
            if (!seen.has(o)) {
              seen.add(o);
              next.push(o);
            }
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/** What generated inputs will look like for each input of the graph. */
export function describeInputs(g: Graph): InputAssumption[] {
  return g.inputs.map((inp): InputAssumption => {
    if (!inp.shape) {
      if (inp.dtype !== 'float32' && inp.dtype !== 'int32')
        throw new Error(`input '${inp.name}' has an unknown rank and dtype ${inp.dtype}: give calibration data`);
      return {
        input: inp.name,
        kind: 'scalar-zero',
        range: [0, 0],
        source: 'assumed',
        why: 'input of unknown rank: a scalar 0 assumed (the first value a recurrent-state input takes)',
      };
    }
    if ((inp.dtype === 'float32' || inp.dtype === 'int32') && isImageShape(inp.shape)) {
      const r = imageRange(g, inp.name, inp.dtype);
      const open = inp.shape.slice(1).some((d) => d < 0);
      return {
        input: inp.name,
        kind: 'image',
        ...r,
        ...(open
          ? {
              source: 'assumed' as const,
              why: `${r.why}; open height/width: ${OPEN_IMAGE_SIZE}×${OPEN_IMAGE_SIZE} assumed`,
            }
          : {}),
      };
    }
    if (inp.dtype === 'int32') {
      const vocab = vocabularyOf(g, inp.name);
      if (vocab)
        return {
          input: inp.name,
          kind: 'tokens',
          range: [0, vocab.size - 1],
          source: 'graph',
          why: `token ids below the ${vocab.size}-entry table of '${vocab.node}'`,
        };
      if (inp.shape.length === 2)
        return {
          input: inp.name,
          kind: 'tokens',
          range: [0, 99],
          source: 'assumed',
          why: 'int32 sequence input with no embedding lookup found: ids below 100 assumed',
        };
      return {
        input: inp.name,
        kind: 'integers',
        range: [0, 3],
        source: 'assumed',
        why: 'int32 input: small integers 0..3 assumed',
      };
    }
    if (inp.dtype === 'float32')
      return {
        input: inp.name,
        kind: 'uniform',
        range: [0, 1],
        source: 'assumed',
        why: 'not an image: uniform [0, 1) assumed',
      };
    throw new Error(`input '${inp.name}' has dtype ${inp.dtype}: give calibration data`);
  });
}

/** One smooth image in [0, 1]: gradient + soft blobs shared by the channels (with a per-channel tint), plus pixel noise. */
function imageField(rng: Rng, h: number, w: number, c: number, channelsLast: boolean): Float32Array {
  const out = new Float32Array(h * w * c);
  const angle = rng() * 2 * Math.PI,
    slope = 0.2 + 0.5 * rng(),
    base = 0.2 + 0.5 * rng();
  const blobs = Array.from({ length: 2 + Math.floor(rng() * 4) }, () => ({
    y: rng() * h,
    x: rng() * w,
    r: (0.08 + 0.3 * rng()) * Math.max(h, w),
    a: (rng() - 0.4) * 0.8,
  }));
  const tint = Array.from({ length: c }, () => (rng() - 0.5) * 0.3);
  const noise = 0.02 + 0.04 * rng();
  const ca = Math.cos(angle),
    sa = Math.sin(angle);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = base + slope * ((x / w - 0.5) * ca + (y / h - 0.5) * sa);
      for (const b of blobs) {
        const d2 = ((y - b.y) ** 2 + (x - b.x) ** 2) / (b.r * b.r);
        v += b.a * Math.exp(-d2);
      }
      for (let ch = 0; ch < c; ch++) {
        const p = Math.min(1, Math.max(0, v + tint[ch]! + noise * (rng() * 2 - 1)));
        out[channelsLast ? (y * w + x) * c + ch : (ch * h + y) * w + x] = p;
      }
    }
  }
  return out;
}

/** `count` generated samples (name → tensor; the caller disposes them); unknown dims take `batch`. */
export function syntheticInputs(
  g: Graph,
  count: number,
  seed: number,
  batch = 1,
  assumptions = describeInputs(g),
): Record<string, tf.Tensor>[] {
  const rng = seededRandom(seed);
  const out: Record<string, tf.Tensor>[] = [];
  for (let s = 0; s < count; s++) {
    const rec: Record<string, tf.Tensor> = {};
    for (const a of assumptions) {
      const inp = g.inputs.find((i) => i.name === a.input)!;
      if (a.kind === 'scalar-zero') {
        rec[a.input] = tf.scalar(0, inp.dtype as 'float32' | 'int32');
        continue;
      }
      // The batch (dimension 0) takes `batch`; an image's open height and width take OPEN_IMAGE_SIZE.
      const shape = inp.shape!.map((d, i) =>
        d >= 0 ? d : i === 0 ? batch : a.kind === 'image' ? OPEN_IMAGE_SIZE : batch,
      );
      const n = shape.reduce((x, y) => x * y, 1);
      const [lo, hi] = a.range;
      if (a.kind === 'image') {
        const channelsLast = shape[3]! <= 4;
        const [h, w, c] = channelsLast ? [shape[1]!, shape[2]!, shape[3]!] : [shape[2]!, shape[3]!, shape[1]!];
        const data = new Float32Array(n);
        for (let b = 0; b < shape[0]!; b++) data.set(imageField(rng, h, w, c, channelsLast), b * h * w * c);
        for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * data[i]!;
        rec[a.input] =
          inp.dtype === 'int32'
            ? tf.tensor(
                Int32Array.from(data, (v) => Math.round(v)),
                shape,
                'int32',
              )
            : tf.tensor(data, shape, 'float32');
      } else if (inp.dtype === 'int32') {
        rec[a.input] = tf.tensor(
          Int32Array.from({ length: n }, () => lo + Math.floor(rng() * (hi - lo + 1))),
          shape,
          'int32',
        );
      } else {
        rec[a.input] = tf.tensor(
          Float32Array.from({ length: n }, () => lo + (hi - lo) * rng()),
          shape,
          'float32',
        );
      }
    }
    out.push(rec);
  }
  return out;
}
