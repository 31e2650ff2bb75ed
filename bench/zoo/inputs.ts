// Inputs the harness feeds every model, written as .npy files so that the converter (as
// --calibration), the stock-tfjs reference and the session read the very same values:
// - image inputs: image-like pictures (smooth gradients, a few soft blobs and edges, mild
//   pixel noise — the statistics of photos matter to int8 calibration, uniform noise does
//   not have them), scaled into the model's pixel range; for models of people (faces, pose,
//   person masks) every other picture is a drawn portrait — head, hair, eyes, neck and
//   shoulders on a background — since on pictures with no one in them such a model's outputs
//   are all but zero (a person mask of 1e-15) and their fidelity cannot be measured;
// - token inputs: ids drawn from the vocabulary, with a zero-padded tail;
// - constant inputs: the value the model's library feeds (recurrent state, a ratio).
// Calibration and evaluation sets come from disjoint seeds (evaluation is held out).
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom, type Rng } from '../../src/data/random.js';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import type { ZooInput } from './manifest.js';
import { photoCrops, type PhotoCrop, type PhotoSplit } from './photos.js';

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** One H×W×C picture with values in [0, 1]. */
function picture(h: number, w: number, c: number, rng: Rng): Float32Array {
  const out = new Float32Array(h * w * c);
  const base = Array.from({ length: c }, () => 0.2 + 0.6 * rng());
  const grad = Array.from({ length: c }, () => [rng() - 0.5, rng() - 0.5]);
  const blobs = Array.from({ length: 2 + Math.floor(rng() * 4) }, () => ({
    y: rng() * h,
    x: rng() * w,
    r: (0.08 + 0.3 * rng()) * Math.min(h, w),
    amp: Array.from({ length: c }, () => rng() - 0.5),
  }));
  // A straight edge (a step in brightness) like an object boundary.
  const edge = { a: rng() * Math.PI, o: rng(), amp: 0.3 * (rng() - 0.5) };
  const noise = 0.02 + 0.03 * rng();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / Math.max(1, w - 1),
        v = y / Math.max(1, h - 1);
      const side = Math.cos(edge.a) * u + Math.sin(edge.a) * v > edge.o ? edge.amp : 0;
      for (let k = 0; k < c; k++) {
        let p = base[k]! + grad[k]![0]! * u + grad[k]![1]! * v + side;
        for (const b of blobs) p += b.amp[k]! * Math.exp(-((y - b.y) ** 2 + (x - b.x) ** 2) / (2 * b.r * b.r));
        p += noise * gaussian(rng);
        out[(y * w + x) * c + k] = Math.min(1, Math.max(0, p));
      }
    }
  }
  return out;
}

/** One H×W×3 portrait with values in [0, 1]: a person, head and shoulders, in front of a background. */
function portrait(h: number, w: number, rng: Rng): Float32Array {
  const out = new Float32Array(h * w * 3);
  const tone = (lo: number, span: number) => [0, 1, 2].map(() => lo + span * rng());
  const bg = tone(0.3, 0.5),
    shirt = tone(0, 0.6);
  const skin = [0.8 + 0.15 * rng(), 0.55 + 0.15 * rng(), 0.4 + 0.15 * rng()];
  const hair = [0.1 + 0.2 * rng(), 0.07 + 0.1 * rng(), 0.05 + 0.05 * rng()];
  // Head centre and radii in units of the picture's sides.
  const cx = 0.5 + 0.1 * (rng() - 0.5),
    cy = 0.35 + 0.05 * (rng() - 0.5),
    ry = 0.16 + 0.04 * rng(),
    rx = ry * 0.75;
  const noise = 0.02 + 0.02 * rng();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w,
        v = y / h;
      const dx = (u - cx) / rx,
        dy = (v - cy) / ry;
      const head = dx * dx + dy * dy < 1;
      const hairCap = v < cy - 0.05 && dx * dx + ((v - cy + 0.03) / ry) ** 2 < 1.05;
      const shoulders = v > cy + 0.9 * ry && ((u - cx) / 0.42) ** 2 + ((v - 1.05) / (1.05 - cy - 0.9 * ry)) ** 2 < 1;
      const neck = Math.abs(u - cx) < 0.45 * rx && v > cy && v < cy + 1.3 * ry;
      const eye =
        head &&
        [cx - 0.35 * rx, cx + 0.35 * rx].some(
          (ex) => ((u - ex) / (0.12 * rx)) ** 2 + ((v - cy + 0.1 * ry) / (0.06 * ry)) ** 2 < 1,
        );
      const mouth = head && Math.abs(u - cx) < 0.3 * rx && Math.abs(v - (cy + 0.5 * ry)) < 0.04 * ry;
      let c = bg.map((b, k) => b + 0.2 * (u - 0.5) * (k - 1));
      if (shoulders) c = shirt;
      if (neck || head) c = skin;
      if (hairCap) c = hair;
      if (eye) c = [0.1, 0.1, 0.1];
      if (mouth) c = [0.6, 0.2, 0.2];
      for (let k = 0; k < 3; k++) out[(y * w + x) * 3 + k] = Math.min(1, Math.max(0, c[k]! + noise * gaussian(rng)));
    }
  }
  return out;
}

/** What the pictures show: any scene, or (for models of people) portraits every other sample. */
export type Scene = 'any' | 'people';

/** Models whose outputs are about people (faces, bodies, person masks) see portraits. */
export function sceneFor(task: string): Scene {
  return /face|facial|pose|person|matting|iris|gender|age|liveness|spoof|keypoint/i.test(task) ? 'people' : 'any';
}

/** Values for one input and one sample (sample: its index in the set, for the scene's alternation). */
export function inputValues(spec: ZooInput, rng: Rng, scene: Scene = 'any', sample = 0): Float32Array | Int32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const [lo, hi] = spec.range;
  if (spec.kind === 'constant')
    return spec.dtype === 'int32' ? new Int32Array(n).fill(lo) : new Float32Array(n).fill(lo);
  if (spec.kind === 'tokens') {
    const ids = new Int32Array(n);
    const len = spec.shape[spec.shape.length - 1]!;
    for (let i = 0; i < n; i++) {
      const pos = i % len;
      // The tail of each sequence is padding (id 0), as real batches of short texts are.
      ids[i] = pos < len * (0.5 + 0.5 * rng()) ? lo + 1 + Math.floor(rng() * (hi - lo - 1)) : 0;
    }
    return spec.dtype === 'int32' ? ids : Float32Array.from(ids);
  }
  const [h, w, c] = imageSize(spec);
  const pictures: Float32Array[] = [];
  for (let s = 0; s < spec.shape[0]!; s++)
    pictures.push(scene === 'people' && c === 3 && sample % 2 === 0 ? portrait(h, w, rng) : picture(h, w, c, rng));
  return imageValues(spec, pictures);
}

/** Height, width and channels of a rank-4 image input, in either layout. */
function imageSize(spec: ZooInput): [number, number, number] {
  if (spec.shape.length !== 4)
    throw new Error(`image input '${spec.name}' must have rank 4, got [${spec.shape.join(', ')}]`);
  const [, d1, d2, d3] = spec.shape as [number, number, number, number];
  return spec.layout === 'NCHW' ? [d2, d3, d1] : [d1, d2, d3];
}

/** One H×W×C picture per batch entry, values in [0, 1], as the input's values (range, dtype, layout). */
function imageValues(spec: ZooInput, pictures: Float32Array[]): Float32Array | Int32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const [lo, hi] = spec.range;
  const nchw = spec.layout === 'NCHW';
  const [h, w, c] = imageSize(spec);
  const out = spec.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  pictures.forEach((p, s) => {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const v = lo + (hi - lo) * p[(y * w + x) * c + k]!;
          const at = s * h * w * c + (nchw ? (k * h + y) * w + x : (y * w + x) * c + k);
          out[at] = spec.dtype === 'int32' ? Math.round(v) : v;
        }
  });
  return out;
}

/** The file key of an input, as the converter's --calibration reader expects it. */
export function inputKey(name: string): string {
  return name.replace(/[/:]/g, '_');
}

/** Real photographs instead of synthetic pictures for a set's image inputs (photos.ts). */
export interface PhotoInputs {
  /** The zoo cache (the photos' package is laid out there). */
  cache: string;
  crop: PhotoCrop;
  split: PhotoSplit;
}

export interface InputSample {
  [input: string]: { data: Float32Array | Int32Array; shape: number[] };
}

/**
 * `count` samples keyed by input name, from a seed. With `photos`, image inputs are crops of real
 * photographs (other inputs are generated as always).
 */
export function inputSamples(
  inputs: ZooInput[],
  count: number,
  seed: number,
  scene: Scene = 'any',
  photos?: PhotoInputs,
): InputSample[] {
  const rng = seededRandom(seed);
  const crops = new Map(
    inputs
      .filter((spec) => photos && spec.kind === 'image')
      .map((spec) => {
        const [h, w, c] = imageSize(spec);
        const all = photoCrops(photos!.cache, photos!.crop, photos!.split, count * spec.shape[0]!, h, w, c);
        return [spec.name, all] as const;
      }),
  );
  return Array.from({ length: count }, (_, s) =>
    Object.fromEntries(
      inputs.map((spec) => {
        const fromPhotos = crops.get(spec.name);
        const batch = spec.shape[0]!;
        const data = fromPhotos
          ? imageValues(spec, fromPhotos.slice(s * batch, (s + 1) * batch))
          : inputValues(spec, rng, scene, s);
        return [spec.name, { data, shape: spec.shape }];
      }),
    ),
  );
}

/** Writes inputSamples(…) as `<input>.<sNN>.npy` (the layout `--calibration DIR` reads). */
export function writeInputSet(
  dir: string,
  inputs: ZooInput[],
  count: number,
  seed: number,
  scene: Scene = 'any',
  photos?: PhotoInputs,
): void {
  mkdirSync(dir, { recursive: true });
  inputSamples(inputs, count, seed, scene, photos).forEach((sample, s) => {
    for (const [name, v] of Object.entries(sample))
      writeFileSync(join(dir, `${inputKey(name)}.s${String(s).padStart(2, '0')}.npy`), writeNpy(v.data, v.shape));
  });
}

/** Reads back a set written by writeInputSet, sample by sample, keyed by input name. */
export function readInputSet(dir: string, inputs: ZooInput[]): InputSample[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.npy'));
  const samples = [...new Set(files.map((f) => /\.(s\d+)\.npy$/.exec(f)?.[1]).filter((s): s is string => !!s))].sort();
  return samples.map((s) => {
    const rec: InputSample = {};
    for (const spec of inputs) {
      const a = readNpy(readFileSync(join(dir, `${inputKey(spec.name)}.${s}.npy`)));
      rec[spec.name] = { data: a.data as Float32Array | Int32Array, shape: a.shape };
    }
    return rec;
  });
}
